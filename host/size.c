/*
 * ballonet: parsing and printing memory sizes (see size.h).
 */
#include "size.h"

#include <stdio.h>
#include <string.h>

#include <ballonet/str.h>

struct unit {
	const char	*name;
	unsigned	 shift;		/* the unit is 1 << shift bytes */
};

static const struct unit units[] = {
	{ "", 20 },			/* bare number: MiB */
	{ "B", 0 },
	{ "K", 10 }, { "KiB", 10 },
	{ "M", 20 }, { "MiB", 20 },
	{ "G", 30 }, { "GiB", 30 },
	{ "T", 40 }, { "TiB", 40 },
};

static int
unit_shift(const char *suffix, unsigned *shift)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(suffix, units[i].name) == 0) {
			*shift = units[i].shift;
			return 0;
		}
	}
	return -1;
}

int
size_parse(const char *text, uint64_t *bytes)
{
	const char *p;
	uint64_t n;
	unsigned shift;

	/* The engine's parser: the guest's shell reads numbers the same way. */
	if (text == NULL || bn_parse_u64(text, &n, &p) != BN_OK)
		return -1;
	if (unit_shift(p, &shift) != 0)
		return -1;
	if (shift > 0 && n > (UINT64_MAX >> shift))
		return -1;
	*bytes = n << shift;
	return 0;
}

const char *
size_format(uint64_t bytes, char *buf, size_t len)
{
	/* The largest unit that divides BYTES exactly: never rounds. */
	static const struct unit shown[] = {
		{ "TiB", 40 }, { "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 },
	};

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		uint64_t unit = 1ULL << shown[i].shift;
		if (bytes != 0 && bytes % unit == 0) {
			snprintf(buf, len, "%llu %s",
			    (unsigned long long)(bytes / unit), shown[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	return buf;
}
