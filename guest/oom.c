/*
 * The allocator's last resort, called by pmem_alloc() when no page is
 * free: first the free page reports still in flight (their pages come back
 * when the device acknowledges them, 5.5.6.7.1), then the balloon itself
 * when the host allows it (DEFLATE_ON_OOM, 5.5.6.1).  Single-threaded: it
 * spins on the device, for a bounded time, instead of sleeping.
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/balloon.h>

#include "clock.h"
#include "kern.h"
#include "pmem.h"
#include "reporting.h"

/* Poll the device until the reports in flight are back, or time is up. */
static uint64_t
wait_reports(void)
{
	struct bn_balloon *b = guest.balloon;
	uint64_t before = pmem.free_pages;
	uint64_t deadline = clock_now_ms() + BN_OOM_WAIT_MS;

	while (reporting_inflight() > 0 && clock_now_ms() < deadline)
		bn_balloon_poll(b);
	return pmem.free_pages - before;
}

uint64_t
pmem_oom(void)
{
	static bool busy;	/* the engine may allocate on the way */
	uint64_t got = 0;

	if (busy || guest.balloon == NULL)
		return 0;
	busy = true;
	if (reporting_inflight() > 0)
		got = wait_reports();
	if (got == 0 && bn_balloon_reclaim(guest.balloon, BN_OOM_STEP,
	    &got) != BN_OK)
		got = 0;
	busy = false;
	return got;
}
