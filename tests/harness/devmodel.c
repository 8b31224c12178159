/*
 * The virtio-balloon device model (see devmodel.h).  Ring layouts are the
 * split virtqueue's, VIRTIO 1.2, 2.7; the balloon's rules are 5.5.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel.h"
#include "virtio_io.h"

#define DESC_BYTES	16
#define PFN_BYTES	4

static struct devmodel *
dm_of(struct virtio_dev *d)
{
	return (struct devmodel *)d;
}

static void dm_violation(struct devmodel *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* The driver did what the spec forbids: remember the first. */
static void
dm_violation(struct devmodel *dm, const char *fmt, ...)
{
	va_list ap;

	if (dm->violations++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(dm->violation, sizeof(dm->violation), fmt, ap);
	va_end(ap);
}

/* [pa, pa + len) inside one region of guest memory, or NULL. */
static uint8_t *
dm_span(struct devmodel *dm, bn_paddr_t pa, size_t len)
{
	uint8_t *first = fake_pa_to_va(&dm->os, pa);

	if (first == NULL || len == 0)
		return first;
	if (pa + len - 1 < pa ||
	    (uint8_t *)fake_pa_to_va(&dm->os, pa + len - 1) != first + len - 1)
		return NULL;
	return first;
}

uint8_t *
dm_va(struct devmodel *dm, bn_paddr_t pa)
{
	return fake_pa_to_va(&dm->os, pa);
}

/* The device stops the queue; used entries not read yet stay readable. */
static void
queue_stop(struct dm_queue *q)
{
	q->enabled = false;
	q->nfifo = 0;
	q->avail_seen = 0;
}

static void
queue_free(struct dm_queue *q)
{
	queue_stop(q);
	free(q->fifo);
	free(q->acked);
	q->fifo = NULL;
	q->acked = NULL;
	q->used_idx = 0;
}

/* The next used entry the driver will read (white box: its virtqueue). */
static uint16_t
driver_used_last(struct devmodel *dm, int qi)
{
	const struct virtqueue *vq = qi == 0 ? &dm->sc->inflateq :
	    qi == 1 ? &dm->sc->deflateq : NULL;

	if (vq == NULL || vq->mem == NULL || dm->q[qi].acked == NULL)
		return dm->q[qi].used_idx;
	return vq->used_last;
}

/* Used entries written and not read yet, at most a ring's worth. */
static uint16_t
unread(struct devmodel *dm, int qi)
{
	uint16_t n = (uint16_t)(dm->q[qi].used_idx - driver_used_last(dm, qi));

	return n > dm->q[qi].size ? dm->q[qi].size : n;
}

/* The frames of descriptor "head", or NULL when it is malformed. */
static uint8_t *
desc_frames(struct devmodel *dm, struct dm_queue *q, uint16_t head,
    uint32_t *n)
{
	uint8_t *d = dm_va(dm, q->desc) + DESC_BYTES * (size_t)head;
	uint64_t addr = vio_read32(d) | (uint64_t)vio_read32(d + 4) << 32;
	uint32_t len = vio_read32(d + 8);
	uint8_t *buf;

	/* 5.5.6: one device-readable buffer of le32 frame numbers. */
	if (vio_read16(d + 12) != 0 || len == 0 || len % PFN_BYTES != 0) {
		dm_violation(dm, "descriptor %u: flags 0x%x, len %u", head,
		    vio_read16(d + 12), len);
		return NULL;
	}
	if ((buf = dm_span(dm, addr, len)) == NULL) {
		dm_violation(dm, "descriptor %u: buffer 0x%llx+%u outside "
		    "memory", head, (unsigned long long)addr, len);
		return NULL;
	}
	*n = len / PFN_BYTES;
	return buf;
}

/* Inflate: the host discards the page (held, poisoned).  5.5.6.1. */
static void
frame_in(struct devmodel *dm, uint32_t pfn)
{
	bn_paddr_t pa = (bn_paddr_t)pfn << BN_PAGE_SHIFT;
	uint8_t *p = dm_va(dm, pa);
	size_t i;

	if (pfn < fake_first_pfn() || pfn >= fake_max_pfn(&dm->os) ||
	    fake_page_held(&dm->os, pa)) {
		dm->bad_frames++;
		return;
	}
	for (i = 0; i < BN_PAGE_SIZE; i++) {
		if (p[i] != 0) {
			dm->not_zeroed++;
			break;
		}
	}
	fake_page_hold(&dm->os, pa, true);
}

/* Deflate, once acknowledged: the page is the guest's again. */
static void
frame_out(struct devmodel *dm, uint32_t pfn)
{
	bn_paddr_t pa = (bn_paddr_t)pfn << BN_PAGE_SHIFT;

	if (!fake_page_held(&dm->os, pa)) {
		dm->bad_frames++;
		return;
	}
	fake_page_hold(&dm->os, pa, false);
}

static void
apply_frames(struct devmodel *dm, struct dm_queue *q, uint16_t head,
    void (*fn)(struct devmodel *, uint32_t))
{
	uint8_t *buf;
	uint32_t i, n;

	if ((buf = desc_frames(dm, q, head, &n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		fn(dm, vio_read32(buf + PFN_BYTES * (size_t)i));
}

unsigned
dm_consume(struct devmodel *dm, int qi)
{
	struct dm_queue *q = &dm->q[qi];
	uint16_t idx, head;
	unsigned n = 0;
	uint32_t frames;

	if (!q->enabled || (dm->status & VIRTIO_STATUS_NEEDS_RESET) != 0)
		return 0;
	idx = vio_read16(dm_va(dm, q->avail) + 2);
	if ((uint16_t)(idx - q->avail_seen) > q->size) {
		dm_violation(dm, "queue %d: avail idx %u, %u seen", qi, idx,
		    q->avail_seen);
		return 0;
	}
	while (q->avail_seen != idx) {
		head = vio_read16(dm_va(dm, q->avail) + 4 +
		    2 * (size_t)(q->avail_seen++ % q->size));
		if (head >= q->size || q->nfifo == q->size) {
			dm_violation(dm, "queue %d: head %u of %u", qi, head,
			    q->size);
			continue;
		}
		q->fifo[q->nfifo++] = head;
		q->last_head = head;
		n++;
		if (qi > 1 || desc_frames(dm, q, head, &frames) == NULL)
			continue;
		if (frames > dm->max_batch)
			dm->max_batch = frames;
		if (qi == 0) {
			dm->inflates++;
			apply_frames(dm, q, head, frame_in);
		} else
			dm->deflates++;
	}
	return n;
}

/* Write a used entry unless the driver has a ring's worth unread. */
static bool
push_used(struct devmodel *dm, int qi, uint32_t id, uint32_t len,
    int32_t acked)
{
	struct dm_queue *q = &dm->q[qi];
	uint8_t *used = dm_va(dm, q->used);
	uint16_t slot = (uint16_t)(q->used_idx % q->size);

	if (!q->enabled || unread(dm, qi) >= q->size)
		return false;
	vio_write32(used + 4 + 8 * (size_t)slot, id);
	vio_write32(used + 8 + 8 * (size_t)slot, len);
	q->acked[slot] = acked;
	q->used_idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vio_write16(used + 2, q->used_idx);
	dm->isr |= VIRTIO_ISR_QUEUE;
	return true;
}

void
dm_push_used(struct devmodel *dm, int qi, uint32_t id, uint32_t len)
{
	push_used(dm, qi, id, len, 0);
}

/* Frames in descriptor "head", 0 when it is malformed. */
static uint32_t
frame_count(struct devmodel *dm, struct dm_queue *q, uint16_t head)
{
	uint32_t n;

	return desc_frames(dm, q, head, &n) != NULL ? n : 0;
}


/* Return fifo entry i: deflated frames are the guest's from now on. */
static bool
complete_at(struct devmodel *dm, int qi, uint16_t i)
{
	struct dm_queue *q = &dm->q[qi];
	uint16_t head = q->fifo[i];
	int32_t n = qi > 1 ? 0 : (int32_t)frame_count(dm, q, head);

	if (!push_used(dm, qi, head, dm->used_len, qi == 0 ? n : -n))
		return false;
	memmove(&q->fifo[i], &q->fifo[i + 1],
	    (size_t)(q->nfifo - i - 1) * sizeof(q->fifo[0]));
	q->nfifo--;
	if (qi == 1)
		apply_frames(dm, q, head, frame_out);
	return true;
}

unsigned
dm_complete(struct devmodel *dm, int qi, unsigned n)
{
	struct dm_queue *q = &dm->q[qi];
	unsigned done = 0;

	if ((dm->status & VIRTIO_STATUS_NEEDS_RESET) != 0)
		return 0;
	while (done < n && q->enabled && q->nfifo > 0 &&
	    complete_at(dm, qi, 0))
		done++;
	return done;
}

bool
dm_complete_id(struct devmodel *dm, int qi, uint16_t id)
{
	struct dm_queue *q = &dm->q[qi];
	uint16_t i;

	if ((dm->status & VIRTIO_STATUS_NEEDS_RESET) != 0 || !q->enabled)
		return false;
	for (i = 0; i < q->nfifo; i++) {
		if (q->fifo[i] == id)
			return complete_at(dm, qi, i);
	}
	return false;
}

void
dm_process(struct devmodel *dm, int qi)
{
	dm_consume(dm, qi);
	dm_complete(dm, qi, dm->q[qi].size);
}

static void
frame_rehold(struct devmodel *dm, uint32_t pfn)
{
	fake_page_hold(&dm->os, (bn_paddr_t)pfn << BN_PAGE_SHIFT, true);
}

/*
 * Acknowledgements the driver will never read now: it treats those
 * requests as lost.  Inflated frames go back to the guest, deflated ones
 * stay ballooned: the model follows.
 */
static void
forget_unread(struct devmodel *dm, int qi)
{
	struct dm_queue *q = &dm->q[qi];
	uint16_t k, n = unread(dm, qi), slot;
	uint8_t *used = dm_va(dm, q->used);

	for (k = 0; q->acked != NULL && k < n; k++) {
		slot = (uint16_t)((driver_used_last(dm, qi) + k) % q->size);
		if (q->acked[slot] == 0)
			continue;
		apply_frames(dm, q, (uint16_t)vio_read32(used + 4 + 8 *
		    (size_t)slot), q->acked[slot] > 0 ? frame_out :
		    frame_rehold);
	}
}

/* Consumed inflates never acknowledged: the guest takes them back. */
static void
forget_consumed(struct devmodel *dm)
{
	struct dm_queue *q = &dm->q[0];
	uint16_t i;

	for (i = 0; q->enabled && i < q->nfifo; i++)
		apply_frames(dm, q, q->fifo[i], frame_out);
}

static void
device_reset(struct devmodel *dm)
{
	dm->status = 0;
	dm->isr = 0;
	dm->resets++;
	dm->driver_features = 0;
}

/* 2.1.2 and 3.1.1: the driver resets the device, which forgets the queues. */
static int
f_reset(struct virtio_dev *d)
{
	struct devmodel *dm = dm_of(d);
	int i;

	/* Status never reads back 0: the device keeps everything. */
	if (dm->stuck_reset)
		return BN_ETIMEDOUT;
	forget_consumed(dm);
	forget_unread(dm, 0);
	forget_unread(dm, 1);
	for (i = 0; i < DM_NQ; i++)
		queue_free(&dm->q[i]);
	device_reset(dm);
	return BN_OK;
}

static void
f_set_status(struct virtio_dev *d, uint8_t s)
{
	struct devmodel *dm = dm_of(d);
	int i;

	if (dm->refuse_features_ok)
		s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	for (i = 0; (s & VIRTIO_STATUS_DRIVER_OK) != 0 && i < DM_NQ; i++)
		if (dm->q[i].enabled)
			dm->q[i].avail_at_ok =
			    vio_read16(dm_va(dm, dm->q[i].avail) + 2);
	/* NEEDS_RESET is the device's to set and only a reset clears it. */
	dm->status = (uint8_t)((s & ~VIRTIO_STATUS_NEEDS_RESET) |
	    (dm->status & VIRTIO_STATUS_NEEDS_RESET));
}

static void
f_set_features(struct virtio_dev *d, uint64_t v)
{
	struct devmodel *dm = dm_of(d);

	/* A driver never accepts what was not offered (2.2.1). */
	if ((v & ~dm->offered) != 0)
		dm_violation(dm, "features 0x%llx beyond 0x%llx",
		    (unsigned long long)v, (unsigned long long)dm->offered);
	dm->driver_features = v;
}

static uint64_t
f_get_features(struct virtio_dev *d)
{
	return dm_of(d)->offered;
}

static uint32_t
num_pages_read(struct devmodel *dm)
{
	uint32_t v = dm->num_pages;

	dm->reads++;
	if (dm->flap_pages != 0 && dm->reads % 2 == 0)
		v = dm->flap_pages;
	if (dm->tear && dm->reads % 2 == 1)
		v = (v & 0xffff0000u) | (dm->old_pages & 0xffffu);
	return v;
}

static uint32_t
f_config_read32(struct virtio_dev *d, uint32_t off)
{
	struct devmodel *dm = dm_of(d);

	if (dm->tick)
		dm->os.now_ms++;
	switch (off) {
	case VIRTIO_BALLOON_CFG_NUM_PAGES:
		return num_pages_read(dm);
	case VIRTIO_BALLOON_CFG_ACTUAL:
		return dm->actual;
	case VIRTIO_BALLOON_CFG_POISON_VAL:
		return dm->poison_val;
	}
	dm_violation(dm, "config read at %u", off);
	return 0;
}

static void
f_config_write32(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	struct devmodel *dm = dm_of(d);

	if (off == VIRTIO_BALLOON_CFG_ACTUAL) {
		dm->actual = v;
		dm->actual_hist[dm->nactual++ % 256] = v;
	} else if (off == VIRTIO_BALLOON_CFG_POISON_VAL) {
		dm->poison_val = v;
		dm->poison_status = dm->status;
	} else
		dm_violation(dm, "config write at %u", off);
}

int
dm_vq_index(const struct devmodel *dm, enum viomb_vq vq)
{
	bool stats = (dm->offered & (1ull << VIRTIO_BALLOON_F_STATS_VQ)) != 0;
	bool hint = (dm->offered &
	    (1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT)) != 0;
	bool report = (dm->offered &
	    (1ull << VIRTIO_BALLOON_F_REPORTING)) != 0;

	switch (vq) {
	case VIOMB_VQ_INFLATE:
		return 0;
	case VIOMB_VQ_DEFLATE:
		return 1;
	case VIOMB_VQ_STATS:
		return stats ? 2 : -1;
	case VIOMB_VQ_FREE_PAGE:
		return hint ? 2 + stats : -1;
	case VIOMB_VQ_REPORTING:
		return report ? 2 + stats + hint : -1;
	}
	return -1;
}

/* The feature bit queue "idx" belongs to; -1 for inflate, deflate, none. */
static int
queue_feature(const struct devmodel *dm, uint16_t idx)
{
	static const int bit[] = {
		[VIOMB_VQ_STATS] = VIRTIO_BALLOON_F_STATS_VQ,
		[VIOMB_VQ_FREE_PAGE] = VIRTIO_BALLOON_F_FREE_PAGE_HINT,
		[VIOMB_VQ_REPORTING] = VIRTIO_BALLOON_F_REPORTING,
	};
	int vq;

	for (vq = VIOMB_VQ_STATS; vq <= VIOMB_VQ_REPORTING; vq++)
		if (dm_vq_index(dm, (enum viomb_vq)vq) == (int)idx)
			return bit[vq];
	return -1;
}

/* A queue the device does not have reads as size 0, as in QEMU. */
static uint16_t
f_queue_max(struct virtio_dev *d, uint16_t idx)
{
	struct devmodel *dm = dm_of(d);

	if (idx >= DM_NQ || (idx > 1 && queue_feature(dm, idx) < 0))
		return 0;
	return dm->q[idx].max;
}

static int
f_queue_enable(struct virtio_dev *d, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	struct devmodel *dm = dm_of(d);
	struct dm_queue *q;

	if (idx >= DM_NQ || size == 0 || size > f_queue_max(d, idx))
		return BN_EINVAL;
	/* 5.5.2: a queue of a feature not negotiated is not the driver's. */
	if (idx > 1 && (dm->driver_features &
	    (1ull << queue_feature(dm, idx))) == 0) {
		dm_violation(dm, "queue %u enabled, its feature %d not "
		    "negotiated", idx, queue_feature(dm, idx));
		return BN_EINVAL;
	}
	if (dm->fixed_size && size != dm->q[idx].max)
		return BN_EINVAL;
	if (dm_span(dm, desc, DESC_BYTES * (size_t)size) == NULL ||
	    dm_span(dm, avail, 6 + 2 * (size_t)size) == NULL ||
	    dm_span(dm, used, 6 + 8 * (size_t)size) == NULL) {
		dm_violation(dm, "queue %u: rings outside memory", idx);
		return BN_EINVAL;
	}
	q = &dm->q[idx];
	queue_free(q);
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->fifo = calloc(size, sizeof(q->fifo[0]));
	q->acked = calloc(size, sizeof(q->acked[0]));
	if (q->fifo == NULL || q->acked == NULL)
		abort();
	q->size = size;
	q->enabled = true;
	return BN_OK;
}

static void
f_notify(struct virtio_dev *d, uint16_t idx)
{
	struct devmodel *dm = dm_of(d);

	/* 3.1.1: no notification before DRIVER_OK. */
	if (idx >= DM_NQ || !dm->q[idx].enabled ||
	    (dm->status & VIRTIO_STATUS_DRIVER_OK) == 0) {
		dm_violation(dm, "notify of queue %u, status 0x%x", idx,
		    dm->status);
		return;
	}
	dm->q[idx].notifies++;
	if (idx > 1 && dm->on_notify != NULL)
		dm->on_notify(dm, idx);
	if (dm->hold || idx > 1)
		return;
	dm_consume(dm, idx);
	if (!dm->no_ack)
		dm_complete(dm, idx, dm->q[idx].size);
}

static uint8_t
f_isr(struct virtio_dev *d)
{
	uint8_t v = dm_of(d)->isr;

	dm_of(d)->isr = 0;
	return v;
}

static uint8_t
f_get_status(struct virtio_dev *d)
{
	return dm_of(d)->status;
}

/* Nothing mapped: the model is the transport. */
static void
f_detach(struct virtio_dev *d)
{
	(void)d;
}

static const struct virtio_transport_ops dm_ops = {
	.name = "fake", .reset = f_reset,
	.get_status = f_get_status, .set_status = f_set_status,
	.get_features = f_get_features, .set_features = f_set_features,
	.config_read32 = f_config_read32, .config_write32 = f_config_write32,
	.queue_max = f_queue_max, .queue_enable = f_queue_enable,
	.notify = f_notify, .isr = f_isr, .detach = f_detach,
};

struct devmodel *
dm_new(uint64_t ram_pages)
{
	struct devmodel *dm = calloc(1, sizeof(*dm));
	int i;

	if (dm == NULL)
		abort();
	fake_os_init(&dm->os, ram_pages);
	/* Dirty RAM, so that the device can see whether pages were zeroed. */
	memset(dm->os.ram, 0xaa, (size_t)ram_pages * BN_PAGE_SIZE);
	dm->vdev.ops = &dm_ops;
	dm->vdev.os = &dm->os;
	dm->vdev.device_id = VIRTIO_ID_BALLOON;
	dm->vdev.modern = true;
	dm->offered = (1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST) |
	    (1ull << VIRTIO_F_VERSION_1);
	for (i = 0; i < DM_NQ; i++)
		dm->q[i].max = 128;		/* QEMU's balloon queues */
	dm->sc = calloc(1, sizeof(*dm->sc));
	dm->bitmap = calloc(1, BN_BITMAP_BYTES(fake_max_pfn(&dm->os)));
	dm->in_use = calloc(ram_pages, sizeof(dm->in_use[0]));
	if (dm->sc == NULL || dm->bitmap == NULL || dm->in_use == NULL)
		abort();
	dm->cfg = (struct viomb_config){
		.name = "viomb0",
		.ram_pages = ram_pages,
		.max_pfn = fake_max_pfn(&dm->os),
		.bitmap = dm->bitmap,
	};
	return dm;
}

void
dm_free(struct devmodel *dm)
{
	int i;

	for (i = 0; i < DM_NQ; i++)
		queue_free(&dm->q[i]);
	fake_os_fini(&dm->os);
	free(dm->sc);
	free(dm->bitmap);
	free(dm->in_use);
	free(dm);
}

int
dm_attach(struct devmodel *dm)
{
	return viomb_attach(dm->sc, &dm->vdev, &dm->cfg);
}

void
dm_needs_reset(struct devmodel *dm)
{
	dm->status |= VIRTIO_STATUS_NEEDS_RESET;
	dm->isr |= VIRTIO_ISR_CONFIG;
}

/* The driver may still read what was acknowledged before. */
void
dm_lose_state(struct devmodel *dm)
{
	int i;

	forget_consumed(dm);
	for (i = 0; i < DM_NQ; i++)
		queue_stop(&dm->q[i]);
	device_reset(dm);
}

void
dm_set_num_pages(struct devmodel *dm, uint32_t pages)
{
	dm->old_pages = dm->num_pages;
	dm->num_pages = pages;
	dm->isr |= VIRTIO_ISR_CONFIG;
	dm->regs.gen++;			/* 2.5.1: the config changed */
	dm->regs.tear_armed = dm->tear;
}

uint64_t
dm_use(struct devmodel *dm, uint64_t n)
{
	uint64_t got;
	bn_paddr_t pa;

	for (got = 0; got < n; got++) {
		if (bn_port_page_alloc(&dm->os, &pa) != 0)
			break;
		memset(dm_va(dm, pa), 0xc3, BN_PAGE_SIZE);
		dm->in_use[dm->nin_use++] = pa;
	}
	return got;
}

void
dm_unuse(struct devmodel *dm, uint64_t n)
{
	while (n-- > 0 && dm->nin_use > 0)
		bn_port_page_free(&dm->os, dm->in_use[--dm->nin_use]);
}

bool
dm_settle(struct devmodel *dm, int runs)
{
	while (runs-- > 0) {
		/* A device works on its own time too, not only when notified. */
		if (!dm->hold && !dm->no_ack) {
			dm_process(dm, 0);
			dm_process(dm, 1);
		}
		bn_balloon_run(&dm->sc->balloon);
		if (bn_balloon_settled(&dm->sc->balloon))
			return true;
	}
	return false;
}

/*
 * Pages the device holds that the balloon does not count (yet): inflates
 * taken and not acknowledged, or acknowledged and not read; less deflates
 * acknowledged and not read.
 */
static int64_t
frames_owed(struct devmodel *dm)
{
	struct dm_queue *q = &dm->q[0];
	int64_t n = 0;
	uint16_t i, k;
	int qi;

	for (i = 0; q->enabled && i < q->nfifo; i++)
		n += frame_count(dm, q, q->fifo[i]);
	for (qi = 0; qi < 2; qi++) {
		q = &dm->q[qi];
		for (k = 0; q->acked != NULL && k < unread(dm, qi); k++)
			n += q->acked[(uint16_t)(driver_used_last(dm, qi) + k) %
			    q->size];
	}
	return n;
}

/* No bit of the balloon on a page the allocator calls free. */
static bool
ballooned_pages_used(struct devmodel *dm)
{
	uint64_t pfn, first = fake_first_pfn();

	for (pfn = first; pfn < fake_max_pfn(&dm->os); pfn++)
		if (((dm->bitmap[pfn / 64] >> (pfn % 64)) & 1) != 0 &&
		    !dm->os.used[pfn - first])
			return false;
	return true;
}

const char *
dm_check(struct devmodel *dm)
{
	const struct bn_balloon *b = &dm->sc->balloon;

	if (dm->violations > 0)
		return dm->violation;
	if (dm->os.reused > 0)
		return "a page the device holds was reused";
	if (dm->os.written > 0)
		return "a page the device holds was written";
	if (dm->os.double_free > 0)
		return "a page was freed twice";
	if (dm->bad_frames > 0 || dm->not_zeroed > 0)
		return "bad or unzeroed frames reached the device";
	if (b->cfg.ops == NULL)
		return NULL;		/* not attached */
	if (bn_balloon_check(b) != BN_OK)
		return "the engine's books do not balance";
	if (dm->os.nused != b->pages + b->inflating + dm->nin_use)
		return "free + ballooned + in use != total";
	if (!ballooned_pages_used(dm))
		return "a page is both free and ballooned";
	if ((int64_t)dm->os.nheld != (int64_t)b->pages + frames_owed(dm))
		return "the device holds other pages than the balloon";
	if ((dm->status & VIRTIO_STATUS_DRIVER_OK) != 0 &&
	    dm->actual != b->pages)
		return "actual is not the balloon's size";
	return NULL;
}
