/*
 * ballonet: what the verbs of the command line share.
 *
 * Each verb lives in its own cmd_*.c file (cmd_vm_start.c for "vm
 * start"), is listed in main.c's table, declares its operands and options
 * for parse_args() (opt.h), which also prints its help, and returns one of
 * the exit codes below, which docs/ballonet.1 documents.  Failures are
 * reported with fail(): one line naming what failed and what to do.
 */
#ifndef BALLONET_HOST_CLI_H
#define BALLONET_HOST_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "memsize.h"
#include "opt.h"
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

/*
 * A verb of main.c's table.  A name of two words ("vm start") is a
 * subverb of a group ("vm"): run() gets argv from the subverb on.
 */
struct verb {
	const char	*name;		/* "set", "vm start" */
	int		(*run)(const struct verb *verb, int argc, char **argv);
	const char	*help;		/* one line for 'ballonet --help' */
};

int cmd_vm_start(const struct verb *verb, int argc, char **argv);
int cmd_vm_stop(const struct verb *verb, int argc, char **argv);
int cmd_vm_list(const struct verb *verb, int argc, char **argv);
int cmd_vm_console(const struct verb *verb, int argc, char **argv);
int cmd_set(const struct verb *verb, int argc, char **argv);
int cmd_info(const struct verb *verb, int argc, char **argv);
int cmd_watch(const struct verb *verb, int argc, char **argv);
int cmd_stats(const struct verb *verb, int argc, char **argv);
int cmd_top(const struct verb *verb, int argc, char **argv);

/*
 * The global --connect URI: set, info, stats and watch then reach
 * libvirt's domain of that name or UUID through libvirt's C API
 * (libvirt_cmd.c) instead of a QMP socket.  NULL: QMP.
 */
extern const char *connect_uri;

int lvcmd_set(const char *name, const char *text, uint64_t size, bool wait,
    int timeout_ms);
int lvcmd_info(const char *name, bool json);
int lvcmd_stats(const char *name, int interval_ms, int timeout_ms, bool json);
int lvcmd_watch(const char *name, long count, int timeout_ms, bool json);

/* cmd_set.c: one step of set --wait's progress (a bar on a terminal). */
void set_progress(bool tty, uint64_t from, uint64_t actual, uint64_t goal,
    long long ms);

/*
 * What set --wait waits on, over QMP or libvirt.  read() puts the size
 * waited for in *bytes; idle() waits up to MS for something to change.
 * Both report their own failures and return an exit code.
 */
struct waiter {
	const char	*label;		/* the VM, for messages */
	const char	*uri;		/* --connect's URI, or NULL */
	int		(*read)(void *arg, uint64_t *bytes);
	int		(*idle)(void *arg, int ms);
	void		*arg;
};

#define WAIT_POLL_MS	500	/* a read at least this often */

/*
 * Read until the size is GOAL, showing each change; EXIT_TIMEOUT, with
 * what to look at, when TIMEOUT_MS pass first.  Returns an exit code.
 */
int wait_progress(const struct waiter *w, uint64_t goal, int timeout_ms);

/*
 * Print "ballonet: MESSAGE" on stderr, after ending a progress bar's
 * line, and return CODE.
 */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An unknown option or a wrong number of operands for VERB. */
int usage_fail(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * After getopt_long() returned '?': name the option it did not take
 * (getopt's own message is off: opterr is 0).
 */
int bad_option(const char *verb, char **argv);

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
 * The VM's sizes: boot RAM, the balloon's actual, virtio-mem (memsize.h).
 * Reports failures; returns an exit code.
 */
int query_memsize(struct qmp *q, const struct vm *vm, struct memsize *m);

/* Report memsize_*()'s failure STATUS on VM; returns the exit code. */
int memsize_fail(const struct qmp *q, int status, const struct vm *vm,
    const struct memsize *m);

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
