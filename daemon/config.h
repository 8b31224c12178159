/*
 * ballonetd: the configuration file (libconfig syntax), see ballonetd(8).
 *
 *   policy = "ours";  budget = "1536M";  reserve = "512M";
 *   interval = 2.0;   stats_period = 2;  on_exit = "keep";
 *   control = "/run/ballonet/ballonetd.sock";  metrics = "127.0.0.1:9464";
 *   defaults = { min = "128M"; shares = 1000; };
 *   vms = ( { name = "web"; min = "256M"; max = "1G"; shares = 2000; },
 *           { name = "db"; socket = "/run/db/qmp.sock"; on_exit = "max"; } );
 *
 * Sizes are strings for size.h ("512M", "1G") or integers in MiB.
 */
#ifndef BALLONET_DAEMON_CONFIG_H
#define BALLONET_DAEMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* What a VM is set to when the daemon stops (SIGTERM). */
enum on_exit {
	ON_EXIT_UNSET = 0,
	ON_EXIT_KEEP,	/* the last target stays: nothing is sent */
	ON_EXIT_MAX,	/* the VM's max */
	ON_EXIT_MIN,	/* the VM's min */
	ON_EXIT_SIZE,	/* on_exit_size */
};

struct dconf_vm {
	char		name[BK_NAME_MAX];	/* "" for the defaults */
	char		socket[PATH_MAX];	/* a QMP socket, "" none */
	int64_t		min, max;	/* bytes; -1 unset */
	int64_t		shares;		/* -1 unset */
	enum on_exit	on_exit;
	int64_t		on_exit_size;	/* bytes, ON_EXIT_SIZE */
};

struct dconf {
	char		policy[32];
	int64_t		budget;		/* bytes; -1 none */
	int64_t		reserve;	/* bytes the host keeps available */
	int		interval_ms;	/* between steps */
	int		stats_period;	/* seconds, the guests' reports */
	char		control[PATH_MAX];	/* control socket, "" default */
	char		metrics[128];	/* ADDR:PORT, "" off */
	char		connect[512];	/* libvirt URI, "" for QMP */
	struct dconf_vm	defaults;	/* for VMs without their own */
	struct dconf_vm	*vms;
	size_t		nvms;
};

/* Defaults: policy ours, no budget, reserve 256 MiB, 2 s, on_exit keep. */
void dconf_init(struct dconf *c);

/*
 * Read PATH into C (initialised with dconf_init first).  Returns 0, or
 * -1 with one line in ERR ("FILE:LINE: what is wrong").
 */
int dconf_load(const char *path, struct dconf *c, char *err, size_t errlen);

void dconf_free(struct dconf *c);

/* The configuration of VM NAME: its own entry, else the defaults. */
const struct dconf_vm *dconf_vm(const struct dconf *c, const char *name);

/* Parse a size option or setting ("512M"): 0 or -1. */
int dconf_size(const char *text, int64_t *bytes);

/* "keep", "max", "min" or a size. */
int dconf_on_exit(const char *text, enum on_exit *a, int64_t *size);

#endif /* BALLONET_DAEMON_CONFIG_H */
