/*
 * ballonetd: the QMP backend (see backend.h).
 *
 * It manages every live VM of ballonet's run directory and the QMP
 * sockets the configuration names.  Each VM has one connection held open:
 * for a VM of the run directory its second QMP socket, watch.sock, so
 * that `ballonet set` and `ballonet info` still reach qmp.sock while the
 * daemon runs (QEMU serves one client per QMP socket); for a configured
 * socket that socket.  Events arrive on the same connections; one epoll
 * descriptor covers them all.
 *
 * Sizes are logical (host/memsize.c, as `ballonet set` and `info` have
 * them): a VM with a virtio-mem device reaches its boot RAM plus the
 * device's region, set_target() above the boot RAM plugs (requested-size,
 * whole blocks) with the balloon empty and below it unplugs and
 * balloons, and actual is the balloon's plus what is plugged.
 *
 * A VM whose connection closes is gone.  A VM that cannot be connected
 * to (QEMU busy with another client, a socket that does not answer) is
 * left out of list() and tried again after RETRY_MS.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "memsize.h"
#include "qmp.h"
#include "rundir.h"

#define RETRY_MS	30000	/* before connecting again after a failure */

struct qvm {
	char		 name[BK_NAME_MAX];
	char		 sock[PATH_MAX];	/* the socket we hold */
	bool		 ours;		/* from the run directory */
	bool		 listed;	/* seen by the last list() */
	struct vm	 vm;		/* ours: what the run directory says */
	pid_t		 pid;		/* QEMU's pid, 0 unknown */
	struct qmp	 q;		/* q.fd -1 when not connected */
	int64_t		 memory;	/* RAM, bytes; -1 unknown */
	int64_t		 reach;		/* RAM plus virtio-mem region; -1
					   unknown (not connected yet) */
	int64_t		 balloon_actual; /* query-balloon's, bytes; -1 */
	int64_t		 plugged;	/* virtio-mem's, bytes; 0 none */
	int64_t		 target;	/* last target set, bytes; -1 none */
	char		 balloon[256];	/* its QOM path, "" not yet found */
	long long	 retry_at;	/* no connect before (qmp_now_ms) */
	bool		 gone;		/* its connection closed: report it */
};

struct bqmp {
	struct backend	 b;
	int		 epfd;
	int		 timeout_ms;
	struct qvm	**vms;
	size_t		 nvms;
	struct bk_qmp_socket *conf;	/* configured sockets (copies) */
	size_t		 nconf;
};

static int
bfail(struct bqmp *bq, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(bq->b.err, sizeof(bq->b.err), fmt, ap);
	va_end(ap);
	return status;
}

/* A QMP failure of WHAT on V as a BK_* status, with err[] set. */
static int
qfail(struct bqmp *bq, struct qvm *v, int r, const char *what)
{
	switch (r) {
	case QMP_EEOF:
		v->gone = true;
		return bfail(bq, BK_EGONE, "%s: QEMU closed the connection "
		    "during %s", v->name, what);
	case QMP_EPEER:
		if (strcmp(v->q.err_class, "DeviceNotActive") == 0)
			return bfail(bq, BK_ENOBALLOON, "%s: no balloon device",
			    v->name);
		return bfail(bq, BK_EFAIL, "%s: QEMU refused %s: %s", v->name,
		    what, v->q.err_desc);
	case QMP_ETIMEDOUT:
		return bfail(bq, BK_EFAIL, "%s: QEMU did not answer %s in %d ms",
		    v->name, what, bq->timeout_ms);
	case QMP_EPROTO:
		return bfail(bq, BK_EFAIL, "%s: not QMP during %s: %s", v->name,
		    what, v->q.proto);
	default:
		return bfail(bq, BK_EFAIL, "%s: %s during %s: %s", v->name,
		    v->q.sys_call ? v->q.sys_call : "a call", what,
		    strerror(v->q.sys_errno));
	}
}

static void
disconnect(struct bqmp *bq, struct qvm *v)
{
	if (v->q.fd < 0)
		return;
	epoll_ctl(bq->epfd, EPOLL_CTL_DEL, v->q.fd, NULL);
	qmp_close(&v->q);
	v->balloon[0] = '\0';
}

/* Drop V's connection after R unless R says only the request failed. */
static int
request_fail(struct bqmp *bq, struct qvm *v, int r, const char *what)
{
	int status = qfail(bq, v, r, what);

	if (r != QMP_EPEER)
		disconnect(bq, v);
	return status;
}

/* A memsize_*() failure R of V (host/memsize.h) as a BK_* status. */
static int
memsize_fail(struct bqmp *bq, struct qvm *v, int r, const struct memsize *m)
{
	if (r == MEMSIZE_EREPLY)
		return bfail(bq, BK_EFAIL, "%s: %s: %s", v->name, m->what,
		    m->err);
	return request_fail(bq, v, r, m->what);
}

/* What M says of V's sizes, kept for list() and events. */
static void
take_sizes(struct qvm *v, const struct memsize *m, bool balloon)
{
	if (m->boot > 0 && m->boot <= INT64_MAX / 2)
		v->memory = (int64_t)m->boot;
	if (memsize_max(m) > 0 && memsize_max(m) <= INT64_MAX / 2)
		v->reach = (int64_t)memsize_max(m);
	v->plugged = m->vmem && m->plugged <= INT64_MAX / 2 ?
	    (int64_t)m->plugged : 0;
	if (balloon)
		v->balloon_actual = m->actual <= INT64_MAX / 2 ?
		    (int64_t)m->actual : -1;
}

static void
free_vm(struct bqmp *bq, struct qvm *v)
{
	disconnect(bq, v);
	free(v);
}

static struct qvm *
find(struct bqmp *bq, const char *name)
{
	for (size_t i = 0; i < bq->nvms; i++)
		if (strcmp(bq->vms[i]->name, name) == 0)
			return bq->vms[i];
	return NULL;
}

static struct qvm *
add(struct bqmp *bq, const char *name, const char *sock, bool ours)
{
	struct qvm **grown, *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	grown = realloc(bq->vms, (bq->nvms + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(v);
		return NULL;
	}
	bq->vms = grown;
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->sock, sizeof(v->sock), "%s", sock);
	v->ours = ours;
	v->q.fd = -1;
	v->memory = v->reach = v->target = v->balloon_actual = -1;
	bq->vms[bq->nvms++] = v;
	return v;
}

static void
remove_at(struct bqmp *bq, size_t i)
{
	free_vm(bq, bq->vms[i]);
	memmove(&bq->vms[i], &bq->vms[i + 1],
	    (bq->nvms - i - 1) * sizeof(bq->vms[0]));
	bq->nvms--;
}

/* Boot RAM and virtio-mem: what V can reach.  Unknown on failure. */
static void
query_reach(struct qvm *v, int timeout_ms)
{
	struct memsize m;

	if (memsize_query_devices(&v->q, &m, timeout_ms) == QMP_OK)
		take_sizes(v, &m, false);
}

/* Connect V unless it is connected or waits for its retry time. */
static bool
ensure_connected(struct bqmp *bq, struct qvm *v)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (v->q.fd >= 0)
		return true;
	if (qmp_now_ms() < v->retry_at)
		return false;
	if (qmp_connect(&v->q, v->sock, bq->timeout_ms) != QMP_OK) {
		v->q.fd = -1;
		v->retry_at = qmp_now_ms() + RETRY_MS;
		return false;
	}
	ev.data.ptr = v;
	if (epoll_ctl(bq->epfd, EPOLL_CTL_ADD, v->q.fd, &ev) != 0) {
		qmp_close(&v->q);
		v->retry_at = qmp_now_ms() + RETRY_MS;
		return false;
	}
	v->gone = false;
	if (!v->ours)
		v->pid = v->q.peer_pid;
	query_reach(v, bq->timeout_ms);
	return true;
}

/* The run directory's live VMs, marked listed (added if new). */
static int
scan_rundir(struct bqmp *bq)
{
	char **names;
	size_t count;

	if (vm_names(&names, &count) != 0)
		return bfail(bq, BK_EFAIL, "the run directory: %s",
		    strerror(errno));
	for (size_t i = 0; i < count; i++) {
		struct vm vm;
		struct qvm *v;

		if (vm_load(names[i], &vm) != 0 || !vm_alive(&vm) ||
		    vm.watch[0] == '\0')
			continue;
		v = find(bq, names[i]);
		if (v != NULL && (!v->ours || v->pid != vm.pid)) {
			/* A name taken twice, or a VM started anew. */
			if (!v->ours)
				continue;
			disconnect(bq, v);
			v->balloon[0] = '\0';
			v->retry_at = 0;
		}
		if (v == NULL && (v = add(bq, names[i], vm.watch, true)) == NULL)
			continue;
		v->vm = vm;
		v->pid = vm.pid;
		if (v->memory < 0 && vm.memory > 0 && vm.memory <= INT64_MAX)
			v->memory = (int64_t)vm.memory;
		if (v->target < 0 && vm.target > 0 && vm.target <= INT64_MAX)
			v->target = (int64_t)vm.target;
		v->listed = true;
	}
	vm_names_free(names, count);
	return BK_OK;
}

static int
qmp_list(struct backend *b, struct bk_vm **vms, size_t *count)
{
	struct bqmp *bq = (struct bqmp *)b;
	size_t n = 0;
	int r;

	*vms = NULL;
	*count = 0;
	for (size_t i = 0; i < bq->nvms; i++)
		bq->vms[i]->listed = false;
	for (size_t i = 0; i < bq->nconf; i++) {
		struct qvm *v = find(bq, bq->conf[i].name);
		if (v == NULL)
			v = add(bq, bq->conf[i].name, bq->conf[i].path, false);
		if (v != NULL)
			v->listed = true;
	}
	if ((r = scan_rundir(bq)) != BK_OK)
		return r;
	for (size_t i = bq->nvms; i-- > 0;)
		if (!bq->vms[i]->listed)
			remove_at(bq, i);
	if (bq->nvms == 0)
		return BK_OK;
	if ((*vms = calloc(bq->nvms, sizeof(**vms))) == NULL)
		return bfail(bq, BK_EFAIL, "out of memory");
	for (size_t i = 0; i < bq->nvms; i++) {
		struct qvm *v = bq->vms[i];
		if (!ensure_connected(bq, v))
			continue;
		snprintf((*vms)[n].name, sizeof((*vms)[n].name), "%s", v->name);
		(*vms)[n].memory = v->reach > 0 ? v->reach : v->memory;
		n++;
	}
	*count = n;
	if (n == 0) {
		free(*vms);
		*vms = NULL;
	}
	return BK_OK;
}

/* V, connected; else err[] says why. */
static int
lookup(struct bqmp *bq, const char *name, struct qvm **vp)
{
	struct qvm *v = find(bq, name);

	if (v == NULL)
		return bfail(bq, BK_EGONE, "%s: no such VM", name);
	if (v->q.fd < 0 && !ensure_connected(bq, v))
		return bfail(bq, v->gone ? BK_EGONE : BK_EFAIL,
		    "%s: cannot connect to %s", name, v->sock);
	*vp = v;
	return BK_OK;
}

/* The balloon device's QOM path, found once per connection. */
static int
find_balloon(struct bqmp *bq, struct qvm *v)
{
	int r;

	if (v->balloon[0] != '\0')
		return BK_OK;
	r = qmp_find_balloon(&v->q, v->balloon, sizeof(v->balloon),
	    bq->timeout_ms);
	if (r != QMP_OK)
		return request_fail(bq, v, r, "qom-list");
	if (v->balloon[0] == '\0')
		return bfail(bq, BK_ENOBALLOON, "%s: no virtio-balloon device",
		    v->name);
	return BK_OK;
}

static int
qmp_stats_period(struct backend *b, const char *name, int period)
{
	struct bqmp *bq = (struct bqmp *)b;
	struct qvm *v;
	int r;

	if ((r = lookup(bq, name, &v)) != BK_OK ||
	    (r = find_balloon(bq, v)) != BK_OK)
		return r;
	r = qmp_execute(&v->q, "qom-set", json_pack("{s:s, s:s, s:i}", "path",
	    v->balloon, "property", "guest-stats-polling-interval", "value",
	    period < 1 ? 1 : period), NULL, bq->timeout_ms);
	return r == QMP_OK ? BK_OK : request_fail(bq, v, r, "qom-set");
}

/* A number from the guest or QEMU: -1 unless it fits 0..INT64_MAX. */
static int64_t
value_of(json_t *value)
{
	double d;

	if (json_is_integer(value))
		return json_integer_value(value) < 0 ? -1 :
		    (int64_t)json_integer_value(value);
	if (!json_is_real(value))
		return -1;
	d = json_real_value(value);
	return d >= 0 && d < 9223372036854775808.0 ? (int64_t)d : -1;
}

/* The guest's statistics into S (left -1 when there are none). */
static void
take_stats(json_t *reply, struct bk_sample *s)
{
	static const struct {
		const char	*key;
		size_t		 offset;
	} keys[] = {
		{ "stat-total-memory",     offsetof(struct bk_sample, total) },
		{ "stat-free-memory",      offsetof(struct bk_sample, free) },
		{ "stat-available-memory", offsetof(struct bk_sample, available) },
		{ "stat-disk-caches",      offsetof(struct bk_sample, caches) },
		{ "stat-swap-in",          offsetof(struct bk_sample, swap_in) },
		{ "stat-swap-out",         offsetof(struct bk_sample, swap_out) },
		{ "stat-major-faults",     offsetof(struct bk_sample, major_faults) },
		{ "stat-minor-faults",     offsetof(struct bk_sample, minor_faults) },
		{ "stat-oom-kills",        offsetof(struct bk_sample, oom_kills) },
	};
	json_t *stats = json_object_get(reply, "stats");
	int64_t last = value_of(json_object_get(reply, "last-update"));

	if (last <= 0 || !json_is_object(stats))
		return;		/* polling off, or the guest never reported */
	s->stats_time = last;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		*(int64_t *)((char *)s + keys[i].offset) =
		    value_of(json_object_get(stats, keys[i].key));
}

/* VmRSS of PID from /proc, bytes; -1 if not readable. */
static int64_t
rss_of(pid_t pid)
{
	char path[64], line[256];
	long long kib = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib >= 0 && kib < INT64_MAX / 1024 ? kib * 1024 : -1;
}

static int
qmp_sample(struct backend *b, const char *name, struct bk_sample *s)
{
	struct bqmp *bq = (struct bqmp *)b;
	struct memsize m;
	json_t *ret;
	struct qvm *v;
	int r;

	memset(s, 0xff, sizeof(*s));	/* every field -1 */
	if ((r = lookup(bq, name, &v)) != BK_OK)
		return r;
	if ((r = memsize_query(&v->q, &m, bq->timeout_ms)) != QMP_OK)
		return memsize_fail(bq, v, r, &m);
	take_sizes(v, &m, true);
	s->actual = memsize_logical(&m) <= INT64_MAX / 2 ?
	    (int64_t)memsize_logical(&m) : -1;
	s->memory = v->reach > 0 ? v->reach : v->memory;
	s->boot = v->memory;
	s->target = v->target;
	s->rss = rss_of(v->pid);
	if ((r = find_balloon(bq, v)) != BK_OK)
		return r;
	r = qmp_execute(&v->q, "qom-get", json_pack("{s:s, s:s}", "path",
	    v->balloon, "property", "guest-stats"), &ret, bq->timeout_ms);
	if (r != QMP_OK)
		return request_fail(bq, v, r, "qom-get guest-stats");
	take_stats(ret, s);
	json_decref(ret);
	return BK_OK;
}

/* The balloon below the boot RAM, virtio-mem above it (memsize.h). */
static int
qmp_set_target(struct backend *b, const char *name, uint64_t bytes)
{
	struct bqmp *bq = (struct bqmp *)b;
	struct memsize_plan p;
	struct memsize m;
	struct qvm *v;
	int r;

	if ((r = lookup(bq, name, &v)) != BK_OK)
		return r;
	if ((r = memsize_query(&v->q, &m, bq->timeout_ms)) != QMP_OK)
		return memsize_fail(bq, v, r, &m);
	take_sizes(v, &m, true);
	if (bytes > INT64_MAX || memsize_plan(&m, bytes, &p) != MEMSIZE_OK)
		return bfail(bq, BK_ERANGE, "%s: target %llu B is out of range "
		    "(at most %llu B)", name, (unsigned long long)bytes,
		    (unsigned long long)memsize_max(&m));
	if ((r = memsize_apply(&v->q, &m, &p, bq->timeout_ms)) != QMP_OK)
		return memsize_fail(bq, v, r, &m);
	v->target = (int64_t)bytes;
	if (v->ours) {
		/* `ballonet info` shows the last requested target. */
		v->vm.target = bytes;
		(void)vm_save(&v->vm);
	}
	return BK_OK;
}

static int
qmp_event_fd(struct backend *b)
{
	return ((struct bqmp *)b)->epfd;
}

/* One QMP event of V into EV; false if it is not one we report. */
static bool
take_event(struct qvm *v, json_t *event, struct bk_event *ev)
{
	const char *kind = json_string_value(json_object_get(event, "event"));
	json_t *data = json_object_get(event, "data");

	if (kind == NULL)
		return false;
	snprintf(ev->name, sizeof(ev->name), "%s", v->name);
	ev->actual = -1;
	/* Either part of the logical size moved: report the sum. */
	if (strcmp(kind, "BALLOON_CHANGE") == 0) {
		v->balloon_actual = value_of(json_object_get(data, "actual"));
		if (v->balloon_actual > INT64_MAX / 2)
			v->balloon_actual = -1;	/* no sum overflows */
		ev->kind = BK_EV_BALLOON;
		ev->actual = v->balloon_actual < 0 ? -1 :
		    v->balloon_actual + v->plugged;
		return true;
	}
	if (strcmp(kind, "MEMORY_DEVICE_SIZE_CHANGE") == 0) {
		int64_t size = value_of(json_object_get(data, "size"));
		if (size < 0 || size > INT64_MAX / 2)
			return false;
		v->plugged = size;
		if (v->balloon_actual < 0)
			return false;
		ev->kind = BK_EV_BALLOON;
		ev->actual = v->balloon_actual + v->plugged;
		return true;
	}
	if (strcmp(kind, "SHUTDOWN") == 0) {
		ev->kind = BK_EV_GONE;
		return true;
	}
	return false;
}

static int
qmp_events(struct backend *b, struct bk_event *ev, size_t max)
{
	struct bqmp *bq = (struct bqmp *)b;
	struct epoll_event junk[16];
	size_t n = 0;

	/* Only to clear readiness: every connection is drained below. */
	(void)epoll_wait(bq->epfd, junk, 16, 0);
	for (size_t i = 0; i < bq->nvms && n < max; i++) {
		struct qvm *v = bq->vms[i];
		json_t *event;
		int r = QMP_ETIMEDOUT;

		while (v->q.fd >= 0 && n < max &&
		    (r = qmp_next_event(&v->q, &event, 0)) == QMP_OK) {
			if (take_event(v, event, &ev[n]))
				n++;
			json_decref(event);
		}
		if (v->q.fd >= 0 && n < max && r != QMP_ETIMEDOUT) {
			disconnect(bq, v);
			v->gone = true;
		}
		if (v->gone && n < max) {
			ev[n].kind = BK_EV_GONE;
			ev[n].actual = -1;
			snprintf(ev[n].name, sizeof(ev[n].name), "%s", v->name);
			n++;
			v->gone = false;
			v->retry_at = qmp_now_ms() + RETRY_MS;
		}
	}
	return (int)n;
}

static void
qmp_close_backend(struct backend *b)
{
	struct bqmp *bq = (struct bqmp *)b;

	while (bq->nvms > 0)
		remove_at(bq, bq->nvms - 1);
	free(bq->vms);
	for (size_t i = 0; i < bq->nconf; i++) {
		free((char *)bq->conf[i].name);
		free((char *)bq->conf[i].path);
	}
	free(bq->conf);
	close(bq->epfd);
	free(bq);
}

static const struct backend_ops qmp_ops = {
	.name		= "qmp",
	.list		= qmp_list,
	.stats_period	= qmp_stats_period,
	.sample		= qmp_sample,
	.set_target	= qmp_set_target,
	.event_fd	= qmp_event_fd,
	.events		= qmp_events,
	.close		= qmp_close_backend,
};

struct backend *
backend_qmp_open(const struct bk_qmp_socket *sockets, size_t nsockets,
    int timeout_ms, char *err, size_t errlen)
{
	struct bqmp *bq = calloc(1, sizeof(*bq));

	if (bq == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bq->b.ops = &qmp_ops;
	bq->timeout_ms = timeout_ms;
	if ((bq->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		free(bq);
		return NULL;
	}
	if (nsockets > 0 &&
	    (bq->conf = calloc(nsockets, sizeof(*bq->conf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		qmp_close_backend(&bq->b);
		return NULL;
	}
	for (size_t i = 0; i < nsockets; i++) {
		bq->conf[i].name = strdup(sockets[i].name);
		bq->conf[i].path = strdup(sockets[i].path);
		bq->nconf++;
		if (bq->conf[i].name == NULL || bq->conf[i].path == NULL) {
			snprintf(err, errlen, "out of memory");
			qmp_close_backend(&bq->b);
			return NULL;
		}
	}
	return &bq->b;
}
