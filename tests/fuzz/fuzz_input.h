/*
 * What the fuzz targets that drive a device model share: their input
 * read as a script, byte by byte, little-endian, zeros once it runs out;
 * and the end of a run whose invariant broke.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_port.h"

struct input {
	const uint8_t	*p;
	size_t		 left;
};

static inline uint8_t
in_u8(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* N bytes, the first the lowest. */
static inline uint64_t
in_le(struct input *in, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

static inline uint32_t
in_u32(struct input *in)
{
	return (uint32_t)in_le(in, 4);
}

static inline uint64_t
in_u64(struct input *in)
{
	return in_le(in, 8);
}

/*
 * The model's invariants said WHY after STEP (NULL: they hold).  A broken
 * one is a crash, after what the driver logged last.
 */
static inline void
fuzz_check(const char *target, const char *step, const char *why,
    const struct fake_os *os)
{
	unsigned i;

	if (why == NULL)
		return;
	fprintf(stderr, "%s: after %s: %s\n", target, step, why);
	for (i = 0; i < os->nlog && i < 64; i++)
		fprintf(stderr, "%s: log: %s\n", target, os->log[i]);
	abort();
}

#endif /* FUZZ_INPUT_H */
