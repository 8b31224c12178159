/*
 * vm console's raw mode (host/tty.c), on a real pseudo-terminal, and on
 * a terminal whose tcgetattr() fails: linked with --wrap=tcgetattr and
 * --wrap=tcsetattr, which pass through unless a test makes them fail or
 * watches them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tty.h"

int __real_tcgetattr(int fd, struct termios *t);
int __real_tcsetattr(int fd, int how, const struct termios *t);

static bool	get_fails;	/* tcgetattr() fails with EIO */
static int	sets;		/* calls of tcsetattr() */

int
__wrap_tcgetattr(int fd, struct termios *t)
{
	if (get_fails) {
		errno = EIO;
		return -1;
	}
	return __real_tcgetattr(fd, t);
}

int
__wrap_tcsetattr(int fd, int how, const struct termios *t)
{
	sets++;
	return __real_tcsetattr(fd, how, t);
}

struct pty {
	int	master, slave;
};

static int
setup(void **state)
{
	static struct pty p;

	get_fails = false;
	sets = 0;
	if (openpty(&p.master, &p.slave, NULL, NULL, NULL) != 0)
		return -1;
	*state = &p;
	return 0;
}

static int
teardown(void **state)
{
	struct pty *p = *state;

	close(p->master);
	close(p->slave);
	return 0;
}

/* A terminal goes raw and comes back as it was. */
static void
raw_and_back(void **state)
{
	struct pty *p = *state;
	struct termios before, during, after;
	struct tty_state st;

	assert_int_equal(__real_tcgetattr(p->slave, &before), 0);
	assert_true(before.c_lflag & ICANON);
	tty_raw(p->slave, &st);
	assert_true(st.raw);
	assert_int_equal(__real_tcgetattr(p->slave, &during), 0);
	assert_false(during.c_lflag & (ICANON | ECHO | ISIG));
	tty_restore(p->slave, &st);
	assert_int_equal(__real_tcgetattr(p->slave, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_iflag, before.c_iflag);
	assert_int_equal(after.c_oflag, before.c_oflag);
	assert_memory_equal(after.c_cc, before.c_cc, sizeof(before.c_cc));
	assert_int_equal(sets, 2);
}

/*
 * A terminal whose mode cannot be read: left alone, and above all not
 * given whatever the struct termios held (the bug of issue 10).
 */
static void
unreadable_mode_left_alone(void **state)
{
	struct pty *p = *state;
	struct termios before, after;
	struct tty_state st;

	assert_int_equal(__real_tcgetattr(p->slave, &before), 0);
	memset(&st, 0, sizeof(st));	/* as garbage would: no ICANON, B0 */
	get_fails = true;
	tty_raw(p->slave, &st);
	get_fails = false;
	assert_false(st.raw);
	tty_restore(p->slave, &st);
	assert_int_equal(sets, 0);
	assert_int_equal(__real_tcgetattr(p->slave, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
}

/* Not a terminal (a script piped in): nothing to do. */
static void
pipe_left_alone(void **state)
{
	struct tty_state st;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	tty_raw(fds[0], &st);
	assert_false(st.raw);
	tty_restore(fds[0], &st);
	assert_int_equal(sets, 0);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(raw_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_mode_left_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(pipe_left_alone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
