/*
 * sysctl: the balloon's nodes (include/ballonet/sysctl.h) and a few of the
 * guest's own, printed the NetBSD way.
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/error.h>
#include <ballonet/sysctl.h>

#include "console.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"

#define NAME_MAX	64

static uint64_t
physmem(void)
{
	return pmem_host_ram_pages() * PAGE_SIZE;
}

static uint64_t
pagesize(void)
{
	return PAGE_SIZE;
}

static uint64_t
free_pages(void)
{
	return pmem.free_pages;
}

static uint64_t
total_pages(void)
{
	return pmem.total_pages;
}

static uint64_t
poison(void)
{
	return pmem.poison != 0;
}

static uint64_t
poison_val(void)
{
	return pmem.poison_val;
}

static uint64_t
zeroed_pages(void)
{
	return pmem.zeroed;
}

static uint64_t
zero_skipped(void)
{
	return pmem.zero_skipped;
}

static uint64_t
idle_zeroed(void)
{
	return pmem.idle_zeroed;
}

static uint64_t
zero_always(void)
{
	return pmem.zero_always != 0;
}

static uint64_t
warm_boot(void)
{
	return pmem.warm_boot != 0;
}

static uint64_t
hot_pages(void)
{
	return pmem.hot_pages;
}

static uint64_t
hot_free_pages(void)
{
	return pmem.hot_free_pages;
}

/* Guest nodes, all read-only. */
static const struct {
	const char	*name;
	uint64_t	(*read)(void);
} gnodes[] = {
	{ "hw.physmem", physmem },		/* bytes of RAM */
	{ "hw.pagesize", pagesize },
	{ "vm.stats.free_pages", free_pages },	/* in the allocator */
	{ "vm.stats.total_pages", total_pages },	/* it manages */
	{ "vm.poison", poison },		/* 1: boot option poison= */
	{ "vm.poison_val", poison_val },	/* what freed pages hold */
	{ "vm.stats.zeroed_pages", zeroed_pages },	/* by the balloon */
	{ "vm.stats.zero_skipped", zero_skipped },	/* held no data */
	{ "vm.stats.idle_zeroed_pages", idle_zeroed },	/* ahead of time */
	{ "vm.zero_always", zero_always },	/* 1: boot option zero= */
	{ "vm.warm_boot", warm_boot },		/* 1: every page was dirty */
	{ "vm.stats.hot_pages", hot_pages },	/* hot-plugged, present */
	{ "vm.stats.hot_free_pages", hot_free_pages },	/* of those, free */
};
#define NGNODES	(sizeof(gnodes) / sizeof(gnodes[0]))

static struct bn_balloon *
balloon(void)
{
	return guest.balloon;
}

static int
gnode_find(const char *name)
{
	size_t i;

	for (i = 0; i < NGNODES; i++)
		if (strcmp(gnodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static size_t
node_count(void)
{
	return NGNODES + (balloon() != NULL ? bn_sysctl_count(balloon()) : 0);
}

static int
node_name(size_t i, char *buf, size_t len)
{
	if (i >= NGNODES)
		return bn_sysctl_name(balloon(), i - NGNODES, buf, len);
	if (strlen(gnodes[i].name) >= len)
		return BN_ERANGE;
	memcpy(buf, gnodes[i].name, strlen(gnodes[i].name) + 1);
	return BN_OK;
}

static int
node_read(const char *name, uint64_t *val)
{
	int i;

	if ((i = gnode_find(name)) >= 0) {
		*val = gnodes[i].read();
		return BN_OK;
	}
	if (balloon() == NULL)
		return BN_ENOENT;
	return bn_sysctl_read(balloon(), name, val);
}

static void
error(const char *name, const char *val, int err)
{
	if (err == BN_EINVAL && val != NULL)
		kprintf("sysctl: %s: invalid value '%s'\n", name, val);
	else if (err == BN_ERANGE && val != NULL)
		kprintf("sysctl: %s: value out of range '%s'\n", name, val);
	else
		kprintf("sysctl: %s: %s\n", name, bn_strerror(err));
}

static void
show(const char *name)
{
	uint64_t val;
	int err;

	if ((err = node_read(name, &val)) != BN_OK)
		error(name, NULL, err);
	else
		kprintf("%s = %llu\n", name, (unsigned long long)val);
}

/* "hw.viomb" or "machdep.xen" lists every node under it, as NetBSD does. */
static bool
show_subtree(const char *prefix)
{
	char name[NAME_MAX];
	size_t i, plen = strlen(prefix);
	bool any = false;

	for (i = 0; i < node_count(); i++) {
		if (node_name(i, name, sizeof(name)) != BN_OK)
			continue;
		if (plen == 0 || (strncmp(name, prefix, plen) == 0 &&
		    name[plen] == '.')) {
			show(name);
			any = true;
		}
	}
	return any;
}

static void
read_one(const char *name)
{
	uint64_t val;

	if (node_read(name, &val) == BN_OK || !show_subtree(name))
		show(name);
}

static void
write_one(char *arg)
{
	char *eq = strchr(arg, '=');
	uint64_t old, new;
	int err;

	if (eq == NULL) {
		kprintf("sysctl: -w needs NAME=VALUE\n");
		return;
	}
	*eq = '\0';
	if (gnode_find(arg) >= 0)
		err = BN_EPERM;
	else if (balloon() == NULL)
		err = BN_ENOENT;
	else
		err = bn_sysctl_write(balloon(), arg, eq + 1, &old);
	if (err != BN_OK) {
		error(arg, eq + 1, err);
		return;
	}
	if (node_read(arg, &new) != BN_OK)
		new = old;
	kprintf("%s: %llu -> %llu\n", arg, (unsigned long long)old,
	    (unsigned long long)new);
}

int
cmd_sysctl(int argc, char **argv)
{
	bool wflag = false;
	int i;

	if (argc == 1 || (argc == 2 && strcmp(argv[1], "-a") == 0)) {
		show_subtree("");
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-w") == 0) {
			wflag = true;
			if (i == argc - 1)
				kprintf("sysctl: -w needs NAME=VALUE\n");
		} else if (strcmp(argv[i], "-a") == 0)
			show_subtree("");
		else if (wflag || strchr(argv[i], '=') != NULL)
			write_one(argv[i]);
		else
			read_one(argv[i]);
	}
	return 0;
}
