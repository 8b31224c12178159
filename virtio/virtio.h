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

#include <ballonet/port.h>

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

struct virtio_transport_ops {
	const char *name;		/* "pci-modern", "pci-legacy", "mmio" */
	void	 (*reset)(struct virtio_dev *);
	uint8_t	 (*get_status)(struct virtio_dev *);
	void	 (*set_status)(struct virtio_dev *, uint8_t);
	uint64_t (*get_features)(struct virtio_dev *);
	void	 (*set_features)(struct virtio_dev *, uint64_t);
	uint32_t (*config_read32)(struct virtio_dev *, uint32_t off);
	void	 (*config_write32)(struct virtio_dev *, uint32_t off, uint32_t);
	/* Largest size of queue "idx", 0 when the device has no such queue. */
	uint16_t (*queue_max)(struct virtio_dev *, uint16_t idx);
	/* Legacy transports cannot shrink a queue: they need size == max. */
	int	 (*queue_enable)(struct virtio_dev *, uint16_t idx,
		    uint16_t size, bn_paddr_t desc, bn_paddr_t avail,
		    bn_paddr_t used);
	void	 (*notify)(struct virtio_dev *, uint16_t idx);
	/* Read and clear the interrupt status (VIRTIO_ISR_*). */
	uint8_t	 (*isr)(struct virtio_dev *);
};

/* One attached virtio device; the transport's state lives inside. */
struct virtio_dev {
	const struct virtio_transport_ops *ops;
	void		*os;		/* port handle */
	uint16_t	 device_id;	/* VIRTIO_ID_* */
	bool		 modern;	/* VERSION_1 may be negotiated */
	union {
		struct {
			void		*pcidev;
			volatile uint8_t *common, *isr, *device, *notify;
			uint32_t	 notify_mul;	/* notify_off_multiplier */
			uint32_t	 notify_len;	/* bytes mapped at notify */
			uint32_t	 device_len;	/* bytes mapped at device */
			/* Byte offset of each queue's notify register. */
			uint32_t	 qnotify[VIRTIO_QUEUES_MAX];
			uint32_t	 iobase;	/* legacy BAR 0 */
			uint32_t	 config_off;	/* legacy config offset */
		} pci;
		struct {
			volatile uint8_t *regs;
			uint32_t	 version;	/* 1 legacy, 2 modern */
		} mmio;
	} t;
};

/*
 * What drivers use: the operations of the transport behind small helpers,
 * so that a driver never sees registers or the table.
 */
static inline void
virtio_reset(struct virtio_dev *d)
{
	d->ops->reset(d);
}

static inline uint8_t
virtio_get_status(struct virtio_dev *d)
{
	return d->ops->get_status(d);
}

/* Device initialization adds status bits one step at a time (3.1.1). */
static inline void
virtio_add_status(struct virtio_dev *d, uint8_t bits)
{
	d->ops->set_status(d, (uint8_t)(d->ops->get_status(d) | bits));
}

static inline uint64_t
virtio_get_features(struct virtio_dev *d)
{
	return d->ops->get_features(d);
}

static inline void
virtio_set_features(struct virtio_dev *d, uint64_t features)
{
	d->ops->set_features(d, features);
}

static inline uint32_t
virtio_config_read32(struct virtio_dev *d, uint32_t off)
{
	return d->ops->config_read32(d, off);
}

static inline void
virtio_config_write32(struct virtio_dev *d, uint32_t off, uint32_t val)
{
	d->ops->config_write32(d, off, val);
}

static inline uint16_t
virtio_queue_max(struct virtio_dev *d, uint16_t idx)
{
	return d->ops->queue_max(d, idx);
}

static inline uint8_t
virtio_isr(struct virtio_dev *d)
{
	return d->ops->isr(d);
}

/*
 * Attach a PCI function (vendor 0x1af4): the modern interface when the
 * vendor capabilities are present, else legacy BAR 0.  ENODEV when it is
 * not a virtio device.
 */
int virtio_pci_attach(struct virtio_dev *dev, void *os, void *pcidev);

/* Attach a virtio-mmio window; ENODEV when the magic or device id is 0. */
int virtio_mmio_attach(struct virtio_dev *dev, void *os, bn_paddr_t base);

#endif /* BALLONET_VIRTIO_H */
