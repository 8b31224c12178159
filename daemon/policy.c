/*
 * ballonetd: what every policy shares (see policy.h): the table of
 * policies, the per-VM tracking, and the limits enforced after each
 * policy's decisions.
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SLACK	(4 * MIB)	/* actual this close to a target is there */

const struct pol_params pol_defaults = {
	.tau		= 0.75,		/* ESX's default idle memory tax */
	.margin_min	= 32 * MIB,
	.margin_frac	= 0.125,
	.low_min	= 16 * MIB,
	.low_frac	= 0.04,		/* ESX's "soft" free state: 4% */
	.grow_min	= 64 * MIB,
	.grow_frac	= 0.25,
	.deadband_min	= 8 * MIB,
	.deadband_frac	= 0.02,
	.hold_ms	= 10000,
	.follow_ms	= 30000,	/* TCG guests are slow to move */
	.nostats_ms	= 20000,
};

static const struct policy *const policies[] = {
	&policy_ours, &policy_mom, &policy_proxmox, &policy_squeezed,
	&policy_static,
};

const struct policy *
policy_find(const char *name)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(policies[i]->name, name) == 0)
			return policies[i];
	return NULL;
}

const char *
policy_names(void)
{
	return "ours, mom, proxmox, squeezed, static";
}

int64_t
pol_clamp(int64_t x, int64_t lo, int64_t hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

void
pol_reason(struct pol_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

int64_t
pol_current(const struct pol_vm *v, const struct pol_track *t)
{
	if (v->actual > 0)
		return v->actual;
	if (t != NULL && t->target > 0)
		return t->target;
	return v->memory > 0 ? v->memory : v->max;
}

void
pol_host_view(const struct pol_host *h, const struct pol_vm *vms, size_t n,
    const struct pol_track *t, int64_t *total, int64_t *free)
{
	int64_t held = 0;

	if (h->budget < 0) {
		*total = h->mem_total > 0 ? h->mem_total : 1;
		*free = (h->mem_free > 0 ? h->mem_free : 0) +
		    (h->buffers > 0 ? h->buffers : 0) +
		    (h->cached > 0 ? h->cached : 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		held += pol_current(&vms[i], t ? &t[i] : NULL);
	*total = h->budget > 0 ? h->budget : 1;
	*free = h->budget - held;
}

int64_t
policy_allowed(const struct pol_host *h, const struct pol_vm *vms, size_t n)
{
	int64_t held = 0, untouched = 0, allowed;

	for (size_t i = 0; i < n; i++) {
		int64_t cur = pol_current(&vms[i], NULL);
		held += cur;
		/* Memory a VM may touch without any change of ours. */
		if (vms[i].rss >= 0 && vms[i].rss < cur)
			untouched += cur - vms[i].rss;
	}
	if (h->mem_available >= 0 && h->mem_available < POL_HUGE &&
	    h->reserve >= 0 && h->reserve < POL_HUGE)
		allowed = held + h->mem_available - h->reserve - untouched;
	else
		allowed = held;		/* no host view: no growth */
	if (h->budget >= 0 && h->budget < allowed)
		allowed = h->budget;
	return allowed;
}

/* Tracking every policy gets for free, before it runs. */
static void
track(const struct pol_host *h, const struct pol_vm *v,
    const struct pol_track *prev, struct pol_track *next)
{
	*next = *prev;
	if (!prev->known) {
		memset(next, 0, sizeof(*next));
		next->known = true;
		next->target = -1;
		next->changed_ms = next->progress_ms = h->now_ms;
		next->last_actual = v->actual;
	}
	if (v->actual > 0 && next->target > 0) {
		int64_t now = v->actual - next->target;
		int64_t was = next->last_actual - next->target;
		if (now < 0)
			now = -now;
		if (was < 0)
			was = -was;
		if (now <= SLACK || now + SLACK < was || next->last_actual <= 0)
			next->progress_ms = h->now_ms;
	}
	next->last_actual = v->actual;
	if (v->stats_ok)
		next->nostats_ms = 0;
	else if (next->nostats_ms == 0)
		next->nostats_ms = h->now_ms;
}

/* Cut the total of the decided targets down to ALLOWED. */
static void
enforce_allowed(const struct pol_vm *vms, size_t n,
    const struct pol_track *prev, struct pol_decision *out, int64_t allowed)
{
	int64_t sum = 0, growth = 0, above = 0, excess;

	for (size_t i = 0; i < n; i++) {
		int64_t cur = pol_current(&vms[i], &prev[i]);
		int64_t t = out[i].target >= 0 ? out[i].target : cur;
		sum += t;
		if (out[i].target >= 0 && out[i].target > cur)
			growth += out[i].target - cur;
	}
	if ((excess = sum - allowed) <= 0)
		return;
	/* First what the policy wanted to add... */
	for (size_t i = 0; i < n && growth > 0; i++) {
		int64_t cur = pol_current(&vms[i], &prev[i]);
		if (out[i].target < 0 || out[i].target <= cur)
			continue;
		int64_t g = out[i].target - cur;
		int64_t cut = excess >= growth ? g :
		    (int64_t)((double)g * excess / growth + 1);
		if (cut > g)
			cut = g;
		out[i].target -= cut;
		sum -= cut;
	}
	if ((excess = sum - allowed) <= 0)
		return;
	/* ...then, pro rata, what the decided VMs hold above their min. */
	for (size_t i = 0; i < n; i++)
		if (out[i].target > vms[i].min)
			above += out[i].target - vms[i].min;
	for (size_t i = 0; i < n && above > 0; i++) {
		if (out[i].target <= vms[i].min)
			continue;
		int64_t a = out[i].target - vms[i].min;
		int64_t cut = excess >= above ? a :
		    (int64_t)((double)a * excess / above + 1);
		out[i].target -= cut > a ? a : cut;
	}
}

void
policy_step(const struct policy *pol, const struct pol_params *p,
    const struct pol_host *h, const struct pol_vm *vms, size_t n,
    const struct pol_track *prev, struct pol_track *next,
    struct pol_decision *out)
{
	for (size_t i = 0; i < n; i++) {
		track(h, &vms[i], &prev[i], &next[i]);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].target = -1;
	}
	pol->run(p, h, vms, n, next, out);
	for (size_t i = 0; i < n; i++) {
		if (vms[i].excluded)
			out[i].target = -1;
		if (out[i].target < 0)
			continue;
		/* Whole MiB, then the VM's own limits. */
		out[i].target &= ~(MIB - 1);
		out[i].target = pol_clamp(out[i].target, vms[i].min, vms[i].max);
	}
	enforce_allowed(vms, n, next, out, policy_allowed(h, vms, n));
	for (size_t i = 0; i < n; i++) {
		struct pol_track *t = &next[i];
		int64_t old = t->target > 0 ? t->target : vms[i].actual;

		if (out[i].target < 0)
			continue;
		out[i].target = pol_clamp(out[i].target, vms[i].min, vms[i].max);
		out[i].changed = out[i].target != old;
		if (!out[i].changed)
			continue;
		if (old > 0 && out[i].target > old) {
			t->grown_ms = h->now_ms;
			t->grown_stats = vms[i].stats_time;
		}
		t->target = out[i].target;
		t->changed_ms = t->progress_ms = h->now_ms;
	}
}
