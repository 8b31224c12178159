/*
 * The few C library functions the guest uses.  The compiler may also
 * call memset, memcpy, memmove and memcmp on its own, even freestanding.
 */
#ifndef GUEST_LIBKERN_H
#define GUEST_LIBKERN_H

#include <stddef.h>

void	*memset(void *dst, int c, size_t n);
void	*memcpy(void *restrict dst, const void *restrict src, size_t n);
void	*memmove(void *dst, const void *src, size_t n);
int	 memcmp(const void *a, const void *b, size_t n);
size_t	 strlen(const char *s);
int	 strcmp(const char *a, const char *b);
int	 strncmp(const char *a, const char *b, size_t n);
char	*strchr(const char *s, int c);

#endif /* GUEST_LIBKERN_H */
