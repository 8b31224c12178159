/*
 * ballonet vm start: run QEMU as a daemon for a new VM of the run directory.
 *
 * The sequence: check the options, make the VM's directory, record vm.json,
 * run QEMU (it daemonizes and writes its pid), wait until QMP answers.  If
 * any step fails, QEMU is killed and the directory removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accel.h"
#include "cli.h"
#include "size.h"

#define MAX_EXTRA	16	/* --qemu-arg arguments */
#define VMEM_BLOCK	(2ULL << 20)	/* QEMU's default virtio-mem block */

struct transport {
	const char	*name;
	const char	*machine;	/* -machine */
	const char	*device;	/* -device, the balloon */
};

static const struct transport transports[] = {
	{ "pci",        "q35",     "virtio-balloon-pci,id=balloon0" },
	{ "pci-legacy", "pc",      "virtio-balloon-pci,id=balloon0,disable-modern=on" },
	{ "mmio",       "microvm", "virtio-balloon-device,id=balloon0" },
};

struct start_opts {
	const char	*name;
	uint64_t	 memory;	/* bytes, a whole number of MiB */
	uint64_t	 max_memory;	/* bytes; 0: no virtio-mem device */
	const struct transport *transport;
	const char	*kernel;	/* NULL: boot no kernel */
	bool		 kernel_given;	/* by --kernel, else our default */
	const char	*initrd, *append;
	const char	*extra[MAX_EXTRA];	/* --qemu-arg, in order */
	struct opt_strings extras;	/* into extra */
	int		 timeout_ms;
	enum accel	 accel;		/* --accel */
	struct accel_choice choice;	/* what we run QEMU with, and why */
	/* Balloon device properties (ballonet.4, Optional features). */
	bool		 deflate_on_oom;	/* deflate-on-oom=on */
	bool		 reporting;		/* free-page-reporting=on */
	unsigned	 stats_interval;	/* s; 0: not polled */
};

static const struct usage usage = {
	.operands = "NAME", .min_args = 1, .max_args = 1,
	.about =
	    "Start QEMU as a daemon with a balloon device (id balloon0), a QMP\n"
	    "socket and the serial console on a socket, logged to console.log;\n"
	    "wait until QMP answers.  One line says which accelerator runs the\n"
	    "guest, and why.\n"
	    "\n"
	    "QEMU is $BALLONET_QEMU, else qemu-system-x86_64.  The run directory\n"
	    "is $BALLONET_RUNDIR, else $XDG_RUNTIME_DIR/ballonet, else\n"
	    "/run/ballonet.\n",
};

/*
 * Append TEXT to BUF; with ESCAPE, as a QEMU option value (',' -> ',,').
 * Returns -1 if it does not fit.
 */
static int
append(char *buf, size_t len, const char *text, bool escape)
{
	size_t n = strlen(buf);

	for (; *text != '\0' && n + 2 < len; text++) {
		if (escape && *text == ',')
			buf[n++] = ',';
		buf[n++] = *text;
	}
	buf[n] = '\0';
	return *text == '\0' ? 0 : -1;
}

static const char *
default_kernel(char *buf, size_t len)
{
	const char *env = getenv("BALLONET_GUEST");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (snprintf(buf, len, "%s/ballonet-guest.elf", self) >= (int)len)
		return NULL;
	return buf;
}

/* QEMU's command line and the buffers its arguments live in. */
struct qemu_cmd {
	const char	*argv[64];
	int		 argc;
	char		 mem[64], dev[192], pidfile[PATH_MAX];
	char		 vmem_obj[96];	/* virtio-mem's memory backend */
	char		 serial[PATH_MAX * 2 + 128];	/* -chardev */
	char		 qmp[PATH_MAX * 2 + 64], watch[PATH_MAX * 2 + 64];
};

static void
add(struct qemu_cmd *c, const char *arg1, const char *arg2)
{
	c->argv[c->argc++] = arg1;
	if (arg2 != NULL)
		c->argv[c->argc++] = arg2;
}

/* The balloon device with the properties the options ask for. */
static void
balloon_device(const struct start_opts *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", o->transport->device,
	    o->deflate_on_oom ? ",deflate-on-oom=on" : "",
	    o->reporting ? ",free-page-reporting=on" : "");
	if (o->stats_interval > 0)
		snprintf(buf + strlen(buf), len - strlen(buf),
		    ",guest-stats-polling-interval=%u", o->stats_interval);
}

/* The sockets and files in VM's directory, as QEMU option values. */
static int
vm_sockets(const struct vm *vm, struct qemu_cmd *c)
{
	c->serial[0] = c->qmp[0] = c->watch[0] = '\0';
	if (append(c->serial, sizeof(c->serial), "socket,id=serial0,server=on,"
	    "wait=off,path=", false) != 0 ||
	    append(c->serial, sizeof(c->serial), vm->dir, true) != 0 ||
	    append(c->serial, sizeof(c->serial), "/serial.sock,logfile=",
	    false) != 0 ||
	    append(c->serial, sizeof(c->serial), vm->dir, true) != 0 ||
	    append(c->serial, sizeof(c->serial), "/console.log", false) != 0 ||
	    append(c->qmp, sizeof(c->qmp), "unix:", false) != 0 ||
	    append(c->qmp, sizeof(c->qmp), vm->qmp, true) != 0 ||
	    append(c->qmp, sizeof(c->qmp), ",server=on,wait=off", false) != 0 ||
	    append(c->watch, sizeof(c->watch), "unix:", false) != 0 ||
	    append(c->watch, sizeof(c->watch), vm->watch, true) != 0 ||
	    append(c->watch, sizeof(c->watch), ",server=on,wait=off",
	    false) != 0)
		return -1;
	return vm_file(vm, "qemu.pid", c->pidfile, sizeof(c->pidfile));
}

static int
qemu_command(const struct start_opts *o, const struct vm *vm,
    const char *qemu, struct qemu_cmd *c)
{
	c->argc = 0;
	if (vm_sockets(vm, c) != 0)
		return fail(EXIT_LOCAL, "%s: run directory path too long; set "
		    "BALLONET_RUNDIR to a shorter path", o->name);
	snprintf(c->mem, sizeof(c->mem), "%lluM",
	    (unsigned long long)(o->memory >> 20));
	if (o->max_memory != 0) {
		snprintf(c->mem + strlen(c->mem), sizeof(c->mem) - strlen(c->mem),
		    ",maxmem=%lluM", (unsigned long long)(o->max_memory >> 20));
		snprintf(c->vmem_obj, sizeof(c->vmem_obj),
		    "memory-backend-memfd,id=vmem0,size=%lluM",
		    (unsigned long long)((o->max_memory - o->memory) >> 20));
	}
	balloon_device(o, c->dev, sizeof(c->dev));
	add(c, qemu, NULL);
	add(c, "-name", o->name);
	add(c, "-machine", o->transport->machine);
	add(c, "-m", c->mem);
	add(c, "-nodefaults", "-no-user-config");
	add(c, "-display", "none");
	add(c, "-nic", "none");
	add(c, "-device", c->dev);
	/* ballonet.4, Memory hot-plug; memfd: UNPLUGGED_INACCESSIBLE. */
	if (o->max_memory != 0) {
		add(c, "-object", c->vmem_obj);
		add(c, "-device",
		    "virtio-mem-pci,id=vm0,memdev=vmem0,requested-size=0");
	}
	add(c, "-chardev", c->serial);
	add(c, "-serial", "chardev:serial0");
	add(c, "-qmp", c->qmp);
	add(c, "-qmp", c->watch);
	add(c, "-daemonize", NULL);
	add(c, "-pidfile", c->pidfile);
	/* Under auto, QEMU falls back to TCG if KVM fails; see check_accel. */
	if (o->choice.accel == ACCEL_KVM)
		add(c, "-accel", "kvm");
	if (o->choice.accel == ACCEL_TCG || o->accel == ACCEL_AUTO)
		add(c, "-accel", "tcg");
	if (o->kernel != NULL)
		add(c, "-kernel", o->kernel);
	if (o->initrd != NULL)
		add(c, "-initrd", o->initrd);
	if (o->append != NULL)
		add(c, "-append", o->append);
	for (int i = 0; i < o->extras.n; i++)
		add(c, o->extra[i], NULL);
	c->argv[c->argc] = NULL;
	return EXIT_OK;
}

/* The last non-blank line of PATH into BUF, without its newline. */
static void
last_line(const char *path, char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "(no message)");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (line[strspn(line, " \t\n")] != '\0')
			snprintf(buf, len, "%s", line);
	if (f != NULL)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Run ARGV with its output in ERRFILE and wait for it to exit (QEMU exits
 * once its daemon runs).  A close-on-exec pipe tells a failed exec from
 * QEMU's own failure.
 */
static int
run_qemu(const char *name, const char *const *argv, const char *errfile)
{
	int out, ep[2], status, exec_errno = 0, r;
	char last[512];
	pid_t pid;

	if ((out = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return fail(EXIT_LOCAL, "%s: cannot create %s: %m", name, errfile);
	if (pipe2(ep, O_CLOEXEC) != 0) {
		close(out);
		return fail(EXIT_LOCAL, "%s: pipe: %m", name);
	}
	if ((pid = fork()) < 0) {
		r = fail(EXIT_LOCAL, "%s: fork: %m", name);
		close(out);
		close(ep[0]);
		close(ep[1]);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[0], (char *const *)argv);
		exec_errno = errno;
		if (write(ep[1], &exec_errno, sizeof(exec_errno)) < 0)
			_exit(126);
		_exit(127);
	}
	close(out);
	close(ep[1]);
	ssize_t got = read(ep[0], &exec_errno, sizeof(exec_errno));
	close(ep[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(exec_errno))
		return fail(EXIT_LOCAL, "%s: cannot run %s: %s; install "
		    "qemu-system-x86 or set BALLONET_QEMU", name, argv[0],
		    strerror(exec_errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		last_line(errfile, last, sizeof(last));
		return fail(EXIT_QEMU, "%s: QEMU failed to start: %s", name, last);
	}
	return EXIT_OK;
}

/* Run QEMU (it daemonizes); its own messages go to qemu.err. */
static int
spawn_qemu(const struct start_opts *o, const struct vm *vm)
{
	const char *qemu = getenv("BALLONET_QEMU");
	char errfile[PATH_MAX];
	struct qemu_cmd cmd;
	int r;

	if (qemu == NULL || *qemu == '\0')
		qemu = "qemu-system-x86_64";
	if ((r = qemu_command(o, vm, qemu, &cmd)) != EXIT_OK)
		return r;
	if (vm_file(vm, "qemu.err", errfile, sizeof(errfile)) != 0)
		return fail(EXIT_LOCAL, "%s: run directory path too long", o->name);
	return run_qemu(o->name, cmd.argv, errfile);
}

static void
kill_and_reap(struct vm *vm)
{
	if (vm->pid > 0 && vm_alive(vm)) {
		kill(vm->pid, SIGKILL);
		for (int i = 0; i < 200 && vm_alive(vm); i++)
			usleep(10000);
	}
}

/*
 * Why QEMU did not use KVM, from its messages in ERRFILE: the line with
 * "failed to initialize" from there on, else the last line.
 */
static void
kvm_reason(const char *errfile, char *buf, size_t len)
{
	char line[512], *p;
	FILE *f;

	last_line(errfile, buf, len);
	if ((f = fopen(errfile, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, "failed to initialize")) != NULL) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, len, "%s", p);
			break;
		}
	}
	fclose(f);
}

/*
 * What QEMU's query-kvm says it runs under.  KVM that QEMU could not use
 * fails --accel kvm (QEMU exits then) and turns auto into TCG: QEMU has
 * fallen back to its second -accel and said why in qemu.err.
 */
static int
check_accel(struct start_opts *o, struct vm *vm, struct qmp *q)
{
	struct accel_choice *c = &o->choice;
	char err[PATH_MAX], last[256];
	const char *got;
	int r;

	if ((r = query_accel(q, vm, &got)) != EXIT_OK)
		return r;
	snprintf(vm->accel, sizeof(vm->accel), "%s", got);
	if (strcmp(got, accel_name(c->accel)) == 0)
		return EXIT_OK;
	if (c->accel == ACCEL_KVM && o->accel == ACCEL_KVM)
		return fail(EXIT_QEMU, "%s: QEMU runs without KVM though asked "
		    "for it (query-kvm); see qemu.err", o->name);
	if (c->accel == ACCEL_KVM) {
		vm_file(vm, "qemu.err", err, sizeof(err));
		kvm_reason(err, last, sizeof(last));
		snprintf(c->why, sizeof(c->why), "QEMU could not use KVM: %s",
		    last);
	} else {
		snprintf(c->why, sizeof(c->why), "QEMU's query-kvm says so");
	}
	c->accel = c->accel == ACCEL_KVM ? ACCEL_TCG : ACCEL_KVM;
	return EXIT_OK;
}

/* Read QEMU's pid and wait until QMP answers. */
static int
await_qmp(struct start_opts *o, struct vm *vm)
{
	char pidfile[PATH_MAX];
	long long deadline = qmp_now_ms() + o->timeout_ms;
	struct qmp q;
	int r;

	vm_file(vm, "qemu.pid", pidfile, sizeof(pidfile));
	struct vm loaded;
	if (vm_load(o->name, &loaded) == 0)
		vm->pid = loaded.pid;
	if (vm->pid == 0)
		return fail(EXIT_QEMU, "%s: QEMU wrote no pid to %s", o->name,
		    pidfile);
	for (;;) {
		long long left = deadline - qmp_now_ms();
		r = qmp_connect(&q, vm->qmp, left > 0 ? (int)left : 0);
		if (r == QMP_OK) {
			r = check_accel(o, vm, &q);
			qmp_close(&q);
			return r;
		}
		/* Not vm_alive(): right after an exec, cmdline may be empty. */
		if (kill(vm->pid, 0) != 0 && errno == ESRCH)
			return fail(EXIT_QEMU, "%s: QEMU (pid %ld) exited before "
			    "answering on %s", o->name, (long)vm->pid, vm->qmp);
		if (qmp_now_ms() >= deadline)
			return fail(EXIT_TIMEOUT, "%s: QEMU (pid %ld) did not answer "
			    "on %s within %.1f s; killed it", o->name, (long)vm->pid,
			    vm->qmp, o->timeout_ms / 1000.0);
		usleep(50000);
	}
}

/* Make NAME's directory; it must not exist yet. */
static int
make_dir(const char *name, struct vm *vm)
{
	char root[PATH_MAX];
	struct vm old;

	if (rundir_root(root, sizeof(root)) != 0 ||
	    (mkdir(root, 0700) != 0 && errno != EEXIST))
		return fail(EXIT_LOCAL, "cannot create the run directory %s: %m; "
		    "set BALLONET_RUNDIR to a writable directory", root);
	if (mkdir(vm->dir, 0700) == 0)
		return EXIT_OK;
	if (errno != EEXIST)
		return fail(EXIT_LOCAL, "%s: cannot create %s: %m", name, vm->dir);
	if (vm_load(name, &old) == 0 && vm_alive(&old))
		return fail(EXIT_USAGE, "%s: already running (pid %ld); stop it "
		    "with 'ballonet vm stop %s' or choose another name", name,
		    (long)old.pid, name);
	return fail(EXIT_USAGE, "%s: a dead VM's files remain in %s; remove "
	    "them with 'ballonet vm stop %s'", name, vm->dir, name);
}

static int
start_vm(struct start_opts *o)
{
	struct sockaddr_un sa;
	char err[PATH_MAX], b[SIZE_BUFLEN];
	struct vm vm = { 0 };
	int r;

	snprintf(vm.name, sizeof(vm.name), "%s", o->name);
	if (rundir_path(o->name, "", vm.dir, sizeof(vm.dir)) != 0 ||
	    rundir_path(o->name, "serial.sock", vm.qmp, sizeof(vm.qmp)) != 0 ||
	    strlen(vm.qmp) >= sizeof(sa.sun_path))
		return fail(EXIT_LOCAL, "%s: the run directory's path is too long "
		    "for a socket; set BALLONET_RUNDIR to a shorter path", o->name);
	rundir_path(o->name, "qmp.sock", vm.qmp, sizeof(vm.qmp));
	rundir_path(o->name, "watch.sock", vm.watch, sizeof(vm.watch));
	vm.memory = vm.target = o->memory;
	snprintf(vm.transport, sizeof(vm.transport), "%s", o->transport->name);
	snprintf(vm.kernel, sizeof(vm.kernel), "%s", o->kernel ? o->kernel : "");
	if ((r = make_dir(o->name, &vm)) != EXIT_OK)
		return r;
	if (vm_save(&vm) != 0)
		r = fail(EXIT_LOCAL, "%s: cannot write %s/vm.json: %m", o->name,
		    vm.dir);
	if (r == EXIT_OK)
		r = spawn_qemu(o, &vm);
	if (r == EXIT_OK)
		r = await_qmp(o, &vm);
	if (r == EXIT_OK && vm_save(&vm) != 0)
		r = fail(EXIT_LOCAL, "%s: cannot write %s/vm.json: %m", o->name,
		    vm.dir);
	if (r != EXIT_OK) {
		struct vm loaded;
		if (vm.pid == 0 && vm_load(o->name, &loaded) == 0)
			vm.pid = loaded.pid;
		kill_and_reap(&vm);
		vm_remove(&vm);
		return r;
	}
	if (vm_file(&vm, "qemu.err", err, sizeof(err)) == 0)
		unlink(err);
	printf("%s: accelerator %s (%s)\n", o->name, vm.accel, o->choice.why);
	printf("%s: started, pid %ld, %s RAM, console log %s/console.log\n",
	    o->name, (long)vm.pid, size_format(o->memory, b, sizeof(b)), vm.dir);
	if (o->max_memory != 0)
		printf("%s: can grow to %s (virtio-mem vm0)\n", o->name,
		    size_format(o->max_memory, b, sizeof(b)));
	return EXIT_OK;
}

/* The accelerator for --accel on this host; --accel kvm may be refused. */
static int
choose_accel(struct start_opts *o)
{
	struct accel_host host;

	accel_probe(&host);
	accel_choose(o->accel, &host, &o->choice);
	if (o->choice.refused)
		return fail(EXIT_LOCAL, "%s: --accel kvm: %s: this host cannot "
		    "run KVM guests; use --accel tcg or auto", o->name,
		    o->choice.why);
	return EXIT_OK;
}

/* What the options say together: a valid name, readable files. */
static int
check_start(struct start_opts *o, char *kbuf, size_t klen)
{
	if (!vm_name_valid(o->name))
		return usage_fail("vm start", "'%s' is not a VM name: use up to %d "
		    "letters, digits, '.', '_' or '-', not first '.' or '-'",
		    o->name, VM_NAME_MAX);
	if (!o->kernel_given)
		o->kernel = default_kernel(kbuf, klen);
	if (o->kernel != NULL && access(o->kernel, R_OK) != 0)
		return usage_fail("vm start", "cannot read the kernel %s: %m%s",
		    o->kernel, o->kernel_given ? "" :
		    " (build it with make, or give --kernel)");
	if ((o->initrd || o->append) && o->kernel == NULL)
		return usage_fail("vm start", "--initrd and --append need a "
		    "--kernel");
	if (o->initrd != NULL && access(o->initrd, R_OK) != 0)
		return usage_fail("vm start", "cannot read the initrd %s: %m",
		    o->initrd);
	if (o->max_memory != 0 && (o->max_memory <= o->memory ||
	    (o->max_memory - o->memory) % VMEM_BLOCK != 0))
		return usage_fail("vm start", "--max-memory must be above "
		    "--memory by a whole number of 2 MiB blocks");
	if (o->max_memory != 0 && strcmp(o->transport->name, "mmio") == 0)
		return usage_fail("vm start", "--max-memory needs virtio-mem-pci: "
		    "use --transport pci or pci-legacy (microvm does not map "
		    "its memory)");
	return choose_accel(o);
}

static int
parse_memory(const char *arg, void *value)
{
	uint64_t *bytes = value;

	return size_parse(arg, bytes) != 0 || *bytes % (1 << 20) != 0 ||
	    *bytes < (16 << 20) ? -1 : 0;
}

static int
parse_max_memory(const char *arg, void *value)
{
	uint64_t *bytes = value;

	return size_parse(arg, bytes) != 0 || *bytes % (1 << 20) != 0 ||
	    *bytes == 0 ? -1 : 0;
}

static int
parse_transport(const char *arg, void *value)
{
	const struct transport **t = value;

	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		if (strcmp(arg, transports[i].name) == 0) {
			*t = &transports[i];
			return 0;
		}
	}
	return -1;
}

static int
parse_kernel(const char *arg, void *value)
{
	struct start_opts *o = value;

	o->kernel = strcmp(arg, "none") == 0 ? NULL : arg;
	o->kernel_given = true;
	return 0;
}

static int
parse_accel(const char *arg, void *value)
{
	return accel_parse(arg, value);
}

static int
parse_interval(const char *arg, void *value)
{
	unsigned long s;
	char *end;

	errno = 0;
	s = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    s > 86400)
		return -1;
	*(unsigned *)value = (unsigned)s;
	return 0;
}

int
cmd_vm_start(const struct verb *verb, int argc, char **argv)
{
	struct start_opts o = { .memory = 1ULL << 30,
	    .transport = &transports[0], .timeout_ms = 30000 };
	const struct opt opts[] = {
		OPT_CALL('m', "memory", &o.memory, "SIZE", "RAM, a whole number "
		    "of MiB (default 1G)", parse_memory,
		    "a whole number of MiB, at least 16M"),
		OPT_CALL(0, "max-memory", &o.max_memory, "SIZE", "the most the "
		    "VM may grow to: adds a virtio-mem device (id vm0, memfd "
		    "backend) of SIZE minus --memory, which 'ballonet set' "
		    "plugs above the boot RAM", parse_max_memory,
		    "a whole number of MiB"),
		OPT_CALL('T', "transport", &o.transport, "T", "pci (q35, "
		    "default), pci-legacy (pc, legacy virtio) or mmio (microvm)",
		    parse_transport, "pci, pci-legacy or mmio"),
		OPT_CALL('k', "kernel", &o, "FILE", "the guest kernel (default: "
		    "ballonet-guest.elf next to ballonet, or $BALLONET_GUEST); "
		    "'none' boots no kernel", parse_kernel, "a file"),
		OPT_STRING('i', "initrd", &o.initrd, "FILE",
		    "an initial RAM disk (Linux)"),
		OPT_STRING('a', "append", &o.append, "STR",
		    "the kernel command line (Linux)"),
		OPT_STRINGS('Q', "qemu-arg", &o.extras, "ARG", "one more argument "
		    "for QEMU, after ours; repeat it for several (e.g. "
		    "--qemu-arg=-smp --qemu-arg=2)"),
		OPT_SECONDS('t', "timeout", &o.timeout_ms, 0,
		    "wait at most S seconds for QEMU (default 30)"),
		OPT_FLAG(0, "deflate-on-oom", &o.deflate_on_oom, "let the guest "
		    "take pages back from the balloon when it runs out of memory"),
		OPT_FLAG(0, "free-page-reporting", &o.reporting,
		    "let the guest report free memory"),
		OPT_CALL(0, "stats-interval", &o.stats_interval, "S", "ask for "
		    "memory statistics every S seconds", parse_interval,
		    "a number of seconds up to 86400"),
		OPT_CALL(0, "accel", &o.accel, "auto|kvm|tcg", "auto (the "
		    "default) takes KVM if the CPU has vmx or svm and /dev/kvm "
		    "opens, else TCG; kvm fails where it cannot",
		    parse_accel, "auto, kvm or tcg"),
		OPT_END()
	};
	char kernel[PATH_MAX];
	int r;

	o.extras = (struct opt_strings){ o.extra, 0, MAX_EXTRA };
	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	o.name = argv[optind];
	if ((r = check_start(&o, kernel, sizeof(kernel))) != EXIT_OK)
		return r;
	return start_vm(&o);
}
