/*
 * ballonet: the operator's tool for memory ballooning.
 *
 * main() parses the options that come before the verb, finds the verb in
 * the table below (one word, or a group and a subverb: "vm start"), and
 * runs it; the verb parses its own options and prints its own help.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef BALLONET_VERSION
#define BALLONET_VERSION "0.1"
#endif

static const struct verb verbs[] = {
	{ "vm start",   cmd_vm_start,   "start QEMU with a balloon device" },
	{ "vm stop",    cmd_vm_stop,    "quit QEMU, remove the VM's files" },
	{ "vm list",    cmd_vm_list,    "list the VMs of the run directory" },
	{ "vm console", cmd_vm_console, "attach to a VM's serial console" },
	{ "set",        cmd_set,        "set a VM's logical memory size" },
	{ "info",       cmd_info,       "show RAM, target, actual, balloon and RSS" },
	{ "watch",      cmd_watch,      "print balloon changes as they happen" },
	{ "stats",      cmd_stats,      "show the guest's memory statistics" },
	{ "top",        cmd_top,        "show what ballonetd does, live" },
};

#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

static void
help(void)
{
	printf("ballonet [--help] [--version] [--connect URI] VERB [OPTIONS]\n"
	    "    [OPERANDS]\n"
	    "\n"
	    "Memory ballooning for QEMU virtual machines.  A VM is named by\n"
	    "the name given to 'ballonet vm start', or by the path of its\n"
	    "QMP socket (anything containing a '/').\n"
	    "\n"
	    "  -c, --connect URI  set, info, stats and watch reach libvirt's\n"
	    "                     domain of that name or UUID instead, on URI\n"
	    "                     (qemu:///system, qemu+ssh://HOST/system)\n"
	    "\n"
	    "Verbs:\n");
	for (size_t i = 0; i < NVERBS; i++)
		printf("  %-11s %s\n", verbs[i].name, verbs[i].help);
	printf("\n"
	    "Sizes: a number with a unit B, K, M, G or T (powers of 1024);\n"
	    "a bare number is MiB.\n"
	    "\n"
	    "Exit status: 0 done, 1 usage, 2 no such VM or socket, 3 QEMU\n"
	    "refused, 4 no balloon device, 5 timeout, 6 QEMU exited, 7 size\n"
	    "out of range, 8 local failure.\n"
	    "\n"
	    "'ballonet VERB --help' describes a verb; see ballonet(1).\n");
}

const char *connect_uri;

/* The verbs that reach libvirt's domains with --connect. */
static bool
takes_connect(const struct verb *verb)
{
	return verb->run == cmd_set || verb->run == cmd_info ||
	    verb->run == cmd_stats || verb->run == cmd_watch;
}

/* Is verb V of group GROUP ("vm")?  Then its subverb's name, else NULL. */
static const char *
subverb(const struct verb *v, const char *group)
{
	size_t n = strlen(group);

	return strncmp(v->name, group, n) == 0 && v->name[n] == ' ' ?
	    v->name + n + 1 : NULL;
}

static bool
is_group(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (subverb(&verbs[i], name) != NULL)
			return true;
	return false;
}

/* Run V as if given "NAME --help". */
static int
run_help(const struct verb *v)
{
	char name[] = "verb", opt[] = "--help";
	char *args[] = { name, opt, NULL };

	optind = 0;
	return v->run(v, 2, args);
}

/* The help of every subverb of GROUP, one after the other. */
static int
group_help(const char *group)
{
	bool first = true;

	for (size_t i = 0; i < NVERBS; i++) {
		if (subverb(&verbs[i], group) == NULL)
			continue;
		if (!first)
			putchar('\n');
		first = false;
		run_help(&verbs[i]);
	}
	return EXIT_OK;
}

/* "start, stop, list or console": the subverbs of GROUP. */
static void
subverb_names(const char *group, char *buf, size_t len)
{
	size_t n = 0, last = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NVERBS; i++) {
		const char *sub = subverb(&verbs[i], group);
		if (sub == NULL)
			continue;
		last = strlen(buf);
		snprintf(buf + last, len - last, "%s%s", n++ ? ", " : "", sub);
	}
	if (n > 1) {	/* the last ", " becomes " or " */
		char tail[64];
		snprintf(tail, sizeof(tail), "%s", buf + last + 2);
		snprintf(buf + last, len - last, " or %s", tail);
	}
}

/*
 * The verb that ARGV (from the verb on) names, with *USED the words of
 * its name; NULL once reported (*USED is then the exit code).
 */
static const struct verb *
find_verb(int argc, char **argv, int *used)
{
	char names[256];

	for (size_t i = 0; i < NVERBS; i++) {
		if (strcmp(verbs[i].name, argv[0]) == 0) {
			*used = 1;
			return &verbs[i];
		}
	}
	if (!is_group(argv[0])) {
		*used = usage_fail(NULL, "unknown verb '%s'", argv[0]);
		return NULL;
	}
	subverb_names(argv[0], names, sizeof(names));
	if (argc < 2) {
		*used = usage_fail(argv[0], "missing subverb: %s", names);
		return NULL;
	}
	for (size_t i = 0; i < NVERBS; i++) {
		const char *sub = subverb(&verbs[i], argv[0]);
		if (sub != NULL && strcmp(sub, argv[1]) == 0) {
			*used = 2;
			return &verbs[i];
		}
	}
	*used = usage_fail(argv[0], "unknown subverb '%s': %s", argv[1], names);
	return NULL;
}

/* ARGV from the verb on: a group's help, or find the verb and run it. */
static int
run(int argc, char **argv, bool help_only)
{
	const struct verb *verb;
	int used;

	if (is_group(argv[0]) && (argc == 1 ? help_only : argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)))
		return group_help(argv[0]);
	if ((verb = find_verb(argc, argv, &used)) == NULL)
		return used;
	if (help_only)
		return run_help(verb);
	if (connect_uri != NULL && !takes_connect(verb))
		return usage_fail(NULL, "--connect works with set, info, stats "
		    "and watch, not %s", verb->name);
	optind = 0;	/* the verb's getopt_long() starts afresh */
	return verb->run(verb, argc - (used - 1), argv + (used - 1));
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "connect", required_argument, NULL, 'c' },
		{ 0 }
	};
	int c;

	opterr = 0;	/* bad_option() reports, in our format */
	while ((c = getopt_long(argc, argv, "+hVc:", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			return EXIT_OK;
		case 'c':
			connect_uri = optarg;
			break;
		case 'V':
			printf("ballonet %s\n", BALLONET_VERSION);
			return EXIT_OK;
		default:
			return bad_option(NULL, argv);
		}
	}
	if (optind >= argc)
		return usage_fail(NULL, "missing verb");
	if (strcmp(argv[optind], "help") != 0)
		return run(argc - optind, argv + optind, false);
	if (optind + 1 >= argc) {
		help();
		return EXIT_OK;
	}
	return run(argc - optind - 1, argv + optind + 1, true);
}
