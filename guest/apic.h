/*
 * Local APIC (timer, EOI) and IOAPICs (device interrupt pins).
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

void		lapic_init(void);
void		lapic_eoi(void);
uint32_t	lapic_id(void);
void		lapic_timer_oneshot_max(void);	/* for calibration */
uint32_t	lapic_timer_count(void);
void		lapic_timer_periodic(uint8_t vec, uint32_t count);

#define LAPIC_TIMER_DIV	16

#define IOAPIC_MAX	2

struct ioapic {
	uintptr_t	base;
	uint32_t	gsi_base;
	uint32_t	npins;
	uint8_t		version;
};

extern struct ioapic ioapics[IOAPIC_MAX];
extern int nioapics;

void	ioapic_init(void);
/* Route "gsi" to "vec" on this CPU, masked; false if no IOAPIC has it. */
bool	ioapic_route(uint32_t gsi, uint8_t vec, bool level);
void	ioapic_mask(uint32_t gsi, bool masked);
bool	ioapic_has_gsi(uint32_t gsi);

void	pic_disable(void);

#endif /* GUEST_APIC_H */
