/*
 * ballonet: the balloon front-end's recovery from a device in trouble.
 *
 * Trouble is: the device sets NEEDS_RESET (VIRTIO 1.2, 2.1.2), it lost its
 * state (DRIVER_OK gone: reset behind our back), it corrupted a used ring
 * (the queue stopped), or it left a request unacknowledged for
 * VIOMB_ACK_RESET_MS.  The cure is the same: reset the device, give the
 * engine its requests in flight back (bn_balloon_abort_inflight(): inflate
 * frames return to the OS, deflate frames stay ballooned), and bring the
 * device up again with the features negotiated at attach, through the
 * same virtio.c sequence as attach.  Until then no request goes out.
 * Resets back off from RESET_BACKOFF_MIN_MS to RESET_BACKOFF_MAX_MS while
 * the device completes nothing in between, so that a device asking for
 * resets over and over costs little.  A device that does not even reset
 * keeps its requests: it may still use their pages.
 */
#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/port.h>

#include "viomb.h"
#include "priv/viomb_feat.h"
#include "priv/viomb_reset.h"
#include "virtio.h"
#include "virtqueue.h"

#define VIOMB_ACK_RESET_S	60	/* unacknowledged this long: reset */
#define VIOMB_ACK_RESET_MS	((uint64_t)VIOMB_ACK_RESET_S * 1000)
#define STR(x)			#x
#define SECONDS(x)		STR(x) " s"
#define ACK_RESET_TEXT		SECONDS(VIOMB_ACK_RESET_S)
#define RESET_BACKOFF_MIN_MS	1000
#define RESET_BACKOFF_MAX_MS	60000

static const char *
viomb_trouble(struct viomb_softc *sc, uint64_t now)
{
	uint8_t status = virtio_get_status(sc->vdev);

	if ((status & VIRTIO_STATUS_NEEDS_RESET) != 0)
		return "device needs a reset";
	if ((status & VIRTIO_STATUS_DRIVER_OK) == 0 ||
	    (status & VIRTIO_STATUS_FAILED) != 0)
		return "device lost its state";
	if (sc->inflateq.broken || sc->deflateq.broken ||
	    sc->statsq.broken || sc->reportq.broken)
		return "device corrupted a used ring";
	if (bn_balloon_oldest_ms(&sc->balloon, now) >= VIOMB_ACK_RESET_MS)
		return "host left a request unacknowledged for " ACK_RESET_TEXT;
	return NULL;
}

static int
viomb_requeue(struct viomb_softc *sc)
{
	int error;

	error = virtq_reinit(&sc->inflateq, NULL, NULL);
	if (error == BN_OK)
		error = virtq_reinit(&sc->deflateq, NULL, NULL);
	if (error == BN_OK && sc->statsq.mem != NULL)
		error = virtq_reinit(&sc->statsq, NULL, NULL);
	if (error == BN_OK && sc->reportq.mem != NULL)
		error = virtq_reinit(&sc->reportq, NULL, NULL);
	sc->stats_out = false;
	return error;
}

/* 3.1.1 again, with the features of attach: the engine keeps its books. */
static int
viomb_restart(struct viomb_softc *sc)
{
	struct virtio_dev *vdev = sc->vdev;
	uint64_t offered;
	int error;

	if ((error = virtio_reinit_start(vdev, &offered)) != BN_OK)
		return error;
	bn_balloon_abort_inflight(&sc->balloon);
	/* Whatever happens next, the OS has its reported pages back. */
	viomb_report_drop(sc);
	/* Our queues keep their indices: the device must number them so. */
	if ((offered & sc->features) != sc->features ||
	    ((offered ^ sc->offered) & VIOMB_VQ_FEATURES) != 0)
		return BN_ENODEV;
	if ((error = virtio_features_ok(vdev, sc->features)) != BN_OK)
		return error;
	if ((error = viomb_requeue(sc)) != BN_OK)
		return error;
	viomb_put_poison(sc, sc->balloon.cfg.poison_val);
	/* 5.5.5: the stats buffer published before DRIVER_OK, notified after. */
	viomb_stats_repost(sc);
	virtio_reinit_end(vdev);
	viomb_stats_start(sc);
	viomb_put_actual(sc, sc->balloon.pages);
	return BN_OK;
}

void
viomb_reset_watchdog(struct viomb_softc *sc)
{
	uint64_t now = bn_port_now_ms(sc->vdev->os);
	const char *why = viomb_trouble(sc, now);
	int error;

	if (sc->balloon.stats.requests != sc->reset_requests)
		sc->reset_backoff_ms = 0;	/* it worked for a while */
	sc->resetting = why != NULL;
	if (why == NULL || now < sc->reset_at_ms)
		return;
	sc->resets++;
	sc->reset_backoff_ms = bn_backoff_next(sc->reset_backoff_ms,
	    RESET_BACKOFF_MIN_MS, RESET_BACKOFF_MAX_MS);
	sc->reset_at_ms = now + sc->reset_backoff_ms;
	bn_balloon_log(&sc->balloon, BN_LOG_WARN, "%s; resetting it", why);
	error = viomb_restart(sc);
	sc->reset_requests = sc->balloon.stats.requests;
	if (error == BN_OK) {
		sc->resetting = false;
		return;
	}
	virtio_fail(sc->vdev);
	bn_balloon_log(&sc->balloon, BN_LOG_ERR, "device reset failed: %s; "
	    "next attempt in %u ms", bn_strerror(error),
	    (unsigned)sc->reset_backoff_ms);
}
