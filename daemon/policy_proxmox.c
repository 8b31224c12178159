/*
 * ballonetd: Proxmox VE's auto-ballooning (PVE/AutoBalloon.pm, run by
 * pvestatd every 10 s), as the reference README describes it.
 *
 * goal = 80% of the host's memory - what it uses (pol_host_view); nothing
 * when |goal| <= 10 MiB.  The goal is spread by shares: desired = min +
 * (sum(cur - min) + goal) * shares / sum(shares), clamped to [min, max],
 * recomputed without the clamped VMs; each VM moves at most 100 MiB a
 * round.  Growing goes first to the VMs that are not comfortable (free
 * memory unknown or at most 25% of their min), to all if they take none.
 */
#include <stdbool.h>

#include "policy.h"

#define PVE_STEP	(100 * MIB)	/* per VM per round */
#define PVE_QUIET	(10 * MIB)	/* |goal| at most this: nothing */

/*
 * Spread GOAL over the VMs with IN[i] set; RES holds their new sizes
 * (start: cur).  Returns what could not be placed.
 */
static int64_t
spread(const struct pol_vm *vms, const struct pol_track *t, size_t n,
    const bool *in, int64_t *res, int64_t goal)
{
	bool done[n > 0 ? n : 1];
	int64_t rest = goal;
	bool repeat = true, progress = true;

	for (size_t i = 0; i < n; i++)
		done[i] = !in[i];
	while (rest != 0 && repeat && progress) {
		int64_t alloc = 0, shares = 0, changes = 0;

		repeat = progress = false;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			alloc += res[i] - vms[i].min;
			shares += vms[i].shares;
		}
		if (shares == 0)
			break;
		alloc += rest;
		for (size_t i = 0; i < n; i++) {
			int64_t cur = pol_current(&vms[i], &t[i]), desired, nv;
			if (done[i])
				continue;
			desired = vms[i].min + (int64_t)((double)alloc *
			    (double)vms[i].shares / (double)shares);
			if (desired > vms[i].max || desired < vms[i].min) {
				desired = pol_clamp(desired, vms[i].min,
				    vms[i].max);
				repeat = true;
			}
			if (goal > 0 && desired > cur)
				nv = desired < cur + PVE_STEP ? desired :
				    cur + PVE_STEP;
			else if (desired < cur)
				nv = desired > cur - PVE_STEP ? desired :
				    cur - PVE_STEP;
			else {
				done[i] = true;
				continue;
			}
			if (nv != res[i]) {
				changes += nv - res[i];
				progress = true;
				res[i] = nv;
			}
		}
		rest -= changes;
	}
	return rest;
}

static void
proxmox_run(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *vms, size_t n, struct pol_track *t,
    struct pol_decision *out)
{
	bool all[n > 0 ? n : 1], tight[n > 0 ? n : 1];
	int64_t res[n > 0 ? n : 1], total, free, goal;

	(void)p;
	pol_host_view(h, vms, n, t, &total, &free);
	goal = (int64_t)(0.80 * (double)total) - (total - free);
	for (size_t i = 0; i < n; i++) {
		all[i] = !vms[i].excluded && vms[i].actual > 0;
		tight[i] = all[i] && !(vms[i].stats_ok &&
		    vms[i].free > vms[i].min / 4);
		res[i] = pol_current(&vms[i], &t[i]);
		pol_reason(&out[i], "proxmox: goal %lld MiB within 10 MiB",
		    (long long)(goal / MIB));
	}
	if (goal > PVE_QUIET) {
		int64_t rest = spread(vms, t, n, tight, res, goal);
		if (rest >= goal)
			spread(vms, t, n, all, res, rest);
	} else if (goal < -PVE_QUIET) {
		spread(vms, t, n, all, res, goal);
	} else {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!all[i] || res[i] == pol_current(&vms[i], &t[i]))
			continue;
		out[i].target = res[i];
		pol_reason(&out[i], "proxmox: goal %+lld MiB by shares, "
		    "100 MiB a round", (long long)(goal / MIB));
	}
}

const struct policy policy_proxmox = {
	.name		= "proxmox",
	.period_ms	= 10000,
	.run		= proxmox_run,
};
