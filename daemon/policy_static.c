/*
 * ballonetd: no ballooning.  Each VM is set once to its shares' part of
 * the budget (of what the host allows without one), clamped to [min,
 * max], and never moved again: the sizes an operator would fix by hand
 * to fit the budget.
 */
#include "policy.h"

static void
static_run(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *vms, size_t n, struct pol_track *t,
    struct pol_decision *out)
{
	int64_t budget = h->budget >= 0 ? h->budget :
	    policy_allowed(h, vms, n), shares = 0;

	(void)p;
	for (size_t i = 0; i < n; i++)
		if (!vms[i].excluded)
			shares += vms[i].shares;
	for (size_t i = 0; i < n; i++) {
		if (vms[i].excluded)
			continue;
		if (t[i].target > 0) {
			pol_reason(&out[i], "static: fixed");
			continue;
		}
		out[i].target = pol_clamp((int64_t)((double)budget *
		    (double)vms[i].shares / (double)shares), vms[i].min,
		    vms[i].max);
		pol_reason(&out[i], "static: its shares' part of %lld MiB",
		    (long long)(budget / MIB));
	}
}

const struct policy policy_static = {
	.name		= "static",
	.period_ms	= 0,
	.run		= static_run,
};
