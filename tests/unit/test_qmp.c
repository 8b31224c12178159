/*
 * The QMP client (host/qmp.c) against a peer on a socketpair that never
 * stops talking: the caller's deadline still holds.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "qmp.h"

#define GREETING	"{\"QMP\": {}}\n{\"return\": {}, \"id\": 0}\n"

/* A child that greets, then sends LINE until the client hangs up. */
static pid_t
flood(int fd, int client, const char *line)
{
	pid_t pid = fork();
	size_t len = strlen(line);

	assert_true(pid >= 0);
	if (pid != 0)
		return pid;
	close(client);
	if (send(fd, GREETING, strlen(GREETING), MSG_NOSIGNAL) < 0)
		_exit(1);
	while (send(fd, line, len, MSG_NOSIGNAL) == (ssize_t)len)
		continue;
	_exit(0);
}

static void
connect_flooded(struct qmp *q, const char *line, pid_t *pid)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*pid = flood(sv[1], sv[0], line);
	close(sv[1]);
	assert_int_equal(qmp_connect_fd(q, sv[0], 2000), QMP_OK);
}

static void
finish(struct qmp *q, pid_t pid)
{
	int status;

	qmp_close(q);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* Events without end: the reply never comes, the command times out. */
static void
execute_times_out_under_events(void **state)
{
	struct qmp q;
	long long start;
	pid_t pid;

	(void)state;
	alarm(20);	/* the old reader never returned */
	connect_flooded(&q, "{\"event\": \"X\", \"data\": {}}\n", &pid);
	start = qmp_now_ms();
	assert_int_equal(qmp_execute(&q, "query-balloon", NULL, NULL, 200),
	    QMP_ETIMEDOUT);
	assert_true(qmp_now_ms() - start < 5000);
	finish(&q, pid);
	alarm(0);
}

/* Replies to others without end: no event comes, the wait times out. */
static void
next_event_times_out_under_replies(void **state)
{
	struct qmp q;
	long long start;
	json_t *event;
	pid_t pid;

	(void)state;
	alarm(20);
	connect_flooded(&q, "{\"return\": {}, \"id\": 999}\n", &pid);
	start = qmp_now_ms();
	assert_int_equal(qmp_next_event(&q, &event, 200), QMP_ETIMEDOUT);
	assert_true(qmp_now_ms() - start < 5000);
	finish(&q, pid);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(execute_times_out_under_events),
		cmocka_unit_test(next_event_times_out_under_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
