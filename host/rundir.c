/*
 * ballonet: the run directory (see rundir.h).
 */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files a VM's directory may hold; vm_remove() deletes these only. */
static const char *const vm_files[] = {
	"qmp.sock", "watch.sock", "serial.sock", "console.log", "qemu.pid", "vm.json",
	"vm.json.tmp", "qemu.err",
};

int
rundir_root(char *buf, size_t len)
{
	const char *env = getenv("BALLONET_RUNDIR");
	int n;

	if (env != NULL && *env != '\0')
		n = snprintf(buf, len, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
		n = snprintf(buf, len, "%s/ballonet", env);
	else
		n = snprintf(buf, len, "/run/ballonet");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
rundir_path(const char *name, const char *file, char *buf, size_t len)
{
	char root[PATH_MAX];
	int n;

	if (rundir_root(root, sizeof(root)) != 0)
		return -1;
	n = snprintf(buf, len, "%s/%s%s%s", root, name, *file ? "/" : "",
	    file);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vm_file(const struct vm *vm, const char *file, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", vm->dir, file);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool
vm_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > VM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static pid_t
read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT_MAX)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static void
copy_string(char *dst, size_t len, json_t *value)
{
	const char *s = json_string_value(value);

	snprintf(dst, len, "%s", s ? s : "");
}

int
vm_load(const char *name, struct vm *vm)
{
	char path[PATH_MAX];
	json_t *root;

	memset(vm, 0, sizeof(*vm));
	if (!vm_name_valid(name) ||
	    rundir_path(name, "", vm->dir, sizeof(vm->dir)) != 0 ||
	    rundir_path(name, "qmp.sock", vm->qmp, sizeof(vm->qmp)) != 0 ||
	    rundir_path(name, "watch.sock", vm->watch, sizeof(vm->watch)) != 0 ||
	    rundir_path(name, "vm.json", path, sizeof(path)) != 0) {
		errno = ENOENT;
		return -1;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	root = json_load_file(path, 0, NULL);
	if (root == NULL) {
		errno = access(path, F_OK) == 0 ? EINVAL : ENOENT;
		return -1;
	}
	vm->memory = (uint64_t)json_integer_value(json_object_get(root, "memory"));
	vm->target = (uint64_t)json_integer_value(json_object_get(root, "target"));
	copy_string(vm->transport, sizeof(vm->transport),
	    json_object_get(root, "transport"));
	copy_string(vm->kernel, sizeof(vm->kernel),
	    json_object_get(root, "kernel"));
	copy_string(vm->accel, sizeof(vm->accel),
	    json_object_get(root, "accel"));
	json_decref(root);
	if (rundir_path(name, "qemu.pid", path, sizeof(path)) == 0)
		vm->pid = read_pid(path);
	return 0;
}

int
vm_find_by_socket(const char *path, struct vm *vm)
{
	char want[PATH_MAX], have[PATH_MAX];
	char **names;
	size_t count;
	int found = -1;

	if (realpath(path, want) == NULL || vm_names(&names, &count) != 0)
		return -1;
	for (size_t i = 0; i < count && found != 0; i++) {
		if (vm_load(names[i], vm) == 0 &&
		    realpath(vm->qmp, have) != NULL && strcmp(want, have) == 0)
			found = 0;
	}
	vm_names_free(names, count);
	return found;
}

int
vm_save(const struct vm *vm)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	json_t *root;
	int r;

	if (rundir_path(vm->name, "vm.json", path, sizeof(path)) != 0 ||
	    rundir_path(vm->name, "vm.json.tmp", tmp, sizeof(tmp)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	root = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s*}", "name", vm->name,
	    "memory", (json_int_t)vm->memory, "target", (json_int_t)vm->target,
	    "transport", vm->transport, "kernel", vm->kernel,
	    "accel", vm->accel[0] ? vm->accel : NULL);
	if (root == NULL) {
		errno = ENOMEM;
		return -1;
	}
	r = json_dump_file(root, tmp, JSON_INDENT(2));
	json_decref(root);
	if (r != 0 || rename(tmp, path) != 0) {
		int saved = r != 0 ? EIO : errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

bool
vm_alive(const struct vm *vm)
{
	char path[64], cmdline[8192];
	size_t n;
	FILE *f;

	if (vm->pid <= 0 || (kill(vm->pid, 0) != 0 && errno == ESRCH))
		return false;
	/* The pid may have been reused: QEMU's command line names our socket. */
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)vm->pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	cmdline[n] = '\0';
	return strstr(cmdline, vm->qmp) != NULL;
}

int
vm_remove(const struct vm *vm)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(vm_files) / sizeof(vm_files[0]); i++) {
		if (vm_file(vm, vm_files[i], path, sizeof(path)) == 0)
			unlink(path);
	}
	if (rmdir(vm->dir) != 0 && errno != ENOENT)
		return -1;
	return 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
vm_names(char ***names, size_t *count)
{
	char root[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*count = 0;
	if (rundir_root(root, sizeof(root)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((d = opendir(root)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (!vm_name_valid(de->d_name))
			continue;
		char **grown = realloc(*names, (*count + 1) * sizeof(char *));
		if (grown == NULL || (grown[*count] = strdup(de->d_name)) == NULL) {
			*names = grown ? grown : *names;
			closedir(d);
			vm_names_free(*names, *count);
			errno = ENOMEM;
			return -1;
		}
		*names = grown;
		(*count)++;
	}
	closedir(d);
	if (*count > 0)
		qsort(*names, *count, sizeof(char *), compare_names);
	return 0;
}

void
vm_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
