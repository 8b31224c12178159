/*
 * kmain: bring the machine up, find the balloon, then run the main loop.
 * The main loop is the port's one worker: interrupt handlers only set
 * guest.wakeup, and all work happens here.
 */
#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>

#include "apic.h"
#include "clock.h"
#include "console.h"
#include "cpu.h"
#include "intr.h"
#include "kern.h"
#include "multiboot.h"
#include "pmem.h"
#include "shell.h"
#include "trap.h"

#define POLL_MS		1000	/* run the engine at least this often */

void	kmain(uint32_t mbi_pa, uint32_t magic);

static int
com1_intr(void *arg)
{
	(void)arg;
	return 1;		/* edge: the shell drains the FIFO */
}

static void
boot_memory(const struct mb_info *mbi)
{
	if (pmem_init(mbi) != 0) {
		kprintf("boot: no usable memory map\n");
		halt_forever();
	}
	port_init();
	kprintf("mem: %llu MiB RAM, %llu pages free, max_pfn 0x%llx\n",
	    (unsigned long long)(pmem.ram_pages >> 8),
	    (unsigned long long)pmem.free_pages,
	    (unsigned long long)pmem.max_pfn);
}

static void
boot_interrupts(void)
{
	pic_disable();
	lapic_init();
	ioapic_init();
	clock_init();
	kprintf("clock: tsc %llu kHz, lapic timer %u/ms (%s)\n",
	    (unsigned long long)clock_info.tsc_per_ms,
	    clock_info.lapic_per_ms,
	    clock_info.calibrated ? "pit" : "guessed");
	if (intr_establish_gsi(COM1_IRQ, false, "com1", com1_intr, NULL) == 0)
		cons_enable_rx_intr();
	sti();
}

/* Sleep until an interrupt unless something is already pending. */
static void
idle(void)
{
	cli();
	if (guest.wakeup || cons_rx_ready()) {
		sti();
		return;
	}
	sti_hlt();
}

static void
main_loop(void)
{
	uint64_t now, d, deadline = BN_RUN_IDLE, last_run = 0;

	for (;;) {
		shell_poll();
		now = clock_now_ms();
		if (guest.viomb != NULL && (guest.wakeup || now >= deadline ||
		    now >= last_run + POLL_MS)) {
			guest.wakeup = 0;
			last_run = now;
			d = bn_balloon_run(&guest.viomb->balloon);
			deadline = d >= BN_RUN_IDLE - now ? BN_RUN_IDLE :
			    now + d;
			continue;
		}
		idle();
	}
}

void
kmain(uint32_t mbi_pa, uint32_t magic)
{
	cons_init();
	kprintf("\nballonet reference guest\n");
	if (magic != MB_BOOT_MAGIC) {
		kprintf("boot: bad multiboot magic 0x%x\n", magic);
		halt_forever();
	}
	trap_init();
	boot_memory((const struct mb_info *)(uintptr_t)mbi_pa);
	boot_interrupts();
	autoconf();
	kprintf("ballonet: ready\n");
	shell_start();
	main_loop();
}
