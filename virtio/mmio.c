/*
 * ballonet: virtio over MMIO (VIRTIO 1.2, 4.2).
 *
 * Version 2 is the modern register layout; version 1 is the legacy one
 * (4.2.4): a guest page size, and each queue given as one page frame number
 * with its alignment.  Registers are 32 bits wide and little-endian; the
 * device configuration starts at 0x100.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio.h"
#include "virtio_io.h"
#include "virtqueue.h"

/* Register offsets, 4.2.2 and 4.2.4. */
#define MMIO_MAGIC		0x000
#define MMIO_VERSION		0x004
#define MMIO_DEVICE_ID		0x008
#define MMIO_DEV_FEATURES	0x010
#define MMIO_DEV_FEATURES_SEL	0x014
#define MMIO_DRV_FEATURES	0x020
#define MMIO_DRV_FEATURES_SEL	0x024
#define MMIO_GUEST_PAGE_SIZE	0x028	/* version 1 */
#define MMIO_QUEUE_SEL		0x030
#define MMIO_QUEUE_NUM_MAX	0x034
#define MMIO_QUEUE_NUM		0x038
#define MMIO_QUEUE_ALIGN	0x03c	/* version 1 */
#define MMIO_QUEUE_PFN		0x040	/* version 1 */
#define MMIO_QUEUE_READY	0x044	/* version 2 */
#define MMIO_QUEUE_NOTIFY	0x050
#define MMIO_INT_STATUS		0x060
#define MMIO_INT_ACK		0x064
#define MMIO_STATUS		0x070
#define MMIO_QUEUE_DESC		0x080	/* low, high at +4; version 2 */
#define MMIO_QUEUE_DRIVER	0x090
#define MMIO_QUEUE_DEVICE	0x0a0
#define MMIO_CONFIG_GEN		0x0fc	/* version 2 */
#define MMIO_CONFIG		0x100

#define MMIO_MAGIC_VALUE	0x74726976	/* "virt" */
#define MMIO_WINDOW		0x200		/* QEMU's transport size */
#define MMIO_PFN_SHIFT		12

/* Every register is 32 bits wide (4.2.2.2), reached through the port. */
static uint32_t
reg_read(struct virtio_dev *dev, uint32_t off)
{
	return vio_reg_read32(dev->os, vio_at(dev->t.mmio.regs, off));
}

static void
reg_write(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	vio_reg_write32(dev->os, vio_at(dev->t.mmio.regs, off), val);
}

/* Low half first (4.2.2). */
static void
reg_write64(struct virtio_dev *dev, uint32_t off, uint64_t val)
{
	reg_write(dev, off, (uint32_t)val);
	reg_write(dev, off + 4, (uint32_t)(val >> 32));
}

static uint8_t
mmio_get_status(struct virtio_dev *dev)
{
	return (uint8_t)reg_read(dev, MMIO_STATUS);
}

static void
mmio_set_status(struct virtio_dev *dev, uint8_t status)
{
	reg_write(dev, MMIO_STATUS, status);
}

/*
 * 4.2.3.1: writing 0 resets; the device reads back 0 when done, and one
 * that never does is not reset (virtio_reset()).
 */
static int
mmio_reset(struct virtio_dev *dev)
{
	uint32_t spin;

	reg_write(dev, MMIO_STATUS, 0);
	for (spin = 0; spin < VIRTIO_SPIN_MAX; spin++) {
		if (reg_read(dev, MMIO_STATUS) == 0)
			return BN_OK;
	}
	return BN_ETIMEDOUT;
}

static uint64_t
mmio_get_features(struct virtio_dev *dev)
{
	uint64_t lo, hi;

	reg_write(dev, MMIO_DEV_FEATURES_SEL, 0);
	lo = reg_read(dev, MMIO_DEV_FEATURES);
	reg_write(dev, MMIO_DEV_FEATURES_SEL, 1);
	hi = reg_read(dev, MMIO_DEV_FEATURES);
	return lo | hi << 32;
}

static void
mmio_set_features(struct virtio_dev *dev, uint64_t features)
{
	reg_write(dev, MMIO_DRV_FEATURES_SEL, 0);
	reg_write(dev, MMIO_DRV_FEATURES, (uint32_t)features);
	reg_write(dev, MMIO_DRV_FEATURES_SEL, 1);
	reg_write(dev, MMIO_DRV_FEATURES, (uint32_t)(features >> 32));
}

/*
 * 4.2.2.2: 32-bit fields with 32-bit accesses; 2.5.1: generation loop on
 * version 2 (version 1 has no generation).  Out of range: 0
 * (virtio_config_read32()).
 */
static uint32_t
mmio_config_read32(struct virtio_dev *dev, uint32_t off)
{
	uint32_t gen, val = 0;
	int i;

	if (off > MMIO_WINDOW - MMIO_CONFIG - 4)
		return 0;
	if (dev->t.mmio.version == 1)
		return reg_read(dev, MMIO_CONFIG + off);
	for (i = 0; i < VIRTIO_GEN_RETRIES; i++) {
		gen = reg_read(dev, MMIO_CONFIG_GEN);
		val = reg_read(dev, MMIO_CONFIG + off);
		if (reg_read(dev, MMIO_CONFIG_GEN) == gen)
			break;
	}
	return val;
}

static void
mmio_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	if (off <= MMIO_WINDOW - MMIO_CONFIG - 4)
		reg_write(dev, MMIO_CONFIG + off, val);
}

static uint16_t
mmio_queue_max(struct virtio_dev *dev, uint16_t idx)
{
	uint32_t max;

	reg_write(dev, MMIO_QUEUE_SEL, idx);
	max = reg_read(dev, MMIO_QUEUE_NUM_MAX);
	return max > UINT16_MAX ? UINT16_MAX : (uint16_t)max;
}

/* 4.2.4: page size, queue size, alignment, then the first frame. */
static int
mmio_queue_legacy(struct virtio_dev *dev, uint16_t size, bn_paddr_t desc,
    bn_paddr_t used)
{
	if ((desc & (VIRTQ_ALIGN - 1)) != 0 ||
	    used != desc + virtq_used_offset(size))
		return BN_EINVAL;
	if ((desc >> MMIO_PFN_SHIFT) > UINT32_MAX)
		return BN_ERANGE;
	reg_write(dev, MMIO_GUEST_PAGE_SIZE, 1u << MMIO_PFN_SHIFT);
	reg_write(dev, MMIO_QUEUE_NUM, size);
	reg_write(dev, MMIO_QUEUE_ALIGN, VIRTQ_ALIGN);
	reg_write(dev, MMIO_QUEUE_PFN, (uint32_t)(desc >> MMIO_PFN_SHIFT));
	return BN_OK;
}

/* 4.2.3.2: size, three addresses, then QueueReady. */
static int
mmio_queue_enable(struct virtio_dev *dev, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	if (size == 0 || size > mmio_queue_max(dev, idx))
		return BN_EINVAL;
	if (dev->t.mmio.version == 1)
		return mmio_queue_legacy(dev, size, desc, used);
	if (reg_read(dev, MMIO_QUEUE_READY) != 0)
		return BN_EIO;
	reg_write(dev, MMIO_QUEUE_NUM, size);
	reg_write64(dev, MMIO_QUEUE_DESC, desc);
	reg_write64(dev, MMIO_QUEUE_DRIVER, avail);
	reg_write64(dev, MMIO_QUEUE_DEVICE, used);
	reg_write(dev, MMIO_QUEUE_READY, 1);
	return BN_OK;
}

static void
mmio_notify(struct virtio_dev *dev, uint16_t idx)
{
	reg_write(dev, MMIO_QUEUE_NOTIFY, idx);
}

/* 4.2.2: InterruptStatus is cleared by writing it to InterruptACK. */
static uint8_t
mmio_isr(struct virtio_dev *dev)
{
	uint32_t isr;

	isr = reg_read(dev, MMIO_INT_STATUS);
	if (isr != 0)
		reg_write(dev, MMIO_INT_ACK, isr);
	return (uint8_t)isr;
}

static void
mmio_detach(struct virtio_dev *dev)
{
	bn_port_mmio_unmap(dev->os, dev->t.mmio.regs, MMIO_WINDOW);
	dev->t.mmio.regs = NULL;
	dev->t.mmio.version = 0;
}

static const struct virtio_transport_ops mmio_ops = {
	.name = "mmio",
	.reset = mmio_reset,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_read32 = mmio_config_read32,
	.config_write32 = mmio_config_write32,
	.queue_max = mmio_queue_max,
	.queue_enable = mmio_queue_enable,
	.notify = mmio_notify,
	.isr = mmio_isr,
	.detach = mmio_detach,
};

/*
 * 4.2.2.2: ignore a bad magic or version, and id 0 silently.  The version,
 * with dev->device_id set; 0 when the window is not a device.
 */
static uint32_t
mmio_identify(struct virtio_dev *dev)
{
	uint32_t version;

	if (reg_read(dev, MMIO_MAGIC) != MMIO_MAGIC_VALUE)
		return 0;
	version = reg_read(dev, MMIO_VERSION);
	if (version != 1 && version != 2)
		return 0;
	dev->device_id = (uint16_t)reg_read(dev, MMIO_DEVICE_ID);
	return dev->device_id == 0 ? 0 : version;
}

int
virtio_mmio_attach(struct virtio_dev *dev, void *os, bn_paddr_t base)
{
	uint32_t version;

	if (dev == NULL)
		return BN_EINVAL;
	dev->ops = NULL;
	dev->os = os;
	dev->device_id = 0;
	dev->modern = false;
	dev->t.mmio.version = 0;
	dev->t.mmio.regs = bn_port_mmio_map(os, base, MMIO_WINDOW);
	if (dev->t.mmio.regs == NULL)
		return BN_ENOMEM;

	version = mmio_identify(dev);
	if (version == 0) {
		mmio_detach(dev);
		return BN_ENODEV;
	}
	dev->t.mmio.version = version;
	dev->modern = version == 2;
	dev->ops = &mmio_ops;
	return BN_OK;
}
