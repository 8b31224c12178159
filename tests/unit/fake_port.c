#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ballonet/balloon.h>

#include "fake_port.h"

/*
 * The last RAM and DMA area freed, kept for the next fake_os_init() of
 * the same size: fuzzers create one per input, and fresh memory costs
 * a page fault per page.
 */
static struct {
	uint8_t		*ram, *dma;
	uint64_t	 npages;
} spare;

void
fake_os_init(struct fake_os *os, uint64_t npages)
{
	memset(os, 0, sizeof(*os));
	os->npages = npages;
	if (spare.ram != NULL && spare.npages == npages) {
		os->ram = spare.ram;
		os->dma = spare.dma;
		spare.ram = spare.dma = NULL;
	} else {
		os->ram = malloc((size_t)npages * 4096);
		os->dma = aligned_alloc(4096, FAKE_DMA_BYTES);
	}
	os->used = calloc(npages, sizeof(bool));
	os->held = calloc(npages, sizeof(bool));
	if (os->ram == NULL || os->used == NULL || os->held == NULL ||
	    os->dma == NULL)
		abort();
	memset(os->ram, 0, (size_t)npages * 4096);
	memset(os->dma, 0, FAKE_DMA_BYTES);
	os->fail_after = -1;
	os->dma_fail_after = -1;
}

void
fake_os_fini(struct fake_os *os)
{
	free(spare.ram);
	free(spare.dma);
	spare.ram = os->ram;
	spare.dma = os->dma;
	spare.npages = os->npages;
	free(os->used);
	free(os->held);
}

void *
fake_pa_to_va(struct fake_os *os, bn_paddr_t pa)
{
	if (pa >= FAKE_RAM_BASE && pa < FAKE_RAM_BASE + os->npages * 4096)
		return os->ram + (pa - FAKE_RAM_BASE);
	if (pa >= FAKE_DMA_BASE && pa < FAKE_DMA_BASE + FAKE_DMA_BYTES)
		return os->dma + (pa - FAKE_DMA_BASE);
	if (os->extra != NULL && pa >= os->extra_base &&
	    pa - os->extra_base < os->extra_bytes)
		return os->extra + (pa - os->extra_base);
	return NULL;
}

uint64_t
fake_first_pfn(void)
{
	return FAKE_RAM_BASE >> 12;
}

uint64_t
fake_max_pfn(const struct fake_os *os)
{
	return fake_first_pfn() + os->npages;
}

/* Index of the RAM page at "pa", or npages when it is not RAM. */
static uint64_t
ram_index(const struct fake_os *os, bn_paddr_t pa)
{
	if (pa < FAKE_RAM_BASE || (pa - FAKE_RAM_BASE) / 4096 >= os->npages)
		return os->npages;
	return (pa - FAKE_RAM_BASE) / 4096;
}

bool
fake_page_held(const struct fake_os *os, bn_paddr_t pa)
{
	uint64_t i = ram_index(os, pa);

	return i < os->npages && os->held[i];
}

bool
fake_page_hold(struct fake_os *os, bn_paddr_t pa, bool hold)
{
	uint64_t i = ram_index(os, pa);
	uint8_t *p;
	size_t k;
	bool ok = true;

	if (i == os->npages || os->held[i] == hold)
		return false;
	p = os->ram + i * 4096;
	if (!hold) {
		for (k = 0; k < 4096 && ok; k++)
			ok = p[k] == FAKE_POISON;
		if (!ok)
			os->written++;
	}
	memset(p, hold ? FAKE_POISON : 0, 4096);
	os->held[i] = hold;
	os->nheld += hold ? 1 : (uint64_t)-1;
	return ok;
}

/* The guest touches a page the device holds: a bug of the guest. */
static void
check_not_held(struct fake_os *os, uint64_t i, const char *what)
{
	if (i >= os->npages || !os->held[i])
		return;
	os->reused++;
	if (getenv("FAKE_PORT_VERBOSE") != NULL)
		fprintf(stderr, "fake_port: %s of held page %llu\n", what,
		    (unsigned long long)i);
}

bool
fake_log_contains(const struct fake_os *os, const char *needle)
{
	return fake_log_count(os, needle) > 0;
}

unsigned
fake_log_count(const struct fake_os *os, const char *needle)
{
	unsigned i, n = 0, kept = os->nlog < 64 ? os->nlog : 64;

	for (i = 0; i < kept; i++)
		if (strstr(os->log[i], needle) != NULL)
			n++;
	return n;
}

/* No page left: the OS's last resort, the balloon (oom_balloon). */
static bool
oom(struct fake_os *os)
{
	if (os->oom_balloon == NULL)
		return false;
	os->oom_calls++;
	os->oom_got = 0;
	os->oom_error = bn_balloon_reclaim(os->oom_balloon, BN_OOM_STEP,
	    &os->oom_got);
	return os->oom_error == BN_OK && os->oom_got > 0;
}

static bool
page_left(const struct fake_os *os)
{
	return os->npages - os->nused > os->reserved;
}

int
bn_port_page_alloc(void *osp, bn_paddr_t *pa)
{
	struct fake_os *os = osp;
	uint64_t i;

	if (os->fail_after == 0)
		return 1;
	if (os->fail_after > 0)
		os->fail_after--;
	if (!page_left(os) && (!oom(os) || !page_left(os)))
		return 1;
	/* Highest free page first, so tests see non-trivial frame numbers. */
	for (i = os->npages; i-- > 0;) {
		if (!os->used[i]) {
			check_not_held(os, i, "alloc");
			os->used[i] = true;
			os->nused++;
			*pa = FAKE_RAM_BASE + i * 4096;
			return 0;
		}
	}
	return 1;
}

uint32_t
bn_port_pages_alloc(void *osp, uint64_t *pfns, uint32_t n)
{
	bn_paddr_t pa;
	uint32_t got = 0;

	while (got < n && bn_port_page_alloc(osp, &pa) == 0) {
		bn_port_page_zero(osp, pa);
		pfns[got++] = pa / 4096;
	}
	return got;
}

void
bn_port_page_free(void *osp, bn_paddr_t pa)
{
	struct fake_os *os = osp;
	uint64_t i = (pa - FAKE_RAM_BASE) / 4096;

	if (pa < FAKE_RAM_BASE || i >= os->npages || !os->used[i]) {
		os->double_free++;
		return;
	}
	check_not_held(os, i, "free");
	os->used[i] = false;
	os->nused--;
}

void
bn_port_pages_free(void *osp, const uint64_t *pfns, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		bn_port_page_free(osp, (bn_paddr_t)pfns[i] * 4096);
}

void
bn_port_page_zero(void *osp, bn_paddr_t pa)
{
	struct fake_os *os = osp;

	check_not_held(os, ram_index(os, pa), "zero");
	memset(fake_pa_to_va(os, pa), 0, 4096);
	os->zeroed++;
}

void
bn_port_page_fill(void *osp, bn_paddr_t pa, uint32_t pattern)
{
	struct fake_os *os = osp;
	uint8_t *p = fake_pa_to_va(os, pa);
	size_t i;

	for (i = 0; i < 4096; i += 4) {
		p[i] = (uint8_t)pattern;
		p[i + 1] = (uint8_t)(pattern >> 8);
		p[i + 2] = (uint8_t)(pattern >> 16);
		p[i + 3] = (uint8_t)(pattern >> 24);
	}
	os->filled++;
	os->last_fill = pattern;
}

size_t
bn_port_mem_stats(void *osp, struct bn_memstat *st, size_t max)
{
	struct fake_os *os = osp;
	size_t i, n = os->nstats < max ? os->nstats : max;

	os->stats_calls++;
	for (i = 0; i < n; i++)
		st[i] = os->stats[i];
	return n;
}

uint64_t
bn_port_reserved_pages(void *osp)
{
	return ((struct fake_os *)osp)->reserved;
}

void *
bn_port_dma_alloc(void *osp, size_t bytes, bn_paddr_t *pa)
{
	struct fake_os *os = osp;
	size_t len = (bytes + 4095) & ~(size_t)4095;
	void *va;

	if (os->dma_fail_after == 0)
		return NULL;
	if (os->dma_fail_after > 0)
		os->dma_fail_after--;
	if (len > FAKE_DMA_BYTES - os->dma_used)
		return NULL;
	va = os->dma + os->dma_used;
	*pa = FAKE_DMA_BASE + os->dma_used;
	os->dma_used += len;
	memset(va, 0, len);
	return va;
}

/* Identity, as on a platform without an IOMMU. */
int
bn_port_dma_addr(void *osp, bn_paddr_t pa, size_t len, bn_paddr_t *addr)
{
	(void)osp;
	(void)len;
	*addr = pa;
	return 0;
}

void
bn_port_dma_free(void *osp, void *va, size_t bytes)
{
	(void)osp;
	(void)va;
	(void)bytes;
}

uint64_t
bn_port_now_ms(void *osp)
{
	return ((struct fake_os *)osp)->now_ms;
}

void
bn_port_wakeup(void *osp)
{
	((struct fake_os *)osp)->wakeups++;
}

void
bn_port_mb(void *osp)
{
	(void)osp;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

volatile void *
bn_port_mmio_map(void *osp, bn_paddr_t pa, size_t len)
{
	struct fake_os *os = osp;
	void *va = fake_pa_to_va(os, pa);

	(void)len;
	if (va != NULL)
		os->maps++;
	return va;
}

void
bn_port_mmio_unmap(void *osp, volatile void *va, size_t len)
{
	struct fake_os *os = osp;

	(void)len;
	if (va != NULL)
		os->unmaps++;
}

/* Offset of "reg" in the bus's window, or -1 when no bus claims it. */
static long
bus_offset(const struct fake_os *os, const volatile void *reg)
{
	const volatile uint8_t *p = reg;
	bn_paddr_t pa;

	if (os->bus == NULL || p < os->dma || p >= os->dma + FAKE_DMA_BYTES)
		return -1;
	pa = FAKE_DMA_BASE + (bn_paddr_t)(p - os->dma);
	if (pa < os->regs_pa || pa >= os->regs_pa + os->regs_len)
		return -1;
	return (long)(pa - os->regs_pa);
}

uint32_t
bn_port_mmio_read(void *osp, const volatile void *reg, int width)
{
	struct fake_os *os = osp;
	long off = bus_offset(os, reg);

	if (off >= 0)
		return os->bus->reg_read(os->bus_arg, (uint32_t)off, width);
	if (width == 1)
		return *(const volatile uint8_t *)reg;
	if (width == 2)
		return *(const volatile uint16_t *)reg;
	return *(const volatile uint32_t *)reg;
}

void
bn_port_mmio_write(void *osp, volatile void *reg, int width, uint32_t val)
{
	struct fake_os *os = osp;
	long off = bus_offset(os, reg);

	if (off >= 0)
		os->bus->reg_write(os->bus_arg, (uint32_t)off, width, val);
	else if (width == 1)
		*(volatile uint8_t *)reg = (uint8_t)val;
	else if (width == 2)
		*(volatile uint16_t *)reg = (uint16_t)val;
	else
		*(volatile uint32_t *)reg = val;
}

/* No device answers without a bus: all ones, as on a real PCI bus. */
uint32_t
bn_port_pci_cfg_read(void *osp, void *pcidev, uint16_t off, int width)
{
	struct fake_os *os = osp;

	(void)pcidev;
	if (os->bus != NULL)
		return os->bus->cfg_read(os->bus_arg, off, width);
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

void
bn_port_pci_cfg_write(void *osp, void *pcidev, uint16_t off, int width,
    uint32_t val)
{
	struct fake_os *os = osp;

	(void)pcidev;
	if (os->bus != NULL)
		os->bus->cfg_write(os->bus_arg, off, width, val);
}

uint32_t
bn_port_io_read(void *osp, uint32_t port, int width)
{
	(void)osp;
	(void)port;
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

void
bn_port_io_write(void *osp, uint32_t port, int width, uint32_t val)
{
	(void)osp;
	(void)port;
	(void)width;
	(void)val;
}

void
bn_port_log(void *osp, int level, const char *msg)
{
	struct fake_os *os = osp;

	(void)level;
	snprintf(os->log[os->nlog % 64], sizeof(os->log[0]), "%s", msg);
	os->nlog++;
	if (getenv("FAKE_PORT_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}
