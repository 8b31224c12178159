/*
 * Line editing and command dispatch.  Typed characters are echoed;
 * backspace erases; CR, LF or CRLF ends a line.
 */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "intr.h"
#include "kern.h"
#include "libkern.h"
#include "shell.h"
#include "xen.h"

#define PROMPT		"ballonet# "
#define LINE_MAX	256
#define ARGS_MAX	16

static int	cmd_help(int, char **);
static int	cmd_intr(int, char **);

static const struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
	const char	*help;
} cmds[] = {
	{ "help", cmd_help, "help", "list commands" },
	{ "sysctl", cmd_sysctl, "sysctl [-a] [-w] NAME[=VALUE] ...",
	    "read or write a node" },
	{ "mem", cmd_mem, "mem [touch SIZE | fill SIZE | check | free]",
	    "use memory: SIZE in MiB, or with B, K, M, G" },
	{ "wave", cmd_wave, "wave [PERIOD PEAK BASE [PHASE] | stop]",
	    "follow a demand: PEAK, then BASE, every PERIOD s" },
	{ "intr", cmd_intr, "intr", "interrupt counts per source" },
	{ "info", cmd_info, "info", "machine, memory, clock and device" },
	{ "bench", cmd_bench, "bench pool SIZE | zero SIZE | mem",
	    "helpers for make bench (bench/run.py)" },
};

static char line[LINE_MAX];
static size_t len;
static bool after_cr;

static int
cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		kprintf("%-40s %s\n", cmds[i].usage, cmds[i].help);
	return 0;
}

static int
cmd_intr(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	intr_print();
	if (guest.xen)
		xen_evtchn_print();
	return 0;
}

static int
split(char *s, char **argv)
{
	int argc = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0' || argc == ARGS_MAX - 1)
			break;
		argv[argc++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
	}
	argv[argc] = NULL;
	return argc;
}

static void
run(char *s)
{
	char *argv[ARGS_MAX];
	size_t i;
	int argc;

	if ((argc = split(s, argv)) == 0)
		return;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) == 0) {
			cmds[i].fn(argc, argv);
			return;
		}
	}
	kprintf("unknown command: %s (try help)\n", argv[0]);
}

void
shell_start(void)
{
	cons_puts(PROMPT);
}

static void
input(char c)
{
	bool was_cr = after_cr;

	after_cr = c == '\r';
	if (c == '\n' && was_cr)
		return;			/* the LF of a CRLF */
	if (c == '\r' || c == '\n') {
		cons_putc('\n');
		line[len] = '\0';
		len = 0;
		run(line);
		cons_puts(PROMPT);
		return;
	}
	if (c == '\b' || c == 0x7f) {
		if (len > 0) {
			len--;
			cons_puts("\b \b");
		}
		return;
	}
	if (c < ' ' || c > '~' || len == LINE_MAX - 1)
		return;
	line[len++] = c;
	cons_putc(c);
}

void
shell_poll(void)
{
	int c;

	while ((c = cons_getc()) >= 0)
		input((char)c);
}
