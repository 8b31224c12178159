/*
 * ballonet vm list: the VMs of the run directory.
 */
#include <stdio.h>

#include "cli.h"
#include "size.h"

static const struct usage usage = {
	.operands = "", .min_args = 0, .max_args = 0,
	.about =
	    "Name, pid, alive, memory and transport of each VM of the run\n"
	    "directory.\n",
};

static json_t *
row_json(const char *name, const struct vm *vm, bool ok, bool alive)
{
	return json_pack("{s:s, s:o, s:b, s:o, s:s?, s:s?}", "name", name,
	    "pid", ok && vm->pid ? json_integer(vm->pid) : json_null(),
	    "alive", alive, "memory", ok ?
	    json_integer((json_int_t)vm->memory) : json_null(),
	    "transport", ok ? vm->transport : NULL,
	    "accel", ok && vm->accel[0] ? vm->accel : NULL);
}

static void
row_text(const char *name, const struct vm *vm, bool ok, bool alive)
{
	char b[SIZE_BUFLEN];

	printf("%-16s %8ld %-5s %10s %s\n", name, ok ? (long)vm->pid : 0L,
	    alive ? "yes" : "no", ok ? size_format(vm->memory, b,
	    sizeof(b)) : "-", ok ? vm->transport : "-");
}

int
cmd_vm_list(const struct verb *verb, int argc, char **argv)
{
	bool json = false;
	const struct opt opts[] = {
		OPT_FLAG('j', "json", &json, "one JSON array of objects"),
		OPT_END()
	};
	json_t *array;
	char **names;
	size_t count;
	int r;

	if ((r = parse_args(verb, &usage, opts, argc, argv)) != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (vm_names(&names, &count) != 0)
		return fail(EXIT_LOCAL, "cannot read the run directory: %m");
	array = json_array();
	if (!json)
		printf("%-16s %8s %-5s %10s %s\n", "NAME", "PID", "ALIVE",
		    "MEMORY", "TRANSPORT");
	for (size_t i = 0; i < count; i++) {
		struct vm vm;
		bool ok = vm_load(names[i], &vm) == 0;
		bool alive = ok && vm_alive(&vm);
		if (json)
			json_array_append_new(array, row_json(names[i], &vm, ok,
			    alive));
		else
			row_text(names[i], &vm, ok, alive);
	}
	vm_names_free(names, count);
	if (json)
		print_json(array);
	else
		json_decref(array);
	return EXIT_OK;
}
