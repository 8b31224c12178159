/*
 * ballonet: the virtio balloon front-end (device id 5).
 *
 * viomb_attach() negotiates features, sets up the queues as the device
 * numbers them (by the features it offers, not by those we accept), and
 * hands the engine a backend.  The OS then calls viomb_intr() from the device's
 * interrupt and bn_balloon_run(&sc->balloon) from its worker.
 */
#ifndef BALLONET_VIOMB_H
#define BALLONET_VIOMB_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/priv/balloon_priv.h>	/* the softc embeds the engine */
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
#define VIRTIO_BALLOON_CFG_POISON_VAL		12

/* A statistic on statsq: packed le16 tag, le64 value (5.5.6.3). */
#define VIOMB_STAT_BYTES			10

/* Called when the device acknowledged a free page report (5.5.6.7). */
typedef void viomb_report_done_t(void *arg, void *cookie);

/*
 * Queues in spec order (5.5.2).  The device numbers them densely by what
 * it offers: an optional queue takes an index when its feature is offered,
 * whether or not the driver accepts it.  QEMU 7.2 does so, so with
 * FREE_PAGE_HINT offered and refused, reporting_vq is 4, not 3.
 */
enum viomb_vq {
	VIOMB_VQ_INFLATE,
	VIOMB_VQ_DEFLATE,
	VIOMB_VQ_STATS,		/* VIRTIO_BALLOON_F_STATS_VQ */
	VIOMB_VQ_FREE_PAGE,	/* VIRTIO_BALLOON_F_FREE_PAGE_HINT */
	VIOMB_VQ_REPORTING,	/* VIRTIO_BALLOON_F_REPORTING */
};

/* A request's frame numbers, le32 each, in whole pages. */
#define VIOMB_PFNBUF_BYTES \
	(((size_t)BN_BATCH_MAX * 4 + BN_PAGE_SIZE - 1) / BN_PAGE_SIZE * BN_PAGE_SIZE)

struct viomb_softc {
	const char		*name;		/* "viomb0", for messages */
	struct virtio_dev	*vdev;		/* its transport */
	uint64_t		 features;	/* negotiated, bit mask */
	uint64_t		 offered;	/* numbers the queues */
	struct virtqueue	 inflateq;
	struct virtqueue	 deflateq;
	struct virtqueue	 statsq;	/* STATS_VQ */
	struct virtqueue	 reportq;	/* REPORTING */
	/* Statistics: one buffer of nstats entries, the same tags always. */
	uint8_t			*statbuf;	/* one page */
	bn_paddr_t		 statbuf_pa;	/* its device address */
	uint32_t		 nstats;	/* entries of 10 bytes */
	uint16_t		 stat_tag[BN_MEMSTAT_MAX]; /* BN_MEMSTAT_* */
	uint64_t		 stat_val[BN_MEMSTAT_MAX]; /* last sent */
	bool			 stats_out;	/* the device has the buffer */
	viomb_report_done_t	*report_done;
	void			*report_arg;
	/* BN_BATCH_MAX le32 frame numbers per engine request slot. */
	uint32_t		 nslots;	/* buffers in pfnbuf[] */
	uint32_t		*pfnbuf[BN_INFLIGHT_MAX]; /* VIOMB_PFNBUF_BYTES each */
	bn_paddr_t		 pfnbuf_pa[BN_INFLIGHT_MAX]; /* device's */
	uint32_t		 dev_errors;	/* used entries ignored */
	uint32_t		 errors_said;	/* dev_errors already logged */
	/* Recovery from device trouble (viomb_reset.c). */
	bool			 resetting;	/* trouble seen: send nothing */
	uint32_t		 resets;	/* device resets done */
	uint32_t		 reset_backoff_ms; /* since the last reset */
	uint64_t		 reset_at_ms;	/* no reset before, now_ms */
	uint64_t		 reset_requests; /* completions at the last */
	struct bn_balloon	 balloon;
};

struct viomb_config {
	const char	*name;		/* "viomb0" */
	uint64_t	 ram_pages;	/* guest RAM at boot, 4 KiB pages */
	uint64_t	 max_pfn;	/* highest frame number + 1 */
	uint64_t	*bitmap;	/* BN_BITMAP_BYTES(max_pfn), zeroed */
	uint32_t	 batch_pages;	/* 0: default */
	uint32_t	 max_inflight;	/* 0: default */
	uint32_t	 first_batch;	/* 0: none; see struct bn_config */
	/*
	 * The OS fills its free pages with poison_val and expects them to
	 * keep it: accept PAGE_POISON, and REPORTING only together with it.
	 */
	bool		 poison;
	uint32_t	 poison_val;
	/* Non-NULL: the OS reports free pages (viomb_report()). */
	viomb_report_done_t *report_done;
	void		*report_arg;
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

/* True when feature bit "bit" (VIRTIO_BALLOON_F_*) was negotiated. */
bool viomb_has(const struct viomb_softc *sc, int bit);

/*
 * Free page reporting (5.5.6.7): hand the device "len" bytes of free
 * memory at "pa" (4 KiB aligned) as one device-writable buffer.  The OS
 * must not touch the range until report_done(report_arg, cookie) is
 * called from the worker.  ENODEV without REPORTING, EBUSY when the queue
 * is full, EINVAL for a bad range, ERANGE when bn_port_dma_addr() has no
 * device address for it.  Buffers go out at viomb_report_kick().
 */
int viomb_report(struct viomb_softc *sc, bn_paddr_t pa, uint32_t len,
    void *cookie) BN_MUST_CHECK;
void viomb_report_kick(struct viomb_softc *sc);

/* Report buffers the queue can still take; 0 without REPORTING. */
uint32_t viomb_report_room(const struct viomb_softc *sc);

/*
 * Index of queue "vq" on a device that offers "offered"; -1 when it has
 * none.
 */
int viomb_vq_index(uint64_t offered, enum viomb_vq vq);

/* The features whose queues shift the indices of those after them. */
#define VIOMB_VQ_FEATURES	(1ull << VIRTIO_BALLOON_F_STATS_VQ | \
				 1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT | \
				 1ull << VIRTIO_BALLOON_F_REPORTING)

#endif /* BALLONET_VIOMB_H */
