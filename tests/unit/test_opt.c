/*
 * The verbs' option tables (host/opt.c): every kind parses into its
 * value, bad values and operand counts are refused with EXIT_USAGE, a
 * table has no size limit, and --help prints the usage from the table.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"	/* before cmocka.h, whose fail() is a macro */
#include <cmocka.h>

static int
run_verb(const struct verb *verb, int argc, char **argv)
{
	(void)verb, (void)argc, (void)argv;
	return EXIT_OK;
}

static const struct verb verb = { "grp test", run_verb, "a test verb" };

static const struct usage usage = {
	.operands = "VM [EXTRA]", .min_args = 1, .max_args = 2,
	.about = "What the test verb does.\n",
};

/* Values of the table below. */
struct vals {
	bool		 flag, quiet;
	int		 ms, least_ms;
	long		 count;
	const char	*str;
	const char	*list_v[2];
	struct opt_strings list;
	int		 color;		/* parse_color(): 1 red, 2 blue */
	bool		 f[6];		/* f0 ... f5: more than 4 options */
};

static int
parse_color(const char *arg, void *value)
{
	int *color = value;

	*color = strcmp(arg, "red") == 0 ? 1 : strcmp(arg, "blue") == 0 ? 2 : 0;
	return *color ? 0 : -1;
}

#define TABLE(v) {							\
	OPT_FLAG('f', "flag", &(v)->flag, "a flag"),			\
	OPT_FLAG(0, "quiet", &(v)->quiet, "a long-only flag"),		\
	OPT_SECONDS('t', "timeout", &(v)->ms, 0, "a duration"),		\
	OPT_SECONDS(0, "interval", &(v)->least_ms, 2, "at least 2 s"),	\
	OPT_COUNT('n', "count", &(v)->count, "a count"),		\
	OPT_STRING('s', "string", &(v)->str, "STR", "any text"),	\
	OPT_STRINGS('L', "list", &(v)->list, "ARG", "repeatable"),	\
	OPT_CALL(0, "color", &(v)->color, "C", "red or blue",		\
	    parse_color, "red or blue"),				\
	OPT_FLAG(0, "f0", &(v)->f[0], "f0"),				\
	OPT_FLAG(0, "f1", &(v)->f[1], "f1"),				\
	OPT_FLAG(0, "f2", &(v)->f[2], "f2"),				\
	OPT_FLAG(0, "f3", &(v)->f[3], "f3"),				\
	OPT_FLAG(0, "f4", &(v)->f[4], "f4"),				\
	OPT_FLAG(0, "f5", &(v)->f[5], "a long help text that has to be "	\
	    "wrapped over more than one line of the help, since it does "	\
	    "not fit in eighty columns at all"),			\
	OPT_END()							\
}

/* parse_args() over the words of ARGS (blank-separated) into V. */
static int
parse(struct vals *v, const char *args)
{
	static char buf[512];
	char *argv[32] = { "test" }, *save = NULL;
	int argc = 1;

	memset(v, 0, sizeof(*v));
	v->list = (struct opt_strings){ v->list_v, 0, 2 };
	const struct opt opts[] = TABLE(v);
	snprintf(buf, sizeof(buf), "%s", args);
	for (char *w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	optind = 0;
	opterr = 0;
	return parse_args(&verb, &usage, opts, argc, argv);
}

static void
every_kind(void **state)
{
	struct vals v;

	(void)state;
	assert_int_equal(parse(&v, "-f --quiet -t 1.5 --interval 2 -n 7 "
	    "-s hello -L a --list b --color=blue --f5 vm1 x"), EXIT_OK);
	assert_true(v.flag && v.quiet && v.f[5]);
	assert_false(v.f[0] || v.f[4]);
	assert_int_equal(v.ms, 1500);
	assert_int_equal(v.least_ms, 2000);
	assert_int_equal(v.count, 7);
	assert_string_equal(v.str, "hello");
	assert_int_equal(v.list.n, 2);
	assert_string_equal(v.list_v[0], "a");
	assert_string_equal(v.list_v[1], "b");
	assert_int_equal(v.color, 2);
	assert_int_equal(optind, 17);
	/* Short options bundle; operands may come first. */
	assert_int_equal(parse(&v, "vm1 -fn3 --f0"), EXIT_OK);
	assert_true(v.flag && v.f[0]);
	assert_int_equal(v.count, 3);
}

static void
bad_values(void **state)
{
	static const char *const bad[] = {
		"-t soon vm", "-t -1 vm", "--interval 1.9 vm", "-n 0 vm",
		"-n 1000001 vm", "-n 12x vm", "--color green vm",
		"-L a -L b -L c vm", "--frob vm", "-x vm", "vm -t",
		"vm --string", "", "a b c", "--f6 vm",
	};
	struct vals v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(&v, bad[i]), EXIT_USAGE);
}

/* stdout of parse(V, ARGS) into BUF. */
static int
captured(struct vals *v, const char *args, char *buf, size_t len)
{
	char path[] = "/tmp/test_opt.XXXXXX";
	int fd = mkstemp(path), out = dup(STDOUT_FILENO), r;
	FILE *f;

	assert_true(fd >= 0 && out >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	r = parse(v, args);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	buf[fread(buf, 1, len - 1, f)] = '\0';
	fclose(f);
	unlink(path);
	return r;
}

static void
help_from_table(void **state)
{
	char out[4096], *line, *save = NULL;
	struct vals v;
	int lines = 0;

	(void)state;
	assert_int_equal(captured(&v, "vm1 --help", out, sizeof(out)), -1);
	assert_true(strncmp(out, "ballonet grp test VM [EXTRA] [--flag] "
	    "[--quiet] [--timeout S] ", 62) == 0);
	assert_non_null(strstr(out, "[--list ARG]..."));
	assert_non_null(strstr(out, "\n\nWhat the test verb does.\n\n"));
	assert_non_null(strstr(out, "\n  -f, --flag "));
	assert_non_null(strstr(out, "\n      --quiet "));
	assert_non_null(strstr(out, "\n  -s, --string STR "));
	assert_non_null(strstr(out, "\n  -h, --help "));
	assert_non_null(strstr(out, "show this help\n"));
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++) {
		assert_true(strlen(line) < 80);
		assert_true(line[strlen(line) - 1] != ' ');
	}
	assert_true(lines > 20);
	/* f5's help took more than one line, each indented alike. */
	assert_int_equal(captured(&v, "-h", out, sizeof(out)), -1);
	assert_non_null(strstr(out, "more than one\n"
	    "                    line of the help"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(help_from_table),
	};

	/* The refusals print one line each on stderr: expected. */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
