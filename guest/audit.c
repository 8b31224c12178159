/*
 * Debug builds (make guest GUEST_DEBUG=1): after every run of the engine,
 * its books against the page allocator's.  free + ballooned + in use =
 * total, so free + ballooned never exceeds what the allocator manages; no
 * frame is both free and in the balloon; and bn_balloon_check().  The
 * hot-plugged ranges too: every free frame present, the counters equal to
 * the bits.  Each broken rule is printed once per run; a release build
 * never calls this.
 */
#include <stdint.h>

#include <ballonet/balloon.h>

#include "console.h"
#include "kern.h"
#include "pmem.h"

static int
bit(const uint64_t *map, uint64_t pfn)
{
	return (int)((map[pfn / 64] >> (pfn % 64)) & 1);
}

static uint64_t
popcount(const uint64_t *w, uint64_t n)
{
	uint64_t c = 0;

	while (n-- > 0)
		c += (uint64_t)__builtin_popcountll(*w++);
	return c;
}

/* pmem's hot-plugged ranges: free within present, counters = bits. */
static void
audit_ranges(const char *name)
{
	const struct pmem_range *r;
	uint64_t present = 0, free = 0, w, stray = 0;
	int i;

	for (i = 0; i < pmem.nranges; i++) {
		r = &pmem.ranges[i];
		present += popcount(r->present, r->nwords);
		free += popcount(r->map, r->nwords);
		for (w = 0; w < r->nwords; w++)
			stray += (uint64_t)__builtin_popcountll(r->map[w] &
			    ~r->present[w]);
	}
	if (present != pmem.hot_pages || free != pmem.hot_free_pages ||
	    stray != 0)
		kprintf("%s: audit: hot pages %llu/%llu present, %llu/%llu free,"
		    " %llu free but absent\n", name,
		    (unsigned long long)present,
		    (unsigned long long)pmem.hot_pages,
		    (unsigned long long)free,
		    (unsigned long long)pmem.hot_free_pages,
		    (unsigned long long)stray);
}

void
balloon_audit(const struct bn_balloon *b)
{
	const char *name = bn_balloon_name(b);
	uint64_t pfn, both = 0, held;

	if (bn_balloon_check(b) != BN_OK)
		kprintf("%s: audit: the balloon's books do not balance\n",
		    name);
	held = bn_balloon_pages(b) + bn_balloon_inflating(b);
	if (pmem.free_pages + held > pmem.total_pages)
		kprintf("%s: audit: free %llu + ballooned %llu > total %llu\n",
		    name, (unsigned long long)pmem.free_pages,
		    (unsigned long long)held,
		    (unsigned long long)pmem.total_pages);
	for (pfn = 0; pfn < pmem.max_pfn; pfn++)
		both += bn_balloon_holds(b, pfn) && bit(pmem.map, pfn);
	if (both != 0)
		kprintf("%s: audit: %llu frames both free and ballooned\n",
		    name, (unsigned long long)both);
	audit_ranges(name);
}
