/*
 * ballonet: the virtio-mem front-end (VIRTIO 1.2, 5.15).
 *
 * The host says how much of the region it wants plugged (requested_size);
 * the driver moves plugged_size there one request at a time:
 *
 *	plug	the lowest unplugged blocks of the usable region, at most
 *		VIOMEM_PLUG_MAX_BYTES a request; on ACK the OS gets them;
 *	unplug	the highest plugged blocks whose every page the OS gives up
 *		(offline); a block in use stays plugged, the shortfall is
 *		said once per wish and retried as memory frees up.
 *
 * Answers (5.15.6): ACK applies the request; NACK (a plug past
 * requested_size, the host lowered it meanwhile) re-reads the config and
 * tries again only when requested_size changes; BUSY retries after a
 * delay that doubles from VIOMEM_BACKOFF_MIN_MS to VIOMEM_BACKOFF_MAX_MS;
 * ERROR means our books and the device's disagree, or the device is
 * broken: the driver says so and sends nothing more (memory it plugged
 * stays in use).  UNPLUG_ALL goes first when the device says memory is
 * plugged at attach (a reboot), retried on BUSY.
 *
 * Unplugged memory is never read or written by this code or, through
 * the OS's books, by anyone: that is what UNPLUGGED_INACCESSIBLE asks.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/priv/balloon_priv.h>
#include <ballonet/port.h>
#include <ballonet/str.h>

#include "viomem.h"
#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

#define RESP_OFF	64	/* the response, in the same DMA page */
#define REQ_ADDR	8
#define REQ_NB_BLOCKS	16
#define RESP_STATE	8
#define QUEUE_SIZE	2	/* one request: two descriptors */

static void viomem_log(struct viomem_softc *sc, int level, const char *fmt,
    ...)
    __attribute__((format(printf, 3, 4)));

static void
viomem_log(struct viomem_softc *sc, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bn_vlog(sc->vdev->os, sc->name, level, fmt, ap);
	va_end(ap);
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A 64-bit field as two 32-bit reads; again if the high half moved. */
static uint64_t
cfg_read64(struct viomem_softc *sc, uint32_t off)
{
	uint32_t hi, lo;
	int i;

	hi = virtio_config_read32(sc->vdev, off + 4);
	for (i = 0; i < VIRTIO_GEN_RETRIES; i++) {
		lo = virtio_config_read32(sc->vdev, off);
		if (virtio_config_read32(sc->vdev, off + 4) == hi)
			break;
		hi = virtio_config_read32(sc->vdev, off + 4);
	}
	return (uint64_t)hi << 32 | lo;
}

static bool
bit_test(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void
bits_set(uint64_t *map, uint64_t i, uint64_t n, bool on)
{
	for (; n > 0; i++, n--) {
		if (on)
			map[i / 64] |= 1ull << (i % 64);
		else
			map[i / 64] &= ~(1ull << (i % 64));
	}
}

static bool
is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/*
 * 5.15.4: the geometry, never trusted.  A block is a power of two from
 * 4 KiB to 1 GiB; the region is aligned to it, non-empty, does not wrap
 * and fits our bitmap.
 */
static int
viomem_geometry(struct viomem_softc *sc, const struct viomem_config *cfg)
{
	uint64_t bs, addr, size;

	bs = cfg_read64(sc, VIRTIO_MEM_CFG_BLOCK_SIZE);
	addr = cfg_read64(sc, VIRTIO_MEM_CFG_ADDR);
	size = cfg_read64(sc, VIRTIO_MEM_CFG_REGION_SIZE);
	if (!is_pow2(bs) || bs < VIOMEM_BLOCK_MIN || bs > VIOMEM_BLOCK_MAX) {
		viomem_log(sc, BN_LOG_ERR, "bad block size 0x%llx",
		    (unsigned long long)bs);
		return BN_ENODEV;
	}
	if (size == 0 || (addr & (bs - 1)) != 0 || (size & (bs - 1)) != 0 ||
	    addr == 0 || addr + size < addr) {
		viomem_log(sc, BN_LOG_ERR, "bad region 0x%llx+0x%llx, "
		    "block 0x%llx", (unsigned long long)addr,
		    (unsigned long long)size, (unsigned long long)bs);
		return BN_ENODEV;
	}
	if (size / bs > cfg->block_map_bytes * 8) {
		viomem_log(sc, BN_LOG_ERR, "region of %llu blocks, room for "
		    "%llu", (unsigned long long)(size / bs),
		    (unsigned long long)cfg->block_map_bytes * 8);
		return BN_ENODEV;
	}
	sc->block_size = bs;
	sc->addr = addr;
	sc->region_size = size;
	sc->nblocks = size / bs;
	return BN_OK;
}

/*
 * 3.1.1 steps 1-6 (virtio.c).  VERSION_1 is required (5.15.5: modern
 * only); UNPLUGGED_INACCESSIBLE must be accepted when offered (5.15.3.1),
 * and we honour it anyway; ACPI_PXM is of no use to an OS without NUMA.
 */
static int
viomem_negotiate(struct viomem_softc *sc)
{
	struct virtio_dev *vdev = sc->vdev;
	uint64_t offered;
	int error;

	if ((error = virtio_reinit_start(vdev, &offered)) != BN_OK) {
		viomem_log(sc, BN_LOG_ERR, "device does not reset");
		return error;
	}
	sc->features = virtio_accept(vdev, offered,
	    1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE);
	if ((sc->features & (1ull << VIRTIO_F_VERSION_1)) == 0) {
		viomem_log(sc, BN_LOG_ERR, "device without VERSION_1");
		return BN_ENODEV;
	}
	if ((error = virtio_features_ok(vdev, sc->features)) != BN_OK)
		viomem_log(sc, BN_LOG_ERR, "device refused features 0x%llx",
		    (unsigned long long)sc->features);
	return error;
}

static int
viomem_queue(struct viomem_softc *sc)
{
	uint16_t max;
	int error;

	max = virtio_queue_max(sc->vdev, 0);
	if (max < QUEUE_SIZE) {
		viomem_log(sc, BN_LOG_ERR, "queue 0 of %u entries", max);
		return BN_ENODEV;
	}
	error = virtq_init(&sc->vq, sc->vdev, 0, QUEUE_SIZE);
	if (error != BN_OK)
		viomem_log(sc, BN_LOG_ERR, "queue 0: %s", bn_strerror(error));
	return error;
}

/* A device that does not reset may still use the ring: keep its memory. */
static void
viomem_teardown(struct viomem_softc *sc)
{
	if (virtio_reset(sc->vdev) != BN_OK) {
		viomem_log(sc, BN_LOG_ERR, "device does not reset; its queue "
		    "memory stays allocated");
		return;
	}
	virtq_fini(&sc->vq);
	if (sc->buf != NULL)
		bn_port_dma_free(sc->vdev->os, sc->buf, BN_PAGE_SIZE);
	sc->buf = NULL;
}

/* The balloon's sysctl nodes show what is plugged and what can be. */
static void
viomem_publish(struct viomem_softc *sc)
{
	struct bn_hotplug h = {
		.plugged_kib = sc->plugged / 1024,
		.usable_kib = sc->no_memory ? 0 : sc->usable / 1024,
		.requested_kib = sc->no_memory ? 0 : sc->requested / 1024,
	};

	if (sc->balloon != NULL)
		bn_balloon_set_hotplug(sc->balloon, &h);
}

/* Attach parameters that must hold before anything is touched. */
static bool
viomem_args_ok(struct viomem_softc *sc, struct virtio_dev *vdev,
    const struct viomem_config *cfg)
{
	return sc != NULL && vdev != NULL && vdev->ops != NULL &&
	    cfg != NULL && cfg->name != NULL && cfg->ops != NULL &&
	    cfg->ops->add_range != NULL && cfg->ops->online != NULL &&
	    cfg->ops->offline != NULL && cfg->block_map != NULL;
}

int
viomem_attach(struct viomem_softc *sc, struct virtio_dev *vdev,
    const struct viomem_config *cfg)
{
	int error;

	if (!viomem_args_ok(sc, vdev, cfg))
		return BN_EINVAL;
	bn_memzero(sc, sizeof(*sc));
	sc->name = cfg->name;
	sc->vdev = vdev;
	sc->ops = cfg->ops;
	sc->os_arg = cfg->os_arg;
	sc->balloon = cfg->balloon;
	sc->map = cfg->block_map;
	if (vdev->device_id != VIRTIO_ID_MEM) {
		viomem_log(sc, BN_LOG_ERR, "device id %u is not virtio-mem",
		    vdev->device_id);
		return BN_ENODEV;
	}
	if (!vdev->modern) {
		viomem_log(sc, BN_LOG_ERR, "legacy transport: modern only");
		return BN_ENODEV;
	}

	error = viomem_negotiate(sc);
	if (error == BN_OK)
		error = viomem_geometry(sc, cfg);
	if (error == BN_OK)
		error = viomem_queue(sc);
	if (error == BN_OK) {
		sc->buf = bn_port_dma_alloc(vdev->os, BN_PAGE_SIZE,
		    &sc->buf_pa);
		if (sc->buf == NULL)
			error = BN_ENOMEM;
	}
	if (error != BN_OK) {
		viomem_teardown(sc);
		virtio_fail(vdev);
		return error;
	}
	bn_memzero(sc->map, (sc->nblocks + 63) / 64 * 8);
	if (sc->ops->add_range(sc->os_arg, sc->addr, sc->region_size) != 0) {
		viomem_log(sc, BN_LOG_ERR, "cannot use memory at 0x%llx-0x%llx:"
		    " plugging nothing", (unsigned long long)sc->addr,
		    (unsigned long long)(sc->addr + sc->region_size - 1));
		sc->no_memory = true;
	}
	virtio_reinit_end(vdev);
	/* 5.15.5: memory left plugged (a reboot) goes first. */
	sc->dev_plugged = cfg_read64(sc, VIRTIO_MEM_CFG_PLUGGED_SIZE);
	sc->unplug_all = sc->dev_plugged != 0;
	viomem_log(sc, BN_LOG_INFO, "%s, features 0x%llx, region "
	    "0x%llx-0x%llx, block %llu KiB%s", virtio_transport_name(vdev),
	    (unsigned long long)sc->features, (unsigned long long)sc->addr,
	    (unsigned long long)(sc->addr + sc->region_size - 1),
	    (unsigned long long)(sc->block_size >> 10),
	    sc->unplug_all ? ", unplugging all first" : "");
	viomem_publish(sc);
	return BN_OK;
}

void
viomem_detach(struct viomem_softc *sc)
{
	if (sc == NULL || sc->vdev == NULL)
		return;
	viomem_teardown(sc);
	sc->state = VIOMEM_BROKEN;
}

int
viomem_intr(struct viomem_softc *sc)
{
	uint8_t isr;

	if (sc == NULL || sc->vdev == NULL || sc->buf == NULL)
		return 0;
	isr = virtio_isr(sc->vdev);
	if (isr == 0)
		return 0;
	sc->pending |= isr;
	bn_port_wakeup(sc->vdev->os);
	return 1;
}

/* Say once per distinct complaint that the device's config is odd. */
static void
bad_config(struct viomem_softc *sc, uint32_t which, const char *what,
    uint64_t v)
{
	if ((sc->bad_config_said & which) != 0)
		return;
	sc->bad_config_said |= which;
	viomem_log(sc, BN_LOG_WARN, "device reports %s 0x%llx; using less",
	    what, (unsigned long long)v);
}

/*
 * The host's wish.  usable_region_size and requested_size are clamped to
 * the region and rounded down to blocks: a hostile value plugs no more
 * than the region.
 */
static void
read_wish(struct viomem_softc *sc)
{
	uint64_t usable, req, mask = ~(sc->block_size - 1);

	usable = cfg_read64(sc, VIRTIO_MEM_CFG_USABLE_SIZE);
	req = cfg_read64(sc, VIRTIO_MEM_CFG_REQUESTED_SIZE);
	sc->dev_plugged = cfg_read64(sc, VIRTIO_MEM_CFG_PLUGGED_SIZE);
	if (usable > sc->region_size || (usable & ~mask) != 0) {
		bad_config(sc, 1, "usable_region_size", usable);
		usable = min64(usable, sc->region_size) & mask;
	}
	if (req > usable || (req & ~mask) != 0) {
		bad_config(sc, 2, "requested_size", req);
		req = min64(req, usable) & mask;
	}
	sc->usable = usable;
	sc->requested = sc->no_memory ? 0 : req;
}

static int
viomem_send(struct viomem_softc *sc, uint16_t type, bn_paddr_t addr,
    uint16_t nb)
{
	volatile uint8_t *r = sc->buf;
	int error;

	bn_memzero(sc->buf, RESP_OFF + VIOMEM_RESP_BYTES);
	vio_write16(r, type);
	vio_write64(r + REQ_ADDR, addr);
	vio_write16(r + REQ_NB_BLOCKS, nb);
	/* An answer the device never wrote reads as this: not an ACK. */
	vio_write16(r + RESP_OFF, 0xffff);
	error = virtq_add_pair(&sc->vq, sc->buf_pa, VIOMEM_REQ_BYTES,
	    sc->buf_pa + RESP_OFF, VIOMEM_RESP_BYTES, sc);
	if (error != BN_OK) {
		viomem_log(sc, BN_LOG_ERR, "cannot queue request: %s",
		    bn_strerror(error));
		sc->state = VIOMEM_BROKEN;
		return error;
	}
	sc->req_type = type;
	sc->req_addr = addr;
	sc->req_blocks = nb;
	sc->sent_ms = bn_port_now_ms(sc->vdev->os);
	sc->state = VIOMEM_WAIT;
	virtq_kick(&sc->vq);
	return BN_OK;
}

static uint64_t
block_pa(const struct viomem_softc *sc, uint64_t i)
{
	return sc->addr + i * sc->block_size;
}

/* Blocks a request may carry: the wire's le16, and our cap for plugs. */
static uint64_t
max_blocks(const struct viomem_softc *sc)
{
	return min64(UINT16_MAX, VIOMEM_PLUG_MAX_BYTES / sc->block_size);
}

/* The first run of unplugged blocks in the usable region, up to "want". */
static bool
next_plug(struct viomem_softc *sc, uint64_t want, uint64_t *first,
    uint64_t *n)
{
	uint64_t i, usable = sc->usable / sc->block_size;

	for (i = 0; i < usable && bit_test(sc->map, i); i++)
		continue;
	if (i == usable)
		return false;
	*first = i;
	for (*n = 0; i < usable && !bit_test(sc->map, i) && *n < want;
	    i++)
		(*n)++;
	return true;
}

/*
 * The highest run of plugged blocks the OS gives up, up to "want": each
 * block is offlined on its own, so a block in use ends the run.
 */
static bool
next_unplug(struct viomem_softc *sc, uint64_t want, uint64_t *first,
    uint64_t *n)
{
	uint64_t i = sc->nblocks;

	*n = 0;
	while (i-- > 0) {
		if (!bit_test(sc->map, i)) {
			if (*n > 0)
				break;
			continue;
		}
		if (sc->ops->offline(sc->os_arg, block_pa(sc, i),
		    sc->block_size) != 0) {
			if (*n > 0)
				break;
			continue;
		}
		*first = i;
		if (++*n == want)
			break;
	}
	return *n > 0;
}

static void
say_stuck(struct viomem_softc *sc)
{
	if (sc->stuck_said == sc->requested + 1)
		return;
	sc->stuck_said = sc->requested + 1;
	viomem_log(sc, BN_LOG_WARN, "cannot unplug down to %llu MiB: "
	    "%llu MiB plugged are in use; retrying as memory frees up",
	    (unsigned long long)(sc->requested >> 20),
	    (unsigned long long)(sc->plugged >> 20));
}

static void
back_off(struct viomem_softc *sc, uint64_t now)
{
	sc->backoff_ms = sc->backoff_ms == 0 ? VIOMEM_BACKOFF_MIN_MS :
	    (uint32_t)min64((uint64_t)sc->backoff_ms * 2,
	    VIOMEM_BACKOFF_MAX_MS);
	sc->retry_at_ms = now + sc->backoff_ms;
}

/* Decide and send the next request, if any. */
static void
viomem_next(struct viomem_softc *sc, uint64_t now)
{
	uint64_t first, n, bs = sc->block_size;

	if (sc->unplug_all) {
		(void)viomem_send(sc, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0);
		return;
	}
	if (sc->plugged < sc->requested) {
		if (sc->nacked_at == sc->requested + 1)
			return;		/* wait for a new wish */
		if (!next_plug(sc, min64((sc->requested - sc->plugged) / bs,
		    max_blocks(sc)), &first, &n))
			return;
		(void)viomem_send(sc, VIRTIO_MEM_REQ_PLUG, block_pa(sc, first),
		    (uint16_t)n);
		return;
	}
	if (sc->plugged > sc->requested) {
		if (!next_unplug(sc, min64((sc->plugged - sc->requested) / bs,
		    UINT16_MAX), &first, &n)) {
			say_stuck(sc);
			back_off(sc, now);
			return;
		}
		(void)viomem_send(sc, VIRTIO_MEM_REQ_UNPLUG,
		    block_pa(sc, first), (uint16_t)n);
	}
}

static const char *req_name(uint16_t type);

/* Give the OS back blocks offlined for an unplug that did not happen. */
static void
reonline(struct viomem_softc *sc)
{
	if (sc->req_type == VIRTIO_MEM_REQ_UNPLUG)
		sc->ops->online(sc->os_arg, sc->req_addr,
		    (uint64_t)sc->req_blocks * sc->block_size);
}

/*
 * The device changes plugged_size before it answers (QEMU does): an ACK
 * that did not move it by the request is a lie, and the blocks may not
 * be there.  False then: the caller stops the driver.
 */
static bool
ack_is_true(struct viomem_softc *sc, uint64_t len)
{
	uint64_t want, now = cfg_read64(sc, VIRTIO_MEM_CFG_PLUGGED_SIZE);

	switch (sc->req_type) {
	case VIRTIO_MEM_REQ_UNPLUG_ALL:
		want = 0;
		break;
	case VIRTIO_MEM_REQ_PLUG:
		want = sc->plugged + len;
		break;
	default:
		want = sc->plugged - len;
		break;
	}
	if (now == want)
		return true;
	viomem_log(sc, BN_LOG_ERR, "device acknowledged %s but reports "
	    "%llu bytes plugged, not %llu; stopping", req_name(sc->req_type),
	    (unsigned long long)now, (unsigned long long)want);
	return false;
}

static void
on_ack(struct viomem_softc *sc)
{
	uint64_t first = (sc->req_addr - sc->addr) / sc->block_size;
	uint64_t len = (uint64_t)sc->req_blocks * sc->block_size;

	sc->backoff_ms = 0;
	if (!ack_is_true(sc, len)) {
		sc->errors++;
		sc->state = VIOMEM_BROKEN;	/* offlined blocks stay out */
		return;
	}
	switch (sc->req_type) {
	case VIRTIO_MEM_REQ_UNPLUG_ALL:
		sc->unplug_all = false;
		sc->unplug_alls++;
		bn_memzero(sc->map, (sc->nblocks + 63) / 64 * 8);
		sc->plugged = 0;
		break;
	case VIRTIO_MEM_REQ_PLUG:
		bits_set(sc->map, first, sc->req_blocks, true);
		sc->plugged += len;
		sc->plugs++;
		sc->blocks_plugged += sc->req_blocks;
		sc->ops->online(sc->os_arg, sc->req_addr, len);
		break;
	case VIRTIO_MEM_REQ_UNPLUG:
		bits_set(sc->map, first, sc->req_blocks, false);
		sc->plugged -= len;
		sc->unplugs++;
		sc->blocks_unplugged += sc->req_blocks;
		break;
	}
}

static const char *
req_name(uint16_t type)
{
	switch (type) {
	case VIRTIO_MEM_REQ_PLUG:
		return "plug";
	case VIRTIO_MEM_REQ_UNPLUG:
		return "unplug";
	default:
		return "unplug all";
	}
}

/* 5.15.6: what each answer means for the request that was out. */
static void
on_answer(struct viomem_softc *sc, uint16_t type, uint32_t len, uint64_t now)
{
	if (len < 2)
		type = 0xffff;	/* the device wrote nothing */
	switch (type) {
	case VIRTIO_MEM_RESP_ACK:
		on_ack(sc);
		return;
	case VIRTIO_MEM_RESP_NACK:
		sc->nacks++;
		reonline(sc);
		/*
		 * A plug past requested_size: the host lowered it; plug again
		 * only for a new wish.  Other requests have no NACK (5.15.6):
		 * wait as for BUSY.
		 */
		if (sc->req_type == VIRTIO_MEM_REQ_PLUG)
			sc->nacked_at = sc->requested + 1;
		else
			back_off(sc, now);
		return;
	case VIRTIO_MEM_RESP_BUSY:
		sc->busys++;
		reonline(sc);
		if (sc->busys == 1 || sc->backoff_ms == VIOMEM_BACKOFF_MAX_MS)
			viomem_log(sc, BN_LOG_WARN, "device busy (%s); "
			    "retrying", req_name(sc->req_type));
		back_off(sc, now);
		return;
	default:
		/*
		 * ERROR: nothing was done (5.15.6), the blocks are the OS's
		 * again.  Anything else: they may be gone; keep them out.
		 */
		sc->errors++;
		if (type == VIRTIO_MEM_RESP_ERROR)
			reonline(sc);
		viomem_log(sc, BN_LOG_ERR, "device answered %s of 0x%llx+%u "
		    "blocks with %s %u; stopping", req_name(sc->req_type),
		    (unsigned long long)sc->req_addr, sc->req_blocks,
		    type == VIRTIO_MEM_RESP_ERROR ? "ERROR" : "bogus", type);
		sc->state = VIOMEM_BROKEN;
	}
}

static void
viomem_drain(struct viomem_softc *sc, uint64_t now)
{
	void *cookie;
	uint32_t len;
	uint16_t type;

	while (virtq_get_used(&sc->vq, &cookie, &len)) {
		if (sc->state != VIOMEM_WAIT || cookie != sc) {
			viomem_log(sc, BN_LOG_ERR, "bogus used entry; stopping");
			sc->state = VIOMEM_BROKEN;
			return;
		}
		bn_port_mb(sc->vdev->os);
		type = vio_read16((volatile uint8_t *)sc->buf + RESP_OFF);
		sc->state = VIOMEM_IDLE;
		on_answer(sc, type, len, now);
	}
	if (sc->vq.broken && sc->state != VIOMEM_BROKEN) {
		viomem_log(sc, BN_LOG_ERR, "device corrupted the used ring; "
		    "stopping");
		sc->state = VIOMEM_BROKEN;
	}
}

uint64_t
viomem_run(struct viomem_softc *sc)
{
	uint64_t now, prev;

	if (sc == NULL || sc->buf == NULL)
		return VIOMEM_POLL_MS;
	now = bn_port_now_ms(sc->vdev->os);
	sc->pending = 0;
	viomem_drain(sc, now);
	prev = sc->requested;
	read_wish(sc);
	if (sc->requested != prev) {
		/* A new wish: a fresh attempt, said anew if stuck. */
		sc->nacked_at = 0;
		sc->retry_at_ms = 0;
		sc->backoff_ms = 0;
	}
	if (sc->state == VIOMEM_IDLE && now >= sc->retry_at_ms)
		viomem_next(sc, now);
	viomem_publish(sc);
	/* An answer comes with an interrupt; a backoff ends on its own. */
	if (sc->state == VIOMEM_IDLE && now < sc->retry_at_ms)
		return min64(sc->retry_at_ms - now, VIOMEM_POLL_MS);
	return VIOMEM_POLL_MS;
}

bool
viomem_settled(const struct viomem_softc *sc)
{
	return sc->state != VIOMEM_WAIT && !sc->unplug_all &&
	    sc->plugged == sc->requested;
}
