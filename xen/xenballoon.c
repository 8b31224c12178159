/*
 * ballonet: the Xen balloon front-end (balloon.4).
 *
 * The engine decides which pages move; this file tells the hypervisor.  A
 * request is one hypercall on the request's own frame numbers (bn_pfn_t is
 * Xen's 64-bit xen_pfn_t): decrease_reservation to inflate,
 * populate_physmap to deflate, as Linux does for auto-translated guests.
 * The hypervisor answers with the number of frames it handled; the engine
 * keeps the rest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/fmt.h>
#include <ballonet/port.h>

#include "xen_abi.h"
#include "xenballoon.h"

#define XB_PATH_TARGET		"memory/target"
#define XB_PATH_STATIC_MAX	"memory/static-max"
#define XB_WATCH_TOKEN		"ballonet"
/* Extents per hypercall, whatever BN_BATCH_MAX a port builds with. */
#if BN_BATCH_MAX < 1024
#define XB_BATCH		BN_BATCH_MAX
#else
#define XB_BATCH		1024
#endif

static void	xb_poll(void *be);
static int	xb_submit(void *be, struct bn_request *req);
static void	xb_set_actual(void *be, uint64_t pages);
static int	xb_set_target(void *be, uint64_t kib);

/* Every message starts with the instance name (engine/balloon.c). */
#define xb_log(sc, ...)	bn_log((sc)->os, (sc)->name, __VA_ARGS__)

static const struct bn_backend_ops xb_backend = {
	.sysctl_prefix = "machdep.xen.balloon",
	.poll = xb_poll,
	.submit = xb_submit,
	.set_actual = xb_set_actual,
	.set_target = xb_set_target,
};

/* XENMEM_current_reservation and _maximum_reservation: pages, or < 0. */
static long
xb_reservation(struct xenballoon_softc *sc, unsigned int cmd)
{
	xen_domid_t self = DOMID_SELF;

	return sc->hv->memory_op(sc->os, cmd, &self);
}

uint64_t
xenballoon_host_pages(const struct xenballoon_softc *sc, uint64_t target_kib,
    uint64_t *clip_pages, uint64_t *hot_blocks)
{
	int64_t ram = (int64_t)sc->ram_pages;
	int64_t room = (int64_t)xenhot_pages(&sc->hot);
	int64_t guest = (int64_t)(target_kib / BN_KIB_PER_PAGE) -
	    sc->offset_pages;
	uint64_t need, blocks;

	*clip_pages = 0;
	if (hot_blocks != NULL)
		*hot_blocks = 0;
	if (guest > ram + room) {
		*clip_pages = (uint64_t)(ram + room + sc->offset_pages);
		guest = ram + room;
	}
	if (guest < 0)
		guest = 0;
	if (guest <= ram)
		return (uint64_t)(ram - guest);
	/* Whole blocks above the RAM; the balloon takes the excess. */
	need = (uint64_t)(guest - ram);
	blocks = (need + XH_BLOCK_PAGES - 1) / XH_BLOCK_PAGES;
	if (hot_blocks != NULL)
		*hot_blocks = blocks;
	return blocks * XH_BLOCK_PAGES - need;
}

uint64_t
xenballoon_host_kib(const struct xenballoon_softc *sc, uint64_t kib)
{
	uint64_t off;

	if (sc->offset_pages < 0) {
		off = (uint64_t)-sc->offset_pages * BN_KIB_PER_PAGE;
		return kib > off ? kib - off : 0;
	}
	/* A static-max near 2^64 KiB: saturate, never overflow. */
	if ((uint64_t)sc->offset_pages > (UINT64_MAX - kib) / BN_KIB_PER_PAGE)
		return UINT64_MAX;
	return kib + (uint64_t)sc->offset_pages * BN_KIB_PER_PAGE;
}

/* Pages static-max lets the guest hold above its RAM, within the window. */
static uint64_t
xb_hot_room(const struct xenballoon_softc *sc)
{
	int64_t above = (int64_t)(sc->static_max_kib / BN_KIB_PER_PAGE) -
	    sc->offset_pages - (int64_t)sc->ram_pages;
	uint64_t window = xenhot_pages(&sc->hot);

	if (above <= 0)
		return 0;
	return (uint64_t)above < window ? (uint64_t)above : window;
}

/* The sysctl nodes' view of hot-plug (struct bn_hotplug), in KiB. */
static void
xb_publish(struct xenballoon_softc *sc)
{
	struct bn_hotplug hot = {
		.plugged_kib = sc->hot.plugged * XH_BLOCK_PAGES *
		    BN_KIB_PER_PAGE,
		.requested_kib = sc->hot.want * XH_BLOCK_PAGES *
		    BN_KIB_PER_PAGE,
		.usable_kib = xb_hot_room(sc) * BN_KIB_PER_PAGE,
		.guest_plugs = sc->hot.ops != NULL,
	};

	bn_balloon_set_hotplug(&sc->balloon, &hot);
}

/* A new memory/target: tell the engine, say so when it is clipped. */
static void
xb_new_target(struct xenballoon_softc *sc, uint64_t kib)
{
	uint64_t pages, clip, blocks;

	pages = xenballoon_host_pages(sc, kib, &clip, &blocks);
	if (clip != 0 && clip != sc->clipped && sc->hot.ops == NULL)
		xb_log(sc, BN_LOG_WARN, "memory 'hot-plug' unsupported - "
		    "clipping reservation %zu => %zu pages.",
		    (size_t)(kib / BN_KIB_PER_PAGE), (size_t)clip);
	else if (clip != 0 && clip != sc->clipped)
		xb_log(sc, BN_LOG_WARN, "memory 'hot-plug' window of %llu MiB "
		    "full - clipping reservation %zu => %zu pages.",
		    (unsigned long long)(xenhot_pages(&sc->hot) >> 8),
		    (size_t)(kib / BN_KIB_PER_PAGE), (size_t)clip);
	sc->clipped = clip;
	if (kib != sc->target_kib) {
		/* A new wish deserves a fresh attempt. */
		sc->backoff_ms = 0;
		sc->retry_at_ms = 0;
		sc->hot.backoff_ms = 0;
		sc->hot.retry_at_ms = 0;
	}
	sc->target_kib = kib;
	sc->hot.want = blocks;
	bn_balloon_set_host_target(&sc->balloon, pages);
	xb_publish(sc);
}

static void
xb_read_target(struct xenballoon_softc *sc)
{
	uint64_t kib;
	int error;

	error = xs_read_u64(&sc->xs, XB_PATH_TARGET, &kib);
	if (error != BN_OK) {
		if (sc->xs_errors++ == 0)
			xb_log(sc, BN_LOG_ERR, "cannot read %s: %s",
			    XB_PATH_TARGET, bn_strerror(error));
		return;
	}
	/* Other watches fire too: only a change of the node is a new wish. */
	if (sc->target_read && kib == sc->store_kib)
		return;
	sc->store_kib = kib;
	sc->target_read = true;
	xb_new_target(sc, kib);
}

/*
 * xl mem-max writes memory/static-max (and moves the hypervisor's limit,
 * which xl mem-set moves too, to the target plus slack): "max" follows
 * static-max, shifted like every target.
 */
static void
xb_read_max(struct xenballoon_softc *sc)
{
	uint64_t kib;
	int64_t guest;

	if (xs_read_u64(&sc->xs, XB_PATH_STATIC_MAX, &kib) != BN_OK)
		return;
	guest = (int64_t)(kib / BN_KIB_PER_PAGE) - sc->offset_pages;
	if (guest < 0)
		guest = 0;
	sc->static_max_kib = kib;
	bn_balloon_set_host_max_kib(&sc->balloon,
	    (uint64_t)guest * BN_KIB_PER_PAGE);
	xb_publish(sc);
}

/* Both watches fire here: read both nodes again. */
static void
xb_poll(void *be)
{
	struct xenballoon_softc *sc = be;

	if (xs_poll(&sc->xs) > 0 || !sc->target_read) {
		/* The host did something: it may have raised its limit. */
		sc->retry_at_ms = 0;
		sc->hot.retry_at_ms = 0;
		xb_read_max(sc);
		xb_read_target(sc);
	}
	xenhot_run(sc);
	xb_publish(sc);
}

/* The hypervisor gave fewer pages back: retry later, never give up. */
static void
xb_short_populate(struct xenballoon_softc *sc, const struct bn_request *req,
    long done)
{
	uint64_t now = bn_port_now_ms(sc->os);

	xb_log(sc, BN_LOG_WARN,
	    "increase reservation incomplete: was %zu, returned %d",
	    (size_t)req->npfns, (int)done);
	sc->backoff_ms = bn_backoff_next(sc->backoff_ms, XB_BACKOFF_MIN_MS,
	    XB_BACKOFF_MAX_MS);
	sc->retry_at_ms = now + sc->backoff_ms;
}

static int
xb_submit(void *be, struct bn_request *req)
{
	struct xenballoon_softc *sc = be;
	struct xen_memory_reservation r = {
		.extent_start = (uint64_t)(uintptr_t)req->pfns,
		.nr_extents = req->npfns,
		.extent_order = 0,
		.domid = DOMID_SELF,
	};
	bool deflate = req->dir == BN_DEFLATE;
	long done;

	if (req->npfns == 0)
		return BN_EINVAL;
	/* Backing off: the engine tries again in a second. */
	if (deflate && bn_port_now_ms(sc->os) < sc->retry_at_ms)
		return BN_EBUSY;
	done = sc->hv->memory_op(sc->os, deflate ? XENMEM_populate_physmap :
	    XENMEM_decrease_reservation, &r);
	if (done < 0 && !deflate) {
		/* Nothing left: the engine gives the pages back to the OS. */
		xb_log(sc, BN_LOG_ERR, "decrease_reservation: error %ld", -done);
		return BN_EIO;
	}
	if (done > (long)req->npfns)
		done = (long)req->npfns;
	if (deflate && done < (long)req->npfns)
		xb_short_populate(sc, req, done);
	else if (deflate)
		sc->backoff_ms = 0;
	else if (done < (long)req->npfns)
		xb_log(sc, BN_LOG_WARN,
		    "decrease reservation incomplete: was %zu, returned %d",
		    (size_t)req->npfns, (int)done);
	bn_balloon_complete(&sc->balloon, req, done < 0 ? 0 : (uint32_t)done);
	return BN_OK;
}

/* Xen counts the domain's pages itself: nothing to report. */
static void
xb_set_actual(void *be, uint64_t pages)
{
	(void)be;
	(void)pages;
}

/* sysctl target: the guest's wish becomes memory/target, as balloon.4 says. */
static int
xb_set_target(void *be, uint64_t kib)
{
	struct xenballoon_softc *sc = be;
	uint64_t host = xenballoon_host_kib(sc, kib);
	char val[24];
	int error;

	bn_snprintf(val, sizeof(val), "%llu", (unsigned long long)host);
	error = xs_write(&sc->xs, XB_PATH_TARGET, val);
	if (error == BN_OK) {
		sc->store_kib = host;
	} else if (error == BN_EPERM) {
		if (!sc->ro_said)
			xb_log(sc, BN_LOG_INFO, "%s is read-only to this "
			    "domain: the target stays in the guest",
			    XB_PATH_TARGET);
		sc->ro_said = true;
	} else {
		xb_log(sc, BN_LOG_ERR, "cannot write %s: %s", XB_PATH_TARGET,
		    bn_strerror(error));
		return error;
	}
	xb_new_target(sc, host);
	return BN_OK;
}

/* Host pages minus guest pages, from memory/static-max (Linux does so). */
static void
xb_measure(struct xenballoon_softc *sc)
{
	uint64_t static_max;
	long res;

	res = xb_reservation(sc, XENMEM_current_reservation);
	sc->curres_boot = res > 0 ? (uint64_t)res : 0;
	res = xb_reservation(sc, XENMEM_maximum_reservation);
	sc->maxres_boot = res > 0 ? (uint64_t)res : 0;
	if (xs_read_u64(&sc->xs, XB_PATH_STATIC_MAX, &static_max) == BN_OK)
		sc->offset_pages = (int64_t)(static_max / BN_KIB_PER_PAGE) -
		    (int64_t)sc->ram_pages;
	else
		xb_log(sc, BN_LOG_WARN, "no %s: assuming it is RAM",
		    XB_PATH_STATIC_MAX);
}

static int
xb_engine(struct xenballoon_softc *sc, const struct xenballoon_config *cfg)
{
	struct bn_config c = {
		.name = cfg->name,
		.ram_pages = cfg->ram_pages,
		.max_pfn = cfg->max_pfn,
		.bitmap = cfg->bitmap,
		.batch_pages = cfg->batch_pages != 0 ? cfg->batch_pages :
		    XB_BATCH,
		.max_inflight = 1,	/* hypercalls complete at once */
		.host_floor = false,
		.poison = cfg->poison,
		.poison_val = cfg->poison_val,
		.os = cfg->os,
		.ops = &xb_backend,
		.be = sc,
	};
	int error;

	error = bn_balloon_init(&sc->balloon, &c);
	if (error != BN_OK)
		xb_log(sc, BN_LOG_ERR, "engine: %s", bn_strerror(error));
	return error;
}

static int
xb_watch(struct xenballoon_softc *sc, const char *path)
{
	int error;

	error = xs_watch(&sc->xs, path, XB_WATCH_TOKEN);
	if (error != BN_OK)
		xb_log(sc, BN_LOG_ERR, "cannot watch %s: %s", path,
		    bn_strerror(error));
	return error;
}

/* The window's books from boot; without them the guest cannot grow. */
static void
xb_hot_attach(struct xenballoon_softc *sc, const struct xenballoon_config *cfg)
{
	const struct xenhot_config *h = &cfg->hot;
	int error;

	if (h->ops == NULL || h->size == 0)
		return;		/* sc->hot is zero: no window */
	error = xenhot_attach(&sc->hot, h, sc->os);
	if (error != BN_OK) {
		xb_log(sc, BN_LOG_ERR, "cannot use memory at 0x%llx-0x%llx: %s;"
		    " no hot-plug", (unsigned long long)h->base,
		    (unsigned long long)(h->base + h->size - 1),
		    bn_strerror(error));
		return;
	}
	xb_log(sc, BN_LOG_INFO, "hot-plug window 0x%llx-0x%llx, %llu MiB",
	    (unsigned long long)h->base,
	    (unsigned long long)(h->base + h->size - 1),
	    (unsigned long long)(h->size >> 20));
}

int
xenballoon_attach(struct xenballoon_softc *sc,
    const struct xenballoon_config *cfg)
{
	int error;

	if (sc == NULL || cfg == NULL || cfg->name == NULL || cfg->hv == NULL ||
	    cfg->store_ring == NULL || cfg->ram_pages == 0)
		return BN_EINVAL;
	*sc = (struct xenballoon_softc){
		.name = cfg->name,
		.hv = cfg->hv,
		.os = cfg->os,
		.ram_pages = cfg->ram_pages,
	};
	xs_init(&sc->xs, cfg->hv, cfg->os, cfg->store_ring, cfg->store_evtchn);
	xb_measure(sc);
	if ((error = xb_engine(sc, cfg)) != BN_OK)
		return error;
	if ((error = xb_watch(sc, XB_PATH_TARGET)) != BN_OK ||
	    (error = xb_watch(sc, XB_PATH_STATIC_MAX)) != BN_OK)
		return error;
	/* Last before the nodes are read: an attach that fails takes none. */
	xb_hot_attach(sc, cfg);
	xb_read_max(sc);
	xb_read_target(sc);
	xb_log(sc, BN_LOG_INFO, "target %llu KiB, static-max %llu KiB, "
	    "offset %lld pages; reservation %llu, limit %llu pages",
	    (unsigned long long)sc->target_kib,
	    (unsigned long long)sc->static_max_kib,
	    (long long)sc->offset_pages, (unsigned long long)sc->curres_boot,
	    (unsigned long long)sc->maxres_boot);
	return BN_OK;
}

bool
xenballoon_pending(const struct xenballoon_softc *sc)
{
	return xs_pending(&sc->xs);
}
