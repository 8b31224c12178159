/*
 * Zeroing balloon pages: in idle time, on their way out, and the
 * pre-zeroed pool of `bench pool`.
 *
 * Under TCG, `rep stosq` costs about a translated block per iteration;
 * plain unrolled stores run at several times its speed.  Reading first is
 * cheaper still when the page is already zero (never written since boot,
 * or given back by the host): a read maps the host's shared zero page
 * instead of allocating a page that QEMU would discard a moment later.
 * A written page usually shows a non-zero word at once, so the check costs
 * it little.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmem.h"
#include "reporting.h"
#include "zpage.h"

/* Keep the compiler from turning the store loop into a memset call. */
#define NO_IDIOM	__attribute__((optimize("no-tree-loop-distribute-patterns")))

#define WORDS		(PAGE_SIZE / 8)

struct zpool {
	uint64_t	*avail;		/* bit set: in the pool, zeroed */
	uint64_t	*given;		/* bit set: taken, not written since */
	uint64_t	 count;		/* bits set in avail */
	uint64_t	 cursor;	/* word of avail to look at first */
};

static struct zpool zpool;

/* Idle zeroing: 2 MiB chunks holding a page freed since they were done. */
static struct {
	uint64_t	pending[CHUNKS_MAX / 64];	/* 1 bit per chunk */
	uint64_t	npending;	/* bits set in pending */
	uint64_t	cursor;		/* word of pending to look at first */
} zidle;

bool
zpage_is_zero(uint64_t pa)
{
	const volatile uint64_t *p = (const volatile uint64_t *)(uintptr_t)pa;
	size_t i;

	for (i = 0; i < WORDS; i += 8)
		if ((p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] |
		    p[i + 5] | p[i + 6] | p[i + 7]) != 0)
			return false;
	return true;
}

NO_IDIOM void
zpage_store_zero(uint64_t pa)
{
	uint64_t *p = (uint64_t *)(uintptr_t)pa;
	size_t i;

	for (i = 0; i < WORDS; i += 8) {
		p[i] = 0;
		p[i + 1] = 0;
		p[i + 2] = 0;
		p[i + 3] = 0;
		p[i + 4] = 0;
		p[i + 5] = 0;
		p[i + 6] = 0;
		p[i + 7] = 0;
	}
}

void
zpage_zero(uint64_t pa)
{
	if (!zpage_is_zero(pa))
		zpage_store_zero(pa);
}

static bool
bit_test(const uint64_t *map, uint64_t pfn)
{
	return (map[pfn / 64] >> (pfn & 63)) & 1;
}

/* Both bitmaps in one contiguous allocation, made on first use. */
static int
zpool_setup(void)
{
	uint64_t bytes = pmem.nwords * 8 * 2, pa, i;

	if (zpool.avail != NULL)
		return 0;
	pa = pmem_alloc_contig((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
	if (pa == 0)
		return -1;
	zpool.avail = (uint64_t *)(uintptr_t)pa;
	zpool.given = zpool.avail + pmem.nwords;
	for (i = 0; i < pmem.nwords * 2; i++)
		zpool.avail[i] = 0;
	return 0;
}

uint64_t
zpage_pool_fill(uint64_t npages)
{
	uint64_t n, pa, pfn;

	if (zpool_setup() != 0)
		return 0;
	for (n = 0; n < npages; n++) {
		if ((pa = pmem_alloc()) == 0)
			break;
		zpage_store_zero(pa);
		pfn = pa >> PAGE_SHIFT;
		zpool.avail[pfn / 64] |= 1ull << (pfn & 63);
		zpool.count++;
	}
	zpool.cursor = 0;
	return n;
}

void
zpage_pool_drain(void)
{
	uint64_t pa;

	while (zpage_pool_take(&pa) == 0) {
		zpage_forget(pa);
		pmem_free(pa);
	}
}

uint64_t
zpage_pool_count(void)
{
	return zpool.count;
}

int
zpage_pool_take(uint64_t *pa)
{
	uint64_t w, bit;

	if (zpool.count == 0)
		return -1;
	for (w = zpool.cursor; w < pmem.nwords; w++) {
		if (zpool.avail[w] == 0)
			continue;
		bit = (uint64_t)__builtin_ctzll(zpool.avail[w]);
		zpool.avail[w] &= ~(1ull << bit);
		zpool.given[w] |= 1ull << bit;
		zpool.count--;
		zpool.cursor = w;
		*pa = (w * 64 + bit) << PAGE_SHIFT;
		return 0;
	}
	return -1;
}

bool
zpage_prezeroed(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (zpool.given == NULL || pfn >= pmem.max_pfn ||
	    !bit_test(zpool.given, pfn))
		return false;
	zpool.given[pfn / 64] &= ~(1ull << (pfn & 63));
	return true;
}

void
zpage_forget(uint64_t pa)
{
	(void)zpage_prezeroed(pa);
}

void
zpage_forget_pfns(const uint64_t *pfns, uint32_t n)
{
	uint32_t i;

	if (zpool.given == NULL)	/* no pool was ever made */
		return;
	for (i = 0; i < n; i++)
		zpage_forget(pfns[i] << PAGE_SHIFT);
}

void
zpage_freed(uint64_t pfn)
{
	uint64_t c = pfn >> CHUNK_SHIFT, bit = 1ull << (c % 64);

	if (c >= CHUNKS_MAX || (zidle.pending[c / 64] & bit) != 0)
		return;
	zidle.pending[c / 64] |= bit;
	zidle.npending++;
}

/*
 * Poisoning: free pages must keep poison_val, and they hold no guest data
 * anyway.  zero=always: every page is zeroed as it leaves, and only then.
 */
static bool
idle_zeroing_on(void)
{
	return !pmem.poison && !pmem.zero_always;
}

/* Zero the free, dirty frames of chunk "c" and mark them clean. */
static void
zero_chunk(uint64_t c)
{
	uint64_t w = c * (CHUNK_PAGES / 64), end = w + CHUNK_PAGES / 64;
	uint64_t bits, bit;

	if (end > pmem.nwords)
		end = pmem.nwords;
	for (; w < end; w++) {
		bits = pmem.map[w] & ~pmem.clean[w];
		while (bits != 0) {
			bit = (uint64_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			zpage_zero((w * 64 + bit) << PAGE_SHIFT);
			pmem.clean[w] |= 1ull << bit;
			pmem.idle_zeroed++;
		}
	}
}

bool
zpage_idle(void)
{
	uint64_t words = CHUNKS_MAX / 64, i, w, c;

	if (zidle.npending == 0)
		return false;
	for (i = 0; i < words; i++) {
		w = (zidle.cursor + i) % words;
		if (zidle.pending[w] == 0)
			continue;
		c = w * 64 + (uint64_t)__builtin_ctzll(zidle.pending[w]);
		zidle.pending[w] &= zidle.pending[w] - 1;
		zidle.npending--;
		zidle.cursor = w;
		if (idle_zeroing_on())
			zero_chunk(c);
		return true;
	}
	zidle.npending = 0;	/* not reached: the count and bits agree */
	return false;
}
