/*
 * Unit tests of ballonetd's policies (daemon/policy*.c) and of the
 * checks collect_vm() makes on what guests report.  Policies are pure:
 * each test builds a host and VMs, runs steps and looks at the targets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect.h"
#include "policy.h"

#define N_MAX	8
#define GIB	(1024 * MIB)

struct world {
	struct pol_host		h;
	struct pol_vm		vm[N_MAX];
	struct pol_track	t[N_MAX];
	struct pol_decision	d[N_MAX];
	size_t			n;
	const struct policy	*pol;
	struct pol_params	p;
};

static char names[N_MAX][8];

static void
world_init(struct world *w, const char *policy, int64_t budget)
{
	memset(w, 0, sizeof(*w));
	w->pol = policy_find(policy);
	assert_non_null(w->pol);
	w->p = pol_defaults;
	w->h.now_ms = 1000000;
	w->h.mem_total = 24 * GIB;
	w->h.mem_free = w->h.mem_available = 20 * GIB;
	w->h.buffers = w->h.cached = 0;
	w->h.psi_some10 = w->h.psi_full10 = 0;
	w->h.budget = budget;
	w->h.reserve = 512 * MIB;
}

/* A VM of MEM bytes at ACTUAL whose guest uses USED of it. */
static struct pol_vm *
add_vm(struct world *w, int64_t mem, int64_t actual, int64_t used)
{
	struct pol_vm *v = &w->vm[w->n];

	snprintf(names[w->n], sizeof(names[0]), "vm%zu", w->n);
	v->name = names[w->n];
	v->min = 128 * MIB;
	v->max = mem;
	v->shares = 1000;
	v->memory = mem;
	v->actual = actual;
	v->rss = -1;
	v->stats_ok = true;
	v->total = mem;
	v->free = actual - used;
	v->avail = v->free;
	v->used = used;
	w->n++;
	return v;
}

static void
step(struct world *w)
{
	struct pol_track next[N_MAX];

	policy_step(w->pol, &w->p, &w->h, w->vm, w->n, w->t, next, w->d);
	memcpy(w->t, next, sizeof(next));
}

/* A step, then every VM moves to its new target, time passes. */
static void
step_follow(struct world *w, int64_t ms)
{
	step(w);
	for (size_t i = 0; i < w->n; i++) {
		if (w->d[i].target < 0)
			continue;
		int64_t used = w->vm[i].used;
		w->vm[i].actual = w->d[i].target;
		w->vm[i].free = w->vm[i].actual - used > 0 ?
		    w->vm[i].actual - used : 0;
		w->vm[i].avail = w->vm[i].free;
	}
	w->h.now_ms += ms;
}

static int64_t
sum_targets(const struct world *w)
{
	int64_t s = 0;

	for (size_t i = 0; i < w->n; i++)
		s += w->d[i].target >= 0 ? w->d[i].target :
		    pol_current(&w->vm[i], &w->t[i]);
	return s;
}

static void
assert_limits(const struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->d[i].target < 0)
			continue;
		assert_true(w->d[i].target >= w->vm[i].min);
		assert_true(w->d[i].target <= w->vm[i].max);
	}
}

/* Ours: idle memory goes back, to used plus the margin. */
static void
ours_reclaims_idle(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB);
	for (int i = 0; i < 20; i++)
		step_follow(&w, 2000);
	/* used 100 MiB + margin 32 MiB, within a dead band */
	assert_true(w.vm[0].actual <= 150 * MIB);
	assert_true(w.vm[0].actual >= 128 * MIB);
	assert_limits(&w);
}

/* Ours: shrinking is bounded: half the distance, at least 32 MiB. */
static void
ours_shrinks_in_steps(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB);
	step(&w);
	assert_true(w.d[0].changed);
	assert_true(w.d[0].target >= 1 * GIB - 500 * MIB);
	assert_true(w.d[0].target < 1 * GIB);
}

/* Ours: a short guest grows at once, by at least a quarter. */
static void
ours_grows_short_fast(void **state)
{
	struct world w;
	struct pol_vm *v;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	v = add_vm(&w, 1 * GIB, 256 * MIB, 250 * MIB);
	v->short_mem = true;
	v->short_why = "test";
	step(&w);
	assert_true(w.d[0].changed);
	assert_true(w.d[0].target >= 256 * MIB + 64 * MIB);
	assert_non_null(strstr(w.d[0].reason, "short"));
}

/* Ours: a short guest grows once per report: stale stats do not pile up. */
static void
ours_grows_once_per_report(void **state)
{
	struct world w;
	struct pol_vm *v;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	v = add_vm(&w, 1 * GIB, 256 * MIB, 250 * MIB);
	v->short_mem = true;
	v->short_why = "test";
	v->stats_time = 100;
	step_follow(&w, 250);
	int64_t grown = v->actual;
	assert_true(grown >= 320 * MIB);
	for (int i = 0; i < 8; i++) {		/* the same report, again */
		step_follow(&w, 250);
		assert_int_equal(v->actual, grown);
		assert_non_null(strstr(w.d[0].reason, "waiting"));
	}
	v->stats_time = 101;			/* a new one, still short */
	step_follow(&w, 250);
	assert_true(v->actual > grown);
}

/* Ours: the short guest takes memory from the idle one, not the busy. */
static void
ours_short_takes_from_idle(void **state)
{
	struct world w;
	struct pol_vm *s;

	(void)state;
	world_init(&w, "ours", 1280 * MIB);
	s = add_vm(&w, 1 * GIB, 256 * MIB, 250 * MIB);	/* short */
	add_vm(&w, 1 * GIB, 512 * MIB, 60 * MIB);	/* idle */
	add_vm(&w, 1 * GIB, 512 * MIB, 440 * MIB);	/* busy */
	s->short_mem = true;
	s->short_why = "test";
	step(&w);
	assert_true(sum_targets(&w) <= 1280 * MIB);
	assert_true(w.d[0].target > 256 * MIB);
	/* the idle VM gave, the busy one kept what it uses */
	assert_true(w.d[1].target < 512 * MIB);
	int64_t busy = w.d[2].target >= 0 ? w.d[2].target : 512 * MIB;
	assert_true(busy >= 440 * MIB);
	assert_limits(&w);
}

/*
 * Ours: guests that deflated their balloons themselves (out of memory)
 * share the budget nobody wants, by shares, within their max; a guest
 * short for another reason gets only its step.
 */
static void
ours_self_deflated_gets_spare(void **state)
{
	struct world w;
	struct pol_vm *a, *b, *c;

	(void)state;
	world_init(&w, "ours", 2 * GIB);
	a = add_vm(&w, 2 * GIB, 200 * MIB, 190 * MIB);
	b = add_vm(&w, 2 * GIB, 200 * MIB, 190 * MIB);
	c = add_vm(&w, 2 * GIB, 200 * MIB, 190 * MIB);
	for (size_t i = 0; i < w.n; i++)
		w.t[i].target = 199 * MIB;	/* all three went past it */
	a->short_mem = b->short_mem = c->short_mem = true;
	a->self_deflated = b->self_deflated = true;
	a->short_why = b->short_why = "deflated";
	c->short_why = "free memory below the low watermark";
	b->shares = 3000;
	step(&w);
	assert_true(sum_targets(&w) <= 2 * GIB);
	assert_limits(&w);
	int64_t step_only = w.d[2].target;
	assert_true(step_only >= 200 * MIB + 64 * MIB);
	assert_true(step_only < 400 * MIB);
	/* a and b took the rest, b three times as much of it */
	int64_t extra_a = w.d[0].target - step_only;
	int64_t extra_b = w.d[1].target - step_only;
	assert_true(extra_a > 100 * MIB);
	assert_true(extra_b >= 3 * extra_a - 2 * MIB);
	assert_true(extra_b <= 3 * extra_a + 2 * MIB);
	assert_true(sum_targets(&w) > 2 * GIB - 8 * MIB);
	assert_non_null(strstr(w.d[0].reason, "nobody wants"));
	/* never past max, however much is spare; what one cannot take
	   goes to the other */
	world_init(&w, "ours", 2 * GIB);
	a = add_vm(&w, 1 * GIB, 200 * MIB, 190 * MIB);
	b = add_vm(&w, 2 * GIB, 200 * MIB, 190 * MIB);
	w.t[0].target = w.t[1].target = 199 * MIB;
	a->short_mem = a->self_deflated = true;
	b->short_mem = b->self_deflated = true;
	a->shares = 9000;
	step(&w);
	assert_int_equal(w.d[0].target, 1 * GIB);
	assert_true(w.d[1].target >= 1 * GIB - 2 * MIB);
	assert_true(sum_targets(&w) <= 2 * GIB);
}

/* Ours: after the spare growth, idle memory comes back, held, then damped. */
static void
ours_spare_comes_back(void **state)
{
	struct world w;
	struct pol_vm *a;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	a = add_vm(&w, 1 * GIB, 200 * MIB, 190 * MIB);
	w.t[0].target = 199 * MIB;
	a->short_mem = a->self_deflated = true;
	step_follow(&w, 1000);
	assert_int_equal(a->actual, 1 * GIB);
	a->short_mem = a->self_deflated = false;
	a->used = 300 * MIB;
	for (int i = 0; i < 9; i++) {		/* held for hold_ms */
		step_follow(&w, 1000);
		assert_int_equal(a->actual, 1 * GIB);
	}
	int64_t prev = a->actual;
	for (int i = 0; i < 20; i++) {
		step_follow(&w, 1000);
		/* down by at most half the distance each step */
		assert_true(a->actual <= prev);
		assert_true(prev - a->actual <= (prev - 300 * MIB) / 2 +
		    32 * MIB);
		prev = a->actual;
	}
	assert_true(a->actual < 400 * MIB);
	assert_true(a->actual >= 300 * MIB);
}

/* Ours: between two idle VMs of equal shares, the idler pays more tax. */
static void
ours_idle_tax(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "ours", 700 * MIB);
	w.p.hold_ms = 0;
	add_vm(&w, 1 * GIB, 512 * MIB, 300 * MIB);
	add_vm(&w, 1 * GIB, 512 * MIB, 100 * MIB);
	w.vm[0].short_mem = true;	/* wants more than fits */
	w.vm[0].short_why = "test";
	step(&w);
	assert_true(sum_targets(&w) <= 700 * MIB);
	/* the idler (1) was reclaimed toward its floor, 0 kept more */
	assert_true(w.d[1].target <= 300 * MIB);
	assert_true(w.d[0].target >= 380 * MIB);
}

/* Ours: no shrinking right after a growth (hysteresis). */
static void
ours_holds_after_growth(void **state)
{
	struct world w;
	struct pol_vm *v;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	v = add_vm(&w, 1 * GIB, 256 * MIB, 250 * MIB);
	v->short_mem = true;
	v->short_why = "test";
	step_follow(&w, 2000);
	int64_t grown = v->actual;
	/* demand drops at once: it must not shrink within hold_ms */
	v->short_mem = false;
	v->used = 50 * MIB;
	v->free = v->avail = v->actual - v->used;
	step_follow(&w, 2000);
	assert_int_equal(v->actual, grown);
	assert_non_null(strstr(w.d[0].reason, "holding"));
	w.h.now_ms += 10000;
	step_follow(&w, 2000);
	assert_true(v->actual < grown);
}

/* Ours: steady demand gives no changes (no oscillation). */
static void
ours_steady_no_churn(void **state)
{
	struct world w;
	int changes = 0;

	(void)state;
	world_init(&w, "ours", 2 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 300 * MIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 200 * MIB);
	for (int i = 0; i < 30; i++)
		step_follow(&w, 2000);
	for (int i = 0; i < 50; i++) {
		step_follow(&w, 2000);
		for (size_t j = 0; j < w.n; j++)
			changes += w.d[j].changed;
	}
	assert_int_equal(changes, 0);
}

/* Ours: a VM that does not follow its target is reported once, then left. */
static void
ours_stuck_left_alone(void **state)
{
	struct world w;
	struct pol_vm *v;
	int reports = 0;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	v = add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB);
	for (int i = 0; i < 40; i++) {
		step(&w);			/* the balloon never moves */
		reports += w.d[0].report;
		w.h.now_ms += 2000;
	}
	assert_int_equal(reports, 1);
	assert_int_equal(w.t[0].state, POL_STUCK);
	assert_int_equal(w.d[0].target, -1);
	assert_non_null(strstr(w.d[0].reason, "does not follow"));
	/* it moves again: it rejoins */
	v->actual = 700 * MIB;
	v->free = v->avail = v->actual - v->used;
	step(&w);
	assert_int_equal(w.t[0].state, POL_ACTIVE);
}

/* Ours: no statistics: waits, then left alone, reported once. */
static void
ours_no_stats(void **state)
{
	struct world w;
	int reports = 0, changes = 0;

	(void)state;
	world_init(&w, "ours", 3 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB)->stats_ok = false;
	for (int i = 0; i < 30; i++) {
		step(&w);
		reports += w.d[0].report;
		changes += w.d[0].changed;
		w.h.now_ms += 2000;
	}
	assert_int_equal(changes, 0);
	assert_int_equal(reports, 1);
	assert_int_equal(w.t[0].state, POL_NOSTATS);
}

/* Every policy: min and max hold, the budget holds. */
static void
limits_every_policy(void **state)
{
	static const char *const pols[] = {
		"ours", "mom", "proxmox", "squeezed", "static",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
		struct world w;
		world_init(&w, pols[p], 1 * GIB);
		add_vm(&w, 512 * MIB, 512 * MIB, 500 * MIB)->short_mem = true;
		add_vm(&w, 512 * MIB, 512 * MIB, 20 * MIB);
		add_vm(&w, 512 * MIB, 512 * MIB, 300 * MIB);
		w.vm[0].short_why = "test";
		w.vm[1].min = 200 * MIB;
		w.vm[2].max = 400 * MIB;
		for (int i = 0; i < 30; i++) {
			step_follow(&w, 10000);
			assert_limits(&w);
			/* from the 2nd step on, the targets fit the budget */
			if (i > 0)
				assert_true(sum_targets(&w) <= 1 * GIB);
		}
	}
}

/* Every policy: the host's reserve is never crossed by a growth. */
static void
reserve_every_policy(void **state)
{
	static const char *const pols[] = {
		"ours", "mom", "proxmox", "squeezed", "static",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
		struct world w;
		world_init(&w, pols[p], -1);		/* no budget */
		w.h.mem_available = 600 * MIB;		/* reserve 512 */
		add_vm(&w, 2 * GIB, 512 * MIB, 500 * MIB)->short_mem = true;
		w.vm[0].short_why = "test";
		add_vm(&w, 2 * GIB, 512 * MIB, 100 * MIB);
		step(&w);
		int64_t grown = 0;
		for (size_t i = 0; i < w.n; i++)
			if (w.d[i].target > w.vm[i].actual)
				grown += w.d[i].target - w.vm[i].actual;
		int64_t shrunk = 0;
		for (size_t i = 0; i < w.n; i++)
			if (w.d[i].target >= 0 && w.d[i].target < w.vm[i].actual)
				shrunk += w.vm[i].actual - w.d[i].target;
		assert_true(grown - shrunk <= 88 * MIB);
	}
}

/* Below the reserve already: nothing grows, some memory comes back. */
static void
reserve_crossed_shrinks(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "ours", -1);
	w.h.mem_available = 256 * MIB;	/* 256 MiB under the reserve */
	add_vm(&w, 1 * GIB, 1 * GIB, 200 * MIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 200 * MIB);
	step(&w);
	assert_true(sum_targets(&w) <= 2 * GIB - 256 * MIB);
}

/* Anchors: MOM grows by 5% without pressure, shrinks under it. */
static void
mom_rules(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "mom", 4 * GIB);
	add_vm(&w, 1 * GIB, 512 * MIB, 100 * MIB);
	step(&w);
	/* host free (4G - 512M)/4G > 20%: max(1.05 cur, used + 0.2 cur) */
	assert_int_equal(w.d[0].target, (int64_t)(1.05 * 512 * MIB) & ~(MIB - 1));
	world_init(&w, "mom", 1 * GIB);
	add_vm(&w, 1 * GIB, 900 * MIB, 100 * MIB);
	step(&w);
	/* host free 124/1024 = 12%: used + 0.12 cur, not below 0.95 cur */
	assert_int_equal(w.d[0].target, (int64_t)(0.95 * 900 * MIB) & ~(MIB - 1));
	/* a change below 0.25% is skipped */
	world_init(&w, "mom", 4 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB - MIB, 100 * MIB);
	step(&w);
	assert_int_equal(w.d[0].target, -1);
}

/* Anchors: Proxmox moves at most 100 MiB a round, by shares. */
static void
proxmox_rules(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "proxmox", 2 * GIB);
	add_vm(&w, 2 * GIB, 1 * GIB, 100 * MIB);
	add_vm(&w, 2 * GIB, 1 * GIB, 100 * MIB);
	/* goal = 0.8 * 2G - 2G = -410 MiB: both shrink by 100 MiB */
	step(&w);
	assert_int_equal(w.d[0].target, 1 * GIB - 100 * MIB);
	assert_int_equal(w.d[1].target, 1 * GIB - 100 * MIB);
	/* within 10 MiB of the goal: nothing */
	world_init(&w, "proxmox", 1280 * MIB);
	add_vm(&w, 2 * GIB, 1024 * MIB, 100 * MIB);
	step(&w);
	assert_int_equal(w.d[0].target, -1);
}

/* Anchors: squeezed gives each VM the same fraction of its range. */
static void
squeezed_rules(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, "squeezed", 1 * GIB);
	add_vm(&w, 1 * GIB, 512 * MIB, 100 * MIB);
	add_vm(&w, 512 * MIB, 256 * MIB, 100 * MIB);
	step(&w);
	/* surplus = 1G - 256M (mins) - 16M - 9M; range 896M + 384M */
	double g = (1024.0 - 256 - 16 - 9) / (896 + 384);
	int64_t t0 = (128 * MIB + (int64_t)(g * 896 * MIB)) & ~(MIB - 1);
	assert_true(w.d[0].target >= t0 - MIB && w.d[0].target <= t0 + MIB);
	/* a VM that makes no progress goes inactive, then uncooperative */
	world_init(&w, "squeezed", 1 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB);
	add_vm(&w, 1 * GIB, 128 * MIB, 100 * MIB);
	int reports = 0;
	for (int i = 0; i < 30; i++) {
		step(&w);
		reports += w.d[0].report;
		w.h.now_ms += 1000;
	}
	assert_int_equal(w.t[0].state, POL_UNCOOP);
	assert_int_equal(reports, 1);
}

/* Anchors: static sets each VM once and never again. */
static void
static_rules(void **state)
{
	struct world w;
	int changes = 0;

	(void)state;
	world_init(&w, "static", 1 * GIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB);
	add_vm(&w, 1 * GIB, 1 * GIB, 900 * MIB)->short_mem = true;
	step_follow(&w, 2000);
	assert_int_equal(w.d[0].target, 512 * MIB);
	assert_int_equal(w.d[1].target, 512 * MIB);
	for (int i = 0; i < 10; i++) {
		step_follow(&w, 2000);
		changes += w.d[0].changed + w.d[1].changed;
	}
	assert_int_equal(changes, 0);
}

/* A VM without a balloon is never given a target. */
static void
excluded_untouched(void **state)
{
	static const char *const pols[] = {
		"ours", "mom", "proxmox", "squeezed", "static",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
		struct world w;
		world_init(&w, pols[p], 1 * GIB);
		add_vm(&w, 1 * GIB, 1 * GIB, 100 * MIB)->excluded = true;
		add_vm(&w, 1 * GIB, 512 * MIB, 100 * MIB);
		step(&w);
		assert_int_equal(w.d[0].target, -1);
	}
}

static const struct collect_ctx ctx = {
	.now_s = 2000000000, .period_s = 2, .target = -1, .stats_actual = -1,
};

static struct bk_sample
good_sample(void)
{
	struct bk_sample s;

	memset(&s, 0xff, sizeof(s));
	s.memory = 512 * MIB;
	s.actual = 512 * MIB;
	s.stats_time = ctx.now_s - 1;
	s.total = 512 * MIB;
	s.free = 300 * MIB;
	s.available = 300 * MIB;
	return s;
}

static struct pol_vm
collected(const struct bk_sample *s, const struct bk_sample *prev)
{
	struct pol_vm v = { .name = "x", .min = 128 * MIB, .max = 512 * MIB,
	    .shares = 1000 };

	collect_vm(&pol_defaults, &ctx, s, prev, &v);
	return v;
}

/* collect_vm: good statistics give used and nothing short. */
static void
collect_good(void **state)
{
	struct bk_sample s = good_sample();
	struct pol_vm v = collected(&s, NULL);

	(void)state;
	assert_true(v.stats_ok);
	assert_int_equal(v.used, 212 * MIB);
	assert_false(v.short_mem);
	/* a balloon counted in total (deflate-on-oom): used is actual - free */
	s.actual = 256 * MIB;
	s.free = s.available = 50 * MIB;
	v = collected(&s, NULL);
	assert_int_equal(v.used, 206 * MIB);
	s.free = s.available = 5 * MIB;
	v = collected(&s, NULL);
	assert_true(v.short_mem);
}

/*
 * collect_vm: past the target by one OOM step (1 MiB) and up from the
 * lowest actual since the target was set is a guest that deflated
 * itself; past it and still coming down is one inflating to a lower
 * target.
 */
static void
collect_self_deflated(void **state)
{
	struct bk_sample s = good_sample();
	struct collect_ctx c = ctx;
	struct pol_vm v = { .name = "x", .min = 128 * MIB, .max = 512 * MIB,
	    .shares = 1000 };

	(void)state;
	c.target = 200 * MIB;
	c.floor_actual = 200 * MIB;
	s.actual = 201 * MIB;
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_true(v.short_mem && v.self_deflated);
	s.actual = 200 * MIB + MIB / 2;		/* less than a step */
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_false(v.self_deflated);
	c.floor_actual = 250 * MIB;		/* coming down to 200 */
	s.actual = 250 * MIB;
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_false(v.self_deflated);
	s.actual = 260 * MIB;			/* and back up on its own */
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_true(v.self_deflated);
	c.floor_actual = -1;			/* no history */
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_false(v.self_deflated);
}

/* The same test on a balloon event's actual: nonsense never says yes. */
static void
collect_deflated_itself_bounds(void **state)
{
	(void)state;
	assert_true(collect_deflated_itself(201 * MIB, 200 * MIB, 200 * MIB));
	assert_false(collect_deflated_itself(201 * MIB, 200 * MIB, -1));
	assert_false(collect_deflated_itself(201 * MIB, -1, 200 * MIB));
	assert_false(collect_deflated_itself(-1, 200 * MIB, 200 * MIB));
	assert_false(collect_deflated_itself(POL_HUGE, 200 * MIB, 200 * MIB));
	assert_false(collect_deflated_itself(INT64_MAX, INT64_MAX - MIB,
	    INT64_MAX - MIB));
}

/* used goes with the actual of the report's time, not of now. */
static void
collect_used_at_report(void **state)
{
	struct bk_sample s = good_sample();
	struct collect_ctx c = ctx;
	struct pol_vm v = { .name = "x", .min = 128 * MIB, .max = 512 * MIB,
	    .shares = 1000 };

	(void)state;
	s.actual = 300 * MIB;		/* deflated since the report */
	s.free = s.available = 20 * MIB;
	c.stats_actual = 200 * MIB;	/* when the report was new */
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_int_equal(v.used, 180 * MIB);
	c.stats_actual = INT64_MAX;	/* nonsense: the sample's actual */
	collect_vm(&pol_defaults, &c, &s, NULL, &v);
	assert_int_equal(v.used, 280 * MIB);
}

/* collect_vm: nonsense from the guest makes the statistics unusable. */
static void
collect_hostile(void **state)
{
	struct bk_sample s;
	struct pol_vm v;

	(void)state;
	s = good_sample(); s.free = 600 * MIB;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.total = 64 * GIB;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.total = 0;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.available = INT64_MAX;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.stats_time = ctx.now_s + 3600;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.stats_time = 1;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.free = -1;
	assert_false(collected(&s, NULL).stats_ok);
	s = good_sample(); s.actual = 64 * GIB;
	v = collected(&s, NULL);
	assert_int_equal(v.actual, -1);
	/* counters that go back are no shortage */
	struct bk_sample prev = good_sample();
	prev.major_faults = 1000000;
	prev.oom_kills = 50;
	s = good_sample();
	s.major_faults = 0;
	s.oom_kills = 0;
	assert_false(collected(&s, &prev).short_mem);
	/* but rising OOM kills are */
	s.oom_kills = 51;
	assert_true(collected(&s, &prev).short_mem);
}

static uint64_t rng = 88172645463325252ull;

static int64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	switch (rng % 8) {
	case 0: return -1;
	case 1: return INT64_MAX;
	case 2: return 0;
	case 3: return (int64_t)(rng >> 1);
	case 4: return INT64_MIN;
	default: return (int64_t)(rng % (2 * GIB));
	}
}

/*
 * Random nonsense from every guest, for every policy, many steps: the
 * limits hold and nothing crashes or overflows (UBSan watches).
 */
static void
hostile_random(void **state)
{
	static const char *const pols[] = {
		"ours", "mom", "proxmox", "squeezed", "static",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(pols) / sizeof(pols[0]); p++) {
		struct world w;
		struct bk_sample prev[3];
		world_init(&w, pols[p], 1 * GIB);
		for (size_t i = 0; i < 3; i++)
			add_vm(&w, 512 * MIB, 512 * MIB, 100 * MIB);
		for (int it = 0; it < 2000; it++) {
			for (size_t i = 0; i < w.n; i++) {
				struct bk_sample s;
				int64_t *f = (int64_t *)&s;
				for (size_t k = 0; k < sizeof(s) / 8; k++)
					f[k] = rnd();
				s.memory = 512 * MIB;
				if (it % 3 == 0)
					s.stats_time = ctx.now_s;
				struct collect_ctx c = ctx;
				c.target = w.t[i].target;
				c.floor_actual = it % 2 ? rnd() : -1;
				collect_vm(&w.p, &c, &s, it ? &prev[i] : NULL,
				    &w.vm[i]);
				prev[i] = s;
			}
			w.h.mem_available = rnd();
			step(&w);
			assert_limits(&w);
			w.h.now_ms += 2000;
		}
	}
}

/* Parsing the host's files. */
static void
host_files(void **state)
{
	struct pol_host h;

	(void)state;
	collect_meminfo("MemTotal:       24000000 kB\nMemFree:  100 kB\n"
	    "MemAvailable:   2000 kB\nBuffers: 1 kB\nCached: 2 kB\n", &h);
	assert_int_equal(h.mem_total, 24000000LL * 1024);
	assert_int_equal(h.mem_available, 2000 * 1024);
	assert_int_equal(h.cached, 2048);
	collect_meminfo("garbage\nMemTotal: -5 kB\n", &h);
	assert_int_equal(h.mem_total, -1);
	assert_int_equal(h.mem_available, -1);
	collect_pressure("some avg10=1.50 avg60=0.00 avg300=0.00 total=5\n"
	    "full avg10=0.25 avg60=0.00 avg300=0.00 total=1\n", &h);
	assert_true(h.psi_some10 == 1.5);
	assert_true(h.psi_full10 == 0.25);
	collect_pressure("nonsense", &h);
	assert_true(h.psi_some10 == -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ours_reclaims_idle),
		cmocka_unit_test(ours_shrinks_in_steps),
		cmocka_unit_test(ours_grows_short_fast),
		cmocka_unit_test(ours_grows_once_per_report),
		cmocka_unit_test(ours_short_takes_from_idle),
		cmocka_unit_test(ours_self_deflated_gets_spare),
		cmocka_unit_test(ours_spare_comes_back),
		cmocka_unit_test(ours_idle_tax),
		cmocka_unit_test(ours_holds_after_growth),
		cmocka_unit_test(ours_steady_no_churn),
		cmocka_unit_test(ours_stuck_left_alone),
		cmocka_unit_test(ours_no_stats),
		cmocka_unit_test(limits_every_policy),
		cmocka_unit_test(reserve_every_policy),
		cmocka_unit_test(reserve_crossed_shrinks),
		cmocka_unit_test(mom_rules),
		cmocka_unit_test(proxmox_rules),
		cmocka_unit_test(squeezed_rules),
		cmocka_unit_test(static_rules),
		cmocka_unit_test(excluded_untouched),
		cmocka_unit_test(collect_good),
		cmocka_unit_test(collect_used_at_report),
		cmocka_unit_test(collect_self_deflated),
		cmocka_unit_test(collect_deflated_itself_bounds),
		cmocka_unit_test(collect_hostile),
		cmocka_unit_test(hostile_random),
		cmocka_unit_test(host_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
