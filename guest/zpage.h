/*
 * Pages on their way into the balloon: zeroing them cheaply, and the
 * pre-zeroed pool behind `bench pool` (the benchmark's limit line).
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

#endif /* GUEST_ZPAGE_H */
