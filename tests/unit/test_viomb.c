/*
 * The virtio balloon front-end with the real engine, over the device model
 * of tests/harness/devmodel.c: it consumes the avail rings, checks the
 * frame numbers it is given and completes the requests.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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

#define RAM_PAGES	4096	/* 16 MiB of fake guest RAM */
#define NQ		DM_NQ
#define BIT(n)		(1ull << (n))
#define F_MTH		BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST)
#define F_V1		BIT(VIRTIO_F_VERSION_1)
#define F_OPTIONAL	(BIT(VIRTIO_BALLOON_F_STATS_VQ) | \
			 BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | \
			 BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT) | \
			 BIT(VIRTIO_BALLOON_F_PAGE_POISON) | \
			 BIT(VIRTIO_BALLOON_F_REPORTING))
#define STATUS_UP	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_DRIVER_OK)

static int
setup(void **state)
{
	*state = dm_new(RAM_PAGES);
	return 0;
}

static int
teardown(void **state)
{
	struct devmodel *f = *state;
	unsigned violations = f->violations;

	dm_free(f);
	assert_int_equal(violations, 0);
	return 0;
}

static int
attach(struct devmodel *f)
{
	return dm_attach(f);
}

static bool
settle(struct devmodel *f)
{
	return dm_settle(f, 1000);
}

/* The device's view and the engine's agree, page by page. */
static void
assert_consistent(struct devmodel *f)
{
	const char *why = dm_check(f);

	if (why != NULL)
		fail_msg("%s", why);
	assert_int_equal(f->os.nheld, f->sc->balloon.pages);
	assert_int_equal(f->os.nused, f->os.nheld);
}

/*
 * 3.1.1 on a modern device offering everything: MTH, V1 and
 * DEFLATE_ON_OOM taken; stats, poison and reporting only when the OS has
 * them (tests/unit/test_features.c), free page hinting never.
 */
static void
test_attach_modern(void **state)
{
	struct devmodel *f = *state;
	uint64_t want = F_MTH | F_V1 | BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	int i;

	f->offered |= F_OPTIONAL;
	f->num_pages = 7;
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->driver_features, want);
	assert_int_equal(f->sc->features, want);
	assert_int_equal(f->status, STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(f->resets, 1);
	/* Optional queues not negotiated: only indices 0 and 1 exist. */
	assert_true(f->q[0].enabled && f->q[1].enabled);
	for (i = 2; i < NQ; i++)
		assert_false(f->q[i].enabled);
	assert_int_equal(f->q[0].size, 128);
	assert_false(f->sc->balloon.cfg.host_floor);
	assert_true(f->sc->balloon.cfg.oom_deflate);
	assert_int_equal(f->sc->balloon.cfg.batch_pages, BN_BATCH_MAX);
	assert_int_equal(f->sc->balloon.cfg.max_inflight, BN_INFLIGHT_MAX);
	assert_int_equal(f->sc->balloon.host_pages, 7);
	assert_true(fake_log_contains(&f->os, "viomb0: fake, features"));
	viomb_detach(f->sc);
	assert_int_equal(f->status, 0);
}

/*
 * ACCESS_PLATFORM (6.1) is accepted when offered: a device behind an IOMMU
 * (iommu_platform=on) refuses FEATURES_OK without it.
 */
static void
test_attach_access_platform(void **state)
{
	struct devmodel *f = *state;
	uint64_t want = F_MTH | F_V1 | BIT(VIRTIO_F_ACCESS_PLATFORM);

	f->offered |= BIT(VIRTIO_F_ACCESS_PLATFORM);
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->driver_features, want);
	assert_int_equal(f->sc->features, want);
	assert_int_equal(f->status, STATUS_UP | VIRTIO_STATUS_FEATURES_OK);
}

/* Without MUST_TELL_HOST offered, nothing but VERSION_1 is accepted. */
static void
test_attach_without_mth(void **state)
{
	struct devmodel *f = *state;

	f->offered = F_V1;
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->driver_features, F_V1);
	f->num_pages = 100;
	assert_true(settle(f));
	assert_int_equal(f->os.nheld, 100);
	assert_consistent(f);
}

/* Legacy: no VERSION_1, no FEATURES_OK step (3.1.2). */
static void
test_attach_legacy(void **state)
{
	struct devmodel *f = *state;

	f->vdev.modern = false;
	f->fixed_size = true;
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->driver_features, F_MTH);
	assert_int_equal(f->status, STATUS_UP);
	f->num_pages = 300;
	assert_true(settle(f));
	assert_consistent(f);
}

/* 3.1.1 step 6: a device clearing FEATURES_OK makes attach fail cleanly. */
static void
test_features_ok_refused(void **state)
{
	struct devmodel *f = *state;

	f->refuse_features_ok = true;
	assert_int_equal(attach(f), BN_ENODEV);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_false(f->status & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->resets, 2);
	assert_false(f->q[0].enabled);
	assert_true(fake_log_contains(&f->os,
	    "viomb0: device refused features"));
}

static void
test_modern_without_version1(void **state)
{
	struct devmodel *f = *state;

	f->offered = F_MTH;
	assert_int_equal(attach(f), BN_ENODEV);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_true(fake_log_contains(&f->os, "viomb0: modern device"));
}

static void
test_wrong_device(void **state)
{
	struct devmodel *f = *state;

	f->vdev.device_id = 1;
	assert_int_equal(attach(f), BN_ENODEV);
	assert_int_equal(f->resets, 0);
	assert_true(fake_log_contains(&f->os, "viomb0: device id 1"));
}

/* Inflate to num_pages, shrink part way, then empty the balloon. */
static void
test_inflate_deflate(void **state)
{
	struct devmodel *f = *state;

	assert_int_equal(attach(f), BN_OK);
	f->num_pages = 3000;
	assert_true(settle(f));
	assert_int_equal(f->os.nheld, 3000);
	assert_int_equal(f->max_batch, BN_BATCH_MAX);
	assert_int_equal(f->inflates, 3);
	assert_consistent(f);

	f->num_pages = 1000;
	assert_true(settle(f));
	assert_int_equal(f->os.nheld, 1000);
	assert_consistent(f);

	f->num_pages = 0;
	assert_true(settle(f));
	assert_int_equal(f->os.nheld, 0);
	assert_int_equal(f->actual, 0);
	assert_consistent(f);
	assert_int_equal(f->os.double_free, 0);
}

/* 5.5.6: actual is written after every completed request. */
static void
test_actual_after_each_batch(void **state)
{
	struct devmodel *f = *state;
	unsigned i;

	f->cfg.batch_pages = 100;
	f->cfg.max_inflight = 2;
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->sc->balloon.cfg.batch_pages, 100);
	assert_int_equal(f->sc->balloon.cfg.max_inflight, 2);
	f->nactual = 0;
	f->num_pages = 1000;
	assert_true(settle(f));
	assert_int_equal(f->nactual, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(f->actual_hist[i], 100 * (i + 1));

	f->nactual = 0;
	f->num_pages = 0;
	assert_true(settle(f));
	assert_int_equal(f->nactual, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(f->actual_hist[i], 900 - 100 * i);
	assert_consistent(f);
}

/* The buffer holds le32 frame numbers of exactly the pages given. */
static void
test_pfns_match(void **state)
{
	struct devmodel *f = *state;
	struct bn_request *req = &f->sc->balloon.req[0];
	uint32_t i;

	f->cfg.batch_pages = 16;
	assert_int_equal(attach(f), BN_OK);
	f->hold = true;
	f->num_pages = 16;
	bn_balloon_run(&f->sc->balloon);
	assert_true(req->busy);
	assert_int_equal(req->npfns, 16);
	for (i = 0; i < 16; i++) {
		uint32_t pfn = vio_read32(&f->sc->pfnbuf[0][i]);

		assert_int_equal(pfn, req->pfns[i]);
		assert_true(f->os.used[pfn - fake_first_pfn()]);
	}
	/* The device has not answered: nothing counted yet. */
	assert_int_equal(f->sc->balloon.pages, 0);
	assert_int_equal(f->actual, 0);

	/* No interrupt either: polling alone finds the completion. */
	dm_process(f, 0);
	f->isr = 0;
	f->hold = false;
	assert_true(settle(f));
	assert_int_equal(f->os.nheld, 16);
	assert_consistent(f);
}

/* 5.5.2: dense numbering by what is offered; the rest take no index. */
static void
test_queue_numbering(void **state)
{
	uint64_t stats = BIT(VIRTIO_BALLOON_F_STATS_VQ);
	uint64_t hint = BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT);
	uint64_t rep = BIT(VIRTIO_BALLOON_F_REPORTING);

	(void)state;
	assert_int_equal(viomb_vq_index(0, VIOMB_VQ_INFLATE), 0);
	assert_int_equal(viomb_vq_index(0, VIOMB_VQ_DEFLATE), 1);
	assert_int_equal(viomb_vq_index(0, VIOMB_VQ_STATS), -1);
	assert_int_equal(viomb_vq_index(rep, VIOMB_VQ_REPORTING), 2);
	assert_int_equal(viomb_vq_index(stats | rep, VIOMB_VQ_REPORTING), 3);
	assert_int_equal(viomb_vq_index(hint | rep, VIOMB_VQ_REPORTING), 3);
	assert_int_equal(viomb_vq_index(stats | hint | rep, VIOMB_VQ_STATS), 2);
	assert_int_equal(viomb_vq_index(stats | hint | rep,
	    VIOMB_VQ_FREE_PAGE), 3);
	assert_int_equal(viomb_vq_index(stats | hint | rep,
	    VIOMB_VQ_REPORTING), 4);
	assert_int_equal(viomb_vq_index(stats | rep, VIOMB_VQ_FREE_PAGE), -1);
	/* Other bits do not shift anything. */
	assert_int_equal(viomb_vq_index(F_OPTIONAL & ~(stats | hint),
	    VIOMB_VQ_REPORTING), 2);
}

/* Odd maximum: the largest power of two below it, where allowed. */
static void
test_queue_sizes(void **state)
{
	struct devmodel *f = *state;

	f->q[0].max = 100;
	f->q[1].max = 4;
	assert_int_equal(attach(f), BN_OK);
	assert_int_equal(f->q[0].size, 64);
	assert_int_equal(f->q[1].size, 4);
	/* In flight never more than a queue holds. */
	assert_int_equal(f->sc->balloon.cfg.max_inflight, 4);
	f->num_pages = 3000;
	assert_true(settle(f));
	assert_consistent(f);
}

/* Legacy PCI cannot shrink a queue: an odd size there is fatal. */
static void
test_queue_size_fixed(void **state)
{
	struct devmodel *f = *state;

	f->fixed_size = true;
	f->q[0].max = 100;
	assert_int_equal(attach(f), BN_EINVAL);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_true(fake_log_contains(&f->os, "viomb0: queue 0 of 64"));
}

static void
test_queue_missing(void **state)
{
	struct devmodel *f = *state;

	f->q[1].max = 0;
	assert_int_equal(attach(f), BN_ENODEV);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_int_equal(f->resets, 2);
	assert_true(fake_log_contains(&f->os, "viomb0: queue 1 missing"));
}

static void
test_config_too_large(void **state)
{
	struct devmodel *f = *state;

	f->cfg.batch_pages = BN_BATCH_MAX + 1;
	assert_int_equal(attach(f), BN_EINVAL);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_true(fake_log_contains(&f->os, "viomb0: batch"));
}

/* The engine refusing the configuration unwinds too. */
static void
test_engine_refuses(void **state)
{
	struct devmodel *f = *state;

	f->cfg.bitmap = NULL;
	assert_int_equal(attach(f), BN_EINVAL);
	assert_true(f->status & VIRTIO_STATUS_FAILED);
	assert_true(fake_log_contains(&f->os, "viomb0: engine"));
}

/* A request returned twice is completed once and the rest logged. */
static void
test_bogus_completion(void **state)
{
	struct devmodel *f = *state;
	struct dm_queue *q = &f->q[0];

	f->cfg.batch_pages = 10;
	assert_int_equal(attach(f), BN_OK);
	f->num_pages = 10;
	assert_true(settle(f));
	dm_push_used(f, 0, q->last_head, 0);	/* again */
	dm_push_used(f, 0, 200, 0);		/* out of range */
	bn_balloon_run(&f->sc->balloon);
	assert_int_equal(f->sc->balloon.pages, 10);
	assert_int_equal(f->sc->balloon.stats.requests, 1);
	assert_true(fake_log_contains(&f->os,
	    "viomb0: device returned 2 bogus buffers"));
	assert_consistent(f);
	/* Still works afterwards. */
	f->num_pages = 20;
	assert_true(settle(f));
	assert_consistent(f);
}

/* A frame number above 32 bits is refused, never truncated. */
static void
test_pfn_above_32_bits(void **state)
{
	struct devmodel *f = *state;
	struct bn_request *req = &f->sc->balloon.req[0];
	const struct bn_backend_ops *ops;

	assert_int_equal(attach(f), BN_OK);
	ops = f->sc->balloon.cfg.ops;
	req->dir = BN_INFLATE;
	req->npfns = 2;
	req->pfns[0] = 0x1234;
	req->pfns[1] = 1ull << 32;
	req->busy = true;
	assert_int_equal(ops->submit(f->sc, req), BN_ERANGE);
	assert_int_equal(vio_read16(dm_va(f, f->q[0].avail) + 2), 0);
	assert_true(fake_log_contains(&f->os,
	    "viomb0: frame 0x100000000 beyond 32 bits"));
	assert_null(ops->set_target);
	req->busy = false;
}

/* EBUSY when the queue has no free descriptor. */
static void
test_submit_busy(void **state)
{
	struct devmodel *f = *state;
	struct bn_request *req = &f->sc->balloon.req[1];
	static int cookie;

	f->q[0].max = 2;
	assert_int_equal(attach(f), BN_OK);
	f->hold = true;
	assert_int_equal(virtq_add(&f->sc->inflateq, 0x1000, 4, &cookie),
	    BN_OK);
	assert_int_equal(virtq_add(&f->sc->inflateq, 0x1000, 4, &cookie),
	    BN_OK);
	req->dir = BN_INFLATE;
	req->npfns = 1;
	req->pfns[0] = fake_first_pfn();
	assert_int_equal(f->sc->balloon.cfg.ops->submit(f->sc, req), BN_EBUSY);
	/* A request that is not one of the engine's slots. */
	req = &f->sc->balloon.req[BN_INFLIGHT_MAX - 1];
	f->sc->nslots = 2;
	assert_int_equal(f->sc->balloon.cfg.ops->submit(f->sc, req),
	    BN_EINVAL);
}

/* The interrupt only reads the ISR and wakes the worker. */
static void
test_intr(void **state)
{
	struct devmodel *f = *state;
	uint64_t wakeups;

	assert_int_equal(attach(f), BN_OK);
	wakeups = f->os.wakeups;
	assert_int_equal(viomb_intr(f->sc), 0);
	assert_int_equal(f->os.wakeups, wakeups);

	f->isr = VIRTIO_ISR_CONFIG;
	f->num_pages = 50;
	assert_int_equal(viomb_intr(f->sc), 1);
	assert_int_equal(f->os.wakeups, wakeups + 1);
	assert_int_equal(f->isr, 0);
	/* Nothing read yet but the ISR: the worker reads num_pages. */
	assert_int_equal(f->sc->balloon.host_pages, 0);
	assert_true(settle(f));
	assert_int_equal(f->sc->balloon.host_pages, 50);
	assert_int_equal(f->os.nheld, 50);
	assert_consistent(f);
}

/*
 * virtio-mmio identification (4.2.2.2): a register window in the fake's
 * DMA area stands in for the device.  Registers have no side effects
 * here, so only the checks and offsets are exercised.
 */
static void
test_mmio_probe(void **state)
{
	struct devmodel *f = *state;
	struct virtio_dev d;
	bn_paddr_t pa;
	uint8_t *r = bn_port_dma_alloc(&f->os, 4096, &pa);

	assert_non_null(r);
	vio_write32(r + 0x000, 0x74726976);
	vio_write32(r + 0x004, 2);
	vio_write32(r + 0x008, VIRTIO_ID_BALLOON);
	vio_write32(r + 0x010, 1);			/* features */
	vio_write32(r + 0x100, 4242);			/* num_pages */
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_OK);
	assert_true(d.modern);
	assert_int_equal(d.device_id, VIRTIO_ID_BALLOON);
	assert_string_equal(virtio_transport_name(&d), "mmio");
	assert_int_equal(virtio_config_read32(&d, 0), 4242);
	assert_int_equal(virtio_get_features(&d), 0x100000001ull);
	virtio_config_write32(&d, VIRTIO_BALLOON_CFG_ACTUAL, 77);
	assert_int_equal(vio_read32(r + 0x104), 77);
	/* Writing InterruptStatus back to InterruptACK. */
	vio_write32(r + 0x060, 3);
	assert_int_equal(virtio_isr(&d), 3);
	assert_int_equal(vio_read32(r + 0x064), 3);

	vio_write32(r + 0x004, 1);
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_OK);
	assert_false(d.modern);
	vio_write32(r + 0x004, 3);
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_ENODEV);
	vio_write32(r + 0x004, 2);
	vio_write32(r + 0x008, 0);		/* placeholder slot */
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_ENODEV);
	vio_write32(r + 0x008, VIRTIO_ID_BALLOON);
	vio_write32(r + 0x000, 0x12345678);
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_ENODEV);
	assert_int_equal(virtio_mmio_attach(&d, &f->os, 0x10), BN_ENOMEM);
	/* Refused windows are unmapped (the two attaches above stay mapped). */
	assert_int_equal(f->os.maps - f->os.unmaps, 2);
	vio_write32(r + 0x000, 0x74726976);
	assert_int_equal(virtio_mmio_attach(&d, &f->os, pa), BN_OK);
	assert_int_equal(f->os.maps - f->os.unmaps, 3);
	virtio_detach(&d);
	assert_null(d.ops);
	assert_int_equal(f->os.maps - f->os.unmaps, 2);
}

int
main(void)
{
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_attach_modern),
		T(test_attach_access_platform),
		T(test_attach_without_mth),
		T(test_attach_legacy),
		T(test_features_ok_refused),
		T(test_modern_without_version1),
		T(test_wrong_device),
		T(test_inflate_deflate),
		T(test_actual_after_each_batch),
		T(test_pfns_match),
		T(test_queue_numbering),
		T(test_queue_sizes),
		T(test_queue_size_fixed),
		T(test_queue_missing),
		T(test_config_too_large),
		T(test_engine_refuses),
		T(test_bogus_completion),
		T(test_pfn_above_32_bits),
		T(test_submit_busy),
		T(test_intr),
		T(test_mmio_probe),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
