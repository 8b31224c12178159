#!/usr/bin/env python3
"""The Xen test bed itself (issue 7): Xen 4.17, dom0, a Linux PVH domU.

Each test boots its own bed (tests/xen/xenbed.py) and prints the time of
each phase.  Standalone:  python3 tests/xen/test_bed.py [-v] [FILTER...]
(last line "N passed, N failed"); the functions follow tests/e2e's
conventions (test_*, `timeout` and `exclusive` attributes), so
tests/e2e/run.py can run them too once it looks into tests/xen.
"""

import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xenbed  # noqa: E402
from xenbed import XenBed  # noqa: E402


def phase(name, seconds):
    print("timing: %-28s %6.2f s" % (name, seconds), flush=True)


def test_dom0():
    """The agent, the shares, xl info, xl list, dom0's own balloon."""
    with XenBed(lifetime=280) as bed:
        phase("boot to dom0 ready", bed.timings["boot"])
        # The agent: status, output without a final newline, stderr.
        assert bed.run("true") == (0, "")
        assert bed.run("printf abc; exit 3") == (3, "abc")
        assert bed.run("echo err >&2") == (0, "err\n")
        try:
            bed.run("sleep 60", timeout=2)
        except xenbed.BedError as e:
            assert "killed after 2 s" in str(e), e
        else:
            raise AssertionError("no error for a hung command")
        assert bed.run("echo alive") == (0, "alive\n")
        # Files: through the host share and through the agent.
        data = bytes(range(256)) * 64
        path = bed.put_bytes(data, "blob")
        out = bed.sh("md5sum %s" % path)
        assert hashlib.md5(data).hexdigest() in out, out
        bed.write_dom0("/tmp/blob2", data)
        assert hashlib.md5(data).hexdigest() in bed.sh("md5sum /tmp/blob2")

        t = time.monotonic()
        info = bed.sh("xl info")
        phase("xl info", time.monotonic() - t)
        fields = dict(re.findall(r"^(\w+)\s*: (.*)$", info, re.M))
        assert fields["xen_version"].startswith("4.17"), fields
        assert "hap" in fields["virt_caps"].split(), fields["virt_caps"]
        assert int(fields["nr_cpus"]) == 2, fields

        t = time.monotonic()
        doms = bed.xl_list()
        phase("xl list", time.monotonic() - t)
        assert doms["Domain-0"]["mem"] == 1024, doms

        # dom0's Linux balloon (drivers/xen/balloon.c), down and back up.
        phase("xl mem-set 0 900", bed.mem_set("Domain-0", 900))
        assert bed.mem("Domain-0") == 900
        phase("xl mem-set 0 1024", bed.mem_set("Domain-0", 1024))
        assert bed.mem("Domain-0") == 1024


test_dom0.timeout = 300
test_dom0.exclusive = True


def test_pvh_domu():
    """A Linux PVH domU: xl create, mem-set down and up, its console."""
    with XenBed(lifetime=280) as bed:
        phase("boot to dom0 ready", bed.timings["boot"])
        took = bed.create("d1", memory=256, maxmem=512, type="pvh")
        phase("xl create (pvh, 256 MiB)", took)
        t = time.monotonic()
        bed.wait_console("d1", r"ballonet-domu: up")
        phase("domU kernel to /init", time.monotonic() - t)
        d1 = bed.xl_list()["d1"]
        assert d1["mem"] == 256, d1

        phase("xl mem-set d1 128", bed.mem_set("d1", 128))
        assert bed.mem("d1") == 128
        phase("xl mem-set d1 400", bed.mem_set("d1", 400))
        assert bed.mem("d1") == 400

        # The guest's own view, from its console log: the target reached
        # the guest's balloon driver (target_kb is what xl asked for, in
        # KiB, less the guest's slack).
        bed.wait_console("d1", r"target_kb 4\d{5}\b", timeout=60)
        console = bed.console("d1")
        assert "Linux version" in console, console[-2000:]
        targets = [int(x) for x in re.findall(r"target_kb (\d+)", console)]
        assert any(t < 140 * 1024 for t in targets), targets

        t = time.monotonic()
        bed.destroy("d1")
        phase("xl destroy", time.monotonic() - t)
        assert "d1" not in bed.xl_list()


test_pvh_domu.timeout = 300
test_pvh_domu.exclusive = True


def main(argv):
    verbose = "-v" in argv
    filters = [a for a in argv if a != "-v"]
    tests = [(n, f) for n, f in sorted(globals().items(),
                                       key=lambda kv: getattr(
                                           getattr(kv[1], "__code__", None),
                                           "co_firstlineno", 0))
             if n.startswith("test_") and callable(f)
             and (not filters or any(x in n for x in filters))]
    try:
        xenbed.build(quiet=not verbose)
    except xenbed.BedError as e:
        print(e)
        print("FAIL build")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for name, func in tests:
        t = time.monotonic()
        try:
            func()
        except Exception as e:  # noqa: B902 - report every failure
            import traceback
            traceback.print_exc(file=sys.stdout)
            print("FAIL %s: %s: %s" % (name, type(e).__name__,
                                       str(e).splitlines()[0][:200]
                                       if str(e) else ""), flush=True)
            failed += 1
        else:
            print("ok %s (%.1f s)" % (name, time.monotonic() - t), flush=True)
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
