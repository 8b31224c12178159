/*
 * The command line's size parser (host/size.c): strict, overflow-checked,
 * a bare number is MiB; and the exact formatter.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "size.h"

static void
accepts_every_unit(void **state)
{
	static const struct { const char *text; uint64_t bytes; } ok[] = {
		{ "1", 1ULL << 20 },		/* bare: MiB */
		{ "0", 0 },			/* zero parses; set refuses it */
		{ "4096B", 4096 },
		{ "4096b", 4096 },
		{ "1K", 1024 }, { "1KiB", 1024 }, { "1kib", 1024 },
		{ "512M", 512ULL << 20 }, { "512MiB", 512ULL << 20 },
		{ "2G", 2ULL << 30 }, { "2g", 2ULL << 30 },
		{ "1T", 1ULL << 40 },
		{ "007M", 7ULL << 20 },
		{ "18446744073709551615B", UINT64_MAX },
		{ "16777215T", 16777215ULL << 40 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t bytes = 1;
		assert_int_equal(size_parse(ok[i].text, &bytes), 0);
		assert_true(bytes == ok[i].bytes);
	}
}

static void
rejects_junk_and_overflow(void **state)
{
	static const char *const bad[] = {
		"", "M", "-1", "+1", " 1", "1 ", "1.5G", "0x10", "1GG", "1Mi",
		"1MB", "1e3", "12x", "1 G",
		"18446744073709551616B",	/* 2^64 */
		"99999999999999999999",
		"17592186044416",		/* 2^44 MiB = 2^64 bytes */
		"16777216T",			/* 2^64 bytes */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t bytes = 42;
		assert_int_equal(size_parse(bad[i], &bytes), -1);
		assert_true(bytes == 42);	/* untouched */
	}
	assert_int_equal(size_parse(NULL, NULL), -1);
}

static void
formats_exactly(void **state)
{
	char buf[SIZE_BUFLEN];
	(void)state;
	assert_string_equal(size_format(0, buf, sizeof(buf)), "0 B");
	assert_string_equal(size_format(1000, buf, sizeof(buf)), "1000 B");
	assert_string_equal(size_format(4096, buf, sizeof(buf)), "4 KiB");
	assert_string_equal(size_format(1536ULL << 20, buf, sizeof(buf)),
	    "1536 MiB");
	assert_string_equal(size_format(1ULL << 30, buf, sizeof(buf)), "1 GiB");
	assert_string_equal(size_format(3ULL << 40, buf, sizeof(buf)), "3 TiB");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_every_unit),
		cmocka_unit_test(rejects_junk_and_overflow),
		cmocka_unit_test(formats_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
