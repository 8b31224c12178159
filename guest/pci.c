/*
 * PCI bus walk: bus 0 and the buses behind PCI-to-PCI bridges.
 */
#include "cpu.h"
#include "pci.h"

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc
#define PCI_ENABLE	0x80000000u

#define PCI_HDR_BRIDGE	0x01
#define PCI_HDR_MULTI	0x80
#define PCI_BUS_DEPTH	8

static void
select_reg(const struct pcidev *pd, uint16_t off)
{
	outl(PCI_ADDR, PCI_ENABLE | (uint32_t)pd->bus << 16 |
	    (uint32_t)pd->dev << 11 | (uint32_t)pd->fn << 8 | (off & 0xfc));
}

uint32_t
pci_cfg_read(const struct pcidev *pd, uint16_t off, int width)
{
	select_reg(pd, off);
	switch (width) {
	case 1:
		return inb(PCI_DATA + (off & 3));
	case 2:
		return inw(PCI_DATA + (off & 2));
	default:
		return inl(PCI_DATA);
	}
}

void
pci_cfg_write(const struct pcidev *pd, uint16_t off, int width, uint32_t val)
{
	select_reg(pd, off);
	switch (width) {
	case 1:
		outb(PCI_DATA + (off & 3), (uint8_t)val);
		break;
	case 2:
		outw(PCI_DATA + (off & 2), (uint16_t)val);
		break;
	default:
		outl(PCI_DATA, val);
		break;
	}
}

static int
scan_bus(uint8_t bus, int depth, pci_visit_t fn, void *arg)
{
	struct pcidev pd = { .bus = bus };
	uint8_t hdr, sec;

	for (pd.dev = 0; pd.dev < 32; pd.dev++) {
		for (pd.fn = 0; pd.fn < 8; pd.fn++) {
			if ((pci_cfg_read(&pd, PCI_ID, 2)) == 0xffff) {
				if (pd.fn == 0)
					break;
				continue;
			}
			if (fn(&pd, arg))
				return 1;
			hdr = (uint8_t)pci_cfg_read(&pd, PCI_HEADER_TYPE, 1);
			sec = (uint8_t)pci_cfg_read(&pd, PCI_SECONDARY_BUS, 1);
			if ((hdr & 0x7f) == PCI_HDR_BRIDGE && sec > bus &&
			    depth < PCI_BUS_DEPTH &&
			    scan_bus(sec, depth + 1, fn, arg))
				return 1;
			if (pd.fn == 0 && (hdr & PCI_HDR_MULTI) == 0)
				break;
		}
	}
	return 0;
}

int
pci_scan(pci_visit_t fn, void *arg)
{
	return scan_bus(0, 0, fn, arg);
}
