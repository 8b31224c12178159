/*
 * Byte and string functions, written plainly: the guest never moves much.
 */
#include <stdint.h>

#include "libkern.h"

/* Keep the compiler from turning these loops into calls to themselves. */
#define NO_IDIOM	__attribute__((optimize("no-tree-loop-distribute-patterns")))

/* Whole words with rep stosq where it can: TCG runs it as one loop. */
NO_IDIOM void *
memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;
	size_t words;

	while (n > 0 && ((uintptr_t)d & 7) != 0) {
		*d++ = (unsigned char)c;
		n--;
	}
	words = n / 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(w)
	    : "memory");
	for (n &= 7; n > 0; n--)
		*d++ = (unsigned char)c;
	return dst;
}

NO_IDIOM void *
memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n-- > 0)
		*d++ = *s++;
	return dst;
}

NO_IDIOM void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n-- > 0)
		d[n] = s[n];
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			return 0;
	}
	return 0;
}

char *
strchr(const char *s, int c)
{
	for (; *s != '\0'; s++)
		if (*s == (char)c)
			return (char *)s;
	return c == '\0' ? (char *)s : NULL;
}
