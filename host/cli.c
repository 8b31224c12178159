/*
 * ballonet: helpers shared by the verbs (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "size.h"

/* set_progress() drew a bar on stdout's line and has not ended it. */
static bool bar_open;

/* End an open bar's line, so that what follows starts on its own. */
static void
bar_end(void)
{
	if (bar_open)
		putchar('\n');
	bar_open = false;
}

int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	bar_end();
	fflush(stdout);
	fputs("ballonet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
usage_fail(const char *verb, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(EXIT_USAGE, "%s%s%s; see 'ballonet %s%s--help'",
	    verb ? verb : "", verb ? ": " : "", msg, verb ? verb : "",
	    verb ? " " : "");
}

int
bad_option(const char *verb, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		return usage_fail(verb, "unknown option or missing value: -%c",
		    optopt);
	return usage_fail(verb, "unknown option or missing value: %s", arg);
}

const char *
vm_label(const struct vm *vm)
{
	return vm->name[0] ? vm->name : vm->qmp;
}

int
vm_resolve(const char *arg, struct vm *vm)
{
	char root[PATH_MAX];

	if (strchr(arg, '/') != NULL) {
		if (vm_find_by_socket(arg, vm) == 0)
			return EXIT_OK;	/* one of ours, addressed by path */
		memset(vm, 0, sizeof(*vm));
		if (strlen(arg) >= sizeof(vm->qmp))
			return fail(EXIT_NOVM, "%s: path too long", arg);
		strcpy(vm->qmp, arg);
		return EXIT_OK;
	}
	if (vm_load(arg, vm) == 0)
		return EXIT_OK;
	if (rundir_root(root, sizeof(root)) != 0)
		root[0] = '\0';
	if (errno == EINVAL)
		return fail(EXIT_NOVM, "%s: %s/%s/vm.json is damaged; remove the "
		    "VM with 'ballonet vm stop %s'", arg, root, arg, arg);
	return fail(EXIT_NOVM, "%s: no such VM in %s; see 'ballonet vm list', "
	    "or give a QMP socket path (with a '/', e.g. ./qmp.sock)", arg,
	    root);
}

int
vm_connect(const struct vm *vm, struct qmp *q, int timeout_ms)
{
	int r = qmp_connect(q, vm->qmp, timeout_ms);

	if (r == QMP_OK)
		return EXIT_OK;
	if (r == QMP_ETIMEDOUT)
		return fail(EXIT_TIMEOUT, "%s: QEMU did not greet on %s; it serves "
		    "one client per QMP socket: is another client connected?",
		    vm_label(vm), vm->qmp);
	if (r != QMP_ESYS || strcmp(q->sys_call, "connect") != 0)
		return qmp_fail(q, r, vm, "the greeting");
	switch (q->sys_errno) {
	case ENOENT:
		return fail(EXIT_NOVM, "%s: no QMP socket at %s; is the VM "
		    "running? (see 'ballonet vm list')", vm_label(vm), vm->qmp);
	case ECONNREFUSED:
		if (vm->name[0] != '\0')
			return fail(EXIT_NOVM, "%s: nothing listens on %s: QEMU has "
			    "exited; clean up with 'ballonet vm stop %s'",
			    vm->name, vm->qmp, vm->name);
		return fail(EXIT_NOVM, "%s: nothing listens there: QEMU has "
		    "exited", vm->qmp);
	default:
		return fail(EXIT_NOVM, "%s: cannot connect to %s: %s",
		    vm_label(vm), vm->qmp, strerror(q->sys_errno));
	}
}

int
vm_open(const char *arg, struct vm *vm, struct qmp *q)
{
	int r;

	if ((r = vm_resolve(arg, vm)) != EXIT_OK)
		return r;
	return vm_connect(vm, q, QMP_TIMEOUT_MS);
}

int
qmp_fail(const struct qmp *q, int status, const struct vm *vm,
    const char *what)
{
	const char *name = vm_label(vm);

	switch (status) {
	case QMP_EEOF:
		return fail(EXIT_GONE, "%s: QEMU closed the QMP connection "
		    "during %s: it has exited or was killed", name, what);
	case QMP_ETIMEDOUT:
		return fail(EXIT_TIMEOUT, "%s: QEMU did not answer %s in time; "
		    "is it stopped (SIGSTOP) or overloaded?", name, what);
	case QMP_EPROTO:
		return fail(EXIT_QEMU, "%s: QEMU's answer to %s is not QMP (%s); "
		    "is %s a QMP socket?", name, what, q->proto, vm->qmp);
	case QMP_EPEER:
		if (strcmp(q->err_class, "DeviceNotActive") == 0)
			return fail(EXIT_NOBALLOON, "%s: no balloon device (QEMU: "
			    "%s); start QEMU with -device virtio-balloon-pci",
			    name, q->err_desc);
		return fail(EXIT_QEMU, "%s: QEMU refused %s: %s (%s)", name,
		    what, q->err_desc, q->err_class);
	default:
		return fail(EXIT_LOCAL, "%s: %s failed during %s: %s", name,
		    q->sys_call, what, strerror(q->sys_errno));
	}
}

int
vm_execute(struct qmp *q, const struct vm *vm, const char *what,
    const char *cmd, json_t *args, json_t **ret)
{
	int r = qmp_execute(q, cmd, args, ret, QMP_TIMEOUT_MS);

	if (r != QMP_OK)
		return qmp_fail(q, r, vm, what != NULL ? what : cmd);
	return EXIT_OK;
}

int
vm_await_event(struct qmp *q, const struct vm *vm, int ms, const char *what)
{
	json_t *event;
	int r = qmp_next_event(q, &event, ms);

	if (r == QMP_OK)
		json_decref(event);
	else if (r != QMP_ETIMEDOUT)
		return qmp_fail(q, r, vm, what);
	return EXIT_OK;
}

int
query_ram(struct qmp *q, const struct vm *vm, uint64_t *bytes)
{
	uint64_t base, plugged = 0;
	json_t *ret;
	int r;

	r = vm_execute(q, vm, NULL, "query-memory-size-summary", NULL, &ret);
	if (r != EXIT_OK)
		return r;
	r = qmp_get_bytes(ret, "base-memory", &base);
	qmp_get_bytes(ret, "plugged-memory", &plugged);
	json_decref(ret);
	if (r != 0)
		return fail(EXIT_QEMU, "%s: query-memory-size-summary has no "
		    "base-memory", vm_label(vm));
	*bytes = base + plugged;
	return EXIT_OK;
}

int
memsize_fail(const struct qmp *q, int status, const struct vm *vm,
    const struct memsize *m)
{
	if (status == MEMSIZE_EREPLY)
		return fail(EXIT_QEMU, "%s: %s: %s", vm_label(vm), m->what,
		    m->err);
	return qmp_fail(q, status, vm, m->what);
}

int
query_memsize(struct qmp *q, const struct vm *vm, struct memsize *m)
{
	int r = memsize_query(q, m, QMP_TIMEOUT_MS);

	return r == QMP_OK ? EXIT_OK : memsize_fail(q, r, vm, m);
}

int
query_actual(struct qmp *q, const struct vm *vm, uint64_t *bytes)
{
	json_t *ret;
	int r;

	if ((r = vm_execute(q, vm, NULL, "query-balloon", NULL, &ret)) != EXIT_OK)
		return r;
	r = qmp_get_bytes(ret, "actual", bytes);
	json_decref(ret);
	if (r != 0)
		return fail(EXIT_QEMU, "%s: query-balloon has no actual",
		    vm_label(vm));
	return EXIT_OK;
}

int
query_accel(struct qmp *q, const struct vm *vm, const char **accel)
{
	json_t *ret, *enabled;
	int r;

	if ((r = vm_execute(q, vm, NULL, "query-kvm", NULL, &ret)) != EXIT_OK)
		return r;
	enabled = json_object_get(ret, "enabled");
	r = json_is_boolean(enabled) ? EXIT_OK : fail(EXIT_QEMU, "%s: "
	    "query-kvm has no enabled", vm_label(vm));
	*accel = json_is_true(enabled) ? "kvm" : "tcg";
	json_decref(ret);
	return r;
}

void
print_json(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text != NULL)
		puts(text);
	free(text);
	json_decref(value);
	fflush(stdout);
}

char *
utc_format(char *buf, size_t len, const char *fmt, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, fmt, &tm);
	return buf;
}

/* Progress, in MiB with one decimal: exact sizes would jitter. */
void
set_progress(bool tty, uint64_t from, uint64_t actual, uint64_t goal,
    long long ms)
{
	char a[SIZE_BUFLEN], g[SIZE_BUFLEN];
	uint64_t span = from > goal ? from - goal : goal - from;
	uint64_t done = from > actual ? from - actual : actual - from;
	unsigned pct = span ? (unsigned)(done >= span ? 100 : done * 100 / span)
	    : 100;

	snprintf(a, sizeof(a), "%.1f MiB", actual / 1048576.0);
	snprintf(g, sizeof(g), "%.1f MiB", goal / 1048576.0);
	if (!tty) {
		printf("%lld.%03lld s: actual %s, target %s\n", ms / 1000,
		    ms % 1000, a, g);
	} else {
		char bar[31];
		memset(bar, '#', pct * 30 / 100);
		memset(bar + pct * 30 / 100, '.', 30 - pct * 30 / 100);
		bar[30] = '\0';
		printf("\r[%s] %3u%% %s -> %s   ", bar, pct, a, g);
		bar_open = true;
	}
	fflush(stdout);
}

int
wait_progress(const struct waiter *w, uint64_t goal, int timeout_ms)
{
	long long start = qmp_now_ms(), deadline = start + timeout_ms;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t from = 0, actual, last = UINT64_MAX;
	char a[SIZE_BUFLEN], g[SIZE_BUFLEN];
	int r;

	for (;;) {
		if ((r = w->read(w->arg, &actual)) != EXIT_OK)
			return r;
		if (last == UINT64_MAX)
			from = actual;
		if (actual != last)
			set_progress(tty, from, actual, goal, qmp_now_ms() - start);
		last = actual;
		if (actual == goal)
			break;
		long long left = deadline - qmp_now_ms();
		if (left <= 0)
			return fail(EXIT_TIMEOUT, "%s: reached %s, not %s, in %.1f s; "
			    "the guest's balloon driver is missing, slow or out of "
			    "memory (see 'ballonet%s%s info %s')", w->label,
			    size_format(actual, a, sizeof(a)),
			    size_format(goal, g, sizeof(g)), timeout_ms / 1000.0,
			    w->uri != NULL ? " --connect " : "",
			    w->uri != NULL ? w->uri : "", w->label);
		if ((r = w->idle(w->arg, left < WAIT_POLL_MS ? (int)left :
		    WAIT_POLL_MS)) != EXIT_OK)
			return r;
	}
	bar_end();
	printf("%s: reached %s in %.1f s\n", w->label,
	    size_format(goal, g, sizeof(g)), (qmp_now_ms() - start) / 1000.0);
	return EXIT_OK;
}
