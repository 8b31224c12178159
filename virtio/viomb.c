/*
 * ballonet: the virtio balloon front-end (VIRTIO 1.2, 5.5).
 *
 * The engine decides which pages move; this file carries its requests to
 * the device.  A request is one buffer of le32 frame numbers on inflateq or
 * deflateq; the device acknowledges it whole by returning the buffer.  The
 * host's wish is num_pages in the configuration space, and the balloon's
 * size goes back in actual.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/port.h>
#include <ballonet/str.h>

#include "viomb.h"
#include "priv/viomb_feat.h"
#include "priv/viomb_reset.h"
#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

#define PFN_BYTES		4	/* one le32 per frame, 5.5.6 */

static void	viomb_poll(void *be);
static int	viomb_submit(void *be, struct bn_request *req);
static void	viomb_set_actual(void *be, uint64_t pages);

static const struct bn_backend_ops viomb_backend = {
	.sysctl_prefix = "hw.viomb",
	.poll = viomb_poll,
	.submit = viomb_submit,
	.set_actual = viomb_set_actual,
	.set_target = NULL,	/* virtio has no channel for it */
};

/* Every message starts with the instance name (engine/balloon.c). */
#define viomb_log(sc, ...)	bn_log((sc)->vdev->os, (sc)->name, __VA_ARGS__)

bool
viomb_has(const struct viomb_softc *sc, int bit)
{
	return (sc->features & (1ull << bit)) != 0;
}

int
viomb_vq_index(uint64_t offered, enum viomb_vq vq)
{
	static const int feature[] = {
		[VIOMB_VQ_STATS] = VIRTIO_BALLOON_F_STATS_VQ,
		[VIOMB_VQ_FREE_PAGE] = VIRTIO_BALLOON_F_FREE_PAGE_HINT,
		[VIOMB_VQ_REPORTING] = VIRTIO_BALLOON_F_REPORTING,
	};
	int i, index;

	if (vq == VIOMB_VQ_INFLATE || vq == VIOMB_VQ_DEFLATE)
		return (int)vq;
	if (vq > VIOMB_VQ_REPORTING ||
	    (offered & (1ull << feature[vq])) == 0)
		return -1;
	index = 2;
	for (i = VIOMB_VQ_STATS; i < (int)vq; i++) {
		if ((offered & (1ull << feature[i])) != 0)
			index++;
	}
	return index;
}

static void
viomb_clear(struct viomb_softc *sc, struct virtio_dev *vdev,
    const char *name)
{
	bn_memzero(sc, sizeof(*sc));
	sc->name = name;
	sc->vdev = vdev;
}

/*
 * The balloon features the driver wants of "offered" (5.5.3.1):
 * MUST_TELL_HOST, DEFLATE_ON_OOM, STATS_VQ when the port keeps statistics,
 * PAGE_POISON only when the OS poisons its free pages, REPORTING when the
 * OS reports and, if it poisons, only together with PAGE_POISON.
 * FREE_PAGE_HINT never.  virtio_accept() adds the transport's bits.
 */
static uint64_t
viomb_wanted(struct viomb_softc *sc, const struct viomb_config *cfg,
    uint64_t offered)
{
	uint64_t want;

	want = 1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST |
	    1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (viomb_stats_probe(sc) > 0)
		want |= 1ull << VIRTIO_BALLOON_F_STATS_VQ;
	if (cfg->poison)
		want |= 1ull << VIRTIO_BALLOON_F_PAGE_POISON;
	if (cfg->report_done != NULL && (!cfg->poison ||
	    (offered & (1ull << VIRTIO_BALLOON_F_PAGE_POISON)) != 0))
		want |= 1ull << VIRTIO_BALLOON_F_REPORTING;
	return offered & want;
}

/*
 * 3.1.1 steps 1-6 (virtio.c).  VERSION_1 is required on a modern
 * transport (6.1).
 */
static int
viomb_negotiate(struct viomb_softc *sc, const struct viomb_config *cfg)
{
	struct virtio_dev *vdev = sc->vdev;
	uint64_t offered;
	int error;

	if ((error = virtio_reinit_start(vdev, &offered)) != BN_OK) {
		viomb_log(sc, BN_LOG_ERR, "device does not reset");
		return error;
	}
	sc->offered = offered;
	sc->features = virtio_accept(vdev, offered,
	    viomb_wanted(sc, cfg, offered));
	if (vdev->modern && (sc->features & (1ull << VIRTIO_F_VERSION_1)) == 0) {
		viomb_log(sc, BN_LOG_ERR, "modern device without VERSION_1");
		return BN_ENODEV;
	}
	if ((error = virtio_features_ok(vdev, sc->features)) != BN_OK)
		viomb_log(sc, BN_LOG_ERR, "device refused features 0x%llx",
		    (unsigned long long)sc->features);
	return error;
}

static int
viomb_queue(struct viomb_softc *sc, struct virtqueue *vq, enum viomb_vq which)
{
	uint16_t index, max, size;
	int error;

	/* The device's numbering: a refused FREE_PAGE_HINT keeps its index. */
	index = (uint16_t)viomb_vq_index(sc->offered, which);
	max = virtio_queue_max(sc->vdev, index);
	size = virtq_fit_size(max);
	if (size == 0) {
		viomb_log(sc, BN_LOG_ERR, "queue %u missing", index);
		return BN_ENODEV;
	}
	error = virtq_init(vq, sc->vdev, index, size);
	if (error != BN_OK)
		viomb_log(sc, BN_LOG_ERR, "queue %u of %u (max %u): %s",
		    index, size, max, bn_strerror(error));
	return error;
}

/* One buffer of frame numbers per request slot: BN_BATCH_MAX * 4 bytes. */
static int
viomb_buffers(struct viomb_softc *sc, uint32_t nslots)
{
	uint32_t i;

	for (i = 0; i < nslots; i++) {
		sc->pfnbuf[i] = bn_port_dma_alloc(sc->vdev->os,
		    VIOMB_PFNBUF_BYTES, &sc->pfnbuf_pa[i]);
		if (sc->pfnbuf[i] == NULL) {
			viomb_log(sc, BN_LOG_ERR, "no memory for buffers");
			return BN_ENOMEM;
		}
		sc->nslots = i + 1;
	}
	return BN_OK;
}

/* Undo attach: the device must stop before its memory goes (3.1). */
static void
viomb_teardown(struct viomb_softc *sc)
{
	uint32_t i;

	/* A device that does not reset may still use the rings: say so. */
	if (virtio_reset(sc->vdev) != BN_OK)
		viomb_log(sc, BN_LOG_ERR, "device does not reset");
	viomb_report_drop(sc);
	for (i = 0; i < sc->nslots; i++) {
		bn_port_dma_free(sc->vdev->os, sc->pfnbuf[i],
		    VIOMB_PFNBUF_BYTES);
		sc->pfnbuf[i] = NULL;
		sc->pfnbuf_pa[i] = 0;
	}
	sc->nslots = 0;
	virtq_fini(&sc->inflateq);
	virtq_fini(&sc->deflateq);
	virtq_fini(&sc->statsq);
	virtq_fini(&sc->reportq);
	viomb_stats_free(sc);
}

/* Defaults, overridden by non-zero config values, capped by the queues. */
static int
viomb_limits(struct viomb_softc *sc, const struct viomb_config *cfg,
    uint32_t *batch, uint32_t *inflight)
{
	*batch = cfg->batch_pages != 0 ? cfg->batch_pages : BN_BATCH_MAX;
	*inflight = cfg->max_inflight != 0 ? cfg->max_inflight :
	    BN_INFLIGHT_MAX;
	if (*batch > BN_BATCH_MAX || *inflight > BN_INFLIGHT_MAX) {
		viomb_log(sc, BN_LOG_ERR, "batch %u or inflight %u too large",
		    (unsigned)*batch, (unsigned)*inflight);
		return BN_EINVAL;
	}
	if (*inflight > sc->inflateq.size)
		*inflight = sc->inflateq.size;
	if (*inflight > sc->deflateq.size)
		*inflight = sc->deflateq.size;
	return BN_OK;
}

static int
viomb_engine(struct viomb_softc *sc, const struct viomb_config *cfg,
    uint32_t batch, uint32_t inflight)
{
	struct bn_config c = {
		.name = cfg->name,
		.ram_pages = cfg->ram_pages,
		.max_pfn = cfg->max_pfn,
		.bitmap = cfg->bitmap,
		.batch_pages = batch,
		.max_inflight = inflight,
		.first_batch = cfg->first_batch < batch ? cfg->first_batch :
		    batch,
		/* 5.5.6.1: no shrinking below num_pages without it. */
		.host_floor = !viomb_has(sc, VIRTIO_BALLOON_F_DEFLATE_ON_OOM),
		.oom_deflate = viomb_has(sc, VIRTIO_BALLOON_F_DEFLATE_ON_OOM),
		/* The OS poisons: so are the pages the balloon gives back. */
		.poison = cfg->poison,
		.poison_val = cfg->poison_val,
		.os = sc->vdev->os,
		.ops = &viomb_backend,
		.be = sc,
	};
	int error;

	error = bn_balloon_init(&sc->balloon, &c);
	if (error != BN_OK)
		viomb_log(sc, BN_LOG_ERR, "engine: %s", bn_strerror(error));
	sc->balloon.features = sc->features;
	return error;
}

/*
 * 5.5.5 steps 2-5, after the engine exists: statsq and its first buffer,
 * poison_val (before DRIVER_OK, never changed afterwards, 5.5.6.4.1),
 * reporting_vq.
 */
static int
viomb_optional(struct viomb_softc *sc, const struct viomb_config *cfg)
{
	int error;

	if (viomb_has(sc, VIRTIO_BALLOON_F_STATS_VQ)) {
		error = viomb_queue(sc, &sc->statsq, VIOMB_VQ_STATS);
		if (error == BN_OK)
			error = viomb_stats_init(sc);
		if (error != BN_OK)
			return error;
	}
	viomb_put_poison(sc, cfg->poison_val);
	if (viomb_has(sc, VIRTIO_BALLOON_F_REPORTING)) {
		sc->report_done = cfg->report_done;
		sc->report_arg = cfg->report_arg;
		return viomb_queue(sc, &sc->reportq, VIOMB_VQ_REPORTING);
	}
	return BN_OK;
}

/* 3.1.1: the device initialization sequence, failures unwinding it. */
int
viomb_attach(struct viomb_softc *sc, struct virtio_dev *vdev,
    const struct viomb_config *cfg)
{
	uint32_t batch, inflight;
	int error;

	if (sc == NULL || vdev == NULL || vdev->ops == NULL || cfg == NULL ||
	    cfg->name == NULL)
		return BN_EINVAL;
	viomb_clear(sc, vdev, cfg->name);
	if (vdev->device_id != VIRTIO_ID_BALLOON) {
		viomb_log(sc, BN_LOG_ERR, "device id %u is not a balloon",
		    vdev->device_id);
		return BN_ENODEV;
	}

	error = viomb_negotiate(sc, cfg);
	if (error != BN_OK)
		goto fail;
	error = viomb_queue(sc, &sc->inflateq, VIOMB_VQ_INFLATE);
	if (error != BN_OK)
		goto fail;
	error = viomb_queue(sc, &sc->deflateq, VIOMB_VQ_DEFLATE);
	if (error != BN_OK)
		goto fail;
	error = viomb_limits(sc, cfg, &batch, &inflight);
	if (error != BN_OK)
		goto fail;
	error = viomb_buffers(sc, inflight);
	if (error != BN_OK)
		goto fail;
	error = viomb_engine(sc, cfg, batch, inflight);
	if (error != BN_OK)
		goto fail;
	error = viomb_optional(sc, cfg);
	if (error != BN_OK)
		goto fail;

	virtio_reinit_end(vdev);
	viomb_stats_start(sc);
	bn_balloon_set_host_target(&sc->balloon,
	    virtio_config_read32(vdev, VIRTIO_BALLOON_CFG_NUM_PAGES));
	viomb_log(sc, BN_LOG_INFO, "%s, features 0x%llx, queues %u/%u, "
	    "%u x %u pages", virtio_transport_name(vdev),
	    (unsigned long long)sc->features,
	    sc->inflateq.size, sc->deflateq.size, (unsigned)inflight,
	    (unsigned)batch);
	return BN_OK;

fail:
	viomb_teardown(sc);
	virtio_fail(vdev);
	return error;
}

void
viomb_detach(struct viomb_softc *sc)
{
	if (sc == NULL || sc->vdev == NULL)
		return;
	viomb_teardown(sc);
	/* Reset: nothing in flight can complete now. */
	bn_balloon_abort_inflight(&sc->balloon);
}

static struct virtqueue *
viomb_vq_of(struct viomb_softc *sc, enum bn_dir dir)
{
	return dir == BN_INFLATE ? &sc->inflateq : &sc->deflateq;
}

/* 5.5.6: the frame numbers of a request, le32 each, 4 KiB frames. */
static int
viomb_fill(struct viomb_softc *sc, uint32_t *buf, const struct bn_request *req)
{
	uint32_t i;

	for (i = 0; i < req->npfns; i++) {
		if (req->pfns[i] > UINT32_MAX) {
			viomb_log(sc, BN_LOG_ERR, "frame 0x%llx beyond 32 bits",
			    (unsigned long long)req->pfns[i]);
			return BN_ERANGE;
		}
		buf[i] = VIO_LE32((uint32_t)req->pfns[i]);
	}
	return BN_OK;
}

static int
viomb_submit(void *be, struct bn_request *req)
{
	struct viomb_softc *sc = be;
	struct virtqueue *vq;
	ptrdiff_t slot;
	int error;

	slot = req - sc->balloon.req;
	if (slot < 0 || slot >= (ptrdiff_t)sc->nslots || req->npfns == 0 ||
	    req->npfns > BN_BATCH_MAX)
		return BN_EINVAL;
	vq = viomb_vq_of(sc, req->dir);
	if (vq->nfree == 0 || sc->resetting)
		return BN_EBUSY;
	error = viomb_fill(sc, sc->pfnbuf[slot], req);
	if (error != BN_OK)
		return error;
	error = virtq_add(vq, sc->pfnbuf_pa[slot], req->npfns * PFN_BYTES,
	    req);
	if (error != BN_OK)
		return error;
	virtq_kick(vq);
	return BN_OK;
}

/*
 * The device returns a buffer once it has handled every frame in it;
 * virtio has no partial acknowledgement (5.5.6).
 */
static void
viomb_drain(struct viomb_softc *sc, enum bn_dir dir)
{
	struct virtqueue *vq = viomb_vq_of(sc, dir);
	struct bn_request *req;
	void *cookie;
	uint32_t len;

	while (virtq_get_used(vq, &cookie, &len)) {
		req = cookie;
		if (req == NULL || !req->busy || req->dir != dir) {
			sc->dev_errors++;
			continue;
		}
		bn_balloon_complete(&sc->balloon, req, req->npfns);
	}
}

/* Say once per poll how many bogus used entries the device produced. */
static void
viomb_check_errors(struct viomb_softc *sc)
{
	uint32_t total;

	total = sc->dev_errors + sc->inflateq.errors + sc->deflateq.errors +
	    sc->statsq.errors + sc->reportq.errors;
	if (total == sc->errors_said)
		return;
	viomb_log(sc, BN_LOG_ERR, "device returned %u bogus buffers%s",
	    (unsigned)(total - sc->errors_said),
	    sc->inflateq.broken || sc->deflateq.broken ||
	    sc->statsq.broken || sc->reportq.broken ?
	    "; queue stopped" : "");
	sc->errors_said = total;
}

/* Polling every run also copes with lost interrupts. */
static void
viomb_poll(void *be)
{
	struct viomb_softc *sc = be;

	viomb_drain(sc, BN_INFLATE);
	viomb_drain(sc, BN_DEFLATE);
	viomb_stats_drain(sc);
	viomb_report_drain(sc);
	viomb_check_errors(sc);
	viomb_reset_watchdog(sc);
	bn_balloon_set_host_target(&sc->balloon,
	    virtio_config_read32(sc->vdev, VIRTIO_BALLOON_CFG_NUM_PAGES));
}

/* 5.5.6: actual after every change; legacy: one 32-bit write (5.5.6.3). */
void
viomb_put_actual(struct viomb_softc *sc, uint64_t pages)
{
	if (pages > UINT32_MAX)
		pages = UINT32_MAX;
	virtio_config_write32(sc->vdev, VIRTIO_BALLOON_CFG_ACTUAL,
	    (uint32_t)pages);
}

/* 5.5.6.4.1: before DRIVER_OK, the same value at every (re)start. */
void
viomb_put_poison(struct viomb_softc *sc, uint32_t poison_val)
{
	if (viomb_has(sc, VIRTIO_BALLOON_F_PAGE_POISON))
		virtio_config_write32(sc->vdev, VIRTIO_BALLOON_CFG_POISON_VAL,
		    poison_val);
}

static void
viomb_set_actual(void *be, uint64_t pages)
{
	viomb_put_actual(be, pages);
}

/* Only acknowledge and wake the worker; the work happens in poll. */
int
viomb_intr(struct viomb_softc *sc)
{
	if (virtio_isr(sc->vdev) == 0)
		return 0;
	bn_port_wakeup(sc->vdev->os);
	return 1;
}
