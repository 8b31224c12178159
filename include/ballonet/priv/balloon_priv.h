/*
 * ballonet: the engine's private state and internal declarations, as lwIP's
 * priv/ headers.  For the engine (engine/) and the front-ends (virtio/, xen/,
 * which embed struct bn_balloon in their softc), and for white-box tests;
 * never for the OS, which uses the accessors of balloon.h.
 */
#ifndef BALLONET_PRIV_BALLOON_PRIV_H
#define BALLONET_PRIV_BALLOON_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>

struct bn_balloon {
	struct bn_config cfg;
	struct bn_hotplug hot;		/* not the engine's: sysctl only */

	uint64_t	host_pages;	/* balloon size the host asks for */
	uint64_t	host_max_kib;	/* reservation the host allows, 0 = RAM */
	uint64_t	user_kib;	/* target reservation set by the guest, 0 = none */
	uint64_t	min_kib;	/* reservation never given up (sysctl min) */
	uint64_t	safeguard_kib;	/* lowest allowed min */

	uint64_t	pages;		/* in the balloon, acknowledged by the host */
	uint64_t	inflating;	/* in inflate requests in flight */
	uint64_t	deflating;	/* in deflate requests in flight */

	uint64_t	retry_at_ms;	/* no allocation before this time */
	uint32_t	backoff_ms;	/* current retry delay, 0 = none */
	uint64_t	warned_goal;	/* goal last warned about, to say it once */
	uint64_t	next_warn_ms;	/* rate limit of the allocation message */
	uint64_t	next_host_warn_ms; /* of "more than RAM", for flapping */
	uint64_t	scan_word;	/* where deflate looks for set bits next */
	uint32_t	ramp;		/* frames in the next inflate request */
	bool		oom_hold;	/* no inflating past oom_cap: ... */
	uint64_t	oom_cap;	/* ... pages, until a new target comes */
	bool		reclaiming;	/* inside bn_balloon_reclaim() */
	uint32_t	depth;		/* run() and complete() on the stack */
	uint64_t	features;	/* the backend's negotiated bits, for sysctl */

	struct bn_stats	stats;
	struct bn_request req[BN_INFLIGHT_MAX];
};

/* The goal, less what OOM reclaim took back; engine/oom.c. */
uint64_t bn_balloon_oom_goal(const struct bn_balloon *b, uint64_t goal);

/*
 * One step of a doubling backoff, for the engine and the front-ends alike:
 * "min_ms" after no delay ("cur_ms" 0), else twice "cur_ms", never above
 * "max_ms".
 */
uint32_t bn_backoff_next(uint32_t cur_ms, uint32_t min_ms, uint32_t max_ms);

/* Format and log a message with the instance name in front. */
void bn_balloon_log(const struct bn_balloon *b, int level, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * A line per request at BN_LOG_DEBUG, compiled in only with -DBN_DEBUG, as
 * OpenBSD's VIOMBDEBUG (the reference guest's GUEST_DEBUG=1 build).
 */
#ifdef BN_DEBUG
#define BN_DPRINTF(b, ...)	bn_balloon_log((b), BN_LOG_DEBUG, __VA_ARGS__)
#else
#define BN_DPRINTF(b, ...)	do { } while (0)
#endif

/*
 * The same for a front-end, before its engine exists too: "name: " and the
 * message, one line of at most BN_LOG_LINE bytes, to bn_port_log(os).
 */
#define BN_LOG_LINE	256
void bn_vlog(void *os, const char *name, int level, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));
void bn_log(void *os, const char *name, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* BALLONET_PRIV_BALLOON_PRIV_H */
