/*
 * Physical page allocator: a bitmap over all usable RAM above the kernel.
 *
 * At boot only the kernel image, the page tables, the three bitmaps and
 * the warm boot marker are written.  A free frame is never touched (no
 * free list runs through it), so QEMU's resident size stays small until
 * the guest really uses memory.
 */
#include <stdbool.h>
#include <stddef.h>

#include <ballonet/balloon.h>

#include "console.h"
#include "multiboot.h"
#include "pmem.h"
#include "reporting.h"
#include "zpage.h"

#define LOW_LIMIT	(1ull << 20)	/* BIOS data, option ROMs: left alone */
#define MIB		(1ull << 20)
#define FOUR_GIB	(1ull << 32)
#define BOOT_MAGIC	0x74656e6f6c6c6162ull	/* "ballonet" */

extern char _kernel_end[];

struct pmem pmem;

static uint64_t
round_up(uint64_t x)
{
	return (x + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

static uint64_t
round_down(uint64_t x)
{
	return x & ~(uint64_t)(PAGE_SIZE - 1);
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void
pmem_add_region(uint64_t start, uint64_t end)
{
	struct pmem_region *r;

	start = round_up(start);
	end = round_down(end < IDENTITY_LIMIT ? end : IDENTITY_LIMIT);
	if (start >= end || pmem.nregions == PMEM_REGIONS_MAX)
		return;
	r = &pmem.regions[pmem.nregions++];
	r->start = start;
	r->end = end;
	pmem.ram_pages += (end - start) >> PAGE_SHIFT;
	pmem.max_pfn = max64(pmem.max_pfn, end >> PAGE_SHIFT);
	if (end <= FOUR_GIB)
		pmem.low_top = max64(pmem.low_top, end);
	else
		pmem.high_pages += (end - max64(start, FOUR_GIB)) >> PAGE_SHIFT;
}

/*
 * The RAM the host gave us, as the host counts it ("max" of balloon.4,
 * what QMP's balloon command is relative to).  Below 4 GiB the firmware
 * overlays ROM and keeps a few pages at the top for itself; they are RAM
 * all the same, so count up to the top of the highest usable region,
 * rounded to the MiB that memory sizes come in.  Above 4 GiB there are
 * no holes.
 */
uint64_t
pmem_host_ram_pages(void)
{
	uint64_t low = (pmem.low_top + MIB - 1) & ~(uint64_t)(MIB - 1);

	return (low >> PAGE_SHIFT) + pmem.high_pages;
}

static void
read_memory_map(const struct mb_info *mbi)
{
	const struct mb_mmap_entry *e;
	uintptr_t p, end;

	if ((mbi->flags & MB_INFO_MMAP) == 0) {
		if (mbi->flags & MB_INFO_MEM) {
			pmem_add_region(0, (uint64_t)mbi->mem_lower << 10);
			pmem_add_region(LOW_LIMIT,
			    LOW_LIMIT + ((uint64_t)mbi->mem_upper << 10));
		}
		return;
	}
	p = mbi->mmap_addr;
	end = p + mbi->mmap_length;
	while (p < end) {
		e = (const struct mb_mmap_entry *)p;
		if (e->type == MB_MMAP_AVAILABLE)
			pmem_add_region(e->addr, e->addr + e->len);
		p += e->size + 4;
	}
}

/* The loader puts its structures right after the image: keep them. */
static uint64_t
boot_data_end(const struct mb_info *mbi)
{
	uint64_t end = (uintptr_t)_kernel_end;
	const char *s;

	end = max64(end, (uintptr_t)mbi + sizeof(*mbi));
	if (mbi->flags & MB_INFO_MMAP)
		end = max64(end, (uint64_t)mbi->mmap_addr + mbi->mmap_length);
	if (mbi->flags & MB_INFO_CMDLINE) {
		for (s = (const char *)(uintptr_t)mbi->cmdline; *s != '\0'; s++)
			continue;
		end = max64(end, (uintptr_t)s + 1);
	}
	return round_up(end);
}

static void
zero_words(uint64_t *w, uint64_t n)
{
	while (n-- > 0)
		*w++ = 0;
}

/* Find room for the three bitmaps in the first region that has it. */
static int
carve_bitmaps(uint64_t *start, uint64_t *end)
{
	uint64_t bytes, need, s;
	int i;

	pmem.nwords = (pmem.max_pfn + 63) / 64;
	bytes = round_up(pmem.nwords * 8);
	need = 2 * bytes + round_up(BN_BITMAP_BYTES(pmem.max_pfn));
	for (i = 0; i < pmem.nregions; i++) {
		s = max64(pmem.regions[i].start, pmem.first_free);
		if (s + need > pmem.regions[i].end)
			continue;
		pmem.map = (uint64_t *)(uintptr_t)s;
		pmem.clean = (uint64_t *)(uintptr_t)(s + bytes);
		pmem.balloon_map = (uint64_t *)(uintptr_t)(s + 2 * bytes);
		zero_words(pmem.map, need / 8);
		*start = s;
		*end = s + need;
		return 0;
	}
	return -1;
}

static void
mark_free(uint64_t pfn, uint64_t end)
{
	for (; pfn < end && (pfn & 63) != 0; pfn++)
		pmem.map[pfn / 64] |= 1ull << (pfn & 63);
	for (; pfn + 64 <= end; pfn += 64)
		pmem.map[pfn / 64] = ~0ull;
	for (; pfn < end; pfn++)
		pmem.map[pfn / 64] |= 1ull << (pfn & 63);
}

/* Make [start, end) free, less the hole [hs, he). */
static void
free_range(uint64_t start, uint64_t end, uint64_t hs, uint64_t he)
{
	if (hs < end && he > start) {
		free_range(start, hs, 0, 0);
		free_range(he, end, 0, 0);
		return;
	}
	if (start >= end)
		return;
	mark_free(start >> PAGE_SHIFT, end >> PAGE_SHIFT);
	pmem.free_pages += (end - start) >> PAGE_SHIFT;
}

int
pmem_init(const struct mb_info *mbi)
{
	read_memory_map(mbi);
	return pmem_setup(boot_data_end(mbi));
}

static bool
is_free(uint64_t pfn)
{
	return (pmem.map[pfn / 64] >> (pfn & 63)) & 1;
}

static void
take_frame(uint64_t pfn)
{
	pmem.map[pfn / 64] &= ~(1ull << (pfn & 63));
	pmem.free_pages--;
}

static void
set_dirty(uint64_t pfn)
{
	pmem.clean[pfn / 64] &= ~(1ull << (pfn & 63));
}

static bool
frame_is_zero(const volatile uint64_t *p)
{
	size_t i;

	for (i = 0; i < PAGE_SIZE / 8; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * The warm boot marker: the last usable frame below 4 GiB, out of the
 * allocator.  Holding the magic and its complement, RAM survived a reset
 * (QEMU's system_reset keeps it); all zeroes, this is fresh RAM and the
 * marker is written now; anything else, RAM held something not ours.
 * True when RAM may hold data.
 */
static bool
check_warm(uint64_t pa)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)pa;

	if (p[0] == BOOT_MAGIC && p[1] == ~BOOT_MAGIC)
		return true;
	if (!frame_is_zero(p)) {
		kprintf("pmem: boot marker frame not zero: RAM is not fresh\n");
		return true;
	}
	p[0] = BOOT_MAGIC;
	p[1] = ~BOOT_MAGIC;
	return false;
}

/* Keep the marker out of the allocator; 0 if there is no room for it. */
static uint64_t
reserve_marker(uint64_t cs, uint64_t ce)
{
	uint64_t pa = pmem.low_top - PAGE_SIZE;

	if (pmem.low_top < pmem.first_free + PAGE_SIZE ||
	    (pa >= cs && pa < ce) || !is_free(pa >> PAGE_SHIFT))
		return 0;
	take_frame(pa >> PAGE_SHIFT);
	return pa;
}

/* Cold boot: every free frame is clean; else none is. */
static void
init_clean(uint64_t cs, uint64_t ce)
{
	uint64_t w;

	pmem.magic_pa = reserve_marker(cs, ce);
	pmem.warm_boot = 1;
	if (pmem.magic_pa == 0) {
		kprintf("pmem: no room for the boot marker, zeroing every page\n");
		return;
	}
	if (check_warm(pmem.magic_pa)) {
		kprintf("pmem: warm boot, zeroing every page\n");
		return;
	}
	pmem.warm_boot = 0;
	for (w = 0; w < pmem.nwords; w++)
		pmem.clean[w] = pmem.map[w];
}

int
pmem_setup(uint64_t boot_end)
{
	uint64_t cs, ce, s;
	int i;

	pmem.first_free = max64(round_up(boot_end), LOW_LIMIT);
	if (pmem.nregions == 0 || carve_bitmaps(&cs, &ce) != 0)
		return -1;
	for (i = 0; i < pmem.nregions; i++) {
		s = max64(pmem.regions[i].start, pmem.first_free);
		free_range(s, pmem.regions[i].end, cs, ce);
	}
	init_clean(cs, ce);
	pmem.total_pages = pmem.free_pages;
	pmem.cursor = (pmem.first_free >> PAGE_SHIFT) / 64;
	return 0;
}

uint64_t
pmem_take(void)
{
	uint64_t n, w, bit;

	/* Out of memory: reports in flight, then the balloon (oom.c). */
	if (pmem.free_pages == 0 && pmem_oom() == 0)
		return 0;
	for (n = 0; n < pmem.nwords; n++) {
		w = pmem.cursor;
		if (pmem.map[w] != 0) {
			bit = (uint64_t)__builtin_ctzll(pmem.map[w]);
			take_frame(w * 64 + bit);
			return (w * 64 + bit) << PAGE_SHIFT;
		}
		pmem.cursor = w + 1 == pmem.nwords ? 0 : w + 1;
	}
	return 0;
}

/*
 * pmem_take() for up to "n" frames, a bitmap word at a time; their frame
 * numbers into pfns[].  Returns how many (fewer: no free frame left).
 */
uint32_t
pmem_take_pfns(uint64_t *pfns, uint32_t n)
{
	uint64_t scanned, w, bits;
	uint32_t got = 0;

	for (scanned = 0; got < n && scanned < pmem.nwords; scanned++) {
		w = pmem.cursor;
		bits = pmem.map[w];
		while (bits != 0 && got < n) {
			pfns[got++] = w * 64 + (uint64_t)__builtin_ctzll(bits);
			bits &= bits - 1;
		}
		pmem.map[w] = bits;
		if (bits != 0)
			break;
		pmem.cursor = w + 1 == pmem.nwords ? 0 : w + 1;
	}
	pmem.free_pages -= got;
	return got;
}

static uint64_t hot_take(void);
static bool hot_free(uint64_t pa, bool fill);

/* The boot RAM first, then hot-plugged memory, then the OOM path. */
uint64_t
pmem_alloc(void)
{
	uint64_t pa = 0;

	if (pmem.free_pages == 0 && pmem.hot_free_pages > 0)
		pa = hot_take();
	if (pa != 0)
		return pa;
	pa = pmem_take();
	if (pa != 0)
		set_dirty(pa >> PAGE_SHIFT);
	return pa;
}

static int hot_is_clean(uint64_t pa);

int
pmem_is_clean(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (pfn >= pmem.max_pfn)
		return hot_is_clean(pa);
	return (pmem.clean[pfn / 64] >> (pfn & 63)) & 1;
}

/* First fit; attach time only, so a linear scan is good enough. */
uint64_t
pmem_alloc_contig(uint64_t npages)
{
	uint64_t pfn, run, first, i;

	if (npages == 0 || npages > pmem.free_pages)
		return 0;
	run = 0;
	first = 0;
	for (pfn = 0; pfn < pmem.max_pfn; pfn++) {
		if (!is_free(pfn)) {
			run = 0;
			continue;
		}
		if (run++ == 0)
			first = pfn;
		if (run == npages)
			break;
	}
	if (run < npages)
		return 0;
	for (i = first; i < first + npages; i++) {
		take_frame(i);
		set_dirty(i);
	}
	return first << PAGE_SHIFT;
}

/*
 * Plain unrolled stores: under TCG they run several times faster than
 * `rep stosq` (zpage.c); no memset idiom either.
 */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void
pmem_fill(uint64_t pa, uint32_t pattern)
{
	uint64_t *p = (uint64_t *)(uintptr_t)pa;
	uint64_t v = (uint64_t)pattern << 32 | pattern;
	size_t i;

	for (i = 0; i < PAGE_SIZE / 8; i += 8) {
		p[i] = v;
		p[i + 1] = v;
		p[i + 2] = v;
		p[i + 3] = v;
		p[i + 4] = v;
		p[i + 5] = v;
		p[i + 6] = v;
		p[i + 7] = v;
	}
}

void
pmem_set_poison(uint8_t byte)
{
	pmem.poison_val = byte * 0x01010101u;
	pmem.poison = 1;
}

/*
 * Back into the allocator, filled with the poison when "fill"; false, and
 * a message, for a bad free.  A hot-plugged page goes back to its range
 * (hot_free(), filled the same way) and is false too: reporting and idle
 * zeroing know only the boot RAM.
 */
static bool
free_frame(uint64_t pa, bool fill)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (pfn >= pmem.max_pfn && (pa & (PAGE_SIZE - 1)) == 0 &&
	    hot_free(pa, fill))
		return false;
	if (pa == 0 || (pa & (PAGE_SIZE - 1)) != 0 || pfn >= pmem.max_pfn ||
	    is_free(pfn)) {
		kprintf("pmem: bad free of 0x%llx\n", (unsigned long long)pa);
		return false;
	}
	if (fill && pmem.poison)
		pmem_fill(pa, pmem.poison_val);
	pmem.map[pfn / 64] |= 1ull << (pfn & 63);
	pmem.free_pages++;
	if (pfn / 64 < pmem.cursor)
		pmem.cursor = pfn / 64;
	return true;
}

void
pmem_free(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (!free_frame(pa, true))
		return;
	pmem_mark_dirty(pfn);	/* for free page reporting */
	zpage_freed(pfn);	/* to zero in idle time */
}

/*
 * A balloon page comes back: it holds no guest data (include/ballonet/
 * port.h, bn_port_page_free()), and with poisoning the engine has filled
 * it already (bn_config.poison): not a second time here.  Neither
 * reported again (the host has just given it back, unbacked) nor zeroed
 * in idle time.
 */
void
pmem_free_clean(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (free_frame(pa, false))
		pmem.clean[pfn / 64] |= 1ull << (pfn & 63);
}

/*
 * pmem_free_clean() for a list of frames, a bitmap word at a time: a
 * deflate gives back a request's frames in the balloon bitmap's order,
 * ascending, so most share a word with the one before.  A frame that is
 * out of the boot RAM, or free already, takes the per-frame path (hot
 * pages, the bad free message).
 */
void
pmem_free_clean_pfns(const uint64_t *pfns, uint32_t n)
{
	uint64_t w, mask, bit;
	uint32_t i = 0, start;

	while (i < n) {
		start = i;
		w = pfns[i] / 64;
		mask = 0;
		for (; i < n && pfns[i] / 64 == w && pfns[i] != 0 &&
		    pfns[i] < pmem.max_pfn; i++) {
			bit = 1ull << (pfns[i] & 63);
			if (((pmem.map[w] | mask) & bit) != 0)
				break;
			mask |= bit;
		}
		if (mask != 0) {
			pmem.map[w] |= mask;
			pmem.clean[w] |= mask;
			pmem.free_pages += (uint64_t)__builtin_popcountll(mask);
			if (w < pmem.cursor)
				pmem.cursor = w;
		}
		if (i == start)
			pmem_free_clean(pfns[i++] << PAGE_SHIFT);
	}
}

/*
 * Hot-plugged ranges.  Their bitmaps come from the boot RAM at
 * pmem_add_range(), two bits per frame of the range and one per 64 frames:
 * 64.5 KiB per GiB.
 */
static struct pmem_range *
range_of(uint64_t pa)
{
	int i;

	for (i = 0; i < pmem.nranges; i++)
		if (pa >= pmem.ranges[i].base && pa < pmem.ranges[i].end)
			return &pmem.ranges[i];
	return NULL;
}

static bool
rbit(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i & 63)) & 1;
}

static void
rset(uint64_t *map, uint64_t i, bool on)
{
	if (on)
		map[i / 64] |= 1ull << (i & 63);
	else
		map[i / 64] &= ~(1ull << (i & 63));
}

static bool
overlaps(uint64_t s, uint64_t e, uint64_t s2, uint64_t e2)
{
	return s < e2 && s2 < e;
}

int
pmem_add_range(uint64_t base, uint64_t size)
{
	struct pmem_range *r;
	uint64_t end = base + size, words, pages, p;
	int i;

	if (size == 0 || end < base || (base & (PAGE_SIZE - 1)) != 0 ||
	    (size & (PAGE_SIZE - 1)) != 0 || end > IDENTITY_LIMIT ||
	    base < ((uint64_t)pmem.max_pfn << PAGE_SHIFT) ||
	    pmem.nranges == PMEM_RANGES_MAX)
		return -1;
	for (i = 0; i < pmem.nranges; i++)
		if (overlaps(base, end, pmem.ranges[i].base,
		    pmem.ranges[i].end))
			return -1;
	words = ((size >> PAGE_SHIFT) + 63) / 64;
	pages = ((2 * words + (words + 63) / 64) * 8 + PAGE_SIZE - 1) /
	    PAGE_SIZE;
	if ((p = pmem_alloc_contig(pages)) == 0)
		return -1;
	zero_words((uint64_t *)(uintptr_t)p, pages * PAGE_SIZE / 8);
	r = &pmem.ranges[pmem.nranges++];
	r->base = base;
	r->end = end;
	r->nwords = words;
	r->map = (uint64_t *)(uintptr_t)p;
	r->present = r->map + words;
	r->dirty = r->present + words;
	r->cursor = 0;
	return 0;
}

/* [pa, pa + len) inside one range, page aligned; its first frame. */
static struct pmem_range *
range_span(uint64_t pa, uint64_t len, uint64_t *first)
{
	struct pmem_range *r = range_of(pa);

	if (r == NULL || len == 0 || ((pa | len) & (PAGE_SIZE - 1)) != 0 ||
	    pa + len < pa || pa + len > r->end)
		return NULL;
	*first = (pa - r->base) >> PAGE_SHIFT;
	return r;
}

void
pmem_online_range(uint64_t pa, uint64_t len)
{
	struct pmem_range *r;
	uint64_t i, first, n = len >> PAGE_SHIFT;

	if ((r = range_span(pa, len, &first)) == NULL) {
		kprintf("pmem: bad online of 0x%llx+0x%llx\n",
		    (unsigned long long)pa, (unsigned long long)len);
		return;
	}
	for (i = first; i < first + n; i++) {
		if (rbit(r->present, i))
			continue;
		rset(r->present, i, true);
		rset(r->map, i, true);
		pmem.hot_pages++;
		pmem.hot_free_pages++;
	}
	/* Fresh from the host: groups wholly inside are clean again. */
	for (i = (first + 63) / 64; (i + 1) * 64 <= first + n; i++)
		rset(r->dirty, i, false);
	if (first / 64 < r->cursor)
		r->cursor = first / 64;
}

int
pmem_take_range(uint64_t pa, uint64_t len)
{
	struct pmem_range *r;
	uint64_t i, first, n = len >> PAGE_SHIFT;

	if ((r = range_span(pa, len, &first)) == NULL)
		return -1;
	for (i = first; i < first + n; i++)
		if (!rbit(r->present, i) || !rbit(r->map, i))
			return -1;
	for (i = first; i < first + n; i++) {
		rset(r->present, i, false);
		rset(r->map, i, false);
	}
	pmem.hot_pages -= n;
	pmem.hot_free_pages -= n;
	return 0;
}

/* Lowest free present frame of any range; 0 when none. */
static uint64_t
hot_take(void)
{
	struct pmem_range *r;
	uint64_t w, bit;
	int i;

	for (i = 0; i < pmem.nranges; i++) {
		r = &pmem.ranges[i];
		for (w = r->cursor; w < r->nwords; w++) {
			if (r->map[w] == 0)
				continue;
			r->cursor = w;
			bit = (uint64_t)__builtin_ctzll(r->map[w]);
			r->map[w] &= ~(1ull << bit);
			rset(r->dirty, w, true);
			pmem.hot_free_pages--;
			return r->base + ((w * 64 + bit) << PAGE_SHIFT);
		}
		r->cursor = r->nwords;
	}
	return 0;
}

/*
 * A hot page comes back, poisoned when "fill" as boot RAM is; false when
 * "pa" is in no range.  Checked first: a page not present may be
 * unplugged, and writing to it would fault.
 */
static bool
hot_free(uint64_t pa, bool fill)
{
	struct pmem_range *r = range_of(pa);
	uint64_t i;

	if (r == NULL)
		return false;
	i = (pa - r->base) >> PAGE_SHIFT;
	if (!rbit(r->present, i) || rbit(r->map, i)) {
		kprintf("pmem: bad free of hot page 0x%llx\n",
		    (unsigned long long)pa);
		return true;
	}
	if (fill && pmem.poison)
		pmem_fill(pa, pmem.poison_val);
	rset(r->map, i, true);
	pmem.hot_free_pages++;
	if (i / 64 < r->cursor)
		r->cursor = i / 64;
	return true;
}

/*
 * A hot page no one was handed since it came online; still true once it
 * is taken out (pmem_take_range()), when Xen's hot-plug zeroes it.
 */
static int
hot_is_clean(uint64_t pa)
{
	struct pmem_range *r = range_of(pa);

	if (r == NULL)
		return 0;
	return !rbit(r->dirty, ((pa - r->base) >> PAGE_SHIFT) / 64);
}
