/*
 * Interrupt sources and their counters.  A source is one device's
 * handler on one vector; PCI devices may share a level-triggered pin,
 * each with its handler.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/fmt.h>

#include "apic.h"
#include "console.h"
#include "intr.h"
#include "trap.h"

#define INTR_MAX	64
#define STORM		64	/* consecutive strays before a pin is masked */

static struct intrsrc srcs[INTR_MAX];
static int nsrcs;

/* Pin state of an IOAPIC GSI, shared by every source listening on it. */
static struct {
	bool		 masked;
	uint32_t	 stray_run;	/* consecutive interrupts for nobody */
} pins[VEC_GSI_MAX];

/* Whether some source still listens on "gsi". */
static bool
pin_listened(int gsi)
{
	int i;

	for (i = 0; i < nsrcs; i++)
		if (srcs[i].gsi == gsi && !srcs[i].masked)
			return true;
	return false;
}

/*
 * The device spoke on "is": its other candidate pins are not its own.
 * Each stops listening there; a pin is masked only when no other
 * device's source listens on it.
 */
static void
mask_siblings(const struct intrsrc *is)
{
	struct intrsrc *o;
	int i;

	for (i = 0; i < nsrcs; i++) {
		o = &srcs[i];
		if (o == is || o->arg != is->arg || o->fn != is->fn ||
		    o->claimed || o->gsi < 0 || o->masked)
			continue;
		o->masked = true;
		if (!pin_listened(o->gsi) && !pins[o->gsi].masked) {
			ioapic_mask((uint32_t)o->gsi, true);
			pins[o->gsi].masked = true;
		}
	}
}

/* One source's handler; true when the interrupt was its device's. */
static bool
intr_call(struct intrsrc *is)
{
	is->count++;
	if (is->fn != NULL && !is->fn(is->arg)) {
		is->stray++;
		return false;
	}
	if (!is->claimed) {
		is->claimed = true;
		mask_siblings(is);
	}
	return true;
}

static void
intr_dispatch(void *arg)
{
	intr_call(arg);
}

/*
 * A GSI, shared INTx: every source on the pin reads its own device's ISR
 * (which also lowers that device's line), so all of them run, not only
 * until the first says it was its own.  A pin that keeps firing for
 * nobody is masked.
 */
static void
gsi_dispatch(void *arg)
{
	int gsi = (int)(uintptr_t)arg, i;
	bool ours = false;

	for (i = 0; i < nsrcs; i++)
		if (srcs[i].gsi == gsi && !srcs[i].masked)
			ours |= intr_call(&srcs[i]);
	if (ours) {
		pins[gsi].stray_run = 0;
		return;
	}
	if (++pins[gsi].stray_run >= STORM && !pins[gsi].masked) {
		ioapic_mask((uint32_t)gsi, true);
		pins[gsi].masked = true;
		for (i = 0; i < nsrcs; i++)
			if (srcs[i].gsi == gsi)
				srcs[i].masked = true;
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

/*
 * Several devices may share a level pin (PCI INTx), each with its own
 * handler; an edge pin (ISA) takes one source.  A pin masked because
 * no one listened or for a storm is opened again for a new source: its
 * device may be what was firing there.
 */
int
intr_establish_gsi(uint32_t gsi, bool level, const char *name, intr_fn_t fn,
    void *arg)
{
	struct intrsrc *is;
	bool shared = false;
	uint8_t vec;
	int i;

	if (gsi >= VEC_GSI_MAX || !ioapic_has_gsi(gsi))
		return -1;
	vec = (uint8_t)(VEC_GSI_BASE + gsi);
	for (i = 0; i < nsrcs; i++) {
		if (srcs[i].vec != vec)
			continue;
		if (!level || !srcs[i].level ||
		    (srcs[i].fn == fn && srcs[i].arg == arg))
			return -1;
		shared = true;
	}
	if ((is = intr_new(vec, name, fn, arg)) == NULL)
		return -1;
	is->level = level;
	/* Last: from here gsi_dispatch() calls it (interrupts are on). */
	__atomic_store_n(&is->gsi, (int)gsi, __ATOMIC_RELEASE);
	pins[gsi].stray_run = 0;
	if (!shared) {
		trap_set_handler(vec, gsi_dispatch, (void *)(uintptr_t)gsi);
		ioapic_route(gsi, vec, level);
	} else if (!pins[gsi].masked)
		return 0;
	pins[gsi].masked = false;
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
