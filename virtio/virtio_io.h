/*
 * ballonet: byte order and register access, in one place.
 *
 * Rings and modern registers are little-endian (VIRTIO 1.2, 2.7 and 4.1.3);
 * so is the balloon's configuration space even on legacy devices (5.5.4).
 * Ring fields live in memory shared with the device and are read and
 * written here directly (vio_read*, vio_write*); device registers go
 * through the port (vio_reg_*, bn_port_mmio_read() and _write() of
 * virtio_port.h).  Either way each access is one access of the field's
 * natural width, converted to host order: register accesses must keep
 * their width (4.2.2.2), so the helpers never split or merge them.
 */
#ifndef BALLONET_VIRTIO_IO_H
#define BALLONET_VIRTIO_IO_H

#include <stdint.h>

#include "virtio_port.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VIO_LE16(x)	__builtin_bswap16(x)
#define VIO_LE32(x)	__builtin_bswap32(x)
#define VIO_LE64(x)	__builtin_bswap64(x)
#else
#define VIO_LE16(x)	((uint16_t)(x))
#define VIO_LE32(x)	((uint32_t)(x))
#define VIO_LE64(x)	((uint64_t)(x))
#endif

static inline uint16_t
vio_read16(const volatile void *p)
{
	return VIO_LE16(*(const volatile uint16_t *)p);
}

static inline uint32_t
vio_read32(const volatile void *p)
{
	return VIO_LE32(*(const volatile uint32_t *)p);
}

static inline void
vio_write16(volatile void *p, uint16_t v)
{
	*(volatile uint16_t *)p = VIO_LE16(v);
}

static inline void
vio_write32(volatile void *p, uint32_t v)
{
	*(volatile uint32_t *)p = VIO_LE32(v);
}

static inline void
vio_write64(volatile void *p, uint64_t v)
{
	*(volatile uint64_t *)p = VIO_LE64(v);
}

/* Device registers, through the port: "os" is the device's port handle. */
static inline uint8_t
vio_reg_read8(void *os, const volatile uint8_t *p)
{
	return (uint8_t)bn_port_mmio_read(os, p, 1);
}

static inline uint16_t
vio_reg_read16(void *os, const volatile uint8_t *p)
{
	return VIO_LE16((uint16_t)bn_port_mmio_read(os, p, 2));
}

static inline uint32_t
vio_reg_read32(void *os, const volatile uint8_t *p)
{
	return VIO_LE32(bn_port_mmio_read(os, p, 4));
}

static inline void
vio_reg_write8(void *os, volatile uint8_t *p, uint8_t v)
{
	bn_port_mmio_write(os, p, 1, v);
}

static inline void
vio_reg_write16(void *os, volatile uint8_t *p, uint16_t v)
{
	bn_port_mmio_write(os, p, 2, VIO_LE16(v));
}

static inline void
vio_reg_write32(void *os, volatile uint8_t *p, uint32_t v)
{
	bn_port_mmio_write(os, p, 4, VIO_LE32(v));
}

/*
 * 64-bit registers written as two 32-bit halves, low first: the modern
 * common configuration allows it (4.1.3.1) and some devices need it.
 */
static inline void
vio_reg_write64_split(void *os, volatile uint8_t *p, uint64_t v)
{
	vio_reg_write32(os, p, (uint32_t)v);
	vio_reg_write32(os, p + 4, (uint32_t)(v >> 32));
}

/* A byte offset into a register window. */
static inline volatile uint8_t *
vio_at(volatile uint8_t *base, uint32_t off)
{
	return base + off;
}

#endif /* BALLONET_VIRTIO_IO_H */
