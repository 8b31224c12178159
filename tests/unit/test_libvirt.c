/*
 * host/libvirt.c against libvirt's test driver (test:///default): real
 * libvirt, in this process, with a running domain "test" of 8 GiB that
 * has a balloon and memory statistics.  The daemon's side (QEMU behind
 * libvirtd) is tests/e2e/test_libvirt.py.
 *
 * Every open of test:///default in one process shares one state, so the
 * tests run in order and the last one stops the domain.
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

#include "libvirt.h"

#define URI	"test:///default"
#define MiB	(1024ull * 1024)
#define GiB	(1024 * MiB)

static void
parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(lv_parse_size("512", NULL, &v), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(lv_parse_size(" 128\n", "MiB", &v), 0);
	assert_int_equal(v, 128 * MiB);
	assert_int_equal(lv_parse_size("1", "GB", &v), 0);
	assert_int_equal(v, 1000000000);
	assert_int_equal(lv_parse_size("2", "g", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(lv_parse_size("7", "bytes", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(lv_parse_size("0", "EiB", &v), 0);
	assert_int_equal(v, 0);
	v = 42;
	assert_int_equal(lv_parse_size("", "KiB", &v), -1);
	assert_int_equal(lv_parse_size("-1", "KiB", &v), -1);
	assert_int_equal(lv_parse_size("1.5", "GiB", &v), -1);
	assert_int_equal(lv_parse_size("12abc", NULL, &v), -1);
	assert_int_equal(lv_parse_size("1", "furlong", &v), -1);
	assert_int_equal(lv_parse_size("16", "EiB", &v), -1);
	assert_int_equal(lv_parse_size("18446744073709551616", "b", &v), -1);
	assert_int_equal(lv_parse_size("18014398509481984", "KiB", &v), -1);
	assert_int_equal(lv_parse_size(NULL, NULL, &v), -1);
	assert_int_equal(v, 42);	/* untouched by failures */
}

static void
open_fails_in_one_line(void **state)
{
	char err[LV_ERR_MAX] = "";

	(void)state;
	assert_null(lv_open("nosuchdriver:///system", 3000, err, sizeof(err)));
	assert_non_null(strstr(err, "nosuchdriver:///system: cannot connect"));
	assert_null(strchr(err, '\n'));
}

static struct lv *
open_test(void)
{
	char err[LV_ERR_MAX] = "";
	struct lv *lv = lv_open(URI, 3000, err, sizeof(err));

	if (lv == NULL)
		fail_msg("%s", err);
	return lv;
}

static void
list_and_info(void **state)
{
	struct lv *lv = open_test();
	struct lv_dom *doms;
	struct lv_info info;
	size_t n;

	(void)state;
	assert_string_equal(lv_uri(lv), URI);
	assert_int_equal(lv_list(lv, &doms, &n), LV_OK);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "test");
	assert_int_equal(doms[0].memory, 8 * GiB);
	free(doms);

	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_string_equal(info.name, "test");
	assert_string_equal(info.state, "running");
	assert_int_equal(info.memory, 8 * GiB);
	assert_true(info.balloon);
	assert_int_equal(info.min_guarantee, -1);
	/* By UUID too. */
	char uuid[sizeof(info.uuid)];
	strcpy(uuid, info.uuid);
	assert_int_equal(lv_info(lv, uuid, &info), LV_OK);
	assert_string_equal(info.name, "test");

	assert_int_equal(lv_info(lv, "nosuchvm", &info), LV_ENODOM);
	assert_non_null(strstr(lv_error(lv), "nosuchvm: no such domain on "
	    URI));
	lv_close(lv);
}

static void
set_and_stats(void **state)
{
	struct lv *lv = open_test();
	struct lv_info info;
	struct lv_stats st;

	(void)state;
	assert_int_equal(lv_set(lv, "test", 1 * GiB), LV_OK);
	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_int_equal(info.current, 1 * GiB);

	assert_int_equal(lv_set(lv, "test", 0), LV_ERANGE);
	assert_int_equal(lv_set(lv, "test", 1023), LV_ERANGE);
	assert_int_equal(lv_set(lv, "test", 8 * GiB + 1024), LV_ERANGE);
	assert_non_null(strstr(lv_error(lv), "domain's memory (8388608 KiB)"));
	assert_int_equal(lv_set(lv, "nosuchvm", GiB), LV_ENODOM);

	assert_int_equal(lv_stats(lv, "test", &st), LV_OK);
	assert_true(st.actual > 0);
	assert_true(st.rss > 0);
	assert_true(st.unused >= 0 && st.usable >= 0 && st.available > 0);
	assert_true(st.last_update > 0);
	assert_int_equal(lv_stats(lv, "nosuchvm", &st), LV_ENODOM);
	assert_int_equal(st.actual, -1);
	assert_int_equal(lv_stats_period(lv, "test", 2), LV_OK);
	lv_close(lv);
}

/* Our <metadata> element, set through a connection of our own. */
static void
set_metadata(const char *xml)
{
	virConnectPtr c = virConnectOpen(URI);
	virDomainPtr d;

	assert_non_null(c);
	assert_non_null(d = virDomainLookupByName(c, "test"));
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
	    xml, "bn", LV_METADATA_NS, VIR_DOMAIN_AFFECT_LIVE), 0);
	virDomainFree(d);
	virConnectClose(c);
}

static void
min_guarantee_from_metadata(void **state)
{
	struct lv *lv = open_test();
	struct lv_info info;

	(void)state;
	set_metadata("<memory><min_guarantee unit='MiB'>128</min_guarantee>"
	    "</memory>");
	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_int_equal(info.min_guarantee, 128 * MiB);
	set_metadata("<memory><min_guarantee>4096</min_guarantee></memory>");
	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_int_equal(info.min_guarantee, 4 * MiB);
	set_metadata("<memory><min_guarantee unit='MiB'>lots</min_guarantee>"
	    "</memory>");
	assert_int_equal(lv_info(lv, "test", &info), LV_EREFUSED);
	assert_non_null(strstr(lv_error(lv), "'lots MiB' is malformed"));
	set_metadata("<memory/>");
	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_int_equal(info.min_guarantee, -1);
	lv_close(lv);
}

/* A domain with a virtio-mem device: its sizes, its reach, its range. */
static void
virtio_mem_sizes(void **state)
{
	static const char xml[] =
	    "<domain type='test'><name>vmem</name>"
	    "<maxMemory slots='1' unit='KiB'>1572864</maxMemory>"
	    "<memory unit='KiB'>1572864</memory>"
	    "<currentMemory unit='KiB'>524288</currentMemory>"
	    "<vcpu>1</vcpu>"
	    "<cpu><numa><cell id='0' cpus='0' memory='524288' unit='KiB'/>"
	    "</numa></cpu>"
	    "<os><type>hvm</type></os>"
	    "<devices><memballoon model='virtio'/>"
	    "<memory model='virtio-mem'><target>"
	    "<size unit='KiB'>1048576</size><node>0</node>"
	    "<block unit='KiB'>2048</block>"
	    "<requested unit='KiB'>262144</requested>"
	    "</target></memory></devices></domain>";
	struct lv *lv = open_test();
	virConnectPtr c = virConnectOpen(URI);
	virDomainPtr dom;
	struct lv_info info;
	struct lv_stats st = { .actual = 512 * MiB };

	(void)state;
	assert_non_null(c);
	assert_non_null(dom = virDomainCreateXML(c, xml, 0));
	assert_int_equal(lv_info(lv, "vmem", &info), LV_OK);
	assert_true(info.vmem);
	assert_int_equal(info.memory, 1536 * MiB);
	assert_int_equal(info.boot, 512 * MiB);
	assert_int_equal(info.vmem_size, 1 * GiB);
	assert_int_equal(info.vmem_block, 2 * MiB);
	assert_int_equal(info.vmem_requested, 256 * MiB);
	/* <current> is QEMU's (tests/e2e/test_libvirt.py): none here. */
	assert_int_equal(info.vmem_current, 0);
	info.vmem_current = 128 * MiB;
	assert_int_equal(lv_logical(&info, &st), 640 * MiB);
	assert_int_equal(lv_set(lv, "vmem", 1536 * MiB + 1024), LV_ERANGE);
	/* Without the device: boot is all of it, nothing plugged. */
	assert_int_equal(lv_info(lv, "test", &info), LV_OK);
	assert_false(info.vmem);
	assert_int_equal(info.boot, info.memory);
	assert_int_equal(lv_logical(&info, &st), 512 * MiB);
	virDomainDestroy(dom);
	virDomainFree(dom);
	virConnectClose(c);
	lv_close(lv);
}

/* Wait up to 10 s for one event of KIND on "test". */
static void
expect_event(struct lv *lv, enum lv_event_kind kind)
{
	struct pollfd p = { .fd = lv_event_fd(lv), .events = POLLIN };
	struct lv_event ev[8];

	for (int tries = 0; tries < 100; tries++) {
		poll(&p, 1, 100);
		size_t n = lv_events(lv, ev, 8);
		for (size_t i = 0; i < n; i++)
			if (ev[i].kind == kind && strcmp(ev[i].name, "test") == 0)
				return;
	}
	fail_msg("no event of kind %d for 'test' in 10 s", kind);
}

static void
events_and_stopped_domain(void **state)
{
	struct lv *lv = open_test();
	struct lv_info info;
	virConnectPtr c = virConnectOpen(URI);
	virDomainPtr d;

	(void)state;
	assert_non_null(c);
	assert_non_null(d = virDomainLookupByName(c, "test"));
	assert_int_equal(virDomainDestroy(d), 0);
	expect_event(lv, LV_EV_STOPPED);
	assert_int_equal(lv_info(lv, "test", &info), LV_ENODOM);
	assert_non_null(strstr(lv_error(lv), "test: domain is not running"));
	assert_int_equal(virDomainCreate(d), 0);
	expect_event(lv, LV_EV_STARTED);
	virDomainFree(d);
	virConnectClose(c);
	lv_close(lv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size),
		cmocka_unit_test(open_fails_in_one_line),
		cmocka_unit_test(list_and_info),
		cmocka_unit_test(set_and_stats),
		cmocka_unit_test(min_guarantee_from_metadata),
		cmocka_unit_test(virtio_mem_sizes),
		cmocka_unit_test(events_and_stopped_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
