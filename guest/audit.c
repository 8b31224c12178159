/*
 * Debug builds (make guest GUEST_DEBUG=1): after every run of the engine,
 * its books against the page allocator's.  free + ballooned + in use =
 * total, so free + ballooned never exceeds what the allocator manages; no
 * frame is both free and in the balloon; and bn_balloon_check().  Each
 * broken rule is printed once per run; a release build never calls this.
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
}
