/*
 * ballonet: the userland interface of viomb(4) and balloon(4), one for every
 * backend (viomb.4, BUGS).
 *
 * Each balloon answers under its backend's prefix (hw.viomb or
 * machdep.xen.balloon) and under the backend-neutral hw.balloon:
 *
 *	npages	pages	RO	balloon size the host asks for
 *	actual	pages	RO	pages in the balloon
 *	current	KiB	RO	RAM at boot minus the balloon plus hotplugged
 *	min	KiB	RW	reservation never given up; EPERM below safeguard
 *	max	KiB	RO	RAM at boot plus what hot-plug can add now
 *	target	KiB	RW	reservation aimed for; EPERM outside [min, max];
 *				above the boot RAM the host plugs (virtio-mem)
 *	features	RO	the backend's negotiated feature bits (virtio:
 *				1 << VIRTIO_BALLOON_F_*, VERSION_1 included)
 *	oom_deflated	pages	RO	taken back from the balloon on OOM
 *	reported	pages	RO	free pages reported to the host
 *	stats_updates		RO	statistics buffers given to the host
 *	hotplugged	KiB	RO	memory plugged above the boot RAM
 *
 * An OS shell parses "sysctl" command lines and prints results; these
 * functions do the lookup, the parsing of values and the rules.
 */
#ifndef BALLONET_SYSCTL_H
#define BALLONET_SYSCTL_H

#include <stddef.h>
#include <stdint.h>

#include <ballonet/balloon.h>

/* Number of names bn_sysctl_name() enumerates for one balloon. */
size_t bn_sysctl_count(const struct bn_balloon *b);

/* Name number i (0 <= i < count) into buf; EINVAL when out of range. */
int bn_sysctl_name(const struct bn_balloon *b, size_t i, char *buf,
    size_t len);

/* Read a node; ENOENT for a name this balloon does not have. */
int bn_sysctl_read(const struct bn_balloon *b, const char *name,
    uint64_t *val) BN_MUST_CHECK;

/*
 * Write a node from its text form (unsigned decimal).  On success *oldval
 * holds the value before.  ENOENT unknown name, EINVAL malformed value,
 * ERANGE too large, EPERM read-only or beyond limits.  On error nothing
 * changes.
 */
int bn_sysctl_write(struct bn_balloon *b, const char *name,
    const char *value, uint64_t *oldval) BN_MUST_CHECK;

#endif /* BALLONET_SYSCTL_H */
