/*
 * The reference guest's implementation of include/ballonet/port.h and
 * virtio/virtio_port.h.
 * Single CPU, one worker: the main loop in main.c.
 */
#include <stddef.h>

#include <ballonet/balloon.h>
#include <ballonet/port.h>

#include "virtio_port.h"

#include "clock.h"
#include "console.h"
#include "cpu.h"
#include "kern.h"
#include "libkern.h"
#include "pci.h"
#include "pmem.h"
#include "zpage.h"

#define RESERVE_MIN	1024		/* pages, 4 MiB */
#define RESERVE_PCT	1		/* of RAM */

struct guest guest;

/* The balloon leaves the guest at least 1% of RAM, never under 4 MiB. */
void
port_init(void)
{
	uint64_t r = pmem.ram_pages * RESERVE_PCT / 100;

	guest.reserve_pages = r > RESERVE_MIN ? r : RESERVE_MIN;
}

int
bn_port_page_alloc(void *os, bn_paddr_t *pa)
{
	struct guest *g = os;
	uint64_t p;

	/* `bench pool` pages first: taken from pmem and zeroed already. */
	if (zpage_pool_take(&p) == 0) {
		*pa = p;
		return BN_OK;
	}
	/* pmem_take(): the frame stays clean if it is (pmem.h). */
	if (pmem.free_pages <= g->reserve_pages || (p = pmem_take()) == 0)
		return BN_ENOMEM;
	*pa = p;
	return BN_OK;
}

/*
 * A request's worth at once: `bench pool` pages first (zeroed already),
 * then pmem's, a bitmap word at a time, zeroed as bn_port_page_zero()
 * does, with the clean bit read inline: under TCG every call and return
 * per page costs.
 */
uint32_t
bn_port_pages_alloc(void *os, uint64_t *pfns, uint32_t n)
{
	struct guest *g = os;
	uint64_t p, pfn, room;
	uint32_t got = 0, pool, i;

	while (got < n && zpage_pool_take(&p) == 0)
		pfns[got++] = p >> PAGE_SHIFT;
	pool = got;
	if (got < n && pmem.free_pages > g->reserve_pages) {
		room = pmem.free_pages - g->reserve_pages;
		got += pmem_take_pfns(pfns + got,
		    n - got < room ? n - got : (uint32_t)room);
	}
	for (i = 0; i < pool; i++)
		bn_port_page_zero(os, pfns[i] << PAGE_SHIFT);
	for (; i < got; i++) {
		pfn = pfns[i];
		if (!pmem.zero_always &&
		    ((pmem.clean[pfn / 64] >> (pfn & 63)) & 1) != 0) {
			pmem.zero_skipped++;
			continue;
		}
		zpage_zero(pfn << PAGE_SHIFT);
		pmem.zeroed++;
	}
	return got;
}

/* Zeroed on its way out or back from the host: no guest data in it. */
void
bn_port_page_free(void *os, bn_paddr_t pa)
{
	(void)os;
	zpage_forget(pa);
	pmem_free_clean(pa);
}

void
bn_port_pages_free(void *os, const uint64_t *pfns, uint32_t n)
{
	(void)os;
	zpage_forget_pfns(pfns, n);
	pmem_free_clean_pfns(pfns, n);
}

/*
 * A clean frame holds no guest data (pmem.h): leave it untouched, so that
 * the host need not back it just to discard it.  zero=always: zero those
 * too.  A dirty frame is zeroed and stays dirty until it comes back.
 */
void
bn_port_page_zero(void *os, bn_paddr_t pa)
{
	(void)os;
	if (zpage_prezeroed(pa) || (!pmem.zero_always && pmem_is_clean(pa))) {
		pmem.zero_skipped++;
		return;
	}
	zpage_zero(pa);
	pmem.zeroed++;
}

uint64_t
bn_port_reserved_pages(void *os)
{
	return ((struct guest *)os)->reserve_pages;
}

void *
bn_port_dma_alloc(void *os, size_t bytes, bn_paddr_t *pa)
{
	uint64_t npages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE, p;

	(void)os;
	if ((p = pmem_alloc_contig(npages)) == 0)
		return NULL;
	memset((void *)(uintptr_t)p, 0, npages * PAGE_SIZE);
	*pa = p;
	return (void *)(uintptr_t)p;
}

/* No IOMMU: the balloon sees guest-physical memory (ACCESS_PLATFORM too). */
int
bn_port_dma_addr(void *os, bn_paddr_t pa, size_t len, bn_paddr_t *addr)
{
	(void)os;
	(void)len;
	*addr = pa;
	return 0;
}

void
bn_port_dma_free(void *os, void *va, size_t bytes)
{
	uintptr_t p = (uintptr_t)va;
	size_t off;

	(void)os;
	for (off = 0; off < bytes; off += PAGE_SIZE)
		pmem_free(p + off);
}

uint64_t
bn_port_now_ms(void *os)
{
	(void)os;
	return clock_now_ms();
}

void
bn_port_wakeup(void *os)
{
	((struct guest *)os)->wakeup = 1;
}

void
bn_port_mb(void *os)
{
	(void)os;
	__asm__ volatile("mfence" : : : "memory");
}

/* Everything below 64 GiB is identity mapped, uncached or not. */
volatile void *
bn_port_mmio_map(void *os, bn_paddr_t pa, size_t len)
{
	(void)os;
	if (pa == 0 || pa + len < pa || pa + len > IDENTITY_LIMIT)
		return NULL;
	return (volatile void *)(uintptr_t)pa;
}

/* Nothing to undo: the identity map stays. */
void
bn_port_mmio_unmap(void *os, volatile void *va, size_t len)
{
	(void)os;
	(void)va;
	(void)len;
}

/* Registers are uncached memory: one plain access of their width. */
uint32_t
bn_port_mmio_read(void *os, const volatile void *reg, int width)
{
	(void)os;
	if (width == 1)
		return *(const volatile uint8_t *)reg;
	if (width == 2)
		return *(const volatile uint16_t *)reg;
	return *(const volatile uint32_t *)reg;
}

void
bn_port_mmio_write(void *os, volatile void *reg, int width, uint32_t val)
{
	(void)os;
	if (width == 1)
		*(volatile uint8_t *)reg = (uint8_t)val;
	else if (width == 2)
		*(volatile uint16_t *)reg = (uint16_t)val;
	else
		*(volatile uint32_t *)reg = val;
}

uint32_t
bn_port_pci_cfg_read(void *os, void *pcidev, uint16_t off, int width)
{
	(void)os;
	return pci_cfg_read(pcidev, off, width);
}

void
bn_port_pci_cfg_write(void *os, void *pcidev, uint16_t off, int width,
    uint32_t val)
{
	(void)os;
	pci_cfg_write(pcidev, off, width, val);
}

uint32_t
bn_port_io_read(void *os, uint32_t port, int width)
{
	(void)os;
	if (width == 1)
		return inb((uint16_t)port);
	if (width == 2)
		return inw((uint16_t)port);
	return inl((uint16_t)port);
}

void
bn_port_io_write(void *os, uint32_t port, int width, uint32_t val)
{
	(void)os;
	if (width == 1)
		outb((uint16_t)port, (uint8_t)val);
	else if (width == 2)
		outw((uint16_t)port, (uint16_t)val);
	else
		outl((uint16_t)port, val);
}

/* Per-request lines only in the debug build (GUEST_DEBUG=1: BN_DEBUG). */
void
bn_port_log(void *os, int level, const char *msg)
{
	(void)os;
#ifdef BN_DEBUG
	(void)level;
#else
	if (level >= BN_LOG_DEBUG)
		return;
#endif
	kprintf("%s\n", msg);
}
