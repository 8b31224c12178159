/*
 * ballonet watch: print BALLOON_CHANGE events as QEMU sends them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "size.h"

static const struct usage usage = {
	.operands = "VM", .min_args = 1, .max_args = 1,
	.about =
	    "Print each BALLOON_CHANGE event of VM with QEMU's timestamp (UTC)\n"
	    "and the new logical size.  QEMU sends at most one such event a\n"
	    "second.  Runs until interrupted, N events or S seconds.  With\n"
	    "'ballonet --connect URI', VM is a libvirt domain, and the events\n"
	    "are libvirt's balloon-change events, timed when received.\n",
};

static void
print_change(json_t *event, bool json)
{
	json_t *ts = json_object_get(event, "timestamp");
	json_int_t sec = json_integer_value(json_object_get(ts, "seconds"));
	json_int_t usec = json_integer_value(json_object_get(ts, "microseconds"));
	json_t *actual = json_object_get(json_object_get(event, "data"), "actual");
	char when[32], b[SIZE_BUFLEN];

	if (json) {
		print_json(json_pack("{s:f, s:O}", "time",
		    (double)sec + (double)usec / 1e6, "actual", actual));
		return;
	}
	printf("%s.%06lldZ actual %s\n", utc_format(when, sizeof(when),
	    "%Y-%m-%dT%H:%M:%S", (time_t)sec), (long long)usec,
	    size_format((uint64_t)json_integer_value(actual), b, sizeof(b)));
	fflush(stdout);
}

/*
 * A BALLOON_CHANGE as QEMU sends it: an integer data.actual of bytes and a
 * timestamp gmtime() can print (years 1970 to 9999).  Anything else is
 * not printed as if it were one.
 */
static bool
change_ok(json_t *event)
{
	json_t *ts = json_object_get(event, "timestamp");
	json_t *sec = json_object_get(ts, "seconds");
	json_t *usec = json_object_get(ts, "microseconds");
	json_t *actual = json_object_get(json_object_get(event, "data"), "actual");

	return json_is_integer(actual) && json_integer_value(actual) >= 0 &&
	    json_is_integer(sec) && json_integer_value(sec) >= 0 &&
	    json_integer_value(sec) <= 253402300799 &&
	    json_is_integer(usec) && json_integer_value(usec) >= 0 &&
	    json_integer_value(usec) <= 999999;
}

/* Print COUNT (0: any number of) changes within TIMEOUT_MS (<0: ever). */
static int
watch(struct qmp *q, const struct vm *vm, long count, int timeout_ms,
    bool json)
{
	long long deadline = timeout_ms < 0 ? -1 : qmp_now_ms() + timeout_ms;
	long seen = 0;
	json_t *event;

	while (count == 0 || seen < count) {
		long long left = deadline < 0 ? -1 : deadline - qmp_now_ms();
		if (deadline >= 0 && left <= 0)
			return count == 0 ? EXIT_OK : fail(EXIT_TIMEOUT, "%s: saw "
			    "%ld of %ld balloon changes in %.1f s", vm_label(vm),
			    seen, count, timeout_ms / 1000.0);
		int r = qmp_next_event(q, &event, (int)left);
		if (r == QMP_ETIMEDOUT)
			continue;
		if (r != QMP_OK)
			return qmp_fail(q, r, vm, "the watch");
		const char *name = json_string_value(json_object_get(event, "event"));
		if (name != NULL && strcmp(name, "BALLOON_CHANGE") == 0 &&
		    !change_ok(event))
			(void)fail(EXIT_QEMU, "%s: ignored a malformed "
			    "BALLOON_CHANGE event", vm_label(vm));
		else if (name != NULL && strcmp(name, "BALLOON_CHANGE") == 0) {
			print_change(event, json);
			seen++;
		}
		json_decref(event);
	}
	return EXIT_OK;
}

int
cmd_watch(const struct verb *verb, int argc, char **argv)
{
	long count = 0;
	int timeout_ms = -1, r;
	bool json = false;
	const struct opt opts[] = {
		OPT_COUNT('n', "count", &count, "stop after N events; exit with "
		    "status 5 if the timeout comes first"),
		OPT_SECONDS('t', "timeout", &timeout_ms, 0,
		    "stop after S seconds"),
		OPT_FLAG('j', "json", &json, "one JSON object per event: time "
		    "(seconds, a real) and actual (bytes)"),
		OPT_END()
	};
	struct qmp q;
	struct vm vm;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (connect_uri != NULL)
		return lvcmd_watch(argv[optind], count, timeout_ms, json);
	if ((r = vm_resolve(argv[optind], &vm)) != EXIT_OK)
		return r;
	/* Our VMs have a QMP socket for watchers, leaving qmp.sock free. */
	if (vm.watch[0] != '\0' && access(vm.watch, F_OK) == 0)
		memcpy(vm.qmp, vm.watch, sizeof(vm.qmp));
	if ((r = vm_connect(&vm, &q, QMP_TIMEOUT_MS)) != EXIT_OK)
		return r;
	r = watch(&q, &vm, count, timeout_ms, json);
	qmp_close(&q);
	return r;
}
