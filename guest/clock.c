/*
 * Calibrate the TSC and the local APIC timer against PIT channel 0, read
 * back by polling.  Not channel 2 through port 0x61: microvm has no
 * speaker port.  The PIT's interrupt stays masked.
 */
#include <stddef.h>

#include "apic.h"
#include "clock.h"
#include "cpu.h"
#include "intr.h"
#include "trap.h"

#define PIT_HZ		1193182
#define PIT_CH0		0x40
#define PIT_MODE	0x43
#define PIT_CH0_RATE	0x34		/* channel 0, lo/hi byte, mode 2 */
#define PIT_CH0_ONESHOT	0x30		/* channel 0, lo/hi byte, mode 0 */
#define PIT_CH0_LATCH	0x00

#define CAL_MS		20
#define CAL_LIMIT	(1ull << 33)	/* TSC ticks before giving up */

struct clock_info clock_info;
static uint64_t tsc_epoch;

static uint16_t
pit_read(void)
{
	uint8_t lo, hi;

	outb(PIT_MODE, PIT_CH0_LATCH);
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

/*
 * Measure at least CAL_MS of PIT time, in TSC ticks and LAPIC timer counts
 * per millisecond.  The rates use the PIT ticks really elapsed: the host
 * may stall us for milliseconds between two reads.  0: no PIT.
 */
static int
pit_measure(uint64_t *tsc, uint64_t *lapic)
{
	uint32_t target = PIT_HZ * CAL_MS / 1000, elapsed = 0, l0, l;
	uint16_t prev, cur;
	uint64_t t0, t;

	outb(PIT_MODE, PIT_CH0_RATE);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	lapic_timer_oneshot_max();
	prev = pit_read();
	l0 = lapic_timer_count();
	t0 = rdtsc();
	while (elapsed < target) {
		cur = pit_read();
		t = rdtsc();
		l = lapic_timer_count();
		elapsed += (uint16_t)(prev - cur);
		prev = cur;
		if (t - t0 > CAL_LIMIT)
			return 0;
	}
	*tsc = (t - t0) * PIT_HZ / ((uint64_t)elapsed * 1000);
	*lapic = (uint64_t)(l0 - l) * PIT_HZ / ((uint64_t)elapsed * 1000);
	return *lapic > 0 && *tsc > 0;
}

static uint64_t
median3(uint64_t a, uint64_t b, uint64_t c)
{
	if ((a <= b && b <= c) || (c <= b && b <= a))
		return b;
	if ((b <= a && a <= c) || (c <= a && a <= b))
		return a;
	return c;
}

/* The median of three runs: a run with a stall over 55 ms is off. */
static int
pit_calibrate(uint64_t *tsc, uint64_t *lapic)
{
	uint64_t ts[3], ls[3];
	int i;

	for (i = 0; i < 3; i++)
		if (!pit_measure(&ts[i], &ls[i]))
			return 0;
	*tsc = median3(ts[0], ts[1], ts[2]);
	*lapic = median3(ls[0], ls[1], ls[2]);
	/* Leave channel 0 in one-shot mode: no more timer work for the host. */
	outb(PIT_MODE, PIT_CH0_ONESHOT);
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
	return 1;
}

/* Without a PIT: QEMU's APIC bus runs at 1 GHz; guess the TSC. */
static void
guess(void)
{
	uint32_t r[4];

	cpuid(0, r);
	clock_info.tsc_per_ms = 1000000;
	if (r[0] >= 0x16) {
		cpuid(0x16, r);
		if (r[0] != 0)
			clock_info.tsc_per_ms = (uint64_t)r[0] * 1000;
	}
	clock_info.lapic_per_ms = 1000000 / LAPIC_TIMER_DIV;
}

static int
tick(void *arg)
{
	(void)arg;
	return 1;
}

/*
 * Xen PVH has no PIT, but says the TSC rate; its local APIC timer runs at
 * 1 GHz like QEMU's.
 */
void
clock_init(uint64_t tsc_khz)
{
	uint64_t tsc, lapic;

	if (tsc_khz != 0) {
		clock_info.tsc_per_ms = tsc_khz;
		clock_info.lapic_per_ms = 1000000 / LAPIC_TIMER_DIV;
		clock_info.calibrated = 1;
		clock_info.source = "xen";
	} else if (pit_calibrate(&tsc, &lapic)) {
		clock_info.tsc_per_ms = tsc;
		clock_info.lapic_per_ms = (uint32_t)lapic;
		clock_info.calibrated = 1;
		clock_info.source = "pit";
	} else {
		guess();
		clock_info.source = "guessed";
	}
	tsc_epoch = rdtsc();
	intr_establish_local(VEC_TIMER, "timer", tick, NULL);
	lapic_timer_periodic(VEC_TIMER, clock_info.lapic_per_ms * (1000 / HZ));
}

uint64_t
clock_now_ms(void)
{
	return (rdtsc() - tsc_epoch) / clock_info.tsc_per_ms;
}
