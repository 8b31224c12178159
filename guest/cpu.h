/*
 * x86-64 instructions the guest needs, as inline functions.
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t
inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t
inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t
rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
	    "d"((uint32_t)(v >> 32)));
}

static inline void
cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
	    "=d"(r[3]) : "a"(leaf), "c"(0));
}

static inline void
cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void
sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* sti takes effect after the next instruction: no wakeup is lost. */
static inline void
sti_hlt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

static inline void
halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static inline void
pause(void)
{
	__asm__ volatile("pause");
}

static inline uint32_t
mmio_read32(uintptr_t pa)
{
	return *(volatile uint32_t *)pa;
}

static inline void
mmio_write32(uintptr_t pa, uint32_t v)
{
	*(volatile uint32_t *)pa = v;
}

#endif /* GUEST_CPU_H */
