#!/usr/bin/env python3
"""make bench-policy: ballonetd's policies side by side on one workload.

    python3 bench/policy.py [--policies ours,mom,proxmox,squeezed,static]
                            [--duration S] [--out DIR] [--no-plot]

For each policy, on a fresh set of VMs started with `ballonet vm start`
(TCG, q35, virtio-balloon-pci with deflate-on-oom, free page reporting
and statistics every second):

  - six reference guests of 512 MiB, each running `wave 60 320M 64M P`
    with phases 0, 10, ... 50 s: at any moment about three want 320 MiB;
  - one Debian Linux guest of 768 MiB running bench/policy/wave-linux
    (60 s, 300 MiB then 100 MiB, phase 15 s);
  - ballonetd --policy NAME with a budget below the sum of their sizes
    (BUDGET_MIB), each VM between MIN_MIB and its RAM.

Every SAMPLE_S it reads each QEMU's RSS (/proc/PID/status) and the
daemon's view (`ballonet top --json`).  At the end it reads each guest's
wave counters.  One row per policy in DIR/policy.csv:

  host_mem_gib_s   sum of the QEMUs' RSS integrated over the run
  peak_host_mib    the largest sum seen
  guest_failures   failed allocations in the guests plus Linux OOM kills
  wait_s           time the guests spent holding less than their demand
  reaction_ms      median, over every step up of every guest after the daemon
                   started (DIR/policy-NAME.steps lists them), of the time
                   from the step to the guest having its demand available:
                   what it holds plus its free memory covers the demand, so
                   the host has given the memory
  host_ms          the part of that time after the guest's own free
                   memory ran out, when only the host could help (median
                   over the reference guests' steps, 0 for a step that
                   never ran out): what a policy can make shorter
  met_ms           the same median to the guest holding its demand: it has
                   also written every page, which costs the same under any
                   policy (on this machine 1.2-1.4 s per 256 MiB of memory
                   the host has not backed, also with no balloon at all)
  changes          targets the daemon set (its decision lines)

and DIR/policy.png: host memory over time per policy, and each guest's
demand against its size under `ours`.  Nothing here is a test: no figure
is compared with a threshold.
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (tests/e2e/harness.py)
import run as bench_run  # noqa: E402  (bench/run.py: the Linux initramfs)

BUILD = harness.BUILD
BALLONET = os.path.join(BUILD, "ballonet")
BALLONETD = os.path.join(BUILD, "ballonetd")
POLICIES = ("ours", "mom", "proxmox", "squeezed", "static")

OURS = 6
OURS_MIB = 512
OURS_WAVE = (60, 320, 64)           # period s, peak MiB, base MiB
LINUX_MIB = 768
LINUX_WAVE = (60, 300, 100, 15)     # period s, peak, base, phase s
MIN_MIB = 128
BUDGET_MIB = 2048                   # below 6 * 512 + 768 = 3840
SAMPLE_S = 1.0
TIMEOUT = 300

STEP = re.compile(r"wave: step to (\d+) MiB met in (\d+) ms, "
                  r"available in (\d+) ms"
                  r"(?:, own free memory used up in (\d+) ms)?")
STATUS = re.compile(r"wave: (?:running|stopped), demand (\d+) MiB, held "
                    r"(\d+) MiB, steps (\d+), failures (\d+), waited (\d+) "
                    r"ms, reaction median (\d+) ms(?:, oom kills (\d+))?")
# ballonetd's decision line: "NAME: target OLD -> NEW (actual A): REASON".
DECISION = re.compile(r": target .+ -> .+ \(actual ")


# --- the Linux guest --------------------------------------------------

def linux_initrd(tmp):
    """bench/run.py's initramfs, then a second archive with wave-linux
    and an /init that starts it (Linux unpacks both, the second wins)."""
    kernel, base = bench_run.build_linux_initramfs()
    root = os.path.join(tmp, "wave-root")
    os.makedirs(os.path.join(root, "bin"))
    subprocess.run(["gcc", "-std=c11", "-O2", "-static", "-Wall", "-Wextra",
                    "-Werror", "-o", os.path.join(root, "bin", "wave-linux"),
                    os.path.join(HERE, "policy", "wave-linux.c")], check=True)
    # Restarted after an OOM kill; /proc/vmstat keeps count.
    bench_run.write_init(root, "wave-linux: ready",
                         "while :; do /bin/wave-linux %s; done" %
                         " ".join(str(v) for v in LINUX_WAVE))
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    extra = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                           input=files, capture_output=True,
                           check=True).stdout
    initrd = os.path.join(tmp, "initrd-wave.cpio")
    with open(initrd, "wb") as f:
        subprocess.run(["gzip", "-dc", base], stdout=f, check=True)
        f.write(extra)
    return kernel, initrd


# --- one policy -------------------------------------------------------

class Run:
    """The VMs and the daemon of one policy, in a run directory."""

    def __init__(self, policy, duration, linux, tmp):
        self.policy = policy
        self.duration = duration
        self.linux = linux
        self.dir = tempfile.mkdtemp(prefix="policy-%s-" % policy, dir=tmp)
        self.env = dict(os.environ, BALLONET_RUNDIR=self.dir)
        self.names = ["bn%d" % i for i in range(OURS)] + ["linux"]
        self.ram = {n: OURS_MIB for n in self.names[:OURS]}
        self.ram["linux"] = LINUX_MIB
        self.shells = {}
        self.daemon = None
        self.daemon_log = os.path.join(self.dir, "ballonetd.log")
        self.socket = os.path.join(self.dir, "ballonetd.sock")
        self.samples = []       # (t, {vm: rss MiB}, {vm: actual MiB})
        self.start = None       # monotonic time of the first sample
        self.wave_start = None  # when the waves were started
        self.console_from = {}  # console offsets when the daemon started
        self.steps = []         # (vm, MiB, met ms, available ms) per step

    def ballonet(self, *args, check=True):
        r = subprocess.run([BALLONET] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise harness.HarnessError("ballonet %s: %s" % (
                " ".join(args), r.stderr.strip()))
        return r.stdout

    def start_vms(self):
        common = ["--deflate-on-oom", "--free-page-reporting",
                  "--stats-interval", "1", "--accel", "tcg"]
        for n in self.names[:OURS]:
            self.ballonet("vm", "start", n, "--memory", "%dM" % OURS_MIB,
                          *common)
        kernel, initrd = self.linux
        self.ballonet("vm", "start", "linux", "--memory", "%dM" % LINUX_MIB,
                      "--kernel", kernel, "--initrd", initrd, "--append",
                      "console=ttyS0 panic=-1 quiet", *common)
        for n in self.names:
            ready = "wave-linux: ready" if n == "linux" else "ballonet: ready"
            harness.wait_until(lambda: ready in self.console(n), TIMEOUT,
                               0.2, "%r on %s's console" % (ready, n))
            if n != "linux":
                self.shells[n] = harness.Shell(
                    os.path.join(self.dir, n, "serial.sock"), 60)

    def console(self, name):
        """Everything the VM wrote on its serial console."""
        try:
            with open(os.path.join(self.dir, name, "console.log"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start_waves(self):
        period, peak, base = OURS_WAVE
        for i, n in enumerate(self.names[:OURS]):
            out = self.shells[n].run("wave %d %dM %dM %d" %
                                     (period, peak, base, i * period // OURS))
            if not out or not out[-1].startswith("wave: every"):
                raise harness.HarnessError("%s: wave: %r" % (n, out))
        self.wave_start = time.monotonic()
        # Each wave's first demand, taken before any policy runs, is not a
        # step the policy reacts to: wait until every guest holds it.
        for n in self.names:
            harness.wait_until(lambda: STEP.search(self.console(n)),
                               TIMEOUT, 0.2, "%s's first demand met" % n)

    def config(self):
        path = os.path.join(self.dir, "ballonetd.conf")
        with open(path, "w") as f:
            f.write('policy = "%s";\nbudget = "%dM";\ninterval = 1;\n'
                    'stats_period = 1;\ncontrol = "%s";\nvms = (\n' %
                    (self.policy, BUDGET_MIB, self.socket))
            f.write(",\n".join('  { name = "%s"; min = "%dM"; max = "%dM"; '
                               'shares = 1000; }' % (n, MIN_MIB, self.ram[n])
                               for n in self.names))
            f.write("\n);\n")
        return path

    def start_daemon(self):
        # Steps are counted from here: the first allocation of each wave,
        # before any policy runs, is not a reaction of the policy.
        self.console_from = {n: len(self.console(n)) for n in self.names}
        log = open(self.daemon_log, "w")
        self.daemon = subprocess.Popen(
            [BALLONETD, "--foreground", "--config", self.config()],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)

    def top(self):
        r = subprocess.run([BALLONET, "top", "--json", "--socket",
                            self.socket],
                           env=self.env, capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            return {}
        try:
            vms = json.loads(r.stdout).get("vms", [])
        except ValueError:
            return {}
        return {v.get("name"): (v.get("actual") or 0) / 2**20 for v in vms}

    def rss(self):
        out = {}
        for n in self.names:
            try:
                pid = int(open(os.path.join(self.dir, n, "qemu.pid")).read())
                out[n] = harness.rss_bytes(pid) / 2**20
            except (OSError, ValueError):
                out[n] = 0.0
        return out

    def measure(self):
        self.start = time.monotonic()
        end = self.start + self.duration
        while time.monotonic() < end:
            t0 = time.monotonic()
            self.samples.append((t0 - self.start, self.rss(), self.top()))
            if self.daemon.poll() is not None:
                raise harness.HarnessError("ballonetd exited with %d; see %s"
                                           % (self.daemon.returncode,
                                              self.daemon_log))
            time.sleep(max(0.0, SAMPLE_S - (time.monotonic() - t0)))

    def guest_counters(self):
        """(failures + OOM kills, waited ms) over guests; their steps
        into self.steps."""
        failures = waited = 0
        for n in self.names:
            if n == "linux":
                found = STATUS.findall(self.console(n))
                last = found[-1] if found else None
            else:
                out = self.shells[n].run("wave", timeout=60)
                m = STATUS.match(out[-1]) if out else None
                last = m.groups() if m else None
            if last is None:
                raise harness.HarnessError("%s: no wave status" % n)
            failures += int(last[3]) + int(last[6] or 0)
            waited += int(last[4])
            since = self.console(n)[self.console_from.get(n, 0):]
            for mib, met, avail, dry in STEP.findall(since):
                self.steps.append((n, int(mib), int(met), int(avail),
                                   int(dry) if dry else None))
        return failures, waited

    def changes(self):
        with open(self.daemon_log) as f:
            return sum(1 for line in f if DECISION.search(line))

    def stop(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(30)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        for sh in self.shells.values():
            sh.close()
        for n in self.names:
            self.ballonet("vm", "stop", n, check=False)

    def result(self):
        totals = [(t, sum(r.values())) for t, r, _ in self.samples]
        gib_s = sum((t1 - t0) * (m0 + m1) / 2 / 1024
                    for (t0, m0), (t1, m1) in zip(totals, totals[1:]))
        failures, waited = self.guest_counters()

        def median(values):
            values = list(values)
            return round(statistics.median(values)) if values else ""

        # Our guests say when their own free memory ran out; from then
        # on, only the host could help (0: it never ran out).
        host = [avail - dry if dry is not None else 0
                for n, _, _, avail, dry in self.steps if n != "linux"]
        return {"policy": self.policy,
                "host_mem_gib_s": round(gib_s, 1),
                "peak_host_mib": round(max(m for _, m in totals)),
                "guest_failures": failures,
                "wait_s": round(waited / 1000, 1),
                "reaction_ms": median(s[3] for s in self.steps),
                "host_ms": median(host),
                "met_ms": median(s[2] for s in self.steps),
                "changes": self.changes()}


def run_policy(policy, duration, linux, tmp, out):
    r = Run(policy, duration, linux, tmp)
    try:
        r.start_vms()
        r.start_waves()
        r.start_daemon()
        r.measure()
        row = r.result()
    finally:
        r.stop()
        shutil.copy(r.daemon_log, os.path.join(out, "policy-%s.log" % policy))
        with open(os.path.join(out, "policy-%s.steps" % policy), "w") as f:
            f.write("# vm, step to MiB, met in ms, available in ms, own "
                    "free memory used up in ms (-: it was not)\n")
            for n, mib, met, avail, dry in r.steps:
                f.write("%s %d %d %d %s\n" % (n, mib, met, avail,
                                               "-" if dry is None else dry))
    return row, r


# --- output -------------------------------------------------------------

COLUMNS = ("policy", "host_mem_gib_s", "peak_host_mib", "guest_failures",
           "wait_s", "reaction_ms", "host_ms", "met_ms", "changes")


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for row in rows:
            w.writerow(row)


def demand_curve(t, period, peak, base, phase):
    return peak if (t + phase) % period < period / 2 else base


def plot(out, runs):
    """DIR/policy.png with gnuplot (installed by bench/run.py's Linux
    setup): host memory per policy; sizes and demands under ours."""
    if shutil.which("gnuplot") is None:
        print("bench-policy: no gnuplot, no chart")
        return
    tmp = tempfile.mkdtemp(prefix="policy-plot-")
    data = os.path.join(tmp, "host.dat")
    with open(data, "w") as f:
        for r in runs:
            f.write("# %s\n" % r.policy)
            for t, rss, _ in r.samples:
                f.write("%.1f %.1f\n" % (t, sum(rss.values())))
            f.write("\n\n")
    cmds = ["set terminal pngcairo size 1000,900",
            "set output '%s'" % os.path.join(out, "policy.png"),
            "set multiplot layout 2,1",
            "set title \"Host memory: sum of the QEMUs' RSS\"",
            "set xlabel 's'", "set ylabel 'MiB'", "set key outside",
            "plot " + ", ".join("'%s' index %d with lines title '%s'" %
                                (data, i, r.policy)
                                for i, r in enumerate(runs))]
    ours = next((r for r in runs if r.policy == "ours"), None)
    if ours is not None:
        sizes = os.path.join(tmp, "ours.dat")
        period, peak, base = OURS_WAVE
        with open(sizes, "w") as f:
            for i, n in enumerate(ours.names):
                if n == "linux":
                    p, pk, bs, ph = LINUX_WAVE
                else:
                    p, pk, bs, ph = period, peak, base, i * period // OURS
                f.write("# %s: time, size, demand\n" % n)
                # The waves started before the first sample; Linux's
                # when its guest booted, so its curve is approximate.
                lag = ours.start - ours.wave_start
                for t, _, actual in ours.samples:
                    f.write("%.1f %s %d\n" % (t, "%.1f" % actual[n]
                                              if n in actual else "NaN",
                                              demand_curve(t + lag, p, pk,
                                                           bs, ph)))
                f.write("\n\n")
        cmds += ["set title 'Under ours: size (solid) and demand (dashed) "
                 "of each guest'",
                 "plot " + ", ".join(
                     "'%s' index %d using 1:2 with lines lc %d title '%s', "
                     "'' index %d using 1:3 with lines lc %d dt 2 notitle" %
                     (sizes, i, i + 1, n, i, i + 1)
                     for i, n in enumerate(ours.names))]
    try:
        subprocess.run(["gnuplot"], input="\n".join(cmds) + "\n",
                       text=True, check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()
    policies = [p for p in args.policies.split(",") if p]
    for p in policies:
        if p not in POLICIES:
            raise SystemExit("bench-policy: unknown policy %r" % p)
    for f in (BALLONET, BALLONETD, harness.GUEST):
        if not os.access(f, os.X_OK if f != harness.GUEST else os.R_OK):
            raise SystemExit("bench-policy: %s is missing: run make" % f)
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="ballonet-policy-")
    rows, runs = [], []
    try:
        linux = linux_initrd(tmp)
        for p in policies:
            print("bench-policy: %s, %d s" % (p, args.duration), flush=True)
            row, r = run_policy(p, args.duration, linux, tmp, args.out)
            print("  " + ", ".join("%s %s" % (k, row[k]) for k in COLUMNS[1:]),
                  flush=True)
            rows.append(row)
            runs.append(r)
        write_csv(os.path.join(args.out, "policy.csv"), rows)
        if not args.no_plot:
            plot(args.out, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%-10s" % "policy" + "".join("%16s" % c for c in COLUMNS[1:]))
    for row in rows:
        print("%-10s" % row["policy"] +
              "".join("%16s" % row[c] for c in COLUMNS[1:]))
    print("bench-policy: %s" % os.path.join(args.out, "policy.csv"))


if __name__ == "__main__":
    main()
