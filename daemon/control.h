/*
 * ballonetd: the control socket (see control.c for the protocol).
 */
#ifndef BALLONET_DAEMON_CONTROL_H
#define BALLONET_DAEMON_CONTROL_H

#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>

#define CONTROL_CLIENTS	8

struct control_client {
	int		fd;		/* -1: free slot */
	char		buf[4096];	/* a request line being read */
	size_t		len;		/* bytes in buf */
	unsigned long	serial;		/* accept order: the oldest goes
					   first when all slots are taken */
};

struct control {
	int			fd;	/* the listening socket */
	char			path[PATH_MAX];
	struct control_client	client[CONTROL_CLIENTS];
	unsigned long		serial;	/* of the last client accepted */
};

/* Handle command CMD of request REQ; returns the reply (a new ref). */
typedef json_t *(*control_handler)(void *arg, const char *cmd, json_t *req);

/* Listen on PATH (an old socket nobody answers on is replaced). */
int control_open(struct control *c, const char *path, char *err,
    size_t errlen);
void control_close(struct control *c);

/* The descriptors to poll into PFD (1 + CONTROL_CLIENTS at most). */
size_t control_pollfds(const struct control *c, struct pollfd *pfd);

/* Accept and serve whatever is ready, without blocking. */
void control_handle(struct control *c, control_handler handler, void *arg);

#endif /* BALLONET_DAEMON_CONTROL_H */
