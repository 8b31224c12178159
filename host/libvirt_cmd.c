/*
 * ballonet --connect URI: set, info and stats on libvirt's domains,
 * through host/libvirt.c, with the output and exit codes of the QMP
 * verbs (cmd_set.c, cmd_info.c, cmd_stats.c call in here when a URI was
 * given).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "libvirt.h"
#include "size.h"

#define LV_TIMEOUT_MS	10000	/* keepalive: a silent libvirtd */

static int
exit_of(int status)
{
	switch (status) {
	case LV_OK:		return EXIT_OK;
	case LV_ENODOM:		return EXIT_NOVM;
	case LV_ENOBALLOON:	return EXIT_NOBALLOON;
	case LV_ERANGE:		return EXIT_RANGE;
	case LV_ECONN:		return EXIT_NOVM;
	case LV_ETIMEOUT:	return EXIT_TIMEOUT;
	default:		return EXIT_QEMU;
	}
}

/* Report LV's last failure; returns its exit code. */
static int
lvfail(struct lv *lv, int status)
{
	return fail(exit_of(status), "%s", lv_error(lv));
}

static int
open_uri(struct lv **lv)
{
	char err[LV_ERR_MAX];

	if ((*lv = lv_open(connect_uri, LV_TIMEOUT_MS, err, sizeof(err))) == NULL)
		return fail(EXIT_NOVM, "%s", err);
	return EXIT_OK;
}

static json_t *
bytes_or_null(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/* --- set ------------------------------------------------------------- */

/* What set --wait reads over libvirt. */
struct lvwait {
	struct lv	*lv;
	const char	*name;
	bool		 seen;		/* a read worked: the domain was there */
};

/* The domain's logical size: its balloon actual plus virtio-mem's. */
static int
lvwait_read(void *arg, uint64_t *bytes)
{
	struct lvwait *w = arg;
	struct lv_info info;
	struct lv_stats st;
	int r;

	if ((r = lv_info(w->lv, w->name, &info)) != LV_OK ||
	    (r = lv_stats(w->lv, w->name, &st)) != LV_OK) {
		if (r == LV_ENODOM && w->seen)
			return fail(EXIT_GONE, "%s: the domain stopped during "
			    "the wait", w->name);
		return lvfail(w->lv, r);
	}
	if (st.actual < 0)
		return fail(EXIT_NOBALLOON, "%s: libvirt reports no balloon "
		    "actual", w->name);
	w->seen = true;
	*bytes = (uint64_t)lv_logical(&info, &st);
	return EXIT_OK;
}

/* Balloon events only wake us: the statistics say the rest. */
static int
lvwait_idle(void *arg, int ms)
{
	struct lvwait *w = arg;
	struct pollfd p = { .fd = lv_event_fd(w->lv), .events = POLLIN };
	struct lv_event ev[16];

	poll(&p, 1, ms);
	lv_events(w->lv, ev, 16);
	return EXIT_OK;
}

int
lvcmd_set(const char *name, const char *text, uint64_t size, bool wait,
    int timeout_ms)
{
	struct memsize_plan p;
	struct lv_info info;
	struct memsize m;
	struct lv *lv;
	char s1[SIZE_BUFLEN];
	int r;

	if ((r = open_uri(&lv)) != EXIT_OK)
		return r;
	if ((r = lv_info(lv, name, &info)) != LV_OK) {
		r = lvfail(lv, r);
		goto out;
	}
	lv_memsize(&info, &m);
	/* What libvirt passes on is KiB. */
	r = memsize_plan(&m, size <= info.boot ? size / 1024 * 1024 : size,
	    &p);
	if (!info.balloon) {
		r = fail(EXIT_NOBALLOON, "%s: the domain has no balloon device; "
		    "give it <memballoon model='virtio'>", name);
	} else if (r == MEMSIZE_ABOVE_RAM) {
		r = fail(EXIT_RANGE, "%s: %s is above the domain's memory (%s); "
		    "the balloon can only take memory away, give at most that",
		    name, text, size_format(info.memory, s1, sizeof(s1)));
	} else if (r == MEMSIZE_ABOVE_MAX) {
		r = fail(EXIT_RANGE, "%s: %s is above what the domain can "
		    "reach (%s: its RAM plus the virtio-mem region); give at "
		    "most that", name, text,
		    size_format(info.memory, s1, sizeof(s1)));
	} else if (size < 1024) {
		r = fail(EXIT_RANGE, "%s: %s is below libvirt's unit of 1 KiB",
		    name, text);
	} else if ((r = lv_set(lv, name, size)) != LV_OK) {
		r = lvfail(lv, r);
	} else if (wait) {
		struct lvwait lw = { lv, name, false };
		const struct waiter w = {
			.label = name, .uri = lv_uri(lv), .read = lvwait_read,
			.idle = lvwait_idle, .arg = &lw,
		};
		r = wait_progress(&w, p.goal, timeout_ms);
	}
out:
	lv_close(lv);
	return r;
}

/* --- info ------------------------------------------------------------ */

static void
print_size(const char *label, int64_t v)
{
	char b[SIZE_BUFLEN];

	printf("%-10s %s\n", label, v >= 0 ? size_format((uint64_t)v, b,
	    sizeof(b)) : "-");
}

static void
print_mib(const char *label, int64_t v)
{
	if (v >= 0)
		printf("%-10s %.1f MiB\n", label, v / 1048576.0);
	else
		printf("%-10s -\n", label);
}

static void
print_info(struct lv *lv, const struct lv_info *in, const struct lv_stats *st,
    bool json)
{
	int64_t actual = lv_logical(in, st);
	int64_t ballooned = st->actual >= 0 ? st->actual : actual;
	int64_t balloon = (int64_t)in->boot > ballooned ?
	    (int64_t)in->boot - ballooned : 0;

	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, "
		    "s:I, s:n, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:i, "
		    "s:o}",
		    "name", in->name, "uri", lv_uri(lv), "uuid", in->uuid,
		    "state", in->state,
		    "id", in->id >= 0 ? json_integer(in->id) : json_null(),
		    "ram", (json_int_t)in->memory, "boot", (json_int_t)in->boot,
		    "plugged", (json_int_t)in->vmem_current, "target",
		    "actual", (json_int_t)actual, "balloon", (json_int_t)balloon,
		    "rss", bytes_or_null(st->rss),
		    "unused", bytes_or_null(st->unused),
		    "available", bytes_or_null(st->available),
		    "usable", bytes_or_null(st->usable),
		    "disk_caches", bytes_or_null(st->disk_caches),
		    "min_guarantee", bytes_or_null(in->min_guarantee),
		    "stats_period", in->stats_period,
		    "last_update", bytes_or_null(st->last_update));
		print_json(o);
		return;
	}
	printf("%-10s %s\n", "vm:", in->name);
	printf("%-10s %s\n", "uri:", lv_uri(lv));
	printf("%-10s %s\n", "state:", in->state);
	print_size("RAM:", (int64_t)in->memory);
	if (in->vmem) {
		print_size("boot:", (int64_t)in->boot);
		print_size("plugged:", (int64_t)in->vmem_current);
	}
	printf("%-10s -\n", "target:");
	print_size("actual:", actual);
	print_size("balloon:", balloon);
	print_mib("QEMU RSS:", st->rss);
	print_mib("unused:", st->unused);
	print_mib("available:", st->available);
	print_mib("usable:", st->usable);
	print_size("min:", in->min_guarantee);
}

int
lvcmd_info(const char *name, bool json)
{
	struct lv_info in;
	struct lv_stats st;
	struct lv *lv;
	int r;

	if ((r = open_uri(&lv)) != EXIT_OK)
		return r;
	if ((r = lv_info(lv, name, &in)) != LV_OK ||
	    (r = lv_stats(lv, name, &st)) != LV_OK)
		r = lvfail(lv, r);
	else
		print_info(lv, &in, &st, json);
	lv_close(lv);
	return r;
}

/* --- stats ----------------------------------------------------------- */

/*
 * The guest's statistics under QEMU's names (as `stats` prints them for
 * QMP), from libvirt's: its AVAILABLE is the guest's total memory and
 * its USABLE the guest's available memory.
 */
static void
print_stats(const struct lv_stats *st, bool json)
{
	const struct {
		const char	*key, *label;
		int64_t		 v;
		bool		 bytes;
	} s[] = {
		{ "stat-swap-in", "swap in", st->swap_in, true },
		{ "stat-swap-out", "swap out", st->swap_out, true },
		{ "stat-major-faults", "major faults", st->major_faults, false },
		{ "stat-minor-faults", "minor faults", st->minor_faults, false },
		{ "stat-free-memory", "free memory", st->unused, true },
		{ "stat-total-memory", "total memory", st->available, true },
		{ "stat-available-memory", "available memory", st->usable, true },
		{ "stat-disk-caches", "disk caches", st->disk_caches, true },
		{ "stat-htlb-pgalloc", "hugetlb allocs", st->hugetlb_pgalloc,
		    false },
		{ "stat-htlb-pgfail", "hugetlb failures", st->hugetlb_pgfail,
		    false },
	};
	char when[32];

	if (json) {
		json_t *o = json_pack("{s:I}", "last-update",
		    (json_int_t)st->last_update);
		for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			json_object_set_new(o, s[i].key, bytes_or_null(s[i].v));
		print_json(o);
		return;
	}
	printf("%-18s %s\n", "last update", utc_format(when, sizeof(when),
	    "%Y-%m-%d %H:%M:%S UTC", (time_t)st->last_update));
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (s[i].v < 0)
			printf("%-18s -\n", s[i].label);
		else if (s[i].bytes)
			printf("%-18s %.1f MiB\n", s[i].label, s[i].v / 1048576.0);
		else
			printf("%-18s %lld\n", s[i].label, (long long)s[i].v);
	}
}

/* Poll the statistics until the guest reports after SINCE. */
static int
fresh_stats(struct lv *lv, const char *name, time_t since, int timeout_ms,
    struct lv_stats *st)
{
	long long deadline = qmp_now_ms() + timeout_ms;
	int r;

	for (;;) {
		if ((r = lv_stats(lv, name, st)) != LV_OK)
			return lvfail(lv, r);
		if (st->last_update >= (int64_t)since)
			return EXIT_OK;
		if (qmp_now_ms() >= deadline)
			return fail(EXIT_TIMEOUT, "%s: the guest sent no statistics "
			    "in %.1f s; its balloon driver may not support them",
			    name, timeout_ms / 1000.0);
		usleep(250000);
	}
}

int
lvcmd_stats(const char *name, int interval_ms, int timeout_ms, bool json)
{
	int interval = (interval_ms + 999) / 1000;	/* whole seconds */
	struct lv_info info;
	struct lv_stats st;
	struct lv *lv;
	int r;

	if ((r = open_uri(&lv)) != EXIT_OK)
		return r;
	time_t since = time(NULL) - interval;
	if ((r = lv_info(lv, name, &info)) != LV_OK)
		r = lvfail(lv, r);
	else if (!info.balloon)
		r = fail(EXIT_NOBALLOON, "%s: the domain has no balloon device; "
		    "give it <memballoon model='virtio'>", name);
	else if ((r = lv_stats_period(lv, name, interval)) != LV_OK)
		r = lvfail(lv, r);
	else if ((r = fresh_stats(lv, name, since, timeout_ms, &st)) == EXIT_OK)
		print_stats(&st, json);
	lv_close(lv);
	return r;
}

/* --- watch ----------------------------------------------------------- */

/* libvirt's events carry no time: ours, when we take the event. */
static void
print_change(int64_t actual, bool json)
{
	struct timespec ts;
	char when[32], b[SIZE_BUFLEN];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (json) {
		print_json(json_pack("{s:f, s:I}", "time", (double)ts.tv_sec +
		    (double)ts.tv_nsec / 1e9, "actual", (json_int_t)actual));
		return;
	}
	printf("%s.%06ldZ actual %s\n", utc_format(when, sizeof(when),
	    "%Y-%m-%dT%H:%M:%S", ts.tv_sec), ts.tv_nsec / 1000,
	    size_format((uint64_t)actual, b, sizeof(b)));
	fflush(stdout);
}

int
lvcmd_watch(const char *name, long count, int timeout_ms, bool json)
{
	long long deadline = timeout_ms < 0 ? -1 : qmp_now_ms() + timeout_ms;
	struct lv_event ev[16];
	struct lv_info info;
	struct lv *lv;
	long seen = 0;
	int r;

	if ((r = open_uri(&lv)) != EXIT_OK)
		return r;
	if ((r = lv_info(lv, name, &info)) != LV_OK) {
		r = lvfail(lv, r);
		goto out;
	}
	while (count == 0 || seen < count) {
		long long left = deadline < 0 ? -1 : deadline - qmp_now_ms();
		if (deadline >= 0 && left <= 0) {
			r = count == 0 ? EXIT_OK : fail(EXIT_TIMEOUT, "%s: saw %ld "
			    "of %ld balloon changes in %.1f s", name, seen, count,
			    timeout_ms / 1000.0);
			goto out;
		}
		struct pollfd p = { .fd = lv_event_fd(lv), .events = POLLIN };
		poll(&p, 1, left < 0 || left > 1000 ? 1000 : (int)left);
		size_t n = lv_events(lv, ev, sizeof(ev) / sizeof(ev[0]));
		for (size_t i = 0; i < n && (count == 0 || seen < count); i++) {
			if (ev[i].kind == LV_EV_CLOSED) {
				r = fail(EXIT_NOVM, "%s", lv_error(lv));
				goto out;
			}
			if (strcmp(ev[i].name, info.name) != 0)
				continue;
			if (ev[i].kind == LV_EV_STOPPED) {
				r = fail(EXIT_GONE, "%s: the domain stopped during "
				    "the watch", name);
				goto out;
			}
			if (ev[i].kind == LV_EV_BALLOON && ev[i].actual >= 0) {
				print_change(ev[i].actual, json);
				seen++;
			}
		}
	}
	r = EXIT_OK;
out:
	lv_close(lv);
	return r;
}
