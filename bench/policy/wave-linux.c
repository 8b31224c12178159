/*
 * wave-linux: the reference guest's `wave` for a Linux guest, for
 * make bench-policy.  Holds PEAK MiB for the first half of every PERIOD
 * seconds and BASE MiB for the second half, shifted by PHASE seconds;
 * memory is taken in 1 MiB mappings and every page written, so that the
 * host has to back it.  It prints the same lines as the reference guest:
 *
 *	wave: step to N MiB met in N ms, available in N ms
 *	wave: running, demand N MiB, held N MiB, steps N, failures N,
 *	    waited N ms, reaction median N ms, oom kills N
 *
 * the second every 5 s.  Available: held plus MemAvailable covers the
 * demand, so the rest of the step is writing to memory the guest has.  Failures are mmap() calls that failed; with
 * Linux's overcommit the usual failure is an OOM kill instead, which
 * /proc/vmstat counts (this process volunteers: oom_score_adj 1000).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		(1u << 20)	/* bytes per mapping */
#define CHUNKS_MAX	(64u << 10)	/* 64 GiB */
#define POLL_US		10000
#define STATUS_MS	5000
#define STEPS_MAX	64

static void *chunk[CHUNKS_MAX];
static unsigned long held, demand, peak, base;	/* MiB */
static uint64_t period_ms, phase_ms, start_ms;
static unsigned long failures, steps;
static uint64_t waited_ms;
static unsigned reaction[STEPS_MAX];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
take(void)
{
	void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off;

	if (p == MAP_FAILED)
		return -1;
	for (off = 0; off < CHUNK; off += 4096)
		((volatile char *)p)[off] = 1;
	chunk[held++] = p;
	return 0;
}

static void
give(void)
{
	munmap(chunk[--held], CHUNK);
}

static int
cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static unsigned
median(void)
{
	unsigned v[STEPS_MAX];
	size_t n = steps < STEPS_MAX ? steps : STEPS_MAX;

	if (n == 0)
		return 0;
	memcpy(v, reaction, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), cmp);
	return v[n / 2];
}

/* The number after FIELD (a scanf format with one %lu) in PATH, or 0. */
static unsigned long
proc_field(const char *path, const char *field)
{
	char line[128];
	unsigned long n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, field, &n) == 1)
			break;
	fclose(f);
	return n;
}

static unsigned long
oom_kills(void)
{
	return proc_field("/proc/vmstat", "oom_kill %lu");
}

static void
status(void)
{
	printf("wave: running, demand %lu MiB, held %lu MiB, steps %lu, "
	    "failures %lu, waited %llu ms, reaction median %u ms, "
	    "oom kills %lu\n", demand, held, steps, failures,
	    (unsigned long long)waited_ms, median(), oom_kills());
	fflush(stdout);
}

static int
number(const char *s, unsigned long *v)
{
	char *end;

	*v = strtoul(s, &end, 10);
	return *s < '0' || *s > '9' || *end != '\0' || *v > CHUNKS_MAX;
}

/* MemAvailable in MiB, or 0. */
static unsigned long
available_mib(void)
{
	return proc_field("/proc/meminfo", "MemAvailable: %lu kB") >> 10;
}

int
main(int argc, char **argv)
{
	unsigned long p, ph = 0;
	uint64_t now, last, next_status, step_ms = 0, avail_ms = 0, t;
	int open_step = 0, avail = 0;
	FILE *f;

	if (argc < 4 || argc > 5 || number(argv[1], &p) || p < 2 ||
	    number(argv[2], &peak) || number(argv[3], &base) || base > peak ||
	    (argc == 5 && number(argv[4], &ph))) {
		fprintf(stderr, "usage: wave-linux PERIOD PEAK_MIB BASE_MIB "
		    "[PHASE] (seconds, MiB, BASE <= PEAK)\n");
		return 2;
	}
	if ((f = fopen("/proc/self/oom_score_adj", "w")) != NULL) {
		fputs("1000\n", f);
		fclose(f);
	}
	period_ms = (uint64_t)p * 1000;
	phase_ms = ((uint64_t)ph * 1000) % period_ms;
	start_ms = last = now_ms();
	next_status = start_ms + STATUS_MS;
	for (;;) {
		now = now_ms();
		t = (now - start_ms + phase_ms) % period_ms;
		if ((t < period_ms / 2 ? peak : base) > demand) {
			step_ms = last = now;	/* no wait before the step */
			open_step = 1;
			avail = 0;
		}
		demand = t < period_ms / 2 ? peak : base;
		if (held < demand)
			waited_ms += now - last;
		last = now;
		while (held > demand)
			give();
		if (held < demand) {
			/* Taking is waiting too: count it now, the next
			   round may find the demand met. */
			uint64_t before = now_ms();
			while (held < demand) {
				if (open_step && !avail &&
				    held + available_mib() >= demand) {
					avail_ms = now_ms() - step_ms;
					avail = 1;
				}
				if (take() != 0)
					break;
			}
			last = now_ms();
			waited_ms += last - before;
		}
		if (open_step && !avail && held >= demand) {
			avail_ms = now_ms() - step_ms;
			avail = 1;
		}
		if (held < demand)
			failures++;
		if (open_step && held >= demand) {
			/* The clock after the taking, not the loop's. */
			unsigned ms = (unsigned)(now_ms() - step_ms);
			reaction[steps++ % STEPS_MAX] = ms;
			open_step = 0;
			printf("wave: step to %lu MiB met in %u ms, available "
			    "in %llu ms\n", demand, ms,
			    (unsigned long long)avail_ms);
			fflush(stdout);
		}
		if (now >= next_status) {
			status();
			next_status = now + STATUS_MS;
		}
		usleep(POLL_US);
	}
}
