/*
 * The Xen model: a fake xenstored and a fake hypervisor (xenmodel.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenmodel.h"

#define MASK(i)		((i) & (XENSTORE_RING_SIZE - 1))

static void xs_violation(struct fake_xs *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void xen_violation(struct fake_xen *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* The guest broke the xenstore protocol: remember the first time. */
static void
xs_violation(struct fake_xs *s, const char *fmt, ...)
{
	va_list ap;

	if (s->violations++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(s->violation, sizeof(s->violation), fmt, ap);
	va_end(ap);
}

/* ... or made a hypercall with arguments it must not use. */
static void
xen_violation(struct fake_xen *x, const char *fmt, ...)
{
	va_list ap;

	if (x->violations++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(x->violation, sizeof(x->violation), fmt, ap);
	va_end(ap);
}

/* The test used the model beyond its size: a bug of the test. */
static void
misuse(const char *what)
{
	fprintf(stderr, "xenmodel: %s\n", what);
	abort();
}

void
fake_xen_init(struct fake_xen *x, uint64_t npages)
{
	memset(x, 0, sizeof(*x));
	fake_os_init(&x->os, npages);
	x->populate_limit = -1;
	x->decrease_limit = -1;
}

void
fake_xen_fini(struct fake_xen *x)
{
	fake_os_fini(&x->os);
}

const char *
fake_xen_check(const struct fake_xen *x)
{
	if (x->xs.violations > 0)
		return x->xs.violation;
	if (x->violations > 0)
		return x->violation;
	return NULL;
}

static struct fake_xs *
fake_xs_of(void *os)
{
	return &((struct fake_xen *)os)->xs;
}

const char *
fake_xs_get(const struct fake_xs *s, const char *path)
{
	int i;

	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].path, path) == 0)
			return s->kv[i].val;
	return NULL;
}

void
fake_xs_set(struct fake_xs *s, const char *path, const char *val, size_t len)
{
	int i;

	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].path, path) == 0)
			break;
	if (i == s->nkv) {
		if (s->nkv == FAKE_XS_KEYS)
			misuse("more than FAKE_XS_KEYS keys");
		s->nkv++;
		snprintf(s->kv[i].path, sizeof(s->kv[i].path), "%s", path);
	}
	if (len >= sizeof(s->kv[i].val))
		misuse("a value longer than a key holds");
	memcpy(s->kv[i].val, val, len);
	s->kv[i].val[len] = '\0';
}

static void
rsp_put(struct fake_xs *s, uint32_t type, uint32_t id, const void *data,
    uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = id, .len = len };
	const char *p;
	uint32_t i;

	if (s->ring.rsp_prod - s->ring.rsp_cons + sizeof(h) + len >
	    XENSTORE_RING_SIZE) {
		xs_violation(s, "guest left the response ring full");
		return;
	}
	if (s->bad_len)
		h.len = XENSTORE_PAYLOAD_MAX + 1;
	for (p = (const char *)&h, i = 0; i < sizeof(h); i++)
		s->ring.rsp[MASK(s->ring.rsp_prod++)] = p[i];
	for (p = data, i = 0; i < len; i++)
		s->ring.rsp[MASK(s->ring.rsp_prod++)] = p[i];
}

static bool
watched(const struct fake_xs *s, const char *path)
{
	int i;

	for (i = 0; i < s->nwatch; i++)
		if (strcmp(s->watch[i], path) == 0)
			return true;
	return false;
}

void
fake_xs_fire(struct fake_xs *s, const char *path)
{
	char ev[160];
	int n;

	n = snprintf(ev, sizeof(ev), "%s%c%s", path, '\0', s->token);
	rsp_put(s, XS_WATCH_EVENT, 0, ev, (uint32_t)n + 1);
}

/* Copy a string the guest sent; false when it does not fit. */
static bool
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return false;
	memmove(dst, src, n + 1);
	return true;
}

static void
serve(struct fake_xs *s, const struct xsd_sockmsg *h, const char *body)
{
	const char *val;
	size_t plen;

	s->requests++;
	if (s->stale_first) {
		s->stale_first = false;
		rsp_put(s, h->type, h->req_id + 1000, "OK", 3);
	}
	switch (h->type) {
	case XS_READ:
		if ((val = fake_xs_get(s, body)) == NULL)
			rsp_put(s, XS_ERROR, h->req_id, "ENOENT",
			    s->bare_error ? 6 : 7);
		else
			rsp_put(s, XS_READ, h->req_id, val,
			    (uint32_t)strlen(val));
		break;
	case XS_WRITE:
		if (strcmp(body, s->ro) == 0) {
			rsp_put(s, XS_ERROR, h->req_id, "EACCES", 7);
			break;
		}
		plen = strlen(body) + 1;
		if (fake_xs_get(s, body) == NULL && s->nkv == FAKE_XS_KEYS) {
			xs_violation(s, "more keys than the model keeps");
			rsp_put(s, XS_ERROR, h->req_id, "ENOSPC", 7);
			break;
		}
		if (plen > h->len) {
			xs_violation(s, "XS_WRITE without a value");
			rsp_put(s, XS_ERROR, h->req_id, "EINVAL", 7);
			break;
		}
		fake_xs_set(s, body, body + plen, h->len - plen);
		rsp_put(s, XS_WRITE, h->req_id, "OK", 3);
		if (watched(s, body))
			fake_xs_fire(s, body);
		break;
	case XS_WATCH:
		if (s->nwatch == 4 || !copy_str(s->watch[s->nwatch],
		    sizeof(s->watch[0]), body) || !copy_str(s->token,
		    sizeof(s->token), body + strlen(body) + 1)) {
			xs_violation(s, "XS_WATCH the model cannot keep");
			rsp_put(s, XS_ERROR, h->req_id, "E2BIG", 6);
			break;
		}
		s->nwatch++;
		rsp_put(s, XS_WATCH, h->req_id, "OK", 3);
		/* xenstored fires a new watch at once. */
		fake_xs_fire(s, body);
		break;
	default:
		rsp_put(s, XS_ERROR, h->req_id, "EINVAL", 7);
	}
}

/* Consume the request ring, a byte at a time, like a real daemon. */
static void
fake_xs_kick(struct fake_xs *s)
{
	struct xsd_sockmsg h;

	if (s->mute)
		return;
	while (s->ring.req_cons != s->ring.req_prod) {
		s->msg[s->got++] = s->ring.req[MASK(s->ring.req_cons++)];
		if (s->got < sizeof(h))
			continue;
		memcpy(&h, s->msg, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			xs_violation(s, "request of %u bytes", h.len);
			s->got = 0;
			continue;
		}
		if (s->got < sizeof(h) + h.len)
			continue;
		s->msg[s->got] = '\0';
		serve(s, &h, s->msg + sizeof(h));
		s->got = 0;
	}
}

static bool
all_zero(const uint8_t *p)
{
	size_t i;

	for (i = 0; i < 4096; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Index of a frame of the window, or -1 for boot RAM (or outside it). */
static long
hot_index(struct fake_xen *x, uint64_t pfn)
{
	if (pfn < HOT_BASE >> 12)
		return -1;
	if (pfn >= (HOT_BASE >> 12) + HOT_PAGES) {
		xen_violation(x, "frame 0x%llx past the window",
		    (unsigned long long)pfn);
		return -1;
	}
	return (long)(pfn - (HOT_BASE >> 12));
}

/* One extent back to the hypervisor: it must hold no guest data. */
static void
fx_decrease_extent(struct fake_xen *x, uint64_t pfn, uint32_t order)
{
	uint64_t j;
	long h;

	for (j = 0; j < (1ull << order); j++) {
		if (!all_zero(fake_pa_to_va(&x->os, (pfn + j) << 12)))
			x->not_zeroed++;
		if ((h = hot_index(x, pfn + j)) < 0)
			continue;
		if (!x->populated[h])
			xen_violation(x, "decrease of unpopulated frame 0x%llx",
			    (unsigned long long)(pfn + j));
		else
			x->hot_populated--;
		x->populated[h] = false;
	}
}

static long
fx_decrease(struct fake_xen *x, struct xen_memory_reservation *r)
{
	const uint64_t *pfns = (const uint64_t *)(uintptr_t)r->extent_start;
	long n;
	uint64_t i;

	if (r->domid != DOMID_SELF ||
	    (r->extent_order != 0 && r->extent_order != 9))
		xen_violation(x, "decrease_reservation: domain %u, order %u",
		    r->domid, r->extent_order);
	x->decrease_calls++;
	x->order9_calls += r->extent_order == 9;
	n = (long)r->nr_extents;
	if (x->decrease_limit >= 0 && n > x->decrease_limit)
		n = x->decrease_limit;
	for (i = 0; i < (uint64_t)n; i++)
		fx_decrease_extent(x, pfns[i], r->extent_order);
	x->curres -= n << r->extent_order;
	return n;
}

/* Xen's rules: at most order 9, never past max_pages. */
static long
fx_populate(struct fake_xen *x, struct xen_memory_reservation *r)
{
	const uint64_t *pfns = (const uint64_t *)(uintptr_t)r->extent_start;
	uint64_t i, j, pages;
	long n, h;

	if (r->domid != DOMID_SELF ||
	    (r->extent_order != 0 && r->extent_order != 9)) {
		xen_violation(x, "populate_physmap: domain %u, order %u",
		    r->domid, r->extent_order);
		return -22;	/* EINVAL */
	}
	pages = 1ull << r->extent_order;
	x->populate_calls++;
	x->order9_calls += r->extent_order == 9;
	if (r->extent_order == 9 && x->no_order9)
		return 0;
	n = (long)r->nr_extents;
	if (x->populate_limit >= 0 && n > x->populate_limit)
		n = x->populate_limit;
	for (i = 0; i < (uint64_t)n; i++) {
		if (x->curres + (long)pages > x->maxres)
			return (long)i;
		if ((pfns[i] & (pages - 1)) != 0)
			xen_violation(x, "populate of misaligned extent 0x%llx",
			    (unsigned long long)pfns[i]);
		for (j = 0; j < pages; j++) {
			if ((h = hot_index(x, pfns[i] + j)) < 0)
				continue;
			if (x->populated[h])
				xen_violation(x, "populate of populated frame "
				    "0x%llx", (unsigned long long)(pfns[i] + j));
			else
				x->hot_populated++;
			x->populated[h] = true;
		}
		x->curres += (long)pages;
	}
	return n;
}

static long
fx_memory_op(void *os, unsigned int cmd, void *arg)
{
	struct fake_xen *x = os;

	switch (cmd) {
	case XENMEM_maximum_reservation:
		if (*(xen_domid_t *)arg != DOMID_SELF)
			xen_violation(x, "maximum_reservation of another "
			    "domain");
		return x->maxres;
	case XENMEM_current_reservation:
		return x->curres;
	case XENMEM_decrease_reservation:
		return fx_decrease(x, arg);
	case XENMEM_populate_physmap:
		return fx_populate(x, arg);
	}
	return -38;	/* ENOSYS */
}

/* The OS's side of hot-plug: pmem's books, as the guest keeps them. */
static int
fh_add_range(void *os, uint64_t base, uint64_t size)
{
	struct fake_hot *h = &((struct fake_xen *)os)->hot;

	h->add_calls++;
	if (h->refuse)
		return -1;
	h->base = base;
	h->size = size;
	return 0;
}

/* First window frame of [pa, pa + len), or -1 (a violation). */
static long
fh_first(struct fake_xen *x, uint64_t pa, uint64_t len)
{
	struct fake_hot *h = &x->hot;

	if (pa < h->base || pa + len > h->base + h->size ||
	    ((pa | len) & 4095) != 0 || pa < HOT_BASE ||
	    pa + len > HOT_BASE + HOT_PAGES * 4096ull) {
		xen_violation(x, "hot range 0x%llx+0x%llx outside the window",
		    (unsigned long long)pa, (unsigned long long)len);
		return -1;
	}
	return (long)((pa - HOT_BASE) >> 12);
}

static void
fh_online(void *os, uint64_t pa, uint64_t len)
{
	struct fake_xen *x = os;
	struct fake_hot *h = &x->hot;
	long i, first = fh_first(x, pa, len);

	if (first < 0)
		return;
	for (i = first; i < first + (long)(len >> 12); i++) {
		/* The hypervisor has the frame, the OS did not. */
		if (!x->populated[i] || h->present[i]) {
			xen_violation(x, "online of frame %ld: populated %d, "
			    "present %d", i, x->populated[i], h->present[i]);
			continue;
		}
		h->present[i] = true;
		h->npresent++;
	}
}

static int
fh_offline(void *os, uint64_t pa, uint64_t len)
{
	struct fake_xen *x = os;
	struct fake_hot *h = &x->hot;
	long i, first = fh_first(x, pa, len);

	if (first < 0)
		return -1;
	for (i = first; i < first + (long)(len >> 12); i++)
		if (!h->present[i] || h->used[i])
			return -1;
	for (i = first; i < first + (long)(len >> 12); i++)
		h->present[i] = false;
	h->npresent -= len >> 12;
	return 0;
}

const struct xen_hot_ops fake_hot_ops = {
	.add_range = fh_add_range,
	.online = fh_online,
	.offline = fh_offline,
};

static int
fx_get_param(void *os, uint32_t index, uint64_t *val)
{
	(void)os;
	(void)index;
	(void)val;
	return -1;
}

static void
fx_evtchn_send(void *os, uint32_t port)
{
	if (port != FAKE_XEN_EVTCHN)
		xen_violation(os, "kick of event channel %u", port);
	fake_xs_kick(fake_xs_of(os));
}

/* Waiting moves the fake clock, so that timeouts happen. */
static void
fx_relax(void *os)
{
	((struct fake_xen *)os)->os.now_ms += 10;
}

const struct xen_hv fake_xen_hv = {
	.memory_op = fx_memory_op,
	.get_param = fx_get_param,
	.evtchn_send = fx_evtchn_send,
	.relax = fx_relax,
};
