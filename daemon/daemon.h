/*
 * ballonetd: the daemon's state, shared by its main loop (ballonetd.c),
 * its control socket (control.c) and its metrics endpoint (metrics.c).
 */
#ifndef BALLONET_DAEMON_DAEMON_H
#define BALLONET_DAEMON_DAEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "policy.h"

/* Exit codes, documented in ballonetd(8). */
enum {
	D_EXIT_OK	= 0,	/* stopped by SIGTERM or SIGINT */
	D_EXIT_USAGE	= 1,	/* bad option or operand */
	D_EXIT_CONFIG	= 2,	/* bad configuration */
	D_EXIT_BACKEND	= 3,	/* the backend could not be opened */
	D_EXIT_LOCAL	= 4,	/* a local failure: sockets, memory */
};

/* One managed VM. */
struct dvm {
	char		 name[BK_NAME_MAX];
	bool		 present;	/* in the backend's last list */
	bool		 stats_on;	/* its stats period was set */
	bool		 have_sample;	/* s is valid */
	bool		 have_prev;	/* prev is valid */
	struct bk_sample s, prev;	/* the latest two samples */
	int64_t		 stats_actual;	/* actual when s's report was new */
	int64_t		 floor_actual;	/* lowest actual since floor_target */
	int64_t		 floor_target;	/* the target floor_actual is for */
	int		 status;	/* BK_* of the last sample */
	char		 problem[BK_ERR_MAX];	/* the last problem reported
						   ("" none): said once */
	int64_t		 min, max, shares;	/* resolved, bytes */
	enum on_exit	 on_exit;
	int64_t		 on_exit_size;
	struct pol_vm	 pv;		/* the policy's view */
	struct pol_track track;
	struct pol_decision last;	/* the last change, and why */
	int64_t		 last_old;	/* its old target, bytes */
	int64_t		 last_time;	/* when (epoch seconds), 0 never */
	char		 why_now[POL_REASON_MAX]; /* the latest reason */
	uint64_t	 changes;	/* targets set */
};

struct daemon {
	struct dconf		 conf;
	const char		*config_path;	/* NULL: none */
	struct backend		*bk;
	const struct policy	*pol;
	struct pol_params	 params;
	struct pol_host		 host;
	struct dvm		*vms;
	size_t			 nvms;
	int64_t			 policy_ms;	/* when the policy last ran */
	int64_t			 retry_ms;	/* backend: not before */
	int64_t			 backoff_ms;	/* backend: next wait */
	uint64_t		 steps, changes, failures;
	bool			 backend_down;
	bool			 react;		/* a guest deflated on its own:
						   step now (pol->on_events) */
	int64_t			 step_ms;	/* when the last step ran */
	int64_t			 started;	/* epoch seconds */
};

/* Log one line (printf-style), with a time stamp. */
void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Where dlog() writes: stderr (PATH NULL), a file, or syslog ("syslog"). */
int dlog_open(const char *path);

/* The state as the control protocol's "status" reply. */
json_t *daemon_status(const struct daemon *d);

/* The state in Prometheus' text format (malloc'ed). */
char *daemon_metrics(const struct daemon *d);

/* Metrics endpoint (metrics.c): ADDR:PORT.  0 or -1 with ERR. */
int metrics_start(const char *addr, char *err, size_t errlen);
void metrics_publish(char *text);	/* takes TEXT */
void metrics_stop(void);

#endif /* BALLONET_DAEMON_DAEMON_H */
