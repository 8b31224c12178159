/*
 * mem: take pages from the allocator and dirty them, so that the host has
 * something to reclaim; give them back.  Held pages are chained through
 * their own first word; the second holds a check value.
 */
#include <stdint.h>

#include <ballonet/str.h>

#include "console.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"

#define CHECK_MAGIC	0xba11007e7e57ull

static uint64_t held_head;	/* physical address of the newest page */
static uint64_t held;		/* pages */

/*
 * The unit after the number, as the host's ballonet(1) reads sizes: none
 * is MiB (as QEMU's -m), B is bytes, K, M, G optionally followed by "B" or
 * "iB" are powers of 1024; 0: bad.
 */
static uint64_t
multiplier(const char *s)
{
	uint64_t mul;

	switch (*s) {
	case '\0':
		return 1ull << 20;
	case 'b': case 'B':
		return s[1] == '\0' ? 1 : 0;
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

int
parse_size(const char *s, uint64_t *bytes)
{
	const char *unit;
	uint64_t v, mul;

	if (bn_parse_u64(s, &v, &unit) != BN_OK)
		return -1;
	if ((mul = multiplier(unit)) == 0 || v > UINT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

/* Give back the newest "n" held pages (a touch that failed). */
static void
unwind(uint64_t n)
{
	uint64_t pa;

	while (n-- > 0 && held_head != 0) {
		pa = held_head;
		held_head = ((uint64_t *)(uintptr_t)pa)[0];
		pmem_free(pa);
		held--;
	}
}

/*
 * All or nothing: when the allocator runs out (after the balloon gave
 * back what DEFLATE_ON_OOM allows, reporting.h), the pages of this call
 * go back and the command fails.
 */
/* Poisoning on: does the page still hold poison_val at both ends? */
static uint64_t
poisoned(const uint64_t *p)
{
	uint64_t v = (uint64_t)pmem.poison_val << 32 | pmem.poison_val;

	return pmem.poison && p[0] == v && p[PAGE_SIZE / 8 - 1] == v;
}

static int
touch(uint64_t pages)
{
	uint64_t n, pa, *p, npoisoned = 0;

	for (n = 0; n < pages; n++) {
		if ((pa = pmem_alloc()) == 0) {
			unwind(n);
			kprintf("mem: out of memory after %llu of %llu pages; "
			    "released them, held %llu\n", (unsigned long long)n,
			    (unsigned long long)pages, (unsigned long long)held);
			return 1;
		}
		p = (uint64_t *)(uintptr_t)pa;
		npoisoned += poisoned(p);
		p[0] = held_head;
		p[1] = pa ^ CHECK_MAGIC;
		held_head = pa;
		held++;
	}
	kprintf("mem: touched %llu pages (%llu MiB), held %llu",
	    (unsigned long long)n, (unsigned long long)(n >> 8),
	    (unsigned long long)held);
	if (pmem.poison)
		kprintf(", %llu poisoned", (unsigned long long)npoisoned);
	kprintf("\n");
	return 0;
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
		balloon = guest.balloon != NULL ?
		    bn_balloon_pages(guest.balloon) : 0;
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
		return touch((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
	}
	if (argc == 2 && strcmp(argv[1], "free") == 0) {
		release();
		return 0;
	}
	kprintf("usage: mem [touch SIZE | free]\n");
	return 1;
}
