/*
 * ballonetd: oVirt MOM's default balloon rules (doc/balloon.rules), as
 * the reference README describes them.  Every 10 s: the host is under
 * pressure when its free fraction (pol_host_view) is below 20%,
 * critical at or below 5%.  Under pressure a guest shrinks to
 * max(min, used + g * cur) with g = host_free (critical: host_free -
 * 0.05), never below 0.95 * cur; otherwise it grows to max(1.05 * cur,
 * used + 0.20 * cur, min), capped at max.  Changes below 0.25% of cur are
 * skipped.  used = cur - free: MOM needs the guest's statistics and
 * leaves a guest without them alone.  (MOM averages its inputs over 10
 * samples; this takes the latest.)
 */
#include "policy.h"

static void
mom_run(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *vms, size_t n, struct pol_track *t,
    struct pol_decision *out)
{
	int64_t total, free;
	double host_free;

	(void)p;
	pol_host_view(h, vms, n, t, &total, &free);
	host_free = (double)free / (double)total;
	for (size_t i = 0; i < n; i++) {
		const struct pol_vm *v = &vms[i];
		int64_t cur = pol_current(v, &t[i]), used, target;
		double g;

		if (v->excluded)
			continue;
		if (!v->stats_ok) {
			pol_reason(&out[i], "mom: no guest statistics");
			continue;
		}
		used = cur - v->free;
		if (used < 0)
			used = 0;
		if (host_free < 0.20) {
			g = host_free <= 0.05 ? host_free - 0.05 : host_free;
			if (g < 0)
				g = 0;
			target = used + (int64_t)(g * (double)cur);
			if (target < v->min)
				target = v->min;
			if (target < (int64_t)(0.95 * (double)cur))
				target = (int64_t)(0.95 * (double)cur);
			pol_reason(&out[i], "mom: host free %.1f%% < 20%%: shrink",
			    host_free * 100);
		} else {
			target = (int64_t)(1.05 * (double)cur);
			if (target < used + (int64_t)(0.20 * (double)cur))
				target = used + (int64_t)(0.20 * (double)cur);
			if (target < v->min)
				target = v->min;
			if (target > v->max)
				target = v->max;
			pol_reason(&out[i], "mom: host free %.1f%% >= 20%%: grow",
			    host_free * 100);
		}
		int64_t diff = target > cur ? target - cur : cur - target;
		if ((double)diff < 0.0025 * (double)cur) {
			pol_reason(&out[i], "mom: change below 0.25%%");
			continue;
		}
		out[i].target = target;
	}
}

const struct policy policy_mom = {
	.name		= "mom",
	.period_ms	= 10000,
	.run		= mom_run,
};
