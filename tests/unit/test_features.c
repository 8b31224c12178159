/*
 * The balloon's optional features (VIRTIO 1.2, 5.5): statistics, deflate
 * on OOM, free page reporting and page poison, with the real front-end and
 * engine over the device model (tests/harness/devmodel.c) with five
 * queues.  The model completes inflate and deflate requests on notify
 * unless told to hold them; here the device also keeps the stats buffer
 * until the test "polls" it, and records reports.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ballonet/balloon.h>

#include "devmodel.h"
#include "fake_port.h"
#include "viomb.h"
#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

#define RAM_PAGES	4096
#define NQ		5
#define QSIZE		64
#define BIT(n)		(1ull << (n))
#define F_MTH		BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST)
#define F_STATS		BIT(VIRTIO_BALLOON_F_STATS_VQ)
#define F_OOM		BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)
#define F_HINT		BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT)
#define F_POISON	BIT(VIRTIO_BALLOON_F_PAGE_POISON)
#define F_REPORT	BIT(VIRTIO_BALLOON_F_REPORTING)
#define F_V1		BIT(VIRTIO_F_VERSION_1)
#define F_ALL		(F_MTH | F_STATS | F_OOM | F_HINT | F_POISON | \
			 F_REPORT | F_V1)
#define POISON		0x5aa5c33cu
#define QREPORT		4	/* reporting_vq when F_ALL is offered */

/* What the device saw on statsq and reportq, and what came back. */
struct seen {
	uint8_t		stats[BN_MEMSTAT_MAX * VIOMB_STAT_BYTES];
	uint32_t	stats_len;
	unsigned	reports, report_errors;
	bn_paddr_t	report_pa[64];
	uint32_t	report_len[64];
	uint16_t	report_head[64];
	void		*done[64];	/* cookies given to report_done */
	unsigned	ndone;
};

static struct seen *
seen(struct devmodel *f)
{
	return f->arg;
}

static uint8_t *
va(struct devmodel *f, bn_paddr_t pa)
{
	uint8_t *p = dm_va(f, pa);

	assert_non_null(p);
	return p;
}

/* Descriptor "head" of queue qi. */
static uint8_t *
desc(struct devmodel *f, int qi, uint16_t head)
{
	return va(f, f->q[qi].desc) + 16 * head;
}

/* statsq holds the one buffer the driver gave it. */
static bool
stats_held(struct devmodel *f)
{
	return f->q[2].nfifo > 0;
}

/* statsq: keep the buffer until the test polls, as QEMU does. */
static void
dev_stats(struct devmodel *f)
{
	struct seen *s = seen(f);
	uint8_t *d;

	if (dm_consume(f, 2) == 0)
		return;
	assert_int_equal(f->q[2].nfifo, 1);	/* one buffer at most */
	d = desc(f, 2, f->q[2].last_head);
	assert_int_equal(vio_read16(d + 12), 0);	/* out buffer */
	s->stats_len = vio_read32(d + 8);
	assert_true(s->stats_len <= sizeof(s->stats));
	memcpy(s->stats, va(f, *(uint64_t *)d), s->stats_len);
}

/* The host's stats timer: give the buffer back. */
static void
dev_stats_poll(struct devmodel *f)
{
	assert_true(stats_held(f));
	assert_int_equal(dm_complete(f, 2, 1), 1);
}

static void
dev_report(struct devmodel *f, int qi)
{
	struct seen *s = seen(f);
	struct dm_queue *q = &f->q[qi];
	unsigned n = dm_consume(f, qi);
	uint16_t head;
	uint8_t *d;

	while (n > 0) {
		head = q->fifo[q->nfifo - n--];
		d = desc(f, qi, head);
		if (vio_read16(d + 12) != VIRTQ_DESC_F_WRITE)
			s->report_errors++;
		s->report_pa[s->reports % 64] = *(uint64_t *)d;
		s->report_len[s->reports % 64] = vio_read32(d + 8);
		s->report_head[s->reports++ % 64] = head;
	}
}

static void
on_notify(struct devmodel *f, int qi)
{
	if (qi == dm_vq_index(f, VIOMB_VQ_STATS))
		dev_stats(f);
	else if (qi == dm_vq_index(f, VIOMB_VQ_REPORTING))
		dev_report(f, qi);
}

static void
report_done(void *arg, void *cookie)
{
	struct seen *s = arg;

	s->done[s->ndone++ % 64] = cookie;
}

static void
set_stats(struct devmodel *f, uint64_t memfree, uint64_t memtot)
{
	f->os.stats[0] = (struct bn_memstat){ BN_MEMSTAT_MEMFREE, memfree };
	f->os.stats[1] = (struct bn_memstat){ BN_MEMSTAT_MEMTOT, memtot };
	f->os.stats[2] = (struct bn_memstat){ BN_MEMSTAT_AVAIL, memfree };
	f->os.nstats = 3;
}

static int
setup(void **state)
{
	struct devmodel *f = dm_new(RAM_PAGES);
	int i;

	f->arg = calloc(1, sizeof(struct seen));
	assert_non_null(f->arg);
	f->on_notify = on_notify;
	f->offered = F_ALL;
	for (i = 0; i < DM_NQ; i++)
		f->q[i].max = i < NQ ? QSIZE : 0;
	set_stats(f, 1000 * BN_PAGE_SIZE, RAM_PAGES * BN_PAGE_SIZE);
	f->cfg.report_done = report_done;
	f->cfg.report_arg = f->arg;
	*state = f;
	return 0;
}

/* Whatever a test did, the driver kept to the spec and the books agree. */
static int
teardown(void **state)
{
	struct devmodel *f = *state;
	const char *why = dm_check(f);
	char msg[128] = "";

	if (why != NULL)
		snprintf(msg, sizeof(msg), "%s", why);
	free(f->arg);
	dm_free(f);
	if (why != NULL)
		fail_msg("%s", msg);
	return 0;
}

static struct bn_balloon *
bal(struct devmodel *f)
{
	return &f->sc->balloon;
}

static void
attach(struct devmodel *f)
{
	assert_int_equal(dm_attach(f), BN_OK);
}

static void
settle(struct devmodel *f)
{
	assert_true(dm_settle(f, 1001));	/* the first run reads num_pages */
}

/* Entry i of the last stats buffer the device read. */
static void
stat_at(struct devmodel *f, unsigned i, uint16_t *tag, uint64_t *val)
{
	const uint8_t *p = seen(f)->stats + VIOMB_STAT_BYTES * i;
	int k;

	*tag = (uint16_t)(p[0] | p[1] << 8);
	*val = 0;
	for (k = 7; k >= 0; k--)
		*val = *val << 8 | p[2 + k];
}

/* --- negotiation and queues -------------------------------------------- */

/*
 * 5.5.2: FREE_PAGE_HINT offered and refused keeps its index 3, as in QEMU
 * 7.2, so reporting_vq is 4.
 */
static void
test_negotiate_all(void **state)
{
	struct devmodel *f = *state;

	f->cfg.poison = true;
	f->cfg.poison_val = POISON;
	attach(f);
	assert_int_equal(f->driver_features, F_ALL & ~F_HINT);
	assert_int_equal(bal(f)->features, f->driver_features);
	assert_true(f->q[2].enabled && f->q[4].enabled);
	assert_false(f->q[3].enabled);
	assert_int_equal(f->sc->statsq.index, 2);
	assert_int_equal(f->sc->reportq.index, 4);
	/* 5.5.6.4.1: poison_val before DRIVER_OK. */
	assert_int_equal(f->poison_val, POISON);
	assert_false(f->poison_status & VIRTIO_STATUS_DRIVER_OK);
	assert_true(bal(f)->cfg.poison && bal(f)->cfg.oom_deflate);
	assert_false(bal(f)->cfg.host_floor);
}

/* An OS without poisoning neither accepts PAGE_POISON nor writes it. */
static void
test_negotiate_no_poison(void **state)
{
	struct devmodel *f = *state;

	f->offered = F_V1 | F_REPORT | F_POISON;
	f->os.nstats = 0;		/* no statistics: no STATS_VQ */
	attach(f);
	assert_int_equal(f->driver_features, F_V1 | F_REPORT);
	assert_int_equal(f->sc->reportq.index, 2);
	assert_false(f->q[3].enabled);
	assert_int_equal(f->poison_status, 0);
	assert_false(bal(f)->cfg.oom_deflate);
}

/* 5.5.3.1: an OS that poisons may not report without PAGE_POISON. */
static void
test_reporting_needs_poison(void **state)
{
	struct devmodel *f = *state;
	int cookie;

	f->offered = F_V1 | F_REPORT;
	f->cfg.poison = true;
	attach(f);
	assert_int_equal(f->driver_features, F_V1);
	assert_int_equal(viomb_report(f->sc, 0x200000, 4096, &cookie),
	    BN_ENODEV);
	assert_int_equal(viomb_report_room(f->sc), 0);
}

static void
inflate_to(struct devmodel *f, uint32_t pages)
{
	f->num_pages = pages;
	settle(f);
	assert_int_equal(bal(f)->pages, pages);
}

/*
 * One device offering "opt" of STATS_VQ, FREE_PAGE_HINT and REPORTING, a
 * driver taking statistics and reports or not: each queue it uses is at
 * the device's index, each message arrives on the device's queue of its
 * kind, and the driver touches no queue it did not negotiate (dm_check()).
 */
static void
check_layout(uint64_t opt, bool stats, bool report)
{
	uint64_t take = (stats ? F_STATS : 0) | (report ? F_REPORT : 0);
	struct devmodel *f;
	void *st;
	int cookie, i, qs, qr;

	setup(&st);
	f = st;
	f->offered = F_V1 | F_MTH | opt;
	if (!stats)
		f->os.nstats = 0;
	if (!report)
		f->cfg.report_done = NULL;
	attach(f);
	assert_int_equal(f->driver_features, F_V1 | F_MTH | (opt & take));
	qs = viomb_has(f->sc, VIRTIO_BALLOON_F_STATS_VQ) ?
	    dm_vq_index(f, VIOMB_VQ_STATS) : -1;
	qr = viomb_has(f->sc, VIRTIO_BALLOON_F_REPORTING) ?
	    dm_vq_index(f, VIOMB_VQ_REPORTING) : -1;
	for (i = 2; i < NQ; i++)
		assert_int_equal(f->q[i].enabled, i == qs || i == qr);
	if (qs >= 0) {
		assert_int_equal(f->sc->statsq.index, qs);
		assert_int_equal(seen(f)->stats_len, 3 * VIOMB_STAT_BYTES);
	}
	inflate_to(f, 64);
	inflate_to(f, 0);
	if (qr < 0) {
		assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000,
		    &cookie), BN_ENODEV);
	} else {
		assert_int_equal(f->sc->reportq.index, qr);
		assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000,
		    &cookie), BN_OK);
		viomb_report_kick(f->sc);
		assert_int_equal(seen(f)->reports, 1);
		assert_int_equal(seen(f)->report_errors, 0);
		assert_true(dm_complete_id(f, qr, seen(f)->report_head[0]));
		bn_balloon_run(bal(f));
		assert_int_equal(seen(f)->ndone, 1);
	}
	teardown(&st);
}

/* 5.5.2 as QEMU 7.2 reads it: whatever subset is offered and taken. */
static void
test_queue_layouts(void **state)
{
	uint64_t opt[] = { 0, F_STATS, F_HINT, F_REPORT, F_STATS | F_HINT,
	    F_STATS | F_REPORT, F_HINT | F_REPORT, F_STATS | F_HINT | F_REPORT };
	size_t i;
	int take;

	(void)state;
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		for (take = 0; take < 4; take++)
			check_layout(opt[i], take & 1, take & 2);
}

/* A device that now offers another set of queues is not ours any more. */
static void
test_restart_new_layout(void **state)
{
	struct devmodel *f = *state;

	attach(f);
	f->offered &= ~F_HINT;		/* reporting_vq would move to 3 */
	dm_needs_reset(f);
	bn_balloon_run(bal(f));
	assert_true(fake_log_contains(&f->os, "device reset failed"));
	assert_false(f->q[3].enabled);
	f->offered |= F_HINT;
	f->os.now_ms += 1000;
	bn_balloon_run(bal(f));
	assert_int_equal(f->sc->resets, 2);
	assert_true(f->q[4].enabled);
	assert_false(f->q[3].enabled);
}

/* --- statistics ---------------------------------------------------------- */

/* 5.5.5: one buffer published before DRIVER_OK, notified after it. */
static void
test_stats_first_buffer(void **state)
{
	struct devmodel *f = *state;
	uint16_t tag;
	uint64_t val;

	attach(f);
	assert_int_equal(f->q[2].avail_at_ok, 1);
	assert_int_equal(f->q[2].notifies, 1);
	assert_true(stats_held(f));
	assert_int_equal(seen(f)->stats_len, 3 * VIOMB_STAT_BYTES);
	stat_at(f, 0, &tag, &val);
	assert_int_equal(tag, BN_MEMSTAT_MEMFREE);
	assert_int_equal(val, 1000 * BN_PAGE_SIZE);
	stat_at(f, 1, &tag, &val);
	assert_int_equal(tag, BN_MEMSTAT_MEMTOT);
	assert_int_equal(val, RAM_PAGES * BN_PAGE_SIZE);
	assert_int_equal(bal(f)->stats.stats_updates, 1);
}

/* 5.5.6.3: refreshed when the device returns it; same tags always. */
/* After a reset as at attach: published before DRIVER_OK, notified after. */
static void
test_stats_after_reset(void **state)
{
	struct devmodel *f = *state;
	unsigned notifies;

	attach(f);
	notifies = f->q[2].notifies;
	dm_needs_reset(f);
	bn_balloon_run(bal(f));
	assert_int_equal(f->sc->resets, 1);
	assert_int_equal(f->q[2].avail_at_ok, 1);
	assert_int_equal(f->q[2].notifies, notifies + 1);
	assert_true(stats_held(f));
	assert_int_equal(bal(f)->stats.stats_updates, 2);
}

static void
test_stats_refresh(void **state)
{
	struct devmodel *f = *state;
	uint16_t tag;
	uint64_t val;

	attach(f);
	set_stats(f, 0x123456789aull, RAM_PAGES * BN_PAGE_SIZE);
	bn_balloon_run(bal(f));
	assert_int_equal(f->q[2].notifies, 1);	/* not asked: nothing new */
	dev_stats_poll(f);
	bn_balloon_run(bal(f));
	assert_true(stats_held(f));
	assert_int_equal(f->q[2].notifies, 2);
	stat_at(f, 0, &tag, &val);
	assert_int_equal(val, 0x123456789aull);

	/* The port drops AVAIL and adds CACHES: the set stays as it was. */
	f->os.stats[2] = (struct bn_memstat){ BN_MEMSTAT_CACHES, 7 };
	f->os.stats[0].val = 4096;
	dev_stats_poll(f);
	bn_balloon_run(bal(f));
	assert_int_equal(seen(f)->stats_len, 3 * VIOMB_STAT_BYTES);
	stat_at(f, 2, &tag, &val);
	assert_int_equal(tag, BN_MEMSTAT_AVAIL);
	assert_int_equal(val, 0x123456789aull);	/* the last value it had */
	stat_at(f, 0, &tag, &val);
	assert_int_equal(val, 4096);
	assert_int_equal(bal(f)->stats.stats_updates, 3);
}

/* A device returning the stats buffer twice, or a bogus one. */
static void
test_stats_misbehaving_device(void **state)
{
	struct devmodel *f = *state;

	attach(f);
	dev_stats_poll(f);
	dm_push_used(f, 2, f->q[2].last_head, 0);	/* again */
	dm_push_used(f, 2, 60, 0);			/* never posted */
	bn_balloon_run(bal(f));
	assert_true(fake_log_contains(&f->os, "device returned 2 bogus"));
	assert_true(stats_held(f));		/* still one buffer out */
	assert_int_equal(virtq_busy(&f->sc->statsq), 1);
	dev_stats_poll(f);
	bn_balloon_run(bal(f));
	assert_int_equal(virtq_busy(&f->sc->statsq), 1);
	assert_int_equal(bal(f)->stats.stats_updates, 3);
}

/* --- deflate on OOM ------------------------------------------------------ */

/* Bounded steps; the balloon stays smaller until the host speaks. */
static void
test_oom_reclaim(void **state)
{
	struct devmodel *f = *state;
	uint64_t got, used;

	attach(f);
	inflate_to(f, 1000);
	used = f->os.nused;
	assert_int_equal(bn_balloon_reclaim(bal(f), 300, &got), BN_OK);
	assert_int_equal(got, 300);
	assert_int_equal(bal(f)->pages, 700);
	assert_int_equal(f->actual, 700);
	assert_int_equal(f->os.nused, used - 300);	/* back in the OS */
	assert_int_equal(bal(f)->stats.oom_deflated, 300);
	assert_int_equal(f->q[1].notifies, 2);	/* 256 + 44 */
	assert_int_equal(f->os.filled, 0);	/* no poison */
	/* The engine does not inflate into that memory again... */
	bn_balloon_run(bal(f));
	assert_int_equal(bal(f)->pages, 700);
	assert_int_equal(bn_balloon_check(bal(f)), BN_OK);
	/* ... until the host sets a new target. */
	f->num_pages = 900;
	settle(f);
	assert_int_equal(bal(f)->pages, 900);
	assert_true(fake_log_contains(&f->os, "out of memory: took 300 pages"));
}

/* 5.5.6.1: without DEFLATE_ON_OOM the balloon is untouched. */
static void
test_oom_not_negotiated(void **state)
{
	struct devmodel *f = *state;
	uint64_t got = 99;

	f->offered &= ~F_OOM;
	attach(f);
	inflate_to(f, 500);
	assert_int_equal(bn_balloon_reclaim(bal(f), 100, &got), BN_EPERM);
	assert_int_equal(got, 0);
	assert_int_equal(bal(f)->pages, 500);
	assert_int_equal(f->actual, 500);
	assert_int_equal(f->q[1].notifies, 0);
}

/* An empty balloon has nothing to give. */
static void
test_oom_empty(void **state)
{
	struct devmodel *f = *state;
	uint64_t got;

	attach(f);
	assert_int_equal(bn_balloon_reclaim(bal(f), 10, &got), BN_ENOMEM);
	assert_int_equal(bal(f)->stats.oom_failures, 1);
}

/* The device never acknowledges: a bounded wait, then the pages stay. */
static void
test_oom_device_hangs(void **state)
{
	struct devmodel *f = *state;
	uint64_t got, t0, used;

	attach(f);
	inflate_to(f, 400);
	used = f->os.nused;
	f->hold = true;
	f->tick = true;
	t0 = f->os.now_ms;
	assert_int_equal(bn_balloon_reclaim(bal(f), 100, &got),
	    BN_ETIMEDOUT);
	assert_int_equal(got, 0);
	assert_true(f->os.now_ms - t0 >= BN_OOM_WAIT_MS);
	assert_true(f->os.now_ms - t0 < BN_OOM_WAIT_MS + 50);
	/* MUST_TELL_HOST: not one page reused without the ack. */
	assert_int_equal(f->os.nused, used);
	assert_int_equal(bal(f)->pages, 400);
	/* A late acknowledgement completes it. */
	dm_process(f, 1);
	bn_balloon_run(bal(f));
	assert_int_equal(bal(f)->pages, 300);
	assert_int_equal(f->os.nused, used - 100);
	assert_int_equal(bn_balloon_check(bal(f)), BN_OK);
}

/* 5.5.6.4.1: pages taken back hold poison_val. */
static void
test_oom_poison(void **state)
{
	struct devmodel *f = *state;
	uint64_t got, i, pfn;
	uint32_t w;

	f->cfg.poison = true;
	f->cfg.poison_val = POISON;
	attach(f);
	inflate_to(f, 100);
	assert_int_equal(bn_balloon_reclaim(bal(f), 10, &got), BN_OK);
	assert_int_equal(f->os.filled, 10);
	for (i = 0; i < 10; i++) {
		pfn = bal(f)->req[0].pfns[i];
		memcpy(&w, va(f, pfn << 12) + 4092, 4);
		assert_int_equal(w, POISON);
	}
}

/* --- free page reporting ------------------------------------------------- */

/* 5.5.6.7: device-writable ranges; callback after the ack only. */
static void
test_report(void **state)
{
	struct devmodel *f = *state;
	int a, b;

	attach(f);
	assert_int_equal(viomb_report_room(f->sc), 64);
	assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000, &a), BN_OK);
	assert_int_equal(viomb_report(f->sc, 0x600000, 0x400000, &b), BN_OK);
	assert_int_equal(seen(f)->reports, 0);	/* not before the kick */
	viomb_report_kick(f->sc);
	assert_int_equal(seen(f)->reports, 2);
	assert_int_equal(seen(f)->report_errors, 0);
	assert_int_equal(seen(f)->report_pa[1], 0x600000);
	assert_int_equal(seen(f)->report_len[1], 0x400000);
	assert_int_equal(bal(f)->stats.reported, 0x600000 / 4096);
	bn_balloon_run(bal(f));
	assert_int_equal(seen(f)->ndone, 0);
	assert_true(dm_complete_id(f, QREPORT, seen(f)->report_head[1]));
	bn_balloon_run(bal(f));
	assert_int_equal(seen(f)->ndone, 1);
	assert_ptr_equal(seen(f)->done[0], &b);
	/* Bad ranges are refused. */
	assert_int_equal(viomb_report(f->sc, 0x200001, 4096, &a), BN_EINVAL);
	assert_int_equal(viomb_report(f->sc, 0x200000, 0, &a), BN_EINVAL);
	assert_int_equal(viomb_report(f->sc, 0x200000, 4096, NULL),
	    BN_EINVAL);
}

/* Used entries for reports never made, or made once, are dropped. */
static void
test_report_misbehaving_device(void **state)
{
	struct devmodel *f = *state;
	int a, b;

	attach(f);
	assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000, &a), BN_OK);
	viomb_report_kick(f->sc);
	assert_true(dm_complete_id(f, QREPORT, seen(f)->report_head[0]));
	dm_push_used(f, QREPORT, seen(f)->report_head[0], 0);	/* twice */
	dm_push_used(f, QREPORT, 33, 0);			/* never posted */
	bn_balloon_run(bal(f));
	assert_int_equal(seen(f)->ndone, 1);
	assert_true(fake_log_contains(&f->os, "device returned 2 bogus"));
	/*
	 * A used index running ahead of what was posted breaks the queue:
	 * the device is reset (viomb_reset.c) and the report still in
	 * flight comes back to the OS, once.
	 */
	assert_int_equal(viomb_report(f->sc, 0x400000, 0x200000, &b), BN_OK);
	viomb_report_kick(f->sc);
	vio_write16(va(f, f->q[QREPORT].used) + 2, 1000);
	bn_balloon_run(bal(f));
	bn_balloon_run(bal(f));
	assert_true(fake_log_contains(&f->os, "corrupted a used ring"));
	assert_int_equal(seen(f)->ndone, 2);
	assert_ptr_equal(seen(f)->done[1], &b);
	assert_false(f->sc->reportq.broken);
	assert_int_equal(viomb_report_room(f->sc), 64);
}

/* Detached with reports in flight: every page goes back to the OS. */
static void
test_report_detach(void **state)
{
	struct devmodel *f = *state;
	int a, b;

	attach(f);
	assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000, &a), BN_OK);
	assert_int_equal(viomb_report(f->sc, 0x600000, 0x200000, &b), BN_OK);
	viomb_report_kick(f->sc);
	assert_int_equal(seen(f)->reports, 2);
	viomb_detach(f->sc);
	assert_int_equal(seen(f)->ndone, 2);
	assert_ptr_equal(seen(f)->done[0], &a);
	assert_ptr_equal(seen(f)->done[1], &b);
}

/* A reset that fails still gives the reports back, once. */
static void
test_report_restart_fails(void **state)
{
	struct devmodel *f = *state;
	int a;

	attach(f);
	assert_int_equal(viomb_report(f->sc, 0x200000, 0x200000, &a), BN_OK);
	viomb_report_kick(f->sc);
	f->refuse_features_ok = true;
	dm_needs_reset(f);
	bn_balloon_run(bal(f));
	assert_true(fake_log_contains(&f->os, "device reset failed"));
	assert_int_equal(seen(f)->ndone, 1);
	assert_ptr_equal(seen(f)->done[0], &a);
	/* The next reset works; nothing is given back twice. */
	f->refuse_features_ok = false;
	f->os.now_ms += 1000;
	bn_balloon_run(bal(f));
	assert_int_equal(f->sc->resets, 2);
	assert_int_equal(seen(f)->ndone, 1);
	assert_int_equal(viomb_report_room(f->sc), 64);
}

int
main(void)
{
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_negotiate_all),
		T(test_negotiate_no_poison),
		T(test_reporting_needs_poison),
		T(test_queue_layouts),
		T(test_restart_new_layout),
		T(test_stats_first_buffer),
		T(test_stats_after_reset),
		T(test_stats_refresh),
		T(test_stats_misbehaving_device),
		T(test_oom_reclaim),
		T(test_oom_not_negotiated),
		T(test_oom_empty),
		T(test_oom_device_hangs),
		T(test_oom_poison),
		T(test_report),
		T(test_report_misbehaving_device),
		T(test_report_detach),
		T(test_report_restart_fails),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
