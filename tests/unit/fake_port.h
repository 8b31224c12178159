/*
 * A test-only OS port: guest "RAM" is a host buffer, the clock moves only
 * when a test advances it, and the allocator can be told to fail.
 */
#ifndef FAKE_PORT_H
#define FAKE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/port.h>

#define FAKE_RAM_BASE	0x100000ull	/* guest-physical address of page 0 */
#define FAKE_DMA_BASE	0x80000000ull	/* DMA area, outside "RAM" */
#define FAKE_DMA_BYTES	(1u << 20)

struct fake_os {
	uint8_t		*ram;		/* npages * 4096 bytes */
	uint64_t	 npages;
	bool		*used;		/* page handed out by page_alloc */
	uint64_t	 nused;
	uint64_t	 reserved;	/* bn_port_reserved_pages() */
	long		 fail_after;	/* allocs left before refusals; <0 never */
	uint64_t	 zeroed;	/* bn_port_page_zero() calls */
	uint64_t	 double_free;	/* frees of pages not handed out */
	uint8_t		*dma;
	size_t		 dma_used;
	uint64_t	 now_ms;
	uint64_t	 wakeups;
	char		 log[64][256];	/* the last lines logged */
	unsigned	 nlog;
};

void	 fake_os_init(struct fake_os *os, uint64_t npages);
void	 fake_os_fini(struct fake_os *os);
/* Address of guest "physical" memory (RAM or DMA) in the test process. */
void	*fake_pa_to_va(struct fake_os *os, bn_paddr_t pa);
/* Frame number of RAM page i, and the highest frame number + 1. */
uint64_t fake_first_pfn(void);
uint64_t fake_max_pfn(const struct fake_os *os);
/* True when a logged line contains "needle". */
bool	 fake_log_contains(const struct fake_os *os, const char *needle);
unsigned fake_log_count(const struct fake_os *os, const char *needle);

#endif /* FAKE_PORT_H */
