"""QEMU 7.2's virtio-balloon device options, one guest each (TCG).

Each case boots a 512 MiB guest with one variant of the device, balloons
it down to 128 MiB and back up to 512 MiB, and checks both sides at each
step: query-balloon's logical size, the guest's hw.viomb.actual and every
hw.viomb/hw.balloon node (test_virtio.settle()).  It also checks what the
guest negotiated: which transport it attached with and the feature bits
the variant is about (hw.viomb.features).  The case with free page hints
and reporting offered together also checks statistics and reporting, on
the queues QEMU numbers by what it offers.

Units: QMP speaks of logical sizes in bytes; hw.viomb.actual is 4 KiB
pages in the balloon.  No test asserts a duration.
"""

import re

import harness
from harness import MiB, PAGE, Vm, wait_until
from test_features import touch_and_report
from test_virtio import TIMEOUT, settle

MEMORY = 512 * MiB
LOW = 128 * MiB

F_VERSION_1 = 1 << 32
F_ACCESS_PLATFORM = 1 << 33
F_RING_PACKED = 1 << 34
F_EVENT_IDX = 1 << 29
F_INDIRECT_DESC = 1 << 28
F_STATS = 1 << 1
F_FREE_PAGE_HINT = 1 << 3
F_REPORTING = 1 << 5

BALLOON = "virtio-balloon-pci,id=balloon0"
MMIO_BALLOON = "virtio-balloon-device,id=balloon0"

# Case name -> (QEMU arguments after -m, the transport the guest must
# report, feature bits it must have negotiated, bits it must not have).
CASES = {
    "iommu_platform": (
        ["-machine", "q35", "-device",
         BALLOON + ",iommu_platform=on,disable-legacy=on"],
        "pci-modern", F_VERSION_1 | F_ACCESS_PLATFORM, 0),
    # We do not accept RING_PACKED: the device must use split rings.
    "packed": (
        ["-machine", "q35", "-device", BALLOON + ",packed=on"],
        "pci-modern", F_VERSION_1, F_RING_PACKED),
    "no_event_idx_indirect": (
        ["-machine", "q35", "-device",
         BALLOON + ",event_idx=off,indirect_desc=off"],
        "pci-modern", F_VERSION_1, F_EVENT_IDX | F_INDIRECT_DESC),
    "transitional": (
        ["-machine", "q35", "-device",
         "virtio-balloon-pci-transitional,id=balloon0"],
        "pci-modern", F_VERSION_1, 0),
    "non_transitional": (
        ["-machine", "q35", "-device",
         "virtio-balloon-pci-non-transitional,id=balloon0"],
        "pci-modern", F_VERSION_1, 0),
    # Offered, never accepted: the free page vq exists only when it is.
    "free_page_hint_iothread": (
        ["-machine", "q35", "-object", "iothread,id=io0", "-device",
         BALLOON + ",free-page-hint=on,iothread=io0"],
        "pci-modern", F_VERSION_1, F_FREE_PAGE_HINT),
    # QEMU numbers its queues by what it offers: stats 2, free page 3,
    # reporting 4, though we take no FREE_PAGE_HINT.
    "free_page_hint_reporting": (
        ["-machine", "q35", "-object", "iothread,id=io0", "-device",
         BALLOON + ",free-page-hint=on,iothread=io0,free-page-reporting=on"],
        "pci-modern", F_VERSION_1 | F_STATS | F_REPORTING, F_FREE_PAGE_HINT),
    "smp2": (
        ["-machine", "q35", "-smp", "2", "-device", BALLOON],
        "pci-modern", F_VERSION_1, 0),
    "microvm_modern": (
        ["-machine", "microvm", "-global", "virtio-mmio.force-legacy=false",
         "-device", MMIO_BALLOON],
        "mmio", F_VERSION_1, 0),
    "microvm_legacy": (
        ["-machine", "microvm", "-global", "virtio-mmio.force-legacy=true",
         "-device", MMIO_BALLOON],
        "mmio", 0, F_VERSION_1),
    "pcie_root_port": (
        ["-machine", "q35", "-device",
         "pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1",
         "-device", BALLOON + ",bus=rp0"],
        "pci-modern", F_VERSION_1, 0),
}

for _name, (_args, _, _, _) in CASES.items():
    harness.TRANSPORTS["matrix-" + _name] = _args


def attach_line(vm):
    """The guest's "viomb0 at WHERE: TRANSPORT, features 0x..." line."""
    m = re.search(r"viomb0 at (.+?): (\S+), features (0x[0-9a-f]+)",
                  vm.shell.raw)
    assert m, "no attach line; the guest said:\n" + vm.shell.raw[-2000:]
    return m.group(1), m.group(2), int(m.group(3), 16)


def down_and_up(case, then=None):
    """Boot CASE, check its features, balloon down and up; then(vm)."""
    _, transport, must, must_not = CASES[case]
    with Vm(memory="%dM" % (MEMORY // MiB), transport="matrix-" + case,
            lifetime=400) as vm:
        vm.boot(timeout=TIMEOUT)
        where, name, features = attach_line(vm)
        print("%s: viomb0 at %s: %s, features 0x%x" % (case, where, name,
                                                       features))
        assert name == transport, (name, transport)
        assert vm.shell.sysctl("hw.viomb.features") == features
        assert features & must == must, hex(features)
        assert features & must_not == 0, hex(features)
        assert vm.logical() == MEMORY
        vm.balloon(LOW)
        settle(vm, LOW)
        assert vm.shell.sysctl("hw.viomb.actual") == (MEMORY - LOW) // 4096
        vm.balloon(MEMORY)
        settle(vm, MEMORY)
        assert vm.shell.sysctl("hw.viomb.npages") == 0
        if then is not None:
            then(vm)


def stats_and_reporting(vm):
    """statsq: the host sees the guest's free pages; reporting_vq: memory
    dirtied and freed leaves QEMU's RSS.  Each on the queue QEMU gave it."""
    path = "/machine/peripheral/balloon0"
    vm.qmp.execute("qom-set", path=path,
                   property="guest-stats-polling-interval", value=1)
    free = vm.shell.sysctl("vm.stats.free_pages")

    def host_free():
        s = vm.qmp.execute("qom-get", path=path, property="guest-stats")
        return s["stats"]["stat-free-memory"] == free * PAGE
    wait_until(host_free, TIMEOUT, 0.5, "stat-free-memory == %d pages" % free)
    rss0, rss1, rss2, reported = touch_and_report(vm, 300)
    print("free_page_hint_reporting: rss %d -> %d -> %d MiB, %d MiB "
          "reported" % (rss0 // MiB, rss1 // MiB, rss2 // MiB,
                        reported // MiB))


def test_iommu_platform():
    down_and_up("iommu_platform")


def test_packed():
    down_and_up("packed")


def test_no_event_idx_indirect():
    down_and_up("no_event_idx_indirect")


def test_transitional():
    down_and_up("transitional")


def test_non_transitional():
    down_and_up("non_transitional")


def test_free_page_hint_iothread():
    down_and_up("free_page_hint_iothread")


def test_free_page_hint_reporting():
    down_and_up("free_page_hint_reporting", stats_and_reporting)


def test_smp2():
    down_and_up("smp2")


def test_microvm_modern():
    down_and_up("microvm_modern")


def test_microvm_legacy():
    down_and_up("microvm_legacy")


def test_pcie_root_port():
    down_and_up("pcie_root_port")
