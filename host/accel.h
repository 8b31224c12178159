/*
 * ballonet vm start: which accelerator QEMU runs the guest under.
 *
 * KVM only where it can run guests: the CPU has hardware virtualization
 * (a vmx or svm flag in /proc/cpuinfo) and /dev/kvm opens.  Some hosts
 * (nested clouds) have a /dev/kvm without either flag: the host kernel
 * then emulates every privileged instruction of the guest, and Linux
 * guests do not boot.  Elsewhere TCG.  The decision is a pure function
 * of what the host offers, so that it can be tested on any host.
 *
 * $BALLONET_CPUINFO names another cpuinfo file: the tests use it to take
 * the KVM branch on a host without the flag (tests/e2e/test_cli.py).
 */
#ifndef BALLONET_HOST_ACCEL_H
#define BALLONET_HOST_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

enum accel {
	ACCEL_AUTO,	/* KVM where the host can, else TCG */
	ACCEL_KVM,
	ACCEL_TCG,
};

#define ACCEL_CPUINFO	"/proc/cpuinfo"
#define ACCEL_DEV	"/dev/kvm"

/* What the host offers. */
struct accel_host {
	const char	*cpuinfo;	/* the file FLAG was looked for in */
	const char	*flag;		/* "vmx", "svm", or NULL: neither */
	int		 kvm_errno;	/* 0: /dev/kvm opens; else why not */
};

/* The decision of accel_choose(). */
struct accel_choice {
	enum accel	 accel;		/* ACCEL_KVM or ACCEL_TCG */
	bool		 refused;	/* --accel kvm, and the host cannot */
	char		 why[320];	/* for "NAME: accelerator tcg (WHY)" */
};

/* "auto", "kvm" or "tcg" into WANT.  Returns 0, or -1 for anything else. */
int accel_parse(const char *text, enum accel *want);

/* "auto", "kvm" or "tcg". */
const char *accel_name(enum accel accel);

/* Choose for WANT on host H. */
void accel_choose(enum accel want, const struct accel_host *h,
    struct accel_choice *c);

/*
 * The virtualization flag among the "flags" lines of the cpuinfo file
 * PATH: "vmx", "svm", or NULL if there is neither or PATH cannot be read.
 */
const char *accel_cpu_flag(const char *path);

/* Look at this host: $BALLONET_CPUINFO, else ACCEL_CPUINFO; ACCEL_DEV. */
void accel_probe(struct accel_host *h);

#endif /* BALLONET_HOST_ACCEL_H */
