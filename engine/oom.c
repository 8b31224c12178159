/*
 * Deflate on OOM: give the OS pages back from the balloon when its
 * allocator would fail (VIRTIO 1.2, 5.5.6.1, VIRTIO_BALLOON_F_DEFLATE_ON_OOM).
 *
 * The engine's own deflate path does the work: reclaim lowers a cap on the
 * goal ("oom_cap") below what the balloon holds, runs the engine, and then
 * polls the backend until the host acknowledged the deflate request
 * (MUST_TELL_HOST: the pages are free for the OS only then).  The cap stays
 * until the host or the guest sets a new target, so that the engine does
 * not inflate again at once into the memory the OS just asked for.
 */
#include <ballonet/balloon.h>
#include <ballonet/priv/balloon_priv.h>

uint64_t
bn_balloon_oom_goal(const struct bn_balloon *b, uint64_t goal)
{
	if (b->oom_hold && b->oom_cap < goal)
		return b->oom_cap;
	return goal;
}

/* Pages the engine could take back now: acknowledged and not leaving. */
static uint64_t
reclaimable(const struct bn_balloon *b)
{
	return b->pages - b->deflating;
}

/*
 * Run the engine until the balloon holds at most oom_cap pages and no
 * deflate is in flight, or until the wait runs out.
 */
static int
wait_for_host(struct bn_balloon *b)
{
	uint64_t deadline = bn_port_now_ms(b->cfg.os) + BN_OOM_WAIT_MS;

	for (;;) {
		(void)bn_balloon_run(b);
		if (b->pages <= b->oom_cap && b->deflating == 0)
			return BN_OK;
		if (bn_port_now_ms(b->cfg.os) >= deadline)
			return BN_ETIMEDOUT;
	}
}

/* One bounded step: up to BN_OOM_STEP pages; *got says how many came back. */
static int
reclaim_step(struct bn_balloon *b, uint64_t want, uint64_t *got)
{
	uint64_t before = b->stats.deflated, n, committed;
	int error;

	n = want < BN_OOM_STEP ? want : BN_OOM_STEP;
	if (n > reclaimable(b))
		n = reclaimable(b);
	if (n == 0)
		return BN_ENOMEM;
	committed = b->pages + b->inflating - b->deflating;
	/* Lower the goal below what is committed: run() deflates n pages. */
	b->oom_cap = committed > n ? committed - n : 0;
	b->oom_hold = true;
	error = wait_for_host(b);
	*got = b->stats.deflated - before;	/* back in the OS allocator */
	return error;
}

int
bn_balloon_reclaim(struct bn_balloon *b, uint64_t pages, uint64_t *got)
{
	uint64_t total = 0, step;
	int error = BN_OK;

	if (got != NULL)
		*got = 0;
	if (!b->cfg.oom_deflate)
		return BN_EPERM;
	/*
	 * From inside the engine (a port's allocator entering its OOM path
	 * during an inflate): running the engine again there would reuse the
	 * request being filled.
	 */
	if (b->reclaiming || b->depth > 0)
		return BN_EBUSY;
	b->reclaiming = true;
	while (total < pages) {
		step = 0;
		error = reclaim_step(b, pages - total, &step);
		total += step;
		if (error != BN_OK)
			break;
	}
	b->reclaiming = false;
	b->stats.oom_deflated += total;
	if (total == 0)
		b->stats.oom_failures++;
	if (got != NULL)
		*got = total;
	if (total > 0)
		bn_balloon_log(b, BN_LOG_INFO, "out of memory: took %llu pages "
		    "back from the balloon (%llu left)",
		    (unsigned long long)total, (unsigned long long)b->pages);
	return total > 0 ? BN_OK : error;
}
