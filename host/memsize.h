/*
 * ballonet: one logical memory size for a QEMU VM, whichever device
 * moves it.  The logical size is the boot RAM minus the balloon
 * (query-balloon's actual) plus what a virtio-mem device has plugged
 * (query-memory-devices); the most a VM can reach is its boot RAM plus
 * the device's region.  Above the boot RAM a size is reached by plugging
 * (requested-size, whole blocks) with the balloon empty; at or below it
 * by unplugging everything and ballooning the rest.
 *
 * `ballonet set` and `info` and ballonetd's QMP backend all go through
 * here.  Functions that talk to QEMU return a QMP_* status (qmp.h), or
 * MEMSIZE_EREPLY when QEMU's answer lacks what we need; on failure
 * m->what names the command and m->err (MEMSIZE_EREPLY) what was
 * missing.
 */
#ifndef BALLONET_HOST_MEMSIZE_H
#define BALLONET_HOST_MEMSIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "qmp.h"

#define MEMSIZE_EREPLY	100	/* a reply without a field we need */

struct memsize {
	uint64_t	 boot;		/* base-memory: RAM QEMU booted with */
	uint64_t	 actual;	/* query-balloon: boot minus balloon */
	bool		 vmem;		/* a virtio-mem device (the first) */
	char		 id[64];	/* its qdev id: /machine/peripheral/ID */
	uint64_t	 plugged;	/* bytes the guest plugged */
	uint64_t	 requested;	/* requested-size, bytes */
	uint64_t	 region;	/* max-size: its region, bytes */
	uint64_t	 block;		/* block-size, bytes */

	const char	*what;		/* on failure: the command */
	char		 err[160];	/* MEMSIZE_EREPLY: what was wrong */
};

/* How a size is reached (memsize_plan()). */
struct memsize_plan {
	uint64_t	 balloon;	/* the balloon command's value */
	uint64_t	 hot;		/* requested-size, whole blocks */
	uint64_t	 goal;		/* the logical size once reached */
};

enum memsize_range {
	MEMSIZE_OK = 0,
	MEMSIZE_ZERO,		/* a size of zero */
	MEMSIZE_ABOVE_RAM,	/* above the boot RAM, no virtio-mem */
	MEMSIZE_ABOVE_MAX,	/* above boot RAM plus the region */
};

/* Boot RAM, the balloon's actual and the virtio-mem device into M. */
int	 memsize_query(struct qmp *q, struct memsize *m, int timeout_ms);

/* Only the boot RAM and the virtio-mem device (no balloon needed). */
int	 memsize_query_devices(struct qmp *q, struct memsize *m,
	    int timeout_ms);

/* The logical size now: actual plus plugged. */
uint64_t memsize_logical(const struct memsize *m);

/* The most M's VM can reach: boot RAM plus the virtio-mem region. */
uint64_t memsize_max(const struct memsize *m);

/* What the balloon's actual is once the guest reached SIZE <= RAM. */
uint64_t memsize_balloon_goal(uint64_t ram, uint64_t size);

/* How to reach SIZE; a MEMSIZE_* range status. */
int	 memsize_plan(const struct memsize *m, uint64_t size,
	    struct memsize_plan *p);

/*
 * Ask QEMU for plan P: virtio-mem first when growing, the balloon first
 * when shrinking, so the guest never holds less than both ask for.
 */
int	 memsize_apply(struct qmp *q, struct memsize *m,
	    const struct memsize_plan *p, int timeout_ms);

#endif /* BALLONET_HOST_MEMSIZE_H */
