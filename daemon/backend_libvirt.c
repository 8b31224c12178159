/*
 * ballonetd's libvirt backend: the domains of one libvirt URI, through
 * host/libvirt.c (libvirt's C API).
 *
 * libvirt keeps no "last target": the backend remembers what it set.
 * When the connection breaks (libvirtd restarted, keepalive on a remote
 * host), events() fails once and the next list() opens a new connection;
 * the old one stays open until then, so that the event descriptor (a
 * dup() that is moved onto each new connection's pipe with dup2()) stays
 * quiet and valid from open to close.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "libvirt.h"

/* What the backend keeps of a domain between calls. */
struct target {
	char		name[BK_NAME_MAX];
	bool		set;		/* bytes holds a size we set */
	uint64_t	bytes;		/* the last size we set */
	int64_t		plugged;	/* virtio-mem's, at the last sample:
					   balloon events carry the
					   balloon's half of the size */
};

struct lvb {
	struct backend	 base;		/* first: what the daemon sees */
	struct lv	*lv;
	bool		 dead;		/* the connection broke: reopen */
	char		*uri;		/* NULL: libvirt's default */
	int		 timeout_ms;
	int		 evfd;		/* stable copy of lv's event fd */
	struct target	*targets;
	size_t		 ntargets;
};

static int
bkerr(struct lvb *b, int status, const char *msg)
{
	/* libvirt's lines may be longer: cut, as BK_ERR_MAX says. */
	snprintf(b->base.err, sizeof(b->base.err), "%.*s",
	    (int)sizeof(b->base.err) - 1, msg);
	return status;
}

/*
 * An LV_* status of the connection's last call on NAME (NULL: none) as a
 * BK_* status.  The daemon names the VM itself: drop libvirt.c's "NAME: ".
 */
static int
lvfail(struct lvb *b, int status, const char *name)
{
	const char *msg = lv_error(b->lv);
	size_t n = name != NULL ? strlen(name) : 0;

	if (n > 0 && strncmp(msg, name, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
		msg += n + 2;
	bkerr(b, BK_EFAIL, msg);
	switch (status) {
	case LV_OK:		return BK_OK;
	case LV_ENODOM:		return BK_EGONE;
	case LV_ENOBALLOON:	return BK_ENOBALLOON;
	case LV_ERANGE:		return BK_ERANGE;
	case LV_ECONN:
		b->dead = true;
		return BK_EFAIL;
	default:
		return BK_EFAIL;
	}
}

static struct target *
find_target(struct lvb *b, const char *name)
{
	for (size_t i = 0; i < b->ntargets; i++)
		if (strcmp(b->targets[i].name, name) == 0)
			return &b->targets[i];
	return NULL;
}

static void
forget(struct lvb *b, const char *name)
{
	struct target *t = find_target(b, name);

	if (t != NULL)
		*t = b->targets[--b->ntargets];
}

/* NAME's record, made if new; NULL when out of memory. */
static struct target *
record(struct lvb *b, const char *name)
{
	struct target *t = find_target(b, name);

	if (t == NULL) {
		t = realloc(b->targets, (b->ntargets + 1) * sizeof(*t));
		if (t == NULL)
			return NULL;
		b->targets = t;
		t = &b->targets[b->ntargets++];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name);
	}
	return t;
}

static int
remember(struct lvb *b, const char *name, uint64_t bytes)
{
	struct target *t = record(b, name);

	if (t == NULL)
		return -1;
	t->set = true;
	t->bytes = bytes;
	return 0;
}

/* After a broken connection: a new one, its events on the same fd. */
static int
reconnect(struct lvb *b)
{
	char err[LV_ERR_MAX];
	struct lv *lv = lv_open(b->uri, b->timeout_ms, err, sizeof(err));

	if (lv == NULL)
		return bkerr(b, BK_EFAIL, err);
	if (dup2(lv_event_fd(lv), b->evfd) < 0 ||
	    fcntl(b->evfd, F_SETFD, FD_CLOEXEC) != 0) {
		lv_close(lv);
		return bkerr(b, BK_EFAIL, "dup2 of libvirt's event pipe failed");
	}
	lv_close(b->lv);
	b->lv = lv;
	b->dead = false;
	return BK_OK;
}

static int
lvb_list(struct backend *base, struct bk_vm **vms, size_t *count)
{
	struct lvb *b = (struct lvb *)base;
	struct lv_dom *doms;
	size_t n;
	int r;

	*vms = NULL;
	*count = 0;
	if (b->dead && (r = reconnect(b)) != BK_OK)
		return r;
	if ((r = lv_list(b->lv, &doms, &n)) != LV_OK)
		return lvfail(b, r, NULL);
	if (n > 0 && (*vms = calloc(n, sizeof(**vms))) == NULL) {
		free(doms);
		return bkerr(b, BK_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf((*vms)[i].name, sizeof((*vms)[i].name), "%s",
		    doms[i].name);
		(*vms)[i].memory = doms[i].memory > INT64_MAX ? -1 :
		    (int64_t)doms[i].memory;
	}
	/* Targets of domains that went away. */
	for (size_t t = 0; t < b->ntargets;) {
		bool alive = false;
		for (size_t i = 0; i < n && !alive; i++)
			alive = strcmp(doms[i].name, b->targets[t].name) == 0;
		if (alive)
			t++;
		else
			b->targets[t] = b->targets[--b->ntargets];
	}
	*count = n;
	free(doms);
	return BK_OK;
}

static int
lvb_stats_period(struct backend *base, const char *name, int period)
{
	struct lvb *b = (struct lvb *)base;
	int r;

	if (b->dead)
		return bkerr(b, BK_EFAIL, "the connection to libvirt broke");
	r = lv_stats_period(b->lv, name, period < 1 ? 1 : period);
	return r == LV_OK ? BK_OK : lvfail(b, r, name);
}

static int
lvb_sample(struct backend *base, const char *name, struct bk_sample *s)
{
	struct lvb *b = (struct lvb *)base;
	struct lv_info info;
	struct lv_stats st;
	struct target *t;
	int r;

	if (b->dead)
		return bkerr(b, BK_EFAIL, "the connection to libvirt broke");
	if ((r = lv_info(b->lv, name, &info)) != LV_OK ||
	    (r = lv_stats(b->lv, name, &st)) != LV_OK)
		return lvfail(b, r, name);
	if (!info.balloon)
		return bkerr(b, BK_ENOBALLOON, "the domain has no balloon device");
	if ((t = record(b, name)) != NULL)
		t->plugged = info.vmem && info.vmem_current <= INT64_MAX ?
		    (int64_t)info.vmem_current : 0;
	if (t != NULL && !t->set)
		t = NULL;
	*s = (struct bk_sample){
		.memory = info.memory > INT64_MAX ? -1 : (int64_t)info.memory,
		.boot = info.boot > 0 && info.boot <= INT64_MAX ?
		    (int64_t)info.boot : -1,
		.actual = lv_logical(&info, &st),
		.target = t != NULL ? (int64_t)t->bytes : -1,
		.rss = st.rss,
		.min_guarantee = info.min_guarantee,
		.stats_time = st.last_update > 0 ? st.last_update : -1,
		.oom_kills = -1,
	};
	if (s->stats_time < 0) {	/* the guest never reported */
		s->total = s->free = s->available = s->caches = -1;
		s->swap_in = s->swap_out = s->major_faults = -1;
		s->minor_faults = -1;
		return BK_OK;
	}
	/* libvirt's AVAILABLE is the guest's total, USABLE its available. */
	s->total = st.available;
	s->free = st.unused;
	s->available = st.usable;
	s->caches = st.disk_caches;
	s->swap_in = st.swap_in;
	s->swap_out = st.swap_out;
	s->major_faults = st.major_faults;
	s->minor_faults = st.minor_faults;
	return BK_OK;
}

static int
lvb_set_target(struct backend *base, const char *name, uint64_t bytes)
{
	struct lvb *b = (struct lvb *)base;
	int r;

	if (b->dead)
		return bkerr(b, BK_EFAIL, "the connection to libvirt broke");
	if ((r = lv_set(b->lv, name, bytes)) != LV_OK)
		return lvfail(b, r, name);
	if (remember(b, name, bytes) != 0)
		return bkerr(b, BK_EFAIL, "out of memory");
	return BK_OK;
}

static int
lvb_event_fd(struct backend *base)
{
	return ((struct lvb *)base)->evfd;
}

static int
lvb_events(struct backend *base, struct bk_event *ev, size_t max)
{
	struct lvb *b = (struct lvb *)base;
	struct lv_event lev[32];
	size_t n = 0;

	if (b->dead) {
		/* Drain, so that the descriptor is quiet until list(). */
		while (lv_events(b->lv, lev, 32) > 0)
			continue;
		return bkerr(b, -1, "the connection to libvirt broke; "
		    "reconnecting");
	}
	while (n < max) {
		size_t want = max - n < 32 ? max - n : 32;
		size_t got = lv_events(b->lv, lev, want);
		if (got == 0)
			break;
		for (size_t i = 0; i < got; i++) {
			struct bk_event *e = &ev[n];
			switch (lev[i].kind) {
			case LV_EV_BALLOON: {
				struct target *t = find_target(b, lev[i].name);
				e->kind = BK_EV_BALLOON;
				if (t != NULL && t->plugged > 0 &&
				    lev[i].actual >= 0 &&
				    lev[i].actual <= INT64_MAX - t->plugged)
					lev[i].actual += t->plugged;
				break;
			}
			case LV_EV_STOPPED:
				e->kind = BK_EV_GONE;
				forget(b, lev[i].name);
				break;
			case LV_EV_STARTED:
			case LV_EV_LOST:
				e->kind = BK_EV_NEW;
				break;
			case LV_EV_CLOSED:
				b->dead = true;
				return bkerr(b, -1, lv_error(b->lv));
			}
			snprintf(e->name, sizeof(e->name), "%s", lev[i].name);
			e->actual = lev[i].actual;
			n++;
		}
	}
	return (int)n;
}

static void
lvb_close(struct backend *base)
{
	struct lvb *b = (struct lvb *)base;

	lv_close(b->lv);
	close(b->evfd);
	free(b->targets);
	free(b->uri);
	free(b);
}

static const struct backend_ops lvb_ops = {
	.name		= "libvirt",
	.list		= lvb_list,
	.stats_period	= lvb_stats_period,
	.sample		= lvb_sample,
	.set_target	= lvb_set_target,
	.event_fd	= lvb_event_fd,
	.events		= lvb_events,
	.close		= lvb_close,
};

struct backend *
backend_libvirt_open(const char *uri, int timeout_ms, char *err,
    size_t errlen)
{
	struct lvb *b = calloc(1, sizeof(*b));

	if (b == NULL || (uri != NULL && (b->uri = strdup(uri)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		free(b);
		return NULL;
	}
	b->base.ops = &lvb_ops;
	b->timeout_ms = timeout_ms;
	if ((b->lv = lv_open(uri, timeout_ms, err, errlen)) == NULL) {
		free(b->uri);
		free(b);
		return NULL;
	}
	if ((b->evfd = fcntl(lv_event_fd(b->lv), F_DUPFD_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "dup of libvirt's event pipe failed");
		lv_close(b->lv);
		free(b->uri);
		free(b);
		return NULL;
	}
	return &b->base;
}
