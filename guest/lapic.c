/*
 * Local APIC in xAPIC mode, through its MMIO page.
 */
#include <stdint.h>

#include "apic.h"
#include "cpu.h"
#include "trap.h"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1u << 11)
#define APIC_BASE_MASK		0xffffff000ull

#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIVIDE	0x3e0

#define SVR_ENABLE		0x100
#define LVT_MASKED		0x10000
#define LVT_PERIODIC		0x20000
#define DIVIDE_BY_16		0x3

static uintptr_t lapic_base;

static uint32_t
lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_base + reg);
}

static void
lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic_base + reg, v);
}

void
lapic_init(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	lapic_base = msr & APIC_BASE_MASK;
	/* The 8259 is off; nothing may arrive through LINT0 either. */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
}

void
lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t
lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void
lapic_timer_oneshot_max(void)
{
	lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
}

uint32_t
lapic_timer_count(void)
{
	return lapic_read(LAPIC_TIMER_CUR);
}

void
lapic_timer_periodic(uint8_t vec, uint32_t count)
{
	lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | vec);
	lapic_write(LAPIC_TIMER_INIT, count);
}
