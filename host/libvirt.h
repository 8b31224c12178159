/*
 * libvirt's VMs through libvirt's C API: what `ballonet --connect URI`
 * and ballonetd's libvirt backend share.
 *
 * A connection (struct lv) reaches every domain of one libvirt URI
 * ("qemu:///system", "qemu+ssh://HOST/system", ...).  Domains are named by
 * libvirt's name or UUID.  Sizes are bytes here; libvirt counts KiB, and
 * like QEMU's balloon command, virDomainSetMemory sets the *logical* size
 * (memory minus balloon).
 *
 * Every call returns an LV_* status; on anything but LV_OK, lv_error()
 * is one line saying what failed (no newline, no program prefix).
 * Events (balloon changes, domains stopping or starting, the connection
 * breaking) are queued by libvirt's event loop, which runs in a thread of
 * its own, and taken with lv_events() when lv_event_fd() is readable.
 */
#ifndef BALLONET_HOST_LIBVIRT_H
#define BALLONET_HOST_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_NAME_MAX	256	/* a domain's name, with its NUL */
#define LV_ERR_MAX	512	/* an error line, with its NUL */

/* Our own element in a domain's <metadata>: see lv_info(). */
#define LV_METADATA_NS	"urn:x-ballonet:libvirt:1"

enum lv_status {
	LV_OK = 0,
	LV_ENODOM,	/* no such domain, or it is not running */
	LV_ENOBALLOON,	/* the domain has no balloon device */
	LV_ERANGE,	/* a size of zero or above the domain's memory */
	LV_ECONN,	/* libvirt cannot be reached, or the connection broke */
	LV_EREFUSED,	/* libvirt (or QEMU behind it) refused the request */
	LV_ETIMEOUT,	/* libvirt or the guest did not answer in time */
};

struct lv;

/* One running domain, as lv_list() sees it. */
struct lv_dom {
	char		name[LV_NAME_MAX];
	uint64_t	memory;		/* maximum memory (the most the balloon
					   can give back), bytes */
};

/* What libvirt says about a domain, without asking the guest. */
struct lv_info {
	char		name[LV_NAME_MAX];
	char		uuid[40];	/* canonical UUID string */
	int		id;		/* libvirt's domain id, -1 inactive */
	const char	*state;		/* "running", "paused", ... (static) */
	uint64_t	memory;		/* maximum memory, bytes: the boot RAM
					   plus a virtio-mem region */
	uint64_t	boot;		/* RAM at start (memory minus the
					   virtio-mem region), bytes */
	uint64_t	current;	/* current memory: libvirt's view of the
					   logical size (follows balloon
					   events), bytes */
	/* A virtio-mem device (<memory model='virtio-mem'>), the first. */
	bool		vmem;
	uint64_t	vmem_size;	/* its region, bytes */
	uint64_t	vmem_block;	/* block size, bytes */
	uint64_t	vmem_requested;	/* <requested>, bytes */
	uint64_t	vmem_current;	/* <current>: plugged, bytes */
	bool		balloon;	/* has a balloon device */
	int		stats_period;	/* <memballoon><stats period>, s; 0 off */
	int64_t		min_guarantee;	/* <memtune><min_guarantee>, else our
					   <metadata> element; bytes, -1 none */
};

/*
 * virDomainMemoryStats, in bytes (counts for faults and hugetlb); -1
 * where libvirt did not report it.  libvirt's names: AVAILABLE is the
 * memory the guest sees (the balloon's "total"), USABLE what it could
 * give up without swapping (the balloon's "available").
 */
struct lv_stats {
	int64_t		actual;		/* logical size (query-balloon) */
	int64_t		rss;		/* QEMU's resident set */
	int64_t		unused;		/* free memory in the guest */
	int64_t		available;	/* total memory the guest sees */
	int64_t		usable;		/* free + reclaimable in the guest */
	int64_t		disk_caches;
	int64_t		swap_in;	/* cumulative */
	int64_t		swap_out;	/* cumulative */
	int64_t		major_faults;	/* count, cumulative */
	int64_t		minor_faults;	/* count, cumulative */
	int64_t		hugetlb_pgalloc;	/* count */
	int64_t		hugetlb_pgfail;		/* count */
	int64_t		last_update;	/* seconds since the epoch */
};

enum lv_event_kind {
	LV_EV_BALLOON,	/* NAME's actual changed to ACTUAL */
	LV_EV_STOPPED,	/* NAME stopped (or was undefined): forget it */
	LV_EV_STARTED,	/* NAME started (or resumed from a save) */
	LV_EV_LOST,	/* events were dropped: list the domains again */
	LV_EV_CLOSED,	/* the connection broke: lv_error() says why */
};

struct lv_event {
	enum lv_event_kind kind;
	char		name[LV_NAME_MAX];	/* "" for LOST and CLOSED */
	int64_t		actual;		/* LV_EV_BALLOON: bytes */
};

/*
 * Connect to URI (NULL: libvirt's default), with libvirt's default
 * authentication (ssh keys, a password prompt on a terminal).  A
 * connection that stops answering is closed after about TIMEOUT_MS
 * (libvirt's keepalive), which ends any call waiting on it.  On failure
 * returns NULL and writes one line into ERR.
 */
struct lv *lv_open(const char *uri, int timeout_ms, char *err, size_t errlen);
void lv_close(struct lv *lv);

/* The last failure, one line. */
const char *lv_error(const struct lv *lv);

/* The URI libvirt connected to (its canonical form). */
const char *lv_uri(const struct lv *lv);

/* The running domains, into a new array (free() it; NULL when 0). */
int lv_list(struct lv *lv, struct lv_dom **doms, size_t *count);

/* Facts about NAME from virDomainGetInfo and its live XML. */
int lv_info(struct lv *lv, const char *name, struct lv_info *info);

/* virDomainMemoryStats of NAME. */
int lv_stats(struct lv *lv, const char *name, struct lv_stats *st);

/*
 * Ask NAME's guest for a logical size of BYTES: virDomainSetMemory, and
 * with a virtio-mem device above the boot RAM its <requested> size
 * (virDomainUpdateDeviceFlags), as host/memsize.c plans it.
 */
int lv_set(struct lv *lv, const char *name, uint64_t bytes);

/*
 * The logical size: the balloon's actual (ST) plus what virtio-mem has
 * plugged (INFO); libvirt's current memory if the balloon said nothing.
 */
int64_t lv_logical(const struct lv_info *info, const struct lv_stats *st);

/* INFO's boot RAM and virtio-mem device as host/memsize.c has them. */
struct memsize;
void lv_memsize(const struct lv_info *info, struct memsize *m);

/* Have the guest report statistics every SECONDS (0: stop). */
int lv_stats_period(struct lv *lv, const char *name, int seconds);

/* Readable (POLLIN) while events are queued; stable until lv_close(). */
int lv_event_fd(const struct lv *lv);

/* Take up to MAX queued events, without blocking; returns how many. */
size_t lv_events(struct lv *lv, struct lv_event *ev, size_t max);

/*
 * A libvirt XML size: VALUE in UNIT (libvirt's units: b, KiB, KB, MiB,
 * ...; NULL or "" is KiB) into *BYTES.  Returns 0, or -1 if malformed or
 * above UINT64_MAX.
 */
int lv_parse_size(const char *value, const char *unit, uint64_t *bytes);

#endif /* BALLONET_HOST_LIBVIRT_H */
