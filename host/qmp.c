/*
 * ballonet: QMP client (see qmp.h).
 *
 * QEMU sends one JSON object per line.  Messages are read into a buffer,
 * split at newlines and sorted: events into the queue, the greeting to
 * qmp_connect(), replies to the qmp_execute() that waits for their id.
 */
#define _GNU_SOURCE
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_MAX_MESSAGE	(16u << 20)	/* bytes; more is not QMP */
#define QMP_MAX_EVENTS	1024		/* queued; older ones are dropped */

long long
qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : qmp_now_ms() + timeout_ms;
}

static int
sys_fail(struct qmp *q, const char *call)
{
	q->sys_call = call;
	q->sys_errno = errno;
	return QMP_ESYS;
}

static int
proto_fail(struct qmp *q, const char *what)
{
	snprintf(q->proto, sizeof(q->proto), "%s", what);
	return QMP_EPROTO;
}

/* Receive more bytes into q->buf, waiting until DEADLINE at most. */
static int
fill(struct qmp *q, long long deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	ssize_t n;
	int r;

	do {
		int wait = -1;
		if (deadline >= 0) {
			long long left = deadline - qmp_now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		r = poll(&pfd, 1, wait);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return sys_fail(q, "poll");
	if (r == 0)
		return QMP_ETIMEDOUT;
	if (q->cap - q->len < 4096) {
		if (q->cap >= QMP_MAX_MESSAGE)
			return proto_fail(q, "a message longer than 16 MiB");
		size_t cap = q->cap ? q->cap * 2 : 8192;
		char *buf = realloc(q->buf, cap);
		if (buf == NULL)
			return sys_fail(q, "realloc");
		q->buf = buf;
		q->cap = cap;
	}
	do {
		n = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return QMP_EEOF;
	if (n < 0)
		return sys_fail(q, "recv");
	q->len += (size_t)n;
	return QMP_OK;
}

/*
 * Decode one line.  Guest statistics that are absent read 2^64-1, which
 * does not fit jansson's integers: such messages are decoded again with
 * every integer as a real.
 */
static int
decode(struct qmp *q, const char *line, size_t len, json_t **msg)
{
	json_error_t err;

	*msg = json_loadb(line, len, 0, &err);
	if (*msg == NULL && strstr(err.text, "too big") != NULL)
		*msg = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, &err);
	if (*msg == NULL)
		return proto_fail(q, err.text);
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return proto_fail(q, "a message that is not a JSON object");
	}
	return QMP_OK;
}

/*
 * Read the next message.  An event is queued and gives *MSG = NULL, so that
 * callers waiting for a reply loop and callers waiting for events look.
 */
static int
next_message(struct qmp *q, json_t **msg, long long deadline)
{
	*msg = NULL;
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl == NULL) {
			/* A peer that never stops talking must not hold us. */
			if (deadline >= 0 && qmp_now_ms() > deadline)
				return QMP_ETIMEDOUT;
			int r = fill(q, deadline);
			if (r != QMP_OK)
				return r;
			continue;
		}
		size_t used = (size_t)(nl - q->buf) + 1;
		size_t len = used;
		while (len > 0 && strchr(" \t\r\n", q->buf[len - 1]) != NULL)
			len--;
		int r = len == 0 ? QMP_OK : decode(q, q->buf, len, msg);
		memmove(q->buf, q->buf + used, q->len - used);
		q->len -= used;
		if (r != QMP_OK)
			return r;
		if (len == 0)
			continue;
		if (json_object_get(*msg, "event") == NULL)
			return QMP_OK;
		if (json_array_size(q->events) >= QMP_MAX_EVENTS)
			json_array_remove(q->events, 0);
		json_array_append_new(q->events, *msg);
		*msg = NULL;
		return QMP_OK;
	}
}

static int
send_all(struct qmp *q, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = send(q->fd, text, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return QMP_EEOF;
		if (n < 0)
			return sys_fail(q, "send");
		text += n;
		len -= (size_t)n;
	}
	return QMP_OK;
}

static int
take_error(struct qmp *q, json_t *error)
{
	const char *class = json_string_value(json_object_get(error, "class"));
	const char *desc = json_string_value(json_object_get(error, "desc"));

	snprintf(q->err_class, sizeof(q->err_class), "%s",
	    class ? class : "GenericError");
	snprintf(q->err_desc, sizeof(q->err_desc), "%s",
	    desc ? desc : "(no description)");
	return QMP_EPEER;
}

int
qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret,
    int timeout_ms)
{
	long long deadline = deadline_of(timeout_ms);
	unsigned long id = q->next_id++;
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id",
	    (json_int_t)id);
	int r;

	if (args != NULL)
		json_object_set_new(msg, "arguments", args);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text == NULL) {
		errno = ENOMEM;
		return sys_fail(q, "json_dumps");
	}
	size_t len = strlen(text);
	text[len] = '\n';	/* json_dumps leaves no room; replace NUL */
	r = send_all(q, text, len + 1);
	free(text);
	while (r == QMP_OK) {
		r = next_message(q, &msg, deadline);
		if (r != QMP_OK)
			break;
		if (msg == NULL)
			continue;	/* an event, queued */
		/* A number: decode() may have turned it into a real. */
		json_t *rid = json_object_get(msg, "id");
		if (!json_is_number(rid) || json_number_value(rid) != (double)id) {
			json_decref(msg);	/* a stale reply: not ours */
			continue;
		}
		json_t *error = json_object_get(msg, "error");
		json_t *value = json_object_get(msg, "return");
		if (error != NULL)
			r = take_error(q, error);
		else if (value == NULL)
			r = proto_fail(q, "a reply with neither return nor error");
		else if (ret != NULL)
			*ret = json_incref(value);
		json_decref(msg);
		return r;
	}
	return r;
}

int
qmp_next_event(struct qmp *q, json_t **event, int timeout_ms)
{
	long long deadline = deadline_of(timeout_ms);
	json_t *msg;

	while (json_array_size(q->events) == 0) {
		int r = next_message(q, &msg, deadline);
		if (r != QMP_OK)
			return r;
		json_decref(msg);	/* a reply nobody waits for */
	}
	*event = json_incref(json_array_get(q->events, 0));
	json_array_remove(q->events, 0);
	return QMP_OK;
}

static int
open_socket(struct qmp *q, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return sys_fail(q, "connect");
	}
	strcpy(sa.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return sys_fail(q, "socket");
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sys_fail(q, "connect");
	if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		q->peer_pid = cred.pid;
	return QMP_OK;
}

static int negotiate(struct qmp *q, int r, long long deadline);

int
qmp_connect(struct qmp *q, const char *path, int timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->events = json_array();
	return negotiate(q, open_socket(q, path), deadline_of(timeout_ms));
}

int
qmp_connect_fd(struct qmp *q, int fd, int timeout_ms)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->events = json_array();
	return negotiate(q, QMP_OK, deadline_of(timeout_ms));
}

/* The greeting, then qmp_capabilities; Q is closed on failure. */
static int
negotiate(struct qmp *q, int r, long long deadline)
{
	json_t *msg = NULL;

	while (r == QMP_OK && msg == NULL)
		r = next_message(q, &msg, deadline);
	if (r == QMP_OK && json_object_get(msg, "QMP") == NULL)
		r = proto_fail(q, "no QMP greeting");
	json_decref(msg);
	if (r == QMP_OK) {
		int left = deadline < 0 ? -1 : (int)(deadline - qmp_now_ms());
		r = qmp_execute(q, "qmp_capabilities", NULL, NULL,
		    left < 0 && deadline >= 0 ? 0 : left);
	}
	if (r != QMP_OK) {
		int saved = errno;
		qmp_close(q);
		errno = saved;
	}
	return r;
}

void
qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
	json_decref(q->events);
	q->events = NULL;
}

/* Is TYPE (from qom-list) a child that is a virtio balloon device? */
static bool
is_balloon(const char *type)
{
	return type != NULL && strncmp(type, "child<virtio-balloon", 20) == 0;
}

int
qmp_find_balloon(struct qmp *q, char *path, size_t len, int timeout_ms)
{
	static const char *const dirs[] = {
		"/machine/peripheral", "/machine/peripheral-anon",
	};

	path[0] = '\0';
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		json_t *list, *child;
		size_t i;
		int r = qmp_execute(q, "qom-list", json_pack("{s:s}", "path",
		    dirs[d]), &list, timeout_ms);
		if (r != QMP_OK)
			return r;
		json_array_foreach(list, i, child) {
			const char *type = json_string_value(
			    json_object_get(child, "type"));
			const char *name = json_string_value(
			    json_object_get(child, "name"));
			if (!is_balloon(type) || name == NULL)
				continue;
			snprintf(path, len, "%s/%s", dirs[d], name);
			json_decref(list);
			return QMP_OK;
		}
		json_decref(list);
	}
	return QMP_OK;
}

int
qmp_get_bytes(json_t *obj, const char *key, uint64_t *bytes)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*bytes = (uint64_t)json_integer_value(v);
	return 0;
}
