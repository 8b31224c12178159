/*
 * ballonet: freestanding string and memory helpers (str.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/str.h>

size_t
bn_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

bool
bn_streq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

void
bn_memzero(void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = 0;
}
