"""The guest's `wave` command: a memory demand that follows a schedule
(the workload of make bench-policy), against real QEMU."""

import contextlib
import re

from harness import MiB, PAGE, Vm, wait_until

TIMEOUT = 180
STATUS = re.compile(r"wave: (running|stopped), demand (\d+) MiB, held (\d+) "
                    r"MiB, steps (\d+), failures (\d+), waited (\d+) ms, "
                    r"reaction median (\d+) ms")
STEP = re.compile(r"wave: step to (\d+) MiB met in (\d+) ms, available in "
                  r"(\d+) ms(?:, own free memory used up in (\d+) ms)?")


@contextlib.contextmanager
def guest(props, memory="512M"):
    dev = "virtio-balloon-pci,id=b0" + props
    with Vm(memory=memory, transport="none", extra=["-device", dev],
            lifetime=TIMEOUT + 60) as vm:
        vm.boot(timeout=TIMEOUT)
        yield vm


def status(vm):
    out = vm.shell.run("wave", timeout=TIMEOUT)
    m = STATUS.match(out[-1])
    assert m, out
    state, *nums = m.groups()
    return (state,) + tuple(int(n) for n in nums)


def free_pages(vm):
    return vm.shell.sysctl("vm.stats.free_pages")


def test_wave_follows_demand():
    """Demand 160 MiB then 40 MiB every 4 s: the guest holds what the
    schedule asks, meets each step up, and gives everything back."""
    with guest(",deflate-on-oom=on") as vm:
        free0 = free_pages(vm)
        out = vm.shell.run("wave 4 160M 40M", timeout=TIMEOUT)
        assert out[-1] == "wave: every 4 s 160 MiB then 40 MiB, phase 0 s", out
        # Three periods later: three steps up met, none failed.
        wait_until(lambda: status(vm)[3] >= 3, TIMEOUT, 1.0, "three steps")
        assert "wave: step to 160 MiB met in" in vm.shell.raw
        # Nothing ballooned: the memory is free before each step, so it is
        # available at once, and the guest never runs out of its own free
        # memory; meeting it is writing to it.
        for mib, met, avail, dry in STEP.findall(vm.shell.raw):
            assert int(avail) == 0 and int(met) >= 0, (mib, met, avail)
            assert dry == "", (mib, met, avail, dry)
        state, demand, held, steps, failures, waited, median = status(vm)
        assert state == "running" and demand in (40, 160), status(vm)
        assert failures == 0, status(vm)
        # It is 160 MiB or 40 MiB whenever it is looked at, give or take
        # a step being met right now.
        wait_until(lambda: free_pages(vm) <= free0 - 150 * MiB // PAGE,
                   TIMEOUT, 0.2, "160 MiB held")
        wait_until(lambda: free_pages(vm) >= free0 - 50 * MiB // PAGE,
                   TIMEOUT, 0.2, "40 MiB held")
        out = vm.shell.run("wave stop", timeout=TIMEOUT)
        assert STATUS.match(out[-1]).group(1) == "stopped", out
        assert free_pages(vm) == free0            # nothing leaked
        print("wave: %d steps, reaction median %d ms, waited %d ms" %
              (steps, median, waited))


def test_wave_counts_what_it_could_not_get():
    """Ballooned to 128 MiB without DEFLATE_ON_OOM, a 200 MiB demand
    cannot be met: failures and waiting are counted, the balloon keeps
    its pages, and stopping gives back every page the wave held."""
    with guest(",deflate-on-oom=off") as vm:
        vm.balloon(128 * MiB)
        vm.wait_logical(128 * MiB, TIMEOUT)
        pages = (512 - 128) * MiB // PAGE
        wait_until(lambda: vm.shell.sysctl("hw.viomb.actual") == pages,
                   TIMEOUT, 0.5, "inflated")
        free0 = free_pages(vm)
        vm.shell.run("wave 6 200M 0M", timeout=TIMEOUT)
        wait_until(lambda: status(vm)[4] > 0, TIMEOUT, 0.5, "a failure")
        state, demand, held, steps, failures, waited, median = status(vm)
        assert held < 200 and failures > 0, status(vm)
        assert vm.shell.sysctl("hw.viomb.actual") == pages
        vm.shell.run("wave stop", timeout=TIMEOUT)
        assert free_pages(vm) == free0
        print("starved wave: held %d MiB, %d failures, waited %d ms" %
              (held, failures, waited))


def test_wave_available_from_the_balloon():
    """Ballooned to 128 MiB with DEFLATE_ON_OOM, a 200 MiB demand is met
    from the balloon: the memory is not free at the step, so it becomes
    available only once the guest took it back, and no later than met.
    Its own free memory ran out first: only then could the balloon help."""
    with guest(",deflate-on-oom=on") as vm:
        vm.balloon(128 * MiB)
        vm.wait_logical(128 * MiB, TIMEOUT)
        vm.shell.run("wave 6 200M 0M", timeout=TIMEOUT)
        wait_until(lambda: vm.shell.run("wave", timeout=TIMEOUT) and
                   STEP.search(vm.shell.raw), TIMEOUT, 0.5, "a step met")
        mib, met, avail, dry = STEP.search(vm.shell.raw).groups()
        assert int(mib) == 200
        assert 0 < int(avail) <= int(met), (met, avail)
        assert dry is not None and int(dry) <= int(avail), (dry, avail)
        assert vm.shell.sysctl("hw.balloon.oom_deflated") > 0
        vm.shell.run("wave stop", timeout=TIMEOUT)


def test_wave_bad_arguments():
    with guest("") as vm:
        for args in ("wave 1 100M 10M", "wave 4 10M 100M", "wave x 1M 1M",
                     "wave 4 1Q 1M", "wave 4 1M 1M 9x"):
            out = vm.shell.run(args, timeout=TIMEOUT)
            assert out[-1].startswith("wave: bad arguments"), (args, out)
        assert status(vm)[0] == "stopped"
