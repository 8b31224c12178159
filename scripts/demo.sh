#!/bin/bash
# Demo: boot the reference guest (1 GiB, q35), show query-balloon and the
# guest's sysctls, balloon down to 256 MiB with progress every 0.5 s (the
# guest's actual and QEMU's RSS), back up to 1 GiB, stop QEMU.
#
# With the operator tool build/ballonet when it works, else with the e2e
# harness (scripts/demo.py).  BALLONET_DEMO=python forces the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CLI=$BUILD/ballonet
GUEST=$BUILD/ballonet-guest.elf

if [ ! -f "$GUEST" ]; then
	echo "demo: no guest kernel at $GUEST (run make guest)" >&2
	exit 1
fi

cli_works() {
	[ "${BALLONET_DEMO:-}" != python ] && [ -x "$CLI" ] &&
		"$CLI" --help >/dev/null 2>&1
}

if ! cli_works; then
	exec python3 -u scripts/demo.py
fi

# A private run directory, so that the demo never meets another "demo".
export BALLONET_RUNDIR=${BALLONET_RUNDIR:-$(mktemp -d)}
VMDIR=$BALLONET_RUNDIR/demo

run() {
	echo "\$ ballonet $*"
	"$CLI" "$@"
}

# Type a command on the guest's serial console and show its answer.
guest() {
	echo "ballonet# $*"
	python3 - "$VMDIR/serial.sock" "$*" <<'PY'
import sys
sys.path.insert(0, "tests/e2e")
import harness
shell = harness.Shell(sys.argv[1])
for line in shell.run(sys.argv[2]):
    print(line)
shell.close()
PY
}

json_field() {
	sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"
}

# Progress every 0.5 s until the logical size reaches $1 (bytes): what
# query-balloon says, the balloon in pages, QEMU's RSS.
watch() {
	local want=$1 start=${EPOCHREALTIME/[.,]/} now info actual ram rss
	while :; do
		info=$("$CLI" info demo --json)
		actual=$(json_field actual <<<"$info")
		ram=$(json_field ram <<<"$info")
		rss=$(json_field rss <<<"$info")
		now=${EPOCHREALTIME/[.,]/}
		printf '  %4s s  logical %5d MiB  balloon %6d pages  QEMU RSS %4d MiB\n' \
			"$(((now - start) / 1000000)).$(((now - start) / 100000 % 10))" \
			$((actual >> 20)) \
			$(((ram - actual) / 4096)) $((rss >> 20))
		[ "$actual" = "$want" ] && break
		if [ $((now - start)) -gt 120000000 ]; then
			echo "demo: the balloon did not reach $((want >> 20)) MiB" >&2
			exit 1
		fi
		sleep 0.2  # info itself takes about 0.3 s
	done
}

trap '"$CLI" vm stop demo >/dev/null 2>&1 || true' EXIT
echo "== boot the reference guest: 1 GiB, q35, virtio-balloon-pci"
run vm start demo --memory 1G
for _ in $(seq 100); do
	grep -q "ballonet: ready" "$VMDIR/console.log" 2>/dev/null && break
	sleep 0.2
done
run info demo
guest sysctl hw.viomb
echo
echo "== the guest dirties 512 MiB and frees it: QEMU's RSS grows"
guest mem touch 512M
guest mem free
run info demo
echo
echo "== balloon down to 256 MiB"
run set demo 256M
watch $((256 << 20))
run info demo
guest sysctl hw.viomb
echo
echo "== back up to 1 GiB"
run set demo 1G --wait
run info demo
guest sysctl hw.viomb.actual
echo
run vm stop demo
trap - EXIT
