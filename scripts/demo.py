#!/usr/bin/env python3
"""Demo for a person watching: boot the reference guest (1 GiB, q35), show
both sides of the balloon, shrink the guest to 256 MiB and grow it back.

Uses the e2e harness (tests/e2e/harness.py); scripts/demo.sh runs this when
the operator tool build/ballonet is not there.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
import harness  # noqa: E402
from harness import GiB, MiB, PAGE, Vm  # noqa: E402

STEP = 0.5  # seconds between progress lines


def say(text=""):
    print(text, flush=True)


def show_both_sides(vm):
    say("  host:  query-balloon -> actual %d MiB (the guest's logical size)"
        % (vm.logical() // MiB))
    for line in vm.shell.run("sysctl -a"):
        if line.startswith("hw.viomb."):
            say("  guest: " + line)
    say("  QEMU RSS: %d MiB" % (vm.rss() // MiB))


def watch(vm, target, timeout=120):
    """Print progress every STEP seconds until query-balloon says target."""
    start = time.monotonic()
    while True:
        logical = vm.logical()
        say("  %5.1f s  logical %5d MiB  balloon %6d pages  QEMU RSS %5d MiB"
            % (time.monotonic() - start, logical // MiB,
               (vm.memory - logical) // PAGE, vm.rss() // MiB))
        if logical == target:
            return
        if time.monotonic() - start > timeout:
            raise harness.HarnessError("the balloon did not reach %d MiB"
                                       % (target // MiB))
        time.sleep(STEP)


def main():
    say("== booting the reference guest: 1 GiB, q35, virtio-balloon-pci")
    with Vm(memory="1G", transport="pci", lifetime=300) as vm:
        vm.boot()
        say("  guest says: " + vm.shell.READY)
        show_both_sides(vm)

        say("\n== the guest dirties 512 MiB and frees it (so the host sees "
            "RSS fall)")
        for cmd in ("mem touch 512M", "mem free"):
            say("  ballonet# %s\n  %s" % (cmd, "\n  ".join(
                vm.shell.run(cmd, timeout=120))))
        say("  QEMU RSS: %d MiB" % (vm.rss() // MiB))

        say("\n== QMP balloon 256 MiB: the guest inflates its balloon")
        vm.balloon(256 * MiB)
        watch(vm, 256 * MiB)
        show_both_sides(vm)

        say("\n== QMP balloon 1 GiB: the guest deflates")
        vm.balloon(GiB)
        watch(vm, GiB)
        show_both_sides(vm)

        for msg in vm.shell.messages:
            say("  guest message: " + msg)
        say("\n== stopping QEMU")
        vm.qmp.execute("quit")
        vm.proc.wait(30)
    say("done")


if __name__ == "__main__":
    main()
