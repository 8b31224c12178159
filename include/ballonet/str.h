/*
 * ballonet: the few string and memory helpers the portable code needs,
 * freestanding like fmt.h, so that the engine and front-ends need no libc.
 */
#ifndef BALLONET_STR_H
#define BALLONET_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes before the terminating NUL. */
size_t	bn_strlen(const char *s);
/* True when both strings are the same to the last byte. */
bool	bn_streq(const char *a, const char *b);
/* Set n bytes at p to zero. */
void	bn_memzero(void *p, size_t n);

#endif /* BALLONET_STR_H */
