/*
 * ballonet top: ballonetd's view of every VM it manages, live.
 *
 * It asks the daemon's control socket for {"command":"status"} (see
 * ballonetd(8), CONTROL PROTOCOL) every interval and draws a table: the
 * target, actual size, the guest's free memory, QEMU's RSS, the state,
 * and the last decision with its reason.  --json prints the status once.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "size.h"

#define TOP_TIMEOUT_MS	10000	/* for one status reply */

static const struct usage usage = {
	.operands = "", .min_args = 0, .max_args = 0,
	.about =
	    "Show every VM that ballonetd manages: its target, actual size,\n"
	    "the guest's free memory, QEMU's resident set, its state (short\n"
	    "of memory, left alone and why) and the daemon's last decision\n"
	    "with its reason, refreshed every interval; the host's available\n"
	    "memory and pressure on top.  Talks to ballonetd's control socket\n"
	    "(RUNDIR/ballonetd.sock unless --socket).\n",
};

/* One request, one reply line: the reply's "return", or an exit code. */
static int
request(const char *path, json_t **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"command\":\"status\"}\n";
	char buf[65536];
	size_t len = 0;
	long long deadline = qmp_now_ms() + TOP_TIMEOUT_MS;
	json_error_t jerr;
	json_t *reply;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(EXIT_USAGE, "top: socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return fail(EXIT_LOCAL, "top: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return fail(EXIT_NOVM, "top: no ballonetd answers on %s (%s); "
		    "is it running?", path, strerror(e));
	}
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1) {
		close(fd);
		return fail(EXIT_NOVM, "top: ballonetd on %s closed the "
		    "connection", path);
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - qmp_now_ms();
		ssize_t n;

		if (memchr(buf, '\n', len) != NULL)
			break;
		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			close(fd);
			return fail(EXIT_TIMEOUT, "top: ballonetd on %s did not "
			    "answer in %d s", path, TOP_TIMEOUT_MS / 1000);
		}
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0 || len + (size_t)n >= sizeof(buf) - 1) {
			close(fd);
			return fail(EXIT_NOVM, "top: ballonetd on %s sent %s",
			    path, n <= 0 ? "no reply" : "a reply too long");
		}
		len += (size_t)n;
	}
	close(fd);
	reply = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', len) - buf),
	    0, &jerr);
	*ret = json_incref(json_object_get(reply, "return"));
	json_decref(reply);
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		return fail(EXIT_NOVM, "top: %s does not speak ballonetd's "
		    "protocol", path);
	}
	return EXIT_OK;
}

/* A size in MiB, "-" for null. */
static const char *
mib(json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		return "-";
	snprintf(buf, len, "%lld", (long long)(json_integer_value(v) >>
	    20));
	return buf;
}

static void
draw(json_t *st, bool clear)
{
	json_t *host = json_object_get(st, "host"), *vms, *v, *last;
	char a[32], b[32], c[32], d[32], when[16];
	size_t i;

	if (clear)
		printf("\033[H\033[2J");
	printf("ballonetd: policy %s, backend %s%s, budget %s MiB, reserve %s "
	    "MiB; host available %s MiB, memory pressure %.2f%%\n",
	    json_string_value(json_object_get(st, "policy")),
	    json_string_value(json_object_get(st, "backend")),
	    json_is_false(json_object_get(st, "backend_ok")) ? " (failing)" : "",
	    json_is_integer(json_object_get(st, "budget")) ?
	    mib(json_object_get(st, "budget"), a, sizeof(a)) : "no",
	    mib(json_object_get(st, "reserve"), b, sizeof(b)),
	    mib(json_object_get(host, "mem_available"), c, sizeof(c)),
	    json_number_value(json_object_get(host, "psi_some_avg10")));
	printf("%-16s %7s %7s %7s %7s %-13s %s\n", "VM", "TARGET", "ACTUAL",
	    "FREE", "RSS", "STATE", "LAST DECISION (MiB)");
	vms = json_object_get(st, "vms");
	json_array_foreach(vms, i, v) {
		last = json_object_get(v, "last");
		printf("%-16.16s %7s %7s %7s %7s %-13s ",
		    json_string_value(json_object_get(v, "name")),
		    mib(json_object_get(v, "target"), a, sizeof(a)),
		    mib(json_object_get(v, "actual"), b, sizeof(b)),
		    mib(json_object_get(v, "free"), c, sizeof(c)),
		    mib(json_object_get(v, "rss"), d, sizeof(d)),
		    json_string_value(json_object_get(v, "state")));
		if (json_is_object(last))
			printf("%s %s -> %s: %s\n", utc_format(when,
			    sizeof(when), "%H:%M:%S", (time_t)json_integer_value(
			    json_object_get(last, "time"))),
			    mib(json_object_get(last, "old"), a, sizeof(a)),
			    mib(json_object_get(last, "new"), b, sizeof(b)),
			    json_string_value(json_object_get(last, "reason")));
		else
			printf("none yet: %s\n", json_string_value(
			    json_object_get(v, "reason")));
	}
	fflush(stdout);
}

int
cmd_top(const struct verb *verb, int argc, char **argv)
{
	int interval_ms = 2000, r;
	long count = 0;
	bool json = false;
	const char *socket_path = NULL;
	char path[PATH_MAX];
	const struct opt opts[] = {
		OPT_SECONDS('i', "interval", &interval_ms, 1,
		    "refresh every S seconds (default 2)"),
		OPT_COUNT('n', "count", &count, "stop after N refreshes"),
		OPT_STRING('s', "socket", &socket_path, "PATH",
		    "ballonetd's control socket (default "
		    "RUNDIR/ballonetd.sock)"),
		OPT_FLAG('j', "json", &json, "print ballonetd's status once, "
		    "as one JSON object (the \"return\" of its status reply)"),
		OPT_END()
	};

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (socket_path == NULL) {
		char root[PATH_MAX - 32];
		if (rundir_root(root, sizeof(root)) != 0)
			return fail(EXIT_LOCAL, "top: the run directory's path "
			    "is too long");
		snprintf(path, sizeof(path), "%s/ballonetd.sock", root);
		socket_path = path;
	}
	for (long n = 0; json || count == 0 || n < count; n++) {
		json_t *st;
		if ((r = request(socket_path, &st)) != EXIT_OK)
			return r;
		if (json) {
			print_json(st);
			return EXIT_OK;
		}
		draw(st, isatty(STDOUT_FILENO));
		json_decref(st);
		if (count != 0 && n + 1 >= count)
			break;
		usleep((useconds_t)interval_ms * 1000);
	}
	return EXIT_OK;
}
