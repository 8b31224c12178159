/*
 * ballonet: the few string and memory helpers the portable code needs,
 * freestanding like fmt.h, so that the engine and front-ends need no libc.
 */
#ifndef BALLONET_STR_H
#define BALLONET_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>

/* Bytes before the terminating NUL. */
size_t	bn_strlen(const char *s);
/* True when both strings are the same to the last byte. */
bool	bn_streq(const char *a, const char *b);
/* Set n bytes at p to zero. */
void	bn_memzero(void *p, size_t n);

/*
 * The unsigned decimal number at the start of "s": at least one digit, no
 * sign, no blanks.  *end (may be NULL) gets the first character after the
 * digits; the caller decides what may follow (sysctl values and xenstore
 * nodes: nothing; sizes: a unit).  BN_OK; BN_EINVAL: no digit; BN_ERANGE:
 * above UINT64_MAX.  *val is written only on BN_OK.  The engine, the
 * guest's shell and the host's command line all parse numbers with it.
 */
int	bn_parse_u64(const char *s, uint64_t *val, const char **end)
	    BN_MUST_CHECK;

#endif /* BALLONET_STR_H */
