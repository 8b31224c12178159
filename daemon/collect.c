/*
 * ballonetd: collection (see collect.h).
 */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK		(16 * MIB)	/* rounding between QEMU and guest */
#define FAULTS_SHORT	64		/* major faults in one period */
#define SWAPIN_SHORT	MIB		/* bytes swapped in in one period */
#define FUTURE_S	60		/* report times ahead of us */

static int64_t
meminfo_field(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, key, len) == 0 && p[len] == ':') {
			char *end;
			long long kib = strtoll(p + len + 1, &end, 10);
			if (end == p + len + 1 || kib < 0 ||
			    kib > INT64_MAX / 1024)
				return -1;
			return kib * 1024;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

void
collect_meminfo(const char *text, struct pol_host *h)
{
	h->mem_total = meminfo_field(text, "MemTotal");
	h->mem_free = meminfo_field(text, "MemFree");
	h->mem_available = meminfo_field(text, "MemAvailable");
	h->buffers = meminfo_field(text, "Buffers");
	h->cached = meminfo_field(text, "Cached");
}

static double
pressure_of(const char *text, const char *line)
{
	const char *p = strstr(text, line);
	double v;

	if (p == NULL || (p = strstr(p, "avg10=")) == NULL ||
	    sscanf(p, "avg10=%lf", &v) != 1 || v < 0 || v > 100)
		return -1;
	return v;
}

void
collect_pressure(const char *text, struct pol_host *h)
{
	h->psi_some10 = pressure_of(text, "some ");
	h->psi_full10 = pressure_of(text, "full ");
}

static int
read_text(const char *proc, const char *file, char *buf, size_t len)
{
	char path[256];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", proc, file);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

int
collect_host(const char *proc, struct pol_host *h)
{
	char buf[8192];

	h->psi_some10 = h->psi_full10 = -1;
	if (read_text(proc, "pressure/memory", buf, sizeof(buf)) == 0)
		collect_pressure(buf, h);
	if (read_text(proc, "meminfo", buf, sizeof(buf)) != 0) {
		h->mem_total = h->mem_free = h->mem_available = -1;
		h->buffers = h->cached = -1;
		return -1;
	}
	collect_meminfo(buf, h);
	return 0;
}

const char *
collect_stats_problem(const struct collect_ctx *c, const struct bk_sample *s)
{
	int64_t stale = 3 * (int64_t)c->period_s + 10;

	if (s->stats_time <= 0)
		return "no statistics yet";
	if (s->stats_time > POL_HUGE || c->now_s > POL_HUGE)
		return "statistics dated in the future";
	if (s->stats_time < c->now_s - stale)
		return "statistics are stale";
	if (s->stats_time > c->now_s + FUTURE_S)
		return "statistics dated in the future";
	if (s->total <= 0 || s->free < 0)
		return "no total or free memory";
	if (s->total >= POL_HUGE || s->free >= POL_HUGE ||
	    s->available >= POL_HUGE || s->caches >= POL_HUGE ||
	    s->actual >= POL_HUGE || s->memory >= POL_HUGE)
		return "sizes beyond any real memory";
	if (s->free > s->total || s->available > s->total)
		return "free or available above total";
	if (s->memory > 0 && s->total > s->memory + s->memory / 8 + SLACK)
		return "total above the VM's RAM";
	if (s->caches > s->total)
		return "caches above total";
	return "";
}

/*
 * A guest takes BN_OOM_STEP pages (1 MiB, as Linux) at a time when it
 * deflates on OOM, so one step past the target, and up from the lowest
 * actual since the target was set (not one still coming down to it), is
 * enough.
 */
bool
collect_deflated_itself(int64_t actual, int64_t target, int64_t floor)
{
	if (actual <= 0 || actual >= POL_HUGE || target <= 0 ||
	    target >= POL_HUGE || floor <= 0 || floor >= POL_HUGE)
		return false;
	return actual >= target + MIB && actual >= floor + MIB;
}

/* Counter NOW minus BEFORE; 0 when either is unknown or it went back. */
static int64_t
rise(int64_t now, int64_t before)
{
	return now >= 0 && before >= 0 && now > before ? now - before : 0;
}

void
collect_vm(const struct pol_params *p, const struct collect_ctx *c,
    const struct bk_sample *s, const struct bk_sample *prev,
    struct pol_vm *out)
{
	int64_t low, avail;

	out->memory = s->memory > 0 && s->memory < POL_HUGE ? s->memory : -1;
	out->actual = s->actual > 0 && s->actual < POL_HUGE &&
	    (out->memory < 0 || s->actual <= out->memory + SLACK) ?
	    s->actual : -1;
	out->rss = s->rss >= 0 && s->rss < POL_HUGE ? s->rss : -1;
	out->stats_ok = *collect_stats_problem(c, s) == '\0';
	out->stats_time = out->stats_ok ? s->stats_time : -1;
	out->total = out->free = out->avail = out->used = -1;
	out->short_mem = false;
	out->short_why = NULL;
	out->self_deflated = false;

	if (collect_deflated_itself(out->actual, c->target, c->floor_actual)) {
		out->short_mem = true;
		out->self_deflated = true;
		out->short_why = "the guest deflated its balloon itself";
	}
	if (!out->stats_ok)
		return;
	avail = s->available >= 0 ? s->available : s->free;
	out->total = s->total;
	out->free = s->free;
	out->avail = avail;
	/* A balloon the guest counts in its total is not its work: the
	   actual of the report's time, not of now, goes with its free. */
	int64_t at = c->stats_actual > 0 && c->stats_actual < POL_HUGE ?
	    c->stats_actual : out->actual;
	out->used = (at > 0 && at < s->total ? at : s->total) - avail;
	if (out->used < 0)
		out->used = 0;
	low = (int64_t)(p->low_frac * (double)s->total);
	if (low < p->low_min)
		low = p->low_min;
	if (out->short_mem)
		return;
	if (s->free < low && avail < low) {
		out->short_mem = true;
		out->short_why = "free memory below the low watermark";
	} else if (prev != NULL && rise(s->oom_kills, prev->oom_kills) > 0) {
		out->short_mem = true;
		out->short_why = "OOM kills";
	} else if (prev != NULL &&
	    rise(s->swap_in, prev->swap_in) >= SWAPIN_SHORT) {
		out->short_mem = true;
		out->short_why = "swapping in";
	} else if (prev != NULL &&
	    rise(s->major_faults, prev->major_faults) >= FAULTS_SHORT) {
		out->short_mem = true;
		out->short_why = "major faults rising";
	}
}
