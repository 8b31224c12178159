/*
 * ballonet info: a VM's memory at a glance.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "size.h"

struct info {
	pid_t		pid;		/* QEMU's pid, 0 if unknown */
	uint64_t	ram;		/* bytes: boot RAM plus plugged */
	uint64_t	boot;		/* bytes of RAM QEMU booted with */
	struct memsize	m;		/* boot, balloon, virtio-mem */
	uint64_t	target;		/* last requested size, 0 if unknown */
	uint64_t	actual;		/* logical size now, bytes */
	uint64_t	ballooned;	/* bytes in the balloon */
	uint64_t	rss;		/* QEMU's resident set, 0 if unknown */
	const char	*accel;		/* "kvm" or "tcg" (query-kvm) */
};

static const struct usage usage = {
	.operands = "VM", .min_args = 1, .max_args = 1,
	.about =
	    "Show VM's memory: RAM (query-memory-size-summary), target (the\n"
	    "last size requested with 'ballonet set', known for VMs that\n"
	    "ballonet started), actual (query-balloon: the logical size the\n"
	    "guest has reached), balloon (RAM minus actual) and the resident\n"
	    "set size of the QEMU process (VmRSS), and the accelerator QEMU\n"
	    "runs the guest under (kvm or tcg, from query-kvm).  With a\n"
	    "virtio-mem device (query-memory-devices) also boot (the RAM QEMU\n"
	    "booted with), plugged (hot-plugged memory; RAM is boot plus\n"
	    "plugged, actual includes it) and max (what the VM can reach).\n"
	    "With 'ballonet --connect URI', VM is a libvirt domain: what\n"
	    "libvirt gives (RAM is its maximum memory; the guest's unused,\n"
	    "available and usable memory; min_guarantee).\n",
};

/* VmRSS of PID in bytes, or 0 if it cannot be read. */
static uint64_t
read_rss(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024;
}

static uint64_t
balloon_of(const struct info *in)
{
	return in->ballooned;
}

static json_t *
bytes_or_null(uint64_t bytes)
{
	return bytes ? json_integer((json_int_t)bytes) : json_null();
}

static void
print_info(const struct vm *vm, const struct info *in, bool json)
{
	char b[SIZE_BUFLEN];

	if (json) {
		print_json(json_pack("{s:s?, s:s, s:o, s:s, s:I, s:o, s:I, s:I, "
		    "s:o, s:I, s:I, s:I}",
		    "name", vm->name[0] ? vm->name : NULL, "socket", vm->qmp,
		    "pid", in->pid ? json_integer(in->pid) : json_null(),
		    "accel", in->accel,
		    "ram", (json_int_t)in->ram, "target", bytes_or_null(in->target),
		    "actual", (json_int_t)in->actual,
		    "balloon", (json_int_t)balloon_of(in),
		    "rss", bytes_or_null(in->rss),
		    "boot", (json_int_t)in->boot,
		    "plugged", (json_int_t)in->m.plugged,
		    "max", (json_int_t)(memsize_max(&in->m))));
		return;
	}
	printf("vm:       %s\n", vm_label(vm));
	if (in->pid)
		printf("pid:      %ld\n", (long)in->pid);
	printf("accel:    %s\n", in->accel);
	printf("RAM:      %s\n", size_format(in->ram, b, sizeof(b)));
	if (in->m.vmem) {
		printf("boot:     %s\n", size_format(in->boot, b, sizeof(b)));
		printf("plugged:  %s\n", size_format(in->m.plugged, b,
		    sizeof(b)));
		printf("max:      %s\n", size_format(memsize_max(&in->m), b,
		    sizeof(b)));
	}
	printf("target:   %s\n", in->target ?
	    size_format(in->target, b, sizeof(b)) : "-");
	printf("actual:   %s\n", size_format(in->actual, b, sizeof(b)));
	printf("balloon:  %s\n", size_format(balloon_of(in), b, sizeof(b)));
	if (in->rss)
		printf("QEMU RSS: %.1f MiB\n", in->rss / 1048576.0);
	else
		printf("QEMU RSS: -\n");
}

int
cmd_info(const struct verb *verb, int argc, char **argv)
{
	struct info in = { 0 };
	bool json = false;
	const struct opt opts[] = {
		OPT_FLAG('j', "json", &json, "one JSON object; sizes in bytes, "
		    "null if unknown"),
		OPT_END()
	};
	struct qmp q;
	struct vm vm;
	int r;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (connect_uri != NULL)
		return lvcmd_info(argv[optind], json);
	if ((r = vm_open(argv[optind], &vm, &q)) != EXIT_OK)
		return r;
	if ((r = query_ram(&q, &vm, &in.ram)) == EXIT_OK)
		r = query_memsize(&q, &vm, &in.m);
	/* One logical size: the balloon's plus what virtio-mem plugged. */
	in.boot = in.m.boot;
	in.ballooned = in.m.boot > in.m.actual ? in.m.boot - in.m.actual : 0;
	in.actual = memsize_logical(&in.m);
	if (r == EXIT_OK)
		r = query_accel(&q, &vm, &in.accel);
	/* Our own record first; else whoever listens on the socket. */
	in.pid = vm_alive(&vm) ? vm.pid : q.peer_pid;
	in.target = vm.target;
	in.rss = read_rss(in.pid);
	qmp_close(&q);
	if (r == EXIT_OK)
		print_info(&vm, &in, json);
	return r;
}
