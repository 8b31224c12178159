/*
 * ballonet vm: start, stop and list the VMs that ballonet runs, and attach
 * to their serial console.  Their state lives in the run directory (see
 * rundir.h).  Starting is the longest story: it has cmd_vm_start.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "size.h"
#include "tty.h"

#define ESCAPE_KEY	0x1d	/* Ctrl-]: leave the console */

void
vm_help(void)
{
	printf("ballonet vm start NAME [--memory SIZE] [--transport T]\n"
	    "                  [--kernel FILE|none] [--initrd FILE] [--append STR]\n"
	    "                  [--qemu-arg ARG]... [--timeout S]\n"
	    "                  [--deflate-on-oom] [--free-page-reporting]\n"
	    "                  [--stats-interval S] [--accel auto|kvm|tcg]\n"
	    "ballonet vm stop NAME [--timeout S]\n"
	    "ballonet vm list [--json]\n"
	    "ballonet vm console NAME\n"
	    "\n"
	    "start    Start QEMU as a daemon with a balloon device (id balloon0),\n"
	    "         a QMP socket and the serial console on a socket, logged\n"
	    "         to console.log; wait until QMP answers.\n"
	    "  -m, --memory SIZE     RAM, whole MiB (default 1G)\n"
	    "  -T, --transport T     pci (q35, default), pci-legacy (pc, legacy\n"
	    "                        virtio) or mmio (microvm)\n"
	    "  -k, --kernel FILE     the guest kernel (default: ballonet-guest.elf\n"
	    "                        next to ballonet, or $BALLONET_GUEST);\n"
	    "                        'none' boots no kernel\n"
	    "  -i, --initrd FILE     an initial RAM disk (Linux)\n"
	    "  -a, --append STR      the kernel command line (Linux)\n"
	    "  -Q, --qemu-arg ARG    one more argument for QEMU, after ours;\n"
	    "                        repeat it for several (e.g. --qemu-arg=-smp\n"
	    "                        --qemu-arg=2)\n"
	    "  -t, --timeout S       wait at most S seconds for QEMU (default 30)\n"
	    "      --deflate-on-oom  let the guest take pages back from the\n"
	    "                        balloon when it runs out of memory\n"
	    "      --free-page-reporting  let the guest report free memory\n"
	    "      --stats-interval S  ask for memory statistics every S s\n"
	    "      --accel A     kvm, tcg or auto (default): KVM if the CPU\n"
	    "                    has vmx or svm and /dev/kvm opens, else TCG\n"
	    "stop     Quit QEMU through QMP; kill it if it has not exited after\n"
	    "         S seconds (default 10); remove the VM's files.\n"
	    "list     Name, pid, alive, memory and transport of each VM.\n"
	    "  -j, --json            one JSON array of objects\n"
	    "console  Attach the terminal to the serial console; Ctrl-] quits.\n"
	    "\n"
	    "QEMU is $BALLONET_QEMU, else qemu-system-x86_64.  The run directory\n"
	    "is $BALLONET_RUNDIR, else $XDG_RUNTIME_DIR/ballonet, else\n"
	    "/run/ballonet.\n");
}

/*
 * Shared by the subverbs: the options OPTS of CMD ("vm stop"), then
 * OPERANDS operands (a VM name or none), else a message naming SUB.
 * Returns as parse_options() does.
 */
static int
sub_args(const char *cmd, const char *sub, int operands,
    const struct opt *opts, int argc, char **argv)
{
	int r = parse_options("vm", cmd, vm_help, opts, argc, argv);

	if (r != EXIT_OK)
		return r;
	if (argc - optind != operands)
		return usage_fail("vm", "'%s' takes %s", sub,
		    operands ? "a VM name" : "no operand");
	return EXIT_OK;
}

/* ---- stop ---- */

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

static int
vm_stop(int argc, char **argv)
{
	int timeout_ms = 10000, r;
	const struct opt opts[] = {
		{ "timeout", 't', OPT_SECONDS, &timeout_ms, 0 },
		{ 0 }
	};
	const char *how = "stopped";
	struct qmp q;
	struct vm vm;

	if ((r = sub_args("vm stop", "stop", 1, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if ((r = vm_resolve(argv[optind], &vm)) != EXIT_OK)
		return r;
	if (vm.dir[0] == '\0')
		return fail(EXIT_NOVM, "%s: not a VM that ballonet started; quit it "
		    "with QMP's quit command", argv[optind]);
	if (!vm_alive(&vm)) {
		how = "was not running; removed its files";
	} else {
		if (qmp_connect(&q, vm.qmp, 2000) == QMP_OK) {
			qmp_execute(&q, "quit", NULL, NULL, 2000);
			qmp_close(&q);
		}
		if (!wait_exit(&vm, timeout_ms)) {
			kill(vm.pid, SIGKILL);
			how = "killed: QEMU did not quit in time";
			if (!wait_exit(&vm, 5000))
				return fail(EXIT_TIMEOUT, "%s: QEMU (pid %ld) survives "
				    "SIGKILL; its files stay in %s", vm.name,
				    (long)vm.pid, vm.dir);
		}
	}
	if (vm_remove(&vm) != 0)
		return fail(EXIT_LOCAL, "%s: cannot remove %s: %m; remove it by "
		    "hand", vm.name, vm.dir);
	printf("%s: %s\n", vm.name, how);
	return EXIT_OK;
}

/* ---- list ---- */

static int
vm_list(int argc, char **argv)
{
	bool json = false;
	const struct opt opts[] = {
		{ "json", 'j', OPT_FLAG, &json, 0 },
		{ 0 }
	};
	json_t *array;
	char **names, b[SIZE_BUFLEN];
	size_t count;
	int r;

	if ((r = sub_args("vm list", "list", 0, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (vm_names(&names, &count) != 0)
		return fail(EXIT_LOCAL, "cannot read the run directory: %m");
	array = json_array();
	if (!json)
		printf("%-16s %8s %-5s %10s %s\n", "NAME", "PID", "ALIVE",
		    "MEMORY", "TRANSPORT");
	for (size_t i = 0; i < count; i++) {
		struct vm vm;
		bool ok = vm_load(names[i], &vm) == 0;
		bool alive = ok && vm_alive(&vm);
		if (json) {
			json_array_append_new(array, json_pack("{s:s, s:o, s:b, "
			    "s:o, s:s?, s:s?}", "name", names[i], "pid", ok &&
			    vm.pid ? json_integer(vm.pid) : json_null(), "alive",
			    alive, "memory", ok ? json_integer((json_int_t)
			    vm.memory) : json_null(), "transport", ok ?
			    vm.transport : NULL, "accel", ok && vm.accel[0] ?
			    vm.accel : NULL));
			continue;
		}
		printf("%-16s %8ld %-5s %10s %s\n", names[i], ok ? (long)vm.pid : 0L,
		    alive ? "yes" : "no", ok ? size_format(vm.memory, b,
		    sizeof(b)) : "-", ok ? vm.transport : "-");
	}
	vm_names_free(names, count);
	if (json)
		print_json(array);
	else
		json_decref(array);
	return EXIT_OK;
}

/* ---- console ---- */

/*
 * Copy the console to stdout and stdin to the console until Ctrl-] or the
 * console closes.  After the end of stdin (a script piped in), the output
 * goes on until the guest has been quiet for a second.
 */
static int
relay(int sock)
{
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = sock, .events = POLLIN },
	};
	char buf[4096];

	for (;;) {
		int ready = poll(pfd, 2, pfd[0].fd < 0 ? 1000 : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return -1;
		if (ready == 0)
			return 0;	/* quiet since the end of stdin */
		if (pfd[1].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n <= 0)
				return 1;	/* QEMU went away */
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				return -1;
		}
		if (pfd[0].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				pfd[0].fd = -1;	/* poll() ignores it now */
				continue;
			}
			char *esc = memchr(buf, ESCAPE_KEY, (size_t)n);
			size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
			if (send(sock, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
				return 1;
			if (esc != NULL)
				return 0;
		}
	}
}

static int
vm_console(int argc, char **argv)
{
	const struct opt none[] = { { 0 } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tty_state tty;
	struct vm vm;
	int r, sock;

	if ((r = sub_args("vm console", "vm console", 1, none,
	    argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if ((r = vm_resolve(argv[optind], &vm)) != EXIT_OK)
		return r;
	if (vm.dir[0] == '\0')
		return fail(EXIT_NOVM, "%s: not a VM that ballonet started",
		    argv[optind]);
	if (vm_file(&vm, "serial.sock", sa.sun_path, sizeof(sa.sun_path)) != 0)
		return fail(EXIT_LOCAL, "%s: socket path too long", vm.name);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		r = fail(EXIT_NOVM, "%s: cannot connect to %s: %m; is the VM "
		    "running, and no other console attached?", vm.name, sa.sun_path);
		if (sock >= 0)
			close(sock);
		return r;
	}
	fprintf(stderr, "ballonet: %s: console attached; Ctrl-] leaves\n",
	    vm.name);
	tty_raw(STDIN_FILENO, &tty);
	r = relay(sock);
	tty_restore(STDIN_FILENO, &tty);
	close(sock);
	if (r > 0)
		return fail(EXIT_GONE, "%s: QEMU closed the console", vm.name);
	return r < 0 ? fail(EXIT_LOCAL, "%s: console: %m", vm.name) : EXIT_OK;
}

/* ---- dispatch ---- */

static const struct subverb {
	const char	*name;
	int		(*run)(int argc, char **argv);
} subverbs[] = {
	{ "start",   vm_start },
	{ "stop",    vm_stop },
	{ "list",    vm_list },
	{ "console", vm_console },
};

int
cmd_vm(const struct verb *verb, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		vm_help();
		return EXIT_OK;
	}
	if (argc < 2)
		return usage_fail(verb->name, "missing subverb: start, stop, list "
		    "or console");
	for (size_t i = 0; i < sizeof(subverbs) / sizeof(subverbs[0]); i++) {
		if (strcmp(argv[1], subverbs[i].name) == 0) {
			optind = 0;
			return subverbs[i].run(argc - 1, argv + 1);
		}
	}
	return usage_fail(verb->name, "unknown subverb '%s'", argv[1]);
}
