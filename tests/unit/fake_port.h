/*
 * A test-only OS port: guest "RAM" is a host buffer, the clock moves only
 * when a test advances it, and the allocator can be told to fail.
 *
 * Pages a device holds (ballooned, or taken from an inflate request that
 * is not acknowledged yet) are marked "held" and filled with FAKE_POISON.
 * Freeing, zeroing or handing out a held page counts in "reused"; a held
 * page whose poison changed when the device gives it back counts in
 * "written".  Both must stay zero.
 */
#ifndef FAKE_PORT_H
#define FAKE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/port.h>

#include "virtio_port.h"

struct bn_balloon;

#define FAKE_RAM_BASE	0x100000ull	/* guest-physical address of page 0 */
#define FAKE_DMA_BASE	0x80000000ull	/* DMA area, outside "RAM" */
#define FAKE_DMA_BYTES	(1u << 20)
#define FAKE_POISON	0x5b	/* fills the pages a device holds */

/*
 * A device model's registers (tests/harness/devregs.c): register accesses
 * inside the window and PCI configuration space go here.  Offsets are
 * from the window's start; values are in host order.
 */
struct fake_bus {
	uint32_t (*reg_read)(void *arg, uint32_t off, int width);
	void	 (*reg_write)(void *arg, uint32_t off, int width, uint32_t val);
	uint32_t (*cfg_read)(void *arg, uint16_t off, int width);
	void	 (*cfg_write)(void *arg, uint16_t off, int width, uint32_t val);
};

struct fake_os {
	uint8_t		*ram;		/* npages * 4096 bytes */
	uint64_t	 npages;
	bool		*used;		/* page handed out by page_alloc */
	uint64_t	 nused;
	uint64_t	 reserved;	/* bn_port_reserved_pages() */
	long		 fail_after;	/* allocs left before refusals; <0 never */
	long		 dma_fail_after; /* the same for bn_port_dma_alloc() */
	uint64_t	 zeroed;	/* bn_port_page_zero() calls */
	uint64_t	 double_free;	/* frees of pages not handed out */
	bool		*held;		/* page held by the device */
	uint64_t	 nheld;
	uint64_t	 reused;	/* held pages freed, zeroed or handed out */
	uint64_t	 written;	/* held pages changed while held */
	uint8_t		*dma;
	size_t		 dma_used;
	/* More memory a test maps outside RAM (a hot-plug window); NULL. */
	uint8_t		*extra;
	bn_paddr_t	 extra_base;
	uint64_t	 extra_bytes;
	uint64_t	 now_ms;
	uint64_t	 wakeups;
	char		 log[64][256];	/* the last lines logged */
	unsigned	 nlog;
	uint64_t	 filled;	/* bn_port_page_fill() calls */
	uint32_t	 last_fill;	/* its last pattern */
	/* What bn_port_mem_stats() returns: nstats entries of stats[]. */
	struct bn_memstat stats[BN_MEMSTAT_MAX + 4];
	size_t		 nstats;
	uint64_t	 stats_calls;
	/* Registers: plain memory, unless a bus claims the window. */
	const struct fake_bus *bus;
	void		*bus_arg;
	bn_paddr_t	 regs_pa;	/* the window in the DMA area */
	size_t		 regs_len;	/* bytes */
	unsigned	 maps;		/* bn_port_mmio_map() successes */
	unsigned	 unmaps;	/* bn_port_mmio_unmap() of those */
	/*
	 * When set, an allocation that finds no free page first calls
	 * bn_balloon_reclaim() on this balloon, as an OS's OOM path would,
	 * and retries once if it got pages.  The last result is kept.
	 */
	struct bn_balloon *oom_balloon;
	unsigned	 oom_calls;
	int		 oom_error;
	uint64_t	 oom_got;
};

void	 fake_os_init(struct fake_os *os, uint64_t npages);
void	 fake_os_fini(struct fake_os *os);
/* Address of guest "physical" memory (RAM or DMA) in the test process. */
void	*fake_pa_to_va(struct fake_os *os, bn_paddr_t pa);
/* Frame number of RAM page i, and the highest frame number + 1. */
uint64_t fake_first_pfn(void);
uint64_t fake_max_pfn(const struct fake_os *os);
/*
 * The device takes the page at "pa" (true), or gives it back zero-filled
 * (false), as a host does that discards ballooned memory.  Either way it
 * returns false when the page was not in the state it expected: not RAM,
 * held twice, or written while held.
 */
bool	 fake_page_hold(struct fake_os *os, bn_paddr_t pa, bool hold);
bool	 fake_page_held(const struct fake_os *os, bn_paddr_t pa);
/* True when a logged line contains "needle". */
bool	 fake_log_contains(const struct fake_os *os, const char *needle);
unsigned fake_log_count(const struct fake_os *os, const char *needle);

#endif /* FAKE_PORT_H */
