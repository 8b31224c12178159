/*
 * Physical memory: the boot memory map and the page allocator.
 *
 * One bit per 4 KiB frame, set while the frame is free.  Free frames are
 * never written, so that the host commits only pages the guest really
 * uses; that is what makes reclaim by ballooning measurable.
 *
 * A second bitmap says which frames are "clean": they hold no guest data,
 * so the balloon may give them to the host without zeroing them.  At a
 * cold boot every free frame is clean (fresh guest RAM reads as zero under
 * QEMU and Xen); a frame turns dirty when pmem_alloc() or
 * pmem_alloc_contig() hands it out and stays dirty when pmem_free() takes
 * it back; it is clean again when the balloon gives it back
 * (pmem_free_clean(): it came back from the host, or was zeroed on its way
 * out).  A warm reset keeps RAM: pmem_setup() tells one from a cold boot
 * by a magic frame it keeps out of the allocator, and after a warm boot
 * every frame starts dirty.
 */
#ifndef GUEST_PMEM_H
#define GUEST_PMEM_H

#include <stdint.h>

#define PAGE_SIZE	4096u
#define PAGE_SHIFT	12
#define IDENTITY_LIMIT	(64ull << 30)	/* boot.S maps [0, this) 1:1 */

struct mb_info;

struct pmem_region {
	uint64_t	start;		/* bytes */
	uint64_t	end;		/* bytes, exclusive */
};

#define PMEM_REGIONS_MAX	32
#define PMEM_RANGES_MAX		4

/*
 * Memory that comes and goes above the boot RAM (virtio-mem; a Xen
 * hot-plug can use the same calls).  pmem_add_range() sets up the books
 * for the whole range at once, every page absent, so that growing needs no
 * allocation.  A page is "present" between pmem_online_range() and
 * pmem_take_range(); only present pages are ever handed out, and nothing
 * here reads or writes an absent page (virtio-mem's
 * UNPLUGGED_INACCESSIBLE).  Hot pages are allocated only when the boot
 * RAM has none left, lowest first, so the highest blocks stay free for an
 * unplug; the balloon never takes them (pmem_take()).  A hot page is clean
 * (pmem_is_clean()) from its online until a group of 64 pages around it is
 * handed out: what Xen's hot-plug zeroes before it gives blocks back.
 */
struct pmem_range {
	uint64_t	 base;		/* bytes, page aligned */
	uint64_t	 end;		/* bytes, exclusive */
	uint64_t	*map;		/* 1 bit per frame from base, set = free */
	uint64_t	*present;	/* 1 bit per frame, set = present */
	uint64_t	*dirty;		/* 1 bit per word of map: handed out */
	uint64_t	 nwords;	/* words in each */
	uint64_t	 cursor;	/* word where allocation looks first */
};

struct pmem {
	struct pmem_region regions[PMEM_REGIONS_MAX];	/* usable RAM */
	int		 nregions;
	uint64_t	 ram_pages;	/* sum of usable regions */
	uint64_t	 low_top;	/* end of the highest region below 4 GiB */
	uint64_t	 high_pages;	/* usable pages above 4 GiB */
	uint64_t	 max_pfn;	/* highest usable frame + 1 */
	uint64_t	*map;		/* 1 bit per frame, set = free */
	uint64_t	 nwords;	/* 64-bit words in map */
	uint64_t	 cursor;	/* word where allocation looks first */
	uint64_t	 total_pages;	/* frames the allocator manages */
	uint64_t	 free_pages;
	uint64_t	*balloon_map;	/* zeroed, BN_BITMAP_BYTES(max_pfn) */
	uint64_t	 first_free;	/* bytes: end of kernel and boot data */
	/*
	 * Boot option poison=BYTE: pmem_free() fills pages with poison_val;
	 * the balloon's engine fills those it gives back (bn_config.poison).
	 */
	int		 poison;
	uint32_t	 poison_val;	/* the byte, four times */
	uint64_t	*clean;		/* 1 bit per frame, set = no guest data */
	uint64_t	 magic_pa;	/* the warm boot marker; 0: none */
	int		 warm_boot;	/* RAM may hold data: all frames dirty */
	/* Boot option zero=always: the balloon zeroes clean frames too. */
	int		 zero_always;
	uint64_t	 zeroed;	/* balloon pages zeroed (port.c) */
	uint64_t	 zero_skipped;	/* balloon pages known to hold no data */
	uint64_t	 idle_zeroed;	/* free pages zeroed in idle (zpage.c) */
	/* Hot-plugged memory, not in the counters above. */
	struct pmem_range ranges[PMEM_RANGES_MAX];
	int		 nranges;
	uint64_t	 hot_pages;	/* present */
	uint64_t	 hot_free_pages;	/* present and free */
};

extern struct pmem pmem;

int		pmem_init(const struct mb_info *mbi);
/* For other loaders: add usable RAM, then set up above "boot_end". */
void		pmem_add_region(uint64_t start, uint64_t end);
int		pmem_setup(uint64_t boot_end);
uint64_t	pmem_alloc(void);			/* 0: none left */
uint64_t	pmem_alloc_contig(uint64_t npages);	/* 0: none */
void		pmem_free(uint64_t pa);
/* The balloon's pages: taken without dirtying, given back clean. */
uint64_t	pmem_take(void);			/* 0: none left */
/* Up to "n" frame numbers into pfns[]; returns how many. */
uint32_t	pmem_take_pfns(uint64_t *pfns, uint32_t n);
void		pmem_free_clean(uint64_t pa);
/* The same for "n" frame numbers, cheapest when ascending. */
void		pmem_free_clean_pfns(const uint64_t *pfns, uint32_t n);
/* Does the frame at "pa" hold no guest data (see above)? */
int		pmem_is_clean(uint64_t pa);
/* From now on, fill every page freed with "byte" (poison=BYTE). */
void		pmem_set_poison(uint8_t byte);
/* Fill one page with a 32-bit pattern, repeated, little-endian. */
void		pmem_fill(uint64_t pa, uint32_t pattern);

uint64_t pmem_host_ram_pages(void);

/*
 * Hot-plugged ranges.  pmem_add_range(): books for [base, base + size),
 * taken from the boot RAM; -1 when they do not fit, the range overlaps RAM
 * or another range, or lies outside the identity map.  The others take
 * page-aligned pieces of one range.  pmem_online_range(): the pages are
 * present and free (pages already present are left alone).
 * pmem_take_range(): if every page is present and free, they are absent
 * now and 0 is returned; else -1 and nothing changed.
 */
int		pmem_add_range(uint64_t base, uint64_t size);
void		pmem_online_range(uint64_t pa, uint64_t len);
int		pmem_take_range(uint64_t pa, uint64_t len);

#endif /* GUEST_PMEM_H */
