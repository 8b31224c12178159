/*
 * bench: helpers for `make bench` (bench/run.py).
 *
 *	bench pool SIZE		take SIZE of pages from the allocator and zero
 *				them now, so that the balloon's next inflate
 *				neither allocates nor zeroes: the limit line,
 *				how fast the host side takes frame numbers
 *	bench pool 0		give the pool back
 *	bench zero SIZE		time the ways of zeroing SIZE of pages
 *	bench mem		the driver's own memory, in bytes
 */
#include <stdint.h>

#include <ballonet/balloon.h>

#include "clock.h"
#include "console.h"
#include "cpu.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"
#include "virtqueue.h"
#include "zpage.h"

static int
bench_pool(uint64_t pages)
{
	uint64_t got;

	zpage_pool_drain();
	got = pages == 0 ? 0 : zpage_pool_fill(pages);
	kprintf("bench: pool %llu pages\n", (unsigned long long)got);
	return got == pages ? 0 : 1;
}

/* Nanoseconds per page of fn over "n" pages from "pa[]". */
static uint64_t
time_pages(void (*fn)(uint64_t), const uint64_t *pa, uint64_t n)
{
	uint64_t t0, i;

	t0 = rdtsc();
	for (i = 0; i < n; i++)
		fn(pa[i]);
	return (rdtsc() - t0) * 1000000 / clock_info.tsc_per_ms / n;
}

static void
rep_stosq(uint64_t pa)
{
	memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
}

static void
dirty(uint64_t pa)
{
	*(volatile uint64_t *)(uintptr_t)pa = pa;
}

static void
check(uint64_t pa)
{
	(void)zpage_is_zero(pa);
}

static const struct {
	const char	*name;
	void		(*fn)(uint64_t);
} zeroers[] = {
	{ "check", check },
	{ "rep stosq", rep_stosq },
	{ "stores", zpage_store_zero },
	{ "check+stores", zpage_zero },
};
#define NZEROERS	(sizeof(zeroers) / sizeof(zeroers[0]))

/*
 * Each way of zeroing gets its own pages, never written since boot when
 * the guest is fresh; then the same pages again once written.
 */
static int
bench_zero(uint64_t n)
{
	uint64_t *pa, list, lpages, i, k, fresh, dirtied;

	lpages = (n * NZEROERS * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
	if (n == 0 || (list = pmem_alloc_contig(lpages)) == 0) {
		kprintf("bench: no memory for the page list\n");
		return 1;
	}
	pa = (uint64_t *)(uintptr_t)list;
	for (i = 0; i < n * NZEROERS; i++)
		if ((pa[i] = pmem_alloc()) == 0)
			break;
	if (i == n * NZEROERS) {
		for (k = 0; k < NZEROERS; k++) {
			fresh = time_pages(zeroers[k].fn, pa + k * n, n);
			time_pages(dirty, pa + k * n, n);
			dirtied = time_pages(zeroers[k].fn, pa + k * n, n);
			kprintf("bench: zero %s: %llu ns/page untouched, "
			    "%llu ns/page written\n", zeroers[k].name,
			    (unsigned long long)fresh,
			    (unsigned long long)dirtied);
		}
	} else
		kprintf("bench: out of memory\n");
	while (i-- > 0)
		pmem_free(pa[i]);
	for (i = 0; i < lpages; i++)
		pmem_free(list + i * PAGE_SIZE);
	return 0;
}

/* What the driver allocated for itself: its softc, the balloon's bitmap,
 * the frame number buffers and the two rings. */
static int
bench_mem(void)
{
	const struct viomb_softc *sc = guest.viomb;
	uint64_t softc, bitmap, bufs, rings;

	if (sc == NULL) {
		kprintf("bench: no balloon\n");
		return 1;
	}
	softc = sizeof(*sc);
	bitmap = BN_BITMAP_BYTES(sc->balloon.cfg.max_pfn);
	bufs = (uint64_t)sc->nslots * BN_PAGE_SIZE;
	rings = sc->inflateq.bytes + sc->deflateq.bytes;
	kprintf("bench: driver memory %llu bytes: softc %llu, bitmap %llu, "
	    "buffers %llu, rings %llu\n",
	    (unsigned long long)(softc + bitmap + bufs + rings),
	    (unsigned long long)softc, (unsigned long long)bitmap,
	    (unsigned long long)bufs, (unsigned long long)rings);
	return 0;
}

int
cmd_bench(int argc, char **argv)
{
	uint64_t bytes;

	if (argc == 3 && (strcmp(argv[1], "pool") == 0 ||
	    strcmp(argv[1], "zero") == 0)) {
		if (parse_size(argv[2], &bytes) != 0) {
			kprintf("bench: bad size '%s'\n", argv[2]);
			return 1;
		}
		bytes = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
		return argv[1][0] == 'p' ? bench_pool(bytes) :
		    bench_zero(bytes);
	}
	if (argc == 2 && strcmp(argv[1], "mem") == 0)
		return bench_mem();
	kprintf("usage: bench pool SIZE | bench zero SIZE | bench mem\n");
	return 1;
}
