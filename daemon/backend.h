/*
 * ballonetd: the interface every backend implements (QMP, libvirt).
 *
 * A backend manages the VMs of one host.  It lists them, samples one VM
 * (balloon actual, the guest's statistics, QEMU's RSS where local, the
 * VM's guaranteed minimum), sets a VM's target and reports events
 * (balloon changes, VMs that went away or appeared) through one file
 * descriptor the caller polls.
 *
 * Units: every size is in bytes, every count a plain number; a value the
 * backend or the guest did not report is -1.  Whatever the guest reports
 * is passed on as it is, only mapped to -1 where it does not fit an
 * int64_t or is negative: the caller must not trust it further.
 *
 * VMs are named by a string unique within the backend: the run
 * directory's name, the name given in the configuration, or libvirt's
 * domain name.
 *
 * Every operation returns a BK_* status.  On anything but BK_OK the
 * backend's err[] holds one line saying what failed (no trailing newline,
 * no "ballonetd:" prefix).  No operation blocks longer than the timeout
 * the backend was opened with (for a single request to one VM).
 *
 * Additive changes only: the libvirt backend and `ballonet --connect`
 * are written against this header.
 */
#ifndef BALLONET_DAEMON_BACKEND_H
#define BALLONET_DAEMON_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#define BK_NAME_MAX	256	/* a VM's name, with its NUL */
#define BK_ERR_MAX	256	/* an error line, with its NUL */

enum bk_status {
	BK_OK = 0,
	BK_EGONE,	/* the VM does not exist (any more): forget it */
	BK_ENOBALLOON,	/* the VM has no balloon device */
	BK_ERANGE,	/* a target the VM cannot take (0, above its RAM) */
	BK_EFAIL,	/* the backend failed (connection, timeout, protocol):
			   retry later, with backoff */
	BK_ENOTSUP,	/* the backend cannot do this at all */
};

/* One VM as list() sees it: cheap facts, no guest round trip. */
struct bk_vm {
	char		name[BK_NAME_MAX];	/* unique within the backend */
	int64_t		memory;		/* the most the VM can reach: RAM at
					   start (the most a balloon can give
					   back) plus any hot-pluggable
					   region (QMP: virtio-mem), bytes;
					   -1 unknown */
};

/*
 * One sample of a VM.  Cumulative counters (swap, faults, OOM kills) are
 * the guest's totals since it booted: the caller takes differences.
 */
struct bk_sample {
	int64_t		memory;		/* the most the VM can reach, as
					   bk_vm's memory, bytes */
	int64_t		boot;		/* the RAM it booted with, bytes;
					   -1 unknown */
	int64_t		actual;		/* the logical size: RAM minus
					   balloon, plus memory hot-plugged,
					   bytes */
	int64_t		target;		/* last target set, bytes (-1 none
					   known) */
	int64_t		rss;		/* the VM process's resident set,
					   bytes; -1 if not local */
	int64_t		min_guarantee;	/* what the VM is guaranteed (libvirt
					   <memtune><min_guarantee>), bytes */

	/* The guest's statistics (virtio-balloon stats queue). */
	int64_t		stats_time;	/* when the guest last reported,
					   seconds since the epoch; -1 never */
	int64_t		total;		/* total memory the guest sees */
	int64_t		free;		/* free memory */
	int64_t		available;	/* available (free + reclaimable) */
	int64_t		caches;		/* disk caches */
	int64_t		swap_in;	/* bytes swapped in, cumulative */
	int64_t		swap_out;	/* bytes swapped out, cumulative */
	int64_t		major_faults;	/* count, cumulative */
	int64_t		minor_faults;	/* count, cumulative */
	int64_t		oom_kills;	/* count, cumulative (Linux guests
					   report it where the backend can
					   see it; ours: -1) */
};

enum bk_event_kind {
	BK_EV_BALLOON,	/* the VM's actual changed: actual is set */
	BK_EV_GONE,	/* the VM went away: forget it */
	BK_EV_NEW,	/* a VM appeared (or may have): list() again */
};

struct bk_event {
	enum bk_event_kind kind;
	char		name[BK_NAME_MAX];	/* the VM ("" for BK_EV_NEW
						   without a name) */
	int64_t		actual;		/* BK_EV_BALLOON: bytes */
};

struct backend;

struct backend_ops {
	const char	*name;		/* "qmp", "libvirt" */

	/*
	 * The VMs now, into a new array *VMS of *COUNT entries (free() it;
	 * NULL when 0).  Refreshes the backend's own view: VMs that went
	 * away are dropped, new ones picked up.
	 */
	int	(*list)(struct backend *b, struct bk_vm **vms, size_t *count);

	/*
	 * Turn on the guest's statistics, reported every PERIOD seconds
	 * (>= 1).  Until then (and with a guest that never reports)
	 * sample() returns the statistics as -1.
	 */
	int	(*stats_period)(struct backend *b, const char *name, int period);

	/* Fill S for NAME: every field, -1 where not known. */
	int	(*sample)(struct backend *b, const char *name,
		    struct bk_sample *s);

	/*
	 * Ask NAME for a logical size of BYTES: its balloon, and above the
	 * RAM at start its hot-plugged memory where the backend has it.
	 */
	int	(*set_target)(struct backend *b, const char *name,
		    uint64_t bytes);

	/*
	 * A descriptor that becomes readable (poll POLLIN) when events may
	 * be pending; -1 if the backend has none (then poll events() on a
	 * timer).  Stable from open to close.
	 */
	int	(*event_fd)(struct backend *b);

	/*
	 * Take up to MAX pending events into EV without blocking; returns
	 * their number (0: none), or -1 with err[] set if the backend
	 * failed (then list() again, with backoff).
	 */
	int	(*events)(struct backend *b, struct bk_event *ev, size_t max);

	/* Release everything; B is invalid afterwards. */
	void	(*close)(struct backend *b);
};

/* The start of every backend's own state. */
struct backend {
	const struct backend_ops *ops;
	char		err[BK_ERR_MAX];	/* the last failure, one line */
};

/* What the QMP backend manages besides the run directory's VMs. */
struct bk_qmp_socket {
	const char	*name;		/* the VM's name in the daemon */
	const char	*path;		/* its QMP socket */
};

/*
 * Open the QMP backend: every VM of ballonet's run directory plus
 * SOCKETS[0..NSOCKETS).  TIMEOUT_MS bounds one QMP request.  Returns
 * NULL with ERR (ERRLEN bytes) set on failure.
 */
struct backend *backend_qmp_open(const struct bk_qmp_socket *sockets,
    size_t nsockets, int timeout_ms, char *err, size_t errlen);

/*
 * Open the libvirt backend on URI ("qemu:///system",
 * "qemu+ssh://HOST/system", NULL for libvirt's default).  Returns NULL
 * with ERR set on failure, or when ballonet was built without libvirt
 * (ERR then says so).
 */
struct backend *backend_libvirt_open(const char *uri, int timeout_ms,
    char *err, size_t errlen);

/* A status's name for messages ("gone", "no balloon", ...). */
const char *bk_status_name(int status);

#endif /* BALLONET_DAEMON_BACKEND_H */
