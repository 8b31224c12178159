/*
 * ballonet: Xen memory hot-plug (xenhot.h): blocks of 2 MiB above the
 * boot memory map, populated and given back by the balloon's worker.
 *
 * A block is whole or absent: a plug that the hypervisor answers short is
 * rolled back (the frames it did populate go back, untouched), and retried
 * after a delay that doubles, as the balloon retries a short
 * populate_physmap; an unplug that the hypervisor answers short puts the
 * blocks it never reached back into the allocator, and gives up the one it
 * stopped in a frame at a time.  Blocks in use stay plugged: the
 * shortfall is said once per wish, and the next runs try again.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/error.h>
#include <ballonet/port.h>

#include "xen_abi.h"
#include "xenballoon.h"
#include "xenhot.h"

#define XH_BLOCK_BYTES	((uint64_t)XH_BLOCK_PAGES * BN_PAGE_SIZE)

static void xh_log(struct xenballoon_softc *sc, int level, const char *fmt,
    ...)
    __attribute__((format(printf, 3, 4)));

static void
xh_log(struct xenballoon_softc *sc, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bn_vlog(sc->os, sc->name, level, fmt, ap);
	va_end(ap);
}

static bool
bit_test(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void
bit_set(uint64_t *map, uint64_t i, bool on)
{
	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

static uint64_t
block_pfn(const struct xenhot *h, uint64_t b)
{
	return h->base_pfn + b * XH_BLOCK_PAGES;
}

static uint64_t
block_of(const struct xenhot *h, uint64_t pfn)
{
	return (pfn - h->base_pfn) / XH_BLOCK_PAGES;
}

int
xenhot_attach(struct xenhot *h, const struct xenhot_config *cfg, void *os)
{
	uint64_t nblocks, words, i;

	*h = (struct xenhot){ .os = os };
	if (cfg == NULL || cfg->ops == NULL || cfg->size == 0)
		return BN_OK;
	if (cfg->ops->add_range == NULL || cfg->ops->online == NULL ||
	    cfg->ops->offline == NULL || cfg->map == NULL ||
	    cfg->base == 0 || (cfg->base | cfg->size) % XH_BLOCK_BYTES != 0 ||
	    cfg->base + cfg->size < cfg->base)
		return BN_EINVAL;
	nblocks = cfg->size / XH_BLOCK_BYTES;
	words = (nblocks + 63) / 64;
	if (words > cfg->map_bytes / 8)
		return BN_EINVAL;
	if (cfg->ops->add_range(os, cfg->base, cfg->size) != 0)
		return BN_ENOMEM;
	for (i = 0; i < words; i++)
		cfg->map[i] = 0;
	h->ops = cfg->ops;
	h->base_pfn = cfg->base / BN_PAGE_SIZE;
	h->nblocks = nblocks;
	h->map = cfg->map;
	return BN_OK;
}

uint64_t
xenhot_pages(const struct xenhot *h)
{
	return h->ops == NULL ? 0 : h->nblocks * XH_BLOCK_PAGES;
}

/* populate_physmap or decrease_reservation of h->extents[0, n). */
static long
xh_memory_op(struct xenballoon_softc *sc, unsigned int cmd, uint64_t n,
    uint32_t order)
{
	struct xen_memory_reservation r = {
		.extent_start = (uint64_t)(uintptr_t)sc->hot.extents,
		.nr_extents = n,
		.extent_order = order,
		.domid = DOMID_SELF,
	};
	long done;

	done = sc->hv->memory_op(sc->os, cmd, &r);
	if (done < 0)
		return 0;
	return done > (long)n ? (long)n : done;
}

static void
xh_online(struct xenhot *h, uint64_t b)
{
	bit_set(h->map, b, true);
	h->plugged++;
	h->ops->online(h->os, block_pfn(h, b) * BN_PAGE_SIZE, XH_BLOCK_BYTES);
}

static void
xh_back_off(struct xenballoon_softc *sc, uint64_t asked, long done)
{
	struct xenhot *h = &sc->hot;

	xh_log(sc, BN_LOG_WARN,
	    "increase reservation incomplete: was %zu, returned %d",
	    (size_t)asked, (int)done);
	h->backoff_ms = h->backoff_ms == 0 ? XB_BACKOFF_MIN_MS :
	    h->backoff_ms * 2;
	if (h->backoff_ms > XB_BACKOFF_MAX_MS)
		h->backoff_ms = XB_BACKOFF_MAX_MS;
	h->retry_at_ms = bn_port_now_ms(sc->os) + h->backoff_ms;
}

/*
 * The hypervisor has no 2 MiB run for block "b": 512 frames of 4 KiB.
 * All or nothing: a partial answer goes back at once.
 */
static bool
xh_plug_small(struct xenballoon_softc *sc, uint64_t b)
{
	struct xenhot *h = &sc->hot;
	uint64_t pfn = block_pfn(h, b), i;
	long done, back;

	for (i = 0; i < XH_BLOCK_PAGES; i++)
		h->extents[i] = pfn + i;
	done = xh_memory_op(sc, XENMEM_populate_physmap, XH_BLOCK_PAGES, 0);
	if (done == XH_BLOCK_PAGES) {
		h->order0++;
		xh_online(h, b);
		return true;
	}
	xh_back_off(sc, XH_BLOCK_PAGES, done);
	if (done > 0 && (back = xh_memory_op(sc, XENMEM_decrease_reservation,
	    (uint64_t)done, 0)) != done)
		xh_log(sc, BN_LOG_ERR, "decrease reservation incomplete: "
		    "was %zu, returned %d", (size_t)done, (int)back);
	return false;
}

/* The lowest absent blocks, up to XH_STEP_BLOCKS; false: stop for now. */
static bool
xh_plug(struct xenballoon_softc *sc)
{
	struct xenhot *h = &sc->hot;
	uint64_t n = 0, b, first_short;
	long done, i;

	for (b = 0; b < h->nblocks && n < XH_STEP_BLOCKS &&
	    h->plugged + n < h->want; b++)
		if (!bit_test(h->map, b))
			h->extents[n++] = block_pfn(h, b);
	if (n == 0)
		return false;
	done = xh_memory_op(sc, XENMEM_populate_physmap, n, XH_BLOCK_ORDER);
	first_short = (uint64_t)done < n ? block_of(h, h->extents[done]) : 0;
	for (i = 0; i < done; i++)
		xh_online(h, block_of(h, h->extents[i]));
	if ((uint64_t)done < n && !xh_plug_small(sc, first_short))
		return false;
	h->backoff_ms = 0;
	return true;
}

/* Zero what may hold guest data: the frames go to the hypervisor's heap. */
static void
xh_zero(struct xenballoon_softc *sc, uint64_t pfn)
{
	uint64_t i;

	for (i = 0; i < XH_BLOCK_PAGES; i++)
		bn_port_page_zero(sc->os, (pfn + i) * BN_PAGE_SIZE);
}

/* Say once per wish that blocks in use keep the guest above it. */
static void
xh_stuck(struct xenballoon_softc *sc)
{
	struct xenhot *h = &sc->hot;

	if (h->stuck_said == h->want + 1)
		return;
	h->stuck_said = h->want + 1;
	xh_log(sc, BN_LOG_WARN, "cannot unplug down to %llu MiB: %llu MiB "
	    "plugged are in use; retrying as memory frees up",
	    (unsigned long long)(h->want * XH_BLOCK_BYTES >> 20),
	    (unsigned long long)(h->plugged * XH_BLOCK_BYTES >> 20));
}

/*
 * The hypervisor stopped inside the extent of block "b": some of its
 * frames may be gone.  None of it may go back to the allocator, so the
 * rest goes too, a frame at a time (a frame already gone is refused, and
 * the hypervisor stops at it).
 */
static void
xh_drop(struct xenballoon_softc *sc, uint64_t b)
{
	struct xenhot *h = &sc->hot;
	uint64_t pfn = block_pfn(h, b), i;

	for (i = 0; i < XH_BLOCK_PAGES; i++) {
		h->extents[0] = pfn + i;
		(void)xh_memory_op(sc, XENMEM_decrease_reservation, 1, 0);
	}
	bit_set(h->map, b, false);
	h->plugged--;
}

/* The highest blocks the OS gives up whole, up to XH_STEP_BLOCKS. */
static bool
xh_unplug(struct xenballoon_softc *sc)
{
	struct xenhot *h = &sc->hot;
	uint64_t n = 0, b, pa;
	long done, i;
	bool stuck;

	for (b = h->nblocks; b-- > 0 && n < XH_STEP_BLOCKS &&
	    h->plugged - n > h->want;) {
		pa = block_pfn(h, b) * BN_PAGE_SIZE;
		if (bit_test(h->map, b) &&
		    h->ops->offline(h->os, pa, XH_BLOCK_BYTES) == 0)
			h->extents[n++] = block_pfn(h, b);
	}
	stuck = n < XH_STEP_BLOCKS && h->plugged - n > h->want;
	if (n == 0) {
		if (stuck)
			xh_stuck(sc);
		return false;
	}
	for (i = 0; i < (long)n; i++)
		xh_zero(sc, h->extents[i]);
	done = xh_memory_op(sc, XENMEM_decrease_reservation, n,
	    XH_BLOCK_ORDER);
	for (i = 0; i < (long)n; i++) {
		b = block_of(h, h->extents[i]);
		if (i < done) {
			bit_set(h->map, b, false);
			h->plugged--;
		} else if (i > done) {
			/* Untouched: its pages are free memory again. */
			h->ops->online(h->os, h->extents[i] * BN_PAGE_SIZE,
			    XH_BLOCK_BYTES);
		}
	}
	if (done < (long)n) {
		xh_log(sc, BN_LOG_WARN, "decrease reservation incomplete: "
		    "was %zu, returned %d", (size_t)n, (int)done);
		xh_drop(sc, block_of(h, h->extents[done]));
		return false;
	}
	if (stuck)
		xh_stuck(sc);
	return !stuck;
}

void
xenhot_run(struct xenballoon_softc *sc)
{
	struct xenhot *h = &sc->hot;
	bool more = false;

	if (h->ops == NULL)
		return;
	if (h->plugged > h->want)
		more = xh_unplug(sc);
	else if (h->plugged < h->want &&
	    bn_port_now_ms(sc->os) >= h->retry_at_ms)
		more = xh_plug(sc);
	if (more && h->plugged != h->want)
		bn_port_wakeup(sc->os);
}
