/*
 * set --wait's loop (host/cli.c, wait_progress()), over QMP and libvirt
 * alike, against a scripted reader: progress lines or a bar, the line
 * when the size is reached, the timeout's advice naming how to look
 * (with --connect's URI or without), a failed read passed through, and a
 * bar's line ended before a failure is told (on a real pseudo-terminal).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"	/* before cmocka.h, whose fail() is a macro */
#include <cmocka.h>

#define MIB	1048576ull

/* The reader's script: sizes in turn, then the last again. */
struct script {
	uint64_t	 sizes[8];
	int		 n, at;
	int		 fail_at;	/* this read fails (-1: none) */
	int		 idles;
};

static int
s_read(void *arg, uint64_t *bytes)
{
	struct script *s = arg;

	if (s->at == s->fail_at) {
		s->at++;
		return (fail)(EXIT_GONE, "vm1: gone during the wait");
	}
	*bytes = s->sizes[s->at < s->n ? s->at : s->n - 1];
	s->at++;
	return EXIT_OK;
}

static int
s_idle(void *arg, int ms)
{
	struct script *s = arg;

	assert_true(ms > 0 && ms <= WAIT_POLL_MS);
	s->idles++;
	return EXIT_OK;
}

/* wait_progress() with stdout and stderr in one file, not a terminal. */
static char out[4096];

static int
captured(const struct waiter *w, uint64_t goal, int timeout_ms)
{
	FILE *f = tmpfile();
	int o = dup(1), e = dup(2), r;
	size_t n;

	assert_non_null(f);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(f), 1);
	dup2(fileno(f), 2);
	r = wait_progress(w, goal, timeout_ms);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return r;
}

static struct waiter
waiter(struct script *s, const char *uri)
{
	return (struct waiter){ .label = "vm1", .uri = uri, .read = s_read,
	    .idle = s_idle, .arg = s };
}

/* Each change is a line; the same size twice is not. */
static void
test_reaches(void **state)
{
	struct script s = { { 1024 * MIB, 1024 * MIB, 512 * MIB, 256 * MIB },
	    4, 0, -1, 0 };
	struct waiter w = waiter(&s, NULL);

	(void)state;
	assert_int_equal(captured(&w, 256 * MIB, 60000), EXIT_OK);
	assert_int_equal(s.at, 4);
	assert_int_equal(s.idles, 3);
	assert_non_null(strstr(out, "actual 1024.0 MiB, target 256.0 MiB\n"));
	assert_non_null(strstr(out, "actual 512.0 MiB, target 256.0 MiB\n"));
	assert_non_null(strstr(out, "actual 256.0 MiB, target 256.0 MiB\n"
	    "vm1: reached 256 MiB in "));
	assert_null(strstr(strstr(out, "1024.0") + 1, "1024.0"));
}

/* Out of time: where it got, and how to look, with or without a URI. */
static void
test_timeout(void **state)
{
	struct script s = { { 1024 * MIB, 900 * MIB }, 2, 0, -1, 0 };
	struct waiter w = waiter(&s, NULL);

	(void)state;
	assert_int_equal(captured(&w, 256 * MIB, 0), EXIT_TIMEOUT);
	assert_int_equal(s.idles, 0);
	assert_non_null(strstr(out, "ballonet: vm1: reached 1 GiB, not "
	    "256 MiB, in 0.0 s; the guest's balloon driver is missing, slow "
	    "or out of memory (see 'ballonet info vm1')\n"));
	s.at = 0;
	w = waiter(&s, "qemu:///system");
	assert_int_equal(captured(&w, 256 * MIB, 0), EXIT_TIMEOUT);
	assert_non_null(strstr(out, "(see 'ballonet --connect qemu:///system "
	    "info vm1')\n"));
}

/* A read that fails ends the wait with its code, told once. */
static void
test_read_fails(void **state)
{
	struct script s = { { 1024 * MIB, 512 * MIB }, 2, 0, 2, 0 };
	struct waiter w = waiter(&s, NULL);

	(void)state;
	assert_int_equal(captured(&w, 256 * MIB, 60000), EXIT_GONE);
	assert_int_equal(s.at, 3);
	assert_non_null(strstr(out, "target 256.0 MiB\n"
	    "ballonet: vm1: gone during the wait\n"));
	assert_null(strstr(out, "reached"));
}

/* On a terminal: a bar, its line ended before the failure is told. */
static void
test_bar_then_failure(void **state)
{
	struct script s = { { 1024 * MIB, 640 * MIB }, 2, 0, 2, 0 };
	struct waiter w = waiter(&s, NULL);
	struct termios raw;
	int master, slave, o = dup(1), e = dup(2), r;
	char buf[1024];
	ssize_t n, got = 0;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	fflush(stdout);
	fflush(stderr);
	dup2(slave, 1);
	dup2(slave, 2);
	r = wait_progress(&w, 256 * MIB, 60000);
	fflush(stdout);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	close(slave);
	while (got < (ssize_t)sizeof(buf) - 1 &&
	    (n = read(master, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(master);
	buf[got] = '\0';
	assert_int_equal(r, EXIT_GONE);
	assert_non_null(strstr(buf, "\r[..............................]   0% "
	    "1024.0 MiB -> 256.0 MiB   "));
	assert_non_null(strstr(buf, "\r[###############...............]  50% "
	    "640.0 MiB -> 256.0 MiB   \nballonet: vm1: gone during the "
	    "wait\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reaches),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_read_fails),
		cmocka_unit_test(test_bar_then_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
