"""Memory hot-plug with virtio-mem against real QEMU 7.2 (TCG, q35): the
guest grows above its boot size when the host raises requested-size, and
gives memory back when it falls, never a block that holds data.

The VM: `-m 1G,maxmem=5G`, a 4 GiB memfd backend (so QEMU offers
UNPLUGGED_INACCESSIBLE and the guest must accept it), virtio-mem-pci
with requested-size 0, and the balloon; started by `ballonet vm start
--max-memory 5G` and driven by `ballonet set` (the first tests), or by
QMP directly.  Sizes in QMP are bytes; the guest's hw.balloon.* nodes
are KiB.  No test asserts a duration.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile

from harness import DEBUG_GUEST, GUEST, GiB, MiB, Qmp, Shell, Vm, \
    rss_bytes, wait_until
from test_cli import EXIT_RANGE, EXIT_TIMEOUT, EXIT_USAGE, run_dir

TIMEOUT = 180  # seconds to wait for any state change under TCG
QOM = "/machine/peripheral/vm0"


@contextlib.contextmanager
def guest(region="4G", maxmem="5G", lifetime=400, backend="memfd",
          kernel=GUEST, append=None):
    extra = ["-object", "memory-backend-%s,id=vmem0,size=%s" %
             (backend, region),
             "-device",
             "virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=0",
             "-device", "virtio-balloon-pci,id=balloon0"]
    with Vm(memory="1G", maxmem=maxmem, transport="none", extra=extra,
            lifetime=lifetime, kernel=kernel, append=append) as vm:
        vm.boot(timeout=TIMEOUT)
        yield vm


def request(vm, size):
    vm.qmp.execute("qom-set", path=QOM, property="requested-size",
                   value=size)


def plugged(vm):
    """query-memory-devices: bytes the device has plugged."""
    for dev in vm.qmp.execute("query-memory-devices"):
        if dev["type"] == "virtio-mem":
            return dev["data"]["size"]
    raise AssertionError("no virtio-mem device in query-memory-devices")


def wait_plugged(vm, size):
    """QEMU's count; it moves before the guest has the answer, so a test
    that then uses the memory also waits for hw.balloon.hotplugged."""
    wait_until(lambda: plugged(vm) == size, TIMEOUT, 0.2,
               "virtio-mem plugged == %d MiB" % (size // MiB))


def run_ok(vm, command, expect, timeout=600):
    out = vm.shell.run(command, timeout=timeout)
    assert any(expect in line for line in out), (command, out)
    return out


@contextlib.contextmanager
def cli_guest(run, name="hp"):
    """`ballonet vm start NAME --memory 1G --max-memory 5G`: our guest, a
    4 GiB memfd virtio-mem device; yields its serial shell."""
    run.start(name, "--max-memory", "5G", memory=1 * GiB)
    shell = Shell(run.path(name, "serial.sock"), 30)
    try:
        shell.wait_ready(TIMEOUT)
        yield shell
    finally:
        shell.close()


def qmp_of(run, name, cmd):
    """One QMP command on the VM's socket (ballonet uses it too)."""
    q = Qmp(run.path(name, "qmp.sock"))
    try:
        return q.execute(cmd)
    finally:
        q.close()


def cli_plugged(run, name):
    for dev in qmp_of(run, name, "query-memory-devices"):
        if dev["type"] == "virtio-mem":
            return dev["data"]["size"]
    raise AssertionError("no virtio-mem device")


def info(run, name):
    return json.loads(run.ok("info", name, "--json"))


def test_grow_to_3g_and_back():
    """`ballonet set` grows a 1 GiB guest to 3 GiB: 2 GiB plugged, more
    used than it booted with; back at 1 GiB all is unplugged and QEMU's
    RSS falls; below 1 GiB the balloon takes over."""
    with run_dir() as run, cli_guest(run) as sh:
        i = info(run, "hp")
        assert (i["boot"], i["plugged"], i["max"]) == (GiB, 0, 5 * GiB), i
        assert sh.sysctl("hw.balloon.hotplugged") == 0
        assert sh.sysctl("hw.balloon.max") == GiB // 1024
        run.ok("set", "hp", "3G", "--wait", "--timeout", TIMEOUT)
        assert cli_plugged(run, "hp") == 2 * GiB
        i = info(run, "hp")
        assert (i["actual"], i["plugged"], i["balloon"], i["target"]) == \
            (3 * GiB, 2 * GiB, 0, 3 * GiB), i
        wait_until(lambda: sh.sysctl("hw.balloon.hotplugged") ==
                   2 * GiB // 1024, TIMEOUT, 0.2, "hotplugged == 2 GiB")
        # What the guest can reach: boot RAM plus the usable region
        # (QEMU: requested + 256 MiB); one logical size.
        assert sh.sysctl("hw.balloon.max") == \
            (1 * GiB + 2 * GiB + 256 * MiB) // 1024
        assert sh.sysctl("hw.balloon.current") == 3 * GiB // 1024
        assert sh.sysctl("hw.balloon.target") == 3 * GiB // 1024
        out = sh.run("mem touch 2500M", timeout=600)
        assert any("touched 640000 pages" in line for line in out), out
        peak = rss_bytes(run.pid("hp"))
        assert peak > 2400 * MiB, peak
        out = sh.run("mem free", timeout=600)
        assert any("freed 640000 pages" in line for line in out), out
        run.ok("set", "hp", "1G", "--wait", "--timeout", TIMEOUT)
        assert cli_plugged(run, "hp") == 0
        wait_until(lambda: sh.sysctl("hw.balloon.hotplugged") == 0,
                   TIMEOUT, 0.2, "hotplugged == 0")
        # QEMU discards unplugged blocks: its RSS falls by what the guest
        # had touched there (about 1.5 GiB); the boot RAM stays.
        wait_until(lambda: rss_bytes(run.pid("hp")) < peak - 1200 * MiB,
                   TIMEOUT, 0.5, "QEMU RSS falls after the unplug")
        run.ok("set", "hp", "512M", "--wait", "--timeout", TIMEOUT)
        i = info(run, "hp")
        assert (i["actual"], i["plugged"], i["balloon"]) == \
            (512 * MiB, 0, 512 * MiB), i
        assert sh.sysctl("hw.balloon.current") == 512 * 1024
        run.fails(EXIT_RANGE, "above what the VM can reach", "set", "hp",
                  "5121M")
        msgs = "\n".join(sh.messages)
        assert "viomem0:" in msgs and "ERROR" not in msgs, msgs


def test_unplug_in_use():
    """Blocks holding data stay plugged; the data reads back intact; the
    rest is unplugged; once freed, the unplug completes."""
    with run_dir() as run, cli_guest(run) as sh:
        run.ok("set", "hp", "3G", "--wait", "--timeout", TIMEOUT)
        wait_until(lambda: sh.sysctl("hw.balloon.hotplugged") ==
                   2 * GiB // 1024, TIMEOUT, 0.2, "hotplugged == 2 GiB")
        # Boot RAM first (about 1020 MiB), then the lowest hot blocks.
        out = sh.run("mem fill 1700M", timeout=600)
        assert any("touched 435200 pages" in line for line in out), out
        # The host asks for less: it cannot all go.
        run.fails(EXIT_TIMEOUT, "reached", "set", "hp", "1G", "--wait",
                  "--timeout", "20")
        line = sh.wait_message(r"viomem0: cannot unplug down to 0 MiB",
                               TIMEOUT)
        # What is in use stays: the ~680 MiB filled above boot RAM.
        left = cli_plugged(run, "hp")
        assert 600 * MiB <= left <= 800 * MiB, (left, line)
        assert left % (2 * MiB) == 0
        out = sh.run("mem check", timeout=600)
        assert any("435200 filled intact" in line for line in out), out
        wait_until(lambda: sh.sysctl("hw.balloon.hotplugged") ==
                   left // 1024, TIMEOUT, 0.2, "hotplugged == plugged")
        msgs = [m for m in sh.messages if "cannot unplug" in m]
        assert len(msgs) == 1, msgs     # said once, still trying
        out = sh.run("mem free", timeout=600)
        assert any("freed 435200 pages" in line for line in out), out
        run.ok("set", "hp", "1G", "--wait", "--timeout", TIMEOUT)
        assert cli_plugged(run, "hp") == 0


def intr_lines(vm, name):
    """`intr`'s lines of source NAME: (gsi, count, stray, masked)."""
    rows = []
    for line in vm.shell.run("intr"):
        f = line.split()
        if f and f[0] == name and f[1] == "gsi":
            rows.append((int(f[2]), int(f[4]), int(f[5]), "masked" in f))
    return rows


def test_own_interrupt():
    """virtio-mem has its own handler on its INTx pin (q35: one of PIRQ
    A-H, perhaps the balloon's): it plugs and unplugs on its interrupts,
    its other candidate pins stop listening, and the balloon keeps its
    own."""
    with guest() as vm:
        request(vm, 256 * MiB)
        wait_plugged(vm, 256 * MiB)
        wait_until(lambda: vm.shell.sysctl("hw.balloon.hotplugged") ==
                   256 * 1024, TIMEOUT, 0.2, "hotplugged == 256 MiB")
        request(vm, 0)
        wait_plugged(vm, 0)
        vm.balloon(768 * MiB)
        vm.wait_logical("768M", TIMEOUT)
        mem = intr_lines(vm, "viomem0")
        live = [r for r in mem if not r[3]]
        assert len(mem) == 8 and len(live) == 1, mem
        assert live[0][1] - live[0][2] > 0, mem     # some were its own
        mb = [r for r in intr_lines(vm, "viomb0") if not r[3]]
        assert len(mb) == 1 and mb[0][1] - mb[0][2] > 0, mb


def test_set_without_virtio_mem():
    """Without --max-memory, above the RAM is refused as before."""
    with run_dir() as run:
        run.start("plain", memory=512 * MiB)
        run.fails(EXIT_RANGE, "start the VM with --max-memory", "set",
                  "plain", "1G")
        run.fails(EXIT_USAGE, "--max-memory must be above", "vm", "start",
                  "bad", "--memory", "1G", "--max-memory", "1G")
        run.fails(EXIT_USAGE, "--max-memory needs virtio-mem-pci", "vm",
                  "start", "bad", "--max-memory", "2G", "--transport",
                  "mmio")


def test_ram_backend():
    """memory-backend-ram: QEMU does not offer UNPLUGGED_INACCESSIBLE; the
    guest negotiates VERSION_1 alone and plugs and unplugs the same."""
    with guest(backend="ram") as vm:
        vm.shell.wait_message(r"viomem0: pci-modern, features 0x100000000,",
                              TIMEOUT)
        request(vm, 512 * MiB)
        wait_plugged(vm, 512 * MiB)
        # QEMU counts a block plugged before the guest has its answer.
        wait_until(lambda: vm.shell.sysctl("hw.balloon.hotplugged") ==
                   512 * 1024, TIMEOUT, 0.2, "hotplugged == 512 MiB")
        run_ok(vm, "mem touch 1400M", "touched 358400 pages")
        run_ok(vm, "mem free", "freed 358400 pages")
        request(vm, 0)
        wait_plugged(vm, 0)


def test_reboot_plugs_again():
    """QEMU unplugs everything at a system_reset; the rebooted guest plugs
    what the host still requests, and can use it."""
    with guest() as vm:
        request(vm, 1 * GiB)
        wait_plugged(vm, 1 * GiB)
        wait_until(lambda: vm.shell.sysctl("hw.balloon.hotplugged") ==
                   GiB // 1024, TIMEOUT, 0.2, "hotplugged == 1 GiB")
        run_ok(vm, "mem fill 1500M", "touched 384000 pages")
        since = len(vm.shell.raw)
        vm.qmp.execute("system_reset")
        vm.shell.wait_ready(TIMEOUT, since)
        wait_plugged(vm, 1 * GiB)
        wait_until(lambda: vm.shell.sysctl("hw.balloon.hotplugged") ==
                   GiB // 1024, TIMEOUT, 0.2, "hotplugged == 1 GiB")
        run_ok(vm, "mem touch 1500M", "touched 384000 pages")
        run_ok(vm, "mem check", "check ok")


def test_debug_guest_audit():
    """The GUEST_DEBUG build audits pmem's hot ranges (free within present,
    counters = bits) with the balloon's books after every run: growing,
    using, shrinking with blocks in use and ballooning must not upset it."""
    with guest(kernel=DEBUG_GUEST) as vm:
        request(vm, 1 * GiB)
        wait_plugged(vm, 1 * GiB)
        wait_until(lambda: vm.shell.sysctl("vm.stats.hot_pages") ==
                   GiB // 4096, TIMEOUT, 0.2, "hot pages == 1 GiB")
        run_ok(vm, "mem touch 1200M", "touched 307200 pages")
        request(vm, 0)
        vm.shell.wait_message(r"viomem0: cannot unplug", TIMEOUT)
        run_ok(vm, "mem free", "freed 307200 pages")
        wait_plugged(vm, 0)
        vm.balloon(512 * MiB)
        vm.wait_logical("512M", TIMEOUT)
        vm.balloon(GiB)
        vm.wait_logical("1G", TIMEOUT)
        assert vm.shell.sysctl("vm.stats.hot_pages") == 0
        audits = [m for m in vm.shell.messages if "audit:" in m]
        assert not audits, audits


def test_poison_hot_pages():
    """poison=0xaa: a hot-plugged page freed holds the poison, as a page of
    the boot RAM does.  The first touch takes every free page of the boot
    RAM and then hot ones (never used: not poisoned); after a free, the
    same touch gets the same pages back, every one of them poisoned."""
    with guest(append="poison=0xaa") as vm:
        request(vm, 1 * GiB)
        wait_plugged(vm, 1 * GiB)
        wait_until(lambda: vm.shell.sysctl("vm.stats.hot_free_pages") ==
                   GiB // 4096, TIMEOUT, 0.2, "1 GiB of hot pages free")
        free = vm.shell.sysctl("vm.stats.free_pages")
        pages = free + 128 * MiB // 4096     # 128 MiB of them hot
        run_ok(vm, "mem touch %dK" % (pages * 4),
               "touched %d pages" % pages)
        hot = GiB // 4096 - vm.shell.sysctl("vm.stats.hot_free_pages")
        assert hot == 128 * MiB // 4096, hot
        run_ok(vm, "mem free", "freed %d pages" % pages)
        out = run_ok(vm, "mem touch %dK" % (pages * 4),
                     "touched %d pages" % pages)
        assert out[-1].endswith(", %d poisoned" % pages), out
        run_ok(vm, "mem free", "freed %d pages" % pages)


def test_region_cannot_be_mapped():
    """A region past what the guest maps (its identity map ends at 64 GiB):
    attached, said once, nothing plugged, the balloon unaffected."""
    with guest(region="66G", maxmem="67G") as vm:
        vm.shell.wait_message(r"viomem0: cannot use memory at", TIMEOUT)
        request(vm, 1 * GiB)
        wait_until(lambda: vm.shell.sysctl("hw.balloon.max") ==
                   1 * GiB // 1024, TIMEOUT, 0.2, "max stays the boot RAM")
        assert plugged(vm) == 0
        assert vm.shell.sysctl("hw.balloon.hotplugged") == 0
        vm.balloon("512M")
        vm.wait_logical("512M", TIMEOUT)


def test_bench_tiny():
    """bench/hotplug.py runs (ours only, 64 MiB): its table has the rows."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "..", "bench", "hotplug.py")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, script, "--runs", "1", "--guests",
                        "ours", "--size", "64", "--out", out], check=True,
                       timeout=600, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "hotplug.txt")) as f:
            text = f.read()
    for row in ("plug, MiB/s", "unplug, MiB/s"):
        assert row in text, text
