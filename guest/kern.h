/*
 * The reference guest as a whole: what the port, the shell and the main
 * loop share.
 */
#ifndef GUEST_KERN_H
#define GUEST_KERN_H

#include <stdint.h>

#include "viomb.h"

struct guest {
	volatile int		 wakeup;	/* bn_port_wakeup() since last run */
	uint64_t		 reserve_pages;	/* free pages the balloon leaves */
	const char		*machine;	/* "pc", "q35", "microvm", "?" */
	struct viomb_softc	*viomb;		/* NULL: no balloon attached */
	struct virtio_dev	*vdev;		/* its transport */
	char			 viomb_where[48]; /* "pci 00:04.0", "mmio ..." */
};

extern struct guest guest;

void	autoconf(void);
void	port_init(void);

#endif /* GUEST_KERN_H */
