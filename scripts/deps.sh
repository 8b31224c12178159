#!/bin/sh
# Install the Debian packages ballonet needs to build and test, when missing.
set -e
PKGS="gcc make binutils python3 qemu-system-x86 libcmocka-dev libjansson-dev pkg-config mandoc
      libconfig-dev libsystemd-dev libmicrohttpd-dev
      clang libclang-rt-14-dev clang-tidy
      gcc-multilib gcc-arm-none-eabi libcmocka-dev:i386"
# libvirt: ballonet --connect, ballonetd --connect, scripts/libvirt.sh
PKGS="$PKGS libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
      libxml2-dev"
# clang and libFuzzer: make fuzz, make check; clang-tidy: scripts/tidy.sh;
# gcc-multilib and gcc-arm-none-eabi: the freestanding i386 and Arm builds.
# The 32-bit unit tests link libcmocka-dev:i386: dpkg must know i386.
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	$SUDO dpkg --add-architecture i386
	need_update=1
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# The Xen test bed and the Linux guests fetch .deb files by name later:
# they need package lists even when nothing is missing here.
if [ -n "${need_update:-}" ] ||
    ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	$SUDO apt-get update -q
	updated=1
fi
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
[ -n "${updated:-}" ] || $SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
