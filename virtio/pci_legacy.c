/*
 * ballonet: the legacy virtio-pci interface (VIRTIO 1.2, 4.1.4.10).
 *
 * Registers live in I/O BAR 0 and are reached through bn_port_io_read()
 * and bn_port_io_write().  Only 32 feature bits exist, the queue is given
 * as one page frame number in the legacy layout (2.7.2) and its size is
 * the device's.  We never enable MSI-X, so the device configuration
 * starts at offset 20.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio.h"
#include "priv/virtio_pci.h"
#include "virtqueue.h"

/* Legacy common header, 4.1.4.10. */
#define LEG_HOST_FEATURES	0	/* le32, R */
#define LEG_GUEST_FEATURES	4	/* le32, RW */
#define LEG_QUEUE_PFN		8	/* le32, RW: address >> 12 */
#define LEG_QUEUE_SIZE		12	/* le16, R */
#define LEG_QUEUE_SELECT	14	/* le16, RW */
#define LEG_QUEUE_NOTIFY	16	/* le16, RW */
#define LEG_STATUS		18	/* u8, RW */
#define LEG_ISR			19	/* u8, R, clears on read */
#define LEG_CONFIG		20	/* device config without MSI-X */
#define LEG_PFN_SHIFT		12

static uint32_t
reg_read(struct virtio_dev *dev, uint32_t off, int width)
{
	return bn_port_io_read(dev->os, dev->t.pci.iobase + off, width);
}

static void
reg_write(struct virtio_dev *dev, uint32_t off, int width, uint32_t val)
{
	bn_port_io_write(dev->os, dev->t.pci.iobase + off, width, val);
}

/* 4.1.4.10: a legacy device is reset once the write completes. */
static int
legacy_reset(struct virtio_dev *dev)
{
	reg_write(dev, LEG_STATUS, 1, 0);
	return BN_OK;
}

static uint8_t
legacy_get_status(struct virtio_dev *dev)
{
	return (uint8_t)reg_read(dev, LEG_STATUS, 1);
}

static void
legacy_set_status(struct virtio_dev *dev, uint8_t status)
{
	reg_write(dev, LEG_STATUS, 1, status);
}

static uint64_t
legacy_get_features(struct virtio_dev *dev)
{
	return reg_read(dev, LEG_HOST_FEATURES, 4);
}

static void
legacy_set_features(struct virtio_dev *dev, uint64_t features)
{
	reg_write(dev, LEG_GUEST_FEATURES, 4, (uint32_t)features);
}

/* Port I/O is little-endian on the machines that have it (5.5.4). */
static uint32_t
legacy_config_read32(struct virtio_dev *dev, uint32_t off)
{
	return reg_read(dev, dev->t.pci.config_off + off, 4);
}

static void
legacy_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	reg_write(dev, dev->t.pci.config_off + off, 4, val);
}

static uint16_t
legacy_queue_max(struct virtio_dev *dev, uint16_t idx)
{
	reg_write(dev, LEG_QUEUE_SELECT, 2, idx);
	return (uint16_t)reg_read(dev, LEG_QUEUE_SIZE, 2);
}

/*
 * 2.7.2: the driver must use the device's Queue Size and the contiguous
 * layout; the device derives avail and used from the first frame.
 */
static int
legacy_queue_enable(struct virtio_dev *dev, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	if (size == 0 || size != legacy_queue_max(dev, idx))
		return BN_EINVAL;
	if ((desc & (VIRTQ_ALIGN - 1)) != 0 ||
	    avail != desc + 16 * (bn_paddr_t)size ||
	    used != desc + virtq_used_offset(size))
		return BN_EINVAL;
	if ((desc >> LEG_PFN_SHIFT) > UINT32_MAX)
		return BN_ERANGE;
	reg_write(dev, LEG_QUEUE_PFN, 4, (uint32_t)(desc >> LEG_PFN_SHIFT));
	return BN_OK;
}

static void
legacy_notify(struct virtio_dev *dev, uint16_t idx)
{
	reg_write(dev, LEG_QUEUE_NOTIFY, 2, idx);
}

static uint8_t
legacy_isr(struct virtio_dev *dev)
{
	return (uint8_t)reg_read(dev, LEG_ISR, 1);
}

/* I/O ports are not mapped: nothing to give back. */
static void
legacy_detach(struct virtio_dev *dev)
{
	dev->t.pci.iobase = dev->t.pci.config_off = 0;
}

static const struct virtio_transport_ops legacy_ops = {
	.name = "pci-legacy",
	.reset = legacy_reset,
	.get_status = legacy_get_status,
	.set_status = legacy_set_status,
	.get_features = legacy_get_features,
	.set_features = legacy_set_features,
	.config_read32 = legacy_config_read32,
	.config_write32 = legacy_config_write32,
	.queue_max = legacy_queue_max,
	.queue_enable = legacy_queue_enable,
	.notify = legacy_notify,
	.isr = legacy_isr,
	.detach = legacy_detach,
};

int
virtio_pci_legacy_probe(struct virtio_dev *dev)
{
	uint32_t bar;

	bar = virtio_pci_cfg_read(dev, PCI_BAR(0), 4);
	if ((bar & PCI_BAR_IO) == 0 || (bar & ~(uint32_t)3) == 0)
		return BN_ENODEV;
	dev->t.pci.iobase = bar & ~(uint32_t)3;
	dev->t.pci.config_off = LEG_CONFIG;
	dev->ops = &legacy_ops;
	dev->modern = false;
	return BN_OK;
}
