/*
 * ballonet: the optional parts of the virtio balloon (VIRTIO 1.2, 5.5):
 * memory statistics on statsq and free page reporting on reporting_vq.
 * viomb.c negotiates them and sets up their queues; this file moves their
 * buffers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/port.h>

#include "viomb.h"
#include "priv/viomb_feat.h"
#include "virtio.h"
#include "virtqueue.h"

/* Packed, little-endian: le16 tag, le64 value (5.5.6.3; x86 legacy too). */
static void
stat_put(uint8_t *p, uint16_t tag, uint64_t val)
{
	int i;

	p[0] = (uint8_t)tag;
	p[1] = (uint8_t)(tag >> 8);
	for (i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(val >> (8 * i));
}

/* Learn the port's set of tags once; duplicates are dropped. */
static void
stats_learn(struct viomb_softc *sc, const struct bn_memstat *st, size_t n)
{
	size_t i, j;

	sc->nstats = 0;
	for (i = 0; i < n && i < BN_MEMSTAT_MAX; i++) {
		for (j = 0; j < sc->nstats; j++)
			if (sc->stat_tag[j] == st[i].tag)
				break;
		if (j < sc->nstats)
			continue;
		sc->stat_tag[sc->nstats] = st[i].tag;
		sc->stat_val[sc->nstats++] = st[i].val;
	}
}

/*
 * Fresh values for the tags learnt; a tag the port no longer gives keeps
 * its last value, so that every buffer has the same set (5.5.6.3.1).
 */
static void
stats_update(struct viomb_softc *sc, const struct bn_memstat *st, size_t n)
{
	uint32_t j;
	size_t i;

	for (j = 0; j < sc->nstats; j++)
		for (i = 0; i < n; i++)
			if (st[i].tag == sc->stat_tag[j])
				sc->stat_val[j] = st[i].val;
}

/* How many statistics the port keeps; 0: do not negotiate STATS_VQ. */
uint32_t
viomb_stats_probe(struct viomb_softc *sc)
{
	struct bn_memstat st[BN_MEMSTAT_MAX];
	size_t n;

	n = bn_port_mem_stats(sc->vdev->os, st, BN_MEMSTAT_MAX);
	if (n > BN_MEMSTAT_MAX)
		n = BN_MEMSTAT_MAX;
	stats_learn(sc, st, n);
	return sc->nstats;
}

/* Collect the statistics into the buffer and make it available. */
static int
stats_post(struct viomb_softc *sc)
{
	struct bn_memstat st[BN_MEMSTAT_MAX];
	uint32_t i;
	size_t n;
	int error;

	n = bn_port_mem_stats(sc->vdev->os, st, BN_MEMSTAT_MAX);
	stats_update(sc, st, n > BN_MEMSTAT_MAX ? BN_MEMSTAT_MAX : n);
	for (i = 0; i < sc->nstats; i++)
		stat_put(sc->statbuf + (size_t)VIOMB_STAT_BYTES * i,
		    sc->stat_tag[i], sc->stat_val[i]);
	error = virtq_add(&sc->statsq, sc->statbuf_pa,
	    sc->nstats * VIOMB_STAT_BYTES, sc);
	if (error == BN_OK) {
		sc->stats_out = true;
		sc->balloon.stats.stats_updates++;
	}
	return error;
}

/*
 * 5.5.5 step 2: one buffer on statsq before DRIVER_OK (published, not
 * notified); viomb_stats_start() notifies after DRIVER_OK (step 7).
 */
int
viomb_stats_init(struct viomb_softc *sc)
{
	int error;

	sc->statbuf = bn_port_dma_alloc(sc->vdev->os, BN_PAGE_SIZE,
	    &sc->statbuf_pa);
	if (sc->statbuf == NULL)
		return BN_ENOMEM;
	error = stats_post(sc);
	if (error == BN_OK)
		virtq_publish(&sc->statsq);
	return error;
}

/* After a reset, as at attach: the buffer back, published, before DRIVER_OK. */
void
viomb_stats_repost(struct viomb_softc *sc)
{
	if (viomb_has(sc, VIRTIO_BALLOON_F_STATS_VQ) && !sc->stats_out &&
	    stats_post(sc) == BN_OK)
		virtq_publish(&sc->statsq);
}

void
viomb_stats_start(struct viomb_softc *sc)
{
	if (viomb_has(sc, VIRTIO_BALLOON_F_STATS_VQ))
		virtio_notify(sc->vdev, sc->statsq.index);
}

void
viomb_stats_free(struct viomb_softc *sc)
{
	if (sc->statbuf != NULL)
		bn_port_dma_free(sc->vdev->os, sc->statbuf, BN_PAGE_SIZE);
	sc->statbuf = NULL;
	sc->statbuf_pa = 0;
	sc->stats_out = false;
}

/*
 * 5.5.6.3: the device used the buffer; refill it and give it back at
 * once: at most one buffer outstanding at any time.
 */
void
viomb_stats_drain(struct viomb_softc *sc)
{
	void *cookie;
	uint32_t len;

	if (!viomb_has(sc, VIRTIO_BALLOON_F_STATS_VQ))
		return;
	while (virtq_get_used(&sc->statsq, &cookie, &len)) {
		/* The one stats buffer carries the softc as its cookie. */
		if (cookie != sc || !sc->stats_out) {
			sc->dev_errors++;
			continue;
		}
		sc->stats_out = false;
	}
	if (!sc->stats_out && stats_post(sc) == BN_OK)
		virtq_kick(&sc->statsq);
}

int
viomb_report(struct viomb_softc *sc, bn_paddr_t pa, uint32_t len,
    void *cookie)
{
	bn_paddr_t addr;
	int error;

	if (!viomb_has(sc, VIRTIO_BALLOON_F_REPORTING))
		return BN_ENODEV;
	if (len == 0 || (len & (BN_PAGE_SIZE - 1)) != 0 ||
	    (pa & (BN_PAGE_SIZE - 1)) != 0 || cookie == NULL)
		return BN_EINVAL;
	/* The device writes the range: it needs the port's address for it. */
	if (bn_port_dma_addr(sc->vdev->os, pa, len, &addr) != 0)
		return BN_ERANGE;
	/* 5.5.6.7: the page ranges are device-writable buffers. */
	error = virtq_add_inbuf(&sc->reportq, addr, len, cookie);
	if (error == BN_OK)
		sc->balloon.stats.reported += len / BN_PAGE_SIZE;
	return error;
}

void
viomb_report_kick(struct viomb_softc *sc)
{
	if (viomb_has(sc, VIRTIO_BALLOON_F_REPORTING))
		virtq_kick(&sc->reportq);
}

uint32_t
viomb_report_room(const struct viomb_softc *sc)
{
	if (!viomb_has(sc, VIRTIO_BALLOON_F_REPORTING) || sc->reportq.broken)
		return 0;
	return sc->reportq.nfree;
}

/* A free page report the device will never return: the OS gets it back. */
static void
report_dropped(void *arg, void *cookie)
{
	struct viomb_softc *sc = arg;

	sc->report_done(sc->report_arg, cookie);
}

/* After a reset: every report the device held goes back to the OS. */
void
viomb_report_drop(struct viomb_softc *sc)
{
	if (sc->report_done != NULL)
		virtq_drop(&sc->reportq, report_dropped, sc);
}

/* Acknowledged reports: the OS may use those pages again (5.5.6.7.1). */
void
viomb_report_drain(struct viomb_softc *sc)
{
	void *cookie;
	uint32_t len;

	if (!viomb_has(sc, VIRTIO_BALLOON_F_REPORTING))
		return;
	while (virtq_get_used(&sc->reportq, &cookie, &len))
		sc->report_done(sc->report_arg, cookie);
}
