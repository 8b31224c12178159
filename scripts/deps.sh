#!/bin/sh
# Install the Debian packages ballonet needs to build and test, when missing.
set -e
PKGS="gcc make binutils python3 qemu-system-x86 libcmocka-dev libjansson-dev pkg-config mandoc
      clang libclang-rt-14-dev"  # clang and libFuzzer: make fuzz, make check
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
