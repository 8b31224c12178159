/*
 * mem: take pages from the allocator and dirty them, so that the host has
 * something to reclaim; give them back.  Held pages are chained through
 * their own first word; the second holds a check value.  "mem fill" also
 * writes the rest of each page with a pattern of its address, and
 * "mem check" reads every held page back (data kept across an unplug).
 */
#include <stdint.h>

#include <ballonet/str.h>

#include "console.h"
#include "kern.h"
#include "libkern.h"
#include "pmem.h"
#include "shell.h"

#define CHECK_MAGIC	0xba11007e7e57ull
#define FILL_MAGIC	0xf111ed0ba11ull	/* p[1] of a filled page */

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

/* Word i (2 and up) of filled page "pa". */
static uint64_t
pattern(uint64_t pa, uint64_t i)
{
	return (pa + i * 8) * 0x9e3779b97f4a7c15ull;
}

static void
fill(uint64_t *p, uint64_t pa)
{
	uint64_t i;

	p[1] = pa ^ FILL_MAGIC;
	for (i = 2; i < PAGE_SIZE / 8; i++)
		p[i] = pattern(pa, i);
}

static int
touch(uint64_t pages, int filled)
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
		if (filled)
			fill(p, pa);
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
		if (p[1] != (pa ^ CHECK_MAGIC) && p[1] != (pa ^ FILL_MAGIC)) {
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

/* Read every held page back; filled pages word by word. */
static int
check(void)
{
	uint64_t n = 0, nfilled = 0, bad = 0, pa, *p, i;

	for (pa = held_head; pa != 0; pa = p[0], n++) {
		p = (uint64_t *)(uintptr_t)pa;
		if (p[1] == (pa ^ CHECK_MAGIC))
			continue;
		if (p[1] != (pa ^ FILL_MAGIC)) {
			kprintf("mem: page 0x%llx was overwritten\n",
			    (unsigned long long)pa);
			return 1;
		}
		nfilled++;
		for (i = 2; i < PAGE_SIZE / 8; i++)
			bad += p[i] != pattern(pa, i);
	}
	if (bad != 0) {
		kprintf("mem: check failed: %llu words differ in %llu filled "
		    "pages\n", (unsigned long long)bad,
		    (unsigned long long)nfilled);
		return 1;
	}
	kprintf("mem: check ok: %llu pages held, %llu filled intact\n",
	    (unsigned long long)n, (unsigned long long)nfilled);
	return 0;
}

int
cmd_mem(int argc, char **argv)
{
	uint64_t bytes, balloon;

	if (argc == 1) {
		balloon = guest.balloon != NULL ?
		    bn_balloon_pages(guest.balloon) : 0;
		kprintf("mem: total %llu pages, free %llu, held %llu, "
		    "balloon %llu, hotplugged %llu, hot free %llu\n",
		    (unsigned long long)pmem.total_pages,
		    (unsigned long long)pmem.free_pages,
		    (unsigned long long)held, (unsigned long long)balloon,
		    (unsigned long long)pmem.hot_pages,
		    (unsigned long long)pmem.hot_free_pages);
		return 0;
	}
	if (argc == 3 && (strcmp(argv[1], "touch") == 0 ||
	    strcmp(argv[1], "fill") == 0)) {
		if (parse_size(argv[2], &bytes) != 0) {
			kprintf("mem: bad size '%s'\n", argv[2]);
			return 1;
		}
		return touch((bytes + PAGE_SIZE - 1) / PAGE_SIZE,
		    argv[1][0] == 'f');
	}
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check();
	if (argc == 2 && strcmp(argv[1], "free") == 0) {
		release();
		return 0;
	}
	kprintf("usage: mem [touch SIZE | fill SIZE | check | free]\n");
	return 1;
}
