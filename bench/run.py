#!/usr/bin/env python3
"""make bench: ballonet's reference guest against Debian's Linux driver.

    python3 bench/run.py [--config full|1g|tiny] [--runs N] [--out DIR]
                         [--guests ours,limit,linux] [--idle S]
                         [--no-plot]

Boots, under the same QEMU (TCG, q35, virtio-balloon-pci) with the same
memory, one guest after the other, several times each, in each case of
the configuration: a RAM size, the size to balloon down to, and the
balloon device's properties (the "rep" cases turn on free page
reporting, which both guests' drivers use):

  ours    build/ballonet-guest.elf (BALLONET_GUEST overrides it);
  limit   the same guest after `bench pool`: the pages it will inflate are
          taken and zeroed before the clock starts, so the time is what
          the host side needs to take the frame numbers;
  linux   Debian's kernel with an initramfs that loads virtio_balloon
          (built under build/bench/, the way scripts/interop.sh does).

Each boot measures, in this order:
  reaction  QMP `balloon` sent -> first change of query-balloon's actual;
  inflate   QMP `balloon` sent -> actual at the low size (full -> low),
            from a freshly booted guest;
  deflate   the way back (low -> full);
  dirty     the guest dirties DIRTY MiB and frees it (ours: `mem touch`
            and `mem free`; Linux: a file in tmpfs, written and removed),
            stays idle for --idle seconds (5), then inflates and deflates
            again, timed the same way;
  reclaim   QEMU's RSS drop from just after the dirtying to the end of the
            dirty inflate, per MiB dirtied;
  memory    the driver's own memory per ballooned page.

Every timed resize also records the CPU time the QEMU process (its vCPU
thread runs the guest, so guest and device work both count) used
meanwhile, per MiB moved: steadier than wall time on a shared machine.

Writes DIR/runs.csv (every run), DIR/summary.csv (medians), DIR/table.txt
(the table printed at the end), DIR/machine.txt and, with gnuplot,
DIR/bench.png.  Times are wall-clock on the host, polled every 2-10 ms.
Nothing here is a test: no figure is ever compared with a threshold.
"""

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import harness  # noqa: E402  (tests/e2e/harness.py)
from harness import MiB, PAGE, Vm, wait_until  # noqa: E402

BENCH_BUILD = os.path.join(harness.BUILD, "bench")
LINUX_MODULES = ("virtio_ring", "virtio", "virtio_pci_legacy_dev",
                 "virtio_pci_modern_dev", "virtio_pci", "virtio_balloon")
LINUX_READY = "bench: ready"
TIMEOUT = 600       # seconds for any one state change under TCG
# Idle time between dirtying and inflating: more than the 2 s both
# guests wait before they report free pages.
IDLE_S = 5.0
REPORTING = ",free-page-reporting=on"

# name -> (runs, [(case, RAM MiB, low MiB, MiB dirtied or 0, device
# properties)])
CONFIGS = {
    "full": (3, [("1G", 1024, 256, 700, ""),
                 ("1G-rep", 1024, 256, 700, REPORTING),
                 ("4G", 4096, 512, 0, "")]),
    "1g": (3, [("1G", 1024, 256, 700, ""),
               ("1G-rep", 1024, 256, 700, REPORTING)]),
    "tiny": (1, [("tiny", 256, 128, 100, REPORTING)]),
}

# The table's rows and summary.csv's: key, label, unit, better.  The
# inflate, deflate and dirty keys get their direction and sizes in the
# label.  runs.csv has these and RUN_FIELDS.
METRICS = (
    ("reaction_ms", "reaction", "ms", "lower"),
    ("inflate_mibs", "inflate", "MiB/s", "higher"),
    ("inflate_cpu_ms_mib", "inflate, QEMU CPU per MiB", "ms", "lower"),
    ("deflate_mibs", "deflate", "MiB/s", "higher"),
    ("deflate_cpu_ms_mib", "deflate, QEMU CPU per MiB", "ms", "lower"),
    ("dirty_inflate_mibs", "dirty inflate", "MiB/s", "higher"),
    ("dirty_inflate_cpu_ms_mib", "dirty inflate, QEMU CPU per MiB", "ms",
     "lower"),
    ("dirty_deflate_mibs", "dirty deflate", "MiB/s", "higher"),
    ("dirty_deflate_cpu_ms_mib", "dirty deflate, QEMU CPU per MiB", "ms",
     "lower"),
    ("reclaim_pct", "RSS returned per MiB dirtied", "%", "higher"),
    ("mem_bytes_per_page", "driver memory per ballooned page", "B", "lower"),
)
RUN_FIELDS = ("inflate_s", "inflate_cpu_s", "deflate_s", "deflate_cpu_s",
              "dirty_inflate_s", "dirty_inflate_cpu_s", "dirty_deflate_s",
              "dirty_deflate_cpu_s", "dirtied_mib")


# --- the guests -------------------------------------------------------

class Ours:
    """The reference guest: its shell has `mem` and `bench`."""

    name = "ours"
    pool = False

    def __init__(self, kernel=None):
        self.kernel = kernel or harness.GUEST

    def vm(self, memory, props):
        return Vm(memory="%dM" % memory, transport="none",
                  kernel=self.kernel, extra=device(props), lifetime=3600,
                  timeout=60)

    def boot(self, vm):
        vm.boot(timeout=TIMEOUT)

    def prepare(self, vm, pages):
        """Called just before the clock starts."""

    def dirty(self, vm, mib):
        out = vm.shell.run("mem touch %dM" % mib, timeout=TIMEOUT)
        if not out or not out[0].startswith("mem: touched %d pages" %
                                            (mib * MiB // PAGE)):
            raise harness.HarnessError("mem touch: %r" % (out,))
        vm.shell.run("mem free", timeout=TIMEOUT)

    def driver_bytes(self, vm):
        """Data (`bench mem`) plus code and static data of engine/virtio."""
        for line in vm.shell.run("bench mem"):
            if line.startswith("bench: driver memory "):
                data = int(line.split()[3])
                break
        else:
            return None     # an older guest without `bench mem`
        objs = [os.path.join(harness.BUILD, "guest-obj", d, f)
                for d in ("engine", "virtio")
                for f in sorted(os.listdir(os.path.join(
                    harness.BUILD, "guest-obj", d))) if f.endswith(".o")]
        out = subprocess.run(["size", "-t"] + objs, capture_output=True,
                             text=True, check=True).stdout.splitlines()[-1]
        return data + int(out.split()[3])   # dec = text + data + bss


class Limit(Ours):
    """Ours inflating from pages taken and zeroed before the clock."""

    name = "limit"
    pool = True

    def prepare(self, vm, pages):
        out = vm.shell.run("bench pool %dK" % (pages * PAGE // 1024),
                           timeout=TIMEOUT)
        if out != ["bench: pool %d pages" % pages]:
            raise harness.HarnessError("bench pool: %r" % (out,))


class Linux:
    """Debian's kernel, busybox, virtio_balloon loaded from an initramfs."""

    name = "linux"
    pool = False

    def __init__(self):
        self.kernel, self.initrd = build_linux_initramfs()

    def vm(self, memory, props):
        return Vm(memory="%dM" % memory, transport="none",
                  kernel=self.kernel,
                  append="console=ttyS0 panic=-1 quiet",
                  extra=["-initrd", self.initrd] + device(props),
                  lifetime=3600, timeout=60)

    def boot(self, vm):
        vm.shell.READY = LINUX_READY
        vm.shell.PROMPT = "/ # "
        vm.boot(timeout=TIMEOUT)

    def prepare(self, vm, pages):
        pass

    def dirty(self, vm, mib):
        # A file in tmpfs: page cache, written whole, freed by the rm.
        # Short commands: the harness matches their echo, which the
        # terminal would wrap at 80 columns.
        cmds = ["mkdir -p /mnt",
                "mount -t tmpfs -o size=%dm bench /mnt" % (mib + 16),
                "dd if=/dev/zero of=/mnt/d bs=1M count=%d" % mib,
                "rm /mnt/d && umount /mnt && echo dirtied"]
        for c in cmds:
            out = vm.shell.run(c, timeout=TIMEOUT)
        if out != ["dirtied"]:
            raise harness.HarnessError("tmpfs dirtying: %r" % (out,))

    def driver_bytes(self, vm):
        """Module memory (measured) plus its kmalloc'ed state (estimated).

        struct virtio_balloon in 6.1 is about 1.6 KiB (pfns[256] alone is
        1 KiB): a kmalloc-2k object.  Its pages are tracked through
        page->lru, inside struct page, which every page has anyway.
        """
        out = vm.shell.run("cat /sys/module/virtio_balloon/coresize")
        return int(out[0]) + 2048


def write_init(root, ready, then):
    """ROOT/init: mount, load LINUX_MODULES, say READY, run THEN."""
    with open(os.path.join(root, "init"), "w") as f:
        f.write("#!/bin/busybox sh\n"
                "/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin "
                "/usr/sbin\n"
                "/bin/busybox mount -t proc proc /proc\n"
                "/bin/busybox mount -t sysfs sysfs /sys\n"
                "/bin/busybox mount -t devtmpfs devtmpfs /dev\n"
                "/bin/busybox --install -s\n"
                "for m in %s; do insmod /lib/modules/$m.ko; done\n"
                "echo '%s'\n"
                "%s\n" % (" ".join(LINUX_MODULES), ready, then))
    os.chmod(os.path.join(root, "init"), 0o755)


def build_linux_initramfs():
    """Install the kernel, busybox and gnuplot if missing; the initramfs.

    The approach of scripts/interop.sh, with an /init that runs nothing
    in the background: the guest must be idle while it is measured.
    """
    need = [p for p in ("linux-image-amd64", "busybox-static", "cpio",
                        "gnuplot-nox")
            if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                              capture_output=True, text=True)
            .stdout.find("ok installed") < 0]
    if need:
        print("bench: installing " + " ".join(need), flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q",
                        "--no-install-recommends"] + need, check=True,
                       env=env)
    kver = sorted(os.listdir("/lib/modules"),
                  key=lambda v: [int(x) if x.isdigit() else 0
                                 for x in v.replace("-", ".").split(".")])[-1]
    kernel = "/boot/vmlinuz-" + kver
    out = os.path.join(BENCH_BUILD, "initramfs-%s.cpio.gz" % kver)
    if os.path.exists(out):
        return kernel, out
    root = os.path.join(BENCH_BUILD, "root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "lib", "modules"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    vdir = "/lib/modules/%s/kernel/drivers/virtio" % kver
    for m in LINUX_MODULES:
        ko = [f for f in os.listdir(vdir) if f.split(".ko")[0] == m]
        if not ko:
            raise SystemExit("bench: no module %s for %s" % (m, kver))
        src = os.path.join(vdir, ko[0])
        dst = os.path.join(root, "lib", "modules", m + ".ko")
        unpack = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-qdc"],
                  ".gz": ["gzip", "-dc"]}.get(os.path.splitext(src)[1])
        with open(dst, "wb") as f:
            if unpack:
                subprocess.run(unpack + [src], stdout=f, check=True)
            else:
                shutil.copyfileobj(open(src, "rb"), f)
    write_init(root, LINUX_READY, "while :; do setsid cttyhack sh; done")
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                          input=files, capture_output=True, check=True).stdout
    subprocess.run(["gzip", "-1"], input=cpio, stdout=open(out + ".tmp", "wb"),
                   check=True)
    os.rename(out + ".tmp", out)
    return kernel, out


# --- one boot ---------------------------------------------------------

def device(props):
    """QEMU arguments: q35, virtio-balloon-pci with properties `props`."""
    return ["-machine", "q35", "-device",
            "virtio-balloon-pci,id=balloon0" + props]


def cpu_seconds(pid):
    """User + system CPU time of all of QEMU's threads so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resize(vm, frm, to):
    """QMP balloon to `to` MiB; (first change of actual, arrival), in s.

    vm.cpu is set to the CPU time QEMU used meanwhile: less sensitive than
    wall time to other load on the machine.
    """
    frm, to = frm * MiB, to * MiB
    cpu0 = cpu_seconds(vm.pid)
    t0 = time.monotonic()
    vm.balloon(to)
    first = None
    while True:
        actual = vm.logical()
        now = time.monotonic()
        if first is None and actual != frm:
            first = now - t0
        if actual == to:
            vm.cpu = cpu_seconds(vm.pid) - cpu0
            return first, now - t0
        if now - t0 > TIMEOUT:
            raise TimeoutError("balloon to %d MiB: still %d MiB after %d s"
                               % (to // MiB, actual // MiB, TIMEOUT))
        time.sleep(0.002 if first is None else 0.01)


def timed(vm, r, prefix, frm, to):
    """One timed resize into r[prefix + "_s"], "_mibs", "_cpu_*"."""
    moved = abs(frm - to)
    first, total = resize(vm, frm, to)
    r[prefix + "_s"] = total
    r[prefix + "_mibs"] = moved / total
    r[prefix + "_cpu_s"] = vm.cpu
    r[prefix + "_cpu_ms_mib"] = vm.cpu * 1000 / moved
    return first


def one_run(guest, ram, low, dirty, props, idle):
    moved = ram - low
    r = {}
    with guest.vm(ram, props) as vm:
        guest.boot(vm)
        # Let the guest finish what boot left (Linux: deferred work).
        time.sleep(1.0)
        guest.prepare(vm, moved * MiB // PAGE)
        r["reaction_ms"] = timed(vm, r, "inflate", ram, low) * 1000
        timed(vm, r, "deflate", low, ram)
        if dirty:
            rss0 = vm.rss()
            guest.dirty(vm, dirty)
            rss1 = vm.rss()
            # A guest that ran something is usually idle for a while
            # before the host balloons it: both guests get the same.
            time.sleep(idle)
            guest.prepare(vm, moved * MiB // PAGE)
            timed(vm, r, "dirty_inflate", ram, low)
            # QEMU discards synchronously; give RSS accounting a moment.
            time.sleep(0.5)
            r["dirtied_mib"] = (rss1 - rss0) / MiB
            r["reclaim_pct"] = (rss1 - vm.rss()) / (dirty * MiB) * 100
            timed(vm, r, "dirty_deflate", low, ram)
        mem = guest.driver_bytes(vm)
        if mem is not None:
            r["mem_bytes_per_page"] = mem / (moved * MiB / PAGE)
    return r


# --- report -----------------------------------------------------------

def median(rows, guest, scenario, key):
    vals = [r[key] for r in rows
            if r["guest"] == guest and r["scenario"] == scenario and
            r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def label(key, text, unit, ram, low):
    if key.startswith(("inflate", "reaction", "dirty_inflate")):
        text += " %d->%d MiB" % (ram, low)
    elif key.startswith(("deflate", "dirty_deflate")):
        text += " %d->%d MiB" % (low, ram)
    return "%s (%s)" % (text, unit)


ROW = "%-6s %-50s %8s %8s %8s %10s %10s"


def table(rows, scenarios, guests):
    """The text table and the summary rows (medians over runs)."""
    head = ROW % ("case", "metric (median)", "ours", "linux", "limit",
                  "ours/linux", "ours/limit")
    lines = [head, "-" * len(head)]
    summary = []
    for sc, ram, low, *_ in scenarios:
        for key, text, unit, better in METRICS:
            m = {g: median(rows, g, sc, key) for g in guests}
            if all(v is None for v in m.values()):
                continue
            ol = ratio(m.get("ours"), m.get("linux"))
            om = ratio(m.get("ours"), m.get("limit"))
            lines.append(ROW % (sc, label(key, text, unit, ram, low),
                                fmt(m.get("ours")), fmt(m.get("linux")),
                                fmt(m.get("limit")), fmt(ol), fmt(om)))
            summary.append({"scenario": sc, "metric": key, "unit": unit,
                            "better": better, "ours": m.get("ours"),
                            "linux": m.get("linux"), "limit": m.get("limit"),
                            "ours_over_linux": ol, "ours_over_limit": om})
    return "\n".join(lines) + "\n", summary


def chart_data(path, summary):
    """Throughputs for plot.gp: one line per case and direction."""
    with open(path, "w") as f:
        f.write("# case ours linux limit (MiB/s)\n")
        for s in summary:
            if s["metric"].endswith("flate_mibs"):
                f.write("\"%s %s\" %s\n" % (s["scenario"],
                                            s["metric"][:-5].replace("_", " "),
                                            " ".join(fmt(s[g]) if s[g]
                                                     is not None else "0"
                                                     for g in ("ours",
                                                               "linux",
                                                               "limit"))))


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine(args, started_load):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    qemu = subprocess.run([harness.QEMU, "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    cases = "; ".join("%s: %s" % (sc, " ".join(device(props)))
                      for sc, _, _, _, props in CONFIGS[args.config][1])
    return ("date: %s\nhost: %s %s, %d CPUs (%s), %d MiB\nqemu: %s, "
            "accel %s\ncases: %s\nconfig: %s, %d runs, idle %g s before "
            "the dirty inflate\nload average: %s at start, %s at end\n" % (
                time.strftime("%Y-%m-%d %H:%M:%S"), platform.system(),
                platform.release(), os.cpu_count(), cpu,
                os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") //
                MiB, qemu, os.environ.get("BALLONET_ACCEL", "tcg"),
                cases, args.config, args.runs, args.idle,
                started_load, load()))


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("%.6g" % v if isinstance(v, float) else v)
                        for k, v in r.items()})


def plot(out):
    if shutil.which("gnuplot") is None:
        print("bench: no gnuplot, no chart (apt-get install gnuplot-nox)")
        return
    subprocess.run(["gnuplot", "-e", "dir='%s'" % out,
                    os.path.join(HERE, "plot.gp")], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="full")
    ap.add_argument("--runs", type=int, help="boots per guest and case")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--guests", default="ours,limit,linux",
                    help="comma-separated; NAME=ELF adds a variant of ours "
                    "(e.g. base=/tmp/old/ballonet-guest.elf)")
    ap.add_argument("--idle", type=float, default=IDLE_S,
                    help="seconds between dirtying and the dirty inflate")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()
    runs, scenarios = CONFIGS[args.config]
    args.runs = args.runs or runs
    kinds = {"ours": Ours, "limit": Limit, "linux": Linux}
    names, guests = [], []
    for spec in args.guests.split(","):
        name, _, elf = spec.partition("=")
        g = Ours(elf) if elf else kinds[name]()
        g.name = name
        names.append(name)
        guests.append(g)
    os.makedirs(args.out, exist_ok=True)
    started = load()
    print("bench: %s, %d runs, load %s" % (args.config, args.runs, started),
          flush=True)
    rows = []
    for sc, ram, low, dirty, props in scenarios:
        for i in range(args.runs):
            for g in guests:   # interleaved, so that load hits all alike
                r = one_run(g, ram, low, dirty, props, args.idle)
                r.update(guest=g.name, scenario=sc, run=i + 1, ram_mib=ram,
                         low_mib=low, load=load())
                rows.append(r)
                print("bench: %s %s run %d: %s" % (sc, g.name, i + 1, ", ".join(
                    "%s %s" % (k, fmt(r[k])) for k, *_ in METRICS if k in r)),
                    flush=True)
    fields = ["scenario", "guest", "run", "ram_mib", "low_mib", "load"] + [
        k for k, *_ in METRICS] + list(RUN_FIELDS)
    write_csv(os.path.join(args.out, "runs.csv"), rows, fields)
    text, summary = table(rows, scenarios, names)
    write_csv(os.path.join(args.out, "summary.csv"), summary,
              ["scenario", "metric", "unit", "better", "ours", "linux",
               "limit", "ours_over_linux", "ours_over_limit"])
    chart_data(os.path.join(args.out, "chart.dat"), summary)
    info = machine(args, started)
    with open(os.path.join(args.out, "machine.txt"), "w") as f:
        f.write(info)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(text)
    if not args.no_plot:
        plot(args.out)
    print("\n" + info + "\n" + text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
