/*
 * PCI configuration space through ports 0xcf8/0xcfc (mechanism #1).
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_ID			0x00	/* vendor, device */
#define PCI_COMMAND		0x04
#define PCI_CLASS		0x08	/* revision, prog-if, subclass, class */
#define PCI_HEADER_TYPE		0x0e
#define PCI_SECONDARY_BUS	0x19	/* bridges */
#define PCI_INTR_LINE		0x3c	/* what the firmware routed INTx to */
#define PCI_INTR_PIN		0x3d	/* 0 none, 1-4 INTA-INTD */

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEM		0x0002
#define PCI_COMMAND_MASTER	0x0004

/* The handle the virtio PCI transport gets back in the port hooks. */
struct pcidev {
	uint8_t		bus;
	uint8_t		dev;
	uint8_t		fn;
};

uint32_t	pci_cfg_read(const struct pcidev *pd, uint16_t off, int width);
void		pci_cfg_write(const struct pcidev *pd, uint16_t off, int width,
		    uint32_t val);

/* Call fn for every function found; stop when it returns nonzero. */
typedef int (*pci_visit_t)(const struct pcidev *pd, void *arg);
int		pci_scan(pci_visit_t fn, void *arg);

#endif /* GUEST_PCI_H */
