/*
 * ballonet: the run directory, where `ballonet vm start` keeps its VMs.
 *
 * The run directory is $BALLONET_RUNDIR, else $XDG_RUNTIME_DIR/ballonet,
 * else /run/ballonet.  Each VM has a directory named after it holding:
 *   qmp.sock     QEMU's QMP socket, for commands
 *   watch.sock   a second QMP socket, for `ballonet watch` (QEMU serves
 *                one client per QMP socket)
 *   serial.sock  the serial console (a listening socket)
 *   console.log  everything the guest wrote on its serial console
 *   qemu.pid     QEMU's pid (written by QEMU's -pidfile)
 *   vm.json      memory, transport, kernel, accelerator and the last
 *                requested target
 */
#ifndef BALLONET_HOST_RUNDIR_H
#define BALLONET_HOST_RUNDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VM_NAME_MAX	64

struct vm {
	char		name[VM_NAME_MAX + 1];	/* "" if addressed by socket */
	char		dir[PATH_MAX];	/* its run directory, "" if not ours */
	char		qmp[PATH_MAX];	/* QMP socket path */
	char		watch[PATH_MAX]; /* QMP socket for events, "" if none */
	pid_t		pid;		/* QEMU's pid, 0 if unknown */
	uint64_t	memory;		/* RAM given at start, bytes; 0 unknown */
	uint64_t	target;		/* last requested size, bytes; 0 unknown */
	char		transport[16];	/* pci, pci-legacy, mmio; "" unknown */
	char		kernel[PATH_MAX]; /* the guest kernel, "" if none */
	char		accel[8];	/* kvm or tcg (query-kvm); "" unknown */
};

/* The run directory's path into BUF.  Returns -1 if it does not fit. */
int rundir_root(char *buf, size_t len);

/* Path of FILE in NAME's directory (FILE "" for the directory itself). */
int rundir_path(const char *name, const char *file, char *buf, size_t len);

/* Path of FILE in VM's directory.  Returns -1 if it does not fit. */
int vm_file(const struct vm *vm, const char *file, char *buf, size_t len);

/* Letters, digits, '.', '_' and '-', not starting with '.' or '-'. */
bool vm_name_valid(const char *name);

/*
 * Fill VM from NAME's directory.  Returns 0, or -1 with errno (ENOENT:
 * no such VM; EINVAL: vm.json is damaged).
 */
int vm_load(const char *name, struct vm *vm);

/* Find the VM we started whose QMP socket is PATH.  Returns 0 or -1. */
int vm_find_by_socket(const char *path, struct vm *vm);

/* Write vm.json atomically.  Returns 0, or -1 with errno. */
int vm_save(const struct vm *vm);

/* Whether QEMU still runs for VM (its pid lives and names VM's socket). */
bool vm_alive(const struct vm *vm);

/* Remove VM's directory and the files we know in it.  0 or -1. */
int vm_remove(const struct vm *vm);

/* Names of our VMs, sorted; free with vm_names_free().  0 or -1. */
int vm_names(char ***names, size_t *count);
void vm_names_free(char **names, size_t count);

#endif /* BALLONET_HOST_RUNDIR_H */
