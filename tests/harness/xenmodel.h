/*
 * A Xen model in the test process, for the real xenstore client and Xen
 * balloon front-end (xen/): a fake xenstored on the guest's shared ring (a
 * few keys, watches, knobs to misbehave) and a fake hypervisor
 * (XENMEM_* reservations, the event channel to xenstored).  Both answer
 * synchronously when the client kicks the event channel, as a fast dom0
 * would.  It sits beside devmodel.h, the virtio device model.
 *
 * The model asserts nothing itself, so that fuzzers can use it too: what
 * the guest did against the protocol is counted in "violations", and
 * fake_xen_check() returns the first one.  Misuse by the test itself (too
 * many keys, a value too long) aborts.
 */
#ifndef XENMODEL_H
#define XENMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_port.h"
#include "xen_abi.h"
#include "xen_port.h"
#include "xenhot.h"

#define FAKE_XS_KEYS		16
#define HOT_BASE	0x4000000ull	/* the hot-plug window: 64 MiB... */
#define HOT_BLOCKS	16		/* ...+ 32 MiB, blocks of 2 MiB */
#define HOT_PAGES	(HOT_BLOCKS * 512)
#define HOT_KIB		(HOT_PAGES * 4)
#define FAKE_XEN_EVTCHN		7	/* the xenstore event channel */

/* The fake xenstored: a few keys, watches, on the guest's ring. */
struct fake_xs {
	struct xenstore_domain_interface ring;
	struct {
		char	path[64];
		char	val[4200];
	} kv[FAKE_XS_KEYS];
	int		 nkv;
	char		 watch[4][64];	/* watched paths */
	int		 nwatch;
	char		 token[64];
	bool		 mute;		/* never answer */
	char		 ro[64];	/* a path the guest may not write */
	bool		 stale_first;	/* send a reply with a wrong id first */
	bool		 bad_len;	/* answer with an impossible length */
	bool		 bare_error;	/* error names without their NUL */
	char		 msg[16 + XENSTORE_PAYLOAD_MAX + 64];
	size_t		 got;
	unsigned	 requests;
	unsigned	 violations;	/* the guest broke the protocol */
	char		 violation[128];	/* the first time */
};

/* The fake hypervisor; its address is the port's "os" handle. */
/* The OS's books of the hot-plug window (pmem's, in the guest). */
struct fake_hot {
	uint64_t	 base, size;	/* what add_range() was given */
	unsigned	 add_calls;
	bool		 refuse;	/* add_range() fails */
	bool		 present[HOT_PAGES];
	bool		 used[HOT_PAGES];	/* handed out: offline fails */
	uint64_t	 npresent;
};

struct fake_xen {
	struct fake_os	 os;		/* first: the port's "os" handle */
	struct fake_xs	 xs;
	struct fake_hot	 hot;
	long		 maxres, curres;	/* pages; curres <= maxres */
	long		 populate_limit;	/* frames per call; < 0: all */
	long		 decrease_limit;	/* the same for decrease */
	bool		 no_order9;	/* no 2 MiB run: order 9 gets 0 */
	unsigned	 populate_calls, decrease_calls;
	unsigned	 order9_calls;	/* populate or decrease, order 9 */
	uint64_t	 not_zeroed;	/* decreased pages with data in them */
	bool		 populated[HOT_PAGES];	/* the window's frames */
	uint64_t	 hot_populated;
	unsigned	 violations;	/* bad hypercall arguments */
	char		 violation[128];	/* the first one */
};

/* The hypercalls of xen_port.h, over the model. */
extern const struct xen_hv fake_xen_hv;
/* The OS's hot-plug hooks over "hot" (the os handle is the fake_xen). */
extern const struct xen_hot_ops fake_hot_ops;

/* Fresh model with "npages" of RAM: no keys, no limits. */
void	 fake_xen_init(struct fake_xen *x, uint64_t npages);
void	 fake_xen_fini(struct fake_xen *x);
/* NULL, or the first protocol violation of the guest. */
const char *fake_xen_check(const struct fake_xen *x);

/* dom0's side of xenstore: read and write keys, fire a watch. */
const char *fake_xs_get(const struct fake_xs *s, const char *path);
void	 fake_xs_set(struct fake_xs *s, const char *path, const char *val,
	    size_t len);
void	 fake_xs_fire(struct fake_xs *s, const char *path);

#endif /* XENMODEL_H */
