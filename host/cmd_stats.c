/*
 * ballonet stats: the memory statistics the guest reports through the
 * balloon's stats queue.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "size.h"

#define ABSENT	18446744073709551615.0	/* 2^64 - 1: QEMU's "no value" */

/* The statistics QEMU knows, in its order; the spec's tags 0 to 9. */
static const struct stat_name {
	const char	*key;		/* in qom-get guest-stats */
	const char	*label;
	bool		 bytes;		/* a size (else a count) */
} stat_names[] = {
	{ "stat-swap-in",          "swap in",          true },
	{ "stat-swap-out",         "swap out",         true },
	{ "stat-major-faults",     "major faults",     false },
	{ "stat-minor-faults",     "minor faults",     false },
	{ "stat-free-memory",      "free memory",      true },
	{ "stat-total-memory",     "total memory",     true },
	{ "stat-available-memory", "available memory", true },
	{ "stat-disk-caches",      "disk caches",      true },
	{ "stat-htlb-pgalloc",     "hugetlb allocs",   false },
	{ "stat-htlb-pgfail",      "hugetlb failures", false },
};

static const struct usage usage = {
	.operands = "VM", .min_args = 1, .max_args = 1,
	.about =
	    "Turn on the guest's statistics (the balloon device's\n"
	    "guest-stats-polling-interval), wait for a fresh report and print\n"
	    "it.  Statistics the guest does not report show as '-' (null in\n"
	    "JSON).  Polling stays on at the given interval afterwards.  With\n"
	    "'ballonet --connect URI', VM is a libvirt domain, and the period\n"
	    "is set with virDomainSetMemoryStatsPeriod.\n",
};

/* The balloon device's QOM path, with or without an id. */
static int
find_balloon(struct qmp *q, const struct vm *vm, char *path, size_t len)
{
	int r = qmp_find_balloon(q, path, len, QMP_TIMEOUT_MS);

	if (r != QMP_OK)
		return qmp_fail(q, r, vm, "qom-list");
	if (path[0] == '\0')
		return fail(EXIT_NOBALLOON, "%s: no virtio-balloon device found "
		    "under /machine/peripheral; start QEMU with -device "
		    "virtio-balloon-pci", vm_label(vm));
	return EXIT_OK;
}

/* Poll guest-stats until a report newer than SINCE arrives. */
static int
fresh_stats(struct qmp *q, const struct vm *vm, const char *path,
    time_t since, int timeout_ms, json_t **stats)
{
	long long deadline = qmp_now_ms() + timeout_ms;

	for (;;) {
		int r = vm_execute(q, vm, "qom-get guest-stats", "qom-get",
		    json_pack("{s:s, s:s}", "path", path, "property",
		    "guest-stats"), stats);
		if (r != EXIT_OK)
			return r;
		json_t *last = json_object_get(*stats, "last-update");
		if (json_number_value(last) >= (double)since)
			return EXIT_OK;
		json_decref(*stats);
		*stats = NULL;
		if (qmp_now_ms() >= deadline)
			return fail(EXIT_TIMEOUT, "%s: the guest sent no statistics "
			    "in %.1f s; its balloon driver may not support them",
			    vm_label(vm), timeout_ms / 1000.0);
		r = vm_await_event(q, vm, 250, "the wait for statistics");
		if (r != EXIT_OK)
			return r;
	}
}

static void
print_value(const char *label, json_t *value, bool bytes)
{
	double v = json_number_value(value);

	if (value == NULL || v < 0 || v >= ABSENT)
		printf("%-18s -\n", label);
	else if (bytes)
		printf("%-18s %.1f MiB\n", label, v / 1048576.0);
	else
		printf("%-18s %.0f\n", label, v);
}

/* The guest's numbers: casting one past INT64_MAX would be undefined. */
static bool
fits_int(double v)
{
	return v >= 0 && v < 9223372036854775808.0;	/* 2^63 */
}

static void
print_stats(json_t *reply, bool json)
{
	json_t *stats = json_object_get(reply, "stats");
	double last = json_number_value(json_object_get(reply, "last-update"));
	const char *key;
	json_t *value;

	if (json) {
		json_t *out = json_pack("{s:I}", "last-update",
		    fits_int(last) ? (json_int_t)last : 0);
		json_object_foreach(stats, key, value) {
			double v = json_number_value(value);
			json_object_set_new(out, key, !fits_int(v) ?
			    json_null() : json_integer((json_int_t)v));
		}
		print_json(out);
		return;
	}
	char when[32];
	printf("%-18s %s\n", "last update", utc_format(when, sizeof(when),
	    "%Y-%m-%d %H:%M:%S UTC", fits_int(last) ? (time_t)last : 0));
	for (size_t i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++)
		print_value(stat_names[i].label,
		    json_object_get(stats, stat_names[i].key), stat_names[i].bytes);
	json_object_foreach(stats, key, value) {	/* from a newer QEMU */
		bool known = false;
		for (size_t i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++)
			known = known || strcmp(key, stat_names[i].key) == 0;
		if (!known)
			print_value(key, value, false);
	}
}

static int
run_stats(struct qmp *q, const struct vm *vm, int interval_ms, int timeout_ms,
    bool json)
{
	char path[256];
	uint64_t actual;
	json_t *stats;
	int r;

	/* query-balloon tells a VM without a balloon the usual way. */
	if ((r = query_actual(q, vm, &actual)) != EXIT_OK ||
	    (r = find_balloon(q, vm, path, sizeof(path))) != EXIT_OK)
		return r;
	int interval = (interval_ms + 999) / 1000;	/* whole seconds */
	time_t since = time(NULL) - interval;
	r = vm_execute(q, vm, "qom-set guest-stats-polling-interval", "qom-set",
	    json_pack("{s:s, s:s, s:i}", "path", path, "property",
	    "guest-stats-polling-interval", "value", interval), NULL);
	if (r != EXIT_OK ||
	    (r = fresh_stats(q, vm, path, since, timeout_ms, &stats)) != EXIT_OK)
		return r;
	print_stats(stats, json);
	json_decref(stats);
	return EXIT_OK;
}

int
cmd_stats(const struct verb *verb, int argc, char **argv)
{
	int interval_ms = 2000, timeout_ms = 10000, r;
	bool json = false;
	const struct opt opts[] = {
		OPT_SECONDS('i', "interval", &interval_ms, 1, "seconds between "
		    "the guest's reports, at least 1 (default 2)"),
		OPT_SECONDS('t', "timeout", &timeout_ms, 0, "wait at most S "
		    "seconds for a report (default 10) and exit with status 5 if "
		    "none comes"),
		OPT_FLAG('j', "json", &json, "one JSON object: QEMU's stat names, "
		    "values, last-update (seconds since the epoch)"),
		OPT_END()
	};
	struct qmp q;
	struct vm vm;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (connect_uri != NULL)
		return lvcmd_stats(argv[optind], interval_ms, timeout_ms, json);
	if ((r = vm_open(argv[optind], &vm, &q)) != EXIT_OK)
		return r;
	r = run_stats(&q, &vm, interval_ms, timeout_ms, json);
	qmp_close(&q);
	return r;
}
