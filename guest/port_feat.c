/*
 * The reference guest's port hooks for the balloon's optional features:
 * page poisoning and memory statistics (include/ballonet/port.h).
 */
#include <stddef.h>

#include <ballonet/balloon.h>
#include <ballonet/port.h>

#include "virtio_port.h"

#include "kern.h"
#include "pmem.h"
#include "reporting.h"

void
bn_port_page_fill(void *os, bn_paddr_t pa, uint32_t pattern)
{
	(void)os;
	pmem_fill(pa, pattern);		/* x86: little-endian already */
}

/*
 * What this guest really knows: free and total memory of its allocator,
 * hot-plugged pages included (a host that plugs memory sees it used).
 * Reported runs in flight are free memory on loan.  It has no swap, no
 * page faults, no caches and no huge pages: those tags are omitted, not
 * reported as zero.  "Available" is free memory: nothing else could be
 * reclaimed without the balloon.
 */
size_t
bn_port_mem_stats(void *os, struct bn_memstat *st, size_t max)
{
	uint64_t free = (pmem.free_pages + pmem.hot_free_pages +
	    reporting_inflight()) * PAGE_SIZE;
	const struct bn_memstat all[] = {
		{ BN_MEMSTAT_MEMFREE, free },
		{ BN_MEMSTAT_MEMTOT, (pmem.total_pages + pmem.hot_pages) *
		    PAGE_SIZE },
		{ BN_MEMSTAT_AVAIL, free },
	};
	size_t i;

	(void)os;
	for (i = 0; i < max && i < sizeof(all) / sizeof(all[0]); i++)
		st[i] = all[i];
	return i;
}
