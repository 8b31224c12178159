/*
 * ballonetd: XAPI squeezed (lib/squeeze.ml), as the reference README
 * describes it.  Every 10 s: surplus = host_free + sum(cur - min -
 * 2 * inaccuracy) - host_target over the active VMs, gamma =
 * clamp(surplus / sum(max - min), 0, 1), target = min + gamma * (max -
 * min): the same fraction of its range for every VM.  host_free comes
 * from pol_host_view; host_target is the 9 MiB slush fund.  A VM that
 * made no progress toward its target for 5 s is inactive (its size
 * counts as fixed), after 20 s uncooperative (reported once).  Freeing
 * before allocating is the daemon's order for every policy.
 */
#include "policy.h"

#define SQ_SLUSH	(9 * MIB)
#define SQ_INACCURACY	(4 * MIB)	/* a domain's accepted error */
#define SQ_INACTIVE_MS	5000
#define SQ_UNCOOP_MS	20000

static bool
active(const struct pol_host *h, const struct pol_vm *v, struct pol_track *t,
    struct pol_decision *d)
{
	enum pol_state was = t->state;
	int64_t idle = h->now_ms - t->progress_ms;

	if (v->excluded || v->actual <= 0)
		return false;
	if (t->target <= 0 || idle < SQ_INACTIVE_MS)
		t->state = POL_ACTIVE;
	else if (idle < SQ_UNCOOP_MS)
		t->state = POL_INACTIVE;
	else
		t->state = POL_UNCOOP;
	if (t->state == POL_UNCOOP && was != POL_UNCOOP) {
		d->report = true;
		t->reported = true;
	}
	if (t->state == POL_ACTIVE && was == POL_UNCOOP)
		d->report = true;
	switch (t->state) {
	case POL_INACTIVE:
		pol_reason(d, "squeezed: no progress for %lld s: inactive",
		    (long long)idle / 1000);
		return false;
	case POL_UNCOOP:
		pol_reason(d, "squeezed: no progress for %lld s: "
		    "uncooperative", (long long)idle / 1000);
		return false;
	default:
		return true;
	}
}

static void
squeezed_run(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *vms, size_t n, struct pol_track *t,
    struct pol_decision *out)
{
	bool on[n > 0 ? n : 1];
	int64_t total, free, surplus, range = 0;
	double gamma;

	(void)p;
	pol_host_view(h, vms, n, t, &total, &free);
	surplus = free - SQ_SLUSH;
	for (size_t i = 0; i < n; i++) {
		on[i] = active(h, &vms[i], &t[i], &out[i]);
		if (!on[i])
			continue;
		surplus += pol_current(&vms[i], &t[i]) - vms[i].min -
		    2 * SQ_INACCURACY;
		range += vms[i].max - vms[i].min;
	}
	gamma = range > 0 ? (double)surplus / (double)range : 0;
	gamma = gamma < 0 ? 0 : gamma > 1 ? 1 : gamma;
	for (size_t i = 0; i < n; i++) {
		if (!on[i])
			continue;
		out[i].target = vms[i].min + (int64_t)(gamma *
		    (double)(vms[i].max - vms[i].min));
		pol_reason(&out[i], "squeezed: gamma %.3f of [min, max]", gamma);
	}
}

const struct policy policy_squeezed = {
	.name		= "squeezed",
	.period_ms	= 10000,
	.run		= squeezed_run,
};
