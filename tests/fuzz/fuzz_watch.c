/*
 * libFuzzer: `ballonet watch` (host/cmd_watch.c over host/qmp.c) against a
 * hostile QEMU.  The first input byte picks the options (--json, --count
 * 0..7) and whether a well-formed greeting and qmp_capabilities reply come
 * first; the rest is what "QEMU" sends, from a thread serving a real UNIX
 * socket the verb connects to by path, as it does to QEMU's.  The thread
 * closes its side when it has sent everything.
 *
 * It must neither crash, leak nor hang (libFuzzer's -timeout), and keep to
 * ballonet.1: every line it prints is one event, "TIME.USECZ actual SIZE"
 * with a size that parses, or with --json an object of a number "time"
 * and an integer "actual" of bytes; no more lines than --count; with
 * --count N and exit status 0, exactly N lines; any other end is one of
 * the documented exit statuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "size.h"

#define OUT_MAX		(1u << 20)	/* bytes of stdout we look at */

/* main.c's --connect: none, so the verb speaks QMP on the socket. */
const char *connect_uri;

static const char canned[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
    "\"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
    "{\"return\": {}, \"id\": 0}\r\n";

static char dir[] = "/tmp/fuzz_watch.XXXXXX";
static char sock_path[64], run_dir[64];
static int listen_fd = -1, out_fd = -1, null_fd = -1;
static int saved_out = -1, saved_err = -1;
static regex_t text_line;

struct peer {
	const uint8_t	*data;
	size_t		 size;
	bool		 canned;
	volatile bool	 done;	/* the verb returned: stop waiting for it */
};

static void
die(const char *why, const char *line)
{
	fprintf(stderr, "fuzz_watch: %s%s%s\n", why, line ? ": " : "",
	    line ? line : "");
	abort();
}

static void
cleanup(void)
{
	unlink(sock_path);
	rmdir(run_dir);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/qmp.sock", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	if (mkdir(run_dir, 0700) != 0)
		abort();
	atexit(cleanup);
	/* No VM of ours: the verb takes the path as a QMP socket. */
	setenv("BALLONET_RUNDIR", run_dir, 1);
	strcpy(sa.sun_path, sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0 || listen(listen_fd, 4) != 0)
		abort();
	/* stdout goes to a memory file; the verb's errors to /dev/null. */
	if ((out_fd = memfd_create("fuzz_watch", MFD_CLOEXEC)) < 0 ||
	    (null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
	    (saved_out = dup(STDOUT_FILENO)) < 0 ||
	    (saved_err = dup(STDERR_FILENO)) < 0)
		abort();
	/* Sanitizer reports still reach the real stderr. */
	__sanitizer_set_report_fd((void *)(intptr_t)saved_err);
	if (regcomp(&text_line, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{6}Z actual ([0-9]+ [KMGT]?i?B)$",
	    REG_EXTENDED) != 0)
		abort();
	return 0;
}

/* QEMU: send everything, close for writing, read until the client goes. */
static void *
serve(void *arg)
{
	struct peer *p = arg;
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	char buf[4096];
	int fd;

	/* The verb may fail before it connects. */
	while (poll(&pfd, 1, 20) == 0)
		if (p->done)
			return NULL;
	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return NULL;
	if ((!p->canned || send(fd, canned, sizeof(canned) - 1,
	    MSG_NOSIGNAL) >= 0) && p->size > 0)
		(void)send(fd, p->data, p->size, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		continue;
	close(fd);
	return NULL;
}

static void
check_json_line(const char *line)
{
	json_error_t err;
	json_t *o = json_loads(line, 0, &err), *actual;

	if (o == NULL || !json_is_object(o) || json_object_size(o) != 2 ||
	    !json_is_number(json_object_get(o, "time")))
		die("not an event object", line);
	actual = json_object_get(o, "actual");
	if (!json_is_integer(actual) || json_integer_value(actual) < 0)
		die("actual is not a number of bytes", line);
	json_decref(o);
}

static void
check_text_line(const char *line)
{
	regmatch_t m[2];
	char size[64];
	uint64_t bytes;
	size_t n;

	if (regexec(&text_line, line, 2, m, 0) != 0)
		die("not an event line", line);
	n = (size_t)(m[1].rm_eo - m[1].rm_so);
	if (n >= sizeof(size))
		die("a size too long", line);
	memcpy(size, line + m[1].rm_so, n);
	size[n] = '\0';
	/* "512 MiB" for people; the parser takes "512MiB". */
	memmove(strchr(size, ' '), strchr(size, ' ') + 1,
	    strlen(strchr(size, ' ')));
	if (size_parse(size, &bytes) != 0)
		die("a size that does not parse", line);
}

/* The lines the verb printed; returns how many. */
static long
check_output(bool json)
{
	static char out[OUT_MAX + 1];
	ssize_t n = pread(out_fd, out, OUT_MAX, 0);
	char *line, *nl;
	long lines = 0;

	if (n < 0)
		abort();
	out[n] = '\0';
	if (n > 0 && out[n - 1] != '\n')
		die("output ends inside a line", NULL);
	for (line = out; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (json)
			check_json_line(line);
		else
			check_text_line(line);
		lines++;
	}
	return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct verb verb = { "watch", cmd_watch, "" };
	struct peer p;
	char count[8], *argv[8];
	pthread_t t;
	long lines;
	int argc = 0, r;
	bool json;

	if (size == 0)
		return 0;
	p = (struct peer){ data + 1, size - 1, (data[0] & 1) == 0, false };
	json = (data[0] & 2) != 0;
	snprintf(count, sizeof(count), "%d", (data[0] >> 2) & 7);
	argv[argc++] = "watch";
	argv[argc++] = sock_path;
	if (((data[0] >> 2) & 7) != 0) {
		argv[argc++] = "--count";
		argv[argc++] = count;
	}
	argv[argc++] = "--timeout";
	argv[argc++] = "30";
	if (json)
		argv[argc++] = "--json";
	argv[argc] = NULL;

	if (ftruncate(out_fd, 0) != 0 || lseek(out_fd, 0, SEEK_SET) != 0)
		abort();
	if (pthread_create(&t, NULL, serve, &p) != 0)
		abort();
	fflush(stdout);
	dup2(out_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	optind = 0;
	r = cmd_watch(&verb, argc, argv);
	fflush(stdout);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	if (getenv("FUZZ_WATCH_DEBUG") != NULL)
		fprintf(stderr, "fuzz_watch: exit status %d\n", r);
	p.done = true;
	pthread_join(t, NULL);

	lines = check_output(json);
	switch (r) {
	case EXIT_OK:
		if (((data[0] >> 2) & 7) != 0 && lines != ((data[0] >> 2) & 7))
			die("exit 0 without --count lines", NULL);
		break;
	case EXIT_NOVM: case EXIT_QEMU: case EXIT_TIMEOUT: case EXIT_GONE:
	case EXIT_LOCAL:
		break;
	default:
		die("an undocumented exit status", NULL);
	}
	if (((data[0] >> 2) & 7) != 0 && lines > ((data[0] >> 2) & 7))
		die("more lines than --count", NULL);
	return 0;
}
