/*
 * Free page reporting for the reference guest's bitmap allocator; see
 * reporting.h.  The runs in flight are out of pmem (their bits cleared,
 * free_pages lowered) until the device acknowledges them (5.5.6.7.1).
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/balloon.h>

#include "kern.h"
#include "pmem.h"
#include "reporting.h"
#include "viomb.h"

#define REPORT_PERIOD_MS	2000	/* as Linux's page_reporting delay */
#define REPORT_AGAIN_MS		50	/* a pass stopped for room: soon */
#define RUN_CHUNKS_MAX		16	/* 32 MiB per buffer */
#define RUNS_MAX		64	/* buffers in flight */
#define CHUNK_WORDS		(CHUNK_PAGES / 64)	/* of pmem.map */

uint64_t pmem_dirty[CHUNKS_MAX / 64];

struct run {
	uint64_t	pfn;		/* first frame, chunk aligned */
	uint64_t	pages;
	bool		busy;		/* with the device */
};

static struct {
	struct run	run[RUNS_MAX];
	uint64_t	inflight;	/* pages */
	uint64_t	next_ms;	/* next pass */
} rep;

uint64_t
reporting_inflight(void)
{
	return rep.inflight;
}

static bool
chunk_free(uint64_t c)
{
	uint64_t w = c * CHUNK_WORDS, i;

	if (w + CHUNK_WORDS > pmem.nwords)
		return false;
	for (i = 0; i < CHUNK_WORDS; i++)
		if (pmem.map[w + i] != ~0ull)
			return false;
	return true;
}

/* Out of the allocator, or back in: whole words of pmem.map. */
static void
set_words(uint64_t pfn, uint64_t pages, uint64_t val)
{
	uint64_t w;

	for (w = pfn / 64; w < (pfn + pages) / 64; w++)
		pmem.map[w] = val;
}

static struct run *
free_run(void)
{
	size_t i;

	for (i = 0; i < RUNS_MAX; i++)
		if (!rep.run[i].busy)
			return &rep.run[i];
	return NULL;
}

/* PAGE_POISON: reported pages hold poison_val (5.5.6.7.1). */
static void
poison_run(struct viomb_softc *sc, uint64_t pfn, uint64_t pages)
{
	uint32_t val;
	uint64_t i;

	if (!bn_balloon_poison(&sc->balloon, &val))
		return;
	for (i = 0; i < pages; i++)
		bn_port_page_fill(&guest, (pfn + i) << PAGE_SHIFT, val);
}

/* Take [pfn, pfn + pages) out of pmem and report it; false if refused. */
static bool
submit_run(struct viomb_softc *sc, uint64_t pfn, uint64_t pages)
{
	struct run *r = free_run();

	if (r == NULL || viomb_report_room(sc) == 0 ||
	    pmem.free_pages < guest.reserve_pages + pages)
		return false;
	set_words(pfn, pages, 0);
	pmem.free_pages -= pages;
	poison_run(sc, pfn, pages);
	if (viomb_report(sc, pfn << PAGE_SHIFT, (uint32_t)(pages * PAGE_SIZE),
	    r) != BN_OK) {
		set_words(pfn, pages, ~0ull);
		pmem.free_pages += pages;
		return false;
	}
	*r = (struct run){ .pfn = pfn, .pages = pages, .busy = true };
	rep.inflight += pages;
	return true;
}

void
reporting_done(void *arg, void *cookie)
{
	struct run *r = cookie;

	(void)arg;
	if (r < &rep.run[0] || r >= &rep.run[RUNS_MAX] || !r->busy)
		return;
	/* Back in pmem, and clean: not reported again until freed again. */
	set_words(r->pfn, r->pages, ~0ull);
	pmem.free_pages += r->pages;
	if (r->pfn / 64 < pmem.cursor)
		pmem.cursor = r->pfn / 64;
	rep.inflight -= r->pages;
	r->busy = false;
}

static void
clear_dirty(uint64_t c)
{
	pmem_dirty[c / 64] &= ~(1ull << (c % 64));
}

/*
 * One pass over the dirty chunks, merging neighbours into runs.  A chunk
 * not entirely free loses its dirty bit too: it can only become free
 * through pmem_free(), which marks it again.  False: stopped for room.
 */
static bool
scan(struct viomb_softc *sc)
{
	uint64_t c, nchunks = pmem.max_pfn >> CHUNK_SHIFT, start = 0, n = 0;

	for (c = 0; c <= nchunks; c++) {
		bool take = c < nchunks && pmem_dirty[c / 64] != 0 &&
		    ((pmem_dirty[c / 64] >> (c % 64)) & 1) && chunk_free(c);

		if (take && n > 0 && c == start + n && n < RUN_CHUNKS_MAX) {
			n++;
			continue;
		}
		if (n > 0 && !submit_run(sc, start << CHUNK_SHIFT,
		    n << CHUNK_SHIFT))
			return false;
		for (; n > 0; n--)
			clear_dirty(start + n - 1);
		if (take) {
			start = c;
			n = 1;
		} else if (c < nchunks)
			clear_dirty(c);
	}
	return true;
}

void
reporting_poll(uint64_t now_ms)
{
	struct viomb_softc *sc = guest.viomb;

	if (sc == NULL || !viomb_has(sc, VIRTIO_BALLOON_F_REPORTING) ||
	    now_ms < rep.next_ms)
		return;
	if (scan(sc))
		rep.next_ms = now_ms + REPORT_PERIOD_MS;
	else
		rep.next_ms = now_ms + REPORT_AGAIN_MS;
	viomb_report_kick(sc);
}
