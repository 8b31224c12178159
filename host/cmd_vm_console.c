/*
 * ballonet vm console: attach the terminal to a VM's serial console.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "tty.h"

#define ESCAPE_KEY	0x1d	/* Ctrl-]: leave the console */

static const struct usage usage = {
	.operands = "NAME", .min_args = 1, .max_args = 1,
	.about =
	    "Attach the terminal to the serial console (raw mode on a\n"
	    "terminal); Ctrl-] leaves.  QEMU serves one console client at a\n"
	    "time.\n",
};

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

int
cmd_vm_console(const struct verb *verb, int argc, char **argv)
{
	const struct opt none[] = { OPT_END() };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tty_state tty;
	struct vm vm;
	int r, sock;

	if ((r = parse_args(verb, &usage, none, argc, argv)) != EXIT_OK)
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
