/*
 * Split virtqueues against a device simulated in the test: it reads the
 * avail ring and writes the used ring in the fake port's DMA area.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_port.h"
#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

/* The device's view of one queue. */
struct fdev {
	struct virtio_dev vdev;		/* first: ops get a pointer to it */
	struct fake_os	os;
	uint16_t	max;		/* queue_max */
	int		enable_error;	/* queue_enable returns it */
	uint16_t	size;
	bn_paddr_t	desc, avail, used;
	unsigned	notifies;
	uint16_t	avail_seen;	/* next avail entry to consume */
	uint16_t	used_idx;	/* the device's used->idx */
	uint16_t	popped[64];	/* heads consumed, in order */
	unsigned	npopped;
};

static struct fdev *
fdev_of(struct virtio_dev *d)
{
	return (struct fdev *)d;
}

static uint16_t
f_queue_max(struct virtio_dev *d, uint16_t idx)
{
	(void)idx;
	return fdev_of(d)->max;
}

static int
f_queue_enable(struct virtio_dev *d, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	struct fdev *f = fdev_of(d);

	(void)idx;
	if (f->enable_error != 0)
		return f->enable_error;
	f->size = size;
	f->desc = desc;
	f->avail = avail;
	f->used = used;
	return BN_OK;
}

static void
f_notify(struct virtio_dev *d, uint16_t idx)
{
	(void)idx;
	fdev_of(d)->notifies++;
}

static const struct virtio_transport_ops f_ops = {
	.name = "fake",
	.queue_max = f_queue_max,
	.queue_enable = f_queue_enable,
	.notify = f_notify,
};

static uint8_t *
va(struct fdev *f, bn_paddr_t pa)
{
	uint8_t *p = fake_pa_to_va(&f->os, pa);

	assert_non_null(p);
	return p;
}

/* Take every new avail entry, as a device would. */
static void
dev_pop(struct fdev *f)
{
	uint16_t idx = vio_read16(va(f, f->avail) + 2);

	while (f->avail_seen != idx) {
		uint16_t head = vio_read16(va(f, f->avail) + 4 +
		    2 * (f->avail_seen % f->size));

		f->popped[f->npopped++ % 64] = head;
		f->avail_seen++;
	}
}

/* Put one used entry, whatever its id. */
static void
dev_use(struct fdev *f, uint32_t id, uint32_t len)
{
	uint8_t *e = va(f, f->used) + 4 + 8 * (f->used_idx % f->size);

	vio_write32(e, id);
	vio_write32(e + 4, len);
	f->used_idx++;
	vio_write16(va(f, f->used) + 2, f->used_idx);
}

static int
setup(void **state)
{
	struct fdev *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_os_init(&f->os, 16);
	f->vdev.ops = &f_ops;
	f->vdev.os = &f->os;
	f->vdev.device_id = VIRTIO_ID_BALLOON;
	f->vdev.modern = true;
	f->max = 8;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fdev *f = *state;

	fake_os_fini(&f->os);
	free(f);
	return 0;
}

static int c[64];	/* cookies: addresses of its elements */

/* One buffer out and back: descriptor, avail entry, notify, used. */
static void
test_round_trip(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	uint8_t *d;
	void *cookie;
	uint32_t len;

	assert_int_equal(virtq_init(&vq, &f->vdev, 3, 8), BN_OK);
	assert_int_equal(f->size, 8);
	assert_int_equal(virtq_add(&vq, 0x123000, 40, &c[0]), BN_OK);
	/* Not visible before the kick. */
	assert_int_equal(vio_read16(va(f, f->avail) + 2), 0);
	virtq_kick(&vq);
	assert_int_equal(f->notifies, 1);
	assert_int_equal(vio_read16(va(f, f->avail) + 2), 1);

	dev_pop(f);
	assert_int_equal(f->npopped, 1);
	d = va(f, f->desc) + 16 * f->popped[0];
	assert_int_equal(*(uint64_t *)d, 0x123000);
	assert_int_equal(vio_read32(d + 8), 40);
	assert_int_equal(vio_read16(d + 12), 0);	/* device-readable */

	assert_false(virtq_get_used(&vq, &cookie, &len));
	dev_use(f, f->popped[0], 0);
	assert_true(virtq_get_used(&vq, &cookie, &len));
	assert_ptr_equal(cookie, &c[0]);
	assert_int_equal(len, 0);
	assert_false(virtq_get_used(&vq, &cookie, &len));
	assert_int_equal(vq.errors, 0);
	assert_int_equal(virtq_busy(&vq), 0);

	/* An empty kick does not bother the device. */
	virtq_kick(&vq);
	assert_int_equal(f->notifies, 1);
	virtq_fini(&vq);
}

/*
 * A request chained to its answer: NEXT then WRITE; both descriptors come
 * back with the head; a used entry naming the tail is bogus; fewer than
 * two free descriptors is EBUSY.
 */
static void
test_pair(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	uint8_t *d0, *d1;
	void *cookie;
	uint32_t len;
	uint16_t tail;
	int round;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 4), BN_OK);
	for (round = 0; round < 20; round++) {
		assert_int_equal(virtq_add_pair(&vq, 0x1000, 24, 0x1040, 10,
		    &c[0]), BN_OK);
		assert_int_equal(virtq_busy(&vq), 2);
		virtq_kick(&vq);
		dev_pop(f);
		d0 = va(f, f->desc) + 16 * f->popped[(f->npopped - 1) % 64];
		assert_int_equal(*(uint64_t *)d0, 0x1000);
		assert_int_equal(vio_read32(d0 + 8), 24);
		assert_int_equal(vio_read16(d0 + 12), VIRTQ_DESC_F_NEXT);
		tail = vio_read16(d0 + 14);
		d1 = va(f, f->desc) + 16 * tail;
		assert_int_equal(*(uint64_t *)d1, 0x1040);
		assert_int_equal(vio_read32(d1 + 8), 10);
		assert_int_equal(vio_read16(d1 + 12), VIRTQ_DESC_F_WRITE);
		if (round == 3) {
			dev_use(f, tail, 10);	/* the tail: bogus */
			assert_false(virtq_get_used(&vq, &cookie, &len));
			assert_int_equal(vq.errors, 1);
		}
		dev_use(f, f->popped[(f->npopped - 1) % 64], 10);
		assert_true(virtq_get_used(&vq, &cookie, &len));
		assert_ptr_equal(cookie, &c[0]);
		assert_int_equal(len, 10);
		assert_int_equal(virtq_busy(&vq), 0);
	}
	assert_int_equal(virtq_add_pair(&vq, 0x1000, 24, 0x1040, 10, &c[0]),
	    BN_OK);
	assert_int_equal(virtq_add(&vq, 0x2000, 4, &c[1]), BN_OK);
	assert_int_equal(virtq_add_pair(&vq, 0x1000, 24, 0x1040, 10, &c[2]),
	    BN_EBUSY);
	assert_int_equal(virtq_add_pair(&vq, 0x1000, 0, 0x1040, 10, &c[2]),
	    BN_EINVAL);
	assert_int_equal(virtq_add_pair(&vq, 0x1000, 24, 0x1040, 10, NULL),
	    BN_EINVAL);
	virtq_fini(&vq);
}

/* 2.7.10: the device may decline notifications; idx still moves. */
static void
test_no_notify(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 8), BN_OK);
	vio_write16(va(f, f->used), VIRTQ_USED_F_NO_NOTIFY);
	assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[0]), BN_OK);
	assert_int_equal(virtq_add(&vq, 0x2000, 4, &c[1]), BN_OK);
	virtq_kick(&vq);
	assert_int_equal(f->notifies, 0);
	assert_int_equal(vio_read16(va(f, f->avail) + 2), 2);
	vio_write16(va(f, f->used), 0);
	assert_int_equal(virtq_add(&vq, 0x3000, 4, &c[2]), BN_OK);
	virtq_kick(&vq);
	assert_int_equal(f->notifies, 1);
	virtq_fini(&vq);
}

/* Every descriptor posted: EBUSY until one comes back. */
static void
test_full_queue(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	void *cookie;
	uint32_t len;
	int i;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 4), BN_OK);
	for (i = 0; i < 4; i++)
		assert_int_equal(virtq_add(&vq, 0x1000 * (i + 1), 4, &c[i]),
		    BN_OK);
	assert_int_equal(virtq_add(&vq, 0x9000, 4, &c[9]), BN_EBUSY);
	virtq_kick(&vq);
	dev_pop(f);
	dev_use(f, f->popped[2], 0);
	assert_true(virtq_get_used(&vq, &cookie, &len));
	assert_ptr_equal(cookie, &c[2]);
	assert_int_equal(virtq_add(&vq, 0x9000, 4, &c[9]), BN_OK);
	assert_int_equal(virtq_add(&vq, 0xa000, 4, &c[10]), BN_EBUSY);
	assert_int_equal(virtq_add(&vq, 0xa000, 0, &c[10]), BN_EINVAL);
	assert_int_equal(virtq_add(&vq, 0xa000, 4, NULL), BN_EINVAL);
	virtq_fini(&vq);
}

/*
 * Far more buffers than the ring holds, completed out of order, so that
 * the ring positions and the 16-bit indices both wrap.
 */
static void
test_ring_wrap(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	void *cookie;
	uint32_t len;
	unsigned round, k;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 4), BN_OK);
	for (round = 0; round < 70000 / 3; round++) {
		for (k = 0; k < 3; k++)
			assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[k]),
			    BN_OK);
		virtq_kick(&vq);
		f->npopped = 0;
		dev_pop(f);
		assert_int_equal(f->npopped, 3);
		/* Reverse order: the last posted comes back first. */
		for (k = 3; k-- > 0;)
			dev_use(f, f->popped[k], k);
		for (k = 3; k-- > 0;) {
			assert_true(virtq_get_used(&vq, &cookie, &len));
			assert_ptr_equal(cookie, &c[k]);
			assert_int_equal(len, k);
		}
		assert_false(virtq_get_used(&vq, &cookie, &len));
	}
	assert_true(vq.avail_idx < 3 * round);	/* wrapped at 65536 */
	assert_int_equal(vq.errors, 0);
	assert_int_equal(virtq_busy(&vq), 0);
	virtq_fini(&vq);
}

/* Used ids out of range, never posted, or returned twice: dropped. */
static void
test_bogus_used_ids(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	void *cookie;
	uint32_t len;
	uint16_t head;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 8), BN_OK);
	assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[0]), BN_OK);
	assert_int_equal(virtq_add(&vq, 0x2000, 4, &c[1]), BN_OK);
	virtq_kick(&vq);
	dev_pop(f);
	head = f->popped[0];

	dev_use(f, 8, 0);		/* out of range */
	dev_use(f, 0xffffffffu, 0);	/* far out of range */
	dev_use(f, 5, 0);		/* in range, never posted */
	dev_use(f, head, 0);		/* good */
	dev_use(f, head, 0);		/* returned twice */
	assert_true(virtq_get_used(&vq, &cookie, &len));
	assert_ptr_equal(cookie, &c[0]);
	assert_false(virtq_get_used(&vq, &cookie, &len));
	assert_int_equal(vq.errors, 4);
	assert_false(vq.broken);
	assert_int_equal(virtq_busy(&vq), 1);

	/* The queue still works. */
	dev_use(f, f->popped[1], 0);
	assert_true(virtq_get_used(&vq, &cookie, &len));
	assert_ptr_equal(cookie, &c[1]);
	virtq_fini(&vq);
}

/* A used idx more than a ring ahead: the device is broken, stop. */
static void
test_used_idx_runaway(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	void *cookie;
	uint32_t len;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 8), BN_OK);
	assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[0]), BN_OK);
	virtq_kick(&vq);
	vio_write16(va(f, f->used) + 2, 9);
	assert_false(virtq_get_used(&vq, &cookie, &len));
	assert_true(vq.broken);
	assert_int_equal(vq.errors, 1);
	assert_int_equal(virtq_add(&vq, 0x2000, 4, &c[1]), BN_EIO);
	virtq_fini(&vq);
}

/* Size 1 is a power of two: one buffer at a time. */
static void
test_size_one(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;
	void *cookie;
	uint32_t len;
	int i;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 1), BN_OK);
	for (i = 0; i < 5; i++) {
		assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[i]), BN_OK);
		assert_int_equal(virtq_add(&vq, 0x2000, 4, &c[9]), BN_EBUSY);
		virtq_kick(&vq);
		dev_pop(f);
		dev_use(f, 0, 0);
		assert_true(virtq_get_used(&vq, &cookie, &len));
		assert_ptr_equal(cookie, &c[i]);
	}
	assert_int_equal(f->notifies, 5);
	virtq_fini(&vq);
}

/*
 * 2.7: split queue sizes are powers of two (and "idx % size" must stay
 * continuous when idx wraps).  Odd sizes are refused; a device offering
 * one gets the largest power of two below it where the transport allows.
 */
static void
test_sizes(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 0), BN_EINVAL);
	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 3), BN_EINVAL);
	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 100), BN_EINVAL);
	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 65535), BN_EINVAL);
	assert_null(vq.mem);
	assert_int_equal(f->os.dma_used, 0);

	assert_int_equal(virtq_fit_size(0), 0);
	assert_int_equal(virtq_fit_size(1), 1);
	assert_int_equal(virtq_fit_size(3), 2);
	assert_int_equal(virtq_fit_size(100), 64);
	assert_int_equal(virtq_fit_size(128), 128);
	assert_int_equal(virtq_fit_size(65535), 32768);
	assert_int_equal(virtq_fit_size(0x10000), 32768);
}

/* 2.7.2: desc, avail, padding to 4096, used; what the device is told. */
static void
test_legacy_layout(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 128), BN_OK);
	assert_int_equal(f->desc % 4096, 0);
	assert_int_equal(f->avail, f->desc + 16 * 128);
	assert_int_equal(f->used, f->desc + 4096);
	assert_int_equal(virtq_ring_bytes(128), 8192);
	virtq_fini(&vq);

	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 256), BN_OK);
	assert_int_equal(f->avail, f->desc + 4096);
	assert_int_equal(f->used, f->desc + 8192);	/* 4096 + 518 rounded */
	assert_int_equal(virtq_used_offset(256), 8192);
	assert_int_equal(virtq_ring_bytes(256), 8192 + 4096);
	/* The device starts with flags and idx at 0 (2.7.10). */
	assert_int_equal(vio_read16(va(f, f->used)), 0);
	assert_int_equal(vio_read16(va(f, f->avail) + 2), 0);
	virtq_fini(&vq);
}

/* The transport's refusal and a lack of memory both leave nothing. */
static void
test_init_failures(void **state)
{
	struct fdev *f = *state;
	struct virtqueue vq;

	f->enable_error = BN_EIO;
	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 8), BN_EIO);
	assert_null(vq.mem);
	assert_int_equal(virtq_add(&vq, 0x1000, 4, &c[0]), BN_EIO);
	f->enable_error = 0;
	/* 32768 descriptors need more than the fake's 1 MiB of DMA. */
	assert_int_equal(virtq_init(&vq, &f->vdev, 0, 32768), BN_ENOMEM);
	assert_null(vq.mem);
	assert_int_equal(virtq_init(&vq, NULL, 0, 8), BN_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_notify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ring_wrap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bogus_used_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_used_idx_runaway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_size_one, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_init_failures, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
