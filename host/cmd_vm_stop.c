/*
 * ballonet vm stop: quit a VM's QEMU, kill it if it lingers, and remove
 * its files from the run directory.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

static const struct usage usage = {
	.operands = "NAME", .min_args = 1, .max_args = 1,
	.about =
	    "Quit QEMU through QMP; kill it if it has not exited after S\n"
	    "seconds; remove the VM's files.  Also cleans up after a QEMU that\n"
	    "died.\n",
};

/* Wait up to MS for VM's QEMU to exit. */
static bool
wait_exit(const struct vm *vm, int ms)
{
	long long deadline = qmp_now_ms() + ms;

	while (vm_alive(vm)) {
		if (qmp_now_ms() >= deadline)
			return false;
		usleep(20000);
	}
	return true;
}

/* Quit VM's QEMU, else kill it; *HOW says which. */
static int
stop(const struct vm *vm, int timeout_ms, const char **how)
{
	struct qmp q;

	if (qmp_connect(&q, vm->qmp, 2000) == QMP_OK) {
		qmp_execute(&q, "quit", NULL, NULL, 2000);
		qmp_close(&q);
	}
	if (wait_exit(vm, timeout_ms))
		return EXIT_OK;
	kill(vm->pid, SIGKILL);
	*how = "killed: QEMU did not quit in time";
	if (!wait_exit(vm, 5000))
		return fail(EXIT_TIMEOUT, "%s: QEMU (pid %ld) survives SIGKILL; "
		    "its files stay in %s", vm->name, (long)vm->pid, vm->dir);
	return EXIT_OK;
}

int
cmd_vm_stop(const struct verb *verb, int argc, char **argv)
{
	int timeout_ms = 10000, r;
	const struct opt opts[] = {
		OPT_SECONDS('t', "timeout", &timeout_ms, 0, "kill QEMU if it has "
		    "not quit after S seconds (default 10)"),
		OPT_END()
	};
	const char *how = "stopped";
	struct vm vm;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if ((r = vm_resolve(argv[optind], &vm)) != EXIT_OK)
		return r;
	if (vm.dir[0] == '\0')
		return fail(EXIT_NOVM, "%s: not a VM that ballonet started; quit it "
		    "with QMP's quit command", argv[optind]);
	if (!vm_alive(&vm))
		how = "was not running; removed its files";
	else if ((r = stop(&vm, timeout_ms, &how)) != EXIT_OK)
		return r;
	if (vm_remove(&vm) != 0)
		return fail(EXIT_LOCAL, "%s: cannot remove %s: %m; remove it by "
		    "hand", vm.name, vm.dir);
	printf("%s: %s\n", vm.name, how);
	return EXIT_OK;
}
