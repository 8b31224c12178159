/*
 * ballonetd: our policy.
 *
 * Each VM wants what its guest uses plus a margin; a guest short of
 * memory (collect.c says why) wants at least a quarter more at once.
 * Growth is immediate; shrinking waits hold_ms after a growth, then
 * halves the distance each step; changes within a dead band are
 * skipped.  When the wants do not fit the budget, memory is given in
 * this order, each stage by Waldspurger's adjusted shares-per-page ratio
 * rho = S / (P * (f + k(1 - f))), k = 1 / (1 - tau), highest first:
 * every VM its min; every VM enough not to be short (used plus the low
 * watermark); short VMs their want; the others their want.  An idle VM
 * (small active fraction f) pays the tax k on its idle pages and so is
 * the first to lose memory.
 *
 * A VM without usable statistics for nostats_ms, or that does not
 * follow its target for follow_ms, is left alone (its size held as it
 * is) and reported once; it rejoins when it behaves again.
 */
#include "policy.h"

#define SLACK	(4 * MIB)

struct want {
	int64_t		lo;		/* granted so far */
	int64_t		floor;		/* not short below */
	int64_t		want;		/* the goal */
	int64_t		active;		/* used: the active bytes A */
	bool		on;		/* takes part */
};

/*
 * rho at an allocation of P bytes with A of them active: the active
 * fraction is f = A / P, so P * (f + k(1 - f)) = A + k(P - A).
 */
static double
rho(int64_t shares, int64_t active, int64_t p, double k)
{
	double pages;

	if (active > p)
		active = p;
	pages = (double)active + k * (double)(p - active);
	return pages <= 0 ? 1e300 : (double)shares / pages;
}

/*
 * Give up to *LEFT bytes to the participating VMs in W (short ones only
 * if SHORT_ONLY), each up to its LIMIT (floor or want), highest rho first.
 */
static void
fill(const struct pol_vm *vms, struct want *w, size_t n, int64_t *left,
    bool floor, bool short_only, double k)
{
	int64_t chunk = *left / 1024 > MIB ? *left / 1024 : MIB;

	while (*left > 0) {
		size_t best = n;
		double best_rho = -1;
		for (size_t i = 0; i < n; i++) {
			int64_t limit = floor ? w[i].floor : w[i].want;
			if (!w[i].on || w[i].lo >= limit ||
			    (short_only && !vms[i].short_mem))
				continue;
			double r = rho(vms[i].shares, w[i].active, w[i].lo, k);
			if (r > best_rho) {
				best_rho = r;
				best = i;
			}
		}
		if (best == n)
			return;
		int64_t limit = floor ? w[best].floor : w[best].want;
		int64_t give = limit - w[best].lo;
		if (give > chunk)
			give = chunk;
		if (give > *left)
			give = *left;
		w[best].lo += give;
		*left -= give;
	}
}

/*
 * The budget no VM wants goes, by shares, to the guests that deflated
 * their balloons themselves: they ran out faster than their reports can
 * show, and a second OOM waits a second for QEMU's next event.  Memory
 * they do not touch costs the host nothing, and what they do not use
 * comes back by the damped shrinking once their reports show it.
 */
static void
give_spare(const struct pol_vm *vms, struct want *w, size_t n, int64_t spare,
    struct pol_decision *out)
{
	int64_t given[n > 0 ? n : 1];

	for (size_t i = 0; i < n; i++)
		given[i] = 0;
	/* By shares; what a guest at its max cannot take goes round again. */
	for (size_t pass = 0; pass < n && spare >= MIB; pass++) {
		int64_t shares = 0, left = spare;
		for (size_t i = 0; i < n; i++)
			if (w[i].on && vms[i].self_deflated &&
			    w[i].want < vms[i].max)
				shares += vms[i].shares;
		if (shares == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (!w[i].on || !vms[i].self_deflated ||
			    w[i].want >= vms[i].max)
				continue;
			int64_t give = (int64_t)((double)spare *
			    (double)vms[i].shares / (double)shares) / MIB * MIB;
			if (give > vms[i].max - w[i].want)
				give = vms[i].max - w[i].want;
			w[i].want += give;
			given[i] += give;
			left -= give;
		}
		if (left == spare)
			break;
		spare = left;
	}
	for (size_t i = 0; i < n; i++)
		if (given[i] > 0)
			pol_reason(&out[i], "short of memory (%s): grow fast, "
			    "with %lld MiB of the budget nobody wants",
			    vms[i].short_why ? vms[i].short_why : "?",
			    (long long)(given[i] / MIB));
}

/* Whether V is left alone this step; T's state says why. */
static bool
left_alone(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *v, struct pol_track *t, struct pol_decision *d)
{
	enum pol_state was = t->state;

	if (v->excluded)
		return true;
	if (!v->stats_ok) {
		if (h->now_ms - t->nostats_ms < p->nostats_ms) {
			pol_reason(d, "waiting for usable statistics");
			return true;
		}
		t->state = POL_NOSTATS;
	} else if (t->state == POL_NOSTATS) {
		t->state = POL_ACTIVE;
	}
	if (t->state == POL_STUCK && v->actual > 0 &&
	    (v->actual > t->last_stuck_actual + SLACK ||
	    v->actual + SLACK < t->last_stuck_actual))
		t->state = POL_ACTIVE;	/* it moves again */
	if (t->state == POL_ACTIVE && t->target > 0 && v->actual > 0 &&
	    (v->actual + 2 * SLACK < t->target ||
	    v->actual > t->target + 2 * SLACK) && !v->short_mem &&
	    h->now_ms - t->progress_ms >= p->follow_ms) {
		/* Away from its target and not coming closer.  (A guest
		   that deflates on its own is short, and grown.) */
		t->state = POL_STUCK;
		t->last_stuck_actual = v->actual;
	}
	if (t->state != was) {
		d->report = true;
		t->reported = true;
	}
	switch (t->state) {
	case POL_NOSTATS:
		pol_reason(d, "no usable statistics for %lld s: left alone",
		    (long long)(h->now_ms - t->nostats_ms) / 1000);
		return true;
	case POL_STUCK:
		pol_reason(d, "does not follow its target (actual %lld MiB, "
		    "target %lld MiB, no progress for %lld s): left alone",
		    (long long)(v->actual / MIB), (long long)(t->target / MIB),
		    (long long)(h->now_ms - t->progress_ms) / 1000);
		return true;
	default:
		if (d->report)
			pol_reason(d, "follows its target again");
		return false;
	}
}

/* V's want before the budget, with the reason. */
static int64_t
want_of(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *v, const struct pol_track *t, struct pol_decision *d)
{
	int64_t cur = pol_current(v, t);
	int64_t base = t->target > 0 ? t->target : cur;
	int64_t margin = (int64_t)(p->margin_frac * (double)v->used);
	int64_t want, band;

	if (margin < p->margin_min)
		margin = p->margin_min;
	want = v->used + margin;
	if (v->short_mem) {
		int64_t step = (int64_t)(p->grow_frac * (double)cur);
		if (step < p->grow_min)
			step = p->grow_min;
		/* Grow from the last target once the balloon got there and
		   the guest reported since; until then it is still receiving
		   the last growth.  A guest past its target has shown it. */
		if (!v->self_deflated && ((t->target > 0 &&
		    cur + SLACK < t->target) || (t->grown_stats > 0 &&
		    v->stats_time <= t->grown_stats && v->stats_ok))) {
			pol_reason(d, "short of memory (%s): waiting for the "
			    "last growth to show", v->short_why ?
			    v->short_why : "?");
			return want > base ? pol_clamp(want, v->min, v->max) :
			    base;
		}
		else if (t->target > cur)
			cur = t->target;
		if (want < cur + step)
			want = cur + step;
		want = pol_clamp(want, v->min, v->max);
		pol_reason(d, "short of memory (%s): grow fast",
		    v->short_why ? v->short_why : "?");
		return want;
	}
	want = pol_clamp(want, v->min, v->max);
	band = (int64_t)(p->deadband_frac * (double)base);
	if (band < p->deadband_min)
		band = p->deadband_min;
	if (want < base) {
		if (h->now_ms - t->grown_ms < p->hold_ms && t->grown_ms > 0) {
			pol_reason(d, "holding %lld s after growing",
			    (long long)p->hold_ms / 1000);
			return base;
		}
		int64_t step = (base - want) / 2;
		if (step < p->deadband_min * 4)
			step = p->deadband_min * 4;
		if (want < base - step)
			want = base - step;
	}
	if (want > base - band && want < base + band) {
		pol_reason(d, "within the dead band");
		return base;
	}
	pol_reason(d, "%s: used %lld MiB + margin %lld MiB",
	    want > base ? "grow" : "idle memory back",
	    (long long)(v->used / MIB), (long long)(margin / MIB));
	return want;
}

static void
ours_run(const struct pol_params *p, const struct pol_host *h,
    const struct pol_vm *vms, size_t n, struct pol_track *t,
    struct pol_decision *out)
{
	struct want w[n > 0 ? n : 1];
	int64_t pool = policy_allowed(h, vms, n), sum = 0;
	double k = 1.0 / (1.0 - (p->tau >= 0 && p->tau < 1 ? p->tau : 0.75));

	for (size_t i = 0; i < n; i++) {
		w[i].on = !left_alone(p, h, &vms[i], &t[i], &out[i]);
		if (!w[i].on) {
			pool -= pol_current(&vms[i], &t[i]);
			continue;
		}
		w[i].want = want_of(p, h, &vms[i], &t[i], &out[i]);
		w[i].active = vms[i].used;
		w[i].floor = pol_clamp(vms[i].used + p->low_min, vms[i].min,
		    w[i].want);
		w[i].lo = vms[i].min;
		sum += w[i].want;
	}
	if (sum < pool)
		give_spare(vms, w, n, pool - sum, out);
	if (sum > pool) {
		int64_t left = pool;
		for (size_t i = 0; i < n; i++)
			if (w[i].on)
				left -= w[i].lo;
		fill(vms, w, n, &left, true, false, k);
		fill(vms, w, n, &left, false, true, k);
		fill(vms, w, n, &left, false, false, k);
		for (size_t i = 0; i < n; i++) {
			if (!w[i].on || w[i].lo >= w[i].want)
				continue;
			pol_reason(&out[i], "%sbudget: %lld of the %lld MiB it "
			    "wants (rho %.3g per MiB)", vms[i].short_mem ?
			    "short of memory; " : "",
			    (long long)(w[i].lo / MIB),
			    (long long)(w[i].want / MIB),
			    rho(vms[i].shares, w[i].active, w[i].lo, k) *
			    (double)MIB);
			w[i].want = w[i].lo;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (w[i].on)
			out[i].target = w[i].want;
}

const struct policy policy_ours = {
	.name		= "ours",
	.period_ms	= 0,
	.on_events	= true,
	.run		= ours_run,
};
