/*
 * ballonet: the options of a verb, declared once in a table that both
 * parses them and prints the verb's help (as kvmtool's OPT_* entries do).
 *
 * A verb declares its operands and what it does in a struct usage, its
 * options in a table of OPT_*() entries ending with OPT_END(), and calls
 * parse_args().  -h and --help are every verb's: they print
 *
 *	ballonet NAME OPERANDS [--option ARG]...
 *
 *	ABOUT
 *
 *	  -k, --option ARG  HELP
 *	  -h, --help        show this help
 *
 * with the synopsis and HELP wrapped to the terminal's 80 columns.
 */
#ifndef BALLONET_HOST_OPT_H
#define BALLONET_HOST_OPT_H

#include <stdbool.h>
#include <stddef.h>

struct verb;

/* What an option takes, and where it puts it. */
enum opt_kind {
	OPTK_FLAG,	/* no value: sets a bool */
	OPTK_SECONDS,	/* seconds, e.g. "0.5": an int of milliseconds */
	OPTK_COUNT,	/* a whole number from 1 to 1000000: a long */
	OPTK_STRING,	/* any text: a const char * */
	OPTK_STRINGS,	/* any text, repeatable: a struct opt_strings */
	OPTK_CALL,	/* parse(arg, value): 0, or -1 if ARG is not EXPECT */
};

/* Where OPTK_STRINGS puts its values, in the order given. */
struct opt_strings {
	const char	**v;	/* room for MAX values */
	int		  n, max;
};

/* One option of a verb. */
struct opt {
	const char	*name;		/* long name, without "--" */
	char		 key;		/* short name; 0: none */
	enum opt_kind	 kind;
	void		*value;		/* by kind: bool, int, long, ... */
	int		 min;		/* OPTK_SECONDS: the least, in seconds */
	const char	*arg;		/* the value's name in the help: "S" */
	const char	*help;		/* what it does, for the help */
	const char	*expect;	/* OPTK_CALL: what ARG must be */
	int		(*parse)(const char *arg, void *value);	/* OPTK_CALL */
};

/* Table entries.  HELP is one or more sentences, wrapped when printed. */
#define OPT_FLAG(k, n, v, h) \
	{ .name = (n), .key = (k), .kind = OPTK_FLAG, .value = (v), \
	  .help = (h) }
#define OPT_SECONDS(k, n, v, least, h) \
	{ .name = (n), .key = (k), .kind = OPTK_SECONDS, .value = (v), \
	  .min = (least), .arg = "S", .help = (h) }
#define OPT_COUNT(k, n, v, h) \
	{ .name = (n), .key = (k), .kind = OPTK_COUNT, .value = (v), \
	  .arg = "N", .help = (h) }
#define OPT_STRING(k, n, v, a, h) \
	{ .name = (n), .key = (k), .kind = OPTK_STRING, .value = (v), \
	  .arg = (a), .help = (h) }
#define OPT_STRINGS(k, n, v, a, h) \
	{ .name = (n), .key = (k), .kind = OPTK_STRINGS, .value = (v), \
	  .arg = (a), .help = (h) }
#define OPT_CALL(k, n, v, a, h, fn, what) \
	{ .name = (n), .key = (k), .kind = OPTK_CALL, .value = (v), \
	  .arg = (a), .help = (h), .parse = (fn), .expect = (what) }
#define OPT_END()	{ .name = NULL }

/* A verb's operands and what it does, for parse_args() and its help. */
struct usage {
	const char	*operands;	/* the synopsis after the name: "VM SIZE" */
	int		 min_args, max_args;	/* operands after options */
	const char	*about;		/* lines, each ending with "\n" */
};

/*
 * getopt_long() over OPTS and -h, --help, storing each value, then check
 * the count of operands.  Failures are reported under VERB's name.
 * Returns EXIT_OK with optind at the first operand, -1 once it has shown
 * the help (the verb then exits with EXIT_OK), or reports and returns
 * EXIT_USAGE.
 */
int parse_args(const struct verb *verb, const struct usage *u,
    const struct opt *opts, int argc, char **argv);

/* Print VERB's help from U and OPTS on stdout. */
void print_usage(const struct verb *verb, const struct usage *u,
    const struct opt *opts);

/* Parse a duration in seconds ("10", "0.5") into milliseconds. */
int parse_seconds(const char *text, int *ms);

#endif /* BALLONET_HOST_OPT_H */
