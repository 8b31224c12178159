/*
 * Pages on their way into the balloon: zeroing them cheaply, ahead of
 * time in idle time, and the pre-zeroed pool behind `bench pool` (the
 * benchmark's limit line).
 *
 * Idle zeroing: pmem_free() tells zpage_freed() of every page it frees;
 * when the main loop has nothing else to do it calls zpage_idle(), which
 * zeroes the free, dirty frames of one 2 MiB chunk holding such a page and
 * marks them clean (pmem.h).  The balloon then gives them away untouched,
 * and free page reporting (reporting.h), which runs only once nothing is
 * left to zero, reports chunks already clean: back from the host, they
 * are clean and unbacked, as at a cold boot.  A frame is zeroed while it
 * is free, so nobody uses it meanwhile (one CPU, one worker; interrupt
 * handlers do not allocate).  Off with poisoning (free pages hold the
 * poison value, no guest data) and with zero=always (pages are zeroed as
 * they leave, every time).
 *
 * The pool holds pages taken from pmem and zeroed ahead of time; while it
 * is not empty the port hands them to the engine first, and zeroing such
 * a page is free.  Empty, it costs the normal path one pointer test.
 */
#ifndef GUEST_ZPAGE_H
#define GUEST_ZPAGE_H

#include <stdbool.h>
#include <stdint.h>

/* Leave the page at "pa" all zeroes; writes only if it is not already. */
void		zpage_zero(uint64_t pa);
/* The two halves of zpage_zero(), for `bench zero`. */
bool		zpage_is_zero(uint64_t pa);
void		zpage_store_zero(uint64_t pa);

/* Move up to "npages" from pmem into the pool, zeroed; returns how many. */
uint64_t	zpage_pool_fill(uint64_t npages);
/* Give every page of the pool back to pmem. */
void		zpage_pool_drain(void);
uint64_t	zpage_pool_count(void);
/* A pre-zeroed page from the pool: 0, or -1 when the pool is empty. */
int		zpage_pool_take(uint64_t *pa);
/* True (once) when "pa" came from the pool and was not written since. */
bool		zpage_prezeroed(uint64_t pa);
/* Forget that "pa" is pre-zeroed: the page goes back to pmem. */
void		zpage_forget(uint64_t pa);
/* The same for "n" frame numbers. */
void		zpage_forget_pfns(const uint64_t *pfns, uint32_t n);

/* pmem_free() freed frame "pfn": zero it when the CPU is idle. */
void		zpage_freed(uint64_t pfn);
/* Idle time: zero one chunk's worth; false when nothing is left. */
bool		zpage_idle(void);

#endif /* GUEST_ZPAGE_H */
