/*
 * ballonet: the modern virtio-pci interface (VIRTIO 1.2, 4.1.4).
 *
 * Four vendor capabilities locate the register blocks inside memory BARs:
 * common configuration, notifications, ISR status and device-specific
 * configuration.  Each block is mapped on its own with bn_port_mmio_map()
 * and its registers reached through the port (virtio_io.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio.h"
#include "virtio_io.h"
#include "priv/virtio_pci.h"

/* struct virtio_pci_cap, 4.1.4: byte offsets from the capability. */
#define CAP_CFG_TYPE		3
#define CAP_BAR			4
#define CAP_OFFSET		8
#define CAP_LENGTH		12
#define CAP_NOTIFY_MUL		16	/* struct virtio_pci_notify_cap */

#define CFG_TYPE_COMMON		1
#define CFG_TYPE_NOTIFY		2
#define CFG_TYPE_ISR		3
#define CFG_TYPE_DEVICE		4

#define CAPS_MAX		48	/* a loop guard: 192 bytes / 4 */

/* struct virtio_pci_common_cfg, 4.1.4.3. */
#define COMMON_DFSELECT		0x00	/* le32 device_feature_select */
#define COMMON_DF		0x04	/* le32 device_feature */
#define COMMON_GFSELECT		0x08	/* le32 driver_feature_select */
#define COMMON_GF		0x0c	/* le32 driver_feature */
#define COMMON_STATUS		0x14	/* u8 device_status */
#define COMMON_CFGGEN		0x15	/* u8 config_generation */
#define COMMON_Q_SELECT		0x16	/* le16 queue_select */
#define COMMON_Q_SIZE		0x18	/* le16 queue_size */
#define COMMON_Q_ENABLE		0x1c	/* le16 queue_enable */
#define COMMON_Q_NOFF		0x1e	/* le16 queue_notify_off */
#define COMMON_Q_DESC		0x20	/* le64 queue_desc */
#define COMMON_Q_DRIVER		0x28	/* le64 queue_driver */
#define COMMON_Q_DEVICE		0x30	/* le64 queue_device */
#define COMMON_LEN		0x38

/* The registers of the common configuration, by width. */
static uint8_t
common_read8(struct virtio_dev *dev, uint32_t off)
{
	return vio_reg_read8(dev->os, vio_at(dev->t.pci.common, off));
}

static uint16_t
common_read16(struct virtio_dev *dev, uint32_t off)
{
	return vio_reg_read16(dev->os, vio_at(dev->t.pci.common, off));
}

static uint32_t
common_read32(struct virtio_dev *dev, uint32_t off)
{
	return vio_reg_read32(dev->os, vio_at(dev->t.pci.common, off));
}

static void
common_write8(struct virtio_dev *dev, uint32_t off, uint8_t val)
{
	vio_reg_write8(dev->os, vio_at(dev->t.pci.common, off), val);
}

static void
common_write16(struct virtio_dev *dev, uint32_t off, uint16_t val)
{
	vio_reg_write16(dev->os, vio_at(dev->t.pci.common, off), val);
}

static void
common_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	vio_reg_write32(dev->os, vio_at(dev->t.pci.common, off), val);
}

static void
common_write64(struct virtio_dev *dev, uint32_t off, uint64_t val)
{
	vio_reg_write64_split(dev->os, vio_at(dev->t.pci.common, off), val);
}

static void
modern_set_status(struct virtio_dev *dev, uint8_t status)
{
	common_write8(dev, COMMON_STATUS, status);
}

static uint8_t
modern_get_status(struct virtio_dev *dev)
{
	return common_read8(dev, COMMON_STATUS);
}

/*
 * 4.1.4.3.2: after writing 0 the driver waits until it reads back 0; a
 * device that never does is not reset (virtio_reset()).
 */
static int
modern_reset(struct virtio_dev *dev)
{
	uint32_t spin;

	modern_set_status(dev, 0);
	for (spin = 0; spin < VIRTIO_SPIN_MAX; spin++) {
		if (modern_get_status(dev) == 0)
			return BN_OK;
	}
	return BN_ETIMEDOUT;
}

static uint64_t
modern_get_features(struct virtio_dev *dev)
{
	uint64_t lo, hi;

	common_write32(dev, COMMON_DFSELECT, 0);
	lo = common_read32(dev, COMMON_DF);
	common_write32(dev, COMMON_DFSELECT, 1);
	hi = common_read32(dev, COMMON_DF);
	return lo | hi << 32;
}

static void
modern_set_features(struct virtio_dev *dev, uint64_t features)
{
	common_write32(dev, COMMON_GFSELECT, 0);
	common_write32(dev, COMMON_GF, (uint32_t)features);
	common_write32(dev, COMMON_GFSELECT, 1);
	common_write32(dev, COMMON_GF, (uint32_t)(features >> 32));
}

static bool
config_ok(struct virtio_dev *dev, uint32_t off)
{
	return dev->t.pci.device != NULL && off <= dev->t.pci.device_len &&
	    dev->t.pci.device_len - off >= 4;
}

/*
 * 2.5.1 and 4.1.4.3.1: retry while config_generation moves.  Out of
 * range: 0 (virtio_config_read32()).
 */
static uint32_t
modern_config_read32(struct virtio_dev *dev, uint32_t off)
{
	uint32_t val = 0;
	uint8_t gen;
	int i;

	if (!config_ok(dev, off))
		return 0;
	for (i = 0; i < VIRTIO_GEN_RETRIES; i++) {
		gen = common_read8(dev, COMMON_CFGGEN);
		val = vio_reg_read32(dev->os, vio_at(dev->t.pci.device, off));
		if (common_read8(dev, COMMON_CFGGEN) == gen)
			break;
	}
	return val;
}

static void
modern_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	if (config_ok(dev, off))
		vio_reg_write32(dev->os, vio_at(dev->t.pci.device, off), val);
}

static uint16_t
modern_queue_max(struct virtio_dev *dev, uint16_t idx)
{
	common_write16(dev, COMMON_Q_SELECT, idx);
	return common_read16(dev, COMMON_Q_SIZE);
}

/* 4.1.4.4: queue_notify_off * notify_off_multiplier inside the cap. */
static int
modern_notify_offset(struct virtio_dev *dev, uint32_t *off)
{
	uint64_t o;

	o = (uint64_t)common_read16(dev, COMMON_Q_NOFF) *
	    dev->t.pci.notify_mul;
	if (o + 2 > dev->t.pci.notify_len)
		return BN_EIO;
	*off = (uint32_t)o;
	return BN_OK;
}

/* 4.1.5.1.3: select, size, three addresses, then queue_enable. */
static int
modern_queue_enable(struct virtio_dev *dev, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	uint16_t max;
	int error;

	if (idx >= VIRTIO_QUEUES_MAX)
		return BN_EINVAL;
	max = modern_queue_max(dev, idx);
	if (size == 0 || size > max)
		return BN_EINVAL;
	error = modern_notify_offset(dev, &dev->t.pci.qnotify[idx]);
	if (error != BN_OK)
		return error;

	common_write16(dev, COMMON_Q_SIZE, size);
	common_write64(dev, COMMON_Q_DESC, desc);
	common_write64(dev, COMMON_Q_DRIVER, avail);
	common_write64(dev, COMMON_Q_DEVICE, used);
	common_write16(dev, COMMON_Q_ENABLE, 1);
	return BN_OK;
}

static void
modern_notify(struct virtio_dev *dev, uint16_t idx)
{
	if (idx >= VIRTIO_QUEUES_MAX)
		return;
	vio_reg_write16(dev->os, vio_at(dev->t.pci.notify,
	    dev->t.pci.qnotify[idx]), idx);
}

/* 4.1.4.5: reading the ISR byte clears it. */
static uint8_t
modern_isr(struct virtio_dev *dev)
{
	return vio_reg_read8(dev->os, dev->t.pci.isr);
}

/* Each block was mapped on its own (cap_map()). */
static void
modern_unmap(struct virtio_dev *dev)
{
	bn_port_mmio_unmap(dev->os, dev->t.pci.common, dev->t.pci.common_len);
	bn_port_mmio_unmap(dev->os, dev->t.pci.notify, dev->t.pci.notify_len);
	bn_port_mmio_unmap(dev->os, dev->t.pci.isr, dev->t.pci.isr_len);
	bn_port_mmio_unmap(dev->os, dev->t.pci.device, dev->t.pci.device_len);
	dev->t.pci.common = dev->t.pci.notify = NULL;
	dev->t.pci.isr = dev->t.pci.device = NULL;
	dev->t.pci.common_len = dev->t.pci.notify_len = 0;
	dev->t.pci.isr_len = dev->t.pci.device_len = 0;
}

static const struct virtio_transport_ops modern_ops = {
	.name = "pci-modern",
	.reset = modern_reset,
	.get_status = modern_get_status,
	.set_status = modern_set_status,
	.get_features = modern_get_features,
	.set_features = modern_set_features,
	.config_read32 = modern_config_read32,
	.config_write32 = modern_config_write32,
	.queue_max = modern_queue_max,
	.queue_enable = modern_queue_enable,
	.notify = modern_notify,
	.isr = modern_isr,
	.detach = modern_unmap,
};

/*
 * The guest-physical address of memory BAR "bar", 32 or 64 bits wide;
 * 0 for an I/O BAR, an unassigned one or a bad number.
 */
static bn_paddr_t
bar_address(struct virtio_dev *dev, uint8_t bar)
{
	uint32_t lo, hi = 0;

	if (bar > 5)
		return 0;
	lo = virtio_pci_cfg_read(dev, PCI_BAR(bar), 4);
	if ((lo & PCI_BAR_IO) != 0)
		return 0;
	if ((lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64) {
		if (bar == 5)
			return 0;
		hi = virtio_pci_cfg_read(dev, PCI_BAR(bar + 1), 4);
	}
	return ((bn_paddr_t)hi << 32) | (lo & ~(uint32_t)0xf);
}

/*
 * Map the block a capability at "cap" describes, "*len" bytes of it, when
 * that is at least "min"; NULL (and *len 0) when unusable.
 */
static volatile uint8_t *
cap_map(struct virtio_dev *dev, uint16_t cap, uint32_t min, uint32_t *len)
{
	volatile uint8_t *p;
	bn_paddr_t base;
	uint32_t off;

	base = bar_address(dev,
	    (uint8_t)virtio_pci_cfg_read(dev, cap + CAP_BAR, 1));
	off = virtio_pci_cfg_read(dev, cap + CAP_OFFSET, 4);
	*len = virtio_pci_cfg_read(dev, cap + CAP_LENGTH, 4);
	p = NULL;
	if (base != 0 && *len != 0 && *len >= min)
		p = bn_port_mmio_map(dev->os, base + off, *len);
	if (p == NULL)
		*len = 0;
	return p;
}

/* 4.1.4.1: the driver uses the first capability of each type it can. */
static void
cap_take(struct virtio_dev *d, uint16_t cap)
{
	uint8_t type = (uint8_t)virtio_pci_cfg_read(d, cap + CAP_CFG_TYPE, 1);

	switch (type) {
	case CFG_TYPE_COMMON:
		if (d->t.pci.common == NULL)
			d->t.pci.common = cap_map(d, cap, COMMON_LEN,
			    &d->t.pci.common_len);
		break;
	case CFG_TYPE_NOTIFY:
		if (d->t.pci.notify != NULL)
			break;
		d->t.pci.notify = cap_map(d, cap, 1, &d->t.pci.notify_len);
		d->t.pci.notify_mul = virtio_pci_cfg_read(d,
		    cap + CAP_NOTIFY_MUL, 4);
		break;
	case CFG_TYPE_ISR:
		if (d->t.pci.isr == NULL)
			d->t.pci.isr = cap_map(d, cap, 1, &d->t.pci.isr_len);
		break;
	case CFG_TYPE_DEVICE:
		if (d->t.pci.device == NULL)
			d->t.pci.device = cap_map(d, cap, 1,
			    &d->t.pci.device_len);
		break;
	}
}

int
virtio_pci_modern_probe(struct virtio_dev *dev)
{
	uint16_t cap;
	int n;

	if ((virtio_pci_cfg_read(dev, PCI_STATUS, 2) &
	    PCI_STATUS_CAP_LIST) == 0)
		return BN_ENODEV;
	cap = virtio_pci_cfg_read(dev, PCI_CAP_PTR, 1) & 0xfc;
	for (n = 0; cap != 0 && n < CAPS_MAX; n++) {
		if (virtio_pci_cfg_read(dev, cap, 1) == PCI_CAP_VNDR)
			cap_take(dev, cap);
		cap = virtio_pci_cfg_read(dev, cap + 1, 1) & 0xfc;
	}
	/* The device block is optional: some devices have no config. */
	if (dev->t.pci.common == NULL || dev->t.pci.notify == NULL ||
	    dev->t.pci.isr == NULL) {
		modern_unmap(dev);
		return BN_ENODEV;
	}
	dev->ops = &modern_ops;
	dev->modern = true;
	return BN_OK;
}
