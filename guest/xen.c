/*
 * Xen, x86 side: CPUID detection (leaves 0x40000000 + 0x100 * i), the
 * hypercall page (leaf base + 2 names the MSR that installs it), the PVH
 * start info's memory map, and the hooks of xen/xen_port.h.
 *
 * Hypercalls: call hypercall_page + 32 * number, arguments in rdi, rsi,
 * rdx, r10, r8, result in rax; the hypervisor may clobber the argument
 * registers (debug builds do).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "libkern.h"
#include "pmem.h"
#include "xen.h"

#define CPUID_XEN_FIRST		0x40000000
#define CPUID_XEN_LAST		0x40010000
#define CPUID_XEN_STRIDE	0x100

#define HYPERVISOR_memory_op		12
#define HYPERVISOR_event_channel_op	32
#define HYPERVISOR_hvm_op		34

#define EVTCHNOP_send		4
#define HVMOP_set_param		0
#define HVMOP_get_param		1

struct xen_hvm_param {
	uint16_t	domid;
	uint16_t	pad;
	uint32_t	index;
	uint64_t	value;
};

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
uint64_t pvh_map_end;
static uint32_t xen_base;		/* CPUID leaf of the Xen signature */
static uint32_t xen_msr;

long
xen_hypercall2(unsigned int nr, uint64_t a1, uint64_t a2)
{
	void *entry = hypercall_page + nr * 32;
	uint64_t d1, d2;
	long ret;

	__asm__ volatile("call *%[entry]"
	    : "=a"(ret), "=D"(d1), "=S"(d2)
	    : [entry] "r"(entry), "1"(a1), "2"(a2)
	    : "rdx", "r10", "r8", "memory", "cc");
	return ret;
}

static bool
is_xen_leaf(uint32_t leaf, uint32_t r[4])
{
	cpuid(leaf, r);
	return r[1] == 0x566e6558 &&	/* "XenV" */
	    r[2] == 0x65584d4d &&	/* "MMXe" */
	    r[3] == 0x4d4d566e &&	/* "nVMM" */
	    r[0] >= leaf + 2;
}

int
xen_init(void)
{
	uint32_t leaf, r[4];

	for (leaf = CPUID_XEN_FIRST; leaf < CPUID_XEN_LAST;
	    leaf += CPUID_XEN_STRIDE)
		if (is_xen_leaf(leaf, r))
			break;
	if (leaf >= CPUID_XEN_LAST)
		return -1;
	xen_base = leaf;
	cpuid(leaf + 2, r);
	if (r[0] < 1)
		return -1;
	xen_msr = r[1];
	wrmsr(xen_msr, (uintptr_t)hypercall_page);
	return 0;
}

uint64_t
xen_tsc_khz(void)
{
	uint32_t r[4];

	if (xen_base == 0)
		return 0;
	cpuid(xen_base, r);
	if (r[0] < xen_base + 3)
		return 0;
	cpuid(xen_base + 3, r);		/* subleaf 0: ecx = guest TSC kHz */
	return r[2];
}

void
xen_describe(void)
{
	uint32_t r[4];

	cpuid(xen_base + 1, r);
	kprintf("xen: version %u.%u, cpuid 0x%x, hypercall msr 0x%x\n",
	    r[0] >> 16, r[0] & 0xffff, xen_base, xen_msr);
}

int
xen_get_param(uint32_t index, uint64_t *val)
{
	struct xen_hvm_param p = { .domid = 0x7ff0, .index = index };

	if (xen_hypercall2(HYPERVISOR_hvm_op, HVMOP_get_param,
	    (uintptr_t)&p) != 0)
		return -1;
	*val = p.value;
	return 0;
}

int
xen_set_param(uint32_t index, uint64_t val)
{
	struct xen_hvm_param p = { .domid = 0x7ff0, .index = index,
	    .value = val };

	return xen_hypercall2(HYPERVISOR_hvm_op, HVMOP_set_param,
	    (uintptr_t)&p) == 0 ? 0 : -1;
}

static long
hv_memory_op(void *os, unsigned int cmd, void *arg)
{
	(void)os;
	return xen_hypercall2(HYPERVISOR_memory_op, cmd, (uintptr_t)arg);
}

static int
hv_get_param(void *os, uint32_t index, uint64_t *val)
{
	(void)os;
	return xen_get_param(index, val);
}

static void
hv_evtchn_send(void *os, uint32_t port)
{
	uint32_t p = port;

	(void)os;
	(void)xen_hypercall2(HYPERVISOR_event_channel_op, EVTCHNOP_send,
	    (uintptr_t)&p);
}

static void
hv_relax(void *os)
{
	(void)os;
	pause();
}

const struct xen_hv xen_hv = {
	.memory_op = hv_memory_op,
	.get_param = hv_get_param,
	.evtchn_send = hv_evtchn_send,
	.relax = hv_relax,
};

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * Memory hot-plug (xen/xenhot.h): the window's pages go to pmem as one
 * hot-plugged range, as virtio-mem's blocks do.
 */
static int
hot_add_range(void *os, uint64_t base, uint64_t size)
{
	(void)os;
	return pmem_add_range(base, size);
}

static void
hot_online(void *os, uint64_t pa, uint64_t len)
{
	(void)os;
	pmem_online_range(pa, len);
}

static int
hot_offline(void *os, uint64_t pa, uint64_t len)
{
	(void)os;
	return pmem_take_range(pa, len);
}

static const struct xen_hot_ops hot_ops = {
	.add_range = hot_add_range,
	.online = hot_online,
	.offline = hot_offline,
};

static uint64_t hot_map[XEN_HOT_MAP_WORDS];

/*
 * The window: from 4 GiB, or from the end of the memory map rounded up to
 * 1 GiB when that is higher, so that it lies above the RAM and every hole
 * (below 4 GiB: the local APIC, the IOAPIC, ACPI, the special pages, PCI),
 * up to the end of the identity map (IDENTITY_LIMIT); at most 256 times
 * the boot RAM, so that its books (pmem: 64.5 KiB per GiB) take no more
 * than about 1/64 of it.  Whole GiB; size 0 when there is no room.
 */
void
xen_hot_window(struct xenhot_config *cfg)
{
	uint64_t base, size, cap;

	base = max64(XEN_HOT_FLOOR, (pvh_map_end + XEN_HOT_ALIGN - 1) &
	    ~(XEN_HOT_ALIGN - 1));
	base = max64(base, pmem.max_pfn << PAGE_SHIFT);
	size = base < IDENTITY_LIMIT ? IDENTITY_LIMIT - base : 0;
	cap = (pmem.ram_pages << PAGE_SHIFT) * 256;
	if (size > cap)
		size = cap & ~(XEN_HOT_ALIGN - 1);
	*cfg = (struct xenhot_config){
		.ops = &hot_ops,
		.base = base,
		.size = size,
		.map = hot_map,
		.map_bytes = sizeof(hot_map),
	};
}

/* The domain builder puts its tables after the image: keep them. */
static uint64_t
pvh_boot_end(const struct hvm_start_info *si)
{
	const struct hvm_modlist_entry *m;
	uint64_t end = (uintptr_t)si + sizeof(*si);
	uint32_t i;

	if (si->cmdline_paddr != 0)
		end = max64(end, si->cmdline_paddr +
		    strlen((const char *)(uintptr_t)si->cmdline_paddr) + 1);
	if (si->version >= 1 && si->memmap_paddr != 0)
		end = max64(end, si->memmap_paddr + (uint64_t)si->memmap_entries *
		    sizeof(struct hvm_memmap_table_entry));
	m = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
	for (i = 0; m != NULL && i < si->nr_modules; i++) {
		end = max64(end, (uintptr_t)&m[i] + sizeof(m[i]));
		end = max64(end, m[i].paddr + m[i].size);
	}
	return end;
}

int
pvh_memory(uint32_t start_info_pa)
{
	const struct hvm_start_info *si =
	    (const struct hvm_start_info *)(uintptr_t)start_info_pa;
	const struct hvm_memmap_table_entry *e;
	uint32_t i;

	if (si->magic != XEN_HVM_START_MAGIC || si->version < 1 ||
	    si->memmap_paddr == 0) {
		kprintf("pvh: start info version %u without a memory map\n",
		    si->version);
		return -1;
	}
	e = (const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < si->memmap_entries; i++) {
		if (e[i].addr + e[i].size >= e[i].addr)
			pvh_map_end = max64(pvh_map_end, e[i].addr + e[i].size);
		if (e[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			pmem_add_region(e[i].addr, e[i].addr + e[i].size);
	}
	return pmem_setup(pvh_boot_end(si));
}
