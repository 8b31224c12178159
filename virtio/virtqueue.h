/*
 * ballonet: split virtqueues (VIRTIO 1.2, 2.7).
 *
 * One allocation from bn_port_dma_alloc() holds the rings in the legacy
 * contiguous layout (2.7.2): descriptor table, available ring, padding to
 * VIRTQ_ALIGN, used ring.  Every transport accepts that layout; modern ones
 * are merely told the three addresses.  Behind the used ring, in the same
 * allocation but never shown to the device, lies the driver's bookkeeping:
 * one slot per descriptor with its cookie.
 *
 * Each buffer is one descriptor, device-readable unless added with
 * virtq_add_inbuf(), or a request/answer pair (virtq_add_pair()); no
 * longer chains, no indirect
 * descriptors, no event index.  The device is not trusted: a used entry
 * naming a descriptor that is out of range, never posted or already
 * returned is dropped and counted in "errors".
 */
#ifndef BALLONET_VIRTQUEUE_H
#define BALLONET_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#define VIRTQ_ALIGN		4096	/* legacy Queue Align, 2.7.2 */
#define VIRTQ_SIZE_MAX		32768	/* 2.7 */

/* Flags, 2.7.5 and 2.7.8. */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	1

struct virtio_dev;
struct virtq_slot;

struct virtqueue {
	struct virtio_dev *vdev;	/* the device the queue belongs to */
	uint16_t	 index;		/* queue number on the device */
	uint16_t	 size;		/* descriptors, a power of two */
	uint16_t	 nfree;		/* descriptors not posted */
	uint16_t	 free_head;	/* first free slot, size = none */
	uint16_t	 avail_idx;	/* our copy of avail->idx */
	uint16_t	 used_last;	/* next used entry to read */
	uint16_t	 unkicked;	/* posted since the last kick */
	bool		 broken;	/* the device corrupted the used ring */
	uint32_t	 errors;	/* bogus used entries seen */

	void		*mem;		/* the whole allocation */
	size_t		 bytes;		/* its size */
	bn_paddr_t	 pa;		/* device address of the desc table */
	volatile uint8_t *desc, *avail, *used;
	size_t		 avail_off, used_off;	/* from desc, in bytes */
	struct virtq_slot *slot;	/* size entries, driver only */
};

/* Bytes of ring memory (without bookkeeping) in the legacy layout. */
size_t virtq_ring_bytes(uint16_t size);

/* Where the used ring starts in that layout, from the descriptor table. */
size_t virtq_used_offset(uint16_t size);

/* Largest size this code accepts that is <= max: a power of two, or 0. */
uint16_t virtq_fit_size(uint32_t max);

/*
 * Allocate a queue of "size" descriptors (a power of two, 2.7) and hand it
 * to the transport as queue "index".  EINVAL for a bad size, ENOMEM, or
 * the transport's error.  Nothing is left allocated on failure.
 */
int virtq_init(struct virtqueue *vq, struct virtio_dev *vdev, uint16_t index,
    uint16_t size) BN_MUST_CHECK;

/*
 * Make the queue new again after the device was reset: buffers it never
 * returned go to "dropped" (unless NULL) with their cookies; all descriptors
 * free, indices zero, enabled again with the same size.  ENODEV when the
 * device's maximum is now smaller, or the transport's error.
 */
int virtq_reinit(struct virtqueue *vq, void (*dropped)(void *arg,
    void *cookie), void *arg) BN_MUST_CHECK;

/*
 * After a device reset: buffers it never returned go to "dropped" (unless
 * NULL) with their cookies, once; virtq_reinit() or virtq_fini() follows.
 */
void virtq_drop(struct virtqueue *vq, void (*dropped)(void *arg,
    void *cookie), void *arg);

/* Release the memory; the device must have been reset first. */
void virtq_fini(struct virtqueue *vq);

/*
 * Post one device-readable buffer.  It is not visible to the device until
 * virtq_kick().  EBUSY when every descriptor is posted, EIO when the queue
 * is broken, EINVAL for a NULL cookie or an empty buffer.
 */
int virtq_add(struct virtqueue *vq, bn_paddr_t pa, uint32_t len,
    void *cookie) BN_MUST_CHECK;

/*
 * The same for a device-writable buffer (VIRTQ_DESC_F_WRITE), such as the
 * page ranges of a free page report (VIRTIO 1.2, 5.5.6.7).
 */
int virtq_add_inbuf(struct virtqueue *vq, bn_paddr_t pa, uint32_t len,
    void *cookie) BN_MUST_CHECK;

/*
 * Post a request and room for its answer as one chain of two descriptors:
 * "out" device-readable, "in" device-writable.  EBUSY when fewer than two
 * descriptors are free; otherwise as virtq_add().
 */
int virtq_add_pair(struct virtqueue *vq, bn_paddr_t out, uint32_t out_len,
    bn_paddr_t in, uint32_t in_len, void *cookie) BN_MUST_CHECK;

/*
 * Make the posted buffers visible without notifying: before DRIVER_OK,
 * where the driver may add buffers but must not notify (3.1.1).
 */
void virtq_publish(struct virtqueue *vq);

/* Publish the posted buffers and notify the device unless it declined. */
void virtq_kick(struct virtqueue *vq);

/*
 * Take the next used buffer: its cookie and the length the device
 * reported.  False when there is none.  Bogus entries are skipped.
 */
bool virtq_get_used(struct virtqueue *vq, void **cookie, uint32_t *len);

/* Descriptors posted and not yet returned. */
static inline uint16_t
virtq_busy(const struct virtqueue *vq)
{
	return (uint16_t)(vq->size - vq->nfree);
}

#endif /* BALLONET_VIRTQUEUE_H */
