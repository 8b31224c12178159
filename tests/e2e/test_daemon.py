"""ballonetd against real QEMU: three of our guests under a budget.

One guest raises its demand (`mem touch` in its console; the guests have
deflate-on-oom) and gets memory the others gave back; min, max, the budget
and the host reserve hold all along (a monitor thread checks every status
the daemon reports); a guest that reports nonsense (a fourth guest whose
QMP socket is reached through a proxy that garbles its statistics: hostile
input that our guest cannot produce) is never moved; SIGHUP reloads, a bad
reload keeps the old configuration; a VM killed mid-run is dropped; SIGTERM
stops the daemon cleanly and sets the VMs their on_exit sizes.

No test asserts a duration: each waits for a state, with generous timeouts.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time

from harness import BUILD, MiB, Qmp, Shell, wait_until
from test_cli import kill_qemu, run_dir, timeout, watchdog

BALLONETD = os.path.join(BUILD, "ballonetd")
BALLONET = os.path.join(BUILD, "ballonet")
TIMEOUT = 180
SIZE = 384 * MiB      # a, b, c
G_SIZE = 256 * MiB    # the guest behind the garbling proxy
BUDGET = 1000 * MiB
TOUCH = 240 * MiB


class Daemon:
    """build/ballonetd in the foreground, its log and its control socket."""

    def __init__(self, run, config):
        self.run = run
        self.config = config
        self.sock = os.path.join(run.dir, "ballonetd.sock")
        self.log = os.path.join(run.dir, "ballonetd.log")
        self.proc = subprocess.Popen(
            [BALLONETD, "--foreground", "--config", config, "--socket",
             self.sock, "--log", self.log], env=run.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        wait_until(lambda: os.path.exists(self.sock) or
                   self.proc.poll() is not None, 60, 0.1, "control socket")
        assert self.proc.poll() is None, self.proc.stdout.read()

    def request(self, command):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.sock)  # blocking: waits for room in the backlog
            s.settimeout(30)
            s.sendall(json.dumps({"command": command}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return json.loads(data)

    def status(self):
        return self.request("status")["return"]

    def vms(self):
        return {v["name"]: v for v in self.status()["vms"]}

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        out = self.proc.stdout.read()
        print("ballonetd log:\n" + self.log_text() + out)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# Statistics no guest could mean: each reply of the proxy takes the next.
NONSENSE = [
    {"stat-free-memory": 2 ** 63, "stat-total-memory": 2 ** 64 - 2},
    {"stat-free-memory": 900 * MiB, "stat-total-memory": 256 * MiB,
     "stat-available-memory": 900 * MiB},
    {"stat-free-memory": -5, "stat-total-memory": -1},
    {"stat-free-memory": 0, "stat-total-memory": 64 << 30,
     "stat-available-memory": 0},
    {"stat-free-memory": "lots", "stat-total-memory": [1]},
    {"stat-free-memory": 1.5e300, "stat-total-memory": 1e308},
]


class GarblingProxy:
    """A QMP socket in front of a real QEMU that garbles guest-stats.

    Everything else passes through; the commands the daemon sends are
    recorded (none may be "balloon").
    """

    def __init__(self, upstream, path):
        self.upstream = upstream
        self.path = path
        self.commands = []
        self.garbled = 0
        self.lsock = socket.socket(socket.AF_UNIX)
        self.lsock.bind(path)
        self.lsock.listen(4)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            up = socket.socket(socket.AF_UNIX)
            up.connect(self.upstream)
            stats_ids = set()
            threading.Thread(target=self._down, args=(client, up, stats_ids),
                             daemon=True).start()
            threading.Thread(target=self._up, args=(up, client, stats_ids),
                             daemon=True).start()

    def _lines(self, sock):
        buf = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line

    def _down(self, client, up, stats_ids):
        """Daemon -> QEMU: record, remember which ids ask for stats."""
        for line in self._lines(client):
            try:
                msg = json.loads(line)
                self.commands.append(msg.get("execute"))
                if msg.get("execute") == "qom-get" and \
                        msg["arguments"]["property"] == "guest-stats":
                    stats_ids.add(msg.get("id"))
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
            try:
                up.sendall(line + b"\n")
            except OSError:
                break
        up.close()

    def _up(self, up, client, stats_ids):
        """QEMU -> daemon: the replies to guest-stats are garbled."""
        for line in self._lines(up):
            try:
                msg = json.loads(line)
            except ValueError:
                msg = None
            if isinstance(msg, dict) and msg.get("id") in stats_ids:
                stats = NONSENSE[self.garbled % len(NONSENSE)]
                self.garbled += 1
                msg["return"] = {"stats": stats,
                                 "last-update": int(time.time())}
                line = json.dumps(msg).encode()
            try:
                client.sendall(line + b"\n")
            except OSError:
                break
        client.close()

    def close(self):
        self.lsock.close()


class Monitor(threading.Thread):
    """Polls the daemon's status; records every broken limit."""

    def __init__(self, daemon, limits):
        super().__init__(daemon=True)
        self.d = daemon
        self.limits = limits      # name -> (min, max)
        self.reserve_from = None  # (time, targets): no growth after
        self.violations = []
        self.samples = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                st = self.d.status()
            except (OSError, ValueError):
                time.sleep(0.5)
                continue
            self.samples += 1
            self.check(st)
            time.sleep(0.5)

    def check(self, st):
        vms = {v["name"]: v for v in st["vms"]}
        for name, (lo, hi) in self.limits.items():
            v = vms.get(name)
            if v is None or v["target"] is None:
                continue
            if not lo <= v["target"] <= hi:
                self.violations.append("%s: target %d outside [%d, %d]" % (
                    name, v["target"], lo, hi))
        held = sum(v["target"] if v["target"] is not None else
                   (v["actual"] or 0) for v in vms.values())
        # Once a, b and c all have targets (a guest's first statistics
        # take a few steps), the targets fit the budget.
        decided = all(vms.get(n, {}).get("target") is not None
                      for n in ("a", "b", "c"))
        if decided and "c" in vms and held > BUDGET:
            self.violations.append("targets %d MiB above the budget" %
                                   (held // MiB))
        if self.reserve_from is not None:
            for name, was in self.reserve_from.items():
                v = vms.get(name)
                if v is not None and v["target"] is not None and \
                        was is not None and v["target"] > was:
                    self.violations.append(
                        "%s grew from %d to %d MiB with the host below its "
                        "reserve" % (name, was // MiB, v["target"] // MiB))


def start_guest(run, name, size):
    args = [BALLONET, "vm", "start", name, "--memory", "%dM" % (size // MiB),
            "--deflate-on-oom"]
    subprocess.run(args, env=run.env, check=True, timeout=120)
    watchdog(run.pid(name), run.path(name))


def query_actual(sock):
    q = Qmp(sock)
    try:
        return q.execute("query-balloon")["actual"]
    finally:
        q.close()


def write_config(path, proxy, reserve="256M", extra=""):
    with open(path, "w") as f:
        f.write("""
policy = "ours";
budget = "%dM";
reserve = "%s";
interval = 1.0;
stats_period = 1;
vms = (
  { name = "a"; on_exit = "max"; },
  { name = "b"; min = "200M"; },
  { name = "c"; max = "256M"; },
  { name = "g"; socket = "%s"; }
);
%s
""" % (BUDGET // MiB, reserve, proxy, extra))


@timeout(900)
def test_daemon_balances_three_guests():
    with run_dir() as run, run_dir() as other:
        for name in ("a", "b", "c"):
            start_guest(run, name, SIZE)
        # g lives in another run directory: the daemon reaches it only
        # through the proxy named in its configuration.
        start_guest(other, "g", G_SIZE)
        for name in ("a", "b", "c"):
            run.wait_ready(name)
        other.wait_ready("g")
        proxy = GarblingProxy(other.path("g", "qmp.sock"),
                              os.path.join(other.dir, "garbage.sock"))
        config = os.path.join(run.dir, "ballonetd.conf")
        write_config(config, proxy.path)
        d = Daemon(run, config)
        mon = Monitor(d, {"a": (128 * MiB, SIZE), "b": (200 * MiB, SIZE),
                          "c": (128 * MiB, 256 * MiB),
                          "g": (128 * MiB, G_SIZE)})
        try:
            mon.start()
            wait_until(lambda: set(d.vms()) == {"a", "b", "c", "g"},
                       TIMEOUT, 0.5, "four VMs managed")

            # Idle guests give memory back, within their limits.
            def settled():
                v = d.vms()
                return (v["a"]["actual"] <= 200 * MiB and
                        v["c"]["actual"] <= 256 * MiB and
                        v["b"]["actual"] <= 260 * MiB)
            wait_until(settled, TIMEOUT * 2, 1, "idle guests shrunk")
            before = d.vms()
            assert before["b"]["target"] >= 200 * MiB, before["b"]
            mon.check(d.status())

            # a needs memory: it deflates on its own, the daemon grows it.
            shell = Shell(run.path("a", "serial.sock"))
            try:
                out = shell.run("mem touch %dM" % (TOUCH // MiB),
                                timeout=TIMEOUT * 2)
                assert any("touched" in line for line in out), out
            finally:
                shell.close()
            wait_until(lambda: (d.vms()["a"]["target"] or 0) >= TOUCH +
                       16 * MiB, TIMEOUT, 0.5, "a grown by the daemon")
            a = d.vms()["a"]
            assert a["last"] is not None and a["last"]["new"] > \
                before["a"]["actual"], a
            log = d.log_text()
            assert "a: target" in log and "short of memory" in log, log
            # what a got, the others had given: all within the budget
            v = d.vms()
            held = sum(x["target"] or x["actual"] for x in v.values())
            assert held <= BUDGET, v
            mon.check(d.status())

            # The garbled guest: statistics unusable, never moved, after
            # every kind of nonsense was served at least once.
            wait_until(lambda: proxy.garbled >= 2 * len(NONSENSE), TIMEOUT,
                       0.5, "every kind of nonsense served")
            g = d.vms()["g"]
            assert g["stats_ok"] is False, g
            assert g["target"] is None, g
            assert "statistics" in (g["problem"] or ""), g
            assert "balloon" not in proxy.commands, proxy.commands
            assert query_actual(other.path("g", "watch.sock")) == G_SIZE

            # SIGHUP with the host below its reserve: nothing grows.
            avail = d.status()["host"]["mem_available"]
            mon.reserve_from = {n: x["target"] for n, x in d.vms().items()}
            write_config(config, proxy.path, reserve="%dM" %
                         ((avail + 2 * 1024 * MiB) // MiB))
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "configuration reloaded" in d.log_text(),
                       60, 0.2, "the reload")
            # a, which had grown, goes down to its min; b stays at its own
            wait_until(lambda: d.vms()["a"]["target"] == 128 * MiB,
                       TIMEOUT, 0.5, "a shrunk to its min for the reserve")
            assert d.vms()["b"]["target"] == 200 * MiB, d.vms()["b"]
            mon.check(d.status())
            assert d.status()["reserve"] > avail
            # A bad file: the old configuration stays.
            with open(config, "w") as f:
                f.write("budget = ;\n")
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "keeping the previous configuration" in
                       d.log_text(), 60, 0.2, "the refused reload")
            assert d.proc.poll() is None
            assert d.status()["reserve"] > avail
            mon.reserve_from = None
            write_config(config, proxy.path)
            d.proc.send_signal(signal.SIGHUP)

            # c dies: it is dropped, the others stay managed.
            kill_qemu(run.pid("c"), run.path("c"))
            wait_until(lambda: "c" not in d.vms(), TIMEOUT, 0.5, "c dropped")
            assert set(d.vms()) == {"a", "b", "g"}, d.vms()
            assert "c: gone" in d.log_text()

            # top --json shows the VMs the daemon manages.
            top = subprocess.run([BALLONET, "top", "--json", "--socket",
                                  d.sock], env=run.env, capture_output=True,
                                 text=True, timeout=60)
            assert top.returncode == 0, top.stderr
            got = json.loads(top.stdout)
            assert sorted(v["name"] for v in got["vms"]) == \
                ["a", "b", "g"], got
            assert got["policy"] == "ours" and got["budget"] == BUDGET, got
            # and the table, once: one line per VM under the header
            top = subprocess.run([BALLONET, "top", "--count", "1"],
                                 env=run.env, capture_output=True, text=True,
                                 timeout=60)
            assert top.returncode == 0, top.stderr
            lines = top.stdout.splitlines()
            assert lines[1].split()[:3] == ["VM", "TARGET", "ACTUAL"], lines
            assert sorted(line.split()[0] for line in lines[2:]) == \
                ["a", "b", "g"], lines
        except BaseException:
            d.kill()
            print("ballonetd log:\n" + d.log_text())
            raise
        finally:
            mon.stop = True
            mon.join(10)
        rc = d.stop()
        proxy.close()
        assert rc == 0, rc
        log = d.log_text()
        assert "a: on exit: target %d MiB" % (SIZE // MiB) in log, log
        assert "b: on exit: left as it is" in log, log
        assert "stopped" in log.splitlines()[-1], log
        wait_until(lambda: query_actual(run.path("a", "qmp.sock")) == SIZE,
                   TIMEOUT, 0.5, "a back at its on_exit size")
        assert mon.samples > 0, mon.samples
        assert not mon.violations, mon.violations[:10]


def vmem_plugged(sock):
    """query-memory-devices: bytes virtio-mem has plugged."""
    q = Qmp(sock)
    try:
        for dev in q.execute("query-memory-devices"):
            if dev["type"] == "virtio-mem":
                return dev["data"]["size"]
    finally:
        q.close()
    raise AssertionError("no virtio-mem device")


HP_BOOT = 512 * MiB
HP_MAX = 2048 * MiB
HP_PEAK = 900 * MiB


@timeout(900)
def test_daemon_grows_through_virtio_mem():
    """A VM started with --max-memory 2G and 512 MiB of RAM: the daemon's
    max for it is its RAM plus the virtio-mem region.  Its demand rises
    above its boot size (wave's peak): the daemon plugs memory, the guest
    gets it and holds the peak, and what the daemon reports as actual is
    the logical size (balloon actual plus plugged).  When the demand falls
    the daemon unplugs everything and balloons below the boot size."""
    with run_dir() as run:
        subprocess.run([BALLONET, "vm", "start", "hp", "--memory",
                        "%dM" % (HP_BOOT // MiB), "--max-memory",
                        "%dM" % (HP_MAX // MiB)], env=run.env, check=True,
                       timeout=120)
        watchdog(run.pid("hp"), run.path("hp"))
        run.wait_ready("hp")
        qmp = run.path("hp", "qmp.sock")    # the daemon holds watch.sock
        config = os.path.join(run.dir, "ballonetd.conf")
        with open(config, "w") as f:
            f.write("""
policy = "ours";
budget = "3G";
reserve = "256M";
interval = 1.0;
stats_period = 1;
vms = ( { name = "hp"; } );
""")
        d = Daemon(run, config)
        shell = Shell(run.path("hp", "serial.sock"))
        try:
            wait_until(lambda: "hp" in d.vms() and
                       d.vms()["hp"]["target"] is not None, TIMEOUT, 0.5,
                       "hp managed")
            v = d.vms()["hp"]
            assert (v["memory"], v["max"]) == (HP_MAX, HP_MAX), v
            # The default min is a quarter of the boot RAM, not of the max:
            # 512 MiB of 2 GiB would keep it from going below its boot size.
            assert v["min"] == max(128 * MiB, HP_BOOT // 4), v
            # Idle, it gives memory back through the balloon.
            wait_until(lambda: d.vms()["hp"]["target"] < HP_BOOT, TIMEOUT,
                       0.5, "hp shrunk below its boot size")
            assert vmem_plugged(qmp) == 0

            # The demand rises above the boot size: held only if plugged.
            shell.run("wave 3600 %dM 64M" % (HP_PEAK // MiB))
            held = "held %d MiB" % (HP_PEAK // MiB)
            wait_until(lambda: any(held in line for line in
                                   shell.run("wave")), TIMEOUT * 2, 1,
                       "the guest holds its peak")
            plugged = vmem_plugged(qmp)
            assert plugged > HP_PEAK - HP_BOOT, plugged
            assert plugged % (2 * MiB) == 0, plugged
            hot = shell.sysctl("hw.balloon.hotplugged") * 1024
            assert hot > 0, hot
            v = d.vms()["hp"]
            assert HP_BOOT < v["target"] <= HP_MAX, v
            assert v["actual"] > HP_PEAK, v     # logical: boot + plugged
            top = subprocess.run([BALLONET, "top", "--json", "--socket",
                                  d.sock], env=run.env, capture_output=True,
                                 text=True, timeout=60)
            assert top.returncode == 0, top.stderr
            v = json.loads(top.stdout)["vms"][0]
            assert v["actual"] > HP_PEAK and v["max"] == HP_MAX, v
            log = d.log_text()
            assert "hp: found (up to 2048 MiB)" in log, log
            assert "hp: target" in log, log

            # The demand falls: everything is unplugged, then ballooned.
            shell.run("wave stop")
            wait_until(lambda: vmem_plugged(qmp) == 0, TIMEOUT * 2, 0.5,
                       "the daemon unplugs")
            wait_until(lambda: d.vms()["hp"]["actual"] < HP_BOOT, TIMEOUT,
                       0.5, "back below the boot size")
            wait_until(lambda: shell.sysctl("hw.balloon.hotplugged") == 0,
                       TIMEOUT, 0.5, "the guest's hotplugged at 0")
            assert query_actual(qmp) < HP_BOOT
        except BaseException:
            d.kill()
            print("ballonetd log:\n" + d.log_text())
            raise
        finally:
            shell.close()
        assert d.stop() == 0


@timeout(120)
def test_daemon_refuses_bad_configuration():
    with run_dir() as run:
        cases = [
            ("policy = \"nope\";\n", "policy: 'nope' is none of"),
            ("budget = \"12 parsecs\";\n", "budget: not a size"),
            ("polcy = \"ours\";\n", "unknown setting 'polcy'"),
            ("vms = ( { name = \"x\"; min = \"1G\"; max = \"512M\"; } );\n",
             "min is above max"),
            ("budget = ;\n", "syntax error"),
        ]
        path = os.path.join(run.dir, "bad.conf")
        for text, message in cases:
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([BALLONETD, "--foreground", "--config", path],
                               env=run.env, capture_output=True, text=True,
                               timeout=60)
            lines = p.stderr.strip().splitlines()
            assert p.returncode == 2, (text, p.returncode, p.stderr)
            assert len(lines) == 1 and lines[0].startswith("ballonetd: "), \
                p.stderr
            assert message in lines[0], (message, lines)
            assert not os.path.exists(os.path.join(run.dir,
                                                   "ballonetd.sock"))
        # --connect without the libvirt backend: a clear refusal, exit 3
        # (or, once it is built, a refusal to reach a URI that is not there)
        p = subprocess.run([BALLONETD, "--foreground", "--connect",
                            "test+unix:///nonexistent/socket"],
                           env=run.env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        p = subprocess.run([BALLONETD, "--policy", "best"], env=run.env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and "none of ours, mom" in p.stderr, p.stderr


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@timeout(180)
def test_daemon_backend_backoff_metrics_notify():
    """A run directory that cannot be read: the daemon keeps running,
    retries with backoff, says so once, and recovers; its metrics and its
    sd_notify readiness are there meanwhile."""
    with run_dir() as run:
        broken = os.path.join(run.dir, "rundir")
        with open(broken, "w") as f:
            f.write("not a directory\n")
        notify = os.path.join(run.dir, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify)
        ns.settimeout(60)
        port = free_port()
        log = os.path.join(run.dir, "d.log")
        sock = os.path.join(run.dir, "d.sock")
        env = dict(run.env, BALLONET_RUNDIR=broken, NOTIFY_SOCKET=notify)
        proc = subprocess.Popen(
            [BALLONETD, "--foreground", "--socket", sock, "--log", log,
             "--metrics", "127.0.0.1:%d" % port, "--interval", "0.5"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            msg = ns.recv(4096).decode()
            assert "READY=1" in msg, msg

            def log_text():
                with open(log) as f:
                    return f.read()
            wait_until(lambda: "retrying with backoff" in log_text(), 60,
                       0.2, "the backend failure")
            time.sleep(4)  # several retries: still one line, still alive
            assert log_text().count("retrying with backoff") == 1, log_text()
            assert proc.poll() is None

            import urllib.request
            body = urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % port, timeout=30).read()
            text = body.decode()
            assert "ballonet_vms 0" in text, text
            fails = [line for line in text.splitlines()
                     if line.startswith("ballonet_backend_failures_total ")]
            assert fails and int(fails[0].split()[1]) >= 2, text
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/nope" % port,
                                       timeout=30)
                assert False, "404 expected"
            except urllib.error.HTTPError as e:
                assert e.code == 404

            os.unlink(broken)
            os.mkdir(broken)
            wait_until(lambda: "working again" in log_text(), 120, 0.5,
                       "the backend back")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
            seen = ""
            while "STOPPING=1" not in seen:
                seen += ns.recv(4096).decode()  # times out if never
        finally:
            if proc.poll() is None:
                proc.kill()
            ns.close()


@timeout(120)
def test_daemon_detaches():
    """Without --foreground: the starting process exits 0 once the daemon
    is ready; the daemon answers, and stops on SIGTERM."""
    with run_dir() as run:
        log = os.path.join(run.dir, "d.log")
        sock = os.path.join(run.dir, "d.sock")
        p = subprocess.run([BALLONETD, "--socket", sock, "--log", log],
                           env=run.env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(b'{"command":"status"}\n{"command":"version"}\n')
        f = s.makefile()
        st = json.loads(f.readline())["return"]
        assert json.loads(f.readline())["return"]["version"]
        s.close()
        pid = st["pid"]
        assert pid != os.getpid() and st["vms"] == [], st
        # a second daemon on the same socket is refused
        p = subprocess.run([BALLONETD, "--foreground", "--socket", sock],
                           env=run.env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 4 and "another ballonetd" in p.stderr, \
            p.stderr
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                   open("/proc/%d/stat" % pid).read().split()[2] == "Z",
                   60, 0.2, "the daemon gone")
        with open(log) as f:
            text = f.read()
        assert text.rstrip().endswith("ballonetd: stopped"), text
        assert not os.path.exists(sock)


@timeout(600)
def test_daemon_reacts_to_own_deflation():
    """A guest that deflates its balloon on OOM is grown at once, from its
    balloon event, with the budget nobody wants: the interval is ten
    minutes, so no periodic step can be what grew it."""
    with run_dir() as run:
        for name in ("p", "q"):
            start_guest(run, name, SIZE)
        for name in ("p", "q"):
            run.wait_ready(name)
        config = os.path.join(run.dir, "ballonetd.conf")
        with open(config, "w") as f:
            f.write('policy = "ours"; budget = "700M"; interval = 600.0;\n'
                    'stats_period = 1;\nvms = ( { name = "p"; }, '
                    '{ name = "q"; } );\n')
        d = Daemon(run, config)
        try:
            # The first step takes idle memory back (half the way).
            wait_until(lambda: all(v["last"] is not None
                                   for v in d.vms().values()) and
                       len(d.vms()) == 2, TIMEOUT, 0.5, "first step")
            target = d.vms()["p"]["target"]
            assert target < SIZE - 64 * MiB, d.vms()["p"]
            shell = Shell(run.path("p", "serial.sock"), TIMEOUT)
            try:
                # The daemon samples at its interval only: SIGHUP makes
                # it step now, until p sits at a target it keeps.
                def settled():
                    steps = d.status()["steps"]
                    before = d.vms()["p"]["target"]
                    d.proc.send_signal(signal.SIGHUP)
                    wait_until(lambda: d.status()["steps"] > steps,
                               TIMEOUT, 0.2, "a step after SIGHUP")
                    v = d.vms()["p"]
                    return (v["target"] == before and
                            v["actual"] <= v["target"] + MiB)
                wait_until(settled, TIMEOUT, 0.5, "p settled")
                target = d.vms()["p"]["target"]
                steps = d.status()["steps"]
                out = shell.run("mem touch %dM" % ((target + 16 * MiB) //
                                                   MiB), timeout=TIMEOUT)
                assert out[-1].startswith("mem: touched"), out
            finally:
                shell.close()
            wait_until(lambda: "budget nobody wants" in d.log_text(),
                       TIMEOUT, 0.5, "p grown from its event")
            v = d.vms()
            assert v["p"]["target"] > target, v["p"]
            assert v["p"]["target"] <= SIZE, v["p"]
            assert sum(x["target"] for x in v.values()) <= 700 * MiB, v
            # A step the event started: the interval has not passed.
            assert d.status()["steps"] > steps
            assert time.time() - d.status()["started"] < 600
        except BaseException:
            d.kill()
            print(d.log_text())
            raise
        assert d.stop() == 0


@timeout(600)
def test_daemon_anchor_policies():
    """Each anchor policy on two real guests: it decides, with its own
    reasons, within min, max and the budget; static sets each VM once."""
    with run_dir() as run:
        for name in ("p", "q"):
            start_guest(run, name, 256 * MiB)
        for name in ("p", "q"):
            run.wait_ready(name)
        config = os.path.join(run.dir, "ballonetd.conf")
        for policy in ("mom", "proxmox", "squeezed", "static"):
            with open(config, "w") as f:
                f.write('policy = "%s"; budget = "400M"; interval = 1.0;\n'
                        'stats_period = 1;\n'
                        'vms = ( { name = "p"; min = "150M"; },\n'
                        '        { name = "q"; max = "200M"; } );\n' %
                        policy)
            d = Daemon(run, config)
            try:
                def decided():
                    v = d.vms()
                    return len(v) == 2 and all(
                        x["last"] is not None for x in v.values())
                wait_until(decided, TIMEOUT, 0.5,
                           "%s deciding for both VMs" % policy)
                v = d.vms()
                for x in v.values():
                    assert x["last"]["reason"].startswith(policy + ":"), x
                    assert x["min"] <= x["target"] <= x["max"], x
                assert v["p"]["target"] >= 150 * MiB, v["p"]
                assert v["q"]["target"] <= 200 * MiB, v["q"]
                assert sum(x["target"] for x in v.values()) <= 400 * MiB, v
                if policy == "static":
                    changes = d.status()["changes"]
                    time.sleep(3)
                    assert d.status()["changes"] == changes == 2
            except BaseException:
                d.kill()
                print(d.log_text())
                raise
            assert d.stop() == 0


def hostile_client(path, payload):
    """Connect and send PAYLOAD; the daemon may drop us meanwhile."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    try:
        s.sendall(payload)
    except OSError:
        pass  # dropped: one of the things it may do
    return s


@timeout(300)
def test_daemon_survives_stopped_qemu_and_hostile_clients():
    """A QEMU that stops answering (SIGSTOP) is dropped after a timeout
    and found again once it answers; the other VM stays managed.  Control
    clients that send garbage, overlong lines or never read do not stop
    the daemon."""
    with run_dir() as run:
        for name in ("s", "t"):
            start_guest(run, name, 256 * MiB)
        for name in ("s", "t"):
            run.wait_ready(name)
        config = os.path.join(run.dir, "ballonetd.conf")
        with open(config, "w") as f:
            f.write('budget = "400M"; interval = 1.0; stats_period = 1;\n')
        d = Daemon(run, config)
        pid = run.pid("s")
        try:
            wait_until(lambda: set(d.vms()) == {"s", "t"}, TIMEOUT, 0.5,
                       "both VMs")
            # hostile control clients, all at once
            junk = []
            for payload in (b"x" * 5000, b"\xff\xfe{{{\n", b"[1,2]\n",
                            b'{"command": 5}\n', b""):
                junk.append(hostile_client(d.sock, payload))
            for _ in range(20):   # more clients than it serves at once
                junk.append(hostile_client(   # and they never read
                    d.sock, b'{"command":"status"}\n' * 50))
            wait_until(lambda: set(d.vms()) == {"s", "t"}, TIMEOUT, 0.5,
                       "status answered with hostile clients around")
            for s in junk:
                s.close()
            assert d.proc.poll() is None

            os.kill(pid, signal.SIGSTOP)
            try:
                wait_until(lambda: "s" not in d.vms(), TIMEOUT, 0.5,
                           "the stopped QEMU dropped")
                assert "t" in d.vms()
                assert "did not answer" in d.log_text(), d.log_text()
            finally:
                os.kill(pid, signal.SIGCONT)
            wait_until(lambda: "s" in d.vms(), TIMEOUT, 0.5,
                       "s found again")
        except BaseException:
            d.kill()
            print(d.log_text())
            raise
        assert d.stop() == 0
