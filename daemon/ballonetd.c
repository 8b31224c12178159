/*
 * ballonetd: the host daemon that moves memory between guests.
 *
 * One loop: poll the backend's events, the control socket, the signals
 * and a timer.  Each step lists the VMs, samples them, reads the host
 * (collect.c), lets the policy decide (policy.c) and applies the changed
 * targets, shrinking ones first.  The decisions are pure; everything that
 * can fail (a VM gone mid-step, a backend that fails) is handled here:
 * the VM is forgotten, the backend retried with backoff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "control.h"
#include "daemon.h"
#include "qmp.h"
#include "rundir.h"
#include "size.h"

#ifndef BALLONET_VERSION
#define BALLONET_VERSION "0.1"
#endif

#define DEFAULT_CONFIG	"/etc/ballonet/ballonetd.conf"
#define QMP_TIMEOUT_MS	5000		/* one request to one VM */
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	60000
#define DEFAULT_SHARES	1000
#define REACT_GAP_MS	100		/* between steps started by events */
#define DEFAULT_MIN	(128 * MIB)	/* or a quarter of the boot RAM, the larger */

/* What the command line sets; it wins over the file, also on reload. */
struct overrides {
	const char	*policy, *connect, *control, *metrics;
	int64_t		 budget, reserve;
	int		 interval_ms;
};

static FILE *logf_;
static bool log_syslog;

void
dlog(const char *fmt, ...)
{
	char msg[1024], when[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(LOG_INFO, "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(logf_ ? logf_ : stderr, "%s.%03ldZ ballonetd: %s\n", when,
	    ts.tv_nsec / 1000000, msg);
	fflush(logf_ ? logf_ : stderr);
}

int
dlog_open(const char *path)
{
	if (path == NULL)
		return 0;
	if (strcmp(path, "syslog") == 0) {
		openlog("ballonetd", LOG_PID, LOG_DAEMON);
		log_syslog = true;
		return 0;
	}
	if ((logf_ = fopen(path, "a")) == NULL)
		return -1;
	return 0;
}

static void
help(void)
{
	printf("ballonetd [OPTIONS]\n"
	    "\n"
	    "Move memory between the guests of this host by ballooning:\n"
	    "every VM of ballonet's run directory and the QMP sockets the\n"
	    "configuration names, or libvirt's domains with --connect.\n"
	    "\n"
	    "  -c, --config FILE    configuration (default %s, if present)\n"
	    "  -C, --connect URI    libvirt instead of QMP (qemu:///system)\n"
	    "  -p, --policy NAME    %s (default ours)\n"
	    "  -b, --budget SIZE    what the managed VMs may hold together\n"
	    "  -r, --reserve SIZE   MemAvailable the host keeps (256M)\n"
	    "  -i, --interval S     seconds between steps (2)\n"
	    "  -s, --socket PATH    control socket (RUNDIR/ballonetd.sock)\n"
	    "  -m, --metrics ADDR:PORT  Prometheus endpoint (off)\n"
	    "  -l, --log FILE       log there (\"syslog\"; default stderr)\n"
	    "  -f, --foreground     do not detach\n"
	    "  -n, --check          check the configuration and exit\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "Exit status: 0 stopped by a signal (or --check passed), 1 usage,\n"
	    "2 bad configuration, 3 backend unavailable, 4 local failure.\n"
	    "See ballonetd(8).\n", DEFAULT_CONFIG, policy_names());
}

static int
usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ballonetd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see ballonetd --help\n");
	return D_EXIT_USAGE;
}

static long long
now_ms(void)
{
	return qmp_now_ms();
}

static const char *
mib(int64_t bytes, char *buf, size_t len)
{
	if (bytes < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%lld MiB", (long long)(bytes / MIB));
	return buf;
}

/* Load the configuration (PATH may be NULL) with the overrides. */
static int
load_config(const char *path, bool must_exist, const struct overrides *o,
    struct dconf *c, char *err, size_t errlen)
{
	dconf_init(c);
	if (path != NULL && (must_exist || access(path, F_OK) == 0) &&
	    dconf_load(path, c, err, errlen) != 0)
		return -1;
	if (o->policy != NULL)
		snprintf(c->policy, sizeof(c->policy), "%s", o->policy);
	if (policy_find(c->policy) == NULL) {
		snprintf(err, errlen, "--policy %s: none of %s", c->policy,
		    policy_names());
		dconf_free(c);
		return -1;
	}
	if (o->connect != NULL)
		snprintf(c->connect, sizeof(c->connect), "%s", o->connect);
	if (o->control != NULL)
		snprintf(c->control, sizeof(c->control), "%s", o->control);
	if (o->metrics != NULL)
		snprintf(c->metrics, sizeof(c->metrics), "%s", o->metrics);
	if (o->budget > 0)
		c->budget = o->budget;
	if (o->reserve >= 0)
		c->reserve = o->reserve;
	if (o->interval_ms > 0)
		c->interval_ms = o->interval_ms;
	if (c->control[0] == '\0') {
		char root[PATH_MAX - 32];
		if (rundir_root(root, sizeof(root)) != 0) {
			snprintf(err, errlen, "the run directory's path is too "
			    "long");
			dconf_free(c);
			return -1;
		}
		snprintf(c->control, sizeof(c->control), "%s/ballonetd.sock",
		    root);
	}
	for (size_t i = 0; i < c->nvms; i++)
		if (c->connect[0] != '\0' && c->vms[i].socket[0] != '\0') {
			snprintf(err, errlen, "VM %s: a QMP socket and --connect "
			    "%s do not go together", c->vms[i].name, c->connect);
			dconf_free(c);
			return -1;
		}
	return 0;
}

static struct backend *
open_backend(const struct dconf *c, char *err, size_t errlen)
{
	struct bk_qmp_socket socks[c->nvms > 0 ? c->nvms : 1];
	size_t n = 0;

	if (c->connect[0] != '\0')
		return backend_libvirt_open(c->connect, QMP_TIMEOUT_MS, err,
		    errlen);
	for (size_t i = 0; i < c->nvms; i++)
		if (c->vms[i].socket[0] != '\0')
			socks[n++] = (struct bk_qmp_socket){ c->vms[i].name,
			    c->vms[i].socket };
	return backend_qmp_open(socks, n, QMP_TIMEOUT_MS, err, errlen);
}

/* Whether A and B need different backends. */
static bool
backend_differs(const struct dconf *a, const struct dconf *b)
{
	if (strcmp(a->connect, b->connect) != 0 || a->nvms != b->nvms)
		return true;
	for (size_t i = 0; i < a->nvms; i++)
		if (strcmp(a->vms[i].name, b->vms[i].name) != 0 ||
		    strcmp(a->vms[i].socket, b->vms[i].socket) != 0)
			return true;
	return false;
}

/* Report PROBLEM for V once (until it changes or clears). */
static void
problem(struct dvm *v, const char *msg)
{
	if (strcmp(v->problem, msg) == 0)
		return;
	snprintf(v->problem, sizeof(v->problem), "%s", msg);
	if (msg[0] != '\0')
		dlog("%s: %s", v->name, msg);
}

/* min, max and shares of V from the configuration and what it reports. */
static void
resolve(const struct daemon *d, struct dvm *v)
{
	const struct dconf_vm *c = dconf_vm(&d->conf, v->name);
	const struct dconf_vm *df = &d->conf.defaults;
	int64_t memory = v->s.memory, max, min, g = v->s.min_guarantee;
	/* The default min is a quarter of the boot RAM: of the max, with a
	   virtio-mem region, it would keep memory plugged for ever. */
	int64_t base = v->s.boot > 0 && v->s.boot < POL_HUGE ? v->s.boot :
	    memory;

	max = c->max > 0 ? c->max : df->max > 0 ? df->max : memory;
	if (memory > 0 && max > memory)
		max = memory;
	if (base <= 0 || base > max)
		base = max;
	min = c->min > 0 ? c->min : df->min > 0 ? df->min :
	    (base / 4 > DEFAULT_MIN ? base / 4 : DEFAULT_MIN);
	if (g > 0 && g < POL_HUGE && min < g)
		min = g;		/* libvirt's <min_guarantee> */
	if (min > max)
		min = max;
	v->min = min;
	v->max = max;
	v->shares = c->shares > 0 ? c->shares : df->shares > 0 ? df->shares :
	    DEFAULT_SHARES;
	v->on_exit = c->on_exit != ON_EXIT_UNSET ? c->on_exit : df->on_exit;
	v->on_exit_size = c->on_exit != ON_EXIT_UNSET ? c->on_exit_size :
	    df->on_exit_size;
}

static struct dvm *
find_vm(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nvms; i++)
		if (strcmp(d->vms[i].name, name) == 0)
			return &d->vms[i];
	return NULL;
}

static void
forget(struct daemon *d, const char *name, const char *why)
{
	for (size_t i = 0; i < d->nvms; i++) {
		if (strcmp(d->vms[i].name, name) != 0)
			continue;
		dlog("%s: %s: forgotten", name, why);
		memmove(&d->vms[i], &d->vms[i + 1],
		    (d->nvms - i - 1) * sizeof(d->vms[0]));
		d->nvms--;
		return;
	}
}

static void
backend_failed(struct daemon *d, const char *what)
{
	d->failures++;
	if (!d->backend_down)
		dlog("backend %s: %s; retrying with backoff", d->bk->ops->name,
		    what);
	d->backend_down = true;
	d->retry_ms = now_ms() + d->backoff_ms;
	d->backoff_ms = d->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    d->backoff_ms * 2;
}

/* The backend's list into d->vms: new VMs added, missing ones dropped. */
static int
reconcile(struct daemon *d)
{
	struct bk_vm *list;
	size_t n;

	if (d->bk->ops->list(d->bk, &list, &n) != BK_OK) {
		backend_failed(d, d->bk->err);
		return -1;
	}
	if (d->backend_down)
		dlog("backend %s: working again", d->bk->ops->name);
	d->backend_down = false;
	d->backoff_ms = BACKOFF_MIN_MS;
	for (size_t i = 0; i < d->nvms; i++)
		d->vms[i].present = false;
	for (size_t i = 0; i < n; i++) {
		struct dvm *v = find_vm(d, list[i].name);
		if (v == NULL) {
			struct dvm *grown = realloc(d->vms,
			    (d->nvms + 1) * sizeof(*grown));
			if (grown == NULL)
				continue;
			d->vms = grown;
			v = &d->vms[d->nvms++];
			memset(v, 0, sizeof(*v));
			snprintf(v->name, sizeof(v->name), "%s", list[i].name);
			dlog("%s: found (up to %lld MiB)", v->name,
			    (long long)(list[i].memory / MIB));
		}
		v->present = true;
	}
	free(list);
	for (size_t i = d->nvms; i-- > 0;)
		if (!d->vms[i].present)
			forget(d, d->vms[i].name, "gone");
	return 0;
}

/*
 * The lowest actual since the target was last set: a guest that comes
 * up from it on its own deflated its balloon (collect.c).
 */
static void
see_actual(struct dvm *v, int64_t actual)
{
	if (actual <= 0 || actual >= POL_HUGE)	/* nonsense: not seen */
		return;
	if (v->floor_target != v->track.target || v->floor_actual <= 0) {
		v->floor_target = v->track.target;
		v->floor_actual = actual;
	} else if (actual < v->floor_actual) {
		v->floor_actual = actual;
	}
}

/* The lowest actual under the current target, -1 if none was seen. */
static int64_t
floor_of(const struct dvm *v)
{
	return v->floor_target == v->track.target ? v->floor_actual : -1;
}

/* Sample every VM; the ones gone are forgotten. */
static void
sample_all(struct daemon *d)
{
	for (size_t i = 0; i < d->nvms; i++) {
		struct dvm *v = &d->vms[i];
		struct bk_sample s;
		int r;

		if (!v->stats_on) {
			r = d->bk->ops->stats_period(d->bk, v->name,
			    d->conf.stats_period);
			if (r == BK_OK)
				v->stats_on = true;
		}
		r = d->bk->ops->sample(d->bk, v->name, &s);
		v->status = r;
		if (r == BK_EGONE) {
			forget(d, v->name, "gone during the step");
			i--;
			continue;
		}
		if (r == BK_ENOBALLOON) {
			problem(v, "no balloon device: left alone");
			continue;
		}
		if (r != BK_OK) {
			problem(v, d->bk->err);
			v->stats_on = false;	/* ask again once it answers */
			continue;
		}
		if (v->have_sample && v->s.stats_time != s.stats_time) {
			v->prev = v->s;
			v->have_prev = true;
		}
		if (!v->have_sample || v->s.stats_time != s.stats_time)
			v->stats_actual = s.actual;
		v->s = s;
		v->have_sample = true;
		see_actual(v, s.actual);
		if (v->problem[0] != '\0' && strstr(v->problem, "statistics") ==
		    NULL)
			problem(v, "");
	}
}

/* The policy's view of every VM. */
static void
views(struct daemon *d)
{
	struct collect_ctx c = { .now_s = (int64_t)time(NULL),
	    .period_s = d->conf.stats_period };

	for (size_t i = 0; i < d->nvms; i++) {
		struct dvm *v = &d->vms[i];
		const char *why;

		resolve(d, v);
		c.target = v->track.target;
		c.stats_actual = v->stats_actual;
		c.floor_actual = floor_of(v);
		v->pv.name = v->name;
		v->pv.min = v->min;
		v->pv.max = v->max;
		v->pv.shares = v->shares;
		if (v->have_sample)
			collect_vm(&d->params, &c, &v->s,
			    v->have_prev ? &v->prev : NULL, &v->pv);
		else
			v->pv.memory = v->pv.actual = v->pv.rss = -1;
		v->pv.excluded = !v->have_sample || v->status != BK_OK ||
		    v->max <= 0;
		why = v->have_sample ? collect_stats_problem(&c, &v->s) : "";
		/* Said once, however the nonsense changes from report to
		   report, until the statistics are usable again. */
		if (v->have_sample && *why != '\0' && v->s.stats_time > 0 &&
		    strcmp(why, "statistics are stale") != 0 &&
		    strncmp(v->problem, "statistics unusable", 19) != 0) {
			char msg[BK_ERR_MAX];
			snprintf(msg, sizeof(msg), "statistics unusable: %s", why);
			problem(v, msg);
		} else if (strstr(v->problem, "statistics") != NULL &&
		    *why == '\0') {
			problem(v, "");
		}
	}
}

static void
set_target(struct daemon *d, struct dvm *v, const struct pol_decision *dec,
    int64_t old)
{
	char a[32], b[32], c[32];

	if (d->bk->ops->set_target(d->bk, v->name, (uint64_t)dec->target) !=
	    BK_OK) {
		dlog("%s: setting %s failed: %s", v->name,
		    mib(dec->target, a, sizeof(a)), d->bk->err);
		v->track.target = old;	/* not set: nothing to follow */
		return;
	}
	dlog("%s: target %s -> %s (actual %s): %s", v->name,
	    mib(old, a, sizeof(a)), mib(dec->target, b, sizeof(b)),
	    mib(v->pv.actual, c, sizeof(c)), dec->reason);
	v->floor_target = dec->target;	/* see_actual() from here */
	v->floor_actual = v->pv.actual;
	v->last = *dec;
	v->last_old = old;
	v->last_time = (int64_t)time(NULL);
	v->changes++;
	d->changes++;
}

/* Decide and apply: shrinking first, so that growing finds the room. */
static bool
decide(struct daemon *d)
{
	size_t n = d->nvms;
	struct pol_vm pv[n > 0 ? n : 1];
	struct pol_track prev[n > 0 ? n : 1], next[n > 0 ? n : 1];
	struct pol_decision out[n > 0 ? n : 1];
	bool any_short = false;

	for (size_t i = 0; i < n; i++) {
		pv[i] = d->vms[i].pv;
		prev[i] = d->vms[i].track;
	}
	d->host.now_ms = now_ms();
	policy_step(d->pol, &d->params, &d->host, pv, n, prev, next, out);
	d->policy_ms = d->host.now_ms;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct dvm *v = &d->vms[i];
			int64_t old = prev[i].target > 0 ? prev[i].target :
			    pv[i].actual;
			bool grow = out[i].target > old;
			if (pass == 0) {
				v->track = next[i];
				snprintf(v->why_now, sizeof(v->why_now), "%s",
				    out[i].reason);
				if (out[i].report)
					dlog("%s: %s", v->name, out[i].reason);
				any_short |= pv[i].short_mem;
			}
			if (!out[i].changed || grow != (pass == 1))
				continue;
			set_target(d, v, &out[i], old);
		}
	}
	return any_short;
}

/* One step; returns the milliseconds until the next. */
static int64_t
step(struct daemon *d)
{
	int64_t interval = d->conf.interval_ms;
	bool any_short = false;

	if (d->backend_down && now_ms() < d->retry_ms)
		return d->retry_ms - now_ms();
	if (reconcile(d) != 0) {
		metrics_publish(daemon_metrics(d));	/* the failures count */
		return d->retry_ms - now_ms();
	}
	d->step_ms = now_ms();
	sample_all(d);
	collect_host("/proc", &d->host);
	d->host.budget = d->conf.budget;
	d->host.reserve = d->conf.reserve;
	views(d);
	d->steps++;
	if (d->pol->period_ms == 0 || d->policy_ms == 0 ||
	    now_ms() - d->policy_ms >= d->pol->period_ms)
		any_short = decide(d);
	metrics_publish(daemon_metrics(d));
	/* A short guest is looked at again sooner. */
	if (any_short && d->pol->period_ms == 0)
		interval = interval / 4 > 250 ? interval / 4 : 250;
	return interval;
}

static void
drain_events(struct daemon *d)
{
	struct bk_event ev[32];
	int n;

	while ((n = d->bk->ops->events(d->bk, ev, 32)) > 0) {
		for (int i = 0; i < n; i++) {
			struct dvm *v = find_vm(d, ev[i].name);
			if (ev[i].kind == BK_EV_GONE && v != NULL)
				forget(d, ev[i].name, "gone");
			else if (ev[i].kind == BK_EV_BALLOON && v != NULL &&
			    ev[i].actual > 0) {
				/* Past its target and rising: the guest is
				   out of memory now, not at the next report
				   (collect.c decides what it means). */
				see_actual(v, ev[i].actual);
				if (d->pol->on_events &&
				    collect_deflated_itself(ev[i].actual,
				    v->track.target, floor_of(v)))
					d->react = true;
				v->s.actual = ev[i].actual;
			}
		}
		if (n < 32)
			break;
	}
	if (n < 0)
		backend_failed(d, d->bk->err);
}

static void
reload(struct daemon *d, const struct overrides *o, char *err, size_t errlen)
{
	struct dconf c;

	if (load_config(d->config_path, true, o, &c, err, errlen) != 0) {
		dlog("reload: %s; keeping the previous configuration", err);
		return;
	}
	if (backend_differs(&c, &d->conf)) {
		struct backend *bk = open_backend(&c, err, errlen);
		if (bk == NULL) {
			dlog("reload: %s; keeping the previous configuration",
			    err);
			dconf_free(&c);
			return;
		}
		d->bk->ops->close(d->bk);
		d->bk = bk;
		for (size_t i = 0; i < d->nvms; i++)
			d->vms[i].stats_on = false;
	}
	if (strcmp(c.policy, d->conf.policy) != 0) {
		for (size_t i = 0; i < d->nvms; i++)
			memset(&d->vms[i].track, 0, sizeof(d->vms[i].track));
		d->policy_ms = 0;
	}
	if (strcmp(c.control, d->conf.control) != 0 ||
	    strcmp(c.metrics, d->conf.metrics) != 0)
		dlog("reload: control and metrics addresses change only at a "
		    "restart");
	snprintf(c.control, sizeof(c.control), "%s", d->conf.control);
	snprintf(c.metrics, sizeof(c.metrics), "%s", d->conf.metrics);
	dconf_free(&d->conf);
	d->conf = c;
	d->pol = policy_find(c.policy);
	err[0] = '\0';
	dlog("configuration reloaded%s%s: policy %s", d->config_path ?
	    " from " : "", d->config_path ? d->config_path : "", d->pol->name);
}

/* SIGTERM: each VM to the size the configuration names. */
static void
leave(struct daemon *d)
{
	char a[32];

	for (size_t i = 0; i < d->nvms; i++) {
		struct dvm *v = &d->vms[i];
		int64_t size;

		resolve(d, v);
		switch (v->on_exit) {
		case ON_EXIT_MAX:
			size = v->max;
			break;
		case ON_EXIT_MIN:
			size = v->min;
			break;
		case ON_EXIT_SIZE:
			size = v->on_exit_size;
			if (v->s.memory > 0 && size > v->s.memory)
				size = v->s.memory;
			break;
		default:
			size = -1;
			break;
		}
		if (size <= 0) {
			dlog("%s: on exit: left as it is", v->name);
			continue;
		}
		if (d->bk->ops->set_target(d->bk, v->name, (uint64_t)size) ==
		    BK_OK)
			dlog("%s: on exit: target %s", v->name,
			    mib(size, a, sizeof(a)));
		else
			dlog("%s: on exit: %s", v->name, d->bk->err);
	}
}

struct loop_ctx {
	struct daemon		*d;
	const struct overrides	*o;
};

static json_t *
control_command(void *arg, const char *cmd, json_t *req)
{
	struct loop_ctx *x = arg;
	char err[BK_ERR_MAX] = "";

	(void)req;
	if (strcmp(cmd, "status") == 0)
		return json_pack("{s:o}", "return", daemon_status(x->d));
	if (strcmp(cmd, "version") == 0)
		return json_pack("{s:{s:s}}", "return", "version",
		    BALLONET_VERSION);
	if (strcmp(cmd, "reload") == 0) {
		reload(x->d, x->o, err, sizeof(err));
		if (err[0] != '\0')
			return json_pack("{s:s}", "error", err);
		return json_pack("{s:{}}", "return");
	}
	return json_pack("{s:s}", "error", "unknown command: try status, "
	    "reload or version");
}

static int
run(struct daemon *d, const struct overrides *o, struct control *ctl,
    int sigfd, int ready_fd)
{
	struct loop_ctx x = { d, o };
	int64_t next = now_ms();
	bool ready = false;

	for (;;) {
		struct pollfd pfd[3 + CONTROL_CLIENTS];
		size_t n = 0;
		int64_t wait = next - now_ms();

		if (wait <= 0) {
			next = now_ms() + step(d);
			if (!ready) {
				sd_notifyf(0, "READY=1\nSTATUS=managing %zu VMs "
				    "with policy %s", d->nvms, d->pol->name);
				if (ready_fd >= 0) {
					(void)!write(ready_fd, "", 1);
					close(ready_fd);
				}
				ready = true;
			}
			continue;
		}
		pfd[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		int efd = d->bk->ops->event_fd(d->bk);
		pfd[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
		n += control_pollfds(ctl, &pfd[n]);
		if (poll(pfd, n, (int)(wait > 60000 ? 60000 : wait)) < 0 &&
		    errno != EINTR) {
			dlog("poll: %s", strerror(errno));
			return D_EXIT_LOCAL;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					char err[BK_ERR_MAX];
					sd_notify(0, "RELOADING=1");
					reload(d, o, err, sizeof(err));
					sd_notify(0, "READY=1");
					next = now_ms();
				} else {
					dlog("signal %d: stopping", si.ssi_signo);
					sd_notify(0, "STOPPING=1");
					leave(d);
					return D_EXIT_OK;
				}
			}
		}
		if (efd >= 0 && (pfd[1].revents & POLLIN))
			drain_events(d);
		if (d->react) {
			/* At once, but no more than every REACT_GAP_MS. */
			int64_t soon = d->step_ms + REACT_GAP_MS;
			d->react = false;
			if (soon < next)
				next = soon > now_ms() ? soon : now_ms();
		}
		control_handle(ctl, control_command, &x);
	}
}

/* Detach; the parent exits with 0 once the child is ready, else 4. */
static int
detach(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "ballonetd: cannot detach: %s\n",
		    strerror(errno));
		exit(D_EXIT_LOCAL);
	}
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? D_EXIT_OK : D_EXIT_LOCAL);
	}
	close(p[0]);
	setsid();
	/* From now on failures go to the log (dlog), not to our caller. */
	int null = open("/dev/null", O_RDWR);
	if (chdir("/") != 0 || null < 0)
		_exit(D_EXIT_LOCAL);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
	return p[1];
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config",     required_argument, NULL, 'c' },
		{ "connect",    required_argument, NULL, 'C' },
		{ "policy",     required_argument, NULL, 'p' },
		{ "budget",     required_argument, NULL, 'b' },
		{ "reserve",    required_argument, NULL, 'r' },
		{ "interval",   required_argument, NULL, 'i' },
		{ "socket",     required_argument, NULL, 's' },
		{ "metrics",    required_argument, NULL, 'm' },
		{ "log",        required_argument, NULL, 'l' },
		{ "foreground", no_argument,       NULL, 'f' },
		{ "check",      no_argument,       NULL, 'n' },
		{ "version",    no_argument,       NULL, 'V' },
		{ "help",       no_argument,       NULL, 'h' },
		{ 0 }
	};
	struct overrides o = { .budget = -1, .reserve = -1 };
	const char *config = NULL, *log = NULL;
	bool foreground = false, check = false;
	static struct daemon d;
	struct control ctl;
	char err[BK_ERR_MAX];
	int c, sigfd, ready_fd = -1, r;
	sigset_t set;
	double secs;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:C:p:b:r:i:s:m:l:fnVh", options,
	    NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': o.connect = optarg; break;
		case 'p':
			if (policy_find(optarg) == NULL)
				return usage("--policy %s: none of %s", optarg,
				    policy_names());
			o.policy = optarg;
			break;
		case 'b':
			if (dconf_size(optarg, &o.budget) != 0)
				return usage("--budget %s: not a size", optarg);
			break;
		case 'r':
			if (dconf_size(optarg, &o.reserve) != 0 &&
			    strcmp(optarg, "0") != 0)
				return usage("--reserve %s: not a size", optarg);
			if (strcmp(optarg, "0") == 0)
				o.reserve = 0;
			break;
		case 'i':
			secs = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(secs >= 0.1 &&
			    secs <= 3600))
				return usage("--interval %s: seconds from 0.1 "
				    "to 3600", optarg);
			o.interval_ms = (int)(secs * 1000 + 0.5);
			break;
		case 's': o.control = optarg; break;
		case 'm': o.metrics = optarg; break;
		case 'l': log = optarg; break;
		case 'f': foreground = true; break;
		case 'n': check = true; break;
		case 'V':
			printf("ballonetd %s\n", BALLONET_VERSION);
			return D_EXIT_OK;
		case 'h':
			help();
			return D_EXIT_OK;
		default:
			if (optopt != 0)
				return usage("option -%c %s", optopt,
				    strchr("cCpbrismle", optopt) ?
				    "needs a value" : "is unknown");
			return usage("option %s is unknown or needs a value",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage("unexpected operand '%s'", argv[optind]);

	d.config_path = config != NULL ? config :
	    access(DEFAULT_CONFIG, F_OK) == 0 ? DEFAULT_CONFIG : NULL;
	/* A reload after detaching (chdir /) must find the same file. */
	static char config_abs[PATH_MAX];
	if (d.config_path != NULL && realpath(d.config_path, config_abs))
		d.config_path = config_abs;
	if (load_config(d.config_path, true, &o, &d.conf, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "ballonetd: %s\n", err);
		return D_EXIT_CONFIG;
	}
	d.pol = policy_find(d.conf.policy);
	d.params = pol_defaults;
	d.backoff_ms = BACKOFF_MIN_MS;
	d.started = (int64_t)time(NULL);
	if (check) {
		printf("ballonetd: configuration ok: policy %s, %zu VMs "
		    "configured\n", d.pol->name, d.conf.nvms);
		return D_EXIT_OK;
	}
	if (dlog_open(log != NULL ? log : foreground ? NULL : "syslog") != 0) {
		fprintf(stderr, "ballonetd: --log %s: %s\n", log,
		    strerror(errno));
		return D_EXIT_LOCAL;
	}
	if ((d.bk = open_backend(&d.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ballonetd: %s\n", err);
		return D_EXIT_BACKEND;
	}
	if (control_open(&ctl, d.conf.control, err, sizeof(err)) != 0) {
		fprintf(stderr, "ballonetd: %s\n", err);
		d.bk->ops->close(d.bk);
		return D_EXIT_LOCAL;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (!foreground)
		ready_fd = detach();
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
	    (d.conf.metrics[0] != '\0' &&
	    metrics_start(d.conf.metrics, err, sizeof(err)) != 0)) {
		if (sigfd < 0)
			snprintf(err, sizeof(err), "signalfd: %s",
			    strerror(errno));
		fprintf(stderr, "ballonetd: %s\n", err);
		dlog("%s", err);
		control_close(&ctl);
		d.bk->ops->close(d.bk);
		return D_EXIT_LOCAL;
	}
	dlog("started: backend %s, policy %s, budget %s, reserve %lld MiB, "
	    "control %s%s%s", d.bk->ops->name, d.pol->name,
	    d.conf.budget > 0 ? mib(d.conf.budget, err, sizeof(err)) : "none",
	    (long long)(d.conf.reserve / MIB), d.conf.control,
	    d.conf.metrics[0] ? ", metrics " : "", d.conf.metrics);
	r = run(&d, &o, &ctl, sigfd, ready_fd);
	metrics_stop();
	control_close(&ctl);
	d.bk->ops->close(d.bk);
	close(sigfd);
	free(d.vms);
	dconf_free(&d.conf);
	dlog("stopped");
	return r;
}
