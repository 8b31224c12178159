/*
 * info: what the guest found at boot and what the balloon negotiated.
 */
#include <stdint.h>

#include "apic.h"
#include "clock.h"
#include "console.h"
#include "hotplug.h"
#include "intr.h"
#include "kern.h"
#include "pmem.h"
#include "shell.h"
#include "viomb.h"
#include "xen.h"
#include "xenballoon.h"

static void
info_machine(void)
{
	int i;

	kprintf("machine: %s, lapic id %u\n", guest.machine, lapic_id());
	for (i = 0; i < nioapics; i++)
		kprintf("ioapic%d: 0x%lx, version 0x%x, gsi %u-%u\n", i,
		    (unsigned long)ioapics[i].base, ioapics[i].version,
		    ioapics[i].gsi_base,
		    ioapics[i].gsi_base + ioapics[i].npins - 1);
	kprintf("clock: tsc %llu kHz, lapic timer %u/ms (%s), %d Hz, "
	    "up %llu ms\n", (unsigned long long)clock_info.tsc_per_ms,
	    clock_info.lapic_per_ms,
	    clock_info.source, HZ,
	    (unsigned long long)clock_now_ms());
}

static void
info_memory(void)
{
	int i;

	kprintf("memory: ram %llu pages (%llu MiB), max_pfn 0x%llx, "
	    "reserve %llu pages\n", (unsigned long long)pmem.ram_pages,
	    (unsigned long long)(pmem.ram_pages >> 8),
	    (unsigned long long)pmem.max_pfn,
	    (unsigned long long)guest.reserve_pages);
	for (i = 0; i < pmem.nregions; i++)
		kprintf("memory: usable 0x%llx-0x%llx\n",
		    (unsigned long long)pmem.regions[i].start,
		    (unsigned long long)pmem.regions[i].end);
	kprintf("memory: allocator %llu pages from 0x%llx, free %llu\n",
	    (unsigned long long)pmem.total_pages,
	    (unsigned long long)pmem.first_free,
	    (unsigned long long)pmem.free_pages);
	if (pmem.poison)
		kprintf("memory: pages freed are poisoned with 0x%08x\n",
		    pmem.poison_val);
	else
		kprintf("memory: no poisoning\n");
}

static void
info_viomb(void)
{
	const struct viomb_softc *sc = guest.viomb;
	uint32_t poison;
	int gsi;

	if (sc == NULL) {
		kprintf("viomb0: not attached\n");
		return;
	}
	gsi = intr_claimed_gsi(guest.viomb);
	kprintf("viomb0: %s, transport %s, features 0x%llx\n",
	    guest.viomb_where, guest.vdev->ops->name,
	    (unsigned long long)sc->features);
	if (bn_balloon_poison(&sc->balloon, &poison) &&
	    viomb_has(sc, VIRTIO_BALLOON_F_PAGE_POISON))
		kprintf("viomb0: page poison 0x%08x\n", poison);
	if (gsi >= 0)
		kprintf("viomb0: interrupts on gsi %d\n", gsi);
	else
		kprintf("viomb0: no interrupt seen yet\n");
}

static void
info_viomem(void)
{
	const struct viomem_softc *sc = hotplug_sc;

	if (sc == NULL)
		return;
	kprintf("viomem0: region 0x%llx-0x%llx, block %llu KiB, features "
	    "0x%llx%s\n", (unsigned long long)sc->addr,
	    (unsigned long long)(sc->addr + sc->region_size - 1),
	    (unsigned long long)(sc->block_size >> 10),
	    (unsigned long long)sc->features,
	    sc->state == VIOMEM_BROKEN ? ", stopped" : "");
	kprintf("viomem0: plugged %llu MiB, requested %llu MiB, usable %llu "
	    "MiB; %llu plugs, %llu unplugs, %llu nack, %llu busy, %llu error\n",
	    (unsigned long long)(sc->plugged >> 20),
	    (unsigned long long)(sc->requested >> 20),
	    (unsigned long long)(sc->usable >> 20),
	    (unsigned long long)sc->plugs, (unsigned long long)sc->unplugs,
	    (unsigned long long)sc->nacks, (unsigned long long)sc->busys,
	    (unsigned long long)sc->errors);
}

static void
info_xen(void)
{
	const struct xenballoon_softc *sc = guest.xenb;

	xen_describe();
	if (sc == NULL) {
		kprintf("balloon0: not attached\n");
		return;
	}
	kprintf("balloon0: target %llu KiB, static-max %llu KiB, offset %lld "
	    "pages, xenstore evtchn %u\n", (unsigned long long)sc->target_kib,
	    (unsigned long long)sc->static_max_kib,
	    (long long)sc->offset_pages, (unsigned)sc->xs.evtchn);
}

int
cmd_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	info_machine();
	info_memory();
	if (guest.xen)
		info_xen();
	else
		info_viomb();
	info_viomem();
	return 0;
}
