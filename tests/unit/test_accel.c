/*
 * vm start's choice of accelerator (host/accel.c): KVM only with a vmx or
 * svm CPU flag and a /dev/kvm that opens; the flag as /proc/cpuinfo
 * spells it, from files written here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "accel.h"

static void
choose(enum accel want, const char *flag, int kvm_errno,
    struct accel_choice *c)
{
	struct accel_host h = { .cpuinfo = "/proc/cpuinfo", .flag = flag,
	    .kvm_errno = kvm_errno };

	memset(c, 0x5a, sizeof(*c));
	accel_choose(want, &h, c);
	assert_non_null(memchr(c->why, '\0', sizeof(c->why)));
}

/* This kind of machine: /dev/kvm opens, no flag.  Never KVM. */
static void
no_flag_is_tcg(void **state)
{
	struct accel_choice c;

	(void)state;
	choose(ACCEL_AUTO, NULL, 0, &c);
	assert_int_equal(c.accel, ACCEL_TCG);
	assert_false(c.refused);
	assert_string_equal(c.why, "no vmx/svm flag in /proc/cpuinfo");
	choose(ACCEL_KVM, NULL, 0, &c);
	assert_int_equal(c.accel, ACCEL_TCG);
	assert_true(c.refused);
	assert_string_equal(c.why, "no vmx/svm flag in /proc/cpuinfo");
}

static void
flag_and_device_is_kvm(void **state)
{
	struct accel_choice c;

	(void)state;
	choose(ACCEL_AUTO, "vmx", 0, &c);
	assert_int_equal(c.accel, ACCEL_KVM);
	assert_false(c.refused);
	assert_string_equal(c.why, "vmx in /proc/cpuinfo, /dev/kvm opens");
	choose(ACCEL_KVM, "svm", 0, &c);
	assert_int_equal(c.accel, ACCEL_KVM);
	assert_false(c.refused);
	assert_non_null(strstr(c.why, "--accel kvm"));
	assert_non_null(strstr(c.why, "svm in /proc/cpuinfo"));
}

static void
flag_without_device_is_tcg(void **state)
{
	struct accel_choice c;

	(void)state;
	choose(ACCEL_AUTO, "svm", EACCES, &c);
	assert_int_equal(c.accel, ACCEL_TCG);
	assert_false(c.refused);
	assert_non_null(strstr(c.why, "/dev/kvm does not open"));
	assert_non_null(strstr(c.why, strerror(EACCES)));
	choose(ACCEL_KVM, "vmx", ENOENT, &c);
	assert_true(c.refused);
	assert_non_null(strstr(c.why, strerror(ENOENT)));
}

/* --accel tcg is never refused, whatever the host has. */
static void
tcg_is_tcg(void **state)
{
	struct accel_choice c;

	(void)state;
	choose(ACCEL_TCG, "vmx", 0, &c);
	assert_int_equal(c.accel, ACCEL_TCG);
	assert_false(c.refused);
	assert_string_equal(c.why, "asked for with --accel tcg");
}

static void
parses_names(void **state)
{
	enum accel a = ACCEL_TCG;

	(void)state;
	assert_int_equal(accel_parse("auto", &a), 0);
	assert_int_equal(a, ACCEL_AUTO);
	assert_int_equal(accel_parse("kvm", &a), 0);
	assert_int_equal(a, ACCEL_KVM);
	assert_int_equal(accel_parse("tcg", &a), 0);
	assert_int_equal(a, ACCEL_TCG);
	for (const char *const *p = (const char *const[]){ "", "KVM", "hvf",
	    "kvm ", "tcgx", "xen", NULL }; *p != NULL; p++)
		assert_int_equal(accel_parse(*p, &a), -1);
	assert_string_equal(accel_name(ACCEL_AUTO), "auto");
	assert_string_equal(accel_name(ACCEL_KVM), "kvm");
	assert_string_equal(accel_name(ACCEL_TCG), "tcg");
}

/* The flag found in a cpuinfo file holding TEXT. */
static const char *
flag_of(const char *text)
{
	char path[] = "/tmp/test_accel.XXXXXX";
	const char *flag;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	flag = accel_cpu_flag(path);
	unlink(path);
	return flag;
}

static void
reads_cpuinfo(void **state)
{
	/* As Linux 6.1 prints them: two processors, tabs before ':'. */
	static const char intel[] =
	    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
	    "flags\t\t: fpu vme de pse tsc msr vmx smx est\n"
	    "vmx flags\t: vnmi preemption_timer invvpid ept_x_only\n\n"
	    "processor\t: 1\nflags\t\t: fpu vme de pse tsc msr vmx smx est\n";
	static const char amd[] =
	    "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
	    "flags\t\t: fpu vme de lahf_lm cmp_legacy svm extapic\n";
	/* A guest of a cloud: hypervisor, no vmx, though /dev/kvm opens. */
	static const char nested[] =
	    "processor\t: 0\nflags\t\t: fpu vme de pse hypervisor lahf_lm\n"
	    "bugs\t\t: spectre_v1 spectre_v2 vmx_l1tf\n";

	(void)state;
	assert_string_equal(flag_of(intel), "vmx");
	assert_string_equal(flag_of(amd), "svm");
	assert_null(flag_of(nested));
	assert_null(flag_of(""));
	/* Only whole words of a "flags" line count. */
	assert_null(flag_of("flags\t\t: fpu vmxe svm_lock xsvm\n"));
	assert_null(flag_of("vmx flags\t: vmx\nbogus flags\t: svm\n"));
	assert_null(flag_of("flags vmx svm\n"));
	assert_string_equal(flag_of("flags: svm\n"), "svm");
	assert_string_equal(flag_of("flags\t: vmx"), "vmx");
	assert_null(accel_cpu_flag("/nonexistent/cpuinfo"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_flag_is_tcg),
		cmocka_unit_test(flag_and_device_is_kvm),
		cmocka_unit_test(flag_without_device_is_tcg),
		cmocka_unit_test(tcg_is_tcg),
		cmocka_unit_test(parses_names),
		cmocka_unit_test(reads_cpuinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
