/*
 * libvirt's VMs through libvirt's C API (see libvirt.h).
 *
 * libvirt needs an event loop for events and for keepalive (which is
 * what bounds a call on a connection that stopped answering).  We
 * register libvirt's default implementation once per process and run it
 * in a thread of its own, with every signal blocked so that the
 * program's signals still reach its main thread.  Callbacks run in that
 * thread: they only queue events under the connection's lock and write a
 * byte to a pipe, whose read end is lv_event_fd().
 *
 * libvirt's own error printing is turned off: every failure becomes one
 * line in lv->err, from libvirt's last error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "libvirt.h"
#include "memsize.h"

#define EVQ_MAX		256	/* queued events; more are dropped (LOST) */
#define KEEPALIVE_COUNT	2	/* unanswered pings before libvirt closes */
#define OPEN_TIMEOUTS	3	/* opening may take this many timeouts:
				   ssh, authentication */

struct lv {
	virConnectPtr	 conn;
	char		 uri[256];	/* canonical, for messages */
	char		 err[LV_ERR_MAX];	/* the last failure */
	int		 cb_balloon;	/* event callback ids, -1 none */
	int		 cb_lifecycle;
	bool		 cb_close;	/* the close callback is registered */
	int		 pipe[2];	/* [0] readable while events queued */

	pthread_mutex_t	 lock;		/* everything below */
	int		 refs;		/* the owner, plus one per callback
					   libvirt still holds */
	struct lv_event	 queue[EVQ_MAX];	/* a ring */
	size_t		 head, len;
	bool		 lost;		/* the ring overflowed */
	char		 closed[LV_ERR_MAX];	/* why it closed, "" open */
};

static pthread_once_t	once = PTHREAD_ONCE_INIT;
static int		loop_ok;	/* the event loop runs */

/* libvirt's default handler prints on stderr: we report ourselves. */
static void
quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

static void *
event_loop(void *arg)
{
	(void)arg;
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);	/* do not spin on a broken loop */
	return NULL;
}

static void
init_once(void)
{
	sigset_t all, old;
	pthread_t t;

	virSetErrorFunc(NULL, quiet);
	xmlInitParser();
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, event_loop, NULL) == 0) {
		pthread_detach(t);
		loop_ok = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Copy libvirt's message into BUF as one line. */
static void
one_line(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static int
seterr(struct lv *lv, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	one_line(lv->err, sizeof(lv->err), fmt, ap);
	va_end(ap);
	return status;
}

static const char *
last_message(void)
{
	virErrorPtr e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

/*
 * A failed call WHAT on domain NAME (NULL: the connection): classify
 * libvirt's last error and say it in one line.
 */
static int
lverr(struct lv *lv, virDomainPtr dom, const char *name, const char *what)
{
	virErrorPtr e = virGetLastError();
	int code = e != NULL ? e->code : VIR_ERR_INTERNAL_ERROR;
	int from = e != NULL ? e->domain : VIR_FROM_NONE;
	int status = LV_EREFUSED;
	char msg[LV_ERR_MAX];

	/* The checks below may overwrite libvirt's last error. */
	snprintf(msg, sizeof(msg), "%s", last_message());
	virResetLastError();
	if (code == VIR_ERR_NO_DOMAIN)
		status = LV_ENODOM;
	else if (code == VIR_ERR_OPERATION_INVALID && dom != NULL &&
	    virDomainIsActive(dom) == 0)
		status = LV_ENODOM;	/* it stopped under us */
	else if (code == VIR_ERR_OPERATION_TIMEOUT ||
	    code == VIR_ERR_AGENT_UNRESPONSIVE)
		status = LV_ETIMEOUT;
	else if (code == VIR_ERR_NO_CONNECT || code == VIR_ERR_INVALID_CONN ||
	    code == VIR_ERR_RPC || from == VIR_FROM_RPC ||
	    from == VIR_FROM_REMOTE || virConnectIsAlive(lv->conn) != 1)
		status = LV_ECONN;
	virResetLastError();
	return seterr(lv, status, "%s: %s failed: %s%s", name ? name : lv->uri,
	    what, msg, status == LV_ECONN ? " (is libvirtd running? "
	    "scripts/libvirt.sh start)" : "");
}

/* --- events ---------------------------------------------------------- */

/* Under the lock: queue one event and wake the reader. */
static void
push(struct lv *lv, enum lv_event_kind kind, const char *name, int64_t actual)
{
	if (lv->len == EVQ_MAX) {
		lv->lost = true;
	} else {
		struct lv_event *ev = &lv->queue[(lv->head + lv->len) % EVQ_MAX];
		ev->kind = kind;
		snprintf(ev->name, sizeof(ev->name), "%s", name ? name : "");
		ev->actual = actual;
		lv->len++;
	}
	/* A full pipe is as readable as one byte: EAGAIN is fine. */
	ssize_t n = write(lv->pipe[1], "", 1);
	(void)n;
}

/* Drop one reference; the last one frees LV. */
static void
unref(void *opaque)
{
	struct lv *lv = opaque;
	int left;

	pthread_mutex_lock(&lv->lock);
	left = --lv->refs;
	pthread_mutex_unlock(&lv->lock);
	if (left > 0)
		return;
	close(lv->pipe[0]);
	close(lv->pipe[1]);
	pthread_mutex_destroy(&lv->lock);
	free(lv);
}

static void
on_balloon(virConnectPtr conn, virDomainPtr dom, unsigned long long kib,
    void *opaque)
{
	struct lv *lv = opaque;
	int64_t actual = kib > (unsigned long long)INT64_MAX / 1024 ? -1 :
	    (int64_t)kib * 1024;

	(void)conn;
	pthread_mutex_lock(&lv->lock);
	push(lv, LV_EV_BALLOON, virDomainGetName(dom), actual);
	pthread_mutex_unlock(&lv->lock);
}

static void
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct lv *lv = opaque;

	(void)conn;
	(void)detail;
	pthread_mutex_lock(&lv->lock);
	if (event == VIR_DOMAIN_EVENT_STOPPED ||
	    event == VIR_DOMAIN_EVENT_UNDEFINED)
		push(lv, LV_EV_STOPPED, virDomainGetName(dom), -1);
	else if (event == VIR_DOMAIN_EVENT_STARTED)
		push(lv, LV_EV_STARTED, virDomainGetName(dom), -1);
	pthread_mutex_unlock(&lv->lock);
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct lv *lv = opaque;
	static const char *const why[] = {
		[VIR_CONNECT_CLOSE_REASON_ERROR] = "a socket error",
		[VIR_CONNECT_CLOSE_REASON_EOF] = "libvirtd closed it",
		[VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = "libvirtd stopped "
		    "answering (keepalive)",
		[VIR_CONNECT_CLOSE_REASON_CLIENT] = "closed by us",
	};

	(void)conn;
	pthread_mutex_lock(&lv->lock);
	snprintf(lv->closed, sizeof(lv->closed), "%s: connection closed: %s",
	    lv->uri, reason >= 0 && reason < (int)(sizeof(why) /
	    sizeof(why[0])) && why[reason] ? why[reason] : "unknown reason");
	push(lv, LV_EV_CLOSED, NULL, -1);
	pthread_mutex_unlock(&lv->lock);
}

int
lv_event_fd(const struct lv *lv)
{
	return lv->pipe[0];
}

size_t
lv_events(struct lv *lv, struct lv_event *ev, size_t max)
{
	char drain[64];
	size_t n = 0;

	while (read(lv->pipe[0], drain, sizeof(drain)) > 0)
		continue;
	pthread_mutex_lock(&lv->lock);
	if (lv->lost && max > 0) {
		ev[n] = (struct lv_event){ .kind = LV_EV_LOST, .actual = -1 };
		n++;
		lv->lost = false;
	}
	for (; n < max && lv->len > 0; n++) {
		ev[n] = lv->queue[lv->head];
		if (ev[n].kind == LV_EV_CLOSED)
			snprintf(lv->err, sizeof(lv->err), "%s", lv->closed);
		lv->head = (lv->head + 1) % EVQ_MAX;
		lv->len--;
	}
	if (lv->len > 0 || lv->lost) {	/* more for the next call */
		ssize_t w = write(lv->pipe[1], "", 1);
		(void)w;
	}
	pthread_mutex_unlock(&lv->lock);
	return n;
}

/* --- connection ------------------------------------------------------ */

static int
register_events(struct lv *lv)
{
	/*
	 * Unregistering the close callback waits for a running one, and
	 * local drivers (test:///) keep none: no reference for it.  Domain
	 * event callbacks take one each, which libvirt drops (unref) once
	 * no dispatch can run them any more.
	 */
	if (virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL) < 0)
		return -1;
	lv->cb_close = true;
	lv->refs++;
	lv->cb_balloon = virConnectDomainEventRegisterAny(lv->conn, NULL,
	    VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_balloon), lv, unref);
	if (lv->cb_balloon < 0) {
		lv->refs--;
		return -1;
	}
	lv->refs++;
	lv->cb_lifecycle = virConnectDomainEventRegisterAny(lv->conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, unref);
	if (lv->cb_lifecycle < 0) {
		lv->refs--;
		return -1;
	}
	return 0;
}

/*
 * virConnectOpenAuth() has no timeout of its own (keepalive starts only
 * once the connection is open): a libvirtd that accepts but never
 * answers would block it for ever.  So it runs in a thread of its own; a
 * caller that gives up leaves the connection, if it ever comes, to the
 * thread to close.
 */
struct opener {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	char		*uri;		/* a copy; NULL: libvirt's default */
	virConnectPtr	 conn;		/* the result */
	char		 msg[LV_ERR_MAX];	/* libvirt's error, if none */
	bool		 done;
	bool		 abandoned;	/* the caller gave up: thread frees */
};

static void
opener_free(struct opener *o)
{
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o->uri);
	free(o);
}

static void *
opener_run(void *arg)
{
	struct opener *o = arg;
	virConnectPtr c = virConnectOpenAuth(o->uri, virConnectAuthPtrDefault,
	    0);
	bool abandoned;

	pthread_mutex_lock(&o->lock);
	if (c == NULL)
		snprintf(o->msg, sizeof(o->msg), "%s", last_message());
	virResetLastError();
	o->conn = c;
	o->done = true;
	abandoned = o->abandoned;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	if (abandoned) {
		if (c != NULL)
			virConnectClose(c);
		opener_free(o);
	}
	return NULL;
}

static virConnectPtr
open_bounded(const char *uri, int timeout_ms, char *msg, size_t len)
{
	struct opener *o = calloc(1, sizeof(*o));
	pthread_condattr_t attr;
	struct timespec until;
	sigset_t all, old;
	virConnectPtr c = NULL;
	pthread_t t;
	bool done;
	int r;

	if (o == NULL || (uri != NULL && (o->uri = strdup(uri)) == NULL)) {
		free(o);
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &attr);
	pthread_condattr_destroy(&attr);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, NULL, opener_run, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		opener_free(o);
		snprintf(msg, len, "cannot start a thread: %s", strerror(r));
		return NULL;
	}
	pthread_detach(t);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&o->lock);
	while (!o->done &&
	    pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
		continue;
	done = o->done;
	if (!done) {
		o->abandoned = true;
		snprintf(msg, len, "no answer in %.1f s", timeout_ms / 1000.0);
	} else if ((c = o->conn) == NULL) {
		snprintf(msg, len, "%s", o->msg);
	}
	pthread_mutex_unlock(&o->lock);
	if (done)
		opener_free(o);
	return c;
}

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return 0;
}

struct lv *
lv_open(const char *uri, int timeout_ms, char *err, size_t errlen)
{
	const char *label = uri != NULL ? uri : "libvirt's default URI";
	char *canon, msg[LV_ERR_MAX];
	struct lv *lv;

	pthread_once(&once, init_once);
	if (!loop_ok) {
		snprintf(err, errlen, "%s: cannot start libvirt's event loop: %s",
		    label, last_message());
		return NULL;
	}
	if ((lv = calloc(1, sizeof(*lv))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", label);
		return NULL;
	}
	if (pipe(lv->pipe) != 0 || nonblock(lv->pipe[0]) != 0 ||
	    nonblock(lv->pipe[1]) != 0) {
		snprintf(err, errlen, "%s: pipe: %s", label, strerror(errno));
		free(lv);
		return NULL;
	}
	pthread_mutex_init(&lv->lock, NULL);
	lv->refs = 1;
	lv->cb_balloon = lv->cb_lifecycle = -1;
	snprintf(lv->uri, sizeof(lv->uri), "%s", label);
	lv->conn = open_bounded(uri, OPEN_TIMEOUTS * timeout_ms, msg,
	    sizeof(msg));
	if (lv->conn == NULL) {
		snprintf(err, errlen, "%s: cannot connect: %s (is libvirtd "
		    "running? scripts/libvirt.sh start)", label, msg);
		for (char *p = err; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		unref(lv);
		return NULL;
	}
	if ((canon = virConnectGetURI(lv->conn)) != NULL) {
		snprintf(lv->uri, sizeof(lv->uri), "%s", canon);
		free(canon);
	}
	/* 1: a driver without keepalive (local, e.g. test:///): fine. */
	int interval = timeout_ms / 1000 / (KEEPALIVE_COUNT + 1);
	if (virConnectSetKeepAlive(lv->conn, interval < 1 ? 1 : interval,
	    KEEPALIVE_COUNT) < 0)
		virResetLastError();
	if (register_events(lv) < 0) {
		snprintf(err, errlen, "%s: cannot register for events: %s",
		    lv->uri, last_message());
		virResetLastError();
		lv_close(lv);
		return NULL;
	}
	return lv;
}

void
lv_close(struct lv *lv)
{
	if (lv == NULL)
		return;
	if (lv->cb_balloon >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->cb_balloon);
	if (lv->cb_lifecycle >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->cb_lifecycle);
	if (lv->cb_close)
		virConnectUnregisterCloseCallback(lv->conn, on_close);
	virConnectClose(lv->conn);
	virResetLastError();
	unref(lv);
}

const char *
lv_error(const struct lv *lv)
{
	return lv->err;
}

const char *
lv_uri(const struct lv *lv)
{
	return lv->uri;
}

/* --- domains --------------------------------------------------------- */

/* 32 hex digits, with or without dashes. */
static bool
is_uuid(const char *s)
{
	int hex = 0;

	for (; *s != '\0'; s++) {
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F'))
			hex++;
		else if (*s != '-')
			return false;
	}
	return hex == 32;
}

/* NAME (a name or a UUID) as a running domain; virDomainFree() it. */
static int
lookup(struct lv *lv, const char *name, virDomainPtr *dom)
{
	*dom = virDomainLookupByName(lv->conn, name);
	if (*dom == NULL && is_uuid(name)) {
		virResetLastError();
		*dom = virDomainLookupByUUIDString(lv->conn, name);
	}
	if (*dom == NULL) {
		int status = lverr(lv, NULL, name, "lookup");
		if (status == LV_ENODOM)
			seterr(lv, status, "%s: no such domain on %s (see virsh -c "
			    "%s list)", name, lv->uri, lv->uri);
		return status;
	}
	int active = virDomainIsActive(*dom);
	if (active != 1) {
		int status = active < 0 ? lverr(lv, *dom, name, "virDomainIsActive") :
		    seterr(lv, LV_ENODOM, "%s: domain is not running on %s", name,
		    lv->uri);
		virDomainFree(*dom);
		*dom = NULL;
		virResetLastError();
		return status;
	}
	return LV_OK;
}

int
lv_list(struct lv *lv, struct lv_dom **doms, size_t *count)
{
	virDomainPtr *list = NULL;
	int n;

	*doms = NULL;
	*count = 0;
	n = virConnectListAllDomains(lv->conn, &list,
	    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return lverr(lv, NULL, NULL, "listing domains");
	if (n > 0 && (*doms = calloc((size_t)n, sizeof(**doms))) == NULL) {
		for (int i = 0; i < n; i++)
			virDomainFree(list[i]);
		free(list);
		return seterr(lv, LV_EREFUSED, "%s: out of memory", lv->uri);
	}
	for (int i = 0; i < n; i++) {
		struct lv_dom *d = &(*doms)[*count];
		const char *name = virDomainGetName(list[i]);
		unsigned long kib = virDomainGetMaxMemory(list[i]);

		/* A domain that went away since the listing: skip it. */
		if (name != NULL && kib != 0) {
			snprintf(d->name, sizeof(d->name), "%s", name);
			d->memory = (uint64_t)kib * 1024;
			(*count)++;
		}
		virResetLastError();
		virDomainFree(list[i]);
	}
	free(list);
	return LV_OK;
}

/* --- sizes and XML --------------------------------------------------- */

int
lv_parse_size(const char *value, const char *unit, uint64_t *bytes)
{
	static const struct {
		const char	*name;
		uint64_t	 base;
		int		 power;
	} units[] = {
		{ "b", 1, 0 }, { "bytes", 1, 0 },
		{ "k", 1024, 1 }, { "kib", 1024, 1 }, { "kb", 1000, 1 },
		{ "m", 1024, 2 }, { "mib", 1024, 2 }, { "mb", 1000, 2 },
		{ "g", 1024, 3 }, { "gib", 1024, 3 }, { "gb", 1000, 3 },
		{ "t", 1024, 4 }, { "tib", 1024, 4 }, { "tb", 1000, 4 },
		{ "p", 1024, 5 }, { "pib", 1024, 5 }, { "pb", 1000, 5 },
		{ "e", 1024, 6 }, { "eib", 1024, 6 }, { "eb", 1000, 6 },
	};
	uint64_t scale = 0, v = 0;

	if (unit == NULL || *unit == '\0')
		unit = "KiB";
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(unit, units[i].name) != 0)
			continue;
		scale = 1;
		for (int p = 0; p < units[i].power; p++)
			scale *= units[i].base;
	}
	if (scale == 0 || value == NULL)
		return -1;
	while (*value == ' ' || *value == '\n' || *value == '\t')
		value++;
	if (*value < '0' || *value > '9')
		return -1;
	for (; *value >= '0' && *value <= '9'; value++) {
		if (v > (UINT64_MAX - (uint64_t)(*value - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*value - '0');
	}
	while (*value == ' ' || *value == '\n' || *value == '\t')
		value++;
	if (*value != '\0' || (v != 0 && v > UINT64_MAX / scale))
		return -1;
	*bytes = v * scale;
	return 0;
}

/* The first node PATH selects, or NULL. */
static xmlNodePtr
xpath_node(xmlXPathContextPtr ctx, const char *path)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST path, ctx);
	xmlNodePtr n = NULL;

	if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0)
		n = o->nodesetval->nodeTab[0];
	xmlXPathFreeObject(o);
	return n;
}

/* A size element: its text in its unit attribute.  -1 if absent. */
static int
xml_size(struct lv *lv, xmlNodePtr n, const char *what, int64_t *bytes)
{
	xmlChar *text, *unit;
	uint64_t v;
	int r;

	*bytes = -1;
	if (n == NULL)
		return LV_OK;
	text = xmlNodeGetContent(n);
	unit = xmlGetProp(n, BAD_CAST "unit");
	r = lv_parse_size((const char *)text, (const char *)unit, &v);
	if (r != 0 || v > INT64_MAX)
		r = seterr(lv, LV_EREFUSED, "%s '%s%s%s' is malformed: give a "
		    "number and one of libvirt's units (KiB, MiB, GiB)", what,
		    text ? (const char *)text : "", unit ? " " : "",
		    unit ? (const char *)unit : "");
	else
		*bytes = (int64_t)v;
	xmlFree(text);
	xmlFree(unit);
	return r;
}

#define VMEM_XPATH	"/domain/devices/memory[@model='virtio-mem']"

/* The first virtio-mem device's sizes; none is no error. */
static int
parse_vmem(struct lv *lv, const char *name, xmlXPathContextPtr ctx,
    struct lv_info *info)
{
	static const char *const parts[] = {
		"size", "block", "requested", "current",
	};
	int64_t v[4];
	char what[LV_NAME_MAX + 64];
	int r;

	info->boot = info->memory;
	if (xpath_node(ctx, VMEM_XPATH) == NULL)
		return LV_OK;
	for (size_t i = 0; i < 4; i++) {
		char path[128];
		snprintf(path, sizeof(path), VMEM_XPATH "/target/%s", parts[i]);
		snprintf(what, sizeof(what), "%s: virtio-mem <%s>", name,
		    parts[i]);
		if ((r = xml_size(lv, xpath_node(ctx, path), what, &v[i])) !=
		    LV_OK)
			return r;
	}
	/* <current> is there once the domain runs; a block is needed. */
	if (v[0] <= 0 || v[1] <= 0 || (uint64_t)v[0] > info->memory)
		return LV_OK;
	info->vmem = true;
	info->vmem_size = (uint64_t)v[0];
	info->vmem_block = (uint64_t)v[1];
	info->vmem_requested = v[2] > 0 ? (uint64_t)v[2] : 0;
	info->vmem_current = v[3] > 0 ? (uint64_t)v[3] : 0;
	info->boot = info->memory - info->vmem_size;
	return LV_OK;
}

/* What the live XML of a domain says about its balloon and minimum. */
static int
parse_xml(struct lv *lv, const char *name, const char *xml,
    struct lv_info *info)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml",
	    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
	xmlNodePtr n;
	xmlChar *v;
	char what[LV_NAME_MAX + 64];
	int r = LV_OK;

	if (ctx == NULL) {
		xmlFreeDoc(doc);
		return seterr(lv, LV_EREFUSED, "%s: libvirt's domain XML does not "
		    "parse", name);
	}
	xmlXPathRegisterNs(ctx, BAD_CAST "bn", BAD_CAST LV_METADATA_NS);
	n = xpath_node(ctx, "/domain/devices/memballoon");
	v = n ? xmlGetProp(n, BAD_CAST "model") : NULL;
	info->balloon = n != NULL && (v == NULL || strcmp((char *)v, "none") != 0);
	xmlFree(v);
	n = xpath_node(ctx, "/domain/devices/memballoon/stats");
	v = n ? xmlGetProp(n, BAD_CAST "period") : NULL;
	info->stats_period = v ? atoi((char *)v) : 0;
	xmlFree(v);
	/* libvirt's QEMU driver refuses <min_guarantee> (only ESX and OpenVZ
	   take it); our metadata element says the same for QEMU domains. */
	n = xpath_node(ctx, "/domain/memtune/min_guarantee");
	snprintf(what, sizeof(what), "%s: <memtune><min_guarantee>", name);
	if (n == NULL) {
		n = xpath_node(ctx, "/domain/metadata/bn:memory/bn:min_guarantee");
		snprintf(what, sizeof(what), "%s: <metadata> <min_guarantee> (%s)",
		    name, LV_METADATA_NS);
	}
	r = xml_size(lv, n, what, &info->min_guarantee);
	if (r == LV_OK)
		r = parse_vmem(lv, name, ctx, info);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return r;
}

static const char *
state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:	return "running";
	case VIR_DOMAIN_BLOCKED:	return "blocked";
	case VIR_DOMAIN_PAUSED:		return "paused";
	case VIR_DOMAIN_SHUTDOWN:	return "shutting down";
	case VIR_DOMAIN_SHUTOFF:	return "shut off";
	case VIR_DOMAIN_CRASHED:	return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:	return "suspended";
	default:			return "no state";
	}
}

static int
dom_info(struct lv *lv, virDomainPtr dom, const char *name,
    struct lv_info *info)
{
	virDomainInfo di;
	char *xml;
	int r;

	memset(info, 0, sizeof(*info));
	info->min_guarantee = -1;
	if (virDomainGetInfo(dom, &di) < 0)
		return lverr(lv, dom, name, "virDomainGetInfo");
	snprintf(info->name, sizeof(info->name), "%s", virDomainGetName(dom));
	if (virDomainGetUUIDString(dom, info->uuid) < 0)
		info->uuid[0] = '\0';
	info->id = (int)virDomainGetID(dom);
	info->state = state_name(di.state);
	info->memory = (uint64_t)di.maxMem * 1024;
	info->current = (uint64_t)di.memory * 1024;
	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL)
		return lverr(lv, dom, name, "virDomainGetXMLDesc");
	r = parse_xml(lv, name, xml, info);
	free(xml);
	return r;
}

int
lv_info(struct lv *lv, const char *name, struct lv_info *info)
{
	virDomainPtr dom;
	int r;

	if ((r = lookup(lv, name, &dom)) != LV_OK)
		return r;
	r = dom_info(lv, dom, name, info);
	virDomainFree(dom);
	return r;
}

/* libvirt's KiB into bytes; -1 for what does not fit. */
static int64_t
kib_bytes(unsigned long long kib)
{
	return kib > (unsigned long long)INT64_MAX / 1024 ? -1 :
	    (int64_t)kib * 1024;
}

static int64_t
count(unsigned long long v)
{
	return v > (unsigned long long)INT64_MAX ? -1 : (int64_t)v;
}

int
lv_stats(struct lv *lv, const char *name, struct lv_stats *st)
{
	virDomainMemoryStatStruct s[VIR_DOMAIN_MEMORY_STAT_NR];
	virDomainPtr dom;
	int n, r;

	*st = (struct lv_stats){ -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	    -1, -1 };
	if ((r = lookup(lv, name, &dom)) != LV_OK)
		return r;
	n = virDomainMemoryStats(dom, s, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	if (n < 0) {
		r = lverr(lv, dom, name, "virDomainMemoryStats");
		virDomainFree(dom);
		return r;
	}
	virDomainFree(dom);
	for (int i = 0; i < n; i++) {
		unsigned long long v = s[i].val;
		switch (s[i].tag) {
		case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
			st->actual = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_RSS:
			st->rss = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_UNUSED:
			st->unused = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
			st->available = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_USABLE:
			st->usable = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
			st->disk_caches = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
			st->swap_in = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
			st->swap_out = kib_bytes(v); break;
		case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
			st->major_faults = count(v); break;
		case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT:
			st->minor_faults = count(v); break;
		case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC:
			st->hugetlb_pgalloc = count(v); break;
		case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL:
			st->hugetlb_pgfail = count(v); break;
		case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
			st->last_update = count(v); break;
		default:
			break;	/* a tag of a newer libvirt */
		}
	}
	return LV_OK;
}

/*
 * The live XML of NAME's virtio-mem device with <requested> set to BYTES,
 * for virDomainUpdateDeviceFlags (libvirt finds the device by what the
 * rest of it says).  NULL, with lv's error set, on failure.
 */
static char *
vmem_xml(struct lv *lv, virDomainPtr dom, const char *name, uint64_t bytes)
{
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr ctx = NULL;
	xmlBufferPtr buf = NULL;
	xmlNodePtr n, req;
	char *xml, *out = NULL, kib[32];

	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL) {
		lverr(lv, dom, name, "virDomainGetXMLDesc");
		return NULL;
	}
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (doc != NULL)
		ctx = xmlXPathNewContext(doc);
	n = ctx != NULL ? xpath_node(ctx, VMEM_XPATH) : NULL;
	req = ctx != NULL ? xpath_node(ctx, VMEM_XPATH "/target/requested") :
	    NULL;
	if (n == NULL || req == NULL || (buf = xmlBufferCreate()) == NULL) {
		seterr(lv, LV_EREFUSED, "%s: no virtio-mem device with a "
		    "<requested> size in libvirt's domain XML", name);
		goto done;
	}
	snprintf(kib, sizeof(kib), "%" PRIu64, bytes / 1024);
	xmlNodeSetContent(req, BAD_CAST kib);
	xmlSetProp(req, BAD_CAST "unit", BAD_CAST "KiB");
	if (xmlNodeDump(buf, doc, n, 0, 0) < 0 ||
	    (out = strdup((const char *)xmlBufferContent(buf))) == NULL)
		seterr(lv, LV_EREFUSED, "%s: cannot write the virtio-mem "
		    "device's XML", name);
done:
	xmlBufferFree(buf);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

static int
vmem_request(struct lv *lv, virDomainPtr dom, const char *name,
    uint64_t bytes)
{
	char *xml = vmem_xml(lv, dom, name, bytes);
	int r = LV_OK;

	if (xml == NULL)
		return LV_EREFUSED;
	if (virDomainUpdateDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = lverr(lv, dom, name, "virDomainUpdateDeviceFlags");
	free(xml);
	return r;
}

int64_t
lv_logical(const struct lv_info *info, const struct lv_stats *st)
{
	if (st->actual < 0)
		return info->current > INT64_MAX ? -1 : (int64_t)info->current;
	if (info->vmem_current > (uint64_t)(INT64_MAX - st->actual))
		return -1;
	return st->actual + (int64_t)info->vmem_current;
}

/* INFO as host/memsize.c has a VM: boot RAM and the virtio-mem device. */
void
lv_memsize(const struct lv_info *info, struct memsize *m)
{
	memset(m, 0, sizeof(*m));
	m->boot = info->boot;
	m->vmem = info->vmem;
	m->plugged = info->vmem_current;
	m->requested = info->vmem_requested;
	m->region = info->vmem_size;
	m->block = info->vmem_block;
}

int
lv_set(struct lv *lv, const char *name, uint64_t bytes)
{
	struct memsize_plan p;
	struct lv_info info;
	struct memsize m;
	virDomainPtr dom;
	int r;

	if ((r = lookup(lv, name, &dom)) != LV_OK)
		return r;
	if ((r = dom_info(lv, dom, name, &info)) != LV_OK)
		goto out;
	if (!info.balloon) {
		r = seterr(lv, LV_ENOBALLOON, "%s: the domain has no balloon "
		    "device (<memballoon model='none'>)", name);
		goto out;
	}
	lv_memsize(&info, &m);
	if (bytes < 1024 || memsize_plan(&m, bytes, &p) != MEMSIZE_OK) {
		r = seterr(lv, LV_ERANGE, "%s: %" PRIu64 " KiB is outside 1 KiB "
		    "to the domain's memory (%" PRIu64 " KiB)", name,
		    bytes / 1024, info.memory / 1024);
		goto out;
	}
	/* virtio-mem first when growing, the balloon first when shrinking. */
	if (m.vmem && p.hot > m.requested &&
	    (r = vmem_request(lv, dom, name, p.hot)) != LV_OK)
		goto out;
	if (virDomainSetMemoryFlags(dom, (unsigned long)(p.balloon / 1024),
	    VIR_DOMAIN_AFFECT_LIVE) < 0) {
		r = lverr(lv, dom, name, "virDomainSetMemory");
		goto out;
	}
	if (m.vmem && p.hot < m.requested)
		r = vmem_request(lv, dom, name, p.hot);
out:
	virDomainFree(dom);
	return r;
}

int
lv_stats_period(struct lv *lv, const char *name, int seconds)
{
	virDomainPtr dom;
	int r;

	if ((r = lookup(lv, name, &dom)) != LV_OK)
		return r;
	if (virDomainSetMemoryStatsPeriod(dom, seconds,
	    VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = lverr(lv, dom, name, "virDomainSetMemoryStatsPeriod");
	virDomainFree(dom);
	return r;
}
