/*
 * ballonet: what the PCI transports share.  Private to virtio/ (priv/, as
 * lwIP's): neither drivers nor ports include it.
 */
#ifndef BALLONET_VIRTIO_PCI_H
#define BALLONET_VIRTIO_PCI_H

#include <stdint.h>

#include "../virtio.h"

/* PCI configuration header, type 0. */
#define PCI_VENDOR_ID		0x00	/* 16 bits */
#define PCI_DEVICE_ID		0x02	/* 16 bits */
#define PCI_COMMAND		0x04	/* 16 bits */
#define  PCI_COMMAND_IO		0x0001
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define PCI_STATUS		0x06	/* 16 bits */
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_BAR(n)		(0x10 + 4 * (n))	/* 32 bits each */
#define  PCI_BAR_IO		0x1
#define  PCI_BAR_TYPE_MASK	0x6
#define  PCI_BAR_TYPE_64	0x4
#define PCI_SUBSYSTEM_ID	0x2e	/* 16 bits */
#define PCI_CAP_PTR		0x34	/* 8 bits */
#define PCI_CAP_VNDR		0x09	/* vendor-specific capability */

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_TRANS_MIN	0x1000	/* transitional: id from subsystem */
#define VIRTIO_PCI_TRANS_MAX	0x103f
#define VIRTIO_PCI_MODERN_BASE	0x1040	/* modern: 0x1040 + device id */
#define VIRTIO_PCI_MODERN_MAX	0x107f

/* Set up the modern interface (4.1.4); ENODEV when its capabilities lack. */
int virtio_pci_modern_probe(struct virtio_dev *dev);

/* Set up the legacy interface on I/O BAR 0 (4.1.4.10). */
int virtio_pci_legacy_probe(struct virtio_dev *dev);

/* The device's PCI configuration space, through the port. */
static inline uint32_t
virtio_pci_cfg_read(struct virtio_dev *dev, uint16_t off, int width)
{
	return bn_port_pci_cfg_read(dev->os, dev->t.pci.pcidev, off, width);
}

static inline void
virtio_pci_cfg_write(struct virtio_dev *dev, uint16_t off, int width,
    uint32_t val)
{
	bn_port_pci_cfg_write(dev->os, dev->t.pci.pcidev, off, width, val);
}

#endif /* BALLONET_VIRTIO_PCI_H */
