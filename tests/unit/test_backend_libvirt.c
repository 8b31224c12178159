/*
 * ballonetd's libvirt backend (daemon/backend_libvirt.c) against
 * libvirt's test driver (test:///default), in this process: list,
 * sample, set target (and the target it remembers), statistics period,
 * events, and a domain that stops.  tests/e2e/test_libvirt.py runs the
 * daemon against real QEMU behind libvirtd.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>

#include "backend.h"

#define URI	"test:///default"
#define MiB	(1024ll * 1024)
#define GiB	(1024 * MiB)

static struct backend *
open_test(void)
{
	char err[BK_ERR_MAX] = "";
	struct backend *b = backend_libvirt_open(URI, 3000, err, sizeof(err));

	if (b == NULL)
		fail_msg("%s", err);
	assert_string_equal(b->ops->name, "libvirt");
	return b;
}

static void
open_fails(void **state)
{
	char err[BK_ERR_MAX] = "";

	(void)state;
	assert_null(backend_libvirt_open("nosuchdriver:///", 3000, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "cannot connect"));
}

static void
list_sample_set(void **state)
{
	struct backend *b = open_test();
	struct bk_sample s;
	struct bk_vm *vms;
	size_t n;

	(void)state;
	assert_int_equal(b->ops->list(b, &vms, &n), BK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(vms[0].name, "test");
	assert_int_equal(vms[0].memory, 8 * GiB);
	free(vms);

	assert_int_equal(b->ops->stats_period(b, "test", 1), BK_OK);
	assert_int_equal(b->ops->sample(b, "test", &s), BK_OK);
	assert_int_equal(s.memory, 8 * GiB);
	assert_true(s.actual > 0);
	assert_int_equal(s.target, -1);		/* none set yet */
	assert_int_equal(s.min_guarantee, -1);
	assert_int_equal(s.oom_kills, -1);
	assert_true(s.stats_time > 0 && s.free >= 0 && s.total > 0);

	assert_int_equal(b->ops->set_target(b, "test", 2 * GiB), BK_OK);
	assert_int_equal(b->ops->sample(b, "test", &s), BK_OK);
	assert_int_equal(s.target, 2 * GiB);
	assert_int_equal(b->ops->set_target(b, "test", 0), BK_ERANGE);
	assert_int_equal(b->ops->set_target(b, "test", 9 * GiB), BK_ERANGE);
	assert_int_equal(b->ops->set_target(b, "nosuchvm", GiB), BK_EGONE);
	assert_int_equal(b->ops->sample(b, "nosuchvm", &s), BK_EGONE);
	assert_non_null(strstr(b->err, "no such domain on " URI));
	assert_null(strstr(b->err, "nosuchvm:"));	/* the daemon names it */
	b->ops->close(b);
}

/* Events until one of KIND for "test" came, within 10 s. */
static void
expect_event(struct backend *b, enum bk_event_kind kind)
{
	struct pollfd p = { .fd = b->ops->event_fd(b), .events = POLLIN };
	struct bk_event ev[8];

	assert_true(p.fd >= 0);
	for (int tries = 0; tries < 100; tries++) {
		poll(&p, 1, 100);
		int n = b->ops->events(b, ev, 8);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			if (ev[i].kind == kind && strcmp(ev[i].name, "test") == 0)
				return;
	}
	fail_msg("no event of kind %d for 'test' in 10 s", kind);
}

static void
gone_and_back(void **state)
{
	struct backend *b = open_test();
	virConnectPtr c = virConnectOpen(URI);
	struct bk_sample s;
	struct bk_vm *vms;
	virDomainPtr d;
	size_t n;

	(void)state;
	assert_non_null(c);
	assert_non_null(d = virDomainLookupByName(c, "test"));
	assert_int_equal(b->ops->set_target(b, "test", 3 * GiB), BK_OK);
	assert_int_equal(virDomainDestroy(d), 0);
	expect_event(b, BK_EV_GONE);
	assert_int_equal(b->ops->sample(b, "test", &s), BK_EGONE);
	assert_int_equal(b->ops->list(b, &vms, &n), BK_OK);
	assert_int_equal(n, 0);
	assert_null(vms);
	assert_int_equal(virDomainCreate(d), 0);
	expect_event(b, BK_EV_NEW);
	assert_int_equal(b->ops->list(b, &vms, &n), BK_OK);
	assert_int_equal(n, 1);
	free(vms);
	/* A domain that came back has no target of ours. */
	assert_int_equal(b->ops->sample(b, "test", &s), BK_OK);
	assert_int_equal(s.target, -1);
	virDomainFree(d);
	virConnectClose(c);
	b->ops->close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_fails),
		cmocka_unit_test(list_sample_set),
		cmocka_unit_test(gone_and_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
