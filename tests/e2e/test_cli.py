"""The operator's tool, build/ballonet, driven against real QEMU.

Each test gets a run directory of its own ($BALLONET_RUNDIR) and cleans it
up; QEMU daemonizes (it leaves the runner's process group), so every VM
also gets a watchdog that kills it after LIFETIME seconds.

The guest is our reference guest (build/ballonet-guest.elf; its shell
answers `sysctl hw.viomb.actual`, in pages) unless BALLONET_TEST_KERNEL is
set, as scripts/interop.sh does for Debian's Linux: then the guest prints
"interop: memtotal_kb N" on its console whenever MemTotal changes (Linux
takes ballooned pages out of it; the first line is the balloon at zero).

    BALLONET_TEST_KERNEL, _INITRD, _APPEND   another guest kernel
    BALLONET_TEST_READY        its console line once the driver is up
    BALLONET_TEST_TRANSPORTS   transports to try (default: all three)

No test asserts a duration: each waits for a state, with a generous timeout.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import BUILD, MiB, PAGE, Qmp, Shell, wait_until

BALLONET = os.path.join(BUILD, "ballonet")
QEMU = os.environ.get("BALLONET_QEMU", "qemu-system-x86_64")
KERNEL = os.environ.get("BALLONET_TEST_KERNEL")
INITRD = os.environ.get("BALLONET_TEST_INITRD")
APPEND = os.environ.get("BALLONET_TEST_APPEND")
READY = os.environ.get("BALLONET_TEST_READY", "ballonet: ready")
TRANSPORTS = os.environ.get("BALLONET_TEST_TRANSPORTS",
                            "pci pci-legacy mmio").split()
LIFETIME = 280  # seconds a VM may live, whatever happens
TIMEOUT = 120   # seconds to wait for any state under TCG
MEMORY = 512 * MiB

# Exit codes, as docs/ballonet.1 documents them.
EXIT_OK, EXIT_USAGE, EXIT_NOVM, EXIT_QEMU, EXIT_NOBALLOON, EXIT_TIMEOUT, \
    EXIT_GONE, EXIT_RANGE, EXIT_LOCAL = range(9)


def timeout(seconds):
    """Set the runner's per-test timeout."""
    def mark(func):
        func.timeout = seconds
        return func
    return mark


class Run:
    """A run directory, the environment pointing at it, and its VMs."""

    def __init__(self):
        # Short: socket paths must fit in 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="bnt-", dir="/tmp")
        self.env = dict(os.environ, BALLONET_RUNDIR=self.dir)

    def __call__(self, *args, timeout=TIMEOUT + 30, env=None):
        """Run ballonet; return (exit status, stdout, stderr)."""
        p = subprocess.run([BALLONET] + [str(a) for a in args],
                           env=env or self.env, capture_output=True,
                           text=True, timeout=timeout)
        print("$ ballonet %s -> %d\n%s%s" % (" ".join(map(str, args)),
                                            p.returncode, p.stdout,
                                            p.stderr))
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self(*args, **kw)
        assert rc == EXIT_OK, "ballonet %s: exit %d: %s" % (args, rc, err)
        return out

    def fails(self, code, text, *args, **kw):
        """Expect exit status `code` and one line on stderr with `text`."""
        rc, out, err = self(*args, **kw)
        assert rc == code, "ballonet %s: exit %d, not %d: %s" % (
            args, rc, code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ballonet: "), err
        assert text in err, "%r not in %r" % (text, err)
        return err

    def path(self, name, file=""):
        return os.path.join(self.dir, name, file) if file else \
            os.path.join(self.dir, name)

    def pid(self, name):
        with open(self.path(name, "qemu.pid")) as f:
            return int(f.read())

    def start(self, name, *options, kernel=True, memory=MEMORY):
        """vm start NAME with our test guest (or none); add a watchdog."""
        args = ["vm", "start", name, "--memory", "%dM" % (memory // MiB)]
        if not kernel:
            args += ["--kernel", "none"]
        elif KERNEL:
            args += ["--kernel", KERNEL]
            args += ["--initrd", INITRD] if INITRD else []
            args += ["--append", APPEND] if APPEND else []
        self.ok(*(args + list(options)))
        watchdog(self.pid(name), self.path(name))
        return name

    def console(self, name):
        try:
            with open(self.path(name, "console.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_ready(self, name):
        wait_until(lambda: READY in self.console(name), TIMEOUT, 0.2,
                   "%r on %s's console" % (READY, name))

    def cleanup(self):
        for name in os.listdir(self.dir):
            try:
                kill_qemu(self.pid(name), self.path(name))
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def run_dir():
    run = Run()
    try:
        yield run
    finally:
        run.cleanup()


def watchdog(pid, marker):
    """Kill QEMU `pid` after LIFETIME s, even if the test is killed."""
    script = ('i=0; while [ $i -lt %d ] && kill -0 %d 2>/dev/null; do '
              'sleep 1; i=$((i+1)); done; grep -qF "%s" /proc/%d/cmdline '
              '2>/dev/null && kill -9 %d' % (LIFETIME, pid, marker, pid, pid))
    subprocess.Popen(["sh", "-c", script], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)


def alive(pid, marker):
    """Is `pid` alive and a QEMU whose command line names `marker`?"""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return marker.encode() in f.read()
    except OSError:
        return False


def kill_qemu(pid, marker):
    if alive(pid, marker):
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid, marker), 10, 0.05, "QEMU gone")


@contextlib.contextmanager
def bare_qemu(*devices):
    """QEMU without ballonet: no kernel, a QMP socket; yields its path."""
    d = tempfile.mkdtemp(prefix="bnq-", dir="/tmp")
    sock = os.path.join(d, "qmp.sock")
    proc = subprocess.Popen(
        [QEMU, "-machine", "q35", "-m", "256M", "-nodefaults",
         "-no-user-config", "-display", "none", "-nic", "none",
         "-qmp", "unix:%s,server=on,wait=off" % sock] + list(devices),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: os.path.exists(sock), 30, 0.02, "QMP socket")
        watchdog(proc.pid, sock)
        yield sock, proc.pid
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def query_balloon(sock):
    """query-balloon's actual, through a QMP connection of our own."""
    q = Qmp(sock)
    try:
        return q.execute("query-balloon")["actual"]
    finally:
        q.close()


def guest_balloon(run, name):
    """Bytes in the balloon as the guest itself reports them."""
    if KERNEL:  # MemTotal shrinks by what the balloon holds
        found = re.findall(r"interop: memtotal_kb (\d+)", run.console(name))
        return (int(found[0]) - int(found[-1])) * 1024 if found else None
    shell = Shell(run.path(name, "serial.sock"))
    try:
        return shell.sysctl("hw.viomb.actual") * PAGE
    finally:
        shell.close()


def info(run, vm):
    return json.loads(run.ok("info", vm, "--json"))


def check_info(run, name, logical):
    """info --json agrees with query-balloon, the guest and /proc."""
    sock = run.path(name, "qmp.sock")
    want = MEMORY - logical
    wait_until(lambda: guest_balloon(run, name) == want, TIMEOUT, 0.5,
               "the guest's balloon at %d MiB" % (want // MiB))
    got = info(run, name)
    assert got["actual"] == query_balloon(sock) == logical, got
    assert got["ram"] == MEMORY, got
    assert got["balloon"] == want == guest_balloon(run, name), got
    assert got["target"] == logical, got
    assert got["pid"] == run.pid(name), got
    assert got["rss"] > 0, got


# --- the normal life of a VM --------------------------------------------

@timeout(300)
def test_start_set_info_stop():
    """Start, balloon down and up with --wait, info matches, stop."""
    with run_dir() as run:
        run.start("vm1")
        run.wait_ready("vm1")
        check_info(run, "vm1", MEMORY)
        out = run.ok("set", "vm1", "256M", "--wait", "--timeout", TIMEOUT)
        assert "reached 256 MiB" in out, out
        check_info(run, "vm1", 256 * MiB)
        out = run.ok("set", "vm1", "%dM" % (MEMORY // MiB), "--wait",
                     "--timeout", TIMEOUT)
        assert "reached" in out, out
        check_info(run, "vm1", MEMORY)
        text = run.ok("info", "vm1")
        assert re.search(r"^actual: +512 MiB$", text, re.M), text
        pid = run.pid("vm1")
        out = run.ok("vm", "stop", "vm1")
        assert "stopped" in out, out
        assert not alive(pid, run.path("vm1"))
        assert os.listdir(run.dir) == [], os.listdir(run.dir)


@timeout(300)
def test_list_and_transports():
    """Every transport starts, shows in vm list and balloons."""
    with run_dir() as run:
        for t in TRANSPORTS:
            run.start("vm-" + t, "--transport", t)
        rows = {r["name"]: r for r in json.loads(run.ok("vm", "list",
                                                        "--json"))}
        assert sorted(rows) == sorted("vm-" + t for t in TRANSPORTS), rows
        for t in TRANSPORTS:
            r = rows["vm-" + t]
            assert r["alive"] and r["transport"] == t, r
            assert r["memory"] == MEMORY and r["pid"] == run.pid("vm-" + t)
        text = run.ok("vm", "list")
        assert re.search(r"^vm-pci +\d+ +yes +512 MiB +pci$", text, re.M)
        for t in TRANSPORTS:
            run.wait_ready("vm-" + t)
            run.ok("set", "vm-" + t, "384M", "--wait", "--timeout", TIMEOUT)
            assert query_balloon(run.path("vm-" + t, "qmp.sock")) == \
                384 * MiB
        for t in TRANSPORTS:
            run.ok("vm", "stop", "vm-" + t)
        assert os.listdir(run.dir) == []
        assert run.ok("vm", "list", "--json").strip() == "[]"


@timeout(300)
def test_watch_sees_events():
    """watch prints BALLOON_CHANGE events while set runs."""
    with run_dir() as run:
        run.start("w")
        run.wait_ready("w")
        watch = subprocess.Popen(
            [BALLONET, "watch", "w", "--json", "--count", "2", "--timeout",
             str(TIMEOUT)], env=run.env, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(1)  # let watch connect first
            run.ok("set", "w", "256M", "--wait", "--timeout", TIMEOUT)
            out, _ = watch.communicate(timeout=TIMEOUT + 10)
        finally:
            watch.kill()
        print(out)
        assert watch.returncode == EXIT_OK, watch.returncode
        events = [json.loads(line) for line in out.splitlines()]
        assert len(events) == 2, events
        for e in events:
            assert 256 * MiB <= e["actual"] < MEMORY, e
            assert abs(e["time"] - time.time()) < 600, e
        assert events[0]["time"] <= events[1]["time"]
        # Plain text: a timestamp and a size.
        watch = subprocess.Popen(
            [BALLONET, "watch", "w", "--count", "1", "--timeout",
             str(TIMEOUT)], env=run.env, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(1)
            run.ok("set", "w", "300M", "--wait", "--timeout", TIMEOUT)
            text, _ = watch.communicate(timeout=TIMEOUT + 10)
        finally:
            watch.kill()
        assert watch.returncode == EXIT_OK, watch.returncode
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z "
                            r"actual \d+ [KMG]iB\n", text), text
        # No change: nothing, exit 0 at the timeout (after QEMU's
        # rate limiter has sent its last, delayed event).
        time.sleep(2)
        assert run.ok("watch", "w", "--timeout", "1.5") == ""
        run.fails(EXIT_TIMEOUT, "saw 0 of 1", "watch", "w", "--count", "1",
                  "--timeout", "1")


@timeout(200)
def test_console():
    """vm console relays a command piped in and the guest's answer."""
    with run_dir() as run:
        run.start("c")
        run.wait_ready("c")
        command, answer = ("echo con$((6*7))", "con42") if KERNEL else \
            ("sysctl hw.viomb.actual", "hw.viomb.actual = 0")
        p = subprocess.run([BALLONET, "vm", "console", "c"], env=run.env,
                           input=command + "\r", capture_output=True,
                           text=True, timeout=60)
        print(p.stdout, p.stderr)
        assert p.returncode == EXIT_OK, p.stderr
        assert answer in p.stdout, p.stdout
        assert "Ctrl-]" in p.stderr, p.stderr
        run.fails(EXIT_NOVM, "not a VM that ballonet started", "vm",
                  "console", "/tmp/nowhere/qmp.sock")


@timeout(200)
def test_stats():
    """stats finds the device without an id; absent values are null."""
    with run_dir() as run:
        run.start("s")
        run.wait_ready("s")
        rc, out, err = run("stats", "s", "--json", "--interval", "1",
                           "--timeout", "15")
        assert rc == EXIT_OK or not KERNEL, err  # Linux sends statistics
        if rc == EXIT_OK:  # a guest with a stats queue (Linux)
            stats = json.loads(out)
            assert stats["last-update"] > 0, stats
            assert stats["stat-total-memory"] > 0, stats
        else:              # our guest sends none (yet)
            assert rc == EXIT_TIMEOUT and "no statistics" in err, err
    with bare_qemu("-device", "virtio-balloon-pci") as (sock, _):
        # No driver, no report: but the device is found (status 5, not 4).
        run = Run()
        run.fails(EXIT_TIMEOUT, "no statistics", "stats", sock, "--timeout",
                  "1")
        run.cleanup()


@timeout(120)
def test_socket_addressed_vm():
    """A VM that ballonet did not start: info finds QEMU's pid itself."""
    with bare_qemu("-device", "virtio-balloon-pci,id=b") as (sock, pid):
        run = Run()
        try:
            got = info(run, sock)
            assert got["pid"] == pid and got["rss"] > 0, got
            assert got["ram"] == 256 * MiB == got["actual"], got
            assert got["target"] is None and got["name"] is None, got
            assert got["actual"] == query_balloon(sock)
            text = run.ok("info", sock)
            assert re.search(r"^target: +-$", text, re.M), text
            # No driver: set works, --wait times out telling where it is.
            run.ok("set", sock, "128M")
            run.fails(EXIT_TIMEOUT, "reached 256 MiB, not 128 MiB", "set",
                      sock, "128M", "--wait", "--timeout", "1")
        finally:
            run.cleanup()


def host_virt_flag():
    """vmx or svm if /proc/cpuinfo's flags have it, else None."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "flags":
                for flag in ("vmx", "svm"):
                    if flag in value.split():
                        return flag
    return None


def qemu_accels(run, name):
    """The values of -accel on the command line of NAME's QEMU."""
    with open("/proc/%d/cmdline" % run.pid(name), "rb") as f:
        args = f.read().decode().split("\0")
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-accel"]


@timeout(150)
def test_accelerator():
    """auto takes KVM only with vmx/svm; kvm refused without; info shows it."""
    flag = host_virt_flag()
    kvm_opens = os.access("/dev/kvm", os.R_OK | os.W_OK)
    with run_dir() as run:
        out = run.ok("vm", "start", "a", "--kernel", "none")
        watchdog(run.pid("a"), run.path("a"))
        if flag is None:
            assert "a: accelerator tcg (no vmx/svm flag in /proc/cpuinfo)" \
                in out.splitlines(), out
            assert qemu_accels(run, "a") == ["tcg"], qemu_accels(run, "a")
            want = "tcg"
        elif kvm_opens:  # a host with hardware virtualization
            assert re.search(r"^a: accelerator kvm \(%s in /proc/cpuinfo, "
                             r"/dev/kvm opens\)$" % flag, out, re.M), out
            want = "kvm"
        else:
            assert "a: accelerator tcg (%s in /proc/cpuinfo, but /dev/kvm " \
                "does not open" % flag in out, out
            want = "tcg"
        got = info(run, "a")
        assert got["accel"] == want, got
        assert re.search(r"^accel: +%s$" % want, run.ok("info", "a"), re.M)
        rows = json.loads(run.ok("vm", "list", "--json"))
        assert rows[0]["accel"] == want, rows
        with open(run.path("a", "vm.json")) as f:
            assert json.load(f)["accel"] == want
        # tcg when asked, whatever the host has.
        out = run.ok("vm", "start", "t", "--kernel", "none", "--accel", "tcg")
        watchdog(run.pid("t"), run.path("t"))
        assert "t: accelerator tcg (asked for with --accel tcg)" in out, out
        assert qemu_accels(run, "t") == ["tcg"]
        assert info(run, "t")["accel"] == "tcg"
        if flag is None:  # kvm refused before anything starts
            run.fails(EXIT_LOCAL, "--accel kvm: no vmx/svm flag in "
                      "/proc/cpuinfo", "vm", "start", "k", "--kernel",
                      "none", "--accel", "kvm")
            assert not os.path.exists(run.path("k"))
        run.fails(EXIT_USAGE, "--accel 'hvf' is not auto, kvm or tcg", "vm",
                  "start", "x", "--kernel", "none", "--accel", "hvf")
        run.ok("vm", "stop", "a")
        run.ok("vm", "stop", "t")
        assert os.listdir(run.dir) == [], os.listdir(run.dir)
    # QEMU without ballonet, under TCG: info asks QEMU (query-kvm).
    with bare_qemu("-device", "virtio-balloon-pci", "-accel", "tcg") as \
            (sock, _):
        run = Run()
        try:
            assert info(run, sock)["accel"] == "tcg"
        finally:
            run.cleanup()


@timeout(150)
def test_accelerator_kvm_fails_in_qemu():
    """KVM chosen, but QEMU cannot use it: auto falls back, kvm fails.

    $BALLONET_CPUINFO shows a vmx flag, so that vm start takes the KVM
    branch on any host; QEMU runs in a mount namespace where /dev/kvm is
    /dev/null, so that its KVM fails for real (and no guest ever runs
    under this host's KVM).  Needs root, as make check runs.
    """
    with run_dir() as run:
        cpuinfo = os.path.join(run.dir, "..", os.path.basename(run.dir) +
                               "-cpuinfo")
        wrapper = cpuinfo[:-len("cpuinfo")] + "qemu"
        with open(cpuinfo, "w") as f:
            f.write("processor\t: 0\nflags\t\t: fpu vme de vmx smx\n")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec unshare -m sh -c 'mount --bind /dev/null "
                    "/dev/kvm && exec \"$0\" \"$@\"' %s \"$@\"\n" % QEMU)
        os.chmod(wrapper, 0o755)
        env = dict(run.env, BALLONET_CPUINFO=cpuinfo, BALLONET_QEMU=wrapper)
        try:
            out = run.ok("vm", "start", "f", "--kernel", "none", env=env)
            watchdog(run.pid("f"), run.path("f"))
            assert "f: accelerator tcg (QEMU could not use KVM: failed to " \
                "initialize kvm: " in out, out
            assert qemu_accels(run, "f") == ["kvm", "tcg"]
            assert info(run, "f")["accel"] == "tcg"
            run.fails(EXIT_QEMU, "failed to initialize kvm", "vm", "start",
                      "k", "--kernel", "none", "--accel", "kvm", env=env)
            assert not os.path.exists(run.path("k"))
            run.ok("vm", "stop", "f")
            # Without the flag, whatever the host: kvm refused, status 8.
            with open(cpuinfo, "w") as f:
                f.write("processor\t: 0\nflags\t\t: fpu vme hypervisor\n")
            run.fails(EXIT_LOCAL, "--accel kvm: no vmx/svm flag in " +
                      cpuinfo, "vm", "start", "k", "--kernel", "none",
                      "--accel", "kvm", env=env)
            assert os.listdir(run.dir) == [], os.listdir(run.dir)
        finally:
            os.unlink(cpuinfo)
            os.unlink(wrapper)


# --- failures: each with its exit code and one line -----------------------

def test_usage_errors():
    run = Run()
    try:
        run.fails(EXIT_USAGE, "missing verb")
        run.fails(EXIT_USAGE, "unknown verb", "frobnicate")
        run.fails(EXIT_USAGE, "missing operand", "set", "vm1")
        run.fails(EXIT_USAGE, "too many operands", "info", "a", "b")
        run.fails(EXIT_USAGE, "unknown option or missing value: --frob",
                  "info", "--frob", "a")
        run.fails(EXIT_USAGE, "unknown option or missing value: -x",
                  "set", "-x", "a", "1G")
        run.fails(EXIT_USAGE, "unknown option or missing value: --timeout",
                  "watch", "a", "--timeout")
        run.fails(EXIT_USAGE, "--timeout", "set", "a", "1G", "--timeout",
                  "soon")
        run.fails(EXIT_USAGE, "not a VM name", "vm", "start", "../x",
                  "--kernel", "none")
        run.fails(EXIT_USAGE, "--transport", "vm", "start", "x",
                  "--transport", "isa", "--kernel", "none")
        run.fails(EXIT_USAGE, "cannot read the kernel", "vm", "start", "x",
                  "--kernel", "/nonexistent")
        for verb in ("vm", "set", "info", "watch", "stats"):
            out = run.ok(verb, "--help")
            assert out.startswith("ballonet " + verb), out
        assert "Exit status" in run.ok("--help")
        assert os.listdir(run.dir) == []
    finally:
        run.cleanup()


def test_verbs_and_help():
    """The verb table: groups, subverbs, and help printed from each table."""
    run = Run()
    try:
        run.fails(EXIT_USAGE, "vm: missing subverb: start, stop, list or "
                  "console", "vm")
        run.fails(EXIT_USAGE, "unknown subverb 'frob'", "vm", "frob")
        run.fails(EXIT_USAGE, "vm list: takes no operand", "vm", "list", "x")
        run.fails(EXIT_USAGE, "vm stop: missing operand (NAME)", "vm", "stop")
        run.fails(EXIT_USAGE, "vm start: unknown option or missing value: "
                  "--frob", "vm", "start", "x", "--frob")
        run.fails(EXIT_USAGE, "more than 16 --qemu-arg", "vm", "start", "x",
                  "--kernel", "none", *["--qemu-arg=-S"] * 17)
        assert os.listdir(run.dir) == []
        top = run.ok("--help")
        subs = ("start", "stop", "list", "console")
        for sub in subs:
            assert re.search(r"^  vm %s +\S" % sub, top, re.M), top
        group = run.ok("vm", "--help")
        assert group == run.ok("help", "vm"), group
        helps = [run.ok("vm", sub, "--help") for sub in subs]
        assert group == "\n".join(helps), group
        assert helps[0] == run.ok("help", "vm", "start")
        for sub, text in zip(subs, helps):
            assert text.startswith("ballonet vm %s " % sub), text
        # Every option of vm start is in its synopsis and has a line.
        start = helps[0]
        for opt in ("memory", "transport", "kernel", "initrd", "append",
                    "qemu-arg", "timeout", "deflate-on-oom",
                    "free-page-reporting", "stats-interval", "accel"):
            assert "[--%s" % opt in start, opt
            assert re.search(r"^  (-\w, |    )--%s\b" % opt, start, re.M), opt
        for verb in ("set", "info", "watch", "stats", "vm start"):
            text = run.ok(*verb.split(), "-h")
            assert re.search(r"^  -h, --help +show this help$", text, re.M)
            assert max(map(len, text.splitlines())) < 80, text
    finally:
        run.cleanup()


def test_unknown_vm_and_dead_sockets():
    run = Run()
    try:
        run.fails(EXIT_NOVM, "no such VM", "info", "ghost")
        run.fails(EXIT_NOVM, "no such VM", "set", "ghost", "1G")
        run.fails(EXIT_NOVM, "no such VM", "vm", "stop", "ghost")
        gone = os.path.join(run.dir, "gone.sock")
        run.fails(EXIT_NOVM, "no QMP socket", "info", gone)
        # A socket nobody listens on: connection refused.
        s = socket.socket(socket.AF_UNIX)
        s.bind(gone)
        s.close()
        run.fails(EXIT_NOVM, "nothing listens", "watch", gone)
        # Not QMP at all.
        srv = socket.socket(socket.AF_UNIX)
        notqmp = os.path.join(run.dir, "http.sock")
        srv.bind(notqmp)
        srv.listen(1)
        pid = os.fork()
        if pid == 0:
            c, _ = srv.accept()
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
            time.sleep(2)
            os._exit(0)
        run.fails(EXIT_QEMU, "not QMP", "info", notqmp)
        os.waitpid(pid, 0)
        srv.close()
    finally:
        run.cleanup()


@timeout(120)
def test_no_balloon_device():
    with bare_qemu() as (sock, _):
        run = Run()
        try:
            for args in (("info", sock), ("set", sock, "128M"),
                         ("stats", sock)):
                run.fails(EXIT_NOBALLOON, "no balloon device", *args)
        finally:
            run.cleanup()


@timeout(150)
def test_bad_sizes():
    """Zero, above RAM and malformed sizes change nothing."""
    with run_dir() as run:
        run.start("z", kernel=False)
        for size in ("0", "0G", "0B"):
            run.fails(EXIT_RANGE, "zero", "set", "z", size)
        for size in ("513M", "1G", "536870913B", "1T"):
            run.fails(EXIT_RANGE, "above the VM's RAM", "set", "z", size)
        run.fails(EXIT_USAGE, "malformed", "set", "z", "--", "-5")
        for size in ("", "12x", "1.5G", "0x10", " 1G", "1G ", "1GG",
                     "99999999999999999999", "17179869184T", "M"):
            run.fails(EXIT_USAGE, "malformed", "set", "z", size)
        got = info(run, "z")
        assert got["target"] == MEMORY == got["actual"], got
        # Exact bytes and every unit are accepted.
        for size in ("536870912B", "524288K", "512m", "512MiB", "512"):
            run.ok("set", "z", size)
            assert info(run, "z")["target"] == MEMORY


@timeout(150)
def test_qemu_dies_mid_command():
    with run_dir() as run:
        run.start("d", kernel=False)
        pid = run.pid("d")
        waiter = subprocess.Popen(
            [BALLONET, "set", "d", "128M", "--wait", "--timeout", "100"],
            env=run.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)
        out, err = waiter.communicate(timeout=60)
        print(out, err)
        assert waiter.returncode == EXIT_GONE, (waiter.returncode, err)
        assert "QEMU closed the QMP connection" in err, err
        # Its files remain until vm stop; the socket refuses.
        rows = json.loads(run.ok("vm", "list", "--json"))
        assert rows[0]["name"] == "d" and not rows[0]["alive"], rows
        run.fails(EXIT_NOVM, "vm stop d", "info", "d")
        assert "was not running" in run.ok("vm", "stop", "d")
        assert os.listdir(run.dir) == []


@timeout(150)
def test_stop_kills_stuck_qemu():
    with run_dir() as run:
        run.start("stuck", kernel=False)
        pid = run.pid("stuck")
        os.kill(pid, signal.SIGSTOP)
        try:
            out = run.ok("vm", "stop", "stuck", "--timeout", "2")
        finally:
            if alive(pid, run.path("stuck")):
                os.kill(pid, signal.SIGCONT)
        assert "killed" in out, out
        assert not alive(pid, run.path("stuck"))
        assert os.listdir(run.dir) == []


@timeout(150)
def test_start_failures_leave_nothing():
    with run_dir() as run:
        # QEMU refuses its command line: its own words are shown.
        run.fails(EXIT_QEMU, "invalid option", "vm", "start", "f0",
                  "--kernel", "none", "--qemu-arg=-no-such-option")
        env = dict(run.env, BALLONET_QEMU="/bin/false")
        run.fails(EXIT_QEMU, "QEMU failed to start", "vm", "start", "f1",
                  "--kernel", "none", env=env)
        env = dict(run.env, BALLONET_QEMU="/nonexistent/qemu")
        run.fails(EXIT_LOCAL, "cannot run", "vm", "start", "f2",
                  "--kernel", "none", env=env)
        # A "QEMU" that daemonizes but never answers on QMP.
        fake = os.path.join(run.dir, "..", os.path.basename(run.dir) +
                            "-fake-qemu")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\n"
                    "python3 -c 'import time; time.sleep(60)' \"$@\" &\n"
                    "p=$!\n"
                    "while [ $# -gt 0 ]; do [ \"$1\" = -pidfile ] && "
                    "pidfile=$2; shift; done\n"
                    "echo $p > \"$pidfile\"\n")
        os.chmod(fake, 0o755)
        try:
            env = dict(run.env, BALLONET_QEMU=fake)
            run.fails(EXIT_TIMEOUT, "did not answer", "vm", "start", "f3",
                      "--kernel", "none", "--timeout", "2", env=env)
        finally:
            os.unlink(fake)
        assert os.listdir(run.dir) == [], os.listdir(run.dir)
        # A name in use: refused, the running VM untouched.
        run.start("dup", kernel=False)
        run.fails(EXIT_USAGE, "already running", "vm", "start", "dup",
                  "--kernel", "none")
        assert json.loads(run.ok("vm", "list", "--json"))[0]["alive"]
        run.ok("vm", "stop", "dup")
        assert os.listdir(run.dir) == []


if __name__ == "__main__":
    import sys
    sys.exit("run these with tests/e2e/run.py test_cli.")
