/*
 * IOAPICs.  Every PC-like QEMU machine has one at 0xfec00000 with GSIs
 * 0-23; microvm with ACPI adds a second at 0xfec10000 with GSIs 24-47 and
 * puts its virtio-mmio transports there.  All pins start masked.
 */
#include <stddef.h>

#include "apic.h"
#include "cpu.h"

#define IOAPIC_REGSEL		0x00
#define IOAPIC_WIN		0x10
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_REDIR(p)	(0x10 + 2 * (p))

#define REDIR_LEVEL		(1u << 15)
#define REDIR_MASKED		(1u << 16)

static const struct {
	uintptr_t	base;
	uint32_t	gsi_base;
} candidates[IOAPIC_MAX] = {
	{ 0xfec00000, 0 },
	{ 0xfec10000, 24 },
};

struct ioapic ioapics[IOAPIC_MAX];
int nioapics;

static uint32_t
ioapic_read(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->base + IOAPIC_REGSEL, reg);
	return mmio_read32(io->base + IOAPIC_WIN);
}

static void
ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->base + IOAPIC_REGSEL, reg);
	mmio_write32(io->base + IOAPIC_WIN, v);
}

/* Nothing mapped reads as all zeroes or all ones: neither is a version. */
static bool
ioapic_probe(struct ioapic *io)
{
	uint32_t ver = ioapic_read(io, IOAPIC_REG_VER);
	uint32_t maxredir = (ver >> 16) & 0xff;

	if (ver == 0 || ver == 0xffffffff || maxredir == 0 || maxredir > 239)
		return false;
	io->npins = maxredir + 1;
	io->version = ver & 0xff;
	return true;
}

void
ioapic_init(void)
{
	struct ioapic *io;
	uint32_t p;
	int i;

	for (i = 0; i < IOAPIC_MAX; i++) {
		io = &ioapics[nioapics];
		io->base = candidates[i].base;
		io->gsi_base = candidates[i].gsi_base;
		if (!ioapic_probe(io))
			continue;
		for (p = 0; p < io->npins; p++) {
			ioapic_write(io, IOAPIC_REG_REDIR(p) + 1, 0);
			ioapic_write(io, IOAPIC_REG_REDIR(p), REDIR_MASKED);
		}
		nioapics++;
	}
}

static struct ioapic *
ioapic_of(uint32_t gsi, uint32_t *pin)
{
	struct ioapic *io;
	int i;

	for (i = 0; i < nioapics; i++) {
		io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->npins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

bool
ioapic_has_gsi(uint32_t gsi)
{
	uint32_t pin;

	return ioapic_of(gsi, &pin) != NULL;
}

/* Fixed delivery, physical destination, active high. */
bool
ioapic_route(uint32_t gsi, uint8_t vec, bool level)
{
	struct ioapic *io;
	uint32_t pin;

	if ((io = ioapic_of(gsi, &pin)) == NULL)
		return false;
	ioapic_write(io, IOAPIC_REG_REDIR(pin), REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDIR(pin) + 1, lapic_id() << 24);
	ioapic_write(io, IOAPIC_REG_REDIR(pin),
	    REDIR_MASKED | (level ? REDIR_LEVEL : 0) | vec);
	return true;
}

void
ioapic_mask(uint32_t gsi, bool masked)
{
	struct ioapic *io;
	uint32_t pin, lo;

	if ((io = ioapic_of(gsi, &pin)) == NULL)
		return;
	lo = ioapic_read(io, IOAPIC_REG_REDIR(pin));
	lo = masked ? lo | REDIR_MASKED : lo & ~REDIR_MASKED;
	ioapic_write(io, IOAPIC_REG_REDIR(pin), lo);
}
