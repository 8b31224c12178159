/*
 * Memory hot-plug with virtio-mem (PCI 1af4:1058, modern only): the
 * driver plugs blocks of its region and hands them to pmem as a
 * hot-plugged range; it unplugs only blocks pmem gives up whole.
 *
 * Interrupts: the device has its own handler on its INTx pin, which it
 * may share with the balloon (intr.c runs every handler of a pin, each
 * reads its own ISR).  The main loop reads the ISR itself only when the
 * device has no pin: an interrupt is then never coming.
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/error.h>
#include <ballonet/fmt.h>

#include "console.h"
#include "hotplug.h"
#include "kern.h"
#include "pci.h"
#include "pmem.h"
#include "virtio.h"

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_PCI_MEM		0x1058	/* 0x1040 + device id 24 */

/* One bit per block: 64 Ki blocks, 128 GiB of 2 MiB blocks. */
#define BLOCK_MAP_WORDS		1024

struct viomem_softc *hotplug_sc;

static struct viomem_softc sc;
static struct virtio_dev vdev;
static struct pcidev pd;
static uint64_t block_map[BLOCK_MAP_WORDS];
static uint64_t next_run;
static bool no_intx;		/* no INTx pin: read the ISR on each pass */

static int
os_add_range(void *arg, bn_paddr_t base, uint64_t size)
{
	(void)arg;
	return pmem_add_range(base, size);
}

static void
os_online(void *arg, bn_paddr_t pa, uint64_t len)
{
	(void)arg;
	pmem_online_range(pa, len);
}

static int
os_offline(void *arg, bn_paddr_t pa, uint64_t len)
{
	(void)arg;
	return pmem_take_range(pa, len);
}

static const struct viomem_os_ops os_ops = {
	.add_range = os_add_range,
	.online = os_online,
	.offline = os_offline,
};

/* A change of requested_size, or a request answered. */
static int
viomem_handler(void *arg)
{
	if (!viomem_intr(arg))
		return 0;
	guest.wakeup = 1;
	return 1;
}

static int
match_mem(const struct pcidev *p, void *arg)
{
	uint32_t id = pci_cfg_read(p, PCI_ID, 4);

	if ((id & 0xffff) != VIRTIO_VENDOR || (id >> 16) != VIRTIO_PCI_MEM)
		return 0;
	*(struct pcidev *)arg = *p;
	return 1;
}

void
hotplug_attach(void)
{
	struct viomem_config cfg = {
		.name = "viomem0",
		.ops = &os_ops,
		.block_map = block_map,
		.block_map_bytes = sizeof(block_map),
		.balloon = guest.balloon,
	};
	uint32_t cmd;
	int error;

	if (guest.xen || !pci_scan(match_mem, &pd))
		return;
	cmd = pci_cfg_read(&pd, PCI_COMMAND, 2);
	pci_cfg_write(&pd, PCI_COMMAND, 2,
	    cmd | PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	if ((error = virtio_pci_attach(&vdev, &guest, &pd)) != BN_OK ||
	    (error = viomem_attach(&sc, &vdev, &cfg)) != BN_OK) {
		kprintf("viomem0 at pci %02x:%02x.%x: attach failed: %s\n",
		    pd.bus, pd.dev, pd.fn, bn_strerror(error));
		return;
	}
	hotplug_sc = &sc;
	no_intx = !autoconf_route_pci(&pd, "viomem0", viomem_handler, &sc);
	if (no_intx)
		kprintf("viomem0: no INTx pin, polling only\n");
	kprintf("viomem0 at pci %02x:%02x.%x: region %llu MiB at 0x%llx, "
	    "block %llu KiB\n", pd.bus, pd.dev, pd.fn,
	    (unsigned long long)(sc.region_size >> 20),
	    (unsigned long long)sc.addr,
	    (unsigned long long)(sc.block_size >> 10));
}

void
hotplug_run(uint64_t now, int woken)
{
	if (hotplug_sc == NULL)
		return;
	if (no_intx)
		(void)viomem_intr(&sc);	/* as if it had interrupted */
	if (woken || sc.pending != 0 || now >= next_run)
		next_run = now + viomem_run(&sc);
}
