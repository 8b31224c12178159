/*
 * Unit tests of ballonetd's configuration file (daemon/config.c): what
 * it accepts, and one clear line for everything it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"

static char path[] = "/tmp/test_policy_config.XXXXXX";

static int
load(const char *text, struct dconf *c, char *err, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	dconf_init(c);
	return dconf_load(path, c, err, len);
}

static void
full_file(void **state)
{
	struct dconf c;
	char err[256];
	const struct dconf_vm *v;

	(void)state;
	assert_int_equal(load(
	    "policy = \"squeezed\";\nbudget = \"1536M\";\nreserve = 512;\n"
	    "interval = 0.5;\nstats_period = 3;\non_exit = \"max\";\n"
	    "control = \"/tmp/x.sock\";\nmetrics = \"127.0.0.1:9464\";\n"
	    "defaults = { min = \"64M\"; shares = 10; };\n"
	    "vms = ( { name = \"a\"; min = \"128M\"; max = \"1G\"; shares = 2000;"
	    " on_exit = \"300M\"; },\n"
	    "        { name = \"b\"; socket = \"/tmp/b.sock\"; } );\n",
	    &c, err, sizeof(err)), 0);
	assert_string_equal(c.policy, "squeezed");
	assert_int_equal(c.budget, 1536 * MIB);
	assert_int_equal(c.reserve, 512 * MIB);
	assert_int_equal(c.interval_ms, 500);
	assert_int_equal(c.stats_period, 3);
	assert_int_equal(c.defaults.on_exit, ON_EXIT_MAX);
	assert_int_equal(c.nvms, 2);
	v = dconf_vm(&c, "a");
	assert_int_equal(v->min, 128 * MIB);
	assert_int_equal(v->max, 1024 * MIB);
	assert_int_equal(v->shares, 2000);
	assert_int_equal(v->on_exit, ON_EXIT_SIZE);
	assert_int_equal(v->on_exit_size, 300 * MIB);
	assert_string_equal(dconf_vm(&c, "b")->socket, "/tmp/b.sock");
	assert_int_equal(dconf_vm(&c, "b")->on_exit, ON_EXIT_UNSET);
	assert_ptr_equal(dconf_vm(&c, "zz"), &c.defaults);
	assert_int_equal(c.defaults.min, 64 * MIB);
	dconf_free(&c);
}

static void
defaults_without_file(void **state)
{
	struct dconf c;
	char err[256];

	(void)state;
	assert_int_equal(load("", &c, err, sizeof(err)), 0);
	assert_string_equal(c.policy, "ours");
	assert_int_equal(c.budget, -1);
	assert_int_equal(c.reserve, 256 * MIB);
	assert_int_equal(c.interval_ms, 2000);
	assert_int_equal(c.defaults.on_exit, ON_EXIT_KEEP);
	dconf_free(&c);
}

/* Each bad file: refused, one line naming the file and line. */
static void
refusals(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "policy = \"best\";", ":1: policy: 'best' is none of" },
		{ "budget = \"5 parsecs\";", "budget: not a size" },
		{ "budget = 0;", "budget: 0 MiB is not a size" },
		{ "budget = -5;", "is not a size" },
		{ "reserve = \"0x10\";", "reserve: not a size" },
		{ "interval = 0.01;", "interval: seconds from 0.1" },
		{ "interval = \"2\";", "interval: must be a number" },
		{ "stats_period = 1.5;", "stats_period: whole seconds" },
		{ "polcy = \"ours\";", "unknown setting 'polcy'" },
		{ "on_exit = \"explode\";", "on_exit:" },
		{ "vms = ( { min = \"1G\"; } );", "a VM without a name" },
		{ "vms = ( { name = \"a\"; colour = 1; } );",
		    "unknown VM setting 'colour'" },
		{ "vms = ( { name = \"a\"; }, { name = \"a\"; } );",
		    "VM 'a' named twice" },
		{ "vms = ( { name = \"a\"; min = \"1G\"; max = \"1M\"; } );",
		    "a: min is above max" },
		{ "vms = ( { name = \"a\"; shares = 0; } );", "shares: a whole" },
		{ "vms = ( { name = \"a\"; shares = 1.5; } );", "shares: a whole" },
		{ "vms = 5;", "vms: must be a list" },
		{ "vms = ( 5 );", "a VM must be a group" },
		{ "defaults = { name = \"x\"; };", "unknown VM setting 'name'" },
		{ "budget = ;", "syntax error" },
		{ "budget = \"1G\";\npolicy = ;", ":2: syntax error" },
		{ "vms = ( { name = \"a\"; max = \"99999999T\"; } );",
		    "max: not a size" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dconf c;
		char err[256] = "";
		if (load(bad[i].text, &c, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(err, bad[i].msg) == NULL || strchr(err, '\n') ||
		    strncmp(err, path, strlen(path)) != 0)
			fail_msg("%s: got '%s', want '%s'", bad[i].text, err,
			    bad[i].msg);
		assert_null(c.vms);
	}
}

static void
missing_file(void **state)
{
	struct dconf c;
	char err[256];

	(void)state;
	dconf_init(&c);
	assert_int_equal(dconf_load("/nonexistent/ballonetd.conf", &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read the file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_file),
		cmocka_unit_test(defaults_without_file),
		cmocka_unit_test(refusals),
		cmocka_unit_test(missing_file),
	};
	int fd = mkstemp(path), r;

	if (fd < 0)
		return 1;
	close(fd);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return r;
}
