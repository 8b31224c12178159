/*
 * The Xen front-end: the xenstore client's framing against a fake
 * xenstored working on the same ring, and the balloon's mapping of
 * memory/target, reservations and short hypervisor answers against a fake
 * hypervisor (tests/harness/xenmodel.c).  Both fakes answer synchronously
 * when the client kicks the event channel, as a fast dom0 would.
 */
#include <stdarg.h>
#include <stdbool.h>
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
#include "xenmodel.h"
#include "xenstore.h"

#define RAM_PAGES	8192	/* 32 MiB of fake guest RAM */

struct fixture {
	struct fake_xen		 x;
	struct xs_client	 xs;
	struct xenballoon_softc	 sc;
	uint64_t		*bitmap;
	bool			 poison;	/* attach with poisoning */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fake_xen_init(&f->x, RAM_PAGES);
	f->x.os.reserved = 100;
	f->bitmap = calloc(1, BN_BITMAP_BYTES(fake_max_pfn(&f->x.os)));
	xs_init(&f->xs, &fake_xen_hv, &f->x, &f->x.xs.ring,
	    FAKE_XEN_EVTCHN);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->x.os.extra);
	/* Whatever a test did, the guest kept to the protocol. */
	assert_null(fake_xen_check(&f->x));
	fake_xen_fini(&f->x);
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
	assert_string_equal(fake_xs_get(&f->x.xs, "memory/target"), "131072");
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

	fake_xs_set(&f->x.xs, "a", "524288", 6);
	fake_xs_set(&f->x.xs, "b", "12x", 3);
	fake_xs_set(&f->x.xs, "c", "99999999999999999999999", 23);
	fake_xs_set(&f->x.xs, "d", "", 0);
	/* Its first 23 characters are a number: the whole of it is too long. */
	fake_xs_set(&f->x.xs, "e", "0000000000000000000000012", 25);
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
	assert_int_equal(strlen(fake_xs_get(&f->x.xs, "big")), sizeof(big) - 1);
	/* A long reply is read whole, the caller gets its start. */
	fake_xs_set(&f->x.xs, "big", big, 900);
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
	fake_xs_fire(&f->x.xs, "memory/target");
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
	fake_xs_set(&f->x.xs, "long", val, strlen(val));
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
		.poison = f->poison,
		.poison_val = 0x5a5a5a5au,
		.hv = &fake_xen_hv,
		.os = &f->x,
		.store_ring = &f->x.xs.ring,
		.store_evtchn = FAKE_XEN_EVTCHN,
	};
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)static_max_kib);
	fake_xs_set(&f->x.xs, "memory/static-max", v, strlen(v));
	snprintf(v, sizeof(v), "%llu", (unsigned long long)target_kib);
	fake_xs_set(&f->x.xs, "memory/target", v, strlen(v));
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
		.ops = &fake_hot_ops,
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
	fake_xs_set(&f->x.xs, "memory/static-max", v, strlen(v));
	f->x.maxres = (long)(kib / 4) + 256;
	fake_xs_fire(&f->x.xs, "memory/static-max");
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
	fake_xs_set(&f->x.xs, "memory/target", v, strlen(v));
	fake_xs_fire(&f->x.xs, "memory/target");
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

/* An OS that poisons gets its pages back filled, once each. */
static void
test_xb_deflate_poisons(void **state)
{
	struct fixture *f = *state;
	uint32_t w;

	f->poison = true;
	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, RAM_PAGES / 2);
	assert_int_equal(f->x.os.filled, 0);
	host_target(f, RAM_PAGES * 4);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(f->sc.balloon.pages, 0);
	assert_int_equal(f->x.os.filled, RAM_PAGES / 2);
	/* The fake allocator hands out the highest page first. */
	memcpy(&w, f->x.os.ram + (RAM_PAGES - 1) * 4096 + 4092, 4);
	assert_int_equal(w, 0x5a5a5a5au);
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
	assert_string_equal(fake_xs_get(&f->x.xs, "memory/target"), "21024");
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
	assert_string_equal(fake_xs_get(&f->x.xs, "memory/target"), "32768");
	assert_int_equal(fake_log_count(&f->x.os, "read-only"), 1);
	(void)bn_balloon_run(&f->sc.balloon);
	assert_int_equal(node(f, "machdep.xen.balloon.current"), 16384);
	/* Another watch firing is no new wish of the host... */
	fake_xs_fire(&f->x.xs, "memory/static-max");
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
	assert_string_equal(fake_xs_get(&f->x.xs, "memory/target"), "32768");
}

/* xl mem-max lowers the maximum reservation: "max" follows. */
static void
test_xb_mem_max_lowers_max(void **state)
{
	struct fixture *f = *state;
	uint64_t old;

	attach(f, RAM_PAGES * 4, RAM_PAGES * 2);
	assert_int_equal(node(f, "machdep.xen.balloon.max"), RAM_PAGES * 4);
	fake_xs_set(&f->x.xs, "memory/static-max", "28672", 5);
	fake_xs_fire(&f->x.xs, "memory/static-max");
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
	assert_string_equal(fake_xs_get(&f->x.xs, "memory/target"), "41984");
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
		.ops = &fake_hot_ops,
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
		.ops = &fake_hot_ops,
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
		.hv = &fake_xen_hv,
		.os = &f->x,
		.store_ring = &f->x.xs.ring,
		.store_evtchn = FAKE_XEN_EVTCHN,
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
		T(test_xb_deflate_poisons),
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
