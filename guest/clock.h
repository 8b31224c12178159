/*
 * Time: a monotonic millisecond clock from the TSC, and a periodic local
 * APIC timer that wakes the idle loop out of hlt.
 */
#ifndef GUEST_CLOCK_H
#define GUEST_CLOCK_H

#include <stdint.h>

#define HZ	100

struct clock_info {
	uint64_t	tsc_per_ms;
	uint32_t	lapic_per_ms;	/* timer counts at LAPIC_TIMER_DIV */
	int		calibrated;	/* 0: guessed, PIT did not count */
	const char	*source;	/* "pit", "xen" or "guessed" */
};

extern struct clock_info clock_info;

/* tsc_khz: the TSC rate when the hypervisor tells it, else 0. */
void		clock_init(uint64_t tsc_khz);
uint64_t	clock_now_ms(void);

#endif /* GUEST_CLOCK_H */
