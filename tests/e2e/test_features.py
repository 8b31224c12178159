"""The balloon's optional features against real QEMU 7.2 (TCG): memory
statistics (STATS_VQ), deflate on OOM (DEFLATE_ON_OOM), free page
reporting (REPORTING) and page poison (PAGE_POISON).  Each test adds its
own balloon device with the properties it needs; the guest negotiates what
the device offers.

Units: QMP speaks of the guest's logical size in bytes; the guest's
hw.viomb.* counters are 4 KiB pages; vm.stats.* are pages of the guest's
allocator.  No test asserts a duration: each waits for a state.
"""

import contextlib
import re
import time

from harness import GiB, MiB, PAGE, Vm, wait_until

TIMEOUT = 120  # seconds to wait for any state change under TCG
QOM = "/machine/peripheral/b0"
F_STATS, F_OOM, F_REPORTING = 1 << 1, 1 << 2, 1 << 5
ABSENT = (1 << 64) - 1  # guest-stats' value of a statistic never sent


@contextlib.contextmanager
def guest(props="", memory="1G", lifetime=300, append=None):
    """A q35 guest with `-device virtio-balloon-pci,id=b0<props>`, booted
    with the command line `append`."""
    dev = "virtio-balloon-pci,id=b0" + props
    with Vm(memory=memory, transport="none", extra=["-device", dev],
            lifetime=lifetime, append=append) as vm:
        vm.boot(timeout=TIMEOUT)
        yield vm


def free_pages(vm):
    return vm.shell.sysctl("vm.stats.free_pages")


def stats(vm):
    """qom-get guest-stats: ({name: value}, last-update)."""
    r = vm.qmp.execute("qom-get", path=QOM, property="guest-stats")
    return r["stats"], r["last-update"]


def wait_stats_free(vm, pages):
    """Wait until the host's stat-free-memory is `pages` of the guest's."""
    def fresh():
        s, _ = stats(vm)
        return s if s["stat-free-memory"] == pages * PAGE else None
    return wait_until(fresh, TIMEOUT, 0.5, "stat-free-memory == %d pages "
                      "(last %r)" % (pages, stats(vm)[0]))


# --- STATS_VQ ---------------------------------------------------------

def test_stats():
    """Stats follow the guest's counters when it dirties and frees."""
    with guest() as vm:
        assert vm.shell.sysctl("hw.viomb.features") & F_STATS
        vm.qmp.execute("qom-set", path=QOM,
                       property="guest-stats-polling-interval", value=1)
        total = vm.shell.sysctl("vm.stats.total_pages")
        free0 = free_pages(vm)
        s0 = wait_stats_free(vm, free0)
        assert s0["stat-total-memory"] == total * PAGE, s0
        assert s0["stat-available-memory"] == free0 * PAGE, s0
        # What the guest cannot know is absent, not invented: QEMU shows
        # -1 (as an unsigned 64-bit number).
        for name in ("stat-swap-in", "stat-swap-out", "stat-major-faults",
                     "stat-minor-faults", "stat-disk-caches"):
            assert s0[name] in (-1, ABSENT), (name, s0)

        out = vm.shell.run("mem touch 200M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 51200 pages", out[-1]), out
        free1 = free_pages(vm)
        assert free1 <= free0 - 51200
        s1 = wait_stats_free(vm, free1)
        assert s1["stat-available-memory"] == free1 * PAGE, s1

        vm.shell.run("mem free", timeout=TIMEOUT)
        free2 = free_pages(vm)
        assert free2 == free0
        s2 = wait_stats_free(vm, free2)
        assert s2["stat-total-memory"] == total * PAGE, s2
        updates = vm.shell.sysctl("hw.viomb.stats_updates")
        assert updates >= 3, updates
        print("stats: free %d -> %d -> %d MiB, total %d MiB, %d updates" %
              (s0["stat-free-memory"] // MiB, s1["stat-free-memory"] // MiB,
               s2["stat-free-memory"] // MiB, total * PAGE // MiB, updates))


# --- DEFLATE_ON_OOM -----------------------------------------------------

def test_deflate_on_oom():
    """Ballooned to 256 MiB, the guest still gets 600 MiB: the balloon
    gives pages back and query-balloon's logical size grows."""
    with guest(",deflate-on-oom=on") as vm:
        assert vm.shell.sysctl("hw.viomb.features") & F_OOM
        vm.balloon(256 * MiB)
        vm.wait_logical(256 * MiB, TIMEOUT)
        wait_until(lambda: vm.shell.sysctl("hw.viomb.actual") ==
                   (GiB - 256 * MiB) // PAGE, TIMEOUT, 0.5, "inflated")
        before = vm.shell.sysctl("hw.viomb.actual")
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 153600 pages \(600 MiB\)", out[-1]), out
        after = vm.shell.sysctl("hw.viomb.actual")
        taken = vm.shell.sysctl("hw.viomb.oom_deflated")
        assert after < before and before - after == taken, (before, after)
        # The balloon stays smaller: QEMU sees the guest grow.
        want = GiB - after * PAGE
        vm.wait_logical(want, TIMEOUT)
        assert vm.logical() > 256 * MiB + 300 * MiB
        print("oom: balloon %d -> %d pages, %d taken back; logical %d MiB" %
              (before, after, taken, want // MiB))
        out = vm.shell.run("mem free", timeout=TIMEOUT)
        assert re.match(r"mem: freed 153600 pages", out[-1]), out


def test_no_deflate_on_oom():
    """Without DEFLATE_ON_OOM the allocation fails cleanly: the balloon
    keeps every page and the pages taken are given back."""
    with guest(",deflate-on-oom=off") as vm:
        assert not vm.shell.sysctl("hw.viomb.features") & F_OOM
        vm.balloon(256 * MiB)
        vm.wait_logical(256 * MiB, TIMEOUT)
        pages = (GiB - 256 * MiB) // PAGE
        wait_until(lambda: vm.shell.sysctl("hw.viomb.actual") == pages,
                   TIMEOUT, 0.5, "inflated")
        free0 = free_pages(vm)
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: out of memory after \d+ of 153600 pages; "
                        r"released them, held 0", out[-1]), out
        assert free_pages(vm) == free0          # nothing leaked
        assert vm.shell.sysctl("hw.viomb.actual") == pages
        assert vm.shell.sysctl("hw.viomb.oom_deflated") == 0
        assert vm.logical() == 256 * MiB
        print("no oom: %s; free %d pages before and after" % (out[-1], free0))


# --- REPORTING ----------------------------------------------------------

def touch_and_report(vm, mib):
    """mem touch MIB, mem free, and wait until reporting has taken 90% of
    what that dirtied out of QEMU's RSS.  Returns the RSS before, after
    touching and after reporting, and the bytes reported."""
    rss0 = vm.rss()
    out = vm.shell.run("mem touch %dM" % mib, timeout=TIMEOUT)
    assert re.match(r"mem: touched %d pages" % (mib * MiB // PAGE),
                    out[-1]), out
    rss1 = vm.rss()
    dirtied = rss1 - rss0
    assert dirtied >= 0.8 * mib * MiB, (rss0, rss1)
    vm.shell.run("mem free", timeout=TIMEOUT)
    wait_until(lambda: vm.rss() <= rss1 - 0.9 * dirtied, TIMEOUT, 0.5,
               "RSS to fall by 90%% of %d MiB (now %d MiB)" %
               (dirtied // MiB, vm.rss() // MiB))
    reported = vm.shell.sysctl("hw.viomb.reported") * PAGE
    assert reported >= 0.9 * dirtied, reported
    return rss0, rss1, vm.rss(), reported


def test_free_page_reporting():
    """Dirtied and freed memory leaves QEMU's RSS without ballooning."""
    with guest(",free-page-reporting=on") as vm:
        assert vm.shell.sysctl("hw.viomb.features") & F_REPORTING
        rss0, rss1, rss2, reported = touch_and_report(vm, 600)
        assert vm.logical() == GiB                # the balloon took nothing
        assert vm.shell.sysctl("hw.viomb.actual") == 0
        # The memory is the guest's again: it can use all of it.
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 153600 pages", out[-1]), out
        print("reporting: rss %d -> %d -> %d MiB, %d MiB reported" %
              (rss0 // MiB, rss1 // MiB, rss2 // MiB, reported // MiB))


# --- PAGE_POISON --------------------------------------------------------

F_POISON = 1 << 4
POISON = 0xaaaaaaaa  # poison=0xaa, four times: the guest's poison_val
POISON_DEV = ",page-poison=on,free-page-reporting=on"


def settle(vm, free0):
    """Wait until every page is back in the allocator (deflated, reports
    acknowledged) and no report pass is left to run: free pages are
    `free0` and hw.viomb.reported holds still for longer than a pass."""
    wait_until(lambda: free_pages(vm) == free0, TIMEOUT, 0.5,
               "vm.stats.free_pages == %d (now %d)" % (free0, free_pages(vm)))
    last = [vm.shell.sysctl("hw.viomb.reported"), time.monotonic()]

    def still():
        now = vm.shell.sysctl("hw.viomb.reported")
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return free_pages(vm) == free0 and time.monotonic() - last[1] > 3
    wait_until(still, TIMEOUT, 0.5, "reporting to settle")


def test_page_poison():
    """poison=0xaa: the guest poisons what it frees and says so.  QEMU
    keeps reported pages (their content is not zero), so its RSS stays;
    pages the balloon gives back carry the poison when handed out."""
    with guest(POISON_DEV, append="poison=0xaa") as vm:
        feats = vm.shell.sysctl("hw.viomb.features")
        assert feats & F_POISON and feats & F_REPORTING, feats
        assert vm.shell.sysctl("vm.poison") == 1
        assert vm.shell.sysctl("vm.poison_val") == POISON
        vm.shell.run("info")
        vm.shell.wait_message(r"viomb0: page poison 0xaaaaaaaa")
        free0 = free_pages(vm)

        # Reporting: counted, but QEMU keeps the (poisoned) memory.
        rss0 = vm.rss()
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 153600 pages .*, 0 poisoned$",
                        out[-1]), out  # never used since boot: zero
        rss1 = vm.rss()
        dirtied = rss1 - rss0
        assert dirtied >= 500 * MiB, (rss0, rss1)
        vm.shell.run("mem free", timeout=TIMEOUT)
        wait_until(lambda: vm.shell.sysctl("hw.viomb.reported") >= 153600,
                   TIMEOUT, 0.5, "600 MiB reported")
        settle(vm, free0)
        rss2 = vm.rss()
        reported = vm.shell.sysctl("hw.viomb.reported")
        assert rss2 >= rss1 - 0.1 * dirtied, (rss1 // MiB, rss2 // MiB)

        # Balloon down and up: deflated pages come back poisoned.
        vm.balloon(256 * MiB)
        vm.wait_logical(256 * MiB, TIMEOUT)
        pages = (GiB - 256 * MiB) // PAGE
        wait_until(lambda: vm.shell.sysctl("hw.viomb.actual") == pages,
                   TIMEOUT, 0.5, "inflated")
        rss3 = vm.rss()
        assert rss3 <= rss2 - 500 * MiB, (rss2 // MiB, rss3 // MiB)
        vm.balloon(GiB)
        vm.wait_logical(GiB, TIMEOUT)
        wait_until(lambda: vm.shell.sysctl("hw.viomb.actual") == 0,
                   TIMEOUT, 0.5, "deflated")
        settle(vm, free0)
        # The lowest free pages are the ones the balloon held and gave
        # back (the allocator is first fit): every one is poisoned.
        out = vm.shell.run("mem touch 600M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 153600 pages .*, 153600 poisoned$",
                        out[-1]), out
        vm.shell.run("mem free", timeout=TIMEOUT)
        print("poison: rss %d -> %d -> %d MiB after reporting %d MiB; "
              "ballooned to %d MiB, back: %s" %
              (rss0 // MiB, rss1 // MiB, rss2 // MiB, reported * PAGE // MiB,
               rss3 // MiB, out[-1]))


def test_no_page_poison():
    """Without poison= the guest refuses PAGE_POISON; with it, a device
    without PAGE_POISON gets no REPORTING (its reports would be zeroed)."""
    with guest(POISON_DEV) as vm:
        feats = vm.shell.sysctl("hw.viomb.features")
        assert not feats & F_POISON and feats & F_REPORTING, feats
        assert vm.shell.sysctl("vm.poison") == 0
        assert vm.shell.sysctl("vm.poison_val") == 0
        out = vm.shell.run("mem touch 4M", timeout=TIMEOUT)
        assert re.match(r"mem: touched 1024 pages \(4 MiB\), held 1024$",
                        out[-1]), out
    with guest(",page-poison=off,free-page-reporting=on",
               append="poison=0xaa") as vm:
        feats = vm.shell.sysctl("hw.viomb.features")
        assert not feats & (F_POISON | F_REPORTING), feats
        assert vm.shell.sysctl("vm.poison_val") == POISON
        print("no poison: features 0x%x" % feats)
