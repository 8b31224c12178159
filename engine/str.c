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

int
bn_parse_u64(const char *s, uint64_t *val, const char **end)
{
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return BN_EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return BN_ERANGE;
		v = v * 10 + d;
	}
	*val = v;
	if (end != NULL)
		*end = s;
	return BN_OK;
}
