/*
 * Find the balloon: on Xen the front-end of xen/ over xenstore; else the
 * virtio balloon (PCI on pc and q35, virtio-mmio on microvm), attached
 * and its interrupt routed.
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/error.h>
#include <ballonet/fmt.h>

#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "hotplug.h"
#include "intr.h"
#include "kern.h"
#include "libkern.h"
#include "pci.h"
#include "pmem.h"
#include "reporting.h"
#include "viomb.h"
#include "xen.h"
#include "xen_abi.h"
#include "xenballoon.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_PCI_BALLOON_T	0x1002	/* transitional */
#define VIRTIO_PCI_BALLOON	0x1045	/* modern: 0x1040 + device id 5 */

#define HOST_I440FX		0x12378086
#define HOST_Q35		0x29c08086

#define MMIO_BASE		0xfeb00000
#define MMIO_STRIDE		0x200
#define MMIO_MAX		24
#define MMIO_MAGIC		0x74726976	/* "virt" */
#define MMIO_DEVICE_ID		0x008

#define Q35_PIRQ_GSI		16	/* PIRQ A-H: GSIs 16-23 */
#define MICROVM_IOAPIC2_GSI	24	/* transports with a second IOAPIC */
#define MICROVM_ACPI_GSI	16	/* with ACPI, one IOAPIC */
#define MICROVM_LEGACY_GSI	5	/* without ACPI */

static struct viomb_softc viomb_sc;
static struct virtio_dev viomb_vdev;
static struct pcidev viomb_pci;
static struct xenballoon_softc xenb_sc;

static const char *
machine_name(void)
{
	struct pcidev host = { 0, 0, 0 };
	uint32_t id = pci_cfg_read(&host, PCI_ID, 4);

	if (id == HOST_I440FX)
		return "pc";
	if (id == HOST_Q35)
		return "q35";
	if (id == 0xffffffff && mmio_read32(MMIO_BASE) == MMIO_MAGIC)
		return "microvm";
	return "?";
}

/* The balloon's own ISR; virtio-mem has its handler (hotplug.c). */
static int
viomb_handler(void *arg)
{
	if (!viomb_intr(arg))
		return 0;
	guest.wakeup = 1;
	return 1;
}

static void
establish(uint32_t gsi, const char *name, intr_fn_t fn, void *arg)
{
	if (intr_establish_gsi(gsi, true, name, fn, arg) != 0)
		kprintf("%s: cannot use gsi %u\n", name, gsi);
}

static int
viomb_start(void)
{
	struct viomb_config cfg = {
		.name = "viomb0",
		.ram_pages = pmem_host_ram_pages(),
		.max_pfn = pmem.max_pfn,
		.bitmap = pmem.balloon_map,
		/* "actual" moves after 128 pages, not a whole batch. */
		.first_batch = 128,
		/* Boot option poison=: PAGE_POISON (main.c, pmem.h). */
		.poison = pmem.poison != 0,
		.poison_val = pmem.poison_val,
		.report_done = reporting_done,	/* reporting.c */
	};
	int error;

	if ((error = viomb_attach(&viomb_sc, &viomb_vdev, &cfg)) != BN_OK) {
		kprintf("viomb0: attach failed: %s\n", bn_strerror(error));
		return -1;
	}
	guest.viomb = &viomb_sc;
	guest.balloon = &viomb_sc.balloon;
	guest.vdev = &viomb_vdev;
	guest.wakeup = 1;
	kprintf("viomb0 at %s: %s, features 0x%llx\n", guest.viomb_where,
	    virtio_transport_name(&viomb_vdev),
	    (unsigned long long)viomb_sc.features);
	return 0;
}

static int
match_balloon(const struct pcidev *pd, void *arg)
{
	uint32_t id = pci_cfg_read(pd, PCI_ID, 4);

	if ((id & 0xffff) != VIRTIO_VENDOR ||
	    ((id >> 16) != VIRTIO_PCI_BALLOON_T &&
	    (id >> 16) != VIRTIO_PCI_BALLOON))
		return 0;
	*(struct pcidev *)arg = *pd;
	return 1;
}

/*
 * pc: the firmware wrote the PIIX-routed IRQ into the interrupt line and
 * ISA IRQs are GSIs one to one.  q35: in APIC mode the ICH9 sends PIRQ A-H
 * to GSIs 16-23, and which one depends on the slot: listen on all, and
 * intr.c keeps the first that turns out to be ours.  Devices share these
 * pins, each with its own handler.  0: no INTx pin.
 */
int
autoconf_route_pci(const struct pcidev *pd, const char *name, intr_fn_t fn,
    void *arg)
{
	uint32_t pin = pci_cfg_read(pd, PCI_INTR_PIN, 1);
	uint32_t line = pci_cfg_read(pd, PCI_INTR_LINE, 1);
	uint32_t i;

	if (pin == 0)
		return 0;
	if (strcmp(guest.machine, "q35") != 0 && line > 0 && line < 16)
		establish(line, name, fn, arg);
	if (strcmp(guest.machine, "pc") != 0)
		for (i = 0; i < 8; i++)
			establish(Q35_PIRQ_GSI + i, name, fn, arg);
	return 1;
}

static bool
attach_pci(void)
{
	struct pcidev *pd = &viomb_pci;
	uint32_t cmd;
	int error;

	if (!pci_scan(match_balloon, pd))
		return false;
	bn_snprintf(guest.viomb_where, sizeof(guest.viomb_where),
	    "pci %02x:%02x.%x", pd->bus, pd->dev, pd->fn);
	cmd = pci_cfg_read(pd, PCI_COMMAND, 2);
	pci_cfg_write(pd, PCI_COMMAND, 2,
	    cmd | PCI_COMMAND_IO | PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	error = virtio_pci_attach(&viomb_vdev, &guest, pd);
	if (error != BN_OK) {
		kprintf("viomb0 at %s: %s\n", guest.viomb_where,
		    bn_strerror(error));
		return true;
	}
	if (viomb_start() == 0 &&
	    !autoconf_route_pci(pd, "viomb0", viomb_handler, &viomb_sc))
		kprintf("viomb0: no INTx pin, polling only\n");
	return true;
}

/*
 * microvm numbers transport i's interrupt from a base GSI: 24 when it has
 * a second IOAPIC (then it has 24 transports), else 16 with ACPI, 5
 * without.  The last two cannot be told apart from here: listen on both.
 */
static void
route_mmio(uint32_t idx, uint32_t ntransports)
{
	if (ntransports > 8 && ioapic_has_gsi(MICROVM_IOAPIC2_GSI)) {
		establish(MICROVM_IOAPIC2_GSI + idx, "viomb0", viomb_handler,
		    &viomb_sc);
		return;
	}
	establish(MICROVM_ACPI_GSI + idx, "viomb0", viomb_handler, &viomb_sc);
	establish(MICROVM_LEGACY_GSI + idx, "viomb0", viomb_handler,
	    &viomb_sc);
}

static bool
attach_mmio(void)
{
	uintptr_t base;
	uint32_t i, found = MMIO_MAX;
	int error;

	for (i = 0; i < MMIO_MAX; i++) {
		base = MMIO_BASE + i * MMIO_STRIDE;
		if (mmio_read32(base) != MMIO_MAGIC)
			break;
		if (found == MMIO_MAX &&
		    mmio_read32(base + MMIO_DEVICE_ID) == VIRTIO_ID_BALLOON)
			found = i;
	}
	if (found == MMIO_MAX)
		return false;
	base = MMIO_BASE + found * MMIO_STRIDE;
	bn_snprintf(guest.viomb_where, sizeof(guest.viomb_where),
	    "mmio 0x%lx", (unsigned long)base);
	if ((error = virtio_mmio_attach(&viomb_vdev, &guest, base)) != BN_OK) {
		kprintf("viomb0 at %s: %s\n", guest.viomb_where,
		    bn_strerror(error));
		return true;
	}
	if (viomb_start() == 0)
		route_mmio(found, i);
	return true;
}

/* xenstore's page is ours from boot, identity mapped like all RAM. */
static void
attach_xen(void)
{
	struct xenballoon_config cfg = {
		.name = "balloon0",
		.ram_pages = pmem.ram_pages,
		.max_pfn = pmem.max_pfn,
		.bitmap = pmem.balloon_map,
		.poison = pmem.poison != 0,	/* boot option poison= */
		.poison_val = pmem.poison_val,
		.hv = &xen_hv,
		.os = &guest,
	};
	uint64_t pfn, port;
	int error;

	if (xen_get_param(HVM_PARAM_STORE_PFN, &pfn) != 0 || pfn == 0 ||
	    xen_get_param(HVM_PARAM_STORE_EVTCHN, &port) != 0) {
		kprintf("balloon0: no xenstore\n");
		return;
	}
	cfg.store_ring = (void *)bn_port_mmio_map(&guest, pfn << PAGE_SHIFT,
	    PAGE_SIZE);
	cfg.store_evtchn = (uint32_t)port;
	xen_hot_window(&cfg.hot);
	if ((error = xenballoon_attach(&xenb_sc, &cfg)) != BN_OK) {
		kprintf("balloon0: attach failed: %s\n", bn_strerror(error));
		return;
	}
	guest.xenb = &xenb_sc;
	guest.balloon = &xenb_sc.balloon;
	xen_evtchn_bind(cfg.store_evtchn, "xenstore");
	guest.wakeup = 1;
	kprintf("balloon0 at xenstore: page 0x%llx, evtchn %u\n",
	    (unsigned long long)pfn, (unsigned)port);
}

void
autoconf(void)
{
	if (guest.xen) {
		guest.machine = "xen";
		attach_xen();
		return;
	}
	guest.machine = machine_name();
	if (!attach_pci() && !attach_mmio())
		kprintf("viomb: no virtio balloon device\n");
	hotplug_attach();
}
