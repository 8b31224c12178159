/*
 * ballonet set: set a VM's logical memory size, and optionally wait for
 * the guest to get there.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "size.h"


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

/* What set --wait reads over QMP. */
struct qwait {
	struct qmp	*q;
	const struct vm	*vm;
};

static int
qwait_read(void *arg, uint64_t *bytes)
{
	struct qwait *w = arg;
	struct memsize m;
	int r;

	if ((r = query_memsize(w->q, w->vm, &m)) != EXIT_OK)
		return r;
	*bytes = memsize_logical(&m);
	return EXIT_OK;
}

/* BALLOON_CHANGE wakes us; the events are rate-limited, so poll too. */
static int
qwait_idle(void *arg, int ms)
{
	struct qwait *w = arg;

	return vm_await_event(w->q, w->vm, ms, "the wait");
}

/* Wait until the logical size is GOAL; show each change on the way. */
static int
wait_actual(struct qmp *q, const struct vm *vm, uint64_t goal, int timeout_ms)
{
	struct qwait qw = { q, vm };
	const struct waiter w = {
		.label = vm_label(vm), .read = qwait_read, .idle = qwait_idle,
		.arg = &qw,
	};

	return wait_progress(&w, goal, timeout_ms);
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
