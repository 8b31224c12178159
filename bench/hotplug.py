#!/usr/bin/env python3
"""make bench (hot-plug part): virtio-mem plug and unplug rates, ours
against Debian's Linux virtio_mem module, under the same QEMU.

    python3 bench/hotplug.py [--runs N] [--size MiB] [--out DIR]
                             [--guests ours,linux]

Each run boots one guest (TCG, q35, `-m 1G,maxmem=5G`, a 4 GiB memfd
virtio-mem-pci device, requested-size 0) and measures, from the QMP
qom-set of requested-size to query-memory-devices showing it:

  plug     0 -> SIZE (default 2048 MiB), memory untouched;
  unplug   SIZE -> 0, right after.

The clock stops when QEMU counts the memory plugged (or unplugged),
polled every 5 ms over QMP: for a driver that needs one or two requests
the time is mostly that round trip.  Linux is Debian's kernel with an initramfs that loads virtio_mem (built
under build/bench-hotplug/ by bench/run.py's builder) and onlines added
memory as movable (memhp_default_state=online_movable), so that it can
unplug it again.  Writes DIR/hotplug.csv (every run) and
DIR/hotplug.txt (medians).  No figure is compared with a threshold.
"""

import argparse
import csv
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (bench/run.py: Linux initramfs, harness)
from harness import GiB, MiB, Vm  # noqa: E402

QOM = "/machine/peripheral/vm0"
TIMEOUT = 600
MODULES = bench.LINUX_MODULES[:-1] + ("virtio_mem",)
EXTRA = ["-object", "memory-backend-memfd,id=vmem0,size=4G",
         "-device", "virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=0"]


class Ours:
    name = "ours"

    def vm(self):
        return Vm(memory="1G", maxmem="5G", transport="none",
                  extra=EXTRA, lifetime=3600, timeout=60)

    def boot(self, vm):
        vm.boot(timeout=TIMEOUT)


class Linux(Ours):
    name = "linux"

    def __init__(self):
        bench.LINUX_MODULES = MODULES
        bench.BENCH_BUILD = os.path.join(bench.harness.BUILD,
                                         "bench-hotplug")
        os.makedirs(bench.BENCH_BUILD, exist_ok=True)
        self.kernel, self.initrd = bench.build_linux_initramfs()

    def vm(self):
        return Vm(memory="1G", maxmem="5G", transport="none",
                  kernel=self.kernel, extra=EXTRA + ["-initrd", self.initrd],
                  append="console=ttyS0 panic=-1 quiet "
                  "memhp_default_state=online_movable",
                  lifetime=3600, timeout=60)

    def boot(self, vm):
        vm.shell.READY = bench.LINUX_READY
        vm.shell.PROMPT = "/ # "
        vm.boot(timeout=TIMEOUT)


def plugged(vm):
    for dev in vm.qmp.execute("query-memory-devices"):
        if dev["type"] == "virtio-mem":
            return dev["data"]["size"]
    raise RuntimeError("no virtio-mem device")


def resize(vm, to):
    """requested-size to `to` bytes; (seconds, QEMU CPU seconds)."""
    cpu0 = bench.cpu_seconds(vm.pid)
    t0 = time.monotonic()
    vm.qmp.execute("qom-set", path=QOM, property="requested-size", value=to)
    while plugged(vm) != to:
        if time.monotonic() - t0 > TIMEOUT:
            raise TimeoutError("virtio-mem at %d MiB after %d s, want %d"
                               % (plugged(vm) // MiB, TIMEOUT, to // MiB))
        time.sleep(0.005)
    return time.monotonic() - t0, bench.cpu_seconds(vm.pid) - cpu0


def one_run(guest, size):
    with guest.vm() as vm:
        guest.boot(vm)
        time.sleep(2)   # let the guest settle after its prompt
        plug_s, plug_cpu = resize(vm, size)
        time.sleep(1)
        unplug_s, unplug_cpu = resize(vm, 0)
    mib = size / MiB
    return {"plug_ms": plug_s * 1000, "plug_mibs": mib / plug_s,
            "plug_cpu_s": plug_cpu, "unplug_ms": unplug_s * 1000,
            "unplug_mibs": mib / unplug_s, "unplug_cpu_s": unplug_cpu}


KEYS = (("plug_ms", "plug, ms"), ("plug_mibs", "plug, MiB/s"),
        ("plug_cpu_s", "plug, QEMU CPU s"), ("unplug_ms", "unplug, ms"),
        ("unplug_mibs", "unplug, MiB/s"),
        ("unplug_cpu_s", "unplug, QEMU CPU s"))


def fmt(v):
    return "%.0f" % v if v >= 100 else "%.3g" % v


def table(rows, names, size, runs):
    lines = ["virtio-mem %d MiB, median of %d | %s" %
             (size, runs, " | ".join(names))]
    for key, label in KEYS:
        vals = []
        for n in names:
            v = [r[key] for r in rows if r["guest"] == n]
            vals.append(fmt(statistics.median(v)) if v else "-")
        lines.append("%-32s | %s" % (label, " | ".join(vals)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=2048, help="MiB to plug")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--guests", default="ours,linux")
    args = ap.parse_args()
    kinds = {"ours": Ours, "linux": Linux}
    guests = [kinds[n]() for n in args.guests.split(",")]
    size = args.size * MiB
    if size <= 0 or size > 4 * GiB or size % (2 * MiB) != 0:
        raise SystemExit("hotplug: --size is 2 to 4096 MiB, in 2 MiB steps")
    rows = []
    for i in range(args.runs):
        for g in guests:
            r = one_run(g, size)
            r.update(guest=g.name, run=i + 1, size_mib=args.size,
                     load=bench.load())
            rows.append(r)
            print("hotplug: %s run %d: %s" % (g.name, i + 1, ", ".join(
                "%s %s" % (k, fmt(r[k])) for k, _ in KEYS)), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "hotplug.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ["guest", "run", "size_mib", "load"] +
                           [k for k in rows[0] if k not in
                            ("guest", "run", "size_mib", "load")])
        w.writeheader()
        w.writerows(rows)
    text = table(rows, [g.name for g in guests], args.size, args.runs)
    with open(os.path.join(args.out, "hotplug.txt"), "w") as f:
        f.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
