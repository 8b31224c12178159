/*
 * Memory hot-plug: the virtio-mem device (virtio/viomem.c) and what the
 * guest does with its blocks (pmem's hot-plugged ranges).
 */
#ifndef GUEST_HOTPLUG_H
#define GUEST_HOTPLUG_H

#include <stdint.h>

#include "viomem.h"

extern struct viomem_softc *hotplug_sc;	/* NULL: no device attached */

/* Find and attach a virtio-mem PCI device; after the balloon's attach. */
void	 hotplug_attach(void);
/* The worker: run the driver when woken or due. */
void	 hotplug_run(uint64_t now, int woken);

#endif /* GUEST_HOTPLUG_H */
