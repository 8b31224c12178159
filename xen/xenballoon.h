/*
 * ballonet: the Xen balloon front-end, balloon(4) (PVH and HVM guests).
 *
 * The host's wish is memory/target in xenstore (KiB of reservation); the
 * front-end watches it and turns it into a balloon size for the engine.
 * Pages leave with XENMEM_decrease_reservation and come back with
 * XENMEM_populate_physmap on the same frame numbers (an auto-translated
 * guest keeps its physical address space).  Both hypercalls are
 * synchronous: requests complete inside submit.
 *
 * Reservations.  The host counts a domain's pages its own way (special
 * pages, the slack of xl's maxmem); the guest counts the RAM its memory
 * map shows.  As Linux does, the difference is measured once at attach,
 * from memory/static-max (KiB) against the guest's RAM, and every target
 * in either direction is shifted by it.  "max" follows memory/static-max,
 * which xl mem-max writes; both nodes are watched.  The hypervisor's own
 * limit (XENMEM_maximum_reservation) is what xl last enforced, the target
 * plus 1 MiB after xl mem-set: a guest target above it is refused by the
 * hypervisor, and the front-end says so and retries with backoff.
 *
 * Above the boot memory map (static-max raised by xl mem-max, then a
 * target above the boot RAM) the domain grows by hot-plug: xenhot.h.  A
 * host target of G guest pages above the RAM R plugs ceil((G - R) / 512)
 * blocks of 2 MiB and leaves the remainder, less than a block, in the
 * balloon, so that the reservation is G to the page; "max" is R plus what
 * both static-max and the window allow.  Without a window, or above it,
 * the target is clipped with balloon.4's line.
 *
 * A guest target (sysctl) is written to memory/target.  xl leaves that
 * node read-only to the guest unless dom0 grants it (xenstore-chmod); then
 * the guest keeps its target itself, until memory/target changes.
 */
#ifndef BALLONET_XENBALLOON_H
#define BALLONET_XENBALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>
#include <ballonet/priv/balloon_priv.h>	/* the softc embeds the engine */

#include "xen_port.h"
#include "xenhot.h"
#include "xenstore.h"

#define XB_BACKOFF_MIN_MS	1000	/* after a short populate_physmap */
#define XB_BACKOFF_MAX_MS	32000

struct xenballoon_softc {
	const char		*name;		/* "balloon0", for messages */
	const struct xen_hv	*hv;
	void			*os;
	struct xs_client	 xs;

	uint64_t		 ram_pages;	/* guest RAM at boot */
	int64_t			 offset_pages;	/* host pages - guest RAM pages */
	uint64_t		 curres_boot;	/* XENMEM_current_reservation */
	uint64_t		 maxres_boot;	/* XENMEM_maximum_reservation */
	uint64_t		 static_max_kib; /* memory/static-max as last read */
	uint64_t		 target_kib;	/* the target in force, host KiB */
	uint64_t		 store_kib;	/* memory/target, last read or written */
	bool			 target_read;	/* store_kib is valid */
	bool			 ro_said;	/* memory/target is read-only: said */
	uint64_t		 clipped;	/* target last reported as hot-plug */
	struct xenhot		 hot;		/* blocks above the boot map */

	uint64_t		 retry_at_ms;	/* no populate before this */
	uint32_t		 backoff_ms;	/* 0: none */
	uint32_t		 xs_errors;	/* xenstore requests that failed */
	struct bn_balloon	 balloon;
};

struct xenballoon_config {
	const char	*name;		/* "balloon0" */
	uint64_t	 ram_pages;	/* guest RAM at boot, 4 KiB pages */
	uint64_t	 max_pfn;	/* highest frame number + 1 */
	uint64_t	*bitmap;	/* BN_BITMAP_BYTES(max_pfn), zeroed */
	uint32_t	 batch_pages;	/* 0: default */
	const struct xen_hv *hv;
	void		*os;
	/* The OS fills its free pages with poison_val (bn_config.poison). */
	bool		 poison;
	uint32_t	 poison_val;
	void		*store_ring;	/* HVM_PARAM_STORE_PFN's page, mapped */
	uint32_t	 store_evtchn;	/* HVM_PARAM_STORE_EVTCHN */
	struct xenhot_config hot;	/* the hot-plug window; zero: none */
};

/*
 * Read the reservations, measure the offset, watch memory/target and start
 * the engine.  The OS then calls bn_balloon_run(&sc->balloon) from its
 * worker, and sooner when xenballoon_pending() says xenstore spoke.
 */
int	xenballoon_attach(struct xenballoon_softc *sc,
	    const struct xenballoon_config *cfg) BN_MUST_CHECK;

/* Something waits on the xenstore ring (a watch event, most likely). */
bool	xenballoon_pending(const struct xenballoon_softc *sc);

/*
 * The balloon size for a host target of "target_kib": the mapping above,
 * clipped to [0, RAM + window]; *clip_pages gets the reservation a larger
 * target was clipped to (pages, host count), or 0 when it was not clipped;
 * *hot_blocks (may be NULL) the blocks to plug.
 */
uint64_t xenballoon_host_pages(const struct xenballoon_softc *sc,
	    uint64_t target_kib, uint64_t *clip_pages, uint64_t *hot_blocks);

/* The host's target (KiB) for a guest target of "kib": the inverse. */
uint64_t xenballoon_host_kib(const struct xenballoon_softc *sc, uint64_t kib);

#endif /* BALLONET_XENBALLOON_H */
