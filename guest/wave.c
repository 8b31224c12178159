/*
 * wave: a memory demand that follows a schedule, for make bench-policy.
 *
 * The demand is PEAK during the first half of every PERIOD and BASE during
 * the second half, the schedule shifted by PHASE, so that guests started
 * with different phases want their memory at different times.  The main
 * loop calls wave_poll(); it takes pages from the allocator (which, with
 * DEFLATE_ON_OOM, may take them back from the balloon) until the guest
 * holds its demand, and gives them back when the demand falls.  What the
 * guest could not get is counted: failed allocations, the time spent
 * below the demand, and per step up the time until it was met and the
 * time until it was available (held plus free covers it: the host has
 * given the memory, what is left is writing to it).  A step that needs
 * more than the guest has free also says when its own free memory ran
 * out: before that, no balloon and no host could have helped, so the
 * rest of the time is the host's reaction.
 */
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/str.h>

#include "clock.h"
#include "console.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"
#include "wave.h"

#define WAVE_CHUNK	4096	/* pages taken per poll: 16 MiB */
#define WAVE_RETRY_MS	100	/* after a failed allocation */
#define WAVE_STEPS_MAX	64	/* reaction times kept for the median */

static struct {
	int		active;
	uint64_t	period_ms;
	uint64_t	phase_ms;
	uint64_t	start_ms;
	uint64_t	peak;		/* pages */
	uint64_t	base;		/* pages */
	uint64_t	head;		/* newest held page, chained as mem's */
	uint64_t	held;		/* pages */
	uint64_t	demand;		/* pages wanted now */
	uint64_t	failures;	/* allocations that failed */
	uint64_t	wait_ms;	/* time spent holding less than demand */
	uint64_t	last_ms;	/* previous poll */
	uint64_t	retry_ms;	/* no allocation before this */
	uint64_t	step_ms;	/* when the open step up began */
	int		step_open;
	uint64_t	avail_ms;	/* into the step when available, or 0 */
	int		step_avail;
	uint64_t	dry_ms;		/* into the step when free ran out */
	int		step_dry;
	uint64_t	steps;		/* steps up met */
	uint32_t	reaction[WAVE_STEPS_MAX];	/* ms, a ring */
} wave;

static uint64_t
demand_at(uint64_t now)
{
	uint64_t t = (now - wave.start_ms + wave.phase_ms) % wave.period_ms;

	return t < wave.period_ms / 2 ? wave.peak : wave.base;
}

static int
hold_one(void)
{
	uint64_t pa = pmem_alloc();

	if (pa == 0)
		return -1;
	*(uint64_t *)(uintptr_t)pa = wave.head;
	wave.head = pa;
	wave.held++;
	return 0;
}

static void
release_one(void)
{
	uint64_t pa = wave.head;

	wave.head = *(uint64_t *)(uintptr_t)pa;
	pmem_free(pa);
	wave.held--;
}

static uint32_t
median_reaction(void)
{
	uint32_t v[WAVE_STEPS_MAX], t;
	uint64_t n = wave.steps < WAVE_STEPS_MAX ? wave.steps : WAVE_STEPS_MAX;
	uint64_t i, j;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		t = wave.reaction[i];
		for (j = i; j > 0 && v[j - 1] > t; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	return v[n / 2];
}

static void
step_met(uint64_t now)
{
	uint32_t ms = (uint32_t)(now - wave.step_ms);

	wave.reaction[wave.steps % WAVE_STEPS_MAX] = ms;
	wave.steps++;
	wave.step_open = 0;
	kprintf("wave: step to %llu MiB met in %u ms, available in %llu ms",
	    (unsigned long long)(wave.demand >> 8), ms,
	    (unsigned long long)wave.avail_ms);
	if (wave.step_dry)
		kprintf(", own free memory used up in %llu ms",
		    (unsigned long long)wave.dry_ms);
	kprintf("\n");
}

/* The first allocation of the step that finds no free page left. */
static void
check_dry(void)
{
	if (wave.step_open && !wave.step_dry && !wave.step_avail &&
	    pmem.free_pages + pmem.hot_free_pages == 0) {
		wave.dry_ms = clock_now_ms() - wave.step_ms;
		wave.step_dry = 1;
	}
}

static void
check_available(uint64_t now)
{
	if (wave.step_open && !wave.step_avail &&
	    wave.held + pmem.free_pages >= wave.demand) {
		wave.avail_ms = now - wave.step_ms;
		wave.step_avail = 1;
	}
}

void
wave_poll(uint64_t now)
{
	uint64_t d, n;

	if (!wave.active)
		return;
	d = demand_at(now);
	if (d > wave.demand) {
		wave.step_ms = wave.last_ms = now; /* no wait before the step */
		wave.step_open = 1;
		wave.step_avail = 0;
		wave.step_dry = 0;
	}
	wave.demand = d;
	if (wave.held < wave.demand)
		wave.wait_ms += now - wave.last_ms;
	wave.last_ms = now;
	while (wave.held > wave.demand)
		release_one();
	check_available(now);
	for (n = 0; wave.held < wave.demand && n < WAVE_CHUNK &&
	    now >= wave.retry_ms; n++) {
		check_dry();
		if (hold_one() != 0) {
			wave.failures++;
			wave.retry_ms = now + WAVE_RETRY_MS;
		}
	}
	now = clock_now_ms();	/* a chunk of unbacked pages takes ~70 ms */
	check_available(now);
	if (wave.step_open && wave.held >= wave.demand)
		step_met(now);
}

/* Does the loop have wave work to do now (do not sleep)? */
int
wave_pending(void)
{
	return wave.active && wave.held != wave.demand &&
	    clock_now_ms() >= wave.retry_ms;
}

static void
wave_stop(void)
{
	while (wave.held > 0)
		release_one();
	wave.active = 0;
	wave.demand = 0;
}

static void
wave_status(void)
{
	kprintf("wave: %s, demand %llu MiB, held %llu MiB, steps %llu, "
	    "failures %llu, waited %llu ms, reaction median %u ms\n",
	    wave.active ? "running" : "stopped",
	    (unsigned long long)(wave.demand >> 8),
	    (unsigned long long)(wave.held >> 8),
	    (unsigned long long)wave.steps,
	    (unsigned long long)wave.failures,
	    (unsigned long long)wave.wait_ms, median_reaction());
}

/* Whole seconds, at most a million (11 days). */
static int
parse_seconds(const char *s, uint64_t *ms)
{
	const char *end;
	uint64_t v;

	if (bn_parse_u64(s, &v, &end) != BN_OK || *end != '\0' ||
	    v > 1000000)
		return -1;
	*ms = v * 1000;
	return 0;
}

static int
wave_start(char **argv, int argc)
{
	uint64_t period, phase = 0, peak, base;

	if (parse_seconds(argv[1], &period) != 0 || period < 2000 ||
	    parse_size(argv[2], &peak) != 0 ||
	    parse_size(argv[3], &base) != 0 || base > peak ||
	    (argc == 5 && parse_seconds(argv[4], &phase) != 0)) {
		kprintf("wave: bad arguments; usage: wave PERIOD PEAK BASE "
		    "[PHASE] (seconds, sizes, BASE <= PEAK)\n");
		return 1;
	}
	wave_stop();
	wave.period_ms = period;
	wave.phase_ms = phase % period;
	wave.peak = peak / PAGE_SIZE;
	wave.base = base / PAGE_SIZE;
	wave.start_ms = wave.last_ms = clock_now_ms();
	wave.failures = wave.wait_ms = wave.steps = wave.retry_ms = 0;
	wave.step_open = 0;
	wave.active = 1;
	kprintf("wave: every %llu s %llu MiB then %llu MiB, phase %llu s\n",
	    (unsigned long long)(period / 1000),
	    (unsigned long long)(wave.peak >> 8),
	    (unsigned long long)(wave.base >> 8),
	    (unsigned long long)(wave.phase_ms / 1000));
	return 0;
}

int
cmd_wave(int argc, char **argv)
{
	if (argc == 1) {
		wave_status();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		wave_stop();
		wave_status();
		return 0;
	}
	if (argc == 4 || argc == 5)
		return wave_start(argv, argc);
	kprintf("usage: wave [PERIOD PEAK BASE [PHASE] | stop]\n");
	return 1;
}
