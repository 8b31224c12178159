/*
 * The device model's registers (see devmodel.h): the real pci-modern and
 * mmio transports run over them.  fake_port sends every register access
 * inside the window, and PCI configuration space, here (struct fake_bus);
 * each access becomes a call of the model's own operations, so the model
 * behaves the same whichever way the driver reaches it.  Layouts: VIRTIO
 * 1.2, 4.1.4 (PCI capabilities, common configuration) and 4.2.2 (MMIO).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ballonet/error.h>

#include "devmodel.h"
#include "viomb.h"
#include "virtio.h"

/* PCI: where the blocks lie in BAR 0 (the window). */
#define PCI_WINDOW		0x4000
#define PCI_COMMON		0x0000
#define PCI_COMMON_LEN		0x38
#define PCI_ISR			0x1000
#define PCI_DEVICE		0x2000
#define PCI_DEVICE_LEN		0x100
#define PCI_NOTIFY		0x3000
#define PCI_NOTIFY_MUL		4	/* bytes per queue_notify_off */
#define PCI_CAPS		0x40	/* the first capability */

/* struct virtio_pci_common_cfg, 4.1.4.3. */
#define C_DFSELECT		0x00
#define C_DF			0x04
#define C_GFSELECT		0x08
#define C_GF			0x0c
#define C_MSIX			0x10
#define C_NUMQ			0x12
#define C_STATUS		0x14
#define C_CFGGEN		0x15
#define C_Q_SELECT		0x16
#define C_Q_SIZE		0x18
#define C_Q_MSIX		0x1a
#define C_Q_ENABLE		0x1c
#define C_Q_NOFF		0x1e
#define C_Q_DESC		0x20
#define C_Q_DRIVER		0x28
#define C_Q_DEVICE		0x30

/* virtio-mmio, 4.2.2. */
#define MMIO_WINDOW		0x200
#define M_MAGIC			0x000
#define M_VERSION		0x004
#define M_DEVICE_ID		0x008
#define M_VENDOR_ID		0x00c
#define M_DEV_FEATURES		0x010
#define M_DEV_FEATURES_SEL	0x014
#define M_DRV_FEATURES		0x020
#define M_DRV_FEATURES_SEL	0x024
#define M_QUEUE_SEL		0x030
#define M_QUEUE_NUM_MAX		0x034
#define M_QUEUE_NUM		0x038
#define M_QUEUE_READY		0x044
#define M_QUEUE_NOTIFY		0x050
#define M_INT_STATUS		0x060
#define M_INT_ACK		0x064
#define M_STATUS		0x070
#define M_QUEUE_DESC		0x080
#define M_QUEUE_DRIVER		0x090
#define M_QUEUE_DEVICE		0x0a0
#define M_CONFIG_GEN		0x0fc
#define M_CONFIG		0x100

static const struct virtio_transport_ops *
model(struct devmodel *dm)
{
	return dm->vdev.ops;
}

/* Set the 32-bit half "hi" of a 64-bit register. */
static void
half(uint64_t *reg, bool hi, uint32_t val)
{
	if (hi)
		*reg = (*reg & 0xffffffffull) | (uint64_t)val << 32;
	else
		*reg = (*reg & ~0xffffffffull) | val;
}

/* After a reset every queue register reads its default again. */
static void
regs_reset(struct devmodel *dm)
{
	struct dm_regs *r = &dm->regs;
	int i;

	r->dfsel = r->gfsel = 0;
	r->gf = 0;
	r->qsel = 0;
	for (i = 0; i < DM_NQ; i++) {
		r->qsize[i] = model(dm)->queue_max(&dm->vdev, (uint16_t)i);
		r->qdesc[i] = r->qdriver[i] = r->qdevice[i] = 0;
	}
}

static void
write_status(struct devmodel *dm, uint8_t status)
{
	if (status == 0) {
		(void)model(dm)->reset(&dm->vdev);
		regs_reset(dm);
	} else
		model(dm)->set_status(&dm->vdev, status);
}

static void
write_features(struct devmodel *dm, uint32_t val)
{
	struct dm_regs *r = &dm->regs;

	if (r->gfsel > 1)
		return;
	half(&r->gf, r->gfsel == 1, val);
	model(dm)->set_features(&dm->vdev, r->gf);
}

static uint32_t
read_features(struct devmodel *dm)
{
	uint32_t sel = dm->regs.dfsel;

	return sel > 1 ? 0 : (uint32_t)(model(dm)->get_features(&dm->vdev) >>
	    (32 * sel));
}

static void
enable_queue(struct devmodel *dm)
{
	struct dm_regs *r = &dm->regs;
	uint16_t q = r->qsel;

	/* A queue the model refuses stays disabled, as on a device. */
	if (q < DM_NQ)
		(void)model(dm)->queue_enable(&dm->vdev, q, r->qsize[q],
		    r->qdesc[q], r->qdriver[q], r->qdevice[q]);
}

/*
 * The device configuration.  A torn num_pages is what a driver reads when
 * the host changes it during the read: a mix of old and new, with the
 * generation moved (2.5.1).  The next read is whole.
 */
static uint32_t
read_config(struct devmodel *dm, uint32_t off, int width)
{
	struct dm_regs *r = &dm->regs;

	if (width != 4) {
		if (dm->violations++ == 0)
			snprintf(dm->violation, sizeof(dm->violation),
			    "config read of %d bytes at %u", width, off);
		return 0;
	}
	if (off != VIRTIO_BALLOON_CFG_NUM_PAGES)
		return model(dm)->config_read32(&dm->vdev, off);
	if (r->tear_armed) {
		r->tear_armed = false;
		r->torn_reads++;
		r->gen++;
		return (dm->num_pages & 0xffff0000u) |
		    (dm->old_pages & 0xffffu);
	}
	return dm->num_pages;
}

static void
write_config(struct devmodel *dm, uint32_t off, uint32_t val)
{
	model(dm)->config_write32(&dm->vdev, off, val);
}

/* --- PCI ------------------------------------------------------------- */

static uint32_t
common_read(struct devmodel *dm, uint32_t off)
{
	struct dm_regs *r = &dm->regs;
	uint16_t q = r->qsel < DM_NQ ? r->qsel : 0;

	switch (off) {
	case C_DFSELECT:	return r->dfsel;
	case C_DF:		return read_features(dm);
	case C_GFSELECT:	return r->gfsel;
	case C_GF:		return (uint32_t)(r->gf >> (r->gfsel & 1 ? 32 : 0));
	case C_MSIX:		return 0xffff;
	case C_NUMQ:		return DM_NQ;
	case C_STATUS:		return model(dm)->get_status(&dm->vdev);
	case C_CFGGEN:		return r->gen;
	case C_Q_SELECT:	return r->qsel;
	case C_Q_SIZE:		return r->qsel < DM_NQ ? r->qsize[q] : 0;
	case C_Q_MSIX:		return 0xffff;
	case C_Q_ENABLE:	return dm->q[q].enabled;
	case C_Q_NOFF:		return r->qsel;
	}
	return 0;
}

static void
common_write(struct devmodel *dm, uint32_t off, uint32_t val)
{
	struct dm_regs *r = &dm->regs;
	uint16_t q = r->qsel < DM_NQ ? r->qsel : 0;

	switch (off) {
	case C_DFSELECT:	r->dfsel = val; break;
	case C_GFSELECT:	r->gfsel = val; break;
	case C_GF:		write_features(dm, val); break;
	case C_STATUS:		write_status(dm, (uint8_t)val); break;
	case C_Q_SELECT:	r->qsel = (uint16_t)val; break;
	case C_Q_SIZE:		r->qsize[q] = (uint16_t)val; break;
	case C_Q_ENABLE:	if (val == 1) enable_queue(dm); break;
	case C_Q_DESC:		half(&r->qdesc[q], false, val); break;
	case C_Q_DESC + 4:	half(&r->qdesc[q], true, val); break;
	case C_Q_DRIVER:	half(&r->qdriver[q], false, val); break;
	case C_Q_DRIVER + 4:	half(&r->qdriver[q], true, val); break;
	case C_Q_DEVICE:	half(&r->qdevice[q], false, val); break;
	case C_Q_DEVICE + 4:	half(&r->qdevice[q], true, val); break;
	}
}

static uint32_t
pci_read(void *arg, uint32_t off, int width)
{
	struct devmodel *dm = arg;

	(void)width;
	if (off < PCI_COMMON + PCI_COMMON_LEN)
		return common_read(dm, off - PCI_COMMON);
	if (off == PCI_ISR)
		return model(dm)->isr(&dm->vdev);
	if (off >= PCI_DEVICE && off < PCI_DEVICE + PCI_DEVICE_LEN)
		return read_config(dm, off - PCI_DEVICE, width);
	return 0;
}

static void
pci_write(void *arg, uint32_t off, int width, uint32_t val)
{
	struct devmodel *dm = arg;

	(void)width;
	if (off < PCI_COMMON + PCI_COMMON_LEN)
		common_write(dm, off - PCI_COMMON, val);
	else if (off >= PCI_DEVICE && off < PCI_DEVICE + PCI_DEVICE_LEN)
		write_config(dm, off - PCI_DEVICE, val);
	else if (off >= PCI_NOTIFY && off < PCI_NOTIFY + PCI_NOTIFY_MUL * DM_NQ)
		model(dm)->notify(&dm->vdev, (uint16_t)val);
}

static uint32_t
cfg_read(void *arg, uint16_t off, int width)
{
	struct devmodel *dm = arg;
	uint32_t v = 0;
	int i;

	for (i = width - 1; i >= 0 && off + i < 256; i--)
		v = v << 8 | dm->regs.pcicfg[off + i];
	return v;
}

static void
cfg_write(void *arg, uint16_t off, int width, uint32_t val)
{
	struct devmodel *dm = arg;
	int i;

	/* Only the command register is writable here. */
	for (i = 0; i < width && off == 0x04; i++)
		dm->regs.pcicfg[off + i] = (uint8_t)(val >> (8 * i));
}

static void
put(uint8_t *p, uint32_t val, int width)
{
	int i;

	for (i = 0; i < width; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

/* struct virtio_pci_cap at "at" (4.1.4), "len" bytes of the capability. */
static void
put_cap(uint8_t *cfg, uint8_t at, uint8_t next, uint8_t caplen,
    uint8_t type, uint32_t off, uint32_t len)
{
	cfg[at] = 0x09;			/* vendor specific */
	cfg[at + 1] = next;
	cfg[at + 2] = caplen;
	cfg[at + 3] = type;
	cfg[at + 4] = 0;		/* BAR 0 */
	put(cfg + at + 8, off, 4);
	put(cfg + at + 12, len, 4);
}

/* A modern virtio-pci balloon (0x1045) with BAR 0 at the window. */
static void
pci_config_space(struct devmodel *dm)
{
	uint8_t *c = dm->regs.pcicfg;

	memset(c, 0, sizeof(dm->regs.pcicfg));
	put(c + 0x00, 0x1af4, 2);
	put(c + 0x02, 0x1040 + VIRTIO_ID_BALLOON, 2);
	put(c + 0x06, 0x0010, 2);	/* capability list */
	put(c + 0x10, (uint32_t)dm->regs.pa | 0x4, 4);	/* 64-bit memory */
	put(c + 0x14, (uint32_t)(dm->regs.pa >> 32), 4);
	put(c + 0x2e, VIRTIO_ID_BALLOON, 2);
	c[0x34] = PCI_CAPS;
	put_cap(c, 0x40, 0x50, 16, 1, PCI_COMMON, PCI_COMMON_LEN);
	put_cap(c, 0x50, 0x68, 20, 2, PCI_NOTIFY, PCI_NOTIFY_MUL * DM_NQ);
	put(c + 0x50 + 16, PCI_NOTIFY_MUL, 4);
	put_cap(c, 0x68, 0x78, 16, 3, PCI_ISR, 4);
	put_cap(c, 0x78, 0x00, 16, 4, PCI_DEVICE, PCI_DEVICE_LEN);
}

/* --- MMIO ------------------------------------------------------------ */

static uint32_t
mmio_read(void *arg, uint32_t off, int width)
{
	struct devmodel *dm = arg;
	struct dm_regs *r = &dm->regs;
	uint16_t q = r->qsel < DM_NQ ? r->qsel : 0;

	if (off >= M_CONFIG)
		return read_config(dm, off - M_CONFIG, width);
	switch (off) {
	case M_MAGIC:		return 0x74726976;
	case M_VERSION:		return 2;
	case M_DEVICE_ID:	return VIRTIO_ID_BALLOON;
	case M_VENDOR_ID:	return 0x554d4551;
	case M_DEV_FEATURES:	return read_features(dm);
	case M_QUEUE_NUM_MAX:	return model(dm)->queue_max(&dm->vdev, r->qsel);
	case M_QUEUE_READY:	return dm->q[q].enabled;
	case M_INT_STATUS:	return dm->isr;
	case M_STATUS:		return model(dm)->get_status(&dm->vdev);
	case M_CONFIG_GEN:	return r->gen;
	}
	return 0;
}

static void
mmio_write(void *arg, uint32_t off, int width, uint32_t val)
{
	struct devmodel *dm = arg;
	struct dm_regs *r = &dm->regs;
	uint16_t q = r->qsel < DM_NQ ? r->qsel : 0;

	(void)width;
	if (off >= M_CONFIG) {
		write_config(dm, off - M_CONFIG, val);
		return;
	}
	switch (off) {
	case M_DEV_FEATURES_SEL:	r->dfsel = val; break;
	case M_DRV_FEATURES_SEL:	r->gfsel = val; break;
	case M_DRV_FEATURES:		write_features(dm, val); break;
	case M_QUEUE_SEL:		r->qsel = (uint16_t)val; break;
	case M_QUEUE_NUM:		r->qsize[q] = (uint16_t)val; break;
	case M_QUEUE_READY:		if (val == 1) enable_queue(dm); break;
	case M_QUEUE_NOTIFY:
		model(dm)->notify(&dm->vdev, (uint16_t)val);
		break;
	case M_INT_ACK:			dm->isr &= (uint8_t)~val; break;
	case M_STATUS:			write_status(dm, (uint8_t)val); break;
	case M_QUEUE_DESC:		half(&r->qdesc[q], false, val); break;
	case M_QUEUE_DESC + 4:		half(&r->qdesc[q], true, val); break;
	case M_QUEUE_DRIVER:		half(&r->qdriver[q], false, val); break;
	case M_QUEUE_DRIVER + 4:	half(&r->qdriver[q], true, val); break;
	case M_QUEUE_DEVICE:		half(&r->qdevice[q], false, val); break;
	case M_QUEUE_DEVICE + 4:	half(&r->qdevice[q], true, val); break;
	}
}

static const struct fake_bus pci_bus = {
	.reg_read = pci_read, .reg_write = pci_write,
	.cfg_read = cfg_read, .cfg_write = cfg_write,
};

static const struct fake_bus mmio_bus = {
	.reg_read = mmio_read, .reg_write = mmio_write,
	.cfg_read = cfg_read, .cfg_write = cfg_write,
};

int
dm_attach_regs(struct devmodel *dm, enum dm_bus bus)
{
	struct dm_regs *r = &dm->regs;
	int error;

	r->bus = bus;
	r->len = bus == DM_BUS_PCI_MODERN ? PCI_WINDOW : MMIO_WINDOW;
	if (bn_port_dma_alloc(&dm->os, r->len, &r->pa) == NULL)
		abort();
	regs_reset(dm);
	dm->os.bus = bus == DM_BUS_PCI_MODERN ? &pci_bus : &mmio_bus;
	dm->os.bus_arg = dm;
	dm->os.regs_pa = r->pa;
	dm->os.regs_len = r->len;
	if (bus == DM_BUS_PCI_MODERN) {
		pci_config_space(dm);
		error = virtio_pci_attach(&dm->rvdev, &dm->os, NULL);
	} else
		error = virtio_mmio_attach(&dm->rvdev, &dm->os, r->pa);
	if (error != BN_OK)
		return error;
	return viomb_attach(dm->sc, &dm->rvdev, &dm->cfg);
}

void
dm_detach_regs(struct devmodel *dm)
{
	viomb_detach(dm->sc);
	virtio_detach(&dm->rvdev);
}
