/*
 * ballonet: the modern virtio-pci interface (VIRTIO 1.2, 4.1.4).
 *
 * Four vendor capabilities locate the register blocks inside memory BARs:
 * common configuration, notifications, ISR status and device-specific
 * configuration.  Each block is mapped on its own with bn_port_mmio_map().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio.h"
#include "virtio_io.h"
#include "virtio_pci.h"

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

static volatile uint8_t *
common(struct virtio_dev *dev, uint32_t off)
{
	return vio_at(dev->t.pci.common, off);
}

static void
modern_set_status(struct virtio_dev *dev, uint8_t status)
{
	vio_write8(common(dev, COMMON_STATUS), status);
}

static uint8_t
modern_get_status(struct virtio_dev *dev)
{
	return vio_read8(common(dev, COMMON_STATUS));
}

/* 4.1.4.3.2: after writing 0 the driver waits until it reads back 0. */
static void
modern_reset(struct virtio_dev *dev)
{
	uint32_t spin;

	modern_set_status(dev, 0);
	for (spin = 0; spin < VIRTIO_SPIN_MAX; spin++) {
		if (modern_get_status(dev) == 0)
			return;
	}
}

static uint64_t
modern_get_features(struct virtio_dev *dev)
{
	uint64_t lo, hi;

	vio_write32(common(dev, COMMON_DFSELECT), 0);
	lo = vio_read32(common(dev, COMMON_DF));
	vio_write32(common(dev, COMMON_DFSELECT), 1);
	hi = vio_read32(common(dev, COMMON_DF));
	return lo | hi << 32;
}

static void
modern_set_features(struct virtio_dev *dev, uint64_t features)
{
	vio_write32(common(dev, COMMON_GFSELECT), 0);
	vio_write32(common(dev, COMMON_GF), (uint32_t)features);
	vio_write32(common(dev, COMMON_GFSELECT), 1);
	vio_write32(common(dev, COMMON_GF), (uint32_t)(features >> 32));
}

static bool
config_ok(struct virtio_dev *dev, uint32_t off)
{
	return dev->t.pci.device != NULL && off <= dev->t.pci.device_len &&
	    dev->t.pci.device_len - off >= 4;
}

/* 2.5.1 and 4.1.4.3.1: retry while config_generation moves. */
static uint32_t
modern_config_read32(struct virtio_dev *dev, uint32_t off)
{
	uint32_t val = 0;
	uint8_t gen;
	int i;

	if (!config_ok(dev, off))
		return 0;
	for (i = 0; i < VIRTIO_GEN_RETRIES; i++) {
		gen = vio_read8(common(dev, COMMON_CFGGEN));
		val = vio_read32(vio_at(dev->t.pci.device, off));
		if (vio_read8(common(dev, COMMON_CFGGEN)) == gen)
			break;
	}
	return val;
}

static void
modern_config_write32(struct virtio_dev *dev, uint32_t off, uint32_t val)
{
	if (config_ok(dev, off))
		vio_write32(vio_at(dev->t.pci.device, off), val);
}

static uint16_t
modern_queue_max(struct virtio_dev *dev, uint16_t idx)
{
	vio_write16(common(dev, COMMON_Q_SELECT), idx);
	return vio_read16(common(dev, COMMON_Q_SIZE));
}

/* 4.1.4.4: queue_notify_off * notify_off_multiplier inside the cap. */
static int
modern_notify_offset(struct virtio_dev *dev, uint32_t *off)
{
	uint64_t o;

	o = (uint64_t)vio_read16(common(dev, COMMON_Q_NOFF)) *
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

	vio_write16(common(dev, COMMON_Q_SIZE), size);
	vio_write64_split(common(dev, COMMON_Q_DESC), desc);
	vio_write64_split(common(dev, COMMON_Q_DRIVER), avail);
	vio_write64_split(common(dev, COMMON_Q_DEVICE), used);
	vio_write16(common(dev, COMMON_Q_ENABLE), 1);
	return BN_OK;
}

static void
modern_notify(struct virtio_dev *dev, uint16_t idx)
{
	if (idx >= VIRTIO_QUEUES_MAX)
		return;
	vio_write16(vio_at(dev->t.pci.notify, dev->t.pci.qnotify[idx]), idx);
}

/* 4.1.4.5: reading the ISR byte clears it. */
static uint8_t
modern_isr(struct virtio_dev *dev)
{
	return vio_read8(dev->t.pci.isr);
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
	lo = pci_cfg_read(dev, PCI_BAR(bar), 4);
	if ((lo & PCI_BAR_IO) != 0)
		return 0;
	if ((lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64) {
		if (bar == 5)
			return 0;
		hi = pci_cfg_read(dev, PCI_BAR(bar + 1), 4);
	}
	return ((bn_paddr_t)hi << 32) | (lo & ~(uint32_t)0xf);
}

/* Map the block a capability at "cap" describes; NULL when unusable. */
static volatile uint8_t *
cap_map(struct virtio_dev *dev, uint16_t cap, uint32_t *len)
{
	bn_paddr_t base;
	uint32_t off;

	base = bar_address(dev, (uint8_t)pci_cfg_read(dev, cap + CAP_BAR, 1));
	off = pci_cfg_read(dev, cap + CAP_OFFSET, 4);
	*len = pci_cfg_read(dev, cap + CAP_LENGTH, 4);
	if (base == 0 || *len == 0)
		return NULL;
	return bn_port_mmio_map(dev->os, base + off, *len);
}

/* 4.1.4.1: the driver uses the first capability of each type it can. */
static void
cap_take(struct virtio_dev *dev, uint16_t cap)
{
	uint8_t type = (uint8_t)pci_cfg_read(dev, cap + CAP_CFG_TYPE, 1);
	volatile uint8_t *p;
	uint32_t len;

	switch (type) {
	case CFG_TYPE_COMMON:
		if (dev->t.pci.common != NULL)
			break;
		p = cap_map(dev, cap, &len);
		if (p != NULL && len >= COMMON_LEN)
			dev->t.pci.common = p;
		break;
	case CFG_TYPE_NOTIFY:
		if (dev->t.pci.notify != NULL)
			break;
		dev->t.pci.notify = cap_map(dev, cap, &dev->t.pci.notify_len);
		dev->t.pci.notify_mul = pci_cfg_read(dev, cap + CAP_NOTIFY_MUL,
		    4);
		break;
	case CFG_TYPE_ISR:
		if (dev->t.pci.isr == NULL)
			dev->t.pci.isr = cap_map(dev, cap, &len);
		break;
	case CFG_TYPE_DEVICE:
		if (dev->t.pci.device == NULL)
			dev->t.pci.device = cap_map(dev, cap,
			    &dev->t.pci.device_len);
		break;
	}
}

int
virtio_pci_modern_probe(struct virtio_dev *dev)
{
	uint16_t cap;
	int n;

	if ((pci_cfg_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) == 0)
		return BN_ENODEV;
	cap = pci_cfg_read(dev, PCI_CAP_PTR, 1) & 0xfc;
	for (n = 0; cap != 0 && n < CAPS_MAX; n++) {
		if (pci_cfg_read(dev, cap, 1) == PCI_CAP_VNDR)
			cap_take(dev, cap);
		cap = pci_cfg_read(dev, cap + 1, 1) & 0xfc;
	}
	/* The device block is optional: some devices have no config. */
	if (dev->t.pci.common == NULL || dev->t.pci.notify == NULL ||
	    dev->t.pci.isr == NULL)
		return BN_ENODEV;
	dev->ops = &modern_ops;
	dev->modern = true;
	return BN_OK;
}
