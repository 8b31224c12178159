/*
 * ballonet set: set a VM's logical memory size, and optionally wait for
 * the guest to get there.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "size.h"

#define POLL_MS		500	/* query-balloon between (rate-limited) events */

static const struct usage usage = {
	.operands = "VM SIZE", .min_args = 2, .max_args = 2,
	.about =
	    "Set the logical memory size of VM (its RAM minus the balloon, plus\n"
	    "memory hot-plugged by virtio-mem), as QEMU's balloon command and\n"
	    "'xm mem-set' mean it.  SIZE is a number with a unit B, K, M, G or\n"
	    "T; a bare number is MiB.  It must be above zero and at most the\n"
	    "VM's RAM, or with a virtio-mem device (vm start --max-memory) what\n"
	    "the VM can reach: above the boot RAM the guest plugs the rest\n"
	    "(requested-size, in whole blocks) and the balloon empties; at or\n"
	    "below it virtio-mem unplugs everything and the balloon does the\n"
	    "rest.  With 'ballonet --connect URI', VM is a libvirt domain and\n"
	    "SIZE goes to virDomainSetMemory.\n",
};

/* Progress, in MiB with one decimal: exact sizes would jitter. */
void
set_progress(bool tty, uint64_t from, uint64_t actual, uint64_t goal, long long ms)
{
	char a[SIZE_BUFLEN], g[SIZE_BUFLEN];
	uint64_t span = from > goal ? from - goal : goal - from;
	uint64_t done = from > actual ? from - actual : actual - from;
	unsigned pct = span ? (unsigned)(done >= span ? 100 : done * 100 / span)
	    : 100;

	snprintf(a, sizeof(a), "%.1f MiB", actual / 1048576.0);
	snprintf(g, sizeof(g), "%.1f MiB", goal / 1048576.0);
	if (!tty) {
		printf("%lld.%03lld s: actual %s, target %s\n", ms / 1000,
		    ms % 1000, a, g);
	} else {
		char bar[31];
		memset(bar, '#', pct * 30 / 100);
		memset(bar + pct * 30 / 100, '.', 30 - pct * 30 / 100);
		bar[30] = '\0';
		printf("\r[%s] %3u%% %s -> %s   ", bar, pct, a, g);
	}
	fflush(stdout);
}

/* Wait until the logical size is GOAL; show each change on the way. */
static int
wait_actual(struct qmp *q, const struct vm *vm, uint64_t goal, int timeout_ms)
{
	long long start = qmp_now_ms(), deadline = start + timeout_ms;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t from = 0, actual, last = UINT64_MAX;
	char a[SIZE_BUFLEN], g[SIZE_BUFLEN];

	for (;;) {
		struct memsize m;
		int r = query_memsize(q, vm, &m);
		if (r != EXIT_OK)
			return r;
		actual = memsize_logical(&m);
		if (last == UINT64_MAX)
			from = actual;
		if (actual != last)
			set_progress(tty, from, actual, goal, qmp_now_ms() - start);
		last = actual;
		if (actual == goal)
			break;
		long long left = deadline - qmp_now_ms();
		if (left <= 0) {
			if (tty)
				putchar('\n');
			return fail(EXIT_TIMEOUT, "%s: reached %s, not %s, in %.1f s; "
			    "the guest's balloon driver is missing, slow or out of "
			    "memory (see 'ballonet info %s')", vm_label(vm),
			    size_format(actual, a, sizeof(a)),
			    size_format(goal, g, sizeof(g)), timeout_ms / 1000.0,
			    vm_label(vm));
		}
		r = vm_await_event(q, vm, left < POLL_MS ? (int)left : POLL_MS,
		    "the wait");
		if (r != EXIT_OK)
			return r;
	}
	if (tty)
		putchar('\n');
	printf("%s: reached %s in %.1f s\n", vm_label(vm),
	    size_format(goal, g, sizeof(g)), (qmp_now_ms() - start) / 1000.0);
	return EXIT_OK;
}

/* Ask QEMU for plan P (memsize.h); remember SIZE for a VM we started. */
static int
request(struct qmp *q, struct vm *vm, struct memsize *m,
    const struct memsize_plan *p, uint64_t size)
{
	int r = memsize_apply(q, m, p, QMP_TIMEOUT_MS);

	if (r != QMP_OK)
		return memsize_fail(q, r, vm, m);
	if (vm->dir[0] != '\0') {
		vm->target = size;
		if (vm_save(vm) != 0)
			fprintf(stderr, "ballonet: %s: warning: cannot record the "
			    "target in %s/vm.json: %m\n", vm->name, vm->dir);
	}
	return EXIT_OK;
}

int
cmd_set(const struct verb *verb, int argc, char **argv)
{
	int timeout_ms = 60000, r;
	bool wait = false;
	const struct opt opts[] = {
		OPT_FLAG('w', "wait", &wait, "wait until the guest reaches SIZE, "
		    "showing progress (a bar on a terminal, lines otherwise)"),
		OPT_SECONDS('t', "timeout", &timeout_ms, 0, "give up waiting "
		    "after S seconds (default 60) and exit with status 5"),
		OPT_END()
	};
	char s1[SIZE_BUFLEN];
	struct memsize_plan p;
	struct memsize m;
	struct qmp q;
	struct vm vm;
	uint64_t size;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (size_parse(argv[optind + 1], &size) != 0)
		return usage_fail(verb->name, "size '%s' is malformed: give a "
		    "number with a unit B, K, M, G or T, e.g. 512M",
		    argv[optind + 1]);
	if (size == 0)
		return fail(EXIT_RANGE, "set: a size of zero would take all of "
		    "the guest's memory; give a size above zero");
	if (connect_uri != NULL)
		return lvcmd_set(argv[optind], argv[optind + 1], size, wait,
		    timeout_ms);
	if ((r = vm_open(argv[optind], &vm, &q)) != EXIT_OK)
		return r;
	r = query_memsize(&q, &vm, &m);
	switch (r == EXIT_OK ? memsize_plan(&m, size, &p) : MEMSIZE_OK) {
	case MEMSIZE_ABOVE_RAM:
		r = fail(EXIT_RANGE, "%s: %s is above the VM's RAM (%s); the "
		    "balloon can only take memory away, give at most that (or "
		    "start the VM with --max-memory)", vm_label(&vm),
		    argv[optind + 1], size_format(m.boot, s1, sizeof(s1)));
		break;
	case MEMSIZE_ABOVE_MAX:
		r = fail(EXIT_RANGE, "%s: %s is above what the VM can reach "
		    "(%s: its RAM plus the virtio-mem region); give at most "
		    "that", vm_label(&vm), argv[optind + 1],
		    size_format(memsize_max(&m), s1, sizeof(s1)));
		break;
	}
	if (r == EXIT_OK)
		r = request(&q, &vm, &m, &p, size);
	if (r == EXIT_OK && wait)
		r = wait_actual(&q, &vm, p.goal, timeout_ms);
	qmp_close(&q);
	return r;
}
