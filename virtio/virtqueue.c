/*
 * ballonet: split virtqueues (VIRTIO 1.2, 2.7).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>
#include <ballonet/str.h>

#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

/* Driver-only state of one descriptor. */
struct virtq_slot {
	void		*cookie;	/* given to virtq_add() */
	uint16_t	 next;		/* free list link */
	bool		 busy;		/* posted, not yet returned */
	bool		 chained;	/* a head with a second descriptor */
	uint16_t	 tail;		/* that descriptor (virtq_add_pair) */
};

/* Offsets inside the structures of 2.7.5, 2.7.6 and 2.7.8, in bytes. */
#define DESC_SIZE		16
#define DESC_ADDR		0
#define DESC_LEN		8
#define DESC_FLAGS		12
#define DESC_NEXT		14
#define RING_FLAGS		0
#define RING_IDX		2
#define RING_ENTRIES		4
#define USED_ELEM_SIZE		8

static size_t
align_up(size_t n)
{
	return (n + VIRTQ_ALIGN - 1) & ~(size_t)(VIRTQ_ALIGN - 1);
}

/* The avail ring: flags, idx, ring[size], used_event (2.7.6). */
static size_t
avail_bytes(uint16_t size)
{
	return 2 * (3 + (size_t)size);
}

/* The used ring: flags, idx, ring[size], avail_event (2.7.8). */
static size_t
used_bytes(uint16_t size)
{
	return 6 + USED_ELEM_SIZE * (size_t)size;
}

size_t
virtq_used_offset(uint16_t size)
{
	return align_up(DESC_SIZE * (size_t)size + avail_bytes(size));
}

/* The legacy formula of 2.7.2: both parts padded to Queue Align. */
size_t
virtq_ring_bytes(uint16_t size)
{
	return virtq_used_offset(size) + align_up(used_bytes(size));
}

static bool
is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/*
 * The spec requires split queue sizes to be powers of two (2.7); it also
 * keeps "idx % size" continuous when the 16-bit indices wrap.
 */
uint16_t
virtq_fit_size(uint32_t max)
{
	uint32_t size;

	if (max == 0)
		return 0;
	if (max > VIRTQ_SIZE_MAX)
		max = VIRTQ_SIZE_MAX;
	for (size = 1; size * 2 <= max; size *= 2)
		continue;
	return (uint16_t)size;
}

static void
virtq_layout(struct virtqueue *vq)
{
	uint8_t *base = vq->mem;
	uint16_t i;

	vq->avail_off = DESC_SIZE * (size_t)vq->size;
	vq->used_off = virtq_used_offset(vq->size);
	vq->desc = base;
	vq->avail = base + vq->avail_off;
	vq->used = base + vq->used_off;
	vq->slot = (struct virtq_slot *)(base + virtq_ring_bytes(vq->size));

	/* The memory is zeroed; say so anyway for the ring flags (2.7.10). */
	vio_write16(vq->avail + RING_FLAGS, 0);
	vio_write16(vq->avail + RING_IDX, 0);
	vio_write16(vq->used + RING_FLAGS, 0);
	vio_write16(vq->used + RING_IDX, 0);

	for (i = 0; i < vq->size; i++) {
		vq->slot[i].cookie = NULL;
		vq->slot[i].next = (uint16_t)(i + 1);
		vq->slot[i].busy = false;
		vq->slot[i].chained = false;
	}
	vq->free_head = 0;
	vq->nfree = vq->size;
}

static void
virtq_clear(struct virtqueue *vq)
{
	vq->vdev = NULL;
	vq->index = vq->size = vq->nfree = vq->free_head = 0;
	vq->avail_idx = vq->used_last = vq->unkicked = 0;
	vq->broken = false;
	vq->errors = 0;
	vq->mem = NULL;
	vq->bytes = 0;
	vq->pa = 0;
	vq->desc = vq->avail = vq->used = NULL;
	vq->avail_off = vq->used_off = 0;
	vq->slot = NULL;
}

int
virtq_init(struct virtqueue *vq, struct virtio_dev *vdev, uint16_t index,
    uint16_t size)
{
	int error;

	virtq_clear(vq);
	if (vdev == NULL || !is_pow2(size) || size > VIRTQ_SIZE_MAX)
		return BN_EINVAL;

	vq->vdev = vdev;
	vq->index = index;
	vq->size = size;
	vq->bytes = virtq_ring_bytes(size) +
	    (size_t)size * sizeof(struct virtq_slot);
	vq->mem = bn_port_dma_alloc(vdev->os, vq->bytes, &vq->pa);
	if (vq->mem == NULL) {
		virtq_clear(vq);
		return BN_ENOMEM;
	}
	virtq_layout(vq);

	error = virtio_queue_enable(vdev, index, size, vq->pa,
	    vq->pa + vq->avail_off, vq->pa + vq->used_off);
	if (error != BN_OK) {
		virtq_fini(vq);
		return error;
	}
	return BN_OK;
}

/*
 * After a device reset (2.1.2, 3.1.1): the same memory, every descriptor
 * free again, the indices back at zero, and the queue enabled anew.  The
 * buffers the device never returned go to "dropped" (may be NULL) with
 * their cookies.
 */
int
virtq_reinit(struct virtqueue *vq, void (*dropped)(void *arg, void *cookie),
    void *arg)
{
	struct virtio_dev *vdev = vq->vdev;

	if (vq->mem == NULL)
		return BN_EINVAL;
	virtq_drop(vq, dropped, arg);
	bn_memzero(vq->mem, virtq_ring_bytes(vq->size));
	vq->avail_idx = vq->used_last = vq->unkicked = 0;
	vq->broken = false;
	virtq_layout(vq);
	if (virtio_queue_max(vdev, vq->index) < vq->size)
		return BN_ENODEV;
	return virtio_queue_enable(vdev, vq->index, vq->size, vq->pa,
	    vq->pa + vq->avail_off, vq->pa + vq->used_off);
}

/*
 * The device was reset: the buffers it held go to "dropped" (may be NULL),
 * once each.  Only virtq_reinit() or virtq_fini() may follow.
 */
void
virtq_drop(struct virtqueue *vq, void (*dropped)(void *arg, void *cookie),
    void *arg)
{
	size_t i;

	for (i = 0; vq->mem != NULL && i < vq->size; i++) {
		if (!vq->slot[i].busy)
			continue;
		vq->slot[i].busy = false;
		if (dropped != NULL)
			dropped(arg, vq->slot[i].cookie);
	}
}

void
virtq_fini(struct virtqueue *vq)
{
	if (vq->mem != NULL)
		bn_port_dma_free(vq->vdev->os, vq->mem, vq->bytes);
	virtq_clear(vq);
}

static int
virtq_add_flags(struct virtqueue *vq, bn_paddr_t pa, uint32_t len,
    uint16_t flags, void *cookie)
{
	volatile uint8_t *d;
	uint16_t head;

	if (vq->mem == NULL || vq->broken)
		return BN_EIO;
	if (cookie == NULL || len == 0)
		return BN_EINVAL;
	if (vq->nfree == 0)
		return BN_EBUSY;

	head = vq->free_head;
	vq->free_head = vq->slot[head].next;
	vq->nfree--;
	vq->slot[head].cookie = cookie;
	vq->slot[head].busy = true;

	/* 2.7.13.1: one descriptor, no chain. */
	d = vq->desc + DESC_SIZE * (size_t)head;
	vio_write64(d + DESC_ADDR, pa);
	vio_write32(d + DESC_LEN, len);
	vio_write16(d + DESC_FLAGS, flags);
	vio_write16(d + DESC_NEXT, 0);

	/* 2.7.13.2: the head goes into the next avail entry. */
	vio_write16(vq->avail + RING_ENTRIES +
	    2 * (size_t)(vq->avail_idx & (vq->size - 1)), head);
	vq->avail_idx++;
	vq->unkicked++;
	return BN_OK;
}

static void
virtq_write_desc(struct virtqueue *vq, uint16_t id, bn_paddr_t pa,
    uint32_t len, uint16_t flags, uint16_t next)
{
	volatile uint8_t *d = vq->desc + DESC_SIZE * (size_t)id;

	vio_write64(d + DESC_ADDR, pa);
	vio_write32(d + DESC_LEN, len);
	vio_write16(d + DESC_FLAGS, flags);
	vio_write16(d + DESC_NEXT, next);
}

/*
 * 2.7.13.1: a device-readable descriptor chained to a device-writable one,
 * as request/response devices (virtio-mem) want.  The tail is not "busy":
 * a used entry naming it is bogus; it is freed with its head.
 */
int
virtq_add_pair(struct virtqueue *vq, bn_paddr_t out, uint32_t out_len,
    bn_paddr_t in, uint32_t in_len, void *cookie)
{
	uint16_t head, tail;

	if (vq->mem == NULL || vq->broken)
		return BN_EIO;
	if (cookie == NULL || out_len == 0 || in_len == 0)
		return BN_EINVAL;
	if (vq->nfree < 2)
		return BN_EBUSY;
	head = vq->free_head;
	tail = vq->slot[head].next;
	vq->free_head = vq->slot[tail].next;
	vq->nfree -= 2;
	vq->slot[head].cookie = cookie;
	vq->slot[head].busy = true;
	vq->slot[head].chained = true;
	vq->slot[head].tail = tail;

	virtq_write_desc(vq, head, out, out_len, VIRTQ_DESC_F_NEXT, tail);
	virtq_write_desc(vq, tail, in, in_len, VIRTQ_DESC_F_WRITE, 0);
	vio_write16(vq->avail + RING_ENTRIES +
	    2 * (size_t)(vq->avail_idx & (vq->size - 1)), head);
	vq->avail_idx++;
	vq->unkicked++;
	return BN_OK;
}

int
virtq_add(struct virtqueue *vq, bn_paddr_t pa, uint32_t len, void *cookie)
{
	return virtq_add_flags(vq, pa, len, 0, cookie);
}

/* 2.7.5: VIRTQ_DESC_F_WRITE marks a buffer the device may write. */
int
virtq_add_inbuf(struct virtqueue *vq, bn_paddr_t pa, uint32_t len,
    void *cookie)
{
	return virtq_add_flags(vq, pa, len, VIRTQ_DESC_F_WRITE, cookie);
}

void
virtq_publish(struct virtqueue *vq)
{
	if (vq->mem == NULL || vq->unkicked == 0)
		return;
	/* 2.7.13.3.1: the entries must be visible before idx is. */
	bn_port_mb(vq->vdev->os);
	vio_write16(vq->avail + RING_IDX, vq->avail_idx);
	vq->unkicked = 0;
}

void
virtq_kick(struct virtqueue *vq)
{
	uint16_t flags;

	if (vq->mem == NULL || vq->unkicked == 0)
		return;
	virtq_publish(vq);

	/* 2.7.13.4.1: idx must be visible before we look at flags. */
	bn_port_mb(vq->vdev->os);
	flags = vio_read16(vq->used + RING_FLAGS);
	if ((flags & VIRTQ_USED_F_NO_NOTIFY) != 0)
		return;
	virtio_notify(vq->vdev, vq->index);
}

/* Give back descriptor "id" if the device was allowed to return it. */
static bool
virtq_reclaim(struct virtqueue *vq, uint32_t id, void **cookie)
{
	struct virtq_slot *s;

	if (id >= vq->size || !vq->slot[id].busy) {
		vq->errors++;
		return false;
	}
	s = &vq->slot[id];
	*cookie = s->cookie;
	s->cookie = NULL;
	s->busy = false;
	s->next = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->nfree++;
	if (s->chained) {
		s->chained = false;
		vq->slot[s->tail].next = vq->free_head;
		vq->free_head = s->tail;
		vq->nfree++;
	}
	return true;
}

bool
virtq_get_used(struct virtqueue *vq, void **cookie, uint32_t *len)
{
	volatile uint8_t *e;
	uint16_t used_idx;
	uint32_t id, n;

	if (vq->mem == NULL || vq->broken)
		return false;
	for (;;) {
		used_idx = vio_read16(vq->used + RING_IDX);
		if (used_idx == vq->used_last)
			return false;
		/* The device cannot have used more than we posted. */
		if ((uint16_t)(used_idx - vq->used_last) > vq->size) {
			vq->broken = true;
			vq->errors++;
			return false;
		}
		/* Read the entry only after its idx (2.7.14). */
		bn_port_mb(vq->vdev->os);
		e = vq->used + RING_ENTRIES +
		    USED_ELEM_SIZE * (size_t)(vq->used_last & (vq->size - 1));
		id = vio_read32(e);
		n = vio_read32(e + 4);
		vq->used_last++;
		if (virtq_reclaim(vq, id, cookie)) {
			*len = n;
			return true;
		}
	}
}
