/*
 * ballonet: table-driven options and the help printed from them (opt.h).
 */
#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WIDTH		79	/* columns of the help */
#define HELP_COL	24	/* where an option's help starts, at most */
#define LONG_ONLY	256	/* getopt_long() value of option I: this + I */

int
parse_seconds(const char *text, int *ms)
{
	char *end;
	double s;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	s = strtod(text, &end);
	if (errno != 0 || *end != '\0' || !isfinite(s) || s > 86400.0 * 7)
		return -1;
	*ms = (int)(s * 1000.0 + 0.5);
	return 0;
}

static int
parse_count(const char *text, long *count)
{
	char *end;

	if (text[0] < '1' || text[0] > '9')
		return -1;
	*count = strtol(text, &end, 10);
	return *end != '\0' || *count <= 0 || *count > 1000000 ? -1 : 0;
}

static int
bad_value(const char *name, const struct opt *p, const char *arg,
    const char *what)
{
	return usage_fail(name, "--%s '%s' is not %s", p->name, arg, what);
}

static int
set_seconds(const char *name, const struct opt *p, const char *arg)
{
	char least[64];

	if (parse_seconds(arg, p->value) == 0 &&
	    *(int *)p->value >= p->min * 1000)
		return EXIT_OK;
	snprintf(least, sizeof(least), "a number of seconds, at least %d",
	    p->min);
	return bad_value(name, p, arg, p->min ? least : "a number of seconds");
}

/* Store ARG, the value of option P of NAME; EXIT_OK or EXIT_USAGE. */
static int
set_option(const char *name, const struct opt *p, const char *arg)
{
	struct opt_strings *list = p->value;

	switch (p->kind) {
	case OPTK_FLAG:
		*(bool *)p->value = true;
		return EXIT_OK;
	case OPTK_COUNT:
		if (parse_count(arg, p->value) != 0)
			return bad_value(name, p, arg, "a positive number");
		return EXIT_OK;
	case OPTK_STRING:
		*(const char **)p->value = arg;
		return EXIT_OK;
	case OPTK_STRINGS:
		if (list->n == list->max)
			return usage_fail(name, "more than %d --%s", list->max,
			    p->name);
		list->v[list->n++] = arg;
		return EXIT_OK;
	case OPTK_CALL:
		if (p->parse(arg, p->value) != 0)
			return bad_value(name, p, arg, p->expect);
		return EXIT_OK;
	case OPTK_SECONDS:
		return set_seconds(name, p, arg);
	}
	return EXIT_USAGE;	/* not reached: every kind is above */
}

static bool
takes_value(const struct opt *p)
{
	return p->kind != OPTK_FLAG;
}

/* getopt_long()'s tables for OPTS and --help; free both. */
static int
getopt_tables(const struct opt *opts, struct option **lo, char **so)
{
	size_t n = 0;
	char *s;

	while (opts[n].name != NULL)
		n++;
	*lo = calloc(n + 2, sizeof(**lo));
	*so = s = malloc(2 * n + 2);
	if (*lo == NULL || *so == NULL) {
		free(*lo);
		free(*so);
		return fail(EXIT_LOCAL, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const struct opt *p = &opts[i];
		(*lo)[i] = (struct option){ p->name, takes_value(p) ?
		    required_argument : no_argument, NULL,
		    p->key ? p->key : LONG_ONLY + (int)i };
		if (p->key == 0)
			continue;
		*s++ = p->key;
		if (takes_value(p))
			*s++ = ':';
	}
	(*lo)[n] = (struct option){ "help", no_argument, NULL, 'h' };
	strcpy(s, "h");
	return EXIT_OK;
}

/* The option of OPTS that getopt_long() returned C for, or NULL. */
static const struct opt *
find_opt(const struct opt *opts, int c)
{
	for (int i = 0; opts[i].name != NULL; i++)
		if (opts[i].key ? opts[i].key == c : c == LONG_ONLY + i)
			return &opts[i];
	return NULL;
}

static int
parse_opts(const struct verb *verb, const struct usage *u,
    const struct opt *opts, int argc, char **argv)
{
	const struct opt *p;
	struct option *lo;
	char *so;
	int c, r;

	if ((r = getopt_tables(opts, &lo, &so)) != EXIT_OK)
		return r;
	while (r == EXIT_OK &&
	    (c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == 'h') {
			print_usage(verb, u, opts);
			r = -1;
		} else if ((p = find_opt(opts, c)) == NULL) {
			r = bad_option(verb->name, argv);
		} else {
			r = set_option(verb->name, p, optarg);
		}
	}
	free(lo);
	free(so);
	return r;
}

int
parse_args(const struct verb *verb, const struct usage *u,
    const struct opt *opts, int argc, char **argv)
{
	int r = parse_opts(verb, u, opts, argc, argv);

	if (r != EXIT_OK)
		return r;
	if (argc - optind < u->min_args)
		return usage_fail(verb->name, "missing operand (%s)", u->operands);
	if (argc - optind > u->max_args && u->max_args == 0)
		return usage_fail(verb->name, "takes no operand");
	if (argc - optind > u->max_args)
		return usage_fail(verb->name, "too many operands (%s)",
		    u->operands);
	return EXIT_OK;
}

/*
 * Print LEN bytes of WORD, the cursor at column COL: after a blank, or at
 * the start of a new line indented to column INDENT if it would reach
 * WIDTH.  Returns the column of the cursor.
 */
static int
put_word(const char *word, int len, int col, int indent)
{
	if (col > indent && col + 1 + len > WIDTH) {
		printf("\n%*s", indent, "");
		col = indent;
	} else if (col > indent) {
		putchar(' ');
		col++;
	}
	printf("%.*s", len, word);
	return col + len;
}

/* put_word() each of the blank-separated words of TEXT. */
static int
wrap(const char *text, int col, int indent)
{
	for (text += strspn(text, " "); *text != '\0';
	    text += strspn(text, " ")) {
		int len = (int)strcspn(text, " ");
		col = put_word(text, len, col, indent);
		text += len;
	}
	return col;
}

static void
print_synopsis(const struct verb *verb, const struct usage *u,
    const struct opt *opts)
{
	int indent = printf("ballonet %s ", verb->name);
	char word[128];
	int col = indent;

	if (u->operands[0] != '\0')
		col = wrap(u->operands, col, indent);
	for (const struct opt *p = opts; p->name != NULL; p++) {
		int n = snprintf(word, sizeof(word), "[--%s%s%s]%s", p->name,
		    p->arg ? " " : "", p->arg ? p->arg : "",
		    p->kind == OPTK_STRINGS ? "..." : "");
		col = put_word(word, n, col, indent);
	}
	putchar('\n');
}

/* "  -k, --name ARG" for P into BUF; its length. */
static int
opt_left(const struct opt *p, char *buf, size_t len)
{
	char key[8] = "    ";

	if (p->key)
		snprintf(key, sizeof(key), "-%c, ", p->key);
	return snprintf(buf, len, "  %s--%s%s%s", key, p->name,
	    p->arg ? " " : "", p->arg ? p->arg : "");
}

static void
print_opt(const struct opt *p, int col)
{
	char left[128];
	int n = opt_left(p, left, sizeof(left));

	fputs(left, stdout);
	if (n + 2 > col) {
		printf("\n%*s", col, "");
		n = col;
	}
	printf("%*s", col - n, "");
	wrap(p->help, col, col);
	putchar('\n');
}

void
print_usage(const struct verb *verb, const struct usage *u,
    const struct opt *opts)
{
	const struct opt help = OPT_FLAG('h', "help", NULL, "show this help");
	char left[128];
	int col = 0;

	print_synopsis(verb, u, opts);
	if (u->about != NULL)
		printf("\n%s", u->about);
	putchar('\n');
	for (const struct opt *p = opts; p->name != NULL; p++) {
		int n = opt_left(p, left, sizeof(left)) + 2;
		if (n > col && n <= HELP_COL)
			col = n;
	}
	if (col < 14)
		col = 14;
	for (const struct opt *p = opts; p->name != NULL; p++)
		print_opt(p, col);
	print_opt(&help, col);
}
