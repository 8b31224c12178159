/*
 * The Xen front-end: the xenstore client's framing against a fake
 * xenstored working on the same ring, and the balloon's mapping of
 * memory/target, reservations and short hypervisor answers against a fake
 * hypervisor.  Both fakes answer synchronously when the client kicks the
 * event channel, as a fast dom0 would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ballonet/balloon.h>
#include <ballonet/sysctl.h>

#include "fake_port.h"
#include "xen_abi.h"
#include "xenballoon.h"
#include "xenstore.h"

#define RAM_PAGES	8192	/* 32 MiB of fake guest RAM */
#define HOT_BASE	0x4000000ull	/* the hot-plug window: 64 MiB... */
#define HOT_BLOCKS	16		/* ...+ 32 MiB, blocks of 2 MiB */
#define HOT_PAGES	(HOT_BLOCKS * 512)
#define HOT_KIB		(HOT_PAGES * 4)
#define NKEYS		16
#define MASK(i)		((i) & (XENSTORE_RING_SIZE - 1))

/* The fake xenstored: a few keys, one watch, on the guest's ring. */
struct fake_xs {
	struct xenstore_domain_interface ring;
	struct {
		char	path[64];
		char	val[4200];
	} kv[NKEYS];
	int		 nkv;
	char		 watch[4][64];	/* watched paths */
	int		 nwatch;
	char		 token[64];
	bool		 mute;		/* never answer */
	char		 ro[64];	/* a path the guest may not write */
	bool		 stale_first;	/* send a reply with a wrong id first */
	bool		 bad_len;	/* answer with an impossible length */
	bool		 bare_error;	/* error names without their NUL */
	char		 msg[16 + XENSTORE_PAYLOAD_MAX + 64];
	size_t		 got;
	unsigned	 requests;
};

/* The OS's books of the hot-plug window (pmem's, in the guest). */
struct fake_hot {
	uint64_t	 base, size;	/* what add_range() was given */
	unsigned	 add_calls;
	bool		 refuse;	/* add_range() fails */
	bool		 present[HOT_PAGES];
	bool		 used[HOT_PAGES];	/* handed out: offline fails */
	uint64_t	 npresent;
};

/* The fake hypervisor. */
struct fake_xen {
	struct fake_os	 os;		/* first: the port's "os" handle */
	struct fake_xs	 xs;
	struct fake_hot	 hot;
	long		 maxres, curres;	/* pages; curres <= maxres */
	long		 populate_limit;	/* frames per call; < 0: all */
	long		 decrease_limit;	/* the same for decrease */
	bool		 no_order9;	/* no 2 MiB run: order 9 gets 0 */
	unsigned	 populate_calls, decrease_calls;
	unsigned	 order9_calls;	/* populate or decrease, order 9 */
	uint64_t	 not_zeroed;	/* decreased pages with data in them */
	bool		 populated[HOT_PAGES];	/* the window's frames */
	uint64_t	 hot_populated;
};

static struct fake_xs *
fake_xs_of(void *os)
{
	return &((struct fake_xen *)os)->xs;
}

static const char *
kv_get(struct fake_xs *s, const char *path)
{
	int i;

	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].path, path) == 0)
			return s->kv[i].val;
	return NULL;
}

static void
kv_set(struct fake_xs *s, const char *path, const char *val, size_t len)
{
	int i;

	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].path, path) == 0)
			break;
	if (i == s->nkv) {
		assert_true(s->nkv < NKEYS);
		s->nkv++;
		snprintf(s->kv[i].path, sizeof(s->kv[i].path), "%s", path);
	}
	assert_true(len < sizeof(s->kv[i].val));
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

	assert_true(s->ring.rsp_prod - s->ring.rsp_cons + sizeof(h) + len <=
	    XENSTORE_RING_SIZE);
	if (s->bad_len)
		h.len = XENSTORE_PAYLOAD_MAX + 1;
	for (p = (const char *)&h, i = 0; i < sizeof(h); i++)
		s->ring.rsp[MASK(s->ring.rsp_prod++)] = p[i];
	for (p = data, i = 0; i < len; i++)
		s->ring.rsp[MASK(s->ring.rsp_prod++)] = p[i];
}

static bool
watched(struct fake_xs *s, const char *path)
{
	int i;

	for (i = 0; i < s->nwatch; i++)
		if (strcmp(s->watch[i], path) == 0)
			return true;
	return false;
}

static void
fire(struct fake_xs *s, const char *path)
{
	char ev[160];
	int n;

	n = snprintf(ev, sizeof(ev), "%s%c%s", path, '\0', s->token);
	rsp_put(s, XS_WATCH_EVENT, 0, ev, (uint32_t)n + 1);
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	assert_true(n < size);
	memmove(dst, src, n + 1);
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
		if ((val = kv_get(s, body)) == NULL)
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
		kv_set(s, body, body + plen, h->len - plen);
		rsp_put(s, XS_WRITE, h->req_id, "OK", 3);
		if (watched(s, body))
			fire(s, body);
		break;
	case XS_WATCH:
		assert_true(s->nwatch < 4);
		copy_str(s->watch[s->nwatch++], sizeof(s->watch[0]), body);
		copy_str(s->token, sizeof(s->token), body + strlen(body) + 1);
		rsp_put(s, XS_WATCH, h->req_id, "OK", 3);
		fire(s, body);		/* xenstored fires a new watch at once */
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
		assert_true(h.len <= XENSTORE_PAYLOAD_MAX);
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

/* Index of a frame of the window, or -1 for boot RAM. */
static long
hot_index(uint64_t pfn)
{
	if (pfn < HOT_BASE >> 12)
		return -1;
	assert_true(pfn < (HOT_BASE >> 12) + HOT_PAGES);
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
		if ((h = hot_index(pfn + j)) < 0)
			continue;
		assert_true(x->populated[h]);
		x->populated[h] = false;
		x->hot_populated--;
	}
}

static long
fx_decrease(struct fake_xen *x, struct xen_memory_reservation *r)
{
	const uint64_t *pfns = (const uint64_t *)(uintptr_t)r->extent_start;
	long n;
	uint64_t i;

	assert_int_equal(r->domid, DOMID_SELF);
	assert_true(r->extent_order == 0 || r->extent_order == 9);
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
	uint64_t i, j, pages = 1ull << r->extent_order;
	long n, h;

	assert_int_equal(r->domid, DOMID_SELF);
	assert_true(r->extent_order == 0 || r->extent_order == 9);
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
		assert_int_equal(pfns[i] & (pages - 1), 0);
		for (j = 0; j < pages; j++) {
			if ((h = hot_index(pfns[i] + j)) < 0)
				continue;
			assert_false(x->populated[h]);
			x->populated[h] = true;
			x->hot_populated++;
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
		assert_int_equal(*(xen_domid_t *)arg, DOMID_SELF);
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

static long
fh_first(struct fake_hot *h, uint64_t pa, uint64_t len)
{
	assert_true(pa >= h->base && pa + len <= h->base + h->size);
	assert_int_equal((pa | len) & 4095, 0);
	return (long)((pa - HOT_BASE) >> 12);
}

static void
fh_online(void *os, uint64_t pa, uint64_t len)
{
	struct fake_xen *x = os;
	struct fake_hot *h = &x->hot;
	long i, first = fh_first(h, pa, len);

	for (i = first; i < first + (long)(len >> 12); i++) {
		/* The hypervisor has the frame, the OS did not. */
		assert_true(x->populated[i]);
		assert_false(h->present[i]);
		h->present[i] = true;
		h->npresent++;
	}
}

static int
fh_offline(void *os, uint64_t pa, uint64_t len)
{
	struct fake_hot *h = &((struct fake_xen *)os)->hot;
	long i, first = fh_first(h, pa, len);

	for (i = first; i < first + (long)(len >> 12); i++)
		if (!h->present[i] || h->used[i])
			return -1;
	for (i = first; i < first + (long)(len >> 12); i++)
		h->present[i] = false;
	h->npresent -= len >> 12;
	return 0;
}

static const struct xen_hot_ops fh_ops = {
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
	assert_int_equal(port, 7);
	fake_xs_kick(fake_xs_of(os));
}

/* Waiting moves the fake clock, so that timeouts happen. */
static void
fx_relax(void *os)
{
	((struct fake_xen *)os)->os.now_ms += 10;
}

static const struct xen_hv fx_hv = {
	.memory_op = fx_memory_op,
	.get_param = fx_get_param,
	.evtchn_send = fx_evtchn_send,
	.relax = fx_relax,
};

struct fixture {
	struct fake_xen		 x;
	struct xs_client	 xs;
	struct xenballoon_softc	 sc;
	uint64_t		*bitmap;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fake_os_init(&f->x.os, RAM_PAGES);
	f->x.os.reserved = 100;
	f->x.populate_limit = -1;
	f->x.decrease_limit = -1;
	f->bitmap = calloc(1, BN_BITMAP_BYTES(fake_max_pfn(&f->x.os)));
	xs_init(&f->xs, &fx_hv, &f->x, &f->x.xs.ring, 7);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->x.os.extra);
	fake_os_fini(&f->x.os);
	free(f->bitmap);
	free(f);
	return 0;
}

/*
 * The xenstore client.
 */

static void
test_xs_read_write(void **state)
{
	struct fixture *f = *state;
	char buf[32];

	assert_int_equal(xs_write(&f->xs, "memory/target", "131072"), BN_OK);
	assert_string_equal(kv_get(&f->x.xs, "memory/target"), "131072");
	assert_int_equal(xs_read(&f->xs, "memory/target", buf, sizeof(buf)),
	    BN_OK);
	assert_string_equal(buf, "131072");
	assert_int_equal(xs_read(&f->xs, "memory/none", buf, sizeof(buf)),
	    BN_ENOENT);
	/* Truncated to the caller's buffer, always terminated. */
	assert_int_equal(xs_read(&f->xs, "memory/target", buf, 4), BN_OK);
	assert_string_equal(buf, "131");
}

static void
test_xs_read_u64(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	kv_set(&f->x.xs, "a", "524288", 6);
	kv_set(&f->x.xs, "b", "12x", 3);
	kv_set(&f->x.xs, "c", "99999999999999999999999", 23);
	kv_set(&f->x.xs, "d", "", 0);
	/* Its first 23 characters are a number: the whole of it is too long. */
	kv_set(&f->x.xs, "e", "0000000000000000000000012", 25);
	assert_int_equal(xs_read_u64(&f->xs, "a", &v), BN_OK);
	assert_int_equal(v, 524288);
	assert_int_equal(xs_read_u64(&f->xs, "b", &v), BN_EINVAL);
	assert_int_equal(xs_read_u64(&f->xs, "d", &v), BN_EINVAL);
	assert_int_not_equal(xs_read_u64(&f->xs, "c", &v), BN_OK);
	v = 7;
	assert_int_equal(xs_read_u64(&f->xs, "e", &v), BN_ERANGE);
	assert_int_equal(v, 7);
}

/* Hundreds of messages: the free-running indexes wrap the ring many times. */
static void
test_xs_ring_wraps(void **state)
{
	struct fixture *f = *state;
	char val[16], buf[16];
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(val, sizeof(val), "%d", i * 7);
		assert_int_equal(xs_write(&f->xs, "k", val), BN_OK);
		assert_int_equal(xs_read(&f->xs, "k", buf, sizeof(buf)), BN_OK);
		assert_string_equal(buf, val);
	}
	assert_true(f->x.xs.ring.req_prod > 4 * XENSTORE_RING_SIZE);
	assert_true(f->x.xs.ring.rsp_prod > 4 * XENSTORE_RING_SIZE);
	assert_int_equal(f->xs.bogus, 0);
}

/* A request larger than the ring goes out in pieces. */
static void
test_xs_request_larger_than_ring(void **state)
{
	struct fixture *f = *state;
	static char big[3000];
	char buf[8];

	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(xs_write(&f->xs, "big", big), BN_OK);
	assert_int_equal(strlen(kv_get(&f->x.xs, "big")), sizeof(big) - 1);
	/* A long reply is read whole, the caller gets its start. */
	kv_set(&f->x.xs, "big", big, 900);
	assert_int_equal(xs_read(&f->xs, "big", buf, sizeof(buf)), BN_OK);
	assert_string_equal(buf, "xxxxxxx");
	assert_int_equal(xs_write(&f->xs, "k", "1"), BN_OK);
}

static void
test_xs_watch_events(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(xs_watch(&f->xs, "memory/target", "tok"), BN_OK);
	assert_string_equal(f->x.xs.token, "tok");
	assert_int_equal(xs_poll(&f->xs), 1);	/* the initial event */
	assert_int_equal(xs_poll(&f->xs), 0);
	/* dom0 writes: the event waits on the ring until polled. */
	fire(&f->x.xs, "memory/target");
	assert_true(xs_pending(&f->xs));
	assert_int_equal(xs_poll(&f->xs), 1);
	assert_false(xs_pending(&f->xs));
	/* An event that arrives while a reply is awaited is kept. */
	assert_int_equal(xs_write(&f->xs, "memory/target", "1024"), BN_OK);
	assert_int_equal(xs_poll(&f->xs), 1);
}

static void
test_xs_stale_reply_ignored(void **state)
{
	struct fixture *f = *state;

	f->x.xs.stale_first = true;
	assert_int_equal(xs_write(&f->xs, "k", "v"), BN_OK);
	assert_int_equal(f->xs.bogus, 1);
}

static void
test_xs_timeout(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	f->x.xs.mute = true;
	assert_int_equal(xs_read(&f->xs, "k", buf, sizeof(buf)),
	    BN_ETIMEDOUT);
	assert_true(f->x.os.now_ms >= XS_TIMEOUT_MS);
}

static void
test_xs_protocol_error(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	f->x.xs.bad_len = true;
	assert_int_equal(xs_read(&f->xs, "k", buf, sizeof(buf)), BN_EIO);
	assert_true(f->xs.broken);
	assert_int_equal(xs_read(&f->xs, "k", buf, sizeof(buf)), BN_ENODEV);
}

/* An error name without its NUL is read up to its length, not beyond. */
static void
test_xs_error_reply_length(void **state)
{
	struct fixture *f = *state;
	char buf[8], val[200];

	memset(val, 'Z', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	kv_set(&f->x.xs, "long", val, strlen(val));
	assert_int_equal(xs_read(&f->xs, "long", buf, sizeof(buf)), BN_OK);
	f->x.xs.bare_error = true;
	assert_int_equal(xs_read(&f->xs, "none", buf, sizeof(buf)),
	    BN_ENOENT);
}

static void
test_xs_error_names(void **state)
{
	(void)state;
	assert_int_equal(xs_error_code("ENOENT"), BN_ENOENT);
	assert_int_equal(xs_error_code("EACCES"), BN_EPERM);
	assert_int_equal(xs_error_code("EQUOTA"), BN_EIO);
}

/*
 * The balloon front-end.
 */

/*
 * static-max and target in KiB; reservations in pages.  "hot": a window
 * of HOT_BLOCKS at HOT_BASE, mapped in the test process.
 */
static void
attach_with(struct fixture *f, uint64_t static_max_kib, uint64_t target_kib,
    const struct xenhot_config *hot)
{
	struct xenballoon_config cfg = {
		.name = "balloon0",
		.ram_pages = RAM_PAGES,
		.max_pfn = fake_max_pfn(&f->x.os),
		.bitmap = f->bitmap,
		.hv = &fx_hv,
		.os = &f->x,
		.store_ring = &f->x.xs.ring,
		.store_evtchn = 7,
	};
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)static_max_kib);
	kv_set(&f->x.xs, "memory/static-max", v, strlen(v));
	snprintf(v, sizeof(v), "%llu", (unsigned long long)target_kib);
	kv_set(&f->x.xs, "memory/target", v, strlen(v));
	f->x.maxres = (long)(static_max_kib / 4) + 256;	/* xl's slack */
	f->x.curres = (long)(static_max_kib / 4);
	if (hot != NULL)
		cfg.hot = *hot;
	assert_int_equal(xenballoon_attach(&f->sc, &cfg), BN_OK);
}

static void
attach(struct fixture *f, uint64_t static_max_kib, uint64_t target_kib)
{
	attach_with(f, static_max_kib, target_kib, NULL);
}

static uint64_t hot_map[1];

static void
attach_hot(struct fixture *f, uint64_t static_max_kib, uint64_t target_kib)
{
	struct xenhot_config hot = {
		.ops = &fh_ops,
		.base = HOT_BASE,
		.size = HOT_PAGES * 4096ull,
		.map = hot_map,
		.map_bytes = sizeof(hot_map),
	};

	f->x.os.extra = calloc(HOT_PAGES, 4096);
	assert_non_null(f->x.os.extra);
	f->x.os.extra_base = HOT_BASE;
	f->x.os.extra_bytes = HOT_PAGES * 4096ull;
	attach_with(f, static_max_kib, target_kib, &hot);
}

/* xl mem-max: static-max and the hypervisor's limit (plus xl's slack). */
static void
host_mem_max(struct fixture *f, uint64_t kib)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)kib);
	kv_set(&f->x.xs, "memory/static-max", v, strlen(v));
	f->x.maxres = (long)(kib / 4) + 256;
	fire(&f->x.xs, "memory/static-max");
}

/* Run the engine until it has nothing left to do now (a bounded number). */
static void
settle(struct fixture *f)
{
	int i;

	for (i = 0; i < 64; i++) {
		f->x.os.wakeups = 0;
		(void)bn_balloon_run(&f->sc.balloon);
		if (f->x.os.wakeups == 0 && bn_balloon_settled(&f->sc.balloon))
			break;
	}
}

/* dom0 writes memory/target, as xl mem-set does. */
static void
host_target(struct fixture *f, uint64_t kib)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)kib);
	kv_set(&f->x.xs, "memory/target", v, strlen(v));
	fire(&f->x.xs, "memory/target");
}

static uint64_t
node(struct fixture *f, const char *name)
{
	uint64_t v;

	assert_int_equal(bn_sysctl_read(&f->sc.balloon, name, &v), BN_OK);
	return v;
}

static void
test_xb_inflates_to_target(void **state)
{
	struct fixture *f = *state;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, RAM_PAGES / 2);
	assert_int_equal(node(f, "machdep.xen.balloon.current"),
	    RAM_PAGES * 2);
	assert_int_equal(node(f, "hw.balloon.npages"), RAM_PAGES / 2);
	assert_int_equal(f->x.not_zeroed, 0);
	/* Synchronous: one request slot, 1024 frames per hypercall. */
	assert_int_equal(f->x.decrease_calls, RAM_PAGES / 2 / 1024);
	assert_int_equal(bn_balloon_check(&f->sc.balloon), BN_OK);

	host_target(f, RAM_PAGES * 4);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, 0);
	assert_int_equal(f->x.curres, RAM_PAGES);
	assert_int_equal(f->x.os.nused, 0);
}

/* The host counts 1 MiB more than the guest's RAM: targets shift by it. */
static void
test_xb_offset_from_static_max(void **state)
{
	struct fixture *f = *state;
	uint64_t clip;

	attach(f, RAM_PAGES * 4 + 1024, RAM_PAGES * 4 + 1024);
	assert_int_equal(f->sc.offset_pages, 256);
	assert_int_equal(xenballoon_host_pages(&f->sc, RAM_PAGES * 4 + 1024,
	    &clip, NULL), 0);
	assert_int_equal(clip, 0);
	assert_int_equal(xenballoon_host_pages(&f->sc, 16384 + 1024, &clip,
	    NULL), RAM_PAGES - 4096);
	assert_int_equal(xenballoon_host_pages(&f->sc, 0, &clip, NULL),
	    RAM_PAGES);
	assert_int_equal(xenballoon_host_kib(&f->sc, 16384), 16384 + 1024);
	host_target(f, 16384 + 1024);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 16384);
	assert_int_equal(node(f, "machdep.xen.balloon.target"), 16384);
}

/* A static-max near 2^64 KiB: the shift saturates instead of overflowing. */
static void
test_xb_huge_offset(void **state)
{
	struct fixture *f = *state;

	f->sc.offset_pages = (int64_t)(UINT64_MAX / BN_KIB_PER_PAGE) -
	    RAM_PAGES;
	/* Past INT64_MAX: the old signed sum was undefined there. */
	assert_int_equal(xenballoon_host_kib(&f->sc, 16384),
	    UINT64_MAX - 16387);
	assert_int_equal(xenballoon_host_kib(&f->sc, 40000), UINT64_MAX);
	assert_int_equal(xenballoon_host_kib(&f->sc, UINT64_MAX), UINT64_MAX);
	f->sc.offset_pages = -256;
	assert_int_equal(xenballoon_host_kib(&f->sc, 16384), 16384 - 1024);
	assert_int_equal(xenballoon_host_kib(&f->sc, 100), 0);
}

static void
test_xb_hot_plug_is_clipped(void **state)
{
	struct fixture *f = *state;
	char line[128];

	attach(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_target(f, RAM_PAGES * 8);
	(void)bn_balloon_run(&f->sc.balloon);
	(void)bn_balloon_run(&f->sc.balloon);
	snprintf(line, sizeof(line), "balloon0: memory 'hot-plug' unsupported"
	    " - clipping reservation %d => %d pages.", RAM_PAGES * 2,
	    RAM_PAGES);
	assert_true(fake_log_contains(&f->x.os, line));
	assert_int_equal(fake_log_count(&f->x.os, "hot-plug"), 1);
	assert_int_equal(f->sc.balloon.pages, 0);
}

/* A short populate_physmap: log it, keep the rest, retry with backoff. */
static void
test_xb_short_populate_backs_off(void **state)
{
	struct fixture *f = *state;
	unsigned calls;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	(void)bn_balloon_run(&f->sc.balloon);
	f->x.populate_limit = 100;
	host_target(f, RAM_PAGES * 4);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_true(fake_log_contains(&f->x.os, "balloon0: increase "
	    "reservation incomplete: was 1024, returned 100"));
	assert_int_equal(f->sc.balloon.pages, RAM_PAGES / 2 - 100);
	assert_int_equal(bn_balloon_check(&f->sc.balloon), BN_OK);
	/* Within the backoff nothing is asked. */
	calls = f->x.populate_calls;
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->x.populate_calls, calls);
	assert_int_equal(f->sc.backoff_ms, XB_BACKOFF_MIN_MS);
	/* The delay doubles and stays bounded. */
	while (f->sc.backoff_ms < XB_BACKOFF_MAX_MS) {
		f->x.os.now_ms += f->sc.backoff_ms;
		(void)bn_balloon_run(&f->sc.balloon);
	}
	f->x.os.now_ms += f->sc.backoff_ms;
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.backoff_ms, XB_BACKOFF_MAX_MS);
	/* The hypervisor has pages again: the balloon empties. */
	f->x.populate_limit = -1;
	f->x.os.now_ms += f->sc.backoff_ms;
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, 0);
	assert_int_equal(f->sc.backoff_ms, 0);
	assert_int_equal(bn_balloon_check(&f->sc.balloon), BN_OK);
}

/* A decrease_reservation that takes nothing: no spinning, a retry later. */
static void
test_xb_short_decrease_backs_off(void **state)
{
	struct fixture *f = *state;
	uint64_t delay;

	f->x.decrease_limit = 0;
	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	delay = bn_balloon_run(&f->sc.balloon);
	assert_true(delay > 0 && delay != BN_RUN_IDLE);
	assert_int_equal(f->x.decrease_calls, 1);
	assert_int_equal(f->sc.balloon.pages, 0);
	assert_int_equal(f->x.os.nused, 0);
	assert_int_equal(fake_log_count(&f->x.os,
	    "decrease reservation incomplete"), 1);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->x.decrease_calls, 1);
	/* The hypervisor takes frames again: the target is reached. */
	f->x.decrease_limit = -1;
	f->x.os.now_ms += delay;
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, RAM_PAGES / 2);
	assert_int_equal(bn_balloon_check(&f->sc.balloon), BN_OK);
}

/* Writing target in the guest writes memory/target for the host. */
static void
test_xb_guest_target_goes_to_xenstore(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach(f, RAM_PAGES * 4 + 1024, RAM_PAGES * 4 + 1024);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "20000", &old), BN_OK);
	assert_string_equal(kv_get(&f->x.xs, "memory/target"), "21024");
	assert_int_equal(node(f, "machdep.xen.balloon.target"), 20000);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 20000);
	/* The host's next word wins: no guest target lingers. */
	host_target(f, RAM_PAGES * 4 + 1024);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, 0);
}

/* xl's default: memory/target is read-only to the guest. */
static void
test_xb_guest_target_read_only(void **state)
{
	struct fixture *f = *state;
	uint64_t old;
	int i;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 4);
	snprintf(f->x.xs.ro, sizeof(f->x.xs.ro), "memory/target");
	for (i = 0; i < 2; i++)
		assert_int_equal(bn_sysctl_write(&f->sc.balloon,
		    "machdep.xen.balloon.target", "16384", &old), BN_OK);
	assert_string_equal(kv_get(&f->x.xs, "memory/target"), "32768");
	assert_int_equal(fake_log_count(&f->x.os, "read-only"), 1);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 16384);
	/* Another watch firing is no new wish of the host... */
	fire(&f->x.xs, "memory/static-max");
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.target"), 16384);
	/* ...a new memory/target is. */
	host_target(f, 24576);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 24576);
}

static void
test_xb_eperm(void **state)
{
	struct fixture *f = *state;
	uint64_t old, min;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 4);
	min = node(f, "machdep.xen.balloon.min");
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "32772", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "1", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.min", "4", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.min", "40000", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.current", "8000", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.max", "8000", &old), BN_EPERM);
	assert_int_equal(node(f, "machdep.xen.balloon.min"), min);
	assert_string_equal(kv_get(&f->x.xs, "memory/target"), "32768");
}

/* xl mem-max lowers the maximum reservation: "max" follows. */
static void
test_xb_mem_max_lowers_max(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	assert_int_equal(node(f, "machdep.xen.balloon.max"), RAM_PAGES * 4);
	kv_set(&f->x.xs, "memory/static-max", "28672", 5);
	fire(&f->x.xs, "memory/static-max");
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.max"),
	    RAM_PAGES * 4 - 4096);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "30000", &old), BN_EPERM);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "28672", &old), BN_OK);
}

static void
test_xb_min_holds(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 4);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.min", "24576", &old), BN_OK);
	host_target(f, 8192);
	(void)bn_balloon_run(&f->sc.balloon);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 24576);
	assert_true(fake_log_contains(&f->x.os, "balloon0: WARNING: balloon "
	    "could not reach target 8192 (current 24576)"));
}

/*
 * Hot-plug: xl mem-max raises static-max above the boot memory map, then
 * xl mem-set asks for more than the RAM.
 */

/* Every frame the hypervisor holds in the window is in the OS's books. */
static void
assert_hot_books(struct fixture *f)
{
	uint64_t plugged = f->sc.hot.plugged * 512;

	assert_int_equal(f->x.hot_populated, plugged);
	assert_int_equal(f->x.hot.npresent, plugged);
	assert_int_equal(node(f, "machdep.xen.balloon.hotplugged"),
	    plugged * 4);
	assert_int_equal(bn_balloon_check(&f->sc.balloon), BN_OK);
}

static void
test_xh_grows_and_shrinks(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	/* The books of the whole window at attach, nothing populated. */
	assert_int_equal(f->x.hot.add_calls, 1);
	assert_int_equal(f->x.hot.base, HOT_BASE);
	assert_int_equal(f->x.hot.size, HOT_PAGES * 4096ull);
	assert_true(fake_log_contains(&f->x.os, "balloon0: hot-plug window "
	    "0x4000000-0x5ffffff, 32 MiB"));
	assert_int_equal(node(f, "hw.balloon.max"), RAM_PAGES * 4);
	assert_int_equal(f->x.hot_populated, 0);

	/* xl mem-max: max is what the guest can reach now. */
	host_mem_max(f, RAM_PAGES * 4 + 20480);
	settle(f);
	assert_int_equal(node(f, "hw.balloon.max"), RAM_PAGES * 4 + 20480);
	assert_int_equal(f->x.hot_populated, 0);

	/* xl mem-set: 10 blocks of 2 MiB, at order 9, lowest first. */
	host_target(f, RAM_PAGES * 4 + 20480);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 10);
	assert_int_equal(f->sc.balloon.pages, 0);
	assert_int_equal(f->x.curres, RAM_PAGES + 5120);
	assert_true(f->x.populated[0] && f->x.populated[10 * 512 - 1]);
	assert_false(f->x.populated[10 * 512]);
	assert_int_equal(f->sc.hot.order0, 0);
	assert_int_equal(node(f, "hw.balloon.current"), RAM_PAGES * 4 + 20480);
	assert_int_equal(node(f, "hw.balloon.target"), RAM_PAGES * 4 + 20480);
	assert_hot_books(f);
	assert_int_equal(fake_log_count(&f->x.os, "hot-plug' unsupported"), 0);
	/* Above max: EPERM, as ever. */
	assert_int_equal(bn_sysctl_write(&f->sc.balloon, "hw.balloon.target",
	    "53252", &old), BN_EPERM);

	/* Lower: the blocks go back, zeroed where they were written. */
	memset(fake_pa_to_va(&f->x.os, HOT_BASE + 9 * 0x200000ull + 8192),
	    0xaa, 4096);
	host_target(f, RAM_PAGES * 2);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 0);
	assert_int_equal(f->sc.balloon.pages, RAM_PAGES / 2);
	assert_int_equal(f->x.curres, RAM_PAGES / 2);
	assert_int_equal(f->x.not_zeroed, 0);
	assert_int_equal(node(f, "hw.balloon.current"), RAM_PAGES * 2);
	assert_hot_books(f);
}

/* A target between blocks: whole blocks, the rest stays in the balloon. */
static void
test_xh_partial_block(void **state)
{
	struct fixture *f = *state;

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 4 + HOT_KIB);
	host_target(f, RAM_PAGES * 4 + 3000);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 2);
	assert_int_equal(f->sc.balloon.pages, 1024 - 750);
	assert_int_equal(node(f, "hw.balloon.current"), RAM_PAGES * 4 + 3000);
	assert_int_equal(node(f, "hw.balloon.target"), RAM_PAGES * 4 + 3000);
	assert_int_equal(f->x.curres, RAM_PAGES + 750);
	assert_hot_books(f);
}

/* The guest's own target above its RAM goes to memory/target whole. */
static void
test_xh_guest_target_above_boot(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach_hot(f, RAM_PAGES * 4 + 1024, RAM_PAGES * 4 + 1024);
	host_mem_max(f, RAM_PAGES * 4 + 1024 + 8192);
	settle(f);
	assert_int_equal(node(f, "machdep.xen.balloon.max"),
	    RAM_PAGES * 4 + 8192);
	assert_int_equal(bn_sysctl_write(&f->sc.balloon,
	    "machdep.xen.balloon.target", "40960", &old), BN_OK);
	assert_string_equal(kv_get(&f->x.xs, "memory/target"), "41984");
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 4);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 40960);
	assert_hot_books(f);
}

/* Blocks in use stay plugged; said once; unplugged once they are free. */
static void
test_xh_in_use_stays(void **state)
{
	struct fixture *f = *state;

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 4 + HOT_KIB);
	host_target(f, RAM_PAGES * 4 + HOT_KIB);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, HOT_BLOCKS);
	/* The guest uses a page of block 3 and one of block 12. */
	f->x.hot.used[3 * 512 + 7] = true;
	f->x.hot.used[12 * 512] = true;
	host_target(f, RAM_PAGES * 4);
	settle(f);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 2);
	assert_true(f->x.populated[3 * 512] && f->x.populated[12 * 512]);
	assert_int_equal(fake_log_count(&f->x.os, "balloon0: cannot unplug "
	    "down to 0 MiB: 4 MiB plugged are in use; retrying as memory "
	    "frees up"), 1);
	assert_int_equal(node(f, "hw.balloon.current"), RAM_PAGES * 4 + 4096);
	assert_hot_books(f);
	/* Freed: the next runs take them back, without a new wish. */
	f->x.hot.used[12 * 512] = false;
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 1);
	f->x.hot.used[3 * 512 + 7] = false;
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 0);
	assert_int_equal(f->x.curres, RAM_PAGES);
	assert_int_equal(fake_log_count(&f->x.os, "in use"), 1);
	assert_hot_books(f);
}

/* No 2 MiB run in the hypervisor: 512 frames of 4 KiB a block. */
static void
test_xh_order0_fallback(void **state)
{
	struct fixture *f = *state;

	f->x.no_order9 = true;
	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 4 + 8192);
	host_target(f, RAM_PAGES * 4 + 8192);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 4);
	assert_int_equal(f->sc.hot.order0, 4);
	assert_int_equal(f->x.curres, RAM_PAGES + 2048);
	assert_hot_books(f);
	/* Order 9 to give back works whatever the populate's order. */
	host_target(f, RAM_PAGES * 4);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 0);
	assert_hot_books(f);
}

/*
 * The hypervisor's limit (xl mem-set: target + 1 MiB) cuts a block: the
 * part it gave goes back, the guest says so and retries with backoff.
 */
static void
test_xh_short_populate_rolls_back(void **state)
{
	struct fixture *f = *state;
	unsigned calls;

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 4 + 8192);
	f->x.maxres = RAM_PAGES + 1024 + 100;	/* 2 blocks and 100 frames */
	host_target(f, RAM_PAGES * 4 + 8192);
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 2);
	assert_true(fake_log_contains(&f->x.os, "balloon0: increase "
	    "reservation incomplete: was 512, returned 100"));
	assert_int_equal(f->x.curres, RAM_PAGES + 1024);
	assert_hot_books(f);
	calls = f->x.populate_calls;
	settle(f);
	assert_int_equal(f->x.populate_calls, calls);	/* backing off */
	assert_int_equal(f->sc.hot.backoff_ms, XB_BACKOFF_MIN_MS);
	/* The host raises its limit: the next attempt completes. */
	f->x.maxres = RAM_PAGES + 2048 + 256;
	f->x.os.now_ms += XB_BACKOFF_MIN_MS;
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 4);
	assert_int_equal(f->sc.hot.backoff_ms, 0);
	assert_hot_books(f);
}

/*
 * A decrease the hypervisor answers short: the blocks it never reached are
 * free memory again; the one it stopped in may be partly gone: it goes.
 */
static void
test_xh_short_decrease(void **state)
{
	struct fixture *f = *state;

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 4 + 8192);
	host_target(f, RAM_PAGES * 4 + 8192);
	settle(f);
	f->x.decrease_limit = 1;
	host_target(f, RAM_PAGES * 4);
	(void)bn_balloon_run(&f->sc.balloon);
	/* Block 3 went, block 2 stopped it and went a frame at a time. */
	assert_int_equal(f->sc.hot.plugged, 2);
	assert_true(fake_log_contains(&f->x.os, "balloon0: decrease "
	    "reservation incomplete: was 4, returned 1"));
	assert_false(f->x.populated[2 * 512] || f->x.populated[3 * 512 + 5]);
	assert_true(f->x.populated[1 * 512] && f->x.populated[0]);
	assert_hot_books(f);
	f->x.decrease_limit = -1;
	settle(f);
	assert_int_equal(f->sc.hot.plugged, 0);
	assert_hot_books(f);
}

/* Above the window: clipped, with a line that says why. */
static void
test_xh_window_full_clips(void **state)
{
	struct fixture *f = *state;
	char line[160];

	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	host_mem_max(f, RAM_PAGES * 16);
	settle(f);
	assert_int_equal(node(f, "hw.balloon.max"), RAM_PAGES * 4 + HOT_KIB);
	host_target(f, RAM_PAGES * 16);
	settle(f);
	snprintf(line, sizeof(line), "balloon0: memory 'hot-plug' window of "
	    "32 MiB full - clipping reservation %d => %d pages.",
	    RAM_PAGES * 4, RAM_PAGES + HOT_PAGES);
	assert_true(fake_log_contains(&f->x.os, line));
	assert_int_equal(f->sc.hot.plugged, HOT_BLOCKS);
	assert_hot_books(f);
}

/* A window the OS cannot take, or a bad one: no hot-plug, the old clip. */
static void
test_xh_unusable_window(void **state)
{
	struct fixture *f = *state;
	struct xenhot_config bad = {
		.ops = &fh_ops,
		.base = HOT_BASE + 4096,
		.size = 0x200000,
		.map = hot_map,
		.map_bytes = sizeof(hot_map),
	};

	attach_with(f, RAM_PAGES * 4, RAM_PAGES * 4, &bad);
	assert_true(fake_log_contains(&f->x.os, "balloon0: cannot use memory "
	    "at 0x4001000-0x4200fff: Invalid argument; no hot-plug"));
	assert_int_equal(f->x.hot.add_calls, 0);
	host_mem_max(f, RAM_PAGES * 8);
	host_target(f, RAM_PAGES * 8);
	settle(f);
	assert_int_equal(node(f, "hw.balloon.max"), RAM_PAGES * 4);
	assert_int_equal(fake_log_count(&f->x.os, "hot-plug' unsupported - "
	    "clipping"), 1);
	assert_int_equal(f->x.populate_calls, 0);
}

static void
test_xh_os_refuses_window(void **state)
{
	struct fixture *f = *state;

	f->x.hot.refuse = true;
	attach_hot(f, RAM_PAGES * 4, RAM_PAGES * 4);
	assert_int_equal(f->x.hot.add_calls, 1);
	assert_true(fake_log_contains(&f->x.os, "no hot-plug"));
	host_mem_max(f, RAM_PAGES * 8);
	host_target(f, RAM_PAGES * 8);
	settle(f);
	assert_int_equal(f->x.hot_populated, 0);
	assert_int_equal(fake_log_count(&f->x.os, "hot-plug' unsupported"), 1);
}

/* An attach that fails (xenstore silent) sets up no books for the window. */
static void
test_xh_failed_attach_takes_no_books(void **state)
{
	struct fixture *f = *state;
	struct xenhot_config hot = {
		.ops = &fh_ops,
		.base = HOT_BASE,
		.size = HOT_PAGES * 4096ull,
		.map = hot_map,
		.map_bytes = sizeof(hot_map),
	};
	struct xenballoon_config cfg = {
		.name = "balloon0",
		.ram_pages = RAM_PAGES,
		.max_pfn = fake_max_pfn(&f->x.os),
		.bitmap = f->bitmap,
		.hv = &fx_hv,
		.os = &f->x,
		.store_ring = &f->x.xs.ring,
		.store_evtchn = 7,
		.hot = hot,
	};

	f->x.xs.mute = true;
	assert_int_not_equal(xenballoon_attach(&f->sc, &cfg), BN_OK);
	assert_int_equal(f->x.hot.add_calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_xs_read_write),
		T(test_xs_read_u64),
		T(test_xs_ring_wraps),
		T(test_xs_request_larger_than_ring),
		T(test_xs_watch_events),
		T(test_xs_stale_reply_ignored),
		T(test_xs_timeout),
		T(test_xs_protocol_error),
		T(test_xs_error_reply_length),
		T(test_xs_error_names),
		T(test_xb_inflates_to_target),
		T(test_xb_offset_from_static_max),
		T(test_xb_hot_plug_is_clipped),
		T(test_xb_huge_offset),
		T(test_xb_short_populate_backs_off),
		T(test_xb_short_decrease_backs_off),
		T(test_xb_guest_target_goes_to_xenstore),
		T(test_xb_guest_target_read_only),
		T(test_xb_eperm),
		T(test_xb_mem_max_lowers_max),
		T(test_xb_min_holds),
		T(test_xh_grows_and_shrinks),
		T(test_xh_partial_block),
		T(test_xh_guest_target_above_boot),
		T(test_xh_in_use_stays),
		T(test_xh_order0_fallback),
		T(test_xh_short_populate_rolls_back),
		T(test_xh_short_decrease),
		T(test_xh_window_full_clips),
		T(test_xh_unusable_window),
		T(test_xh_os_refuses_window),
		T(test_xh_failed_attach_takes_no_books),
#undef T
	};

	return cmocka_run_group_tests_name("xen", tests, NULL, NULL);
}
