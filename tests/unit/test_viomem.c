/*
 * The virtio-mem front-end over the device model of tests/harness/
 * memmodel.c: growing and shrinking, blocks in use, every answer of
 * 5.15.6 (honest and forced), a region the OS cannot use, and hostile
 * configuration values.  mm_check() runs after every step.
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
#include <ballonet/sysctl.h>
#include <ballonet/priv/balloon_priv.h>

#include "fake_port.h"
#include "memmodel.h"
#include "viomem.h"
#include "virtio.h"

#define MiB		(1ull << 20)
#define BLOCK		(2 * MiB)
#define BLOCKS		128		/* a 256 MiB region */
#define RUNS		200

static int
setup(void **state)
{
	*state = mm_new(BLOCK, BLOCKS);
	return 0;
}

static int
teardown(void **state)
{
	mm_free(*state);
	return 0;
}

static void
checked(struct memmodel *f)
{
	const char *why = mm_check(f);

	if (why != NULL)
		fail_msg("%s", why);
}

/*
 * Run until settled, checking after every step; the first run reads the
 * new wish, so settled means something only after it.
 */
static void
settle(struct memmodel *f)
{
	int i;

	for (i = 0; i < RUNS; i++) {
		mm_run(f, 1);
		checked(f);
		if (i > 0 && viomem_settled(&f->sc))
			break;
	}
	assert_true(viomem_settled(&f->sc));
}

static void
attached(struct memmodel *f)
{
	assert_int_equal(mm_attach(f), BN_OK);
	assert_true((f->status & VIRTIO_STATUS_DRIVER_OK) != 0);
	checked(f);
}

/* Plug when requested_size rises, unplug when it falls, whole blocks. */
static void
test_grow_shrink(void **state)
{
	struct memmodel *f = *state;

	attached(f);
	assert_true((f->sc.features &
	    (1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE)) != 0);
	mm_request(f, 100 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 100 * MiB);
	assert_int_equal(mm_os_blocks(f), 50);
	/* The lowest blocks: the highest stay free for an unplug. */
	assert_true(f->plugged[0] && f->plugged[49] && !f->plugged[50]);
	mm_request(f, 256 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 256 * MiB);
	mm_request(f, 40 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 40 * MiB);
	assert_true(f->plugged[19] && !f->plugged[20]);
	mm_request(f, 0);
	settle(f);
	assert_int_equal(f->plugged_size, 0);
	assert_int_equal(mm_os_blocks(f), 0);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_ERROR], 0);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_NACK], 0);
}

/* 5.15.5: memory left plugged at attach goes with UNPLUG_ALL, BUSY or not. */
static void
test_unplug_all_at_attach(void **state)
{
	struct memmodel *f = *state;
	int i;

	for (i = 0; i < 10; i++)
		f->plugged[i] = true;
	f->plugged_size = 10 * BLOCK;
	f->force_resp = VIRTIO_MEM_RESP_BUSY;
	f->force_count = 2;
	attached(f);
	assert_true(f->sc.unplug_all);
	mm_request(f, 0);
	settle(f);
	assert_int_equal(f->unplug_alls, 1);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_BUSY], 2);
	assert_int_equal(f->plugged_size, 0);
	assert_int_equal(mm_os_blocks(f), 0);
	/* Then the host's wish, as usual. */
	mm_request(f, 8 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 8 * MiB);
}

/*
 * A block with pages in use is never unplugged; the shortfall is said once
 * and the driver keeps trying; once freed, the unplug completes.
 */
static void
test_in_use_stays(void **state)
{
	struct memmodel *f = *state;
	int i;

	attached(f);
	mm_request(f, 64 * MiB);
	settle(f);
	for (i = 0; i < 10; i++)
		mm_busy(f, (uint64_t)i, true);
	mm_busy(f, 20, true);
	mm_request(f, 0);
	for (i = 0; i < 50; i++) {
		mm_run(f, 1);
		checked(f);
	}
	assert_int_equal(f->plugged_size, 11 * BLOCK);
	for (i = 0; i < 10; i++)
		assert_true(f->plugged[i]);
	assert_true(f->plugged[20] && !f->plugged[21] && !f->plugged[10]);
	assert_int_equal(fake_log_count(&f->os, "cannot unplug"), 1);
	assert_false(viomem_settled(&f->sc));
	/* Some memory frees up: it goes; the rest when it frees up too. */
	mm_busy(f, 20, false);
	mm_run(f, 3);
	checked(f);
	assert_int_equal(f->plugged_size, 10 * BLOCK);
	for (i = 0; i < 10; i++)
		mm_busy(f, (uint64_t)i, false);
	settle(f);
	assert_int_equal(f->plugged_size, 0);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_ERROR], 0);
}

/* NACK: a plug past requested_size because the host lowered it. */
static void
test_nack(void **state)
{
	struct memmodel *f = *state;
	unsigned before;

	attached(f);
	f->hold = true;
	mm_request(f, 64 * MiB);
	mm_run(f, 1);			/* a plug of 32 blocks goes out */
	assert_int_equal(f->sc.state, VIOMEM_WAIT);
	f->requested = 8 * MiB;		/* lowered before the device looks */
	f->hold = false;
	assert_int_equal(mm_process(f), 1);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_NACK], 1);
	settle(f);
	assert_int_equal(f->plugged_size, 8 * MiB);
	assert_int_equal(mm_os_blocks(f), 4);
	/* A device that NACKs everything: no retry until the wish changes. */
	f->force_resp = VIRTIO_MEM_RESP_NACK;
	f->force_count = 1000;
	mm_request(f, 32 * MiB);
	mm_run(f, 50);
	checked(f);
	before = f->requests;
	mm_run(f, 50);
	assert_int_equal(f->requests, before);
	assert_int_equal(f->plugged_size, 8 * MiB);
	f->force_count = 0;
	mm_request(f, 16 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 16 * MiB);
}

/* BUSY: retried after a delay that doubles, said once. */
static void
test_busy(void **state)
{
	struct memmodel *f = *state;

	attached(f);
	f->force_resp = VIRTIO_MEM_RESP_BUSY;
	f->force_count = 5;
	mm_request(f, 16 * MiB);
	(void)viomem_run(&f->sc);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_BUSY], 1);
	/* Nothing goes out before the delay has passed. */
	(void)viomem_run(&f->sc);
	assert_int_equal(f->requests, 1);
	f->os.now_ms += VIOMEM_BACKOFF_MIN_MS;
	(void)viomem_run(&f->sc);
	assert_int_equal(f->requests, 2);
	(void)viomem_run(&f->sc);	/* BUSY again: twice the delay */
	assert_int_equal(f->sc.backoff_ms, 2 * VIOMEM_BACKOFF_MIN_MS);
	f->os.now_ms += VIOMEM_BACKOFF_MIN_MS;
	(void)viomem_run(&f->sc);
	assert_int_equal(f->requests, 2);
	settle(f);
	assert_int_equal(f->plugged_size, 16 * MiB);
	assert_int_equal(fake_log_count(&f->os, "device busy"), 1);
	/* An unplug answered BUSY gives the blocks back to the OS. */
	f->force_count = 1;
	mm_request(f, 0);
	(void)viomem_run(&f->sc);
	(void)viomem_run(&f->sc);
	checked(f);
	assert_int_equal(mm_os_blocks(f), 8);
	settle(f);
	assert_int_equal(f->plugged_size, 0);
}

/* ERROR: the driver says so and stops; what it plugged stays usable. */
static void
test_error(void **state)
{
	struct memmodel *f = *state;
	unsigned before;

	attached(f);
	mm_request(f, 16 * MiB);
	settle(f);
	f->force_resp = VIRTIO_MEM_RESP_ERROR;
	f->force_count = 1;
	mm_request(f, 0);
	mm_run(f, 5);
	checked(f);
	assert_int_equal(f->sc.state, VIOMEM_BROKEN);
	assert_true(fake_log_contains(&f->os, "with ERROR"));
	assert_int_equal(mm_os_blocks(f), 8);	/* given back */
	before = f->requests;
	mm_request(f, 32 * MiB);
	mm_run(f, 20);
	assert_int_equal(f->requests, before);
}

/* An answer the device never wrote (length 0) is not an ACK. */
static void
test_no_answer(void **state)
{
	struct memmodel *f = *state;

	attached(f);
	f->no_resp = true;
	mm_request(f, 16 * MiB);
	mm_run(f, 5);
	assert_int_equal(f->sc.state, VIOMEM_BROKEN);
	assert_int_equal(mm_os_blocks(f), 0);
	assert_int_equal(f->sc.plugged, 0);
}

/*
 * An ACK that did not change plugged_size (a lying device): the blocks
 * are not given to the OS; an unanswered unplug keeps its blocks out.
 */
static void
test_lying_answers(void **state)
{
	struct memmodel *f = *state;

	attached(f);
	f->force_resp = VIRTIO_MEM_RESP_ACK;
	f->force_count = 1;
	mm_request(f, 16 * MiB);
	mm_run(f, 3);
	checked(f);
	assert_int_equal(f->sc.state, VIOMEM_BROKEN);
	assert_int_equal(mm_os_blocks(f), 0);
	assert_true(fake_log_contains(&f->os, "acknowledged plug but"));

	assert_int_equal(mm_attach(f), BN_OK);
	mm_request(f, 16 * MiB);
	settle(f);
	f->no_resp = true;		/* the device unplugs, says nothing */
	mm_request(f, 0);
	mm_run(f, 3);
	checked(f);
	assert_int_equal(f->sc.state, VIOMEM_BROKEN);
	assert_int_equal(mm_os_blocks(f), 0);
	assert_int_equal(f->plugged_size, 0);
}

/*
 * UNPLUGGED_INACCESSIBLE: accepted when offered (else QEMU refuses
 * FEATURES_OK); without it the driver works the same.
 */
static void
test_inaccessible(void **state)
{
	struct memmodel *f = *state;

	f->offered = 1ull << VIRTIO_F_VERSION_1;
	attached(f);
	assert_int_equal(f->sc.features, 1ull << VIRTIO_F_VERSION_1);
	mm_request(f, 16 * MiB);
	settle(f);
	assert_int_equal(f->plugged_size, 16 * MiB);
	/* Offered with ACPI_PXM: ours is accepted, that one is not. */
	f->offered = 1ull << VIRTIO_F_VERSION_1 |
	    1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE |
	    1ull << VIRTIO_MEM_F_ACPI_PXM;
	assert_int_equal(mm_attach(f), BN_OK);
	assert_int_equal(f->driver_features, 1ull << VIRTIO_F_VERSION_1 |
	    1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE);
}

/* A region the OS cannot map: attached, nothing plugged, said once. */
static void
test_cannot_map(void **state)
{
	struct memmodel *f = *state;

	f->refuse_range = true;
	attached(f);
	assert_true(fake_log_contains(&f->os, "cannot use memory"));
	mm_request(f, 64 * MiB);
	mm_run(f, 20);
	checked(f);
	assert_int_equal(f->requests, 0);
	assert_int_equal(f->plugged_size, 0);
	assert_true(viomem_settled(&f->sc));
}

/* Not virtio-mem, legacy, no VERSION_1, no queue: refused, FAILED. */
static void
test_refused_devices(void **state)
{
	struct memmodel *f = *state;

	f->vdev.device_id = 5;
	assert_int_equal(mm_attach(f), BN_ENODEV);
	f->vdev.device_id = VIRTIO_ID_MEM;
	f->vdev.modern = false;
	assert_int_equal(mm_attach(f), BN_ENODEV);
	f->vdev.modern = true;
	f->offered = 1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
	assert_int_equal(mm_attach(f), BN_ENODEV);
	assert_true((f->status & VIRTIO_STATUS_FAILED) != 0);
	f->offered |= 1ull << VIRTIO_F_VERSION_1;
	f->qmax = 1;
	assert_int_equal(mm_attach(f), BN_ENODEV);
	assert_true((f->status & VIRTIO_STATUS_FAILED) != 0);
	f->qmax = 128;
	f->stuck_reset = true;
	assert_int_equal(mm_attach(f), BN_ETIMEDOUT);
	assert_true(fake_log_contains(&f->os, "device does not reset"));
	f->stuck_reset = false;
	assert_int_equal(mm_attach(f), BN_OK);
	assert_int_equal(viomem_attach(NULL, &f->vdev, &f->cfg), BN_EINVAL);
}

/* Hostile geometry: refused at attach with one line, nothing touched. */
static void
test_hostile_geometry(void **state)
{
	struct memmodel *f = *state;
	static const struct {
		uint64_t bs, addr, size;
	} bad[] = {
		{ 0, 4ull << 30, 64 * MiB },
		{ 3 * MiB, 3ull << 30, 96 * MiB },	/* not a power of two */
		{ 2048, 4ull << 30, 64 * MiB },		/* below a page */
		{ 2ull << 30, 4ull << 30, 4ull << 30 },	/* above 1 GiB */
		{ BLOCK, (4ull << 30) + 4096, 64 * MiB },	/* misaligned */
		{ BLOCK, 4ull << 30, 0 },			/* empty */
		{ BLOCK, 4ull << 30, 64 * MiB + 4096 },	/* partial block */
		{ BLOCK, 0, 64 * MiB },				/* at 0 */
		{ BLOCK, ~(BLOCK - 1), 64 * MiB },		/* wraps */
		{ BLOCK, 4ull << 30, 8192 * BLOCK },	/* past our map */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->block_size = bad[i].bs;
		f->addr = bad[i].addr;
		f->region_size = bad[i].size;
		assert_int_equal(mm_attach(f), BN_ENODEV);
		assert_true((f->status & VIRTIO_STATUS_FAILED) != 0);
		assert_int_equal(f->requests, 0);
	}
	assert_true(fake_log_contains(&f->os, "bad block size"));
	assert_true(fake_log_contains(&f->os, "bad region"));
	assert_true(fake_log_contains(&f->os, "room for"));
}

/*
 * Hostile sizes at run time: requested past usable, usable past the
 * region, sizes that are not whole blocks.  The driver plugs only inside
 * the region and says so once.
 */
static void
test_hostile_sizes(void **state)
{
	struct memmodel *f = *state;

	attached(f);
	f->auto_usable = false;
	f->usable = 64 * MiB;
	mm_request(f, 1ull << 40);		/* 1 TiB, usable 64 MiB */
	settle(f);
	assert_int_equal(f->plugged_size, 64 * MiB);
	f->usable = ~0ull;
	f->requested = ~0ull;
	settle(f);
	assert_int_equal(f->plugged_size, 256 * MiB);
	f->usable = 256 * MiB;
	f->requested = 3 * MiB + 17;		/* rounds down to a block */
	settle(f);
	assert_int_equal(f->plugged_size, 2 * MiB);
	assert_int_equal(f->answered[VIRTIO_MEM_RESP_ERROR], 0);
	assert_int_equal(fake_log_count(&f->os, "usable_region_size"), 1);
	assert_int_equal(fake_log_count(&f->os, "requested_size"), 1);
}

static int
no_submit(void *be, struct bn_request *req)
{
	(void)be;
	(void)req;
	return BN_EBUSY;
}

static void
no_actual(void *be, uint64_t pages)
{
	(void)be;
	(void)pages;
}

/* The balloon's nodes: hotplugged, and max/current/target with it. */
static void
test_sysctl(void **state)
{
	struct memmodel *f = *state;
	static const struct bn_backend_ops ops = { .sysctl_prefix = "hw.x",
	    .submit = no_submit, .set_actual = no_actual };
	static uint64_t bitmap[BN_BITMAP_BYTES(4096) / 8];
	struct bn_balloon *b = calloc(1, sizeof(*b));
	struct bn_config c = {
		.name = "b", .ram_pages = 4096, .max_pfn = 4096,
		.bitmap = bitmap, .batch_pages = 64, .max_inflight = 1,
		.os = &f->os, .ops = &ops,
	};
	uint64_t v;

	assert_non_null(b);
	assert_int_equal(bn_balloon_init(b, &c), BN_OK);
	f->cfg.balloon = b;
	attached(f);
	mm_request(f, 32 * MiB);
	settle(f);
	assert_int_equal(bn_sysctl_read(b, "hw.balloon.hotplugged", &v),
	    BN_OK);
	assert_int_equal(v, 32 * 1024);
	assert_int_equal(bn_sysctl_read(b, "hw.balloon.max", &v), BN_OK);
	assert_int_equal(v, 16 * 1024 + 256 * 1024);	/* usable: the region */
	assert_int_equal(bn_sysctl_read(b, "hw.x.current", &v), BN_OK);
	assert_int_equal(v, 16 * 1024 + 32 * 1024);
	assert_int_equal(bn_sysctl_read(b, "hw.x.target", &v), BN_OK);
	assert_int_equal(v, 16 * 1024 + 32 * 1024);
	/* Above the boot RAM: the balloon empties, the host plugs. */
	assert_int_equal(bn_sysctl_write(b, "hw.x.target", "40000", NULL),
	    BN_OK);
	assert_int_equal(bn_balloon_target_kib(b), 16 * 1024);
	assert_int_equal(bn_sysctl_write(b, "hw.x.target", "999999", NULL),
	    BN_EPERM);
	assert_int_equal(bn_sysctl_write(b, "hw.x.hotplugged", "1", NULL),
	    BN_EPERM);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grow_shrink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unplug_all_at_attach,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_stays, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lying_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inaccessible, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cannot_map, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_devices, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_geometry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_sizes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sysctl, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
