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
#include "hotplug.h"
#include "cpu.h"
#include "intr.h"
#include "kern.h"
#include "libkern.h"
#include "multiboot.h"
#include "pmem.h"
#include "reporting.h"
#include "shell.h"
#include "trap.h"
#include "wave.h"
#include "xen.h"
#include "xenballoon.h"
#include "zpage.h"

#define POLL_MS		1000	/* run the engine at least this often */

void	kmain(uint32_t info_pa, uint32_t magic);

static int
com1_intr(void *arg)
{
	(void)arg;
	return 1;		/* edge: the shell drains the FIFO */
}

static void
boot_memory(uint32_t info_pa)
{
	int error;

	if (guest.xen)
		error = pvh_memory(info_pa);
	else
		error = pmem_init((const struct mb_info *)(uintptr_t)info_pa);
	if (error != 0) {
		kprintf("boot: no usable memory map\n");
		halt_forever();
	}
	port_init();
	kprintf("mem: %llu MiB RAM, %llu pages free, max_pfn 0x%llx\n",
	    (unsigned long long)(pmem.ram_pages >> 8),
	    (unsigned long long)pmem.free_pages,
	    (unsigned long long)pmem.max_pfn);
}

/* The command line: multiboot's (qemu -append) or PVH's; NULL: none. */
static const char *
boot_cmdline(uint32_t info_pa)
{
	const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info_pa;
	const struct hvm_start_info *si =
	    (const struct hvm_start_info *)(uintptr_t)info_pa;

	if (guest.xen)
		return (const char *)(uintptr_t)si->cmdline_paddr;
	if ((mbi->flags & MB_INFO_CMDLINE) == 0)
		return NULL;
	return (const char *)(uintptr_t)mbi->cmdline;
}

/* "170" or "0xaa": 0 to 255; -1 for anything else. */
static int
parse_byte(const char *s, size_t n)
{
	unsigned int v = 0, base = 10, d;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned int)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned int)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned int)(s[i] - 'A' + 10);
		else
			return -1;
		if ((v = v * base + d) > 255)
			return -1;
	}
	return (int)v;
}

static void
option_poison(const char *w, size_t n)
{
	int v;

	if ((v = parse_byte(w, n)) < 0) {
		kprintf("boot: bad poison=, want 0-255 or 0x0-0xff\n");
		return;
	}
	pmem_set_poison((uint8_t)v);
	kprintf("boot: pages freed are poisoned with 0x%02x\n", v);
}

static void
option_zero(const char *w, size_t n)
{
	if (n != 6 || strncmp(w, "always", 6) != 0) {
		kprintf("boot: bad zero=, want zero=always\n");
		return;
	}
	pmem.zero_always = 1;
	kprintf("boot: the balloon zeroes every page\n");
}

/*
 * Boot options, words of the command line; the others are ignored (the
 * first is the kernel's name).  poison=BYTE: pages freed are filled with
 * BYTE, and the balloon accepts PAGE_POISON.  zero=always: the balloon
 * zeroes even the pages known to hold no guest data (pmem.h).
 */
static void
boot_options(uint32_t info_pa)
{
	const char *s = boot_cmdline(info_pa), *w;
	size_t n;

	while (s != NULL && *s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		for (w = s; *s != '\0' && *s != ' ' && *s != '\t'; s++)
			continue;
		n = (size_t)(s - w);
		if (n >= 7 && strncmp(w, "poison=", 7) == 0)
			option_poison(w + 7, n - 7);
		else if (n >= 5 && strncmp(w, "zero=", 5) == 0)
			option_zero(w + 5, n - 5);
	}
}

static void
boot_interrupts(void)
{
	pic_disable();
	lapic_init();
	ioapic_init();
	clock_init(guest.xen ? xen_tsc_khz() : 0);
	kprintf("clock: tsc %llu kHz, lapic timer %u/ms (%s)\n",
	    (unsigned long long)clock_info.tsc_per_ms,
	    clock_info.lapic_per_ms, clock_info.source);
	if (intr_establish_gsi(COM1_IRQ, false, "com1", com1_intr, NULL) == 0)
		cons_enable_rx_intr();
	if (guest.xen && xen_evtchn_init() == 0)
		xen_evtchn_bind(xencons_evtchn(), "console");
	sti();
}

/* Sleep until an interrupt unless something is already pending. */
static void
idle(void)
{
	cli();
	if (guest.wakeup || cons_rx_ready() ||
	    (guest.xenb != NULL && xenballoon_pending(guest.xenb)) ||
	    wave_pending()) {
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
		/*
		 * virtio-mem first: a command that comes after the host saw
		 * memory plugged finds it in the allocator.
		 */
		now = clock_now_ms();
		hotplug_run(now, guest.wakeup);
		shell_poll();
		now = clock_now_ms();
		if (guest.xenb != NULL && xenballoon_pending(guest.xenb))
			guest.wakeup = 1;
		if (guest.balloon != NULL && (guest.wakeup || now >= deadline ||
		    now >= last_run + POLL_MS)) {
			guest.wakeup = 0;
			last_run = now;
			d = bn_balloon_run(guest.balloon);
#ifdef BN_DEBUG
			balloon_audit(guest.balloon);
#endif
			deadline = d >= BN_RUN_IDLE - now ? BN_RUN_IDLE :
			    now + d;
			continue;
		}
		wave_poll(now);		/* the policy benchmark's demand */
		/* Idle time: zero freed pages, then report the clean chunks. */
		if (zpage_idle())
			continue;
		reporting_poll(now);
		idle();
	}
}

/*
 * Multiboot (QEMU) or Xen PVH: boot.S passes the magic of either.  A PVH
 * domU has no UART: its console is the PV console, set up first.
 */
static void
boot_console(uint32_t magic)
{
	if (magic == XEN_HVM_START_MAGIC && xen_init() == 0 &&
	    cons_init_xen() == 0)
		guest.xen = 1;
	else
		cons_init();
	kprintf("\nballonet reference guest\n");
	if (guest.xen)
		xen_describe();
	else if (magic != MB_BOOT_MAGIC) {
		kprintf("boot: bad boot magic 0x%x\n", magic);
		halt_forever();
	}
}

void
kmain(uint32_t info_pa, uint32_t magic)
{
	boot_console(magic);
	trap_init();
	boot_memory(info_pa);
	boot_options(info_pa);
	boot_interrupts();
	autoconf();
#ifdef BN_DEBUG
	kprintf("audit: the balloon's books are checked after every run\n");
#endif
	kprintf("ballonet: ready\n");
	shell_start();
	main_loop();
}
