/*
 * ballonetd: policies, pure functions from state to targets.
 *
 * collect.c turns what the host and the backends report into the
 * structures below; a policy reads them with its memory of the previous
 * step (struct pol_track) and writes one decision per VM: a new target
 * and the reason.  Policies do no I/O and read no clock: the time is
 * in struct pol_host.  policy_step() runs one and then enforces what
 * holds for every policy: a VM between its min and max, the managed VMs
 * together within the budget, and the host above its reserve.
 *
 * Sizes are bytes (int64_t, -1 for "not known"), times milliseconds.
 */
#ifndef BALLONET_DAEMON_POLICY_H
#define BALLONET_DAEMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIB		(1024 * 1024LL)
#define POL_REASON_MAX	160
#define POL_HUGE	(1LL << 52)	/* bytes: more is no real memory */

/* The host, as the policies see it. */
struct pol_host {
	int64_t		now_ms;		/* monotonic clock */
	int64_t		mem_total;	/* /proc/meminfo MemTotal, bytes */
	int64_t		mem_free;	/* MemFree */
	int64_t		mem_available;	/* MemAvailable */
	int64_t		buffers;	/* Buffers */
	int64_t		cached;		/* Cached */
	double		psi_some10;	/* /proc/pressure/memory some avg10,
					   percent; -1 unknown */
	double		psi_full10;	/* full avg10, percent; -1 unknown */
	int64_t		budget;		/* what the managed VMs may hold
					   together, bytes; -1 no budget */
	int64_t		reserve;	/* MemAvailable the host keeps */
};

/* One managed VM, its statistics already checked by collect.c. */
struct pol_vm {
	const char	*name;
	int64_t		 min, max;	/* configured, bytes, 0 < min <= max */
	int64_t		 shares;	/* > 0 */
	int64_t		 memory;	/* RAM, bytes; -1 unknown */
	int64_t		 actual;	/* balloon actual, bytes; -1 unknown */
	int64_t		 rss;		/* its process's RSS, bytes; -1 not
					   local */
	bool		 stats_ok;	/* fresh and consistent: the next
					   three may be used */
	int64_t		 stats_time;	/* the report's time, seconds (-1) */
	int64_t		 total;		/* guest's total memory */
	int64_t		 free;		/* guest's free memory */
	int64_t		 avail;		/* available, else free */
	int64_t		 used;		/* what the guest's own work holds:
					   min(total, actual) - avail */
	bool		 short_mem;	/* free below the low watermark, or
					   major faults, swap-in or OOM kills
					   rising, or the guest deflated on
					   its own (deflate-on-oom) */
	const char	*short_why;	/* which of these; NULL if not short */
	bool		 self_deflated;	/* short because its actual rose past
					   its target: the guest ran out of
					   memory faster than stats show */
	bool		 excluded;	/* the daemon will not move it (no
					   balloon): its actual is fixed */
};

/* Why a VM is left alone. */
enum pol_state {
	POL_ACTIVE = 0,
	POL_NOSTATS,	/* ours: no usable statistics */
	POL_STUCK,	/* ours: does not follow its target */
	POL_INACTIVE,	/* squeezed: no progress for 5 s */
	POL_UNCOOP,	/* squeezed: no progress for 20 s */
};

/* A VM's policy memory from one step to the next (zeroed when new). */
struct pol_track {
	bool		known;		/* not a new VM */
	int64_t		target;		/* the target decided, -1 none */
	int64_t		changed_ms;	/* when the target last changed */
	int64_t		grown_ms;	/* when it last grew */
	int64_t		grown_stats;	/* stats_time of the report it grew
					   on: the next growth waits for a
					   newer one */
	int64_t		progress_ms;	/* when actual last moved toward
					   the target, or reached it */
	int64_t		last_actual;	/* actual at the previous step */
	int64_t		nostats_ms;	/* since when stats were not ok,
					   0 while they are */
	int64_t		last_stuck_actual; /* actual when found stuck */
	int64_t		since_ms;	/* when state last changed */
	enum pol_state	state;
	bool		reported;	/* state was reported once */
};

struct pol_decision {
	int64_t		target;		/* the new target; -1: leave it */
	bool		changed;	/* target differs from the old one */
	bool		report;		/* a state change worth one line */
	char		reason[POL_REASON_MAX];
};

/* Knobs of our policy (policy_ours.c); the defaults are in policy.c. */
struct pol_params {
	double		tau;		/* idle memory tax, 0 <= tau < 1 */
	int64_t		margin_min;	/* headroom above used, at least */
	double		margin_frac;	/* ... or this fraction of used */
	int64_t		low_min;	/* low watermark: free below */
	double		low_frac;	/* max(low_min, low_frac * total) */
	int64_t		grow_min;	/* a short guest grows at least */
	double		grow_frac;	/* or this fraction of actual */
	int64_t		deadband_min;	/* changes smaller are skipped */
	double		deadband_frac;	/* or this fraction of the target */
	int64_t		hold_ms;	/* no shrinking this long after a
					   growth */
	int64_t		follow_ms;	/* no progress this long: stuck */
	int64_t		nostats_ms;	/* no usable stats this long */
};

struct policy {
	const char	*name;
	int64_t		 period_ms;	/* how often it decides (its peer's
					   period; 0: every interval) */
	bool		 on_events;	/* also decides at once when a guest
					   deflates on its own (an event) */
	void		(*run)(const struct pol_params *p,
			    const struct pol_host *h, const struct pol_vm *vms,
			    size_t n, struct pol_track *t,
			    struct pol_decision *out);
					/* T: the tracks, updated for this
					   step; the policy may change
					   their state and reported */
};

/* The policy named NAME, or NULL. */
const struct policy *policy_find(const char *name);

/* "ours, mom, proxmox, squeezed, static". */
const char *policy_names(void);

extern const struct pol_params pol_defaults;

/*
 * One step: P's decisions for VMS[0..N) given PREV (the previous step's
 * tracks, zeroed for new VMs), into NEXT and OUT, then the limits every
 * policy obeys.  Writes nothing else.
 */
void policy_step(const struct policy *pol, const struct pol_params *p,
    const struct pol_host *h, const struct pol_vm *vms, size_t n,
    const struct pol_track *prev, struct pol_track *next,
    struct pol_decision *out);

/*
 * What the managed VMs may hold together now: the budget, and no more
 * than their actual plus what the host can give above its reserve.
 */
int64_t policy_allowed(const struct pol_host *h, const struct pol_vm *vms,
    size_t n);

/* The current size of V for a policy: actual, else the last target. */
int64_t pol_current(const struct pol_vm *v, const struct pol_track *t);

/*
 * The host the anchors reason about: with a budget, a host of that size
 * whose free memory is what the VMs do not hold; else the real host's
 * MemTotal and MemFree + Buffers + Cached.  Bytes.
 */
void pol_host_view(const struct pol_host *h, const struct pol_vm *vms,
    size_t n, const struct pol_track *t, int64_t *total, int64_t *free);

int64_t pol_clamp(int64_t x, int64_t lo, int64_t hi);

/* Write a reason into D (printf-style). */
void pol_reason(struct pol_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The policies (policy_*.c). */
extern const struct policy policy_ours, policy_mom, policy_proxmox,
    policy_squeezed, policy_static;

#endif /* BALLONET_DAEMON_POLICY_H */
