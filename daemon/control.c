/*
 * ballonetd: the control socket.
 *
 * A UNIX stream socket; each request is one line of JSON, each reply one
 * line of JSON (ballonetd(8), "CONTROL PROTOCOL"):
 *   {"command":"status"}   -> {"return":{...}}
 *   {"command":"reload"}   -> {"return":{}} or {"error":"..."}
 *   {"command":"version"}  -> {"return":{"version":"..."}}
 * Clients are served from the main loop without blocking it: a client
 * that sends more than a line's worth without a newline, or that does
 * not read its replies, is dropped; when all slots are taken, the
 * oldest client makes room for a new one.
 */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
control_open(struct control *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		c->client[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket left by a daemon that died; a live one answers. */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "control socket %s: another ballonetd "
		    "answers there", path);
		close(c->fd);
		return -1;
	}
	close(c->fd);
	unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(c->fd, 64) != 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

void
control_close(struct control *c)
{
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			close(c->client[i].fd);
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	c->fd = -1;
}

size_t
control_pollfds(const struct control *c, struct pollfd *pfd)
{
	size_t n = 0;

	pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->client[i].fd,
			    .events = POLLIN };
	return n;
}

static void
drop(struct control_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

static void
accept_clients(struct control *c)
{
	int fd;

	while ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) >= 0) {
		int i, oldest = 0;
		for (i = 0; i < CONTROL_CLIENTS && c->client[i].fd >= 0; i++)
			if (c->client[i].serial < c->client[oldest].serial)
				oldest = i;
		if (i == CONTROL_CLIENTS) {
			/* Full: the oldest client goes, so that clients that
			   hold a connection and say nothing cannot lock the
			   operators out. */
			drop(&c->client[oldest]);
			i = oldest;
		}
		c->client[i].fd = fd;
		c->client[i].len = 0;
		c->client[i].serial = ++c->serial;
	}
}

/* Send the whole REPLY line; a client that does not read is dropped. */
static void
reply(struct control_client *cl, json_t *r)
{
	char *text = json_dumps(r, JSON_COMPACT);
	size_t len, off = 0;

	json_decref(r);
	if (text == NULL) {
		drop(cl);
		return;
	}
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: sent by length */
	/* Never wait: a client whose socket buffer is full does not read
	   its replies, and the main loop must not stall for it. */
	while (off < len) {
		ssize_t n = send(cl->fd, text + off, len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		drop(cl);
		break;
	}
	free(text);
}

static json_t *
error_reply(const char *msg)
{
	return json_pack("{s:s}", "error", msg);
}

/* One request line of CL. */
static void
serve(struct control_client *cl, const char *line, size_t len,
    control_handler handler, void *arg)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	const char *cmd = json_string_value(json_object_get(req, "command"));

	if (req == NULL)
		reply(cl, error_reply("not JSON"));
	else if (cmd == NULL)
		reply(cl, error_reply("no \"command\" string"));
	else
		reply(cl, handler(arg, cmd, req));
	json_decref(req);
}

void
control_handle(struct control *c, control_handler handler, void *arg)
{
	accept_clients(c);
	for (int i = 0; i < CONTROL_CLIENTS; i++) {
		struct control_client *cl = &c->client[i];
		ssize_t n;
		char *nl;

		if (cl->fd < 0)
			continue;
		n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len,
		    0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(cl);
			continue;
		}
		if (n > 0)
			cl->len += (size_t)n;
		while (cl->fd >= 0 &&
		    (nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
			size_t used = (size_t)(nl - cl->buf) + 1;
			serve(cl, cl->buf, used - 1, handler, arg);
			if (cl->fd < 0)
				break;
			memmove(cl->buf, cl->buf + used, cl->len - used);
			cl->len -= used;
		}
		if (cl->fd >= 0 && cl->len == sizeof(cl->buf)) {
			reply(cl, error_reply("request longer than 4096 bytes"));
			if (cl->fd >= 0)
				drop(cl);
		}
	}
}
