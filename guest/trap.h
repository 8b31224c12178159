/*
 * The IDT, exceptions and the dispatch of interrupt vectors.
 */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <stdint.h>

/* What vectors.S pushes, lowest address first. */
struct trapframe {
	uint64_t	r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t	rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t	vector;
	uint64_t	err;		/* zero where the CPU pushes none */
	uint64_t	rip, cs, rflags, rsp, ss;
};

/* Vector layout. */
#define VEC_TIMER	0x20
#define VEC_GSI_BASE	0x30		/* IOAPIC GSI n arrives on 0x30 + n */
#define VEC_GSI_MAX	48
#define VEC_XEN_EVTCHN	0xf0		/* Xen event channel upcall */
#define VEC_SPURIOUS	0xff

typedef void (*trap_handler_t)(void *arg);

void	trap_init(void);
void	trap_set_handler(int vec, trap_handler_t fn, void *arg);
void	trap(struct trapframe *tf);

#endif /* GUEST_TRAP_H */
