/*
 * ballonet: the OS port.
 *
 * This header is the whole contract between the portable parts of ballonet
 * (engine/, virtio/, xen/) and the operating system that embeds them.  The
 * port implements every function declared here; nothing else is needed.
 * The reference guest's port is guest/port.c, the unit tests' port is
 * tests/unit/fake_port.c.
 *
 * Execution model.  ballonet never creates threads and never sleeps.  The
 * OS runs one worker (a thread, a softint, or its idle loop) that calls
 * bn_balloon_run() whenever bn_port_wakeup() was called or the delay that
 * bn_balloon_run() returned has passed.  Interrupt handlers of the
 * front-ends only acknowledge the device and call bn_port_wakeup().
 *
 * "os" is the opaque handle the OS passed to bn_balloon_init(); it comes
 * back unchanged in every hook so that one OS may run several balloons.
 *
 * Like every freestanding C target, the OS also provides memset, memcpy,
 * memmove and memcmp: compilers emit calls to them for plain struct copies.
 *
 * Addresses.  A "pa" is a guest-physical address.  Pages are 4 KiB
 * (BN_PAGE_SIZE) whatever the OS page size: a port with larger pages hands
 * out and takes back 4 KiB pieces.  A device may see memory through an
 * IOMMU or a bounce window (virtio's VIRTIO_F_ACCESS_PLATFORM, accepted
 * whenever offered): every address a device is given for DMA is one the
 * port handed out, from bn_port_dma_alloc() or bn_port_dma_addr().  Frame
 * numbers in balloon requests are not DMA addresses: they name
 * guest-physical pages, and the host looks them up as such (VIRTIO 1.2,
 * 5.5.6).  The reference guest has no IOMMU: its device addresses are the
 * guest-physical ones.
 */
#ifndef BALLONET_PORT_H
#define BALLONET_PORT_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t bn_paddr_t;

/* Log levels for bn_port_log(). */
#define BN_LOG_ERR	0	/* something was refused or lost */
#define BN_LOG_WARN	1	/* a target cannot be reached, a retry */
#define BN_LOG_INFO	2	/* attach, features, state changes */
#define BN_LOG_DEBUG	3	/* per batch; a port may drop these */

/*
 * Pages.
 */

/*
 * Take one 4 KiB page from the OS allocator for the balloon and store its
 * guest-physical address in *pa.  Returns 0, or nonzero when the OS keeps
 * its remaining free pages for itself; the engine then backs off.
 * Worker context; must not block.
 */
int bn_port_page_alloc(void *os, bn_paddr_t *pa);

/*
 * Give a page taken with bn_port_page_alloc() back to the OS allocator.
 * The engine frees only pages that went through bn_port_page_zero() or
 * came back from the host: they hold no guest data, and a port may
 * remember that.
 */
void bn_port_page_free(void *os, bn_paddr_t pa);

/*
 * Called before the page's frame number leaves the guest.  After this the
 * page holds no guest data: nothing the OS or its users wrote (balloon.4,
 * SECURITY CONSIDERATIONS).  Filling it with zeroes does; a port may skip
 * pages it knows hold none (never written since a cold boot, or back from
 * the host through bn_port_page_free()).  The engine relies on nothing
 * else: such a page may hold zeroes, a poison value or what the host left.
 */
void bn_port_page_zero(void *os, bn_paddr_t pa);

/*
 * Fill a page with a 32-bit pattern, repeated, little-endian: the poison
 * value of VIRTIO_BALLOON_F_PAGE_POISON (VIRTIO 1.2, 5.5.6.4).  Called only
 * when the OS asked for poisoning (bn_config.poison).
 */
void bn_port_page_fill(void *os, bn_paddr_t pa, uint32_t pattern);

/*
 * Free pages the OS must keep for itself (its own low-water mark).  The
 * engine refuses a "min" below this plus BN_SAFEGUARD_EXTRA pages.
 */
uint64_t bn_port_reserved_pages(void *os);

/*
 * Memory shared with a device: physically contiguous, zeroed, aligned to
 * 4 KiB, never freed while the device is attached.  Returns a pointer the
 * CPU may use and stores the address the device must use in *pa, or NULL.
 * Called at attach time only.
 */
void *bn_port_dma_alloc(void *os, size_t bytes, bn_paddr_t *pa);

/* Release memory from bn_port_dma_alloc() (detach, or attach failure). */
void bn_port_dma_free(void *os, void *va, size_t bytes);

/*
 * The address a device must use for the "len" bytes of guest memory at
 * "pa" (free page reports), in *addr; they must stay reachable at that
 * address until the device returns them.  0, or nonzero when the device
 * cannot reach them (the front-end refuses the range).  Worker context;
 * must not block.  Identity where devices see guest-physical memory.
 */
int bn_port_dma_addr(void *os, bn_paddr_t pa, size_t len, bn_paddr_t *addr);

/*
 * Time and scheduling.
 */

/* Milliseconds since an arbitrary epoch; monotonic.  Any context. */
uint64_t bn_port_now_ms(void *os);

/*
 * Ask the OS to call bn_balloon_run() soon.  Safe from interrupt context;
 * calling it twice before the worker runs is harmless.
 */
void bn_port_wakeup(void *os);

/* Memory barrier between ring updates and device notification. */
void bn_port_mb(void *os);

/*
 * Device access, used by the virtio transports only.  "pcidev" is the
 * opaque handle the OS passed to the PCI transport's attach function.
 */

/* Make "len" bytes of device registers at "pa" accessible; NULL on failure. */
volatile void *bn_port_mmio_map(void *os, bn_paddr_t pa, size_t len);

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
	uint64_t	val;
};

/*
 * Fill up to "max" entries with the statistics the OS really keeps (omit
 * what it cannot know; never invent a value) and return how many.  Every
 * call must return the same tags (5.5.6.3): the front-end keeps the set of
 * the first call.  Worker context; must not block.
 */
size_t bn_port_mem_stats(void *os, struct bn_memstat *st, size_t max);

/*
 * Diagnostics.  "msg" is one line without a trailing newline; the engine
 * has already put the instance name in front of it ("viomb0: ...").
 */
void bn_port_log(void *os, int level, const char *msg);

#endif /* BALLONET_PORT_H */
