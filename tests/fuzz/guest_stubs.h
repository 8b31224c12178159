/*
 * Host stand-ins for the reference guest's console and page allocator,
 * so that its shell runs under a fuzzer (tests/fuzz/guest_stubs.c).
 */
#ifndef GUEST_STUBS_H
#define GUEST_STUBS_H

#include <stddef.h>
#include <stdint.h>

/* What cons_getc() returns next, until -1 at the end. */
void	stubs_input(const uint8_t *p, size_t n);

#endif /* GUEST_STUBS_H */
