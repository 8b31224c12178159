#!/bin/sh
# Run ballonet's command-line scenario (tests/e2e/test_cli.py) against
# Debian's Linux kernel and its virtio_balloon driver: proof that ballonet
# works with any virtio-balloon guest, not only ours.
#
# Installs linux-image-amd64 and busybox-static when missing, then builds
# a small initramfs under build/interop: busybox, the virtio modules and
# an /init that loads them, prints "interop: ready" and runs a shell on the
# serial console; a loop prints "interop: memtotal_kb N" whenever MemTotal
# changes (Linux takes ballooned pages out of it).
#
# Not mmio: Debian's Linux 6.1 hangs calibrating its timers on QEMU 7.2's
# microvm under TCG, and with -machine acpi=off (where it boots) it cannot
# find the virtio-mmio transports (no VIRTIO_MMIO_CMDLINE_DEVICES).
set -eu

BUILD=${BUILD:-build}
OUT=$BUILD/interop
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio virtio_balloon"

need=""
dpkg-query -W -f='${Status}' linux-image-amd64 2>/dev/null | grep -q "ok installed" ||
	need="$need linux-image-amd64"
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
	need="$need busybox-static"
command -v cpio >/dev/null || need="$need cpio"
if [ -n "$need" ]; then
	echo "interop: installing$need"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
	    --no-install-recommends $need
fi

KVER=$(ls /lib/modules | sort -V | tail -n 1)
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || { echo "interop: cannot read $KERNEL" >&2; exit 1; }

rm -rf "$OUT/root"
mkdir -p "$OUT/root/bin" "$OUT/root/lib/modules"
cp /bin/busybox "$OUT/root/bin/busybox"
for m in $MODS; do
	ko=$(find "/lib/modules/$KVER/kernel/drivers/virtio" -name "$m.ko*" | head -n 1)
	[ -n "$ko" ] || { echo "interop: no module $m for $KVER" >&2; exit 1; }
	# busybox insmod may not read compressed modules: decompress here.
	case "$ko" in
	*.ko.xz)  xz -dc "$ko" > "$OUT/root/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$ko" > "$OUT/root/lib/modules/$m.ko" ;;
	*.ko.gz)  gzip -dc "$ko" > "$OUT/root/lib/modules/$m.ko" ;;
	*)        cp "$ko" "$OUT/root/lib/modules/$m.ko" ;;
	esac
done
cat > "$OUT/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
for m in $MODS; do
	insmod /lib/modules/\$m.ko 2>/dev/null || echo "interop: insmod \$m failed"
done
# Without DEFLATE_ON_OOM, Linux takes ballooned pages out of MemTotal:
# report it whenever it changes, for the tests to read.
memtotal() { sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
last=\$(memtotal)
echo "interop: memtotal_kb \$last"
(while :; do
	kb=\$(memtotal)
	[ "\$kb" != "\$last" ] && echo "interop: memtotal_kb \$kb"
	last=\$kb; sleep 1
done) &
echo "interop: ready"
while :; do setsid cttyhack sh; done
INIT
chmod +x "$OUT/root/init"
(cd "$OUT/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$OUT/initramfs.cpio.gz"
echo "interop: $OUT/initramfs.cpio.gz for $KERNEL"

[ "${INTEROP_BUILD_ONLY:-}" = 1 ] && exit 0
BALLONET_TEST_KERNEL=$KERNEL \
BALLONET_TEST_INITRD=$OUT/initramfs.cpio.gz \
BALLONET_TEST_APPEND="console=ttyS0 panic=-1 quiet" \
BALLONET_TEST_READY="interop: ready" \
BALLONET_TEST_TRANSPORTS="pci pci-legacy" \
    exec ${PYTHON:-python3} -u tests/e2e/run.py test_cli.
