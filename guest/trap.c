/*
 * Interrupt descriptor table.  Exceptions are fatal: the guest has no
 * user mode and no recovery, so we print the registers and halt.
 */
#include <stddef.h>

#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "trap.h"

#define GATE_INTR	0x8e		/* present, ring 0, interrupt gate */
#define SEL_CODE	0x08
#define STUB_SIZE	16		/* see vectors.S */

struct gate {
	uint16_t	off_lo;
	uint16_t	sel;
	uint8_t		ist;
	uint8_t		type;
	uint16_t	off_mid;
	uint32_t	off_hi;
	uint32_t	zero;
} __attribute__((packed));

struct idt_desc {
	uint16_t	limit;
	uint64_t	base;
} __attribute__((packed));

extern char vectors[];

static struct gate idt[256];
static struct {
	trap_handler_t	 fn;
	void		*arg;
} handlers[256];

static const char *const exc_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range", "invalid opcode", "device not available",
	"double fault", "coprocessor overrun", "invalid TSS",
	"segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check",
	"machine check", "SIMD error", "virtualization", "control protection",
};

void
trap_init(void)
{
	struct idt_desc d;
	uintptr_t a;
	int v;

	for (v = 0; v < 256; v++) {
		a = (uintptr_t)vectors + (uintptr_t)v * STUB_SIZE;
		idt[v].off_lo = a & 0xffff;
		idt[v].sel = SEL_CODE;
		idt[v].ist = 0;
		idt[v].type = GATE_INTR;
		idt[v].off_mid = (a >> 16) & 0xffff;
		idt[v].off_hi = a >> 32;
		idt[v].zero = 0;
	}
	d.limit = sizeof(idt) - 1;
	d.base = (uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(d));
}

void
trap_set_handler(int vec, trap_handler_t fn, void *arg)
{
	handlers[vec].arg = arg;
	handlers[vec].fn = fn;
}

static void
exception(const struct trapframe *tf)
{
	const char *name = exc_names[tf->vector];
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kprintf("\nfatal: exception %llu (%s), error 0x%llx\n",
	    (unsigned long long)tf->vector, name != NULL ? name : "reserved",
	    (unsigned long long)tf->err);
	kprintf("rip %016llx cs %04llx rflags %016llx cr2 %016llx\n",
	    (unsigned long long)tf->rip, (unsigned long long)tf->cs,
	    (unsigned long long)tf->rflags, (unsigned long long)cr2);
	kprintf("rsp %016llx rbp %016llx rax %016llx rbx %016llx\n",
	    (unsigned long long)tf->rsp, (unsigned long long)tf->rbp,
	    (unsigned long long)tf->rax, (unsigned long long)tf->rbx);
	kprintf("rcx %016llx rdx %016llx rsi %016llx rdi %016llx\n",
	    (unsigned long long)tf->rcx, (unsigned long long)tf->rdx,
	    (unsigned long long)tf->rsi, (unsigned long long)tf->rdi);
	kprintf("r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n",
	    (unsigned long long)tf->r8, (unsigned long long)tf->r9,
	    (unsigned long long)tf->r10, (unsigned long long)tf->r11);
	kprintf("r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n",
	    (unsigned long long)tf->r12, (unsigned long long)tf->r13,
	    (unsigned long long)tf->r14, (unsigned long long)tf->r15);
	kprintf("halted\n");
	halt_forever();
}

void
trap(struct trapframe *tf)
{
	int v = (int)tf->vector;

	if (v < 32)
		exception(tf);
	if (handlers[v].fn != NULL)
		handlers[v].fn(handlers[v].arg);
	/* A spurious interrupt is not in service: it takes no EOI. */
	if (v != VEC_SPURIOUS)
		lapic_eoi();
}
