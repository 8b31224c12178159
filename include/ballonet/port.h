/*
 * ballonet: the OS port.
 *
 * This header is the contract between the portable engine and the
 * operating system that embeds it; every port implements each function
 * declared here.  A front-end adds what it needs on top: virtio's device
 * memory and registers in virtio/virtio_port.h, Xen's hypercalls in
 * xen/xen_port.h; a port implements those of the front-ends it builds.
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
 * out and takes back 4 KiB pieces.  Addresses a device uses for DMA are
 * the port's to give (virtio/virtio_port.h, VIRTIO_F_ACCESS_PLATFORM).
 *
 * Context.  "Worker context" is the OS's one worker described above:
 * it may take the OS's own locks but must not sleep, so no hook may
 * block.  "Any context" includes interrupt handlers.
 *
 * 32-bit ports.  bn_paddr_t and frame numbers are 64 bits on every CPU, so
 * an OS with PAE or LPAE hands out pages above 4 GiB as they are: the
 * portable code never dereferences a pa; bn_port_page_zero() and
 * bn_port_page_fill() map the page if it lies outside the kernel's own
 * mapping.  virtio-balloon carries 32-bit frame numbers: viomb refuses
 * frames at or above 16 TiB, as the legacy transports do for their rings.
 * xen/ speaks the hypercall layouts of x86-64 and Arm (32- and 64-bit
 * alike: 64-bit guest handles and xen_pfn_t), not those of 32-bit x86
 * guests.  64-bit arithmetic calls the compiler's runtime (libgcc's
 * __udivdi3 or __aeabi_uldivmod, __popcountdi2, __ctzdi2): link it.
 * `make cross` builds it all for i386, Cortex-M3 and Cortex-A7.
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
#define BN_LOG_DEBUG	3	/* per request, -DBN_DEBUG builds only */

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
 * The engine's way to fill a request: up to "n" pages, each taken as
 * bn_port_page_alloc() and then zeroed as bn_port_page_zero() would, their
 * frame numbers (pa >> 12) stored in pfns[].  Returns how many; fewer than
 * "n" when the OS keeps its remaining free pages for itself.  Same context
 * as bn_port_page_alloc().
 */
uint32_t bn_port_pages_alloc(void *os, uint64_t *pfns, uint32_t n);

/*
 * Give a page taken with bn_port_page_alloc() back to the OS allocator.
 * The engine frees only pages that went through bn_port_page_zero() or
 * came back from the host: they hold no guest data, and a port may
 * remember that.  With bn_config.poison every such page was filled with
 * bn_port_page_fill() just before: the port need not fill it again.
 * Worker context (also from bn_balloon_reclaim(), which the OS may call
 * from its allocator's out-of-memory path); must not block, and must not
 * allocate.
 */
void bn_port_page_free(void *os, bn_paddr_t pa);

/*
 * bn_port_page_free() for each of the "n" frame numbers (pa >> 12) in
 * "pfns", with the same guarantees: the engine's way to give back a whole
 * request at once.  They come mostly in ascending order (the engine's
 * bitmap order), so a port with a bitmap allocator may free a word at a
 * time.
 */
void bn_port_pages_free(void *os, const uint64_t *pfns, uint32_t n);

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
 * when the OS asked for poisoning (bn_config.poison), for every page the
 * engine gives back to bn_port_page_free(), in worker context (as
 * bn_port_page_free()); must not block.
 */
void bn_port_page_fill(void *os, bn_paddr_t pa, uint32_t pattern);

/*
 * Free pages the OS must keep for itself (its own low-water mark).  The
 * engine refuses a "min" below this plus BN_SAFEGUARD_EXTRA pages.
 */
uint64_t bn_port_reserved_pages(void *os);

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

/*
 * A full memory barrier (loads and stores, CPU and device): between ring
 * updates and device notification.  Any context; never blocks.
 */
void bn_port_mb(void *os);

/*
 * Diagnostics.  "msg" is one line without a trailing newline; the engine
 * has already put the instance name in front of it ("viomb0: ...").
 * Worker context, never from an interrupt handler; must not block (a port
 * with a slow console queues the line), and "msg" does not outlive the
 * call.
 */
void bn_port_log(void *os, int level, const char *msg);

#endif /* BALLONET_PORT_H */
