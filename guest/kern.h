/*
 * The reference guest as a whole: what the port, the shell and the main
 * loop share.
 */
#ifndef GUEST_KERN_H
#define GUEST_KERN_H

#include <stdint.h>

#include <ballonet/balloon.h>

/*
 * Declared, not defined: what includes only this header reads the balloon
 * through balloon.h's functions and cannot reach into the engine.
 */
struct pcidev;
struct viomb_softc;
struct virtio_dev;
struct xenballoon_softc;

struct guest {
	volatile int		 wakeup;	/* bn_port_wakeup() since last run */
	uint64_t		 reserve_pages;	/* free pages the balloon leaves */
	const char		*machine;	/* "pc", "q35", "microvm", "xen", "?" */
	int			 xen;		/* booted as a Xen PVH domU */
	struct bn_balloon	*balloon;	/* the attached one, or NULL */
	struct viomb_softc	*viomb;		/* NULL: no balloon attached */
	struct virtio_dev	*vdev;		/* its transport */
	char			 viomb_where[48]; /* "pci 00:04.0", "mmio ..." */
	struct xenballoon_softc	*xenb;		/* the Xen balloon, or NULL */
};

extern struct guest guest;

void	autoconf(void);
/* Listen for PCI device "pd"'s INTx with "fn"; 0 if it has no pin. */
int	autoconf_route_pci(const struct pcidev *pd, const char *name,
	    int (*fn)(void *), void *arg);
/* Debug builds: check the balloon's books against pmem (audit.c). */
void	balloon_audit(const struct bn_balloon *b);
void	port_init(void);

#endif /* GUEST_KERN_H */
