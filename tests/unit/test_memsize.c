/*
 * host/memsize.c: how a logical size is split between the balloon and
 * virtio-mem (pure), and what it sends, in which order, to a scripted
 * QMP peer on a socketpair that answers like QEMU 7.2.
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

#include "memsize.h"

#define MiB	(1024ull * 1024)
#define GiB	(1024 * MiB)

static const struct memsize vmem = {
	.boot = 1 * GiB, .actual = 1 * GiB, .vmem = true, .id = "vm0",
	.region = 4 * GiB, .block = 2 * MiB,
};

static void
plan_balloon_only(void **state)
{
	struct memsize m = { .boot = 1 * GiB, .actual = 1 * GiB };
	struct memsize_plan p;

	(void)state;
	assert_int_equal(memsize_plan(&m, 0, &p), MEMSIZE_ZERO);
	assert_int_equal(memsize_plan(&m, 1 * GiB + 1, &p), MEMSIZE_ABOVE_RAM);
	assert_int_equal(memsize_plan(&m, 512 * MiB + 100, &p), MEMSIZE_OK);
	assert_int_equal(p.balloon, 512 * MiB + 100);
	assert_int_equal(p.hot, 0);
	/* The balloon moves whole pages: what is left is rounded up. */
	assert_int_equal(p.goal, 512 * MiB + 4096);
	assert_int_equal(memsize_max(&m), 1 * GiB);
	m.plugged = 64 * MiB;	/* no device: not counted */
	assert_int_equal(memsize_logical(&m), 1 * GiB);
}

static void
plan_virtio_mem(void **state)
{
	struct memsize m = vmem;
	struct memsize_plan p;

	(void)state;
	assert_int_equal(memsize_max(&m), 5 * GiB);
	assert_int_equal(memsize_plan(&m, 3 * GiB, &p), MEMSIZE_OK);
	assert_int_equal(p.hot, 2 * GiB);
	assert_int_equal(p.balloon, 1 * GiB);
	assert_int_equal(p.goal, 3 * GiB);
	/* Whole blocks, rounded up: the guest gets at least SIZE. */
	assert_int_equal(memsize_plan(&m, 1 * GiB + 1, &p), MEMSIZE_OK);
	assert_int_equal(p.hot, 2 * MiB);
	assert_int_equal(p.goal, 1 * GiB + 2 * MiB);
	assert_int_equal(memsize_plan(&m, 5 * GiB, &p), MEMSIZE_OK);
	assert_int_equal(p.hot, 4 * GiB);
	assert_int_equal(memsize_plan(&m, 5 * GiB + 1, &p), MEMSIZE_ABOVE_MAX);
	/* At or below the boot RAM: nothing plugged, the balloon's. */
	assert_int_equal(memsize_plan(&m, 1 * GiB, &p), MEMSIZE_OK);
	assert_int_equal(p.hot, 0);
	assert_int_equal(p.balloon, 1 * GiB);
	m.actual = 768 * MiB;
	m.plugged = 256 * MiB;
	assert_int_equal(memsize_logical(&m), 1 * GiB);
	/* A hostile block and region (QEMU's integers go to 2^63 - 1): the
	   rounding up must not wrap to a few blocks. */
	m.block = (uint64_t)INT64_MAX;
	m.region = (uint64_t)INT64_MAX;
	assert_int_equal(memsize_plan(&m, UINT64_MAX, &p), MEMSIZE_ABOVE_MAX);
	assert_int_equal(memsize_plan(&m, 2 * GiB, &p), MEMSIZE_OK);
	assert_true(p.hot == m.block && p.goal == m.boot + m.block);
	m.region = (uint64_t)INT64_MAX - 1;	/* one block does not fit */
	assert_int_equal(memsize_plan(&m, 2 * GiB, &p), MEMSIZE_ABOVE_MAX);
}

/*
 * The peer: greets, then answers each command by its id as QEMU would
 * (a virtio-mem device vm0 of 4 GiB with PLUGGED bytes plugged, 1 GiB of
 * RAM, 1 GiB actual), and writes one line per command to LOG: its name,
 * with qom-set's and balloon's value.
 */
static void
peer(int fd, int log, long long plugged)
{
	char buf[8192];
	size_t len = 0;
	ssize_t n;

	if (write(fd, "{\"QMP\": {}}\n", 12) != 12)
		_exit(1);
	while ((n = read(fd, buf + len, sizeof(buf) - len - 1)) > 0) {
		char *nl;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			json_t *cmd, *reply, *ret;
			const char *name;
			char line[128];

			*nl = '\0';
			cmd = json_loads(buf, 0, NULL);
			memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
			len = strlen(buf);
			if (cmd == NULL)
				_exit(2);
			name = json_string_value(json_object_get(cmd,
			    "execute"));
			if (strcmp(name, "query-memory-size-summary") == 0)
				ret = json_pack("{s:I}", "base-memory",
				    (json_int_t)GiB);
			else if (strcmp(name, "query-balloon") == 0)
				ret = json_pack("{s:I}", "actual",
				    (json_int_t)GiB);
			else if (strcmp(name, "query-memory-devices") == 0)
				ret = json_pack("[{s:s, s:{s:s, s:I, s:I, "
				    "s:I, s:I}}]", "type", "virtio-mem",
				    "data", "id", "vm0", "size", plugged,
				    "requested-size", plugged, "max-size",
				    (json_int_t)(4 * GiB), "block-size",
				    (json_int_t)(2 * MiB));
			else
				ret = json_object();
			json_t *args = json_object_get(cmd, "arguments");
			json_t *value = json_object_get(args, "value");
			if (json_is_integer(value))
				snprintf(line, sizeof(line), "%s %lld\n", name,
				    (long long)json_integer_value(value));
			else
				snprintf(line, sizeof(line), "%s\n", name);
			if (write(log, line, strlen(line)) < 0)
				_exit(3);
			reply = json_pack("{s:o, s:O}", "return", ret, "id",
			    json_object_get(cmd, "id"));
			char *text = json_dumps(reply, JSON_COMPACT);
			size_t tl = strlen(text);
			if (write(fd, text, tl) != (ssize_t)tl ||
			    write(fd, "\n", 1) != 1)
				_exit(4);
			free(text);
			json_decref(reply);
			json_decref(cmd);
		}
	}
	_exit(0);
}

/* Query, plan SIZE and apply it against a peer; what it was sent. */
static void
run(long long plugged, uint64_t size, char *sent, size_t len)
{
	int sv[2], lp[2], status;
	struct memsize_plan p;
	struct memsize m;
	struct qmp q;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(lp), 0);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		close(lp[0]);
		peer(sv[1], lp[1], plugged);
	}
	assert_true(pid > 0);
	close(sv[1]);
	close(lp[1]);
	assert_int_equal(qmp_connect_fd(&q, sv[0], 2000), QMP_OK);
	assert_int_equal(memsize_query(&q, &m, 2000), QMP_OK);
	assert_true(m.vmem);
	assert_int_equal(m.plugged, (uint64_t)plugged);
	assert_int_equal(memsize_logical(&m), GiB + (uint64_t)plugged);
	assert_int_equal(memsize_plan(&m, size, &p), MEMSIZE_OK);
	assert_int_equal(memsize_apply(&q, &m, &p, 2000), QMP_OK);
	qmp_close(&q);
	while (got < len - 1 && (n = read(lp[0], sent + got,
	    len - 1 - got)) > 0)
		got += (size_t)n;
	sent[got] = '\0';
	close(lp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The part after the queries (and qmp_capabilities). */
static const char *
requests(const char *sent)
{
	const char *s = strstr(sent, "query-balloon\n");

	assert_non_null(s);
	return s + strlen("query-balloon\n");
}

/* Growing: virtio-mem first, then the balloon emptied. */
static void
apply_grow(void **state)
{
	char sent[1024];

	(void)state;
	run(0, 3 * GiB, sent, sizeof(sent));
	assert_string_equal(requests(sent),
	    "qom-set 2147483648\nballoon 1073741824\n");
}

/* Shrinking below the boot RAM: the balloon first, then unplug. */
static void
apply_shrink(void **state)
{
	char sent[1024];

	(void)state;
	run(1 * GiB, 512 * MiB, sent, sizeof(sent));
	assert_string_equal(requests(sent),
	    "balloon 536870912\nqom-set 0\n");
}

/* No change of requested-size: none is sent. */
static void
apply_balloon_only(void **state)
{
	char sent[1024];

	(void)state;
	run(0, 768 * MiB, sent, sizeof(sent));
	assert_string_equal(requests(sent), "balloon 805306368\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan_balloon_only),
		cmocka_unit_test(plan_virtio_mem),
		cmocka_unit_test(apply_grow),
		cmocka_unit_test(apply_shrink),
		cmocka_unit_test(apply_balloon_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
