/*
 * ballonet: the virtio balloon front-end (device id 5).
 *
 * viomb_attach() negotiates features, sets up the queues the device numbers
 * (optional queues take no index when their feature is off), and hands the
 * engine a backend.  The OS then calls viomb_intr() from the device's
 * interrupt and bn_balloon_run(&sc->balloon) from its worker.
 */
#ifndef BALLONET_VIOMB_H
#define BALLONET_VIOMB_H

#include <stdint.h>

#include <ballonet/balloon.h>
#include "virtio.h"
#include "virtqueue.h"

/* Feature bits, VIRTIO 1.2, 5.5.3. */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST		0
#define VIRTIO_BALLOON_F_STATS_VQ		1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM		2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT		3
#define VIRTIO_BALLOON_F_PAGE_POISON		4
#define VIRTIO_BALLOON_F_REPORTING		5

/* Config space offsets, VIRTIO 1.2, 5.5.4; all le32. */
#define VIRTIO_BALLOON_CFG_NUM_PAGES		0
#define VIRTIO_BALLOON_CFG_ACTUAL		4

/*
 * Queues in spec order (5.5.2).  The device numbers them densely: an
 * optional queue whose feature was not negotiated takes no index.
 */
enum viomb_vq {
	VIOMB_VQ_INFLATE,
	VIOMB_VQ_DEFLATE,
	VIOMB_VQ_STATS,		/* VIRTIO_BALLOON_F_STATS_VQ */
	VIOMB_VQ_FREE_PAGE,	/* VIRTIO_BALLOON_F_FREE_PAGE_HINT */
	VIOMB_VQ_REPORTING,	/* VIRTIO_BALLOON_F_REPORTING */
};

struct viomb_softc {
	const char		*name;		/* "viomb0", for messages */
	struct virtio_dev	*vdev;
	uint64_t		 features;	/* negotiated */
	struct virtqueue	 inflateq;
	struct virtqueue	 deflateq;
	/* One page of le32 frame numbers per engine request slot. */
	uint32_t		 nslots;	/* pages in pfnbuf[] */
	uint32_t		*pfnbuf[BN_INFLIGHT_MAX];
	bn_paddr_t		 pfnbuf_pa[BN_INFLIGHT_MAX];
	uint32_t		 dev_errors;	/* used entries ignored */
	uint32_t		 errors_said;	/* dev_errors already logged */
	volatile uint8_t	 pending;	/* ISR bits seen by viomb_intr() */
	struct bn_balloon	 balloon;
};

struct viomb_config {
	const char	*name;		/* "viomb0" */
	uint64_t	 ram_pages;	/* guest RAM at boot, 4 KiB pages */
	uint64_t	 max_pfn;	/* highest frame number + 1 */
	uint64_t	*bitmap;	/* BN_BITMAP_BYTES(max_pfn), zeroed */
	uint32_t	 batch_pages;	/* 0: default */
	uint32_t	 max_inflight;	/* 0: default */
};

int viomb_attach(struct viomb_softc *sc, struct virtio_dev *vdev,
    const struct viomb_config *cfg) BN_MUST_CHECK;

/*
 * Reset the device and release the rings and buffers.  Pages still in the
 * balloon stay with the engine; the OS decides what becomes of them.
 */
void viomb_detach(struct viomb_softc *sc);

/* Interrupt handler: acknowledges the device; returns 1 if it was ours. */
int viomb_intr(struct viomb_softc *sc);

/* Index of queue "vq" under "features"; -1 when the device has none. */
int viomb_vq_index(uint64_t features, enum viomb_vq vq);

#endif /* BALLONET_VIOMB_H */
