#!/bin/bash
# Build the Xen test bed from Debian packages only (issue 7):
#
#   build/xen/xen            Xen 4.17 hypervisor, multiboot ELF32 (QEMU -kernel)
#   build/xen/vmlinuz        Debian's Linux 6.1 (dom0)
#   build/xen/vmlinux        the same, uncompressed ELF (for sample domUs)
#   build/xen/dom0.cpio.gz   dom0's root file system: the Xen toolstack
#                            (xl, xenstored, xenconsoled, xenstore-*), busybox,
#                            the kernel modules dom0 needs, /init and the agent
#   build/xen/domu.cpio.gz   a tiny busybox root file system for sample domUs
#
# No debootstrap and nothing installed on the host: the .debs are fetched
# with `apt-get download` (cached in build/xen/debs/) and unpacked with
# `dpkg-deb -x`; their maintainer scripts never run.  Dependencies are
# resolved with `apt-cache depends`, leaving out what a dom0 in an initramfs
# does not need (python3, udev, init scripts' helpers).
#
# Cached: nothing is done when build/xen/stamp holds the hash of the inputs
# (this script, dom0-init, dom0-agent, domu-init).  FORCE=1 rebuilds anyway;
# a new Debian kernel or Xen is picked up by a rebuild (rm build/xen/stamp).
#
# Environment: XENBED_DIR (default build/xen), FORCE.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=${XENBED_DIR:-$TOP/build/xen}
DEBS=$OUT/debs

# What dom0 runs; everything else comes in as a dependency.
DOM0_PKGS="xen-utils-4.17 xenstore-utils busybox-static"
# Dependencies left out (regular expression on package names).
SKIP='^(python3.*|libpython3.*|udev|ucf|sysvinit-utils|lsb-base|debconf|perl.*|xen-hypervisor-.*|init-system-helpers|libsystemd0|libudev1)$'
# Modules dom0 loads (and their dependencies): the Xen devices, then the
# virtio devices of the agent channel and the 9p shares.
DOM0_MODS="xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc virtio_pci virtio_console 9pnet_virtio 9p"

T0=$(date +%s.%N)
log() { echo "build-dom0: [$(awk "BEGIN { printf \"%5.1f\", $(date +%s.%N) - $T0 }")] $*" >&2; }
die() { log "$*"; exit 1; }

key=$(cat "$HERE"/build-dom0.sh "$HERE"/dom0-init "$HERE"/dom0-agent "$HERE"/domu-init |
	sha256sum | cut -c1-16)
if [ -z "${FORCE:-}" ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$key" ] &&
	[ -f "$OUT/xen" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/dom0.cpio.gz" ] &&
	[ -f "$OUT/domu.cpio.gz" ] && [ -f "$OUT/vmlinux" ]; then
	log "up to date ($OUT, key $key)"
	exit 0
fi

# Host tools (Debian packages), installed when missing.
missing=""
for tp in cpio:cpio xz:xz-utils depmod:kmod modprobe:kmod gzip:gzip; do
	command -v "${tp%%:*}" >/dev/null || missing="$missing ${tp#*:}"
done
# apt's package lists (a fresh machine may have none yet).
if [ -n "$missing" ] || ! apt-cache show xen-utils-4.17 >/dev/null 2>&1; then
	apt-get update -q >&2
fi
if [ -n "$missing" ]; then
	log "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
fi

# Print the names of pkgs and their Depends/Pre-Depends, recursively,
# without SKIP.  Of alternatives (a|b) only the first is taken.  One
# apt-cache call gives the whole graph (SKIP's subtrees too); awk walks it.
closure() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
		awk -v roots="$*" -v skip="$SKIP" '
		/^[^ ]/ { pkg = $1; alt = 0; next }
		/^ *\|?(Pre)?Depends:/ {
			d = $2; sub(/:any$/, "", d)
			if (!alt && d !~ /^</) deps[pkg] = deps[pkg] " " d
			alt = ($1 ~ /^\|/)
		}
		END {
			n = split(roots, todo, " ")
			for (i = 1; i <= n; i++) {
				p = todo[i]
				if (p in seen || p ~ skip) continue
				seen[p] = 1; printf "%s ", p
				m = split(deps[p], ds, " ")
				for (j = 1; j <= m; j++) todo[++n] = ds[j]
			}
			print ""
		}'
}

# Download the packages named on the command line into $DEBS unless the
# version apt would fetch is there already; print the .deb paths.
fetch() {
	mkdir -p "$DEBS"
	local uris missing="" p f
	# (In an empty directory: apt-get prints nothing for files present.)
	mkdir -p "$TMP/empty"
	uris=$(cd "$TMP/empty" && apt-get download --print-uris "$@" 2>/dev/null | awk '{ print $2 }')
	[ -n "$uris" ] || die "apt-get download --print-uris $* gave nothing"
	for f in $uris; do
		[ -f "$DEBS/$f" ] || missing="$missing ${f%%_*}"
	done
	if [ -n "$missing" ]; then
		log "downloading$missing"
		# _apt cannot write here: run unsandboxed, without the warning.
		(cd "$DEBS" && apt-get download -o APT::Sandbox::User=root $missing >/dev/null) ||
			die "apt-get download failed"
	fi
	for f in $uris; do echo "$DEBS/$f"; done
}

rm -rf "$OUT/tmp"
mkdir -p "$OUT/tmp"
TMP=$OUT/tmp

# --- Resolve and fetch everything in one go ------------------------------------
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64"
kver=${kpkg#linux-image-}
pkgs=$(closure $DOM0_PKGS)
log "kernel $kver; dom0 packages: $pkgs"
ALL=$(fetch xen-hypervisor-4.17-amd64 "$kpkg" $pkgs)
debof() {
	local f
	for f in $ALL; do
		case "${f##*/}" in "$1"_*) echo "$f"; return 0 ;; esac
	done
	die "no .deb for $1"
}

# --- Kernel (in the background: xz is the longest step) ---------------------------
K=$TMP/kernel
unpack_kernel() {
	mkdir -p "$K"
	# Only what we need: the kernel, the module directories our modules and
	# their dependencies live in, and depmod's inputs.
	dpkg-deb --fsys-tarfile "$(debof "$kpkg")" | tar -x -C "$K" --wildcards \
		"./boot/vmlinuz-$kver" "./lib/modules/$kver/modules.*" \
		"./lib/modules/$kver/kernel/drivers/xen/*" \
		"./lib/modules/$kver/kernel/drivers/virtio/*" \
		"./lib/modules/$kver/kernel/drivers/char/virtio_console.ko" \
		"./lib/modules/$kver/kernel/net/9p/*" \
		"./lib/modules/$kver/kernel/fs/9p/*" \
		"./lib/modules/$kver/kernel/fs/netfs/*" \
		"./lib/modules/$kver/kernel/fs/fscache/*"
	cp "$K/boot/vmlinuz-$kver" "$OUT/vmlinuz"
	# The same kernel as an uncompressed ELF, for domUs: given the bzImage,
	# xl would unpack its XZ payload in dom0 at every xl create (11 s in
	# TCG).  (Without pipefail: head and xz stop reading early, on purpose.)
	local off
	off=$(set +o pipefail; LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$OUT/vmlinuz" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || die "no XZ payload in vmlinuz"
	(set +o pipefail; tail -c +$((off + 1)) "$OUT/vmlinuz" | xz -dc --single-stream >"$OUT/vmlinux")
	[ "$(head -c 5 "$OUT/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c4602 ] ||
		die "vmlinux is not an ELF64"
	depmod -b "$K" "$kver"
}
unpack_kernel &
kjob=$!

# --- Xen ---------------------------------------------------------------------
dpkg-deb --fsys-tarfile "$(debof xen-hypervisor-4.17-amd64)" | tar -x -C "$TMP" ./boot
gz=$(ls "$TMP"/boot/xen-4.17*-amd64.gz | head -n1)
gunzip -c "$gz" >"$OUT/xen.new"
# Multiboot ELF32: ELF magic, EI_CLASS 1.
[ "$(head -c 5 "$OUT/xen.new" | od -An -tx1 | tr -d ' ')" = 7f454c4601 ] ||
	die "$gz is not an ELF32"
mv "$OUT/xen.new" "$OUT/xen"

# --- dom0 root file system -------------------------------------------------------
R=$TMP/dom0
mkdir -p "$R"
for p in $pkgs; do
	dpkg-deb -x "$(debof "$p")" "$R"
done
log "dom0 packages unpacked"
wait "$kjob" || die "unpacking the kernel failed"
log "kernel unpacked"
mods=$(modprobe -d "$K" -S "$kver" --show-depends -a $DOM0_MODS |
	awk '$1 == "insmod" { print $2 }' | sort -u)
[ -n "$mods" ] || die "no modules resolved"
# Modules, then busybox's depmod-compatible index made by the host's depmod.
for m in $mods; do
	rel=${m#"$K"/}
	mkdir -p "$R/$(dirname "$rel")"
	cp "$m" "$R/$rel"
done
cp "$K"/lib/modules/"$kver"/modules.order "$K"/lib/modules/"$kver"/modules.builtin* \
	"$R/lib/modules/$kver/"
depmod -b "$R" "$kver"

# Shrink: documentation, manuals, locales, and what dom0 never runs.
rm -rf "$R"/usr/share/doc "$R"/usr/share/man "$R"/usr/share/info "$R"/usr/share/locale \
	"$R"/usr/share/lintian "$R"/usr/share/bug "$R"/usr/share/bash-completion \
	"$R"/usr/share/i18n "$R"/usr/lib/xen-4.17/lib/python "$R"/usr/share/python3 \
	"$R"/usr/lib/x86_64-linux-gnu/gconv "$R"/usr/share/zoneinfo "$R"/usr/share/common-licenses \
	"$R"/usr/lib/xen-4.17/bin/pygrub "$R"/usr/lib/xen-4.17/bin/test-* \
	"$R"/usr/lib/xen-4.17/bin/xenpvnetboot

# busybox for everything else; /var/run and /var/lock point into /run.
mkdir -p "$R"/bin "$R"/sbin "$R"/usr/bin "$R"/usr/sbin "$R"/proc "$R"/sys "$R"/dev \
	"$R"/run "$R"/tmp "$R"/var/lib/xen "$R"/var/log/xen "$R"/mnt/bed "$R"/mnt/host "$R"/root
ln -sfn /run "$R"/var/run
ln -sfn /run/lock "$R"/var/lock
chroot "$R" /bin/busybox --install -s
ldconfig -r "$R"
install -m 755 "$HERE/dom0-init" "$R/init"
install -D -m 755 "$HERE/dom0-agent" "$R/usr/local/sbin/ballonet-agent"
echo "$kver" >"$R/etc/ballonet-kernel"
# Every toolstack binary must find its libraries.
for b in xl xenstored xenconsoled xen-init-dom0 xenstore; do
	p=/usr/lib/xen-4.17/bin/$b
	[ -e "$R$p" ] || p=/usr/bin/$b
	if chroot "$R" /lib64/ld-linux-x86-64.so.2 --list "$p" | grep -q 'not found'; then
		chroot "$R" /lib64/ld-linux-x86-64.so.2 --list "$p" >&2
		die "$p: missing libraries"
	fi
done
log "dom0 root: $(du -sh "$R" | cut -f1), packing"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$OUT/dom0.cpio.gz.new"
mv "$OUT/dom0.cpio.gz.new" "$OUT/dom0.cpio.gz"

# --- Sample domU root file system: static busybox and an /init -----------------
log "domU root"
U=$TMP/domu
mkdir -p "$U"/bin "$U"/sbin "$U"/usr/bin "$U"/usr/sbin "$U"/proc "$U"/sys "$U"/dev "$U"/tmp
dpkg-deb --fsys-tarfile "$(debof busybox-static)" | tar -x -O ./bin/busybox >"$U/bin/busybox"
chmod 755 "$U/bin/busybox"
ln -s busybox "$U/bin/sh"
install -m 755 "$HERE/domu-init" "$U/init"
(cd "$U" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$OUT/domu.cpio.gz"

rm -rf "$TMP"
echo "$key" >"$OUT/stamp"
log "done: $(ls -sh "$OUT"/xen "$OUT"/vmlinuz "$OUT"/dom0.cpio.gz "$OUT"/domu.cpio.gz | tr '\n' ' ')"
