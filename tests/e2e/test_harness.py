"""The harness itself, against QEMU with no guest kernel (firmware only).

These need no driver: the balloon device answers QMP on its own.
"""

import os
import time

import harness
from harness import GiB, MiB, Vm, wait_until


def test_qmp_without_guest():
    """Greeting, capabilities, ids, errors and events on every transport."""
    for transport in ("pci", "pci-legacy", "mmio"):
        with Vm(memory="512M", transport=transport, kernel=None,
                lifetime=60) as vm:
            assert vm.qmp.greeting["QMP"]["version"]["qemu"]["major"] >= 7
            vm.boot()
            status = vm.qmp.execute("query-status")
            assert status["running"], status
            # No driver: the device reports the whole RAM as logical size.
            assert vm.logical() == 512 * MiB, vm.logical()
            vm.balloon("256M")  # accepted, but nobody inflates
            try:
                vm.qmp.execute("no-such-command")
            except harness.QmpError as e:
                assert e.error_class == "CommandNotFound", e
            else:
                raise AssertionError("no error for an unknown command")
            vm.qmp.execute("stop")
            vm.qmp.execute("cont")
            wait_until(lambda: vm.qmp.events_named("RESUME"), 10,
                       what="a RESUME event")
            assert vm.rss() > 0


def test_no_balloon_device():
    """Without a balloon device QEMU answers DeviceNotActive."""
    with Vm(memory="256M", transport="none", kernel=None, lifetime=60) as vm:
        vm.boot()
        try:
            vm.logical()
        except harness.QmpError as e:
            assert e.error_class == "DeviceNotActive", e
        else:
            raise AssertionError("query-balloon worked without a device")


def test_vm_always_killed():
    """An exception inside the with block still kills QEMU."""
    pid = None
    try:
        with Vm(memory="128M", kernel=None, lifetime=60) as vm:
            pid = vm.pid
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert pid is not None
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "QEMU %d survived" % pid


def test_lifetime_watchdog():
    """QEMU is killed when its lifetime is over, whatever the test does."""
    with Vm(memory="128M", kernel=None, lifetime=2) as vm:
        wait_until(lambda: vm.proc.poll() is not None, 30,
                   what="the watchdog to kill QEMU")


def test_sizes_and_wait():
    assert harness.parse_size("1G") == GiB
    assert harness.parse_size("256M") == 256 * MiB
    assert harness.parse_size("4096K") == 4 * MiB
    assert harness.parse_size(12345) == 12345
    t = time.monotonic()
    try:
        wait_until(lambda: 0, timeout=0.3, what="nothing")
    except TimeoutError as e:
        assert "nothing" in str(e)
    else:
        raise AssertionError("wait_until did not time out")
    assert time.monotonic() - t >= 0.3


def _fake_guest(path, script):
    """A unix-socket server that plays a guest's serial side.

    script(conn, read_line) writes what a guest would write.
    """
    import socket
    import threading
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        buf = b""

        def read_line():
            nonlocal buf
            while b"\r" not in buf:
                chunk = conn.recv(100)
                if not chunk:
                    raise EOFError
                buf += chunk
            line, buf = buf.split(b"\r", 1)
            return line.decode()
        try:
            script(conn, read_line)
        except (EOFError, OSError):
            pass
        conn.close()
        srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_shell_parsing():
    """Echo, prompt and kernel messages arriving at any time."""
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "s.sock")

    def script(conn, read_line):
        w = conn.sendall
        w(b"viomb0: attached\r\nballonet: ready\r\nballonet# ")
        line = read_line()  # sysctl hw.viomb.actual
        w(line.encode() + b"\r\n")
        w(b"viomb0: WARNING: balloon could not reach target 1 (current 2)"
          b"\r\nhw.viomb.actual = 196608\r\nballonet# ")
        line = read_line()  # mem
        w(line[:2].encode())
        w(b"viomb0: WARNING: mid-echo\r\n")  # printed at a line start only
        w(line[2:].encode() + b"\r\nmem: total 10 pages, free 5, held 0, "
          b"balloon 5\r\nballonet# viomb0: after the prompt\r\n")
        line = read_line()  # sysctl -w
        w(line.encode() + b"\r\nsysctl: hw.viomb.target: Operation not "
          b"permitted\r\nballonet# ")
        read_line()
    _fake_guest(path, script)
    sh = harness.Shell(path, timeout=10)
    sh.wait_ready(10)
    assert sh.sysctl("hw.viomb.actual") == 196608
    assert sh.mem() == {"total": 10, "free": 5, "held": 0, "balloon": 5}
    assert sh.sysctl_write("hw.viomb.target", 1) == \
        "sysctl: hw.viomb.target: Operation not permitted"
    msgs = sh.messages
    assert msgs[0] == "viomb0: attached", msgs
    assert any("could not reach target" in m for m in msgs), msgs
    assert "viomb0: after the prompt" in msgs, msgs
    sh.close()
