/*
 * Interrupt sources and their counters.
 */
#include <stddef.h>

#include <ballonet/fmt.h>

#include "apic.h"
#include "console.h"
#include "intr.h"
#include "trap.h"

#define INTR_MAX	64
#define STORM		64	/* consecutive strays before a pin is masked */

static struct intrsrc srcs[INTR_MAX];
static int nsrcs;

/* The device spoke on "is": its other candidate pins are not its own. */
static void
mask_siblings(const struct intrsrc *is)
{
	struct intrsrc *o;
	int i;

	for (i = 0; i < nsrcs; i++) {
		o = &srcs[i];
		if (o == is || o->arg != is->arg || o->fn != is->fn ||
		    o->claimed || o->gsi < 0)
			continue;
		ioapic_mask((uint32_t)o->gsi, true);
		o->masked = true;
	}
}

static void
intr_dispatch(void *arg)
{
	struct intrsrc *is = arg;

	is->count++;
	if (is->fn == NULL || is->fn(is->arg)) {
		is->stray_run = 0;
		if (!is->claimed) {
			is->claimed = true;
			mask_siblings(is);
		}
		return;
	}
	is->stray++;
	if (++is->stray_run >= STORM && is->gsi >= 0 && !is->masked) {
		ioapic_mask((uint32_t)is->gsi, true);
		is->masked = true;
	}
}

static struct intrsrc *
intr_new(uint8_t vec, const char *name, intr_fn_t fn, void *arg)
{
	struct intrsrc *is;

	if (nsrcs == INTR_MAX)
		return NULL;
	is = &srcs[nsrcs++];
	is->name = name;
	is->vec = vec;
	is->gsi = -1;
	is->fn = fn;
	is->arg = arg;
	return is;
}

int
intr_establish_local(uint8_t vec, const char *name, intr_fn_t fn, void *arg)
{
	struct intrsrc *is;

	if ((is = intr_new(vec, name, fn, arg)) == NULL)
		return -1;
	trap_set_handler(vec, intr_dispatch, is);
	return 0;
}

int
intr_establish_gsi(uint32_t gsi, bool level, const char *name, intr_fn_t fn,
    void *arg)
{
	struct intrsrc *is;
	uint8_t vec;
	int i;

	if (gsi >= VEC_GSI_MAX || !ioapic_has_gsi(gsi))
		return -1;
	vec = (uint8_t)(VEC_GSI_BASE + gsi);
	for (i = 0; i < nsrcs; i++)
		if (srcs[i].vec == vec)
			return -1;	/* no sharing: one source per pin */
	if ((is = intr_new(vec, name, fn, arg)) == NULL)
		return -1;
	is->gsi = (int)gsi;
	is->level = level;
	trap_set_handler(vec, intr_dispatch, is);
	ioapic_route(gsi, vec, level);
	ioapic_mask(gsi, false);
	return 0;
}

int
intr_claimed_gsi(void *arg)
{
	int i;

	for (i = 0; i < nsrcs; i++)
		if (srcs[i].arg == arg && srcs[i].claimed && srcs[i].gsi >= 0)
			return srcs[i].gsi;
	return -1;
}

void
intr_print(void)
{
	const struct intrsrc *is;
	char where[24];
	int i;

	kprintf("%-10s %-16s %10s %8s\n", "source", "line", "count", "stray");
	for (i = 0; i < nsrcs; i++) {
		is = &srcs[i];
		if (is->gsi < 0)
			bn_snprintf(where, sizeof(where), "lapic vec 0x%x",
			    is->vec);
		else
			bn_snprintf(where, sizeof(where), "gsi %d %s", is->gsi,
			    is->level ? "level" : "edge");
		kprintf("%-10s %-16s %10llu %8llu%s\n", is->name, where,
		    (unsigned long long)is->count,
		    (unsigned long long)is->stray,
		    is->masked ? " masked" : "");
	}
}
