/*
 * ballonet: virtio transports.
 *
 * A transport (virtio-pci modern, virtio-pci legacy, virtio-mmio) gives the
 * device drivers one small set of operations; drivers never see registers.
 * Device-specific configuration is little-endian on every transport
 * (VIRTIO 1.2, 5.5.4), and the accessors here return host-order values.
 */
#ifndef BALLONET_VIRTIO_H
#define BALLONET_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/port.h>

#include "virtio_port.h"

/* Device status bits, VIRTIO 1.2, 2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_VERSION_1		32
/*
 * 6.1: the device reaches memory through the platform (an IOMMU, or
 * memory a confidential guest shared): every address it is given must be
 * one the port gave for it (bn_port_dma_alloc(), bn_port_dma_addr()).
 */
#define VIRTIO_F_ACCESS_PLATFORM	33

/* ISR bits, VIRTIO 1.2, 4.1.4.5. */
#define VIRTIO_ISR_QUEUE		0x01
#define VIRTIO_ISR_CONFIG		0x02

#define VIRTIO_ID_BALLOON		5

/* Queues a transport keeps state for; the balloon has at most 5. */
#define VIRTIO_QUEUES_MAX		8

/* Bounded waits on the device (reset, config generation). */
#define VIRTIO_SPIN_MAX			1000000
#define VIRTIO_GEN_RETRIES		64

struct virtio_dev;

/*
 * A transport's operations.  Drivers call them through the inline helpers
 * below, never through the table; each helper says what its operation
 * does when the device misbehaves.  None blocks; "isr" is the only one
 * called from interrupt context.
 */
struct virtio_transport_ops {
	const char *name;		/* "pci-modern", "pci-legacy", "mmio" */
	int	 (*reset)(struct virtio_dev *);
	uint8_t	 (*get_status)(struct virtio_dev *);
	void	 (*set_status)(struct virtio_dev *, uint8_t);
	uint64_t (*get_features)(struct virtio_dev *);
	void	 (*set_features)(struct virtio_dev *, uint64_t);
	uint32_t (*config_read32)(struct virtio_dev *, uint32_t off);
	void	 (*config_write32)(struct virtio_dev *, uint32_t off, uint32_t);
	uint16_t (*queue_max)(struct virtio_dev *, uint16_t idx);
	int	 (*queue_enable)(struct virtio_dev *, uint16_t idx,
		    uint16_t size, bn_paddr_t desc, bn_paddr_t avail,
		    bn_paddr_t used);
	void	 (*notify)(struct virtio_dev *, uint16_t idx);
	uint8_t	 (*isr)(struct virtio_dev *);
	void	 (*detach)(struct virtio_dev *);
};

/* One attached virtio device; the transport's state lives inside. */
struct virtio_dev {
	const struct virtio_transport_ops *ops;
	void		*os;		/* port handle */
	uint16_t	 device_id;	/* VIRTIO_ID_* */
	bool		 modern;	/* VERSION_1 may be negotiated */
	union {
		struct {
			void		*pcidev;	/* the port's */
			/* The four register blocks, mapped (4.1.4). */
			volatile uint8_t *common, *isr, *device, *notify;
			/* Bytes mapped of each block. */
			uint32_t	 common_len, isr_len;
			uint32_t	 notify_len, device_len;
			uint32_t	 notify_mul;	/* bytes/offset */
			/* Byte offset of each queue's notify register. */
			uint32_t	 qnotify[VIRTIO_QUEUES_MAX];
			uint32_t	 iobase;	/* legacy BAR 0 */
			uint32_t	 config_off;	/* bytes */
		} pci;
		struct {
			volatile uint8_t *regs;	/* MMIO_WINDOW bytes */
			uint32_t	 version;	/* 1 legacy, 2 modern */
		} mmio;
	} t;
};

/*
 * What drivers use: the operations of the transport behind small helpers,
 * so that a driver never sees registers or the table.
 */

/* The transport's name, for messages: "pci-modern", "pci-legacy", "mmio". */
static inline const char *
virtio_transport_name(const struct virtio_dev *d)
{
	return d->ops != NULL ? d->ops->name : "none";
}

/*
 * Reset the device (2.4): it forgets the features, the queues and the
 * buffers it held.  BN_ETIMEDOUT when a modern device (PCI 4.1.4.3.2,
 * MMIO 4.2.3.1) still does not read back status 0 after VIRTIO_SPIN_MAX
 * reads: it may still use the rings, so the caller must not free or reuse
 * them.  A legacy PCI device resets on the write (4.1.4.10); BN_OK.
 */
static inline int
virtio_reset(struct virtio_dev *d)
{
	return d->ops->reset(d);
}

/* The device status byte (VIRTIO_STATUS_*), as the device shows it. */
static inline uint8_t
virtio_get_status(struct virtio_dev *d)
{
	return d->ops->get_status(d);
}

/* Write the status byte; 0 is a reset without the wait of virtio_reset(). */
static inline void
virtio_set_status(struct virtio_dev *d, uint8_t status)
{
	d->ops->set_status(d, status);
}

/* Device initialization adds status bits one step at a time (3.1.1). */
static inline void
virtio_add_status(struct virtio_dev *d, uint8_t bits)
{
	virtio_set_status(d, (uint8_t)(virtio_get_status(d) | bits));
}

/* The feature bits the device offers; legacy transports have 32. */
static inline uint64_t
virtio_get_features(struct virtio_dev *d)
{
	return d->ops->get_features(d);
}

/*
 * Write the driver's feature bits; legacy transports drop bits 32-63.
 * Whether the device takes them shows only in FEATURES_OK (3.1.1 step 6):
 * virtio_features_ok().
 */
static inline void
virtio_set_features(struct virtio_dev *d, uint64_t features)
{
	d->ops->set_features(d, features);
}

/*
 * Read the le32 at byte "off" of the device configuration, in host order.
 * Modern transports repeat the read while config_generation moves (2.5.1),
 * at most VIRTIO_GEN_RETRIES times, and return the last value read if it
 * never settles.  A field beyond the configuration the device exposes
 * (off + 4 past its length, or no device block at all) reads as 0: for
 * the balloon, "the host asks for nothing".
 */
static inline uint32_t
virtio_config_read32(struct virtio_dev *d, uint32_t off)
{
	return d->ops->config_read32(d, off);
}

/* Write the le32 at byte "off"; a write beyond the configuration is dropped. */
static inline void
virtio_config_write32(struct virtio_dev *d, uint32_t off, uint32_t val)
{
	d->ops->config_write32(d, off, val);
}

/* Largest size of queue "idx", 0 when the device has no such queue. */
static inline uint16_t
virtio_queue_max(struct virtio_dev *d, uint16_t idx)
{
	return d->ops->queue_max(d, idx);
}

/*
 * Give the device queue "idx" of "size" descriptors at these device
 * addresses (from bn_port_dma_alloc()) and enable it.  EINVAL for a size
 * of 0 or above virtio_queue_max(), on modern PCI for an index of
 * VIRTIO_QUEUES_MAX or more, and on legacy PCI for a size other
 * than the maximum (it cannot shrink a queue) or rings not in the legacy
 * layout (2.7.2; MMIO version 1 needs the layout, not the size).  ERANGE
 * when a legacy queue lies beyond the 32-bit frame number it is given by,
 * EIO when a modern device's notify offset lies outside its notify block
 * or, on MMIO, the queue is already enabled.  Nothing is enabled then.
 */
static inline int
virtio_queue_enable(struct virtio_dev *d, uint16_t idx, uint16_t size,
    bn_paddr_t desc, bn_paddr_t avail, bn_paddr_t used)
{
	return d->ops->queue_enable(d, idx, size, desc, avail, used);
}

/* Tell the device queue "idx" has new buffers; ignored for a bad index. */
static inline void
virtio_notify(struct virtio_dev *d, uint16_t idx)
{
	d->ops->notify(d, idx);
}

/*
 * Read and clear the interrupt status (VIRTIO_ISR_*): 0 when the device
 * did not interrupt.  Interrupt context allowed.
 */
static inline uint8_t
virtio_isr(struct virtio_dev *d)
{
	return d->ops->isr(d);
}

/*
 * Give back what the transport's attach took (its register mappings,
 * bn_port_mmio_unmap()).  After the driver's own detach, which reset the
 * device; "d" may be attached again afterwards.
 */
static inline void
virtio_detach(struct virtio_dev *d)
{
	if (d->ops != NULL)
		d->ops->detach(d);
	d->ops = NULL;
}

/*
 * Device (re)initialization, 3.1.1, for every virtio driver: the device
 * driver decides which of its own features it wants and sets up its
 * queues; the transport's bits and the status steps are done here.
 *
 *	virtio_reinit_start()	steps 1-3: reset, ACKNOWLEDGE, DRIVER;
 *				reads the device's offer (step 4)
 *	virtio_accept()		the driver's features plus the transport's
 *	virtio_features_ok()	steps 5-6: write them, FEATURES_OK, check
 *	(queues, buffers, device config)	step 7, the driver's
 *	virtio_reinit_end()	step 8: DRIVER_OK
 *	virtio_fail()		on any failure: FAILED
 *
 * The same sequence serves attach and recovery after a reset; a driver
 * restarting a device passes the features of its attach again.
 */

/* Feature bits of the transport, not of a device (6). */
#define VIRTIO_F_TRANSPORT_MASK	(1ull << VIRTIO_F_VERSION_1 | \
				 1ull << VIRTIO_F_ACCESS_PLATFORM)

/*
 * Steps 1-4: reset, ACKNOWLEDGE, DRIVER, and the offered features in
 * *offered.  BN_ETIMEDOUT when the reset does not complete (see
 * virtio_reset()): nothing more was written.
 */
int	virtio_reinit_start(struct virtio_dev *d, uint64_t *offered)
	    BN_MUST_CHECK;

/*
 * What the driver takes of "offered": the device bits of "want", VERSION_1
 * on a modern transport (6.1) and ACCESS_PLATFORM (every address the
 * device sees comes from the port: virtio_port.h).
 */
uint64_t virtio_accept(const struct virtio_dev *d, uint64_t offered,
	    uint64_t want);

/*
 * Steps 5-6: write "features"; on a modern transport set FEATURES_OK and
 * check that the device kept it.  BN_ENODEV when a modern transport gets
 * features without VERSION_1 (nothing is written) or the device refuses
 * them.  Legacy devices have no FEATURES_OK step: BN_OK.
 */
int	virtio_features_ok(struct virtio_dev *d, uint64_t features)
	    BN_MUST_CHECK;

/* Step 8: the driver is ready; the device may use the queues. */
void	virtio_reinit_end(struct virtio_dev *d);

/* The driver gave up on the device (3.1.1): FAILED. */
void	virtio_fail(struct virtio_dev *d);

/*
 * Attach a PCI function (vendor 0x1af4): the modern interface when the
 * vendor capabilities are present, else legacy BAR 0.  ENODEV when it is
 * not a virtio device; nothing stays mapped then.
 */
int virtio_pci_attach(struct virtio_dev *dev, void *os, void *pcidev);

/*
 * Attach a virtio-mmio window: ENOMEM when it cannot be mapped, ENODEV
 * for a bad magic or version or device id 0 (nothing stays mapped then).
 */
int virtio_mmio_attach(struct virtio_dev *dev, void *os, bn_paddr_t base);

#endif /* BALLONET_VIRTIO_H */
