/*
 * ballonet: the operator's tool for memory ballooning.
 *
 * main() parses the options that come before the verb, finds the verb in
 * the table below, and runs it; the verb parses its own options.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef BALLONET_VERSION
#define BALLONET_VERSION "0.1"
#endif

static const struct verb verbs[] = {
	{ "vm",    1, 3, cmd_vm,    "start, stop and list VMs, attach to a console" },
	{ "set",   2, 2, cmd_set,   "set a VM's logical memory size" },
	{ "info",  1, 1, cmd_info,  "show RAM, target, actual, balloon and RSS" },
	{ "watch", 1, 1, cmd_watch, "print balloon changes as they happen" },
	{ "stats", 1, 1, cmd_stats, "show the guest's memory statistics" },
};

static void
help(void)
{
	printf("ballonet [--help] [--version] VERB [OPTIONS] [OPERANDS]\n"
	    "\n"
	    "Memory ballooning for QEMU virtual machines.  A VM is named by\n"
	    "the name given to 'ballonet vm start', or by the path of its\n"
	    "QMP socket (anything containing a '/').\n"
	    "\n"
	    "Verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  %-8s %s\n", verbs[i].name, verbs[i].summary);
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

static const struct verb *
find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const struct verb *verb;
	int c;

	opterr = 0;	/* bad_option() reports, in our format */
	while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			return EXIT_OK;
		case 'V':
			printf("ballonet %s\n", BALLONET_VERSION);
			return EXIT_OK;
		default:
			return bad_option(NULL, argv);
		}
	}
	if (optind >= argc)
		return usage_fail(NULL, "missing verb");
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			help();
			return EXIT_OK;
		}
		verb = find_verb(argv[optind + 1]);
		if (verb == NULL)
			return usage_fail(NULL, "unknown verb '%s'", argv[optind + 1]);
		char *args[] = { argv[optind + 1], "--help", NULL };
		optind = 0;
		return verb->run(verb, 2, args);
	}
	verb = find_verb(argv[optind]);
	if (verb == NULL)
		return usage_fail(NULL, "unknown verb '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0;	/* the verb's getopt_long() starts afresh */
	return verb->run(verb, argc, argv);
}
