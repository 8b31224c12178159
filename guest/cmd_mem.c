/*
 * mem: take pages from the allocator and dirty them, so that the host has
 * something to reclaim; give them back.  Held pages are chained through
 * their own first word; the second holds a check value.
 */
#include <stdint.h>

#include "console.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"

#define CHECK_MAGIC	0xba11007e7e57ull

static uint64_t held_head;	/* physical address of the newest page */
static uint64_t held;		/* pages */

/* 1 for none; K, M, G, optionally followed by "B" or "iB"; 0: bad. */
static uint64_t
multiplier(const char *s)
{
	uint64_t mul;

	switch (*s) {
	case '\0':
		return 1;
	case 'k': case 'K':
		mul = 1ull << 10;
		break;
	case 'm': case 'M':
		mul = 1ull << 20;
		break;
	case 'g': case 'G':
		mul = 1ull << 30;
		break;
	default:
		return 0;
	}
	s++;
	if (*s == '\0' || strcmp(s, "B") == 0 || strcmp(s, "iB") == 0)
		return mul;
	return 0;
}

static int
parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mul;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if ((mul = multiplier(s)) == 0 || v > UINT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

static void
touch(uint64_t pages)
{
	uint64_t n, pa, *p;

	for (n = 0; n < pages; n++) {
		if ((pa = pmem_alloc()) == 0) {
			kprintf("mem: out of memory after %llu pages\n",
			    (unsigned long long)n);
			break;
		}
		p = (uint64_t *)(uintptr_t)pa;
		p[0] = held_head;
		p[1] = pa ^ CHECK_MAGIC;
		held_head = pa;
		held++;
	}
	kprintf("mem: touched %llu pages (%llu MiB), held %llu\n",
	    (unsigned long long)n, (unsigned long long)(n >> 8),
	    (unsigned long long)held);
}

static void
release(void)
{
	uint64_t n = 0, pa, *p;

	while (held_head != 0) {
		pa = held_head;
		p = (uint64_t *)(uintptr_t)pa;
		if (p[1] != (pa ^ CHECK_MAGIC)) {
			kprintf("mem: page 0x%llx was overwritten, "
			    "%llu pages lost\n", (unsigned long long)pa,
			    (unsigned long long)(held - n));
			break;
		}
		held_head = p[0];
		pmem_free(pa);
		n++;
	}
	held = 0;
	held_head = 0;
	kprintf("mem: freed %llu pages\n", (unsigned long long)n);
}

int
cmd_mem(int argc, char **argv)
{
	uint64_t bytes, balloon;

	if (argc == 1) {
		balloon = guest.viomb != NULL ? guest.viomb->balloon.pages : 0;
		kprintf("mem: total %llu pages, free %llu, held %llu, "
		    "balloon %llu\n", (unsigned long long)pmem.total_pages,
		    (unsigned long long)pmem.free_pages,
		    (unsigned long long)held, (unsigned long long)balloon);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "touch") == 0) {
		if (parse_size(argv[2], &bytes) != 0) {
			kprintf("mem: bad size '%s'\n", argv[2]);
			return 1;
		}
		touch((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "free") == 0) {
		release();
		return 0;
	}
	kprintf("usage: mem [touch SIZE | free]\n");
	return 1;
}
