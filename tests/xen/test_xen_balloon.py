#!/usr/bin/env python3
"""Issues 7 and 12 end to end: build/ballonet-guest.elf as a Xen PVH domU.

One bed (tests/xen/xenbed.py: Xen 4.17 nested in QEMU) and one domU,
memory=256, maxmem=512, for most checks: booting the bed costs most of the
time.  The hot-plug and populate-on-demand checks (issue 12) boot a domU
of their own beside it (memory=256 maxmem=256; memory=128 maxmem=1024)
and destroy it at the end.  The guest's shell is reached through its PV console: input goes to
the console's pty in dom0 (xenstore console/tty), output comes back in
xenconsoled's log.

Units: xl speaks MiB, memory/target and static-max KiB; the guest's
machdep.xen.balloon.{current,min,max,target} are KiB, {npages,actual}
pages of 4 KiB.  The guest maps host targets with the offset it prints at
attach ("offset N pages"): static-max minus the RAM of its memory map.

    python3 tests/xen/test_xen_balloon.py        # every check, in order
    python3 tests/xen/test_xen_balloon.py test_hot_plug_grows   # some
    pytest tests/xen/test_xen_balloon.py         # the same, one bed
"""

import atexit
import os
import re
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xenbed import XenBed, wait_until  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ELF = os.environ.get("BALLONET_GUEST",
                     os.path.join(ROOT, "build", "ballonet-guest.elf"))
NAME = "g1"
MEMORY, MAXMEM = 256, 512        # MiB
BATCH_KIB = 1024 * 4             # one request of the engine
TIMEOUT = 120
PREFIX = "machdep.xen.balloon"
EPERM = "Operation not permitted"
PROMPT = "ballonet# "


class XenGuest:
    """The domU's shell over its PV console."""

    def __init__(self, bed, name):
        self.bed, self.name = bed, name
        self.domid = bed.xl_list()[name]["id"]
        self.home = "/local/domain/%d" % self.domid
        self.tty = wait_until(lambda: self.xs_read("console/tty"), 30,
                              what="console/tty")

    def xs_read(self, rel):
        rc, out = self.bed.run("xenstore-read %s/%s" % (self.home, rel))
        return out.strip() if rc == 0 else None

    def xs_write(self, rel, value):
        self.bed.sh("xenstore-write %s/%s %s" % (self.home, rel, value))

    def console(self):
        return self.bed.console(self.name).replace("\r", "")

    def cmd(self, line, timeout=60):
        """Type a command; return its output (the lines before the prompt)."""
        start = len(self.console())
        self.bed.sh("printf '%%s\\r' %s > %s" % (shlex.quote(line),
                                                 self.tty))
        # The balloon's messages may come between prompt and echo.
        rx = re.compile(re.escape(line) + r"\n(.*?)" + re.escape(PROMPT),
                        re.S)
        m = wait_until(lambda: rx.search(self.console(), start), timeout,
                       interval=0.3, what="output of %r" % line)
        return m.group(1)

    def sysctl(self, name):
        out = self.cmd("sysctl " + name)
        m = re.search(r"^%s = (\d+)$" % re.escape(name), out, re.M)
        if not m:
            raise AssertionError("sysctl %s: %r" % (name, out))
        return int(m.group(1))

    def nodes(self):
        return {k: int(v) for k, v in
                re.findall(r"^(\S+) = (\d+)$", self.cmd("sysctl -a"), re.M)}

    def write(self, name, value):
        """sysctl -w; returns the guest's one-line answer."""
        return self.cmd("sysctl -w %s=%s" % (name, value)).strip()

    def wait_sysctl(self, name, value, timeout=TIMEOUT):
        wait_until(lambda: self.sysctl(name) == value, timeout, 1.0,
                   "%s == %d" % (name, value))

    def offset_pages(self):
        m = re.search(r"offset (-?\d+) pages", self.console())
        return int(m.group(1))


_state = {}


def bed_guest():
    """The shared bed and domU, booted on first use."""
    if "guest" not in _state:
        bed = XenBed(lifetime=1500)
        bed.__enter__()
        atexit.register(bed.__exit__, None, None, None)
        path = bed.put(ELF, "ballonet-guest.elf")
        bed.create(NAME, kernel=path, memory=MEMORY, maxmem=MAXMEM,
                   wait=r"ballonet: ready", timeout=TIMEOUT)
        _state["bed"], _state["guest"] = bed, XenGuest(bed, NAME)
        _state["elf"] = path
        _state["min"] = _state["guest"].sysctl(PREFIX + ".min")
    return _state["bed"], _state["guest"]


def agree(bed, g, mib, timeout=TIMEOUT):
    """xl list shows mib and the guest's current agrees within a batch."""
    host_kib = mib * 1024 - g.offset_pages() * 4
    wait_until(lambda: abs(g.sysctl(PREFIX + ".current") - host_kib)
               <= BATCH_KIB, timeout, 1.0, "guest current ~ %d MiB" % mib)
    assert abs(bed.mem(g.name) * 1024 - g.offset_pages() * 4 -
               g.sysctl(PREFIX + ".current")) <= BATCH_KIB


def evtchn_counts(g):
    """The guest's "intr": upcalls on the Xen vector, events per port."""
    out = g.cmd("intr")
    m = re.search(r"^xen-evtchn\s+lapic vec 0x[0-9a-f]+\s+(\d+)", out, re.M)
    assert m, out
    ports = {name: int(n) for name, n in
             re.findall(r"^xen-evtchn port \d+ (\S+) (\d+)$", out, re.M)}
    return int(m.group(1)), ports


def reset(bed, g):
    """Back to the boot state: 256 MiB, mem-max 512, min at its default."""
    g.write(PREFIX + ".min", _state["min"])
    bed.mem_set(NAME, MEMORY, timeout=TIMEOUT)
    bed.sh("xl mem-max %s %dm" % (NAME, MAXMEM))
    agree(bed, g, MEMORY)


def test_boot_and_console():
    bed, g = bed_guest()
    text = g.console()
    assert "ballonet reference guest" in text
    assert re.search(r"xen: version 4\.17", text), text
    assert "ballonet: ready" in text
    nodes = g.nodes()
    for prefix in (PREFIX, "hw.balloon"):
        for leaf in ("npages", "actual", "current", "min", "max", "target"):
            assert prefix + "." + leaf in nodes, nodes
    assert nodes[PREFIX + ".max"] == MAXMEM * 1024 - g.offset_pages() * 4
    agree(bed, g, MEMORY)


def test_mem_set_down_and_up():
    bed, g = bed_guest()
    reset(bed, g)
    upcalls, ports = evtchn_counts(g)
    took = bed.mem_set(NAME, 128, timeout=TIMEOUT)
    agree(bed, g, 128)
    # The watch on memory/target came as an event channel interrupt.
    upcalls2, ports2 = evtchn_counts(g)
    assert upcalls2 > upcalls, (upcalls, upcalls2)
    assert ports2["xenstore"] > ports["xenstore"], (ports, ports2)
    assert g.sysctl("hw.balloon.actual") == \
        (MAXMEM - 128) * 256 + g.offset_pages()
    print("mem-set 256 -> 128 MiB: %.2f s" % took)
    took = bed.mem_set(NAME, MEMORY, timeout=TIMEOUT)
    agree(bed, g, MEMORY)
    print("mem-set 128 -> 256 MiB: %.2f s" % took)


def test_xenstore_write_target():
    bed, g = bed_guest()
    reset(bed, g)
    g.xs_write("memory/target", 200 * 1024)
    wait_until(lambda: bed.mem(NAME) == 200, TIMEOUT, 1.0, "xl list 200")
    agree(bed, g, 200)
    g.xs_write("memory/target", MEMORY * 1024)
    wait_until(lambda: bed.mem(NAME) == MEMORY, TIMEOUT, 1.0, "xl list 256")


def test_guest_target_reaches_xenstore():
    """xl leaves memory/target read-only to the guest: the guest says so
    once and balloons anyway.  Once dom0 grants write access
    (xenstore-chmod), the guest's target is written there."""
    bed, g = bed_guest()
    reset(bed, g)
    want = 160 * 1024 - g.offset_pages() * 4
    assert "->" in g.write(PREFIX + ".target", want)
    assert "memory/target is read-only to this domain" in g.console()
    assert g.xs_read("memory/target") == str(MEMORY * 1024)
    wait_until(lambda: bed.mem(NAME) == 160, TIMEOUT, 1.0, "xl list 160")
    agree(bed, g, 160)
    bed.sh("xenstore-chmod %s/memory/target n0 b%d" % (g.home, g.domid))
    want = 192 * 1024 - g.offset_pages() * 4
    assert "->" in g.write(PREFIX + ".target", want)
    assert g.xs_read("memory/target") == str(192 * 1024)
    # The hypervisor's limit is still 257 MiB (xl mem-set 256): room enough.
    wait_until(lambda: bed.mem(NAME) == 192, TIMEOUT, 1.0, "xl list 192")
    agree(bed, g, 192)
    # The host's next word wins.
    bed.mem_set(NAME, MEMORY, timeout=TIMEOUT)
    agree(bed, g, MEMORY)


def test_mem_max_lowers_max():
    bed, g = bed_guest()
    reset(bed, g)
    bed.sh("xl mem-max %s 384m" % NAME)
    want = 384 * 1024 - g.offset_pages() * 4
    g.wait_sysctl(PREFIX + ".max", want)
    assert g.sysctl("hw.balloon.max") == want
    assert g.write(PREFIX + ".target", want + 4).endswith(EPERM)
    assert g.sysctl(PREFIX + ".target") == MEMORY * 1024 - \
        g.offset_pages() * 4


def test_eperm_cases():
    bed, g = bed_guest()
    reset(bed, g)
    n = g.nodes()
    cases = [
        (PREFIX + ".target", n[PREFIX + ".max"] + 4),     # above max
        (PREFIX + ".target", n[PREFIX + ".min"] - 4),     # below min
        (PREFIX + ".min", 4),                             # below safeguard
        (PREFIX + ".min", n[PREFIX + ".max"] + 4),        # above max
        ("hw.balloon.target", n[PREFIX + ".max"] + 4),
    ]
    for leaf in ("current", "max", "npages", "actual"):
        cases.append((PREFIX + "." + leaf, 1000))
    for name, value in cases:
        answer = g.write(name, value)
        assert answer.endswith(EPERM), (name, value, answer)
    assert g.nodes() == n
    assert g.xs_read("memory/target") == str(MEMORY * 1024)


def test_short_populate_is_retried():
    """The hypervisor's limit (xl mem-set: target + 1 MiB) is below a guest
    target: the hypervisor returns fewer pages, the guest says so and keeps
    trying, with backoff, until the host raises the limit."""
    bed, g = bed_guest()
    reset(bed, g)
    bed.mem_set(NAME, 128, timeout=TIMEOUT)
    agree(bed, g, 128)
    g.write(PREFIX + ".target", 192 * 1024 - g.offset_pages() * 4)
    wait_until(lambda: re.search(r"increase reservation incomplete: was "
                                 r"\d+, returned -?\d+", g.console()),
               TIMEOUT, 1.0, "the incomplete line")
    assert bed.mem(NAME) <= 130
    bed.mem_set(NAME, 192, timeout=TIMEOUT)
    agree(bed, g, 192)


class Domu:
    """Another domU on the shared bed, for one test: destroyed at the end,
    its console's tail printed when the test fails."""

    def __init__(self, name, memory, maxmem):
        self.name, self.memory, self.maxmem = name, memory, maxmem

    def __enter__(self):
        self.bed, _ = bed_guest()
        # The same file as g1's: never rewritten while the bed runs.
        self.bed.create(self.name, kernel=_state["elf"], memory=self.memory,
                        maxmem=self.maxmem, wait=r"ballonet: ready",
                        timeout=TIMEOUT)
        self.g = XenGuest(self.bed, self.name)
        return self.bed, self.g

    def __exit__(self, kind, value, tb):
        if kind is not None:
            print("--- console of %s (tail)" % self.name)
            print("\n".join(self.g.console().splitlines()[-30:]))
        self.bed.destroy(self.name)


def hot_window(g):
    """The hot-plug window the guest printed at attach: (base, MiB)."""
    m = re.search(r"hot-plug window (0x[0-9a-f]+)-0x[0-9a-f]+, (\d+) MiB",
                  g.console())
    assert m, g.console()
    return int(m.group(1), 16), int(m.group(2))


def test_hot_plug_grows():
    """memory=256, maxmem=256: xl mem-max 1024 and xl mem-set 1024 grow the
    domU by 768 MiB of new frames above its memory map; the guest uses
    them; xl mem-set 256 gives them back."""
    with Domu("hot", 256, 256) as (bed, g):
        off = g.offset_pages() * 4
        base, mib = hot_window(g)
        assert base >= 4 << 30 and mib >= 1024, (hex(base), mib)
        assert g.sysctl(PREFIX + ".max") == 256 * 1024 - off
        assert g.sysctl("hw.balloon.hotplugged") == 0
        bed.sh("xl mem-max hot 1024m")
        g.wait_sysctl("hw.balloon.max", 1024 * 1024 - off)
        took = bed.mem_set("hot", 1024, timeout=TIMEOUT * 2)
        agree(bed, g, 1024)
        print("mem-set 256 -> 1024 MiB (hot-plug): %.2f s" % took)
        n = g.nodes()
        assert n["hw.balloon.hotplugged"] == 768 * 1024, n
        assert n[PREFIX + ".target"] == 1024 * 1024 - off, n
        assert n[PREFIX + ".actual"] == 0, n
        # More than the domU booted with: the new frames are usable RAM.
        out = g.cmd("mem touch 700M", timeout=600)
        assert "touched 179200 pages (700 MiB)" in out, out
        assert "c" not in bed.xl_list()["hot"]["state"]
        out = g.cmd("mem free", timeout=300)
        assert "freed 179200 pages" in out, out
        took = bed.mem_set("hot", 256, timeout=TIMEOUT * 2)
        agree(bed, g, 256)
        print("mem-set 1024 -> 256 MiB (unplug): %.2f s" % took)
        assert g.sysctl("hw.balloon.hotplugged") == 0
        assert g.sysctl(PREFIX + ".max") == 1024 * 1024 - off
        # Xen has the frames back: the domain holds 256 MiB, no more.
        assert bed.mem("hot") == 256
        assert "cannot unplug" not in g.console()


def test_pod_boots_and_grows():
    """memory=128, maxmem=1024: populate-on-demand, the memory map covers
    1 GiB.  The guest balloons out 896 MiB before it touches them (Xen
    crashes a PoD guest that touches more than its target), uses its
    128 MiB, then grows to 1 GiB on xl mem-set and uses that."""
    with Domu("pod", 128, 1024) as (bed, g):
        agree(bed, g, 128)
        assert g.sysctl(PREFIX + ".max") == 1024 * 1024 - \
            g.offset_pages() * 4
        assert g.sysctl("hw.balloon.hotplugged") == 0
        out = g.cmd("mem touch 64M", timeout=300)
        assert "touched 16384 pages" in out, out
        assert "c" not in bed.xl_list()["pod"]["state"]
        g.cmd("mem free", timeout=300)
        took = bed.mem_set("pod", 1024, timeout=TIMEOUT * 2)
        agree(bed, g, 1024)
        print("PoD mem-set 128 -> 1024 MiB: %.2f s" % took)
        out = g.cmd("mem touch 900M", timeout=900)
        assert "touched 230400 pages (900 MiB)" in out, out
        g.cmd("mem free", timeout=300)
        assert "c" not in bed.xl_list()["pod"]["state"]
        assert bed.mem("pod") == 1024
        assert g.sysctl("hw.balloon.hotplugged") == 0


def test_hot_plug_refused_past_max_pages():
    """A target above what xl allowed (written to xenstore, no xl mem-max):
    the hypervisor's limit (xl mem-set 512: 513 MiB) refuses the new
    frames; the guest gives back the part of a block it got, says so,
    holds what it has and keeps trying with backoff."""
    bed, g = bed_guest()
    reset(bed, g)
    bed.mem_set(NAME, MAXMEM, timeout=TIMEOUT)
    agree(bed, g, MAXMEM)
    start = len(g.console())
    g.xs_write("memory/target", 1024 * 1024)
    wait_until(lambda: re.search(r"increase reservation incomplete: was "
                                 r"512, returned \d+", g.console()[start:]),
               TIMEOUT, 1.0, "the incomplete line")
    time.sleep(3)
    assert bed.mem(NAME) <= MAXMEM + 1, bed.xl_list()
    assert g.sysctl("hw.balloon.hotplugged") == 0
    assert "hot-plug' unsupported" not in g.console(), g.console()[-2000:]
    reset(bed, g)


def test_min_holds():
    bed, g = bed_guest()
    reset(bed, g)
    floor = 128 * 1024 - g.offset_pages() * 4
    assert "->" in g.write(PREFIX + ".min", floor)
    bed.sh("xl mem-set %s 64m" % NAME)
    wait_until(lambda: "WARNING: balloon could not reach target" in
               g.console(), TIMEOUT, 1.0, "the WARNING line")
    assert re.search(r"WARNING: balloon could not reach target %d "
                     r"\(current %d\)" % (64 * 1024 - g.offset_pages() * 4,
                                          floor), g.console())
    assert g.sysctl(PREFIX + ".current") == floor
    time.sleep(3)
    assert abs(bed.mem(NAME) - 128) <= 1
    reset(bed, g)


TESTS = [test_boot_and_console, test_mem_set_down_and_up,
         test_xenstore_write_target, test_guest_target_reaches_xenstore,
         test_mem_max_lowers_max, test_eperm_cases,
         test_short_populate_is_retried, test_hot_plug_refused_past_max_pages,
         test_min_holds, test_hot_plug_grows, test_pod_boots_and_grows]


def main(argv):
    """Run the tests on one shared bed; the last line is the summary."""
    only = set(argv)
    passed = failed = 0
    for t in TESTS:
        if only and t.__name__ not in only:
            continue
        t0 = time.monotonic()
        try:
            t()
            passed += 1
            print("ok %s (%.1f s)" % (t.__name__, time.monotonic() - t0),
                  flush=True)
        except Exception as e:  # report and go on: the bed is shared
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e),
                  flush=True)
    if failed and "guest" in _state:
        print("--- console of %s (tail)" % NAME)
        print("\n".join(_state["guest"].console().splitlines()[-40:]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
