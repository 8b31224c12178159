/*
 * ballonet: a small client of QEMU's machine protocol (QMP).
 *
 * One connection per struct qmp.  qmp_connect() reads the greeting and
 * negotiates capabilities; qmp_execute() sends a command with a fresh id
 * and waits for the reply carrying that id.  Asynchronous events may
 * arrive at any time, even before the greeting or between a command and
 * its reply: they are queued, in order, for qmp_next_event().
 *
 * Every function returns a QMP_* status.  Timeouts are in milliseconds;
 * a negative timeout waits forever.
 */
#ifndef BALLONET_HOST_QMP_H
#define BALLONET_HOST_QMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum qmp_status {
	QMP_OK = 0,
	QMP_ESYS,	/* a local call failed: see sys_call and sys_errno */
	QMP_EEOF,	/* QEMU closed the connection */
	QMP_ETIMEDOUT,	/* QEMU did not answer in time */
	QMP_EPROTO,	/* QEMU sent something that is not QMP: see proto */
	QMP_EPEER,	/* QEMU answered with an error: see err_class, err_desc */
};

struct qmp {
	int		 fd;		/* the connected socket, or -1 */
	pid_t		 peer_pid;	/* QEMU's pid (SO_PEERCRED), or 0 */
	char		*buf;		/* bytes received, not yet parsed */
	size_t		 len, cap;	/* bytes used and allocated in buf */
	json_t		*events;	/* queued events, oldest first */
	unsigned long	 next_id;	/* id of the next command */

	const char	*sys_call;	/* QMP_ESYS: the call that failed */
	int		 sys_errno;	/* QMP_ESYS: its errno */
	char		 proto[192];	/* QMP_EPROTO: what was wrong */
	char		 err_class[64];	/* QMP_EPEER: QEMU's error class */
	char		 err_desc[512];	/* QMP_EPEER: QEMU's description */
};

/* Connect to the socket at PATH and negotiate.  On failure Q is closed. */
int qmp_connect(struct qmp *q, const char *path, int timeout_ms);

/* The same over a socket already connected (FD is Q's from now on). */
int qmp_connect_fd(struct qmp *q, int fd, int timeout_ms);

/*
 * Execute CMD with ARGS (an object, or NULL; the reference is stolen).
 * On QMP_OK, *RET (if not NULL) holds a new reference to "return".
 */
int qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret,
    int timeout_ms);

/* Take the next event, waiting for one if none is queued. */
int qmp_next_event(struct qmp *q, json_t **event, int timeout_ms);

void qmp_close(struct qmp *q);

/* OBJ's member KEY, a non-negative integer, into *BYTES; 0, else -1. */
int qmp_get_bytes(json_t *obj, const char *key, uint64_t *bytes);

/*
 * The QOM path of the first virtio-balloon device given on the command
 * line or hot-plugged, with or without an id (qom-list of
 * /machine/peripheral, then /machine/peripheral-anon), into PATH of LEN
 * bytes.  QMP_OK with PATH empty when there is none; otherwise qom-list
 * failed.
 */
int qmp_find_balloon(struct qmp *q, char *path, size_t len, int timeout_ms);

/* Monotonic clock in milliseconds, for deadlines. */
long long qmp_now_ms(void);

#endif /* BALLONET_HOST_QMP_H */
