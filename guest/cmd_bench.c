/*
 * bench: helpers for `make bench` (bench/run.py).
 *
 *	bench pool SIZE		take SIZE of pages from the allocator and zero
 *				them now, so that the balloon's next inflate
 *				neither allocates nor zeroes: the limit line,
 *				how fast the host side takes frame numbers
 *	bench pool 0		give the pool back
 *	bench zero SIZE		time the ways of zeroing SIZE of pages: the
 *				check and stores the balloon uses, `rep
 *				stosq`, non-temporal `movnti`, and SSE and
 *				AVX stores where the CPU offers them
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
#include "viomb.h"
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

/* Non-temporal stores from a general register (SSE2, always there). */
static void
movnti(uint64_t pa)
{
	uint64_t *p = (uint64_t *)(uintptr_t)pa, z = 0;
	size_t i;

	for (i = 0; i < PAGE_SIZE / 8; i += 4)
		__asm__ volatile("movnti %1, (%0)\n\tmovnti %1, 8(%0)\n\t"
		    "movnti %1, 16(%0)\n\tmovnti %1, 24(%0)"
		    : : "r"(p + i), "r"(z) : "memory");
	__asm__ volatile("sfence" : : : "memory");
}

/*
 * Vector stores, for measurement only: the guest is built with
 * -mgeneral-regs-only, so nothing else uses a vector register and no
 * context needs saving; these name xmm0/ymm0 without a clobber (GCC
 * refuses one under that flag).  bench_vector() turns the unit on first.
 */
static void
sse(uint64_t pa)
{
	char *p = (char *)(uintptr_t)pa;
	size_t i;

	__asm__ volatile("pxor %%xmm0, %%xmm0" : : : "memory");
	for (i = 0; i < PAGE_SIZE; i += 64)
		__asm__ volatile("movdqa %%xmm0, (%0)\n\tmovdqa %%xmm0, 16(%0)\n\t"
		    "movdqa %%xmm0, 32(%0)\n\tmovdqa %%xmm0, 48(%0)"
		    : : "r"(p + i) : "memory");
}

static void
avx(uint64_t pa)
{
	char *p = (char *)(uintptr_t)pa;
	size_t i;

	__asm__ volatile("vpxor %%xmm0, %%xmm0, %%xmm0" : : : "memory");
	for (i = 0; i < PAGE_SIZE; i += 128)
		__asm__ volatile("vmovdqa %%ymm0, (%0)\n\tvmovdqa %%ymm0, 32(%0)\n\t"
		    "vmovdqa %%ymm0, 64(%0)\n\tvmovdqa %%ymm0, 96(%0)"
		    : : "r"(p + i) : "memory");
}

#define CR4_OSFXSR	(1u << 9)
#define CR4_OSXMMEXCPT	(1u << 10)
#define CR4_OSXSAVE	(1u << 18)
#define CPUID1_XSAVE	(1u << 26)	/* ecx */
#define CPUID1_AVX	(1u << 28)	/* ecx */

/* Turn on SSE, and AVX if the CPU has it; returns 2 (AVX), 1 or 0. */
static int
bench_vector(void)
{
	uint32_t r[4];
	uint64_t cr4;

	cpuid(1, r);
	if ((r[3] & (1u << 25)) == 0)		/* edx: SSE */
		return 0;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	if ((r[2] & (CPUID1_XSAVE | CPUID1_AVX)) ==
	    (CPUID1_XSAVE | CPUID1_AVX))
		cr4 |= CR4_OSXSAVE;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	if ((cr4 & CR4_OSXSAVE) == 0)
		return 1;
	/* XCR0: x87, SSE and AVX state. */
	__asm__ volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
	return 2;
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
	int		 vector;	/* what bench_vector() must return */
} zeroers[] = {
	{ "check", check, 0 },
	{ "rep stosq", rep_stosq, 0 },
	{ "stores", zpage_store_zero, 0 },
	{ "check+stores", zpage_zero, 0 },
	{ "movnti", movnti, 0 },
	{ "sse", sse, 1 },
	{ "avx", avx, 2 },
};
#define NZEROERS	(sizeof(zeroers) / sizeof(zeroers[0]))

/* Written pages, backed by the host: the best of three passes. */
static uint64_t
written(void (*fn)(uint64_t), const uint64_t *pa, uint64_t n)
{
	uint64_t best = UINT64_MAX, t;
	int pass;

	for (pass = 0; pass < 3; pass++) {
		time_pages(dirty, pa, n);
		if ((t = time_pages(fn, pa, n)) < best)
			best = t;
	}
	return best;
}

/*
 * Each way of zeroing gets its own pages, never written since boot when
 * the guest is fresh (one pass: a page is untouched only once); then the
 * same pages again once written.
 */
static int
bench_zero(uint64_t n)
{
	uint64_t *pa, list, lpages, i, k, fresh, dirtied;
	int vector;

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
		vector = bench_vector();
		for (k = 0; k < NZEROERS; k++) {
			if (zeroers[k].vector > vector) {
				kprintf("bench: zero %s: not offered by this CPU\n",
				    zeroers[k].name);
				continue;
			}
			fresh = time_pages(zeroers[k].fn, pa + k * n, n);
			dirtied = written(zeroers[k].fn, pa + k * n, n);
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
	bufs = (uint64_t)sc->nslots * VIOMB_PFNBUF_BYTES;
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
