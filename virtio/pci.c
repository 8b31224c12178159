/*
 * ballonet: virtio-pci attachment (VIRTIO 1.2, 4.1.2).
 *
 * Vendor 0x1af4.  Device ids 0x1000-0x103f are transitional devices whose
 * virtio device id is the PCI subsystem id; 0x1040 and up are modern-only
 * devices with id 0x1040 + virtio id.  The modern interface is used
 * whenever its capabilities are there; a transitional device without them
 * falls back to the legacy I/O BAR.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio.h"
#include "priv/virtio_pci.h"

static void
virtio_pci_clear(struct virtio_dev *dev, void *os, void *pcidev)
{
	int i;

	dev->ops = NULL;
	dev->os = os;
	dev->device_id = 0;
	dev->modern = false;
	dev->t.pci.pcidev = pcidev;
	dev->t.pci.common = dev->t.pci.isr = NULL;
	dev->t.pci.device = dev->t.pci.notify = NULL;
	dev->t.pci.notify_mul = dev->t.pci.notify_len = 0;
	dev->t.pci.device_len = dev->t.pci.common_len = dev->t.pci.isr_len = 0;
	for (i = 0; i < VIRTIO_QUEUES_MAX; i++)
		dev->t.pci.qnotify[i] = 0;
	dev->t.pci.iobase = dev->t.pci.config_off = 0;
}

/* The device must decode its BARs and may master the bus (rings, PFNs). */
static void
virtio_pci_enable(struct virtio_dev *dev, bool io)
{
	uint32_t cmd;

	cmd = virtio_pci_cfg_read(dev, PCI_COMMAND, 2);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (io)
		cmd |= PCI_COMMAND_IO;
	virtio_pci_cfg_write(dev, PCI_COMMAND, 2, cmd);
}

int
virtio_pci_attach(struct virtio_dev *dev, void *os, void *pcidev)
{
	uint32_t device;
	bool transitional;

	if (dev == NULL)
		return BN_EINVAL;
	virtio_pci_clear(dev, os, pcidev);
	if (virtio_pci_cfg_read(dev, PCI_VENDOR_ID, 2) != VIRTIO_PCI_VENDOR)
		return BN_ENODEV;

	device = virtio_pci_cfg_read(dev, PCI_DEVICE_ID, 2);
	if (device >= VIRTIO_PCI_TRANS_MIN && device <= VIRTIO_PCI_TRANS_MAX) {
		transitional = true;
		dev->device_id = (uint16_t)virtio_pci_cfg_read(dev,
		    PCI_SUBSYSTEM_ID, 2);
	} else if (device >= VIRTIO_PCI_MODERN_BASE &&
	    device <= VIRTIO_PCI_MODERN_MAX) {
		transitional = false;
		dev->device_id = (uint16_t)(device - VIRTIO_PCI_MODERN_BASE);
	} else
		return BN_ENODEV;
	if (dev->device_id == 0)
		return BN_ENODEV;

	if (virtio_pci_modern_probe(dev) == BN_OK) {
		virtio_pci_enable(dev, false);
		return BN_OK;
	}
	if (transitional && virtio_pci_legacy_probe(dev) == BN_OK) {
		virtio_pci_enable(dev, true);
		return BN_OK;
	}
	return BN_ENODEV;
}
