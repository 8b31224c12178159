/*
 * The freestanding formatter against the C library's own snprintf, and the
 * other freestanding helpers: the decimal parser and error texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <ballonet/error.h>
#include <ballonet/fmt.h>
#include <ballonet/str.h>

#define SAME(...) do {							\
	char ours[128], libc[128];					\
	int n1 = bn_snprintf(ours, sizeof(ours), __VA_ARGS__);		\
	int n2 = snprintf(libc, sizeof(libc), __VA_ARGS__);		\
	assert_string_equal(ours, libc);				\
	assert_int_equal(n1, n2);					\
} while (0)

static void
test_conversions(void **state)
{
	(void)state;
	SAME("plain");
	SAME("%d %i %u", -42, 7, 4000000000u);
	SAME("%ld %lu %lld %llu", -1L, 2UL, (long long)INT64_MIN,
	    (unsigned long long)UINT64_MAX);
	SAME("%zu", (size_t)123456789);
	SAME("%x %X %llx", 0xbeefu, 0xbeefu, 0x123456789abcull);
	SAME("[%5d] [%-5d] [%05d] [%05d]", 42, 42, 42, -42);
	SAME("[%8s] [%-8s] [%s]", "ab", "ab", "");
	SAME("%c%c 100%%", 'o', 'k');
	SAME("%016llx", 0xfeb00000ull);
}

/*
 * Every length modifier reads its own type.  With -m32, size_t and long
 * are 32 bits: read as long long, "%zu => %zu" printed 38654705671 => 0.
 */
static void
test_length_modifiers(void **state)
{
	(void)state;
	SAME("%zu => %zu", (size_t)7, (size_t)9);
	SAME("%zu %d %zx", SIZE_MAX, -3, (size_t)0xabc);
	SAME("%zd %zd", (ptrdiff_t)-5, (ptrdiff_t)12);
	SAME("%lu %ld %lx %d", ULONG_MAX, LONG_MIN, 0xfeedUL, 11);
	SAME("%llu %lld %d", (unsigned long long)UINT64_MAX,
	    (long long)INT64_MIN, 12);
	SAME("%hhu %hhd %hu %hd %hx", 257, 255, 65537, 65535, 0x12345);
	SAME("%ju %jd %d", (uintmax_t)UINTMAX_MAX, (intmax_t)INTMAX_MIN, 13);
	SAME("%td %tu %d", (ptrdiff_t)-7, (ptrdiff_t)8, 14);
	SAME("[%8zu] [%-6lu] [%04hu]", (size_t)42, 7UL, 9);
}

/* No format attribute: lets a NULL reach %s, as a careless caller would. */
static int
unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bn_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void
test_truncation(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(bn_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(bn_snprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	assert_int_equal(bn_snprintf(NULL, 0, "%d", 12345), 5);
	assert_int_equal(unchecked(buf, sizeof(buf), "%s", NULL), 6);
	assert_string_equal(buf, "(null)");
}

/* The one decimal parser of the engine, the guest's shell and the host. */
static void
test_parse_u64(void **state)
{
	const char *end;
	uint64_t v;

	(void)state;
	assert_int_equal(bn_parse_u64("0", &v, &end), BN_OK);
	assert_int_equal(v, 0);
	assert_int_equal(*end, '\0');
	assert_int_equal(bn_parse_u64("007M", &v, &end), BN_OK);
	assert_int_equal(v, 7);
	assert_string_equal(end, "M");
	assert_int_equal(bn_parse_u64("18446744073709551615", &v, NULL),
	    BN_OK);
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_int_equal(bn_parse_u64("18446744073709551616", &v, &end),
	    BN_ERANGE);
	assert_int_equal(bn_parse_u64("99999999999999999999999", &v, &end),
	    BN_ERANGE);
	assert_int_equal(bn_parse_u64("", &v, &end), BN_EINVAL);
	assert_int_equal(bn_parse_u64("-1", &v, &end), BN_EINVAL);
	assert_int_equal(bn_parse_u64("+1", &v, &end), BN_EINVAL);
	assert_int_equal(bn_parse_u64(" 1", &v, &end), BN_EINVAL);
	assert_int_equal(bn_parse_u64("x1", &v, &end), BN_EINVAL);
	assert_true(v == 42);	/* untouched on error */
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(bn_strerror(BN_EPERM), "Operation not permitted");
	assert_string_equal(bn_strerror(BN_ENOENT), "No such file or directory");
	assert_string_equal(bn_strerror(-1), "Unknown error");
	assert_string_equal(bn_strerror(1000), "Unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
