/*
 * ballonet: what the virtio front-ends and transports need from the OS
 * beyond include/ballonet/port.h.
 *
 * A port that embeds virtio/ implements every function declared here; a
 * port without virtio (Xen only, say) implements none of them.  The
 * reference guest's implementation is guest/port.c and guest/port_feat.c,
 * the unit tests' is tests/unit/fake_port.c.
 *
 * Addresses.  Device memory and registers are named by guest-physical
 * address ("pa").  Memory a device reads or writes (rings, request buffers,
 * reported ranges) is named by the address the device must use, which the
 * port hands out: bn_port_dma_alloc() and bn_port_dma_addr().  Behind an
 * IOMMU, or in a confidential guest whose devices only reach shared
 * memory (VIRTIO_F_ACCESS_PLATFORM), that address is the port's to make;
 * the reference guest has neither, and its device addresses are the
 * guest-physical ones.  Balloon frame numbers are not DMA addresses: they
 * name guest-physical pages, and the host looks them up as such (VIRTIO
 * 1.2, 5.5.6).
 *
 * Context.  Every hook here runs in worker context, except the register
 * accessors (bn_port_mmio_read(), bn_port_io_read() and their writes),
 * which the interrupt handler also calls to read and acknowledge the ISR.
 * None may block.
 */
#ifndef BALLONET_VIRTIO_PORT_H
#define BALLONET_VIRTIO_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <ballonet/port.h>

/*
 * Memory shared with a device.
 */

/*
 * Physically contiguous, zeroed, aligned to 4 KiB, never freed while the
 * device is attached.  Returns a pointer the CPU may use and stores the
 * address the device must use in *pa, or NULL.  Called at attach time only.
 */
void *bn_port_dma_alloc(void *os, size_t bytes, bn_paddr_t *pa);

/* Release memory from bn_port_dma_alloc() (detach, or attach failure). */
void bn_port_dma_free(void *os, void *va, size_t bytes);

/*
 * The address a device must use for the "len" bytes of guest memory at
 * "pa" (free page reports), in *addr; they must stay reachable at that
 * address until the device returns them.  0, or nonzero when the device
 * cannot reach them (the front-end refuses the range).
 */
int bn_port_dma_addr(void *os, bn_paddr_t pa, size_t len, bn_paddr_t *addr);

/*
 * Device registers.  "pcidev" is the opaque handle the OS passed to the
 * PCI transport's attach function.
 */

/*
 * Make "len" bytes of device registers at "pa" accessible: uncached, and
 * accessed only through bn_port_mmio_read() and bn_port_mmio_write().
 * NULL on failure.  Attach time only.
 */
volatile void *bn_port_mmio_map(void *os, bn_paddr_t pa, size_t len);

/* Undo bn_port_mmio_map() (detach, or attach failure); NULL is ignored. */
void bn_port_mmio_unmap(void *os, volatile void *va, size_t len);

/*
 * One access of "width" bytes (1, 2 or 4, naturally aligned) to a mapped
 * register: a single load or store, never split or merged (VIRTIO 1.2,
 * 4.2.2.2), in the CPU's byte order; the transports convert from the
 * registers' little-endian.  A plain volatile access where registers are
 * memory; a port whose registers are not (a hypervisor call in a
 * confidential guest, a bus-space API, a device model) does what it needs.
 */
uint32_t bn_port_mmio_read(void *os, const volatile void *reg, int width);
void bn_port_mmio_write(void *os, volatile void *reg, int width, uint32_t val);

/* PCI configuration space of the device, little-endian, naturally aligned. */
uint32_t bn_port_pci_cfg_read(void *os, void *pcidev, uint16_t off, int width);
void bn_port_pci_cfg_write(void *os, void *pcidev, uint16_t off, int width,
    uint32_t val);

/* x86-style I/O ports (legacy virtio-pci BAR 0); width is 1, 2 or 4 bytes. */
uint32_t bn_port_io_read(void *os, uint32_t port, int width);
void bn_port_io_write(void *os, uint32_t port, int width, uint32_t val);

/*
 * Memory statistics for the host (virtio statsq, VIRTIO 1.2, 5.5.6.3).
 * Tags are the VIRTIO_BALLOON_S_* numbers; bytes unless said otherwise.
 */
#define BN_MEMSTAT_SWAP_IN	0	/* bytes swapped in */
#define BN_MEMSTAT_SWAP_OUT	1	/* bytes swapped out */
#define BN_MEMSTAT_MAJFLT	2	/* major faults, a count */
#define BN_MEMSTAT_MINFLT	3	/* minor faults, a count */
#define BN_MEMSTAT_MEMFREE	4	/* memory not used for anything */
#define BN_MEMSTAT_MEMTOT	5	/* memory the OS manages */
#define BN_MEMSTAT_AVAIL	6	/* available to new work, no swapping */
#define BN_MEMSTAT_CACHES	7	/* quickly reclaimable */
#define BN_MEMSTAT_HTLB_PGALLOC	8	/* huge page allocations, a count */
#define BN_MEMSTAT_HTLB_PGFAIL	9	/* failed huge page allocations */
#define BN_MEMSTAT_MAX		16	/* entries a port may fill */

struct bn_memstat {
	uint16_t	tag;		/* BN_MEMSTAT_* */
	uint64_t	val;		/* bytes or a count, as the tag says */
};

/*
 * Fill up to "max" entries with the statistics the OS really keeps (omit
 * what it cannot know; never invent a value) and return how many.  Every
 * call must return the same tags (5.5.6.3): the front-end keeps the set of
 * the first call.
 */
size_t bn_port_mem_stats(void *os, struct bn_memstat *st, size_t max);

#endif /* BALLONET_VIRTIO_PORT_H */
