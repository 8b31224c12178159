/*
 * ballonet: what the verbs of the command line share.
 *
 * Each verb lives in its own cmd_*.c file, declares its options in a
 * table for verb_options() and returns one of the exit codes below, which
 * docs/ballonet.1 documents.  Failures are reported with fail(): one
 * line naming what failed and what to do about it.
 */
#ifndef BALLONET_HOST_CLI_H
#define BALLONET_HOST_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qmp.h"
#include "rundir.h"

enum exit_code {
	EXIT_OK		= 0,	/* done */
	EXIT_USAGE	= 1,	/* bad option, argument or malformed size */
	EXIT_NOVM	= 2,	/* no such VM, or its socket is gone or refused */
	EXIT_QEMU	= 3,	/* QEMU refused a command or failed to start */
	EXIT_NOBALLOON	= 4,	/* the VM has no balloon device */
	EXIT_TIMEOUT	= 5,	/* QEMU or the guest did not get there in time */
	EXIT_GONE	= 6,	/* QEMU exited during the command */
	EXIT_RANGE	= 7,	/* size is zero or above the VM's RAM */
	EXIT_LOCAL	= 8,	/* a local failure: run directory, exec, memory */
};

struct verb {
	const char	*name;
	int		 min_args, max_args;	/* operands after options */
	int		(*run)(const struct verb *verb, int argc, char **argv);
	const char	*summary;
};

int cmd_vm(const struct verb *verb, int argc, char **argv);
int cmd_set(const struct verb *verb, int argc, char **argv);
int cmd_info(const struct verb *verb, int argc, char **argv);
int cmd_watch(const struct verb *verb, int argc, char **argv);
int cmd_stats(const struct verb *verb, int argc, char **argv);

/* cmd_vm.c: the help of all vm subverbs; cmd_vm_start.c: vm start. */
void vm_help(void);
int vm_start(int argc, char **argv);

/* Print "ballonet: MESSAGE" on stderr and return CODE. */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An unknown option or a wrong number of operands for VERB. */
int usage_fail(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * After getopt_long() returned '?': name the option it did not take
 * (getopt's own message is off: opterr is 0).
 */
int bad_option(const char *verb, char **argv);

/* What an option of parse_options() takes, and where it puts it. */
enum opt_kind {
	OPT_FLAG,	/* no value: sets a bool */
	OPT_SECONDS,	/* seconds, e.g. "0.5": an int of milliseconds */
	OPT_COUNT,	/* a whole number from 1 to 1000000: a long */
};

/* One option of a command; a table of them ends with { 0 }. */
struct opt {
	const char	*name;		/* long name, without "--" */
	char		 key;		/* short name */
	enum opt_kind	 kind;
	void		*value;		/* bool *, int * or long *, by kind */
	int		 min;		/* OPT_SECONDS: the least, in seconds */
};

#define OPTS_MAX	4	/* options of one command, besides --help */

/*
 * getopt_long() over OPTS and -h, --help (which shows HELP), storing each
 * value.  Bad values are reported under VERB ("vm"), unknown options
 * under CMD ("vm stop").  Returns EXIT_OK with optind at the first
 * operand, -1 once it has shown the help (the command then exits with
 * EXIT_OK), or reports and returns EXIT_USAGE.
 */
int parse_options(const char *verb, const char *cmd, void (*help)(void),
    const struct opt *opts, int argc, char **argv);

/* parse_options() for VERB, then check its count of operands. */
int verb_options(const struct verb *verb, void (*help)(void),
    const struct opt *opts, int argc, char **argv);

/* Parse a duration in seconds ("10", "0.5") into milliseconds. */
int parse_seconds(const char *text, int *ms);

/*
 * Resolve ARG, a VM name or a QMP socket path (anything containing '/'),
 * into VM.  Returns EXIT_OK or reports and returns EXIT_NOVM.
 */
int vm_resolve(const char *arg, struct vm *vm);

/* The VM's name for messages: its name, else its socket path. */
const char *vm_label(const struct vm *vm);

/* Connect to VM's QMP socket; reports failures.  Returns an exit code. */
int vm_connect(const struct vm *vm, struct qmp *q, int timeout_ms);

/*
 * vm_resolve() ARG, then vm_connect() to it within QMP_TIMEOUT_MS.
 * Returns an exit code; after EXIT_OK, qmp_close() Q.
 */
int vm_open(const char *arg, struct vm *vm, struct qmp *q);

/* Report a failed QMP call of WHAT on VM; returns the exit code. */
int qmp_fail(const struct qmp *q, int status, const struct vm *vm,
    const char *what);

/*
 * qmp_execute() CMD within QMP_TIMEOUT_MS; a failure is reported with
 * qmp_fail() as one of WHAT (NULL: of CMD).  Returns an exit code.
 */
int vm_execute(struct qmp *q, const struct vm *vm, const char *what,
    const char *cmd, json_t *args, json_t **ret);

/*
 * Wait up to MS for any event and drop it: the callers look again at
 * what they wait for.  Returns EXIT_OK, also when none came, or reports
 * a failure of WHAT and returns its exit code.
 */
int vm_await_event(struct qmp *q, const struct vm *vm, int ms,
    const char *what);

/* RAM (query-memory-size-summary) and actual (query-balloon), bytes. */
int query_ram(struct qmp *q, const struct vm *vm, uint64_t *bytes);
int query_actual(struct qmp *q, const struct vm *vm, uint64_t *bytes);

/*
 * The accelerator QEMU runs VM under, from query-kvm: "kvm" if KVM is
 * enabled, else "tcg" (the only other one qemu-system-x86_64 has outside
 * Xen and qtest).  Returns an exit code.
 */
int query_accel(struct qmp *q, const struct vm *vm, const char **accel);

/* Print VALUE as one line of JSON on stdout and drop the reference. */
void print_json(json_t *value);

/* Format the time T, in seconds since the epoch, as UTC with FMT. */
char *utc_format(char *buf, size_t len, const char *fmt, time_t t);

#define QMP_TIMEOUT_MS	10000	/* for a single QMP command */

#endif /* BALLONET_HOST_CLI_H */
