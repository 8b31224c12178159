/*
 * ballonetd: collection, apart from the decisions.
 *
 * collect_host() reads /proc/meminfo and /proc/pressure/memory;
 * collect_vm() turns one backend sample (and the one before it) into
 * what a policy sees, checking everything the guest reported: numbers
 * that cannot be true (free above total, total above the VM's RAM,
 * stale or future report times) make the statistics unusable, never a
 * decision.  collect_vm() is pure, for the unit tests.
 */
#ifndef BALLONET_DAEMON_COLLECT_H
#define BALLONET_DAEMON_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "policy.h"

/*
 * Fill H's memory and pressure fields from the files under PROC ("/proc"
 * normally).  Fields it cannot read are -1.  Returns 0, or -1 if
 * meminfo could not be read.
 */
int collect_host(const char *proc, struct pol_host *h);

/* Parse meminfo and pressure text (exposed for tests). */
void collect_meminfo(const char *text, struct pol_host *h);
void collect_pressure(const char *text, struct pol_host *h);

/* What collect_vm() needs beyond the samples. */
struct collect_ctx {
	int64_t		now_s;		/* wall clock, seconds since epoch */
	int		period_s;	/* the stats period asked for */
	int64_t		target;		/* the target last set, -1 none */
	int64_t		stats_actual;	/* the actual when this report was
					   first seen (the balloon moves
					   between reports), -1: the
					   sample's */
	int64_t		floor_actual;	/* the lowest actual seen since the
					   target was set, -1 unknown */
};

/*
 * The policy's view of a VM from sample S and PREV (NULL if none), with
 * its configured limits already in OUT (name, min, max, shares).
 * OUT->short_why points to a static string.
 */
void collect_vm(const struct pol_params *p, const struct collect_ctx *c,
    const struct bk_sample *s, const struct bk_sample *prev,
    struct pol_vm *out);

/*
 * Whether ACTUAL says the guest deflated its balloon on its own
 * (deflate-on-oom) since TARGET was set, FLOOR being the lowest actual
 * seen since then (-1 unknown).  Anything out of range says no.
 */
bool collect_deflated_itself(int64_t actual, int64_t target, int64_t floor);

/* Why collect_vm() found the statistics unusable ("" if usable). */
const char *collect_stats_problem(const struct collect_ctx *c,
    const struct bk_sample *s);

#endif /* BALLONET_DAEMON_COLLECT_H */
