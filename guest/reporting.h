/*
 * Free page reporting (virtio REPORTING, VIRTIO 1.2, 5.5.6.7) and the
 * allocator's out-of-memory path (DEFLATE_ON_OOM, 5.5.6.1).
 *
 * pmem_free() marks the 2 MiB chunk of every page it frees "dirty" in
 * pmem_dirty[].  Every REPORT_PERIOD_MS the main loop's idle time looks
 * at the dirty chunks: those entirely free are taken out of the allocator
 * and reported to the host, which discards them (QEMU's RSS falls); they
 * come back when the host acknowledges, clean.  A clean chunk is reported
 * again only after a page in it was freed again.
 */
#ifndef GUEST_REPORTING_H
#define GUEST_REPORTING_H

#include <stdint.h>

#include "pmem.h"

#define CHUNK_SHIFT	9		/* pages per chunk: 512, 2 MiB */
#define CHUNK_PAGES	(1u << CHUNK_SHIFT)
#define CHUNKS_MAX	(IDENTITY_LIMIT >> (PAGE_SHIFT + CHUNK_SHIFT))

/* One bit per 2 MiB chunk: a page in it was freed since it was reported. */
extern uint64_t pmem_dirty[CHUNKS_MAX / 64];

static inline void
pmem_mark_dirty(uint64_t pfn)
{
	uint64_t c = pfn >> CHUNK_SHIFT;

	pmem_dirty[c / 64] |= 1ull << (c % 64);
}

/* The device acknowledged a report; "cookie" is the run. viomb callback. */
void		reporting_done(void *arg, void *cookie);

/* From the main loop: report dirty free chunks when the period is up. */
void		reporting_poll(uint64_t now_ms);

/* Pages out of the allocator in reports not yet acknowledged. */
uint64_t	reporting_inflight(void);

/*
 * pmem_alloc() has nothing left: wait for reports in flight, then take
 * pages back from the balloon.  Returns the pages that came back.
 */
uint64_t	pmem_oom(void);

#endif /* GUEST_REPORTING_H */
