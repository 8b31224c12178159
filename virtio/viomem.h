/*
 * ballonet: the virtio-mem front-end (VIRTIO 1.2, 5.15; device id 24).
 *
 * The device offers a region of guest-physical memory in blocks of
 * block_size bytes; the host sets requested_size, and the driver plugs or
 * unplugs blocks until plugged_size matches it.  Plugged blocks are handed
 * to the OS allocator through the callbacks of struct viomem_config; a
 * block goes back to the device only when the OS gives up every page of
 * it (offline), so data is never lost or moved behind the user's back.
 *
 * One request is in flight at a time on the one queue: 24 bytes out, 10
 * bytes back.  Modern transports only (VERSION_1).  The OS calls
 * viomem_intr() from the device's interrupt and viomem_run() from its
 * worker, as it does with bn_balloon_run().
 */
#ifndef BALLONET_VIOMEM_H
#define BALLONET_VIOMEM_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include "virtio.h"
#include "virtqueue.h"

#define VIRTIO_ID_MEM			24

/* Feature bits, 5.15.3. */
#define VIRTIO_MEM_F_ACPI_PXM		0
#define VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE 1

/* Config space, 5.15.4; le, read-only to the driver. */
#define VIRTIO_MEM_CFG_BLOCK_SIZE	0	/* le64 */
#define VIRTIO_MEM_CFG_NODE_ID		8	/* le16 */
#define VIRTIO_MEM_CFG_ADDR		16	/* le64 */
#define VIRTIO_MEM_CFG_REGION_SIZE	24	/* le64 */
#define VIRTIO_MEM_CFG_USABLE_SIZE	32	/* le64 */
#define VIRTIO_MEM_CFG_PLUGGED_SIZE	40	/* le64 */
#define VIRTIO_MEM_CFG_REQUESTED_SIZE	48	/* le64 */

/* Requests and responses, 5.15.6. */
#define VIRTIO_MEM_REQ_PLUG		0
#define VIRTIO_MEM_REQ_UNPLUG		1
#define VIRTIO_MEM_REQ_UNPLUG_ALL	2
#define VIRTIO_MEM_REQ_STATE		3
#define VIRTIO_MEM_RESP_ACK		0
#define VIRTIO_MEM_RESP_NACK		1
#define VIRTIO_MEM_RESP_BUSY		2
#define VIRTIO_MEM_RESP_ERROR		3

#define VIOMEM_REQ_BYTES		24
#define VIOMEM_RESP_BYTES		10

/* Our limits. */
#define VIOMEM_BLOCK_MIN		BN_PAGE_SIZE
#define VIOMEM_BLOCK_MAX		(1ull << 30)
#define VIOMEM_PLUG_MAX_BYTES		(1ull << 30)	/* per request */
#define VIOMEM_BACKOFF_MIN_MS		100
#define VIOMEM_BACKOFF_MAX_MS		6400
#define VIOMEM_POLL_MS			250	/* config polled this often */

/*
 * What the OS does with memory.  "arg" is viomem_config.os_arg.  Ranges
 * are whole plugged blocks, inside the region.
 */
struct viomem_os_ops {
	/*
	 * Attach: make room in the allocator's books for the whole region,
	 * every page absent; nothing in it is touched.  Nonzero when the OS
	 * cannot use memory there (not mapped, no room for the books): the
	 * driver then plugs nothing.
	 */
	int	(*add_range)(void *arg, bn_paddr_t base, uint64_t size);
	/* The device plugged [pa, pa + len): its pages are free memory now. */
	void	(*online)(void *arg, bn_paddr_t pa, uint64_t len);
	/*
	 * Take [pa, pa + len) out of the allocator if no page of it is in
	 * use: 0 and the pages are gone, or nonzero and nothing changed.
	 */
	int	(*offline)(void *arg, bn_paddr_t pa, uint64_t len);
};

struct viomem_config {
	const char	*name;		/* "viomem0" */
	const struct viomem_os_ops *ops;
	void		*os_arg;
	/* One bit per block of the region: its size caps the region. */
	uint64_t	*block_map;
	uint64_t	 block_map_bytes;
	/* Non-NULL: kept up to date for the sysctl nodes (hw.balloon.*). */
	struct bn_balloon *balloon;
};

enum viomem_state {
	VIOMEM_IDLE,		/* no request out */
	VIOMEM_WAIT,		/* one request out, no answer yet */
	VIOMEM_BROKEN,		/* ERROR or a bogus answer: nothing more */
};

struct viomem_softc {
	const char	*name;
	struct virtio_dev *vdev;
	const struct viomem_os_ops *ops;
	void		*os_arg;
	struct bn_balloon *balloon;
	uint64_t	 features;	/* negotiated */
	struct virtqueue vq;
	uint8_t		*buf;		/* request at 0, response at 64 */
	bn_paddr_t	 buf_pa;

	/* The device's geometry, checked at attach: bytes. */
	uint64_t	 block_size;
	bn_paddr_t	 addr;
	uint64_t	 region_size;
	uint64_t	 nblocks;
	/* Read at every run: bytes. */
	uint64_t	 usable;
	uint64_t	 requested;	/* rounded down to blocks, <= usable */
	uint64_t	 dev_plugged;	/* the device's plugged_size */

	/* Our books: one bit per plugged block, bytes plugged. */
	uint64_t	*map;
	uint64_t	 plugged;
	bool		 no_memory;	/* add_range refused: plug nothing */
	bool		 unplug_all;	/* UNPLUG_ALL owed (attach) */

	enum viomem_state state;
	uint16_t	 req_type;	/* request out */
	bn_paddr_t	 req_addr;
	uint16_t	 req_blocks;
	uint64_t	 sent_ms;
	uint64_t	 retry_at_ms;	/* no request before this */
	uint32_t	 backoff_ms;
	uint64_t	 nacked_at;	/* requested + 1 when a plug was NACKed */
	uint64_t	 stuck_said;	/* requested + 1 we said cannot be met */
	uint32_t	 bad_config_said; /* config complaints already made */
	volatile uint8_t pending;	/* ISR bits seen by viomem_intr() */

	/* Counters. */
	uint64_t	 plugs, unplugs, nacks, busys, errors;
	uint64_t	 unplug_alls;
	uint64_t	 blocks_plugged, blocks_unplugged;
};

/*
 * Reset the device, negotiate, check the geometry, give the region to the
 * OS (add_range) and set up the queue.  ENODEV for a device that is not
 * virtio-mem, is not modern, refuses the features or has a geometry we
 * cannot use; ENOMEM.  On failure the device is left FAILED.
 */
int viomem_attach(struct viomem_softc *sc, struct virtio_dev *vdev,
    const struct viomem_config *cfg) BN_MUST_CHECK;

/* Reset the device and free the queue; plugged memory stays the OS's. */
void viomem_detach(struct viomem_softc *sc);

/* Interrupt: acknowledge and wake the worker; 1 if it was ours. */
int viomem_intr(struct viomem_softc *sc);

/*
 * Worker: take the answer, read the host's wish, send the next request.
 * Returns ms until it wants to run again (0: at once), never BN_RUN_IDLE:
 * the config is polled every VIOMEM_POLL_MS in case an interrupt is lost.
 */
uint64_t viomem_run(struct viomem_softc *sc);

/* True when no request is out and plugged == requested. */
bool viomem_settled(const struct viomem_softc *sc);

#endif /* BALLONET_VIOMEM_H */
