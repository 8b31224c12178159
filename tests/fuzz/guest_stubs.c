/*
 * What guest/shell.c, cmd_sysctl.c and cmd_mem.c need to run in a host
 * process: a console fed from a buffer, kprintf through the engine's own
 * formatter, and a page allocator over a small pool of host memory.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <ballonet/fmt.h>

#include "console.h"
#include "guest_stubs.h"
#include "kern.h"
#include "pmem.h"
#include "shell.h"
#include "xen.h"

#define POOL_PAGES	32

struct guest guest;
struct pmem pmem;

static const uint8_t *in;
static size_t in_left;
static uint8_t *pool;
static uint8_t pool_used[POOL_PAGES];

void
stubs_input(const uint8_t *p, size_t n)
{
	in = p;
	in_left = n;
	if (pool == NULL && (pool = aligned_alloc(PAGE_SIZE,
	    (size_t)POOL_PAGES * PAGE_SIZE)) == NULL)
		abort();
	pmem.ram_pages = pmem.total_pages = POOL_PAGES;
}

int
cons_getc(void)
{
	if (in_left == 0)
		return -1;
	in_left--;
	return *in++;
}

void
cons_putc(char c)
{
	(void)c;
}

void
cons_puts(const char *s)
{
	(void)s;
}

void
kprintf(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	bn_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

void
intr_print(void)
{
}

void
xen_evtchn_print(void)
{
}

int
cmd_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

uint64_t
pmem_alloc(void)
{
	size_t i;

	for (i = 0; i < POOL_PAGES; i++) {
		if (!pool_used[i]) {
			pool_used[i] = 1;
			pmem.free_pages--;
			return (uint64_t)(uintptr_t)(pool + i * PAGE_SIZE);
		}
	}
	return 0;
}

void
pmem_free(uint64_t pa)
{
	size_t i = (size_t)((uintptr_t)pa - (uintptr_t)pool) / PAGE_SIZE;

	if ((uintptr_t)pa < (uintptr_t)pool || i >= POOL_PAGES ||
	    !pool_used[i] || (uintptr_t)pa % PAGE_SIZE != 0)
		abort();	/* the shell freed what it never had */
	pool_used[i] = 0;
	pmem.free_pages++;
}

/* A clock that moves 1 ms a call, so that wave's schedule advances. */
uint64_t
clock_now_ms(void)
{
	static uint64_t now;

	return ++now;
}

uint64_t
pmem_host_ram_pages(void)
{
	return POOL_PAGES;
}
