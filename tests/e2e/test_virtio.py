"""virtio-balloon end to end: real QEMU (TCG) running build/ballonet-guest.elf.

Units, to keep straight: QMP `balloon` and `query-balloon` speak of the
guest's logical size in bytes (RAM minus balloon); the guest's
hw.viomb.{npages,actual} are 4 KiB pages in the balloon and
hw.viomb.{current,min,max,target} are KiB of memory left to the guest.
So for a 1 GiB guest at logical size L: actual = (1 GiB - L) / 4096.

No test asserts a duration: each waits for a state, with a generous timeout.
"""

import contextlib
import os
import re
import tempfile

from harness import DEBUG_GUEST, GiB, KiB, MiB, PAGE, Vm, wait_until

TIMEOUT = 120  # seconds to wait for any state change under TCG
EPERM = "Operation not permitted"
ENOENT = "No such file or directory"
NODES = ("npages", "actual", "current", "min", "max", "target")
RO_NODES = ("npages", "actual", "current", "max")


@contextlib.contextmanager
def guest(transport="pci", memory="1G", lifetime=300):
    """A booted guest at its shell; QEMU is killed on the way out."""
    with Vm(memory=memory, transport=transport, lifetime=lifetime) as vm:
        vm.boot(timeout=TIMEOUT)
        yield vm


def pages_for(vm, logical):
    """Pages in the balloon when the guest's logical size is `logical`."""
    return (vm.memory - logical) // PAGE


def wait_guest(vm, name, value, timeout=TIMEOUT):
    """Wait until the guest's sysctl `name` reads `value`."""
    seen = []

    def reached():
        seen.append(vm.shell.sysctl(name))
        return seen[-1] == value
    try:
        wait_until(reached, timeout, 0.5, "guest %s == %d" % (name, value))
    except TimeoutError as e:
        raise TimeoutError("%s; it reads %s" % (e, seen[-1])) from None


def settle(vm, logical):
    """Wait until both sides agree on `logical`; check every node."""
    vm.wait_logical(logical, TIMEOUT)
    want = pages_for(vm, logical)
    wait_guest(vm, "hw.viomb.actual", want)
    assert vm.guest_pages() == want  # query-balloon agrees with the guest
    check_nodes(vm, want)


def check_nodes(vm, pages):
    """Both prefixes show `pages` in the balloon and current = max - it."""
    nodes = vm.shell.sysctl_all()
    for prefix in ("hw.viomb", "hw.balloon"):
        assert nodes[prefix + ".actual"] == pages, nodes
        assert nodes[prefix + ".current"] == \
            nodes[prefix + ".max"] - pages * PAGE // KiB, nodes


def balloon_nodes(vm):
    """{name: value} of hw.viomb.* and hw.balloon.*, from `sysctl -a`."""
    return {k: v for k, v in vm.shell.sysctl_all().items()
            if k.startswith(("hw.viomb.", "hw.balloon."))}


# --- (a) resize on each transport -------------------------------------

def resize(transport):
    """1 GiB guest: 256 MiB logical and back to 1 GiB."""
    with guest(transport) as vm:
        assert vm.logical() == GiB
        assert vm.shell.sysctl("hw.viomb.actual") == 0
        vm.balloon(256 * MiB)
        settle(vm, 256 * MiB)
        assert vm.shell.sysctl("hw.viomb.actual") == 196608
        assert vm.shell.sysctl("hw.viomb.npages") == 196608
        wait_event(vm, 256 * MiB)
        vm.balloon(GiB)
        settle(vm, GiB)
        assert vm.shell.sysctl("hw.viomb.actual") == 0
        wait_event(vm, GiB)


def wait_event(vm, logical):
    """The last BALLOON_CHANGE event comes and tells `logical`.

    QEMU sends at most one a second and drops all but the latest of those
    that come faster, so only the last one is certain.
    """
    wait_until(lambda: vm.qmp.balloon_changes()[-1:] == [logical], 30, 0.2,
               "a BALLOON_CHANGE event of %d MiB" % (logical // MiB))


def test_resize_pci():
    resize("pci")


def test_resize_pci_legacy():
    resize("pci-legacy")


def test_resize_mmio():
    resize("mmio")


# --- (b) the host gets memory back -------------------------------------

def test_host_reclaim():
    """Pages the guest dirtied, freed and ballooned leave QEMU's RSS.

    What is fair to expect: QEMU's RSS only counts guest pages that were
    ever written; inflating discards (MADV_DONTNEED) exactly the ballooned
    pages, so RSS falls by the ballooned pages that were resident, and
    never by more than min(dirtied, ballooned).  Which free pages the
    balloon gets is the guest allocator's choice.  Whatever it picks, the
    balloon holds at least ballooned - (free - dirtied) dirty pages; ours
    (guest/pmem.c) allocates first fit from the lowest free address, and
    `mem touch` took the lowest free pages, so after `mem free` the balloon
    takes those same pages first and min(dirtied, ballooned) is reached.
    "dirtied" is measured as the RSS growth caused by `mem touch`, not
    assumed to be 600 MiB; 5% is left for QEMU's own allocations (TCG code,
    virtqueue buffers) moving while we measure.
    """
    with guest("pci") as vm:
        rss0 = vm.rss()
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched \d+ pages \(600 MiB\), held \d+",
                        out[0]), out
        rss1 = vm.rss()
        dirtied = rss1 - rss0
        assert dirtied >= 550 * MiB, "touching 600 MiB grew RSS by %d MiB" \
            % (dirtied // MiB)
        out = vm.shell.run("mem free")
        assert re.match(r"mem: freed \d+ pages", out[0]), out
        assert vm.shell.mem()["held"] == 0
        rss2 = vm.rss()
        vm.balloon(256 * MiB)
        settle(vm, 256 * MiB)
        rss3 = vm.rss()
        ballooned = GiB - 256 * MiB
        fair = min(dirtied, ballooned)
        drop = rss2 - rss3
        print("rss: %d MiB, touched %d, freed %d, ballooned %d MiB; "
              "dirtied %d MiB, drop %d MiB, fair %d MiB" %
              (rss0 // MiB, rss1 // MiB, rss2 // MiB, rss3 // MiB,
               dirtied // MiB, drop // MiB, fair // MiB))
        assert drop >= 0.95 * fair, "RSS fell by %d MiB, expected >= %d" \
            % (drop // MiB, 0.95 * fair // MiB)


# --- (b2) only pages that held guest data are zeroed -------------------

def zero_counts(vm):
    """(vm.stats.zeroed_pages, vm.stats.zero_skipped)."""
    return (vm.shell.sysctl("vm.stats.zeroed_pages"),
            vm.shell.sysctl("vm.stats.zero_skipped"))


def test_zero_dirty_only():
    """After a cold boot only the pages that held data are zeroed.

    `mem touch 600M` dirties 153600 pages and `mem free` frees them: they
    are dirty until the guest's idle time zeroes them (test_idle_zeroing),
    which may have begun before the inflate.  Inflating to 256 MiB takes
    196608 pages, those first (first fit, see test_host_reclaim): each was
    zeroed, in idle time or on its way out, QEMU discards them and RSS
    falls as before; the rest were never written and leave without being
    touched.  Pages back from the host are clean: inflating again zeroes
    none.
    """
    with guest("pci") as vm:
        assert vm.shell.sysctl("vm.warm_boot") == 0
        assert vm.shell.sysctl("vm.zero_always") == 0
        rss0 = vm.rss()
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 153600 pages", out[0]), out
        dirtied = vm.rss() - rss0
        vm.shell.run("mem free")
        rss2 = vm.rss()
        vm.balloon(256 * MiB)
        settle(vm, 256 * MiB)
        drop = rss2 - vm.rss()
        zeroed, skipped = zero_counts(vm)
        idle = vm.shell.sysctl("vm.stats.idle_zeroed_pages")
        print("zeroed %d, skipped %d, in idle time %d; dirtied %d MiB, "
              "RSS drop %d MiB" % (zeroed, skipped, idle, dirtied // MiB,
                                   drop // MiB))
        assert zeroed + skipped == 196608, (zeroed, skipped)
        assert zeroed < 196608, (zeroed, skipped)
        assert zeroed + idle >= 153600, (zeroed, idle)
        assert drop >= 0.95 * min(dirtied, GiB - 256 * MiB), drop // MiB
        vm.balloon(GiB)
        settle(vm, GiB)
        vm.balloon(256 * MiB)
        settle(vm, 256 * MiB)
        assert zero_counts(vm) == (zeroed, skipped + 196608), \
            (zero_counts(vm), zeroed, skipped)


def pages_written(vm, start, size):
    """How many of the 4 KiB pages of guest-physical [start, start + size)
    hold anything but zeroes, as QEMU sees guest memory (pmemsave)."""
    with tempfile.TemporaryDirectory(prefix="ballonet-pmem-") as d:
        path = os.path.join(d, "dump")
        vm.qmp.execute("pmemsave", val=start, size=size, filename=path)
        with open(path, "rb") as f:
            data = f.read()
    assert len(data) == size, len(data)
    zero = bytes(PAGE)
    return sum(data[i:i + PAGE] != zero for i in range(0, size, PAGE))


def test_idle_zeroing():
    """Pages freed after use are zeroed in idle time, before any inflate.

    `mem touch 100M` writes two words into each of 25600 pages, the first
    free ones (from about 2 MiB up); `mem free` frees them.  Left idle,
    the guest zeroes them all (vm.stats.idle_zeroed_pages) while the
    balloon does not move: QEMU's view of a window inside them shows every
    page written before and every page zero after.  The inflate that
    follows then has none left to zero itself, and QEMU's RSS still falls
    by what was dirtied.
    """
    window = (16 * MiB, 16 * MiB)     # start, size
    with guest("pci") as vm:
        idle0 = vm.shell.sysctl("vm.stats.idle_zeroed_pages")
        rss0 = vm.rss()
        out = vm.shell.run("mem touch 100M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 25600 pages", out[0]), out
        dirtied = vm.rss() - rss0
        assert pages_written(vm, *window) == window[1] // PAGE
        vm.shell.run("mem free")
        wait_until(lambda: vm.shell.sysctl("vm.stats.idle_zeroed_pages") >=
                   idle0 + 25600, TIMEOUT, 0.2, "idle zeroing")
        assert pages_written(vm, *window) == 0
        assert vm.logical() == GiB
        rss1 = vm.rss()
        vm.balloon(768 * MiB)
        settle(vm, 768 * MiB)
        zeroed, skipped = zero_counts(vm)
        drop = rss1 - vm.rss()
        print("idle zeroed %d; balloon zeroed %d, skipped %d; dirtied %d "
              "MiB, RSS drop %d MiB" % (
                  vm.shell.sysctl("vm.stats.idle_zeroed_pages") - idle0,
                  zeroed, skipped, dirtied // MiB, drop // MiB))
        assert (zeroed, skipped) == (0, 65536), (zeroed, skipped)
        assert drop >= 0.95 * dirtied, (drop // MiB, dirtied // MiB)


def test_zero_always():
    """Boot option zero=always: no page leaves unzeroed by the port."""
    with Vm(memory="1G", transport="pci", append="zero=always",
            lifetime=300) as vm:
        vm.boot(timeout=TIMEOUT)
        assert vm.shell.sysctl("vm.zero_always") == 1
        vm.balloon(768 * MiB)
        settle(vm, 768 * MiB)
        assert zero_counts(vm) == (65536, 0), zero_counts(vm)


def test_warm_reset_zeroes_all():
    """system_reset keeps RAM: the guest sees a warm boot, zeroes all."""
    with guest("pci") as vm:
        out = vm.shell.run("mem touch 100M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 25600 pages", out[0]), out
        vm.shell.run("mem free")
        since = len(vm.shell.raw)
        vm.qmp.execute("system_reset")
        vm.shell.wait_ready(TIMEOUT, since=since)
        assert "pmem: warm boot, zeroing every page" in \
            vm.shell.raw[since:], vm.shell.raw[since:][-2000:]
        assert vm.shell.sysctl("vm.warm_boot") == 1
        assert zero_counts(vm) == (0, 0)
        vm.balloon(256 * MiB)
        settle(vm, 256 * MiB)
        assert zero_counts(vm) == (196608, 0), zero_counts(vm)


# --- (c) a request reversed while the balloon inflates -----------------

def test_reversal_mid_flight():
    with guest("pci") as vm:
        before = vm.shell.mem()
        vm.balloon(128 * MiB)
        # Reverse a quarter of the way: well under way, far from done.
        wait_until(lambda: vm.logical() <= 768 * MiB, TIMEOUT, 0.01,
                   "inflating to pass 768 MiB")
        vm.balloon(GiB)
        at_reversal = vm.logical()
        print("reversed at logical %d MiB" % (at_reversal // MiB))
        settle(vm, GiB)
        after = vm.shell.mem()
        assert after["balloon"] == 0, after
        assert after["held"] == before["held"], (before, after)
        assert after["total"] == before["total"], (before, after)
        # Nothing lost: every page came back to the free pool, give or take
        # the engine's own reserve (BN_SAFEGUARD_EXTRA, 256 pages).
        assert abs(after["free"] - before["free"]) <= 256, (before, after)
        # Check that it really was mid-flight (else the test proves less).
        assert 128 * MiB < at_reversal < GiB, at_reversal


# --- (d) more than the RAM ---------------------------------------------

def test_request_above_ram():
    """QEMU clamps a logical size above RAM to RAM: the balloon empties."""
    with guest("pci-legacy") as vm:
        vm.balloon(512 * MiB)
        settle(vm, 512 * MiB)
        vm.balloon(2 * GiB)
        settle(vm, GiB)
        assert vm.shell.sysctl("hw.viomb.npages") == 0


# --- (e) the host asks for less than the guest's minimum ---------------

def test_request_below_min():
    """The host asks for less than min: the guest stops at min and warns."""
    with guest("mmio") as vm:
        old = vm.shell.sysctl("hw.viomb.min")
        line = vm.shell.sysctl_write("hw.viomb.min", 524288)
        assert line == "hw.viomb.min: %d -> 524288" % old, line
        vm.balloon(256 * MiB)
        msg = vm.shell.wait_message(
            r"WARNING: balloon could not reach target", TIMEOUT)
        print("guest said: " + msg)
        wait_guest(vm, "hw.viomb.current", 524288)  # held at current = min
        pages = vm.shell.sysctl("hw.viomb.actual")
        wait_until(lambda: vm.guest_pages() == pages, TIMEOUT, 0.2,
                   "query-balloon to show the guest's %d pages" % pages)
        check_nodes(vm, pages)
        assert vm.shell.sysctl("hw.viomb.npages") == 196608  # still asked
        vm.balloon(GiB)
        settle(vm, GiB)


# --- (f) the guest balloons of its own accord --------------------------

def test_voluntary():
    with guest("pci") as vm:
        old = vm.shell.sysctl("hw.viomb.target")
        line = vm.shell.sysctl_write("hw.viomb.target", 524288)
        assert line == "hw.viomb.target: %d -> 524288" % old, line
        wait_until(lambda: vm.shell.sysctl("hw.viomb.current") == 524288,
                   TIMEOUT, 0.5, "guest hw.viomb.current == 524288")
        pages = vm.shell.sysctl("hw.viomb.actual")
        wait_until(lambda: vm.guest_pages() == pages, TIMEOUT, 0.2,
                   "query-balloon to show the guest's %d pages" % pages)
        check_nodes(vm, pages)
        assert vm.shell.sysctl("hw.balloon.target") == 524288
        assert vm.shell.sysctl("hw.viomb.npages") == 0  # host asked nothing
        # The specification: 1 GiB guest, target 512 MiB -> 131072 pages,
        # query-balloon 512 MiB (fails while max is not the host's RAM).
        assert (pages, vm.logical()) == (131072, 512 * MiB), \
            "balloon %d pages, query-balloon %d KiB" % (pages,
                                                        vm.logical() // KiB)
        line = vm.shell.sysctl_write("hw.balloon.target", old)
        assert line == "hw.balloon.target: 524288 -> %d" % old, line
        settle(vm, GiB)


def test_sizes_agree():
    """The guest's max is the host's RAM, current its logical size."""
    with guest("pci") as vm:
        vm.balloon(768 * MiB)
        vm.wait_logical(768 * MiB, TIMEOUT)
        nodes = balloon_nodes(vm)
        assert (nodes["hw.viomb.max"], nodes["hw.viomb.current"]) == \
            (GiB // KiB, 768 * MiB // KiB), \
            "guest max %d KiB current %d KiB; host RAM %d KiB logical %d " \
            "KiB" % (nodes["hw.viomb.max"], nodes["hw.viomb.current"],
                     GiB // KiB, vm.logical() // KiB)


# --- (g) refused writes change nothing ---------------------------------

def test_sysctl_errors():
    with guest("pci") as vm:
        before = balloon_nodes(vm)
        for prefix in ("hw.viomb", "hw.balloon"):
            for node in NODES:
                assert prefix + "." + node in before, (node, before)
        safeguard = before["hw.viomb.min"]  # the initial min
        ram = before["hw.viomb.max"]
        assert 0 < ram <= GiB // KiB, before
        assert 0 < safeguard < ram, before
        cases = []
        for p in ("hw.viomb", "hw.balloon"):
            cases += [
                (p + ".target", safeguard - 4, EPERM),   # below min
                (p + ".target", ram + 4, EPERM),         # above max
                (p + ".min", safeguard - 4, EPERM),      # below safeguard
            ] + [
                (p + "." + node, before[p + "." + node] + 4, EPERM)
                for node in RO_NODES                     # read-only
            ] + [
                (p + ".target", "12abc", "invalid value '12abc'"),
                (p + ".min", "abc", "invalid value 'abc'"),
                (p + ".target", "-4", "invalid value '-4'"),
                (p + ".nosuch", 4, ENOENT),
            ]
        for name, value, error in cases:
            line = vm.shell.sysctl_write(name, value)
            assert line == "sysctl: %s: %s" % (name, error), \
                "sysctl -w %s=%s said %r" % (name, value, line)
            now = balloon_nodes(vm)
            assert now == before, "sysctl -w %s=%s changed %r" % (
                name, value, {k: (before.get(k), now.get(k))
                              for k in set(before) | set(now)
                              if before.get(k) != now.get(k)})
        out = vm.shell.run("sysctl hw.viomb.nosuch")
        assert out == ["sysctl: hw.viomb.nosuch: " + ENOENT], out
        assert vm.logical() == GiB


def test_mem_sizes():
    """The guest reads sizes as the host's ballonet(1) does: a bare number
    is MiB, B is bytes, K/M/G are powers of 1024; anything else is
    refused with one line and takes nothing."""
    with guest("pci") as vm:
        for size, pages, mib in (("2", 512, 2), ("2M", 512, 2),
                                 ("4096B", 1, 0), ("8K", 2, 0)):
            out = vm.shell.run("mem touch " + size)
            assert out[-1].startswith("mem: touched %d pages (%d MiB)" %
                                      (pages, mib)), (size, out)
            vm.shell.run("mem free")
        for bad in ("12x", "-1", "1MiBs", "99999999999999999999", "1Bi"):
            out = vm.shell.run("mem touch " + bad)
            assert out == ["mem: bad size '%s'" % bad], (bad, out)
        out = vm.shell.run("mem")
        assert re.match(r"mem: total \d+ pages, free \d+, held 0, "
                        r"balloon 0, hotplugged 0, hot free 0$", out[-1]), out


# --- (h) the balloon's interrupts are counted --------------------------

def balloon_interrupts(vm):
    """Interrupt count of the balloon in `intr`'s output."""
    out = vm.shell.run("intr")
    # "source line count stray": "viomb0     gsi 16 level     5     0".
    counts = [int(line.split()[-2]) for line in out
              if re.match(r"(viomb|balloon)\d+\s", line)]
    assert counts, "no balloon line in intr: %r" % (out,)
    return sum(counts)


def interrupts(transport):
    with guest(transport) as vm:
        before = balloon_interrupts(vm)
        vm.balloon(768 * MiB)
        settle(vm, 768 * MiB)
        after = balloon_interrupts(vm)
        assert after > 0 and after > before, (before, after)


def test_interrupts_pci():
    interrupts("pci")


def test_interrupts_pci_legacy():
    interrupts("pci-legacy")


def test_interrupts_mmio():
    interrupts("mmio")


# --- (i) a big guest ----------------------------------------------------

def test_big_guest():
    """A 16 GiB guest boots and gives 1 GiB back, then takes it again."""
    with guest("pci", memory="16G", lifetime=600) as vm:
        vm.balloon(15 * GiB)
        settle(vm, 15 * GiB)
        assert vm.shell.sysctl("hw.viomb.actual") == 262144
        vm.balloon(16 * GiB)
        settle(vm, 16 * GiB)


test_big_guest.timeout = 600
test_big_guest.exclusive = True  # alone, even with -j 2: it may use GiBs


# --- the books, audited inside the guest --------------------------------

def test_debug_guest_audit():
    """The GUEST_DEBUG build checks free + ballooned + in use = total, no
    frame both free and ballooned, and the engine's own books after every
    run of the engine; a whole workload must not make it complain."""
    with Vm(memory="1G", transport="pci", kernel=DEBUG_GUEST,
            lifetime=300) as vm:
        vm.boot(timeout=TIMEOUT)
        assert "audit: the balloon's books are checked" in vm.shell.raw
        vm.shell.run("mem touch 300M")
        vm.shell.run("mem free")
        vm.balloon(256 * MiB)
        wait_until(lambda: vm.logical() <= 700 * MiB, TIMEOUT, 0.01,
                   "inflating to pass 700 MiB")
        vm.balloon(GiB)                       # reversed mid-flight
        settle(vm, GiB)
        vm.shell.sysctl_write("hw.viomb.target", 524288)
        wait_guest(vm, "hw.viomb.actual", 131072)
        vm.shell.sysctl_write("hw.viomb.target", 1048576)
        wait_guest(vm, "hw.viomb.actual", 0)
        # The audit's complaints are "viomb0: audit: ..." messages.
        audits = [m for m in vm.shell.messages if "audit:" in m]
        assert not audits, audits
        # BN_DEBUG: the engine says what each request did.
        assert any(re.search(r"viomb0: inflate of \d+ pages: \d+ "
                             r"acknowledged", m) for m in vm.shell.messages)

