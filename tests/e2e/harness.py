"""End-to-end test harness: real QEMU, its QMP socket and the guest's shell.

Everything here is Python 3 standard library.  A test boots a VM like this:

    with harness.Vm(memory="1G", transport="pci") as vm:
        vm.boot()                        # start the CPUs, wait for the shell
        vm.qmp.execute("balloon", value=256 * MiB)
        harness.wait_until(lambda: vm.logical() == 256 * MiB, what="...")
        print(vm.shell.sysctl("hw.viomb.actual"))

The VM is always killed when the `with` block ends, whatever happened in it,
and a watchdog kills it after `lifetime` seconds in any case.  QEMU starts
frozen (-S) so that no byte of serial output is lost before we connect; the
serial port is also logged to a file (vm.serial_log) for post-mortems.

Rules for tests: never assert a duration; wait for a state with wait_until()
and a generous timeout (TCG is slow and the machine may be loaded).

Environment:
    BALLONET_QEMU     QEMU binary (default qemu-system-x86_64)
    BALLONET_GUEST    guest kernel (default build/ballonet-guest.elf)
                      (build/debug/ballonet-guest.elf: the audited build)
    BALLONET_ACCEL    accelerator (default tcg)
    BALLONET_KEEP     keep the VM's temporary directory (logs) when set
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
PAGE = 4096

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("BALLONET_QEMU", "qemu-system-x86_64")
GUEST = os.environ.get("BALLONET_GUEST",
                       os.path.join(BUILD, "ballonet-guest.elf"))
# The same guest built with GUEST_DEBUG=1: it audits its books (guest/audit.c).
DEBUG_GUEST = os.path.join(BUILD, "debug", "ballonet-guest.elf")

# Transport name -> machine and balloon device arguments.
TRANSPORTS = {
    "pci": ["-machine", "q35",
            "-device", "virtio-balloon-pci,id=balloon0"],
    "pci-legacy": ["-machine", "pc",
                   "-device",
                   "virtio-balloon-pci,id=balloon0,disable-modern=on"],
    "mmio": ["-machine", "microvm",
             "-device", "virtio-balloon-device,id=balloon0"],
    "none": ["-machine", "q35"],
}

# The balloon device's QOM path, for qom-get/qom-set.
BALLOON_QOM = "/machine/peripheral/balloon0"


class HarnessError(Exception):
    """Something went wrong talking to QEMU or the guest."""


class QmpError(HarnessError):
    """QEMU answered a command with an error."""

    def __init__(self, cmd, err):
        self.cmd = cmd
        self.error_class = err.get("class", "")
        self.desc = err.get("desc", "")
        super().__init__("%s: %s: %s" % (cmd, self.error_class, self.desc))


def parse_size(text):
    """'1G', '256M', '4096K', '12345' (bytes) -> bytes."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", str(text), re.I)
    if m is None:
        raise ValueError("bad size %r" % (text,))
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]
    return int(m.group(1)) << shift


def wait_until(pred, timeout=120.0, interval=0.1, what=None):
    """Call pred() until it returns something true; return that value.

    Raises TimeoutError naming `what` and pred's last value after `timeout`
    seconds.  Exceptions from pred propagate at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s "
                               "(last value: %r)" %
                               (timeout, what or getattr(pred, "__name__",
                                                         "condition"), value))
        time.sleep(interval)


def rss_bytes(pid):
    """Resident set size of process pid (VmRSS of /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KiB
    raise HarnessError("no VmRSS for pid %d" % pid)


def _connect_unix(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= deadline:
                raise HarnessError("cannot connect to %s" % path)
            time.sleep(0.02)


class Qmp:
    """A QMP client: greeting, qmp_capabilities, commands with ids.

    Events may arrive at any time, even before the greeting's answer; they
    are kept in self.events (dicts with "event", "data", "timestamp").
    """

    def __init__(self, path, timeout=30.0):
        self.timeout = timeout
        self.sock = _connect_unix(path, time.monotonic() + timeout)
        self.buf = b""
        self.events = []
        self.next_id = 1
        self.greeting = self._read_message(time.monotonic() + timeout,
                                           want_greeting=True)
        self.execute("qmp_capabilities")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _read_line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("QMP: no answer within %.0f s" %
                                   self.timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise HarnessError("QMP: connection closed by QEMU")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def _read_message(self, deadline, want_greeting=False):
        """Next non-event message; events are stored on the way."""
        while True:
            line = self._read_line(deadline).strip()
            if not line:
                continue
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            if want_greeting and "QMP" not in msg:
                raise HarnessError("QMP: expected greeting, got %r" % msg)
            return msg

    def execute(self, cmd, timeout=None, **arguments):
        """Run a command, return its "return" value; raise QmpError."""
        req = {"execute": cmd, "id": self.next_id}
        self.next_id += 1
        if arguments:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read_message(deadline)
            if msg.get("id") != req["id"]:
                continue  # a late answer to a command that timed out
            if "error" in msg:
                raise QmpError(cmd, msg["error"])
            return msg.get("return")

    def poll_events(self):
        """Read whatever events QEMU has sent, without blocking."""
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            self.sock.setblocking(True)
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                msg = json.loads(line)
                if "event" in msg:
                    self.events.append(msg)
        return self.events

    def events_named(self, name):
        self.poll_events()
        return [e for e in self.events if e["event"] == name]

    def balloon_changes(self):
        """The "actual" (bytes) of every BALLOON_CHANGE event so far."""
        return [e["data"]["actual"] for e in self.events_named(
            "BALLOON_CHANGE")]


class Shell:
    """The guest's serial shell.

    A reader thread collects every byte from the serial socket.  Lines that
    look like kernel messages ("viomb0: ...") may come at any time: they are
    kept in self.messages and removed from command output.
    """

    PROMPT = "ballonet# "
    READY = "ballonet: ready"
    # A kernel message: a device name with a unit number, a colon, text,
    # at the start of a line; the balloon's own devices anywhere (a message
    # may cut into the echo of a command or follow a prompt).
    MESSAGE = re.compile(r"(?:(?<=\n)[a-z]+[0-9]+|"
                         r"(?:viomb|viomem|balloon|virtio)[0-9]+): "
                         r"[^\r\n]*\r?\n")
    EOL = "\r"

    def __init__(self, path, timeout=30.0):
        self.sock = _connect_unix(path, time.monotonic() + timeout)
        self.raw = ""
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _reader(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.raw += chunk.decode("utf-8", "replace")
                self.cond.notify_all()

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = pred(self.raw)
                if value is not None:
                    return value
                left = deadline - time.monotonic()
                if self.closed:
                    raise HarnessError("serial closed while waiting for %s; "
                                       "last output: %r" %
                                       (what, self.raw[-500:]))
                if left <= 0:
                    raise TimeoutError("timed out after %.0f s waiting for "
                                       "%s; last output: %r" %
                                       (timeout, what, self.raw[-500:]))
                self.cond.wait(min(left, 1.0))

    @property
    def messages(self):
        """Every kernel message line seen so far, without its newline."""
        with self.cond:
            return self._messages()

    def _messages(self):
        return [m.group(0).rstrip("\r\n")
                for m in self.MESSAGE.finditer(self.raw)]

    def wait_message(self, pattern, timeout=120.0):
        """Wait for a kernel message matching regex pattern; return it."""
        rx = re.compile(pattern)

        def found(_raw):
            for m in self._messages():
                if rx.search(m):
                    return m
            return None
        return self._wait(found, timeout, "message /%s/" % pattern)

    def wait_ready(self, timeout=120.0, since=0):
        """Wait for "ballonet: ready" and the first prompt after it.

        since: where in the output to look from (len(raw) before a reset).
        """
        def ready(raw):
            i = raw.find(self.READY, since)
            if i >= 0 and raw.find(self.PROMPT, i) >= 0:
                return True
            return None
        self._wait(ready, timeout, repr(self.READY) + " and a prompt")

    def run(self, command, timeout=60.0):
        """Send one command line; return its output lines.

        The echo and the prompt are not part of the result, nor are kernel
        messages that came in between.
        """
        with self.cond:
            start = self.raw.rfind(self.PROMPT)
            start = 0 if start < 0 else start + len(self.PROMPT)
        self.sock.sendall((command + self.EOL).encode())
        rx = re.compile(re.escape(command) + r"[\r\n]*\n(.*?)" +
                        re.escape(self.PROMPT), re.S)

        def answered(raw):
            text = self.MESSAGE.sub("", raw[start:])
            m = rx.search(text)
            if m is None:
                return None
            return [line.rstrip("\r") for line in m.group(1).split("\n")
                    if line.strip()]
        return self._wait(answered, timeout, "the answer to %r" % command)

    # --- helpers for the commands of the reference guest ---------------

    def sysctl(self, name):
        """Value of one sysctl node as an int (or str if not a number)."""
        out = self.run("sysctl " + name)
        for line in out:
            m = re.fullmatch(r"(\S+) = (.*)", line.strip())
            if m and m.group(1) == name:
                v = m.group(2).strip()
                return int(v) if re.fullmatch(r"-?\d+", v) else v
        raise HarnessError("sysctl %s: unexpected output %r" % (name, out))

    def sysctl_all(self):
        """All nodes of `sysctl -a` as {name: value}."""
        nodes = {}
        for line in self.run("sysctl -a"):
            m = re.fullmatch(r"(\S+) = (.*)", line.strip())
            if m:
                v = m.group(2).strip()
                nodes[m.group(1)] = int(v) if re.fullmatch(r"-?\d+",
                                                           v) else v
        return nodes

    def sysctl_write(self, name, value):
        """`sysctl -w name=value`; returns the one output line."""
        out = self.run("sysctl -w %s=%s" % (name, value))
        if len(out) != 1:
            raise HarnessError("sysctl -w %s=%s: unexpected output %r" %
                               (name, value, out))
        return out[0]

    def mem(self):
        """`mem` as {"total": N, "free": N, "held": N, "balloon": N}."""
        out = self.run("mem")
        for line in out:
            m = re.search(r"mem: total (\d+) pages, free (\d+), held (\d+), "
                          r"balloon (\d+)", line)
            if m:
                return dict(zip(("total", "free", "held", "balloon"),
                                map(int, m.groups())))
        raise HarnessError("mem: unexpected output %r" % (out,))


try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up once, here
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent():
    """In the child before exec: get SIGKILL when the harness dies."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Vm:
    """One QEMU process; a context manager that always kills it.

    memory: "1G" etc.; transport: a key of TRANSPORTS; kernel: path, or
    None for no kernel (firmware only); lifetime: seconds after which the
    watchdog kills QEMU whatever happens.
    """

    def __init__(self, memory="1G", transport="pci", kernel=GUEST,
                 append=None, extra=(), lifetime=600.0, timeout=30.0,
                 maxmem=None):
        self.memory = parse_size(memory)
        self.maxmem = parse_size(maxmem) if maxmem else None  # -m maxmem=
        self.transport = transport
        self.kernel = kernel
        self.append = append
        self.extra = list(extra)
        self.lifetime = lifetime
        self.timeout = timeout
        self.proc = None
        self.qmp = None
        self.shell = None
        self.dir = None
        self._timer = None
        self.expired = False
        self.qemu_log = None

    # --- life cycle ----------------------------------------------------

    def command_line(self):
        if self.transport not in TRANSPORTS:
            raise HarnessError("unknown transport %r" % self.transport)
        args = [QEMU, "-nodefaults", "-no-user-config", "-display", "none",
                "-nic", "none", "-S",
                "-accel", os.environ.get("BALLONET_ACCEL", "tcg"),
                "-m", "%dM" % (self.memory // MiB) +
                (",maxmem=%dM" % (self.maxmem // MiB) if self.maxmem else "")]
        args += TRANSPORTS[self.transport]
        if self.kernel is not None:
            args += ["-kernel", self.kernel]
            if self.append:
                args += ["-append", self.append]
        args += ["-chardev", "socket,id=ser0,path=%s,server=on,wait=off,"
                 "logfile=%s" % (self.serial_path, self.serial_log),
                 "-serial", "chardev:ser0",
                 "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        return args + self.extra

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.kill()
            self._post_mortem()
            self.cleanup()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.kill()
        if exc is not None:
            self._post_mortem()
        self.cleanup()
        return False

    def start(self):
        if self.kernel is not None and not os.path.exists(self.kernel):
            raise HarnessError("no guest kernel at %s (run `make guest`)" %
                               self.kernel)
        self.dir = tempfile.mkdtemp(prefix="ballonet-e2e-")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.serial_path = os.path.join(self.dir, "serial.sock")
        self.serial_log = os.path.join(self.dir, "serial.log")
        self.qemu_log = os.path.join(self.dir, "qemu.log")
        with open(self.qemu_log, "wb") as log:
            self.proc = subprocess.Popen(
                self.command_line(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self._timer = threading.Timer(self.lifetime, self._expire)
        self._timer.daemon = True
        self._timer.start()
        deadline = time.monotonic() + self.timeout
        for path in (self.qmp_path, self.serial_path):
            while not os.path.exists(path):
                if self.proc.poll() is not None:
                    raise HarnessError("QEMU exited with %d: %s" %
                                       (self.proc.returncode,
                                        self.qemu_output()))
                if time.monotonic() >= deadline:
                    raise HarnessError("QEMU did not create %s" % path)
                time.sleep(0.02)
        self.shell = Shell(self.serial_path, self.timeout)
        self.qmp = Qmp(self.qmp_path, self.timeout)

    def boot(self, timeout=120.0):
        """Start the CPUs; with a kernel, wait for the guest's shell."""
        self.qmp.execute("cont")
        if self.kernel is not None:
            self.shell.wait_ready(timeout)
        return self

    def _expire(self):
        if self.proc is not None and self.proc.poll() is None:
            self.expired = True
            self.proc.kill()

    def kill(self):
        if self._timer is not None:
            self._timer.cancel()
        if self.qmp is not None:
            self.qmp.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.shell is not None:
            self.shell.close()

    def cleanup(self):
        """Remove the sockets and logs (kept if BALLONET_KEEP is set)."""
        if self.dir is None:
            return
        if os.environ.get("BALLONET_KEEP"):
            print("harness: kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def qemu_output(self):
        if self.qemu_log is None:
            return ""
        try:
            with open(self.qemu_log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def _post_mortem(self):
        """On failure, show what QEMU and the guest said last."""
        if self.expired:
            print("harness: QEMU killed after its lifetime of %.0f s" %
                  self.lifetime)
        out = self.qemu_output().strip()
        if out:
            print("harness: QEMU output:\n" + out)
        if self.shell is not None and self.shell.raw:
            tail = self.shell.raw[-3000:].replace("\r\n", "\n")
            print("harness: last serial output:\n" + tail)

    # --- observations --------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    def rss(self):
        """QEMU's resident set size in bytes."""
        return rss_bytes(self.proc.pid)

    def logical(self):
        """query-balloon's actual: the guest's logical size in bytes."""
        return self.qmp.execute("query-balloon")["actual"]

    def balloon(self, logical):
        """Ask for a logical size ("256M" or bytes) with QMP balloon."""
        self.qmp.execute("balloon", value=parse_size(logical))

    def wait_logical(self, logical, timeout=120.0):
        """Wait until query-balloon reports `logical` bytes."""
        want = parse_size(logical)
        wait_until(lambda: self.logical() == want, timeout, 0.1,
                   "query-balloon actual == %d MiB" % (want // MiB))

    def guest_pages(self):
        """Pages in the balloon as query-balloon sees them."""
        return (self.memory - self.logical()) // PAGE
