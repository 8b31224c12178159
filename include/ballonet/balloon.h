/*
 * ballonet: the portable balloon engine.
 *
 * The engine owns the bookkeeping: how many pages the host wants, how many
 * the balloon holds and which ones, the limits (min, max), batching, the
 * requests in flight, backoff when the OS has no page to give, and the
 * diagnostics.  A front-end (virtio/, xen/) owns the wire: it tells the
 * engine what the host asks for and carries the engine's requests to the
 * host.  The OS owns pages and time, through include/ballonet/port.h.
 *
 * One struct bn_balloon per device instance.  The OS provides its storage
 * (it is large: the requests carry their frame numbers inline) and a
 * bitmap of one bit per 4 KiB page of guest-physical address space.
 *
 * The struct's members are private, as lwIP's priv/ headers are: they are
 * defined in include/ballonet/priv/balloon_priv.h, which the engine and the
 * front-ends include (a front-end embeds the struct in its softc, so that
 * the OS allocates nothing), and the OS does not.  The OS reads a balloon
 * only through the functions below.  An opaque byte array of a public size
 * would hide the members better, but the engine would then reach them
 * through a cast, against C's aliasing rules.
 *
 * Units: "pages" are 4 KiB pages, "kib" are KiB.  A frame number (pfn) is
 * a guest-physical address shifted right by BN_PAGE_SHIFT.
 */
#ifndef BALLONET_BALLOON_H
#define BALLONET_BALLOON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#define BN_PAGE_SHIFT		12
#define BN_PAGE_SIZE		4096u
#define BN_KIB_PER_PAGE		(BN_PAGE_SIZE / 1024u)

/*
 * Frame numbers per request.  A port may raise it at build time: every
 * request slot holds that many (8 bytes each, BN_INFLIGHT_MAX slots).
 * The reference guest uses 4096: under QEMU's TCG a 768 MiB resize costs
 * about a third less CPU than with 1024 (README, Performance).
 */
#ifndef BN_BATCH_MAX
#define BN_BATCH_MAX		1024
#endif
#define BN_INFLIGHT_MAX		8	/* requests the engine keeps at once */
#define BN_SAFEGUARD_EXTRA	256	/* pages above the OS reserve; balloon.4 */
#define BN_OOM_STEP		256	/* pages taken back per OOM step */
#define BN_OOM_WAIT_MS		1000	/* longest wait for the host's ack */

/* A request unacknowledged this long is reported (once). */
#define BN_ACK_WARN_MS		10000

/* bn_balloon_run() returns this when only an event can create work. */
#define BN_RUN_IDLE		UINT64_MAX

/* Bitmap storage the OS must provide for "max_pfn" frames. */
#define BN_BITMAP_BYTES(max_pfn)	((((max_pfn) + 63) / 64) * 8)

typedef uint64_t bn_pfn_t;

enum bn_dir {
	BN_INFLATE,	/* pages go from the guest to the host */
	BN_DEFLATE,	/* pages come back from the host */
};

struct bn_request {
	enum bn_dir	dir;
	bool		busy;		/* submitted, not yet completed */
	uint32_t	npfns;		/* frames in pfns[] */
	bn_pfn_t	pfns[BN_BATCH_MAX];
	uint64_t	sent_ms;	/* bn_port_now_ms() at submission */
	bool		late;		/* reported as unacknowledged */
};

struct bn_balloon;

/*
 * What a front-end provides.  All hooks run in worker context.
 */
struct bn_backend_ops {
	/* Sysctl prefix of this backend: "hw.viomb" or "machdep.xen.balloon". */
	const char	*sysctl_prefix;

	/*
	 * Drain completions and read the host's wishes: call
	 * bn_balloon_complete() and bn_balloon_set_host_target() as needed.
	 * Called first thing by every bn_balloon_run().  May be NULL.
	 */
	void	(*poll)(void *be);

	/*
	 * Carry a request to the host.  BN_OK: the front-end owns it until it
	 * calls bn_balloon_complete(), which it may do before returning.
	 * Any other value: nothing was sent, the engine takes it back.
	 */
	int	(*submit)(void *be, struct bn_request *req);

	/* Tell the host the balloon's size, after every completed request. */
	void	(*set_actual)(void *be, uint64_t pages);

	/*
	 * The guest itself chose a new target reservation (sysctl), already
	 * checked against min and max.  Xen writes memory/target: the host
	 * then owns that target, and the front-end reports the new wish with
	 * bn_balloon_set_host_target() (it may do so before returning).
	 * NULL where the host has no such channel: the engine keeps the
	 * guest's target itself.
	 */
	int	(*set_target)(void *be, uint64_t kib);
};

struct bn_config {
	const char	*name;		/* instance name for messages, "viomb0" */
	uint64_t	 ram_pages;	/* guest RAM at boot: "max" */
	uint64_t	 max_pfn;	/* highest frame number + 1 */
	uint64_t	*bitmap;	/* BN_BITMAP_BYTES(max_pfn), zeroed */
	uint32_t	 batch_pages;	/* frames per request, 1..BN_BATCH_MAX */
	uint32_t	 max_inflight;	/* requests at once, 1..BN_INFLIGHT_MAX */
	/*
	 * Frames in the first inflate request after the host's wish changed,
	 * doubling with each request up to batch_pages: "actual" moves
	 * sooner.  0: every request is batch_pages.
	 */
	uint32_t	 first_batch;
	/*
	 * The spec's rule for virtio without DEFLATE_ON_OOM: never shrink the
	 * balloon below what the host asked for (VIRTIO 1.2, 5.5.6.1).
	 */
	bool		 host_floor;
	/*
	 * The host lets the guest take pages back when it runs out of memory
	 * (virtio DEFLATE_ON_OOM, 5.5.6.1): bn_balloon_reclaim() works.
	 */
	bool		 oom_deflate;
	/*
	 * The OS keeps its free pages filled with poison_val: every page the
	 * engine gives back to it is filled first, whichever way it comes
	 * back (VIRTIO 1.2, 5.5.6.4).  virtio also tells the device
	 * (PAGE_POISON) when it offers that.
	 */
	bool		 poison;
	uint32_t	 poison_val;
	void		*os;		/* handle for the port hooks */
	const struct bn_backend_ops *ops;
	void		*be;		/* handle for the backend hooks */
};

struct bn_stats {
	uint64_t	inflated;	/* pages ever acknowledged into the balloon */
	uint64_t	deflated;	/* pages ever given back to the OS */
	uint64_t	alloc_failures;	/* bn_port_page_alloc() refusals */
	uint64_t	host_refused;	/* frames the host did not accept */
	uint64_t	requests;	/* requests completed */
	uint64_t	ack_timeouts;	/* requests unacknowledged BN_ACK_WARN_MS */
	uint64_t	aborted;	/* frames in flight at a device reset */
	uint64_t	oom_deflated;	/* pages taken back on OOM */
	uint64_t	oom_failures;	/* bn_balloon_reclaim() calls that got none */
	/* Kept by the front-end: */
	uint64_t	reported;	/* free pages reported (virtio REPORTING) */
	uint64_t	stats_updates;	/* statistics buffers given to the host */
};

/*
 * Memory hot-plugged above the boot RAM (virtio-mem, Xen hot-plug), kept
 * by that front-end for the sysctl nodes; all zero without one.  KiB.
 */
struct bn_hotplug {
	uint64_t	plugged_kib;	/* plugged now */
	uint64_t	usable_kib;	/* the most that can be plugged now */
	uint64_t	requested_kib;	/* what the host wants plugged */
	/*
	 * The guest plugs memory itself (Xen): a target written above the
	 * boot RAM goes to the backend's set_target whole.
	 */
	bool		guest_plugs;
};

/* Set up an instance; the balloon starts empty.  EINVAL on a bad config. */
int bn_balloon_init(struct bn_balloon *b, const struct bn_config *cfg)
    BN_MUST_CHECK;

/*
 * Do what can be done now: poll the backend, start inflate or deflate
 * requests toward the goal.  Returns milliseconds until it wants to run
 * again (0: as soon as possible), or BN_RUN_IDLE.
 */
uint64_t bn_balloon_run(struct bn_balloon *b);

/* The host's requested balloon size, in pages (virtio num_pages). */
void bn_balloon_set_host_target(struct bn_balloon *b, uint64_t pages);

/*
 * A front-end finished "req": the host accepted the first "done" frames
 * (inflate: they are now in the balloon; deflate: they are back in the
 * guest).  The others stay where they were before the request.
 */
void bn_balloon_complete(struct bn_balloon *b, struct bn_request *req,
    uint32_t done);

/*
 * The OS is out of memory: take up to "pages" pages back from the balloon
 * (in steps of BN_OOM_STEP) and give them to the OS allocator, waiting for
 * the host's acknowledgement (MUST_TELL_HOST) for at most BN_OOM_WAIT_MS
 * per step by polling the backend.  *got (may be NULL) says how many came
 * back.  The balloon then stays smaller until the host or the guest sets
 * a new target.  EPERM without cfg.oom_deflate (the spec forbids it, VIRTIO
 * 1.2 5.5.6.1): nothing changes; ENOMEM: the balloon is empty; ETIMEDOUT:
 * the host did not answer; EBUSY: called from inside the engine (from a
 * hook that bn_balloon_run() or bn_balloon_complete() called, such as an
 * allocator's OOM path entered from bn_port_page_alloc()) or from itself.
 */
int bn_balloon_reclaim(struct bn_balloon *b, uint64_t pages, uint64_t *got)
    BN_MUST_CHECK;

/*
 * The device was reset: every request in flight is lost, and none will be
 * acknowledged.  Inflate: the host may have discarded the frames, which
 * then read as zeroes; the guest never wrote them: they go back to the OS.
 * Deflate: MUST_TELL_HOST was never acknowledged: the frames stay in the
 * balloon, to be deflated again.  Call after the reset, before any new
 * request; then report the balloon's size to the device again.
 */
void bn_balloon_abort_inflight(struct bn_balloon *b);

/* Age of the oldest unacknowledged request in ms at "now"; 0: none. */
uint64_t bn_balloon_oldest_ms(const struct bn_balloon *b, uint64_t now);

/* The balloon size the engine is moving toward, in pages. */
uint64_t bn_balloon_goal(const struct bn_balloon *b);

/*
 * The most the host lets the guest hold (Xen's maximum reservation, set by
 * xl mem-max), in KiB; 0 or anything above RAM means RAM.  Lowers "max".
 */
void bn_balloon_set_host_max_kib(struct bn_balloon *b, uint64_t kib);

/* Reservations in KiB as balloon.4 defines them. */
uint64_t bn_balloon_max_kib(const struct bn_balloon *b);
uint64_t bn_balloon_current_kib(const struct bn_balloon *b);
uint64_t bn_balloon_target_kib(const struct bn_balloon *b);

/* Limits; EPERM outside balloon.4's rules, nothing changed then. */
int bn_balloon_set_min_kib(struct bn_balloon *b, uint64_t kib) BN_MUST_CHECK;
int bn_balloon_set_target_kib(struct bn_balloon *b, uint64_t kib)
    BN_MUST_CHECK;

/*
 * Memory hot-plugged above the boot RAM, as a hot-plug front-end (virtio-
 * mem; a Xen hot-plug) sees it: the sysctl nodes add it to current, max
 * and target.  The engine itself never uses it.
 */
void bn_balloon_set_hotplug(struct bn_balloon *b, const struct bn_hotplug *h);
const struct bn_hotplug *bn_balloon_hotplug(const struct bn_balloon *b);

/*
 * A target reservation above the boot RAM, for a front-end that plugs
 * memory itself (bn_hotplug.guest_plugs, Xen): it goes to the backend's
 * set_target whole, which then reports the host's wish.  EPERM without
 * such a front-end; the caller checks it against "max" with hot-plug.
 */
int bn_balloon_set_hot_target_kib(struct bn_balloon *b, uint64_t kib)
    BN_MUST_CHECK;

/* True while no request is in flight and the balloon is at its goal. */
bool bn_balloon_settled(const struct bn_balloon *b);

/*
 * Check the books: bits set, requests in flight and counters agree.
 * BN_OK or BN_EIO.  Costs a pass over the bitmap: for tests and debug.
 */
int bn_balloon_check(const struct bn_balloon *b);

/*
 * What the OS may read of a balloon; its members are the engine's own
 * (include/ballonet/priv/balloon_priv.h).
 */

/* The instance name of bn_config, "viomb0". */
const char *bn_balloon_name(const struct bn_balloon *b);
/* Pages in the balloon, acknowledged by the host ("actual"). */
uint64_t bn_balloon_pages(const struct bn_balloon *b);
/* Pages out of the OS in inflate requests the host has not acknowledged. */
uint64_t bn_balloon_inflating(const struct bn_balloon *b);
/* True when frame "pfn" is in the balloon (its bit is set). */
bool bn_balloon_holds(const struct bn_balloon *b, bn_pfn_t pfn);
/* The counters. */
const struct bn_stats *bn_balloon_stats(const struct bn_balloon *b);
/* True when the engine poisons (bn_config.poison); *val gets poison_val. */
bool bn_balloon_poison(const struct bn_balloon *b, uint32_t *val);

/*
 * Let the front-end drain completions and read the host's wishes (its
 * poll hook), without starting any request: for an OS that waits for
 * the device outside bn_balloon_run(), as an OOM path does.
 */
void bn_balloon_poll(struct bn_balloon *b);

#endif /* BALLONET_BALLOON_H */
