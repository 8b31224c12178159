/*
 * ballonet: Xen memory hot-plug, the part of balloon.4's front-end that
 * grows a domain above its boot memory map.
 *
 * The OS names a window of guest-physical frames above its RAM and above
 * every hole of its memory map (the reference guest: from 4 GiB or the end
 * of the map, up to what its identity map covers; ballonet.4).  At attach
 * the OS sets up its books for the whole window, every page absent, so
 * that growing needs no allocation.  The window is cut in blocks of 2 MiB,
 * one extent of order 9: XENMEM_populate_physmap on a block's first frame
 * plugs it (512 extents of order 0 when the hypervisor has no 2 MiB run),
 * and its pages go to the OS allocator; a block comes back to the
 * hypervisor (XENMEM_decrease_reservation) only when the OS gives up every
 * page of it, zeroed first where they may hold guest data.  Lowest blocks
 * are plugged first, highest unplugged first.
 *
 * Everything here runs in the balloon's worker, from its poll hook.
 */
#ifndef BALLONET_XENHOT_H
#define BALLONET_XENHOT_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>

#include "xen_port.h"

#define XH_BLOCK_ORDER	9			/* a domU's largest extent */
#define XH_BLOCK_PAGES	(1u << XH_BLOCK_ORDER)	/* 2 MiB */
#define XH_STEP_BLOCKS	64	/* blocks per hypercall and per run: 128 MiB */

struct xenhot {
	const struct xen_hot_ops *ops;	/* NULL: no window, no hot-plug */
	void		*os;
	uint64_t	 base_pfn;	/* the window's first frame */
	uint64_t	 nblocks;	/* its size, in blocks */
	uint64_t	*map;		/* 1 bit per block, set = populated */
	uint64_t	 plugged;	/* blocks populated */
	uint64_t	 want;		/* blocks the target asks for */
	uint64_t	 stuck_said;	/* want last reported as unreachable */
	uint64_t	 retry_at_ms;	/* no populate before this */
	uint32_t	 backoff_ms;	/* 0: none */
	uint64_t	 order0;	/* blocks populated 4 KiB at a time */
	uint64_t	 extents[XH_BLOCK_PAGES]; /* frame lists, hypercall args */
};

struct xenhot_config {
	const struct xen_hot_ops *ops;
	uint64_t	 base;		/* bytes, 2 MiB aligned */
	uint64_t	 size;		/* bytes, a multiple of 2 MiB */
	uint64_t	*map;		/* (size / 2 MiB + 63) / 64 words */
	uint64_t	 map_bytes;	/* its size, checked */
};

struct xenballoon_softc;

/*
 * Check the window and have the OS set up its books.  BN_OK with nothing
 * to do when cfg->ops is NULL or cfg->size is 0; BN_EINVAL for a window
 * that is misaligned, wraps or does not fit the map; BN_ENOMEM when the OS
 * cannot take it.  In every case but BN_OK hot-plug stays off (h->ops is
 * NULL) and the caller says so.
 */
int	xenhot_attach(struct xenhot *h, const struct xenhot_config *cfg,
	    void *os) BN_MUST_CHECK;

/* Pages the window holds; 0 without one. */
uint64_t xenhot_pages(const struct xenhot *h);

/*
 * Move toward h->want: at most XH_STEP_BLOCKS blocks; bn_port_wakeup()
 * when more remains.  "sc" is for its hypervisor and its messages.
 */
void	xenhot_run(struct xenballoon_softc *sc);

#endif /* BALLONET_XENHOT_H */
