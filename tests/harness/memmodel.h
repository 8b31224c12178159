/*
 * A virtio-mem device model (VIRTIO 1.2, 5.15) in the test process, for
 * the real front-end (virtio/viomem.c): it reads the request chains the
 * driver wrote in fake_port's DMA area and answers them as QEMU 7.2 does
 * (ERROR for a bad range or a block in the wrong state, NACK for a plug
 * past requested_size), with knobs to answer otherwise.  It implements
 * struct virtio_transport_ops, so viomem_attach() runs unchanged over it.
 *
 * The "OS" side is here too: the viomem_os_ops the driver calls, with a
 * per-block view of what the OS holds.  mm_check() states the invariants:
 * the OS never holds a block the device has unplugged (so it never reads
 * unplugged memory), a block in use is never unplugged, and when no
 * request is out the driver's books equal the device's.
 */
#ifndef MEMMODEL_H
#define MEMMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_port.h"
#include "viomem.h"
#include "virtio.h"

struct memmodel {
	struct virtio_dev vdev;		/* first: the ops get a pointer to it */
	struct fake_os	 os;

	/* Registers. */
	uint64_t	 offered, driver_features;
	uint8_t		 status, isr;
	uint16_t	 qmax;		/* queue 0's maximum; 0: absent */
	bool		 qenabled;
	uint16_t	 qsize;
	bn_paddr_t	 desc, avail, used;
	uint16_t	 avail_seen, used_idx;
	/* Config (5.15.4), as the driver reads it. */
	uint64_t	 block_size, addr, region_size, usable, requested;
	uint64_t	 plugged_size;
	bool		 auto_usable;	/* QEMU: usable = requested + 256 MiB */

	/* Per block: plugged on the device; held and in use by the OS. */
	uint64_t	 nblocks;
	bool		*plugged, *os_has, *os_busy;
	bool		 refuse_range;	/* add_range fails: cannot map */

	/* Misbehaviour. */
	int		 force_resp;	/* -1: honest; else this answer ... */
	unsigned	 force_count;	/* ... for this many requests */
	bool		 hold;		/* notify does nothing */
	bool		 no_resp;	/* used entry of length 0 */
	bool		 need_inaccessible; /* FEATURES_OK needs the bit */
	bool		 stuck_reset;	/* reset never completes */

	/* What the device and the OS saw. */
	unsigned	 resets, requests, plugs, unplugs, unplug_alls;
	unsigned	 answered[4];	/* per VIRTIO_MEM_RESP_* */
	unsigned	 violations;
	char		 violation[160];

	struct viomem_config cfg;
	struct viomem_softc sc;
	uint64_t	 block_map[64];
};

/*
 * QEMU-like: a region of "blocks" blocks of "block_size" at 4 GiB,
 * UNPLUGGED_INACCESSIBLE offered and required, requested_size 0.
 */
struct memmodel *mm_new(uint64_t block_size, uint64_t blocks);
void	 mm_free(struct memmodel *mm);
int	 mm_attach(struct memmodel *mm) BN_MUST_CHECK;

/* A new requested_size (usable follows if auto) and a config interrupt. */
void	 mm_request(struct memmodel *mm, uint64_t bytes);
/* Answer every request the driver posted; returns how many. */
unsigned mm_process(struct memmodel *mm);
/* Run the driver (and the device, unless it holds) up to n times. */
void	 mm_run(struct memmodel *mm, int n);
/*
 * Blocks the OS holds; mark one it holds in use (never given up) or not.
 */
unsigned mm_os_blocks(const struct memmodel *mm);
void	 mm_busy(struct memmodel *mm, uint64_t block, bool busy);

/* NULL when every invariant holds, else the first that does not. */
const char *mm_check(struct memmodel *mm);

#endif /* MEMMODEL_H */
