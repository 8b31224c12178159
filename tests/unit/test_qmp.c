/*
 * The QMP client (host/qmp.c) against a peer on a socketpair that never
 * stops talking: the caller's deadline still holds.  And
 * qmp_find_balloon() against a peer that answers each qom-list from a
 * script.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * A child that greets, then answers each command after qmp_capabilities
 * with the next of REPLIES (a "return" value, or an "error" object when
 * it starts with "!"), under the command's id.
 */
static pid_t
scripted(int fd, int client, const char *const *replies)
{
	pid_t pid = fork();
	char *line = NULL, out[1024];
	size_t cap = 0;
	FILE *in;
	int n = 0;

	assert_true(pid >= 0);
	if (pid != 0)
		return pid;
	close(client);
	if ((in = fdopen(dup(fd), "r")) == NULL ||
	    send(fd, GREETING, strlen(GREETING), MSG_NOSIGNAL) < 0)
		_exit(1);
	while (getline(&line, &cap, in) > 0) {
		json_t *msg = json_loads(line, 0, NULL);
		json_int_t id = json_integer_value(json_object_get(msg, "id"));
		const char *r;

		json_decref(msg);
		if (id == 0)
			continue;	/* qmp_capabilities: in the greeting */
		r = replies[n] != NULL ? replies[n++] : "{}";
		if (r[0] == '!')
			snprintf(out, sizeof(out), "{\"error\": %s, \"id\": %lld}"
			    "\n", r + 1, (long long)id);
		else
			snprintf(out, sizeof(out), "{\"return\": %s, \"id\": "
			    "%lld}\n", r, (long long)id);
		if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0)
			break;
	}
	_exit(0);
}

/* qmp_find_balloon() over REPLIES; its status, the path in PATH. */
static int
find_with(const char *const *replies, char *path, size_t len)
{
	struct qmp q;
	int sv[2], r;
	pid_t pid;

	alarm(20);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = scripted(sv[1], sv[0], replies);
	close(sv[1]);
	assert_int_equal(qmp_connect_fd(&q, sv[0], 2000), QMP_OK);
	r = qmp_find_balloon(&q, path, len, 2000);
	finish(&q, pid);
	alarm(0);
	return r;
}

/* With an id, without, after other devices, or none at all. */
static void
find_balloon_paths(void **state)
{
	static const char *const with_id[] = {
		"[{\"name\": \"type\", \"type\": \"string\"}, "
		"{\"name\": \"b0\", \"type\": \"child<virtio-balloon-pci>\"}]",
		NULL,
	};
	static const char *const anon[] = {
		"[{\"name\": \"vm0\", \"type\": \"child<virtio-mem-pci>\"}, "
		"{\"type\": \"child<virtio-balloon-pci>\"}]",
		"[{\"name\": \"device[0]\", "
		"\"type\": \"child<virtio-balloon-device>\"}]",
		NULL,
	};
	static const char *const none[] = {
		"[{\"name\": \"vm0\", \"type\": \"child<virtio-mem-pci>\"}]",
		"[]", NULL,
	};
	static const char *const refused[] = {
		"!{\"class\": \"GenericError\", \"desc\": \"no\"}", NULL,
	};
	char path[64];

	(void)state;
	assert_int_equal(find_with(with_id, path, sizeof(path)), QMP_OK);
	assert_string_equal(path, "/machine/peripheral/b0");
	/* A balloon child without a name is passed over. */
	assert_int_equal(find_with(anon, path, sizeof(path)), QMP_OK);
	assert_string_equal(path, "/machine/peripheral-anon/device[0]");
	assert_int_equal(find_with(none, path, sizeof(path)), QMP_OK);
	assert_string_equal(path, "");
	assert_int_equal(find_with(refused, path, sizeof(path)), QMP_EPEER);
	assert_string_equal(path, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(execute_times_out_under_events),
		cmocka_unit_test(next_event_times_out_under_replies),
		cmocka_unit_test(find_balloon_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
