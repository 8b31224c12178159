/*
 * A virtio-balloon device model in the test process, for the real engine
 * and front-end: the device reads the rings the driver wrote in fake_port's
 * DMA area and the frame numbers in them, and takes and gives back pages
 * of fake_port's RAM (fake_page_hold(): poisoned while the device holds
 * them).  It implements struct virtio_transport_ops, so viomb_attach()
 * runs unchanged over it.
 *
 * The driver sees the model either through its ops table directly
 * (dm_attach(), transport "fake") or through the real pci-modern and mmio
 * transports, whose register accesses the model serves (dm_attach_regs(),
 * tests/harness/devregs.c): only then do the transports' own code paths,
 * such as the config generation loop, run.
 *
 * By default it behaves like QEMU: buffers are consumed and returned when
 * the driver notifies.  Knobs make it misbehave: hold buffers, never
 * acknowledge, return bogus used entries, refuse FEATURES_OK, ask for a
 * reset, flap or tear num_pages.  dm_check() states the invariants that
 * must hold whatever the device did; tests and fuzzers call it after every
 * step.
 */
#ifndef DEVMODEL_H
#define DEVMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ballonet/balloon.h>

#include "fake_port.h"
#include "viomb.h"
#include "virtio.h"

#define DM_NQ		8	/* queues the model has registers for */

struct dm_queue {
	uint16_t	 max;		/* what queue_max reports; 0: absent */
	bool		 enabled;
	uint16_t	 size;
	bn_paddr_t	 desc, avail, used;
	uint16_t	 avail_seen;	/* next avail entry to consume */
	uint16_t	 used_idx;	/* the device's used->idx */
	uint16_t	 last_head;	/* the last descriptor consumed */
	uint16_t	 avail_at_ok;	/* avail idx when DRIVER_OK was set */
	uint16_t	*fifo;		/* consumed, not returned, oldest first */
	uint16_t	 nfifo;
	/*
	 * Per used ring entry: frames the device acknowledged there that the
	 * driver may not have seen yet, + inflate, - deflate.
	 */
	int32_t		*acked;
	unsigned	 notifies;
};

/* The registers of dm_attach_regs(): a window of fake_port's DMA area. */
enum dm_bus {
	DM_BUS_NONE,			/* dm_attach(): the ops table itself */
	DM_BUS_PCI_MODERN,		/* virtio-pci capabilities, BAR 0 */
	DM_BUS_MMIO,			/* virtio-mmio version 2 */
};

struct dm_regs {
	enum dm_bus	 bus;
	uint8_t		 pcicfg[256];	/* PCI configuration space, le */
	bn_paddr_t	 pa;		/* the window */
	uint32_t	 len;		/* its bytes */
	uint32_t	 dfsel, gfsel;	/* feature select registers */
	uint64_t	 gf;		/* driver features written so far */
	uint16_t	 qsel;		/* queue select */
	uint16_t	 qsize[DM_NQ];	/* queue size registers */
	uint64_t	 qdesc[DM_NQ], qdriver[DM_NQ], qdevice[DM_NQ];
	uint8_t		 gen;		/* config generation */
	bool		 tear_armed;	/* the next num_pages read tears */
	unsigned	 torn_reads;	/* num_pages reads that tore */
};

struct devmodel {
	struct virtio_dev vdev;		/* first: the ops get a pointer to it */
	struct fake_os	 os;
	/* dm_attach_regs(): the driver's device, over a real transport. */
	struct virtio_dev rvdev;
	struct dm_regs	 regs;

	/* Registers. */
	uint64_t	 offered, driver_features;
	uint8_t		 status;
	uint8_t		 isr;
	uint32_t	 num_pages, actual;
	uint32_t	 poison_val;
	uint8_t		 poison_status;	/* status when poison_val was written */
	struct dm_queue	 q[DM_NQ];

	/* Misbehaviour. */
	bool		 refuse_features_ok;	/* clear FEATURES_OK when set */
	bool		 stuck_reset;	/* a reset never completes */
	bool		 fixed_size;	/* legacy: a queue's size must be max */
	bool		 hold;		/* notify does nothing */
	bool		 no_ack;	/* notify consumes, never returns */
	uint32_t	 used_len;	/* len in the used entries */
	uint32_t	 flap_pages;	/* nonzero: num_pages reads alternate */
	/*
	 * num_pages reads mix old and new: every other read over the ops
	 * table; over dm_attach_regs(), the first read after each change,
	 * which moves the config generation as a device does whose config
	 * changed during the read (2.5.1).
	 */
	bool		 tear;
	uint32_t	 old_pages;	/* num_pages before the last change */
	unsigned	 reads;		/* config reads of num_pages */
	bool		 tick;		/* each config read: the clock + 1 ms */

	/*
	 * Queues past deflateq (stats, reporting) do nothing on a notify but
	 * count it and call this, when set; "arg" is the test's.
	 */
	void		(*on_notify)(struct devmodel *, int qi);
	void		*arg;

	/* What the device saw. */
	unsigned	 resets, inflates, deflates, max_batch;
	unsigned	 bad_frames;	/* frame numbers the device refused */
	unsigned	 not_zeroed;	/* inflated pages with guest data */
	unsigned	 violations;	/* driver broke the spec */
	char		 violation[128];	/* the first one */
	uint32_t	 actual_hist[256];
	unsigned	 nactual;

	/* The driver under test and the guest's own use of memory. */
	struct viomb_config cfg;
	struct viomb_softc *sc;
	uint64_t	*bitmap;
	bn_paddr_t	*in_use;	/* pages the "guest" took */
	uint64_t	 nin_use;
};

/* A QEMU-like device and a driver not yet attached; RAM is dirty. */
struct devmodel *dm_new(uint64_t ram_pages);
void	 dm_free(struct devmodel *dm);
int	 dm_attach(struct devmodel *dm) BN_MUST_CHECK;
/*
 * Attach the driver through a real transport over the model's registers:
 * virtio_pci_attach() or virtio_mmio_attach(), then viomb_attach().
 */
int	 dm_attach_regs(struct devmodel *dm, enum dm_bus bus) BN_MUST_CHECK;
/* Undo it: viomb_detach(), virtio_detach(). */
void	 dm_detach_regs(struct devmodel *dm);

/* The test process's address of guest-physical "pa", NULL outside. */
uint8_t	*dm_va(struct devmodel *dm, bn_paddr_t pa);

/*
 * The index the device gives queue "vq", -1 when it has none.  Like QEMU
 * 7.2 it numbers them by the features it offers, not by those the driver
 * accepts: inflate 0, deflate 1, then stats, free page hints and
 * reporting, each only when offered.  Written out here, not taken from
 * the driver, so that the two can disagree.
 */
int	 dm_vq_index(const struct devmodel *dm, enum viomb_vq vq);

/* Take every new buffer of queue "qi"; returns how many. */
unsigned dm_consume(struct devmodel *dm, int qi);
/* Return up to n consumed buffers, oldest first; returns how many. */
unsigned dm_complete(struct devmodel *dm, int qi, unsigned n);
/* Both: what a well-behaved device does on a notification. */
void	 dm_process(struct devmodel *dm, int qi);
/* Return consumed buffer "id" out of order; false when none is. */
bool	 dm_complete_id(struct devmodel *dm, int qi, uint16_t id);
/* Write a used entry as it comes, valid or not. */
void	 dm_push_used(struct devmodel *dm, int qi, uint32_t id, uint32_t len);

/* The device asks for a reset (2.1.2), or forgets everything on its own. */
void	 dm_needs_reset(struct devmodel *dm);
void	 dm_lose_state(struct devmodel *dm);
/* A new num_pages and a configuration-change interrupt. */
void	 dm_set_num_pages(struct devmodel *dm, uint32_t pages);

/* The guest takes n pages for itself and writes them, or gives n back. */
uint64_t dm_use(struct devmodel *dm, uint64_t n);
void	 dm_unuse(struct devmodel *dm, uint64_t n);

/*
 * Run the worker until the balloon settles; false if it never does.  A
 * device neither holding nor refusing acknowledgements also processes
 * buffers it had left aside.
 */
bool	 dm_settle(struct devmodel *dm, int runs);

/*
 * The invariants: the engine's books; free + ballooned + in use = total;
 * no page both free and ballooned; the device holds exactly the pages the
 * balloon has plus those it took and has not acknowledged; actual = the
 * balloon; no held page reused or written; the driver kept to the spec.
 * NULL when all hold, else what failed.
 */
const char *dm_check(struct devmodel *dm);

#endif /* DEVMODEL_H */
