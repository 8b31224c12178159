/*
 * The console: a 16550 UART on COM1, 115200 8N1, polled for output; or,
 * on Xen PVH (no UART there), the PV console ring of xencons.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/fmt.h>

#include "console.h"
#include "cpu.h"
#include "xen.h"

#define COM1		0x3f8
#define UART_DATA	0	/* DLAB=0: RBR/THR; DLAB=1: divisor low */
#define UART_IER	1	/* DLAB=1: divisor high */
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5

#define IER_RX		0x01
#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define FCR_ENABLE	0xc7	/* enable, clear both FIFOs, 14-byte trigger */
#define MCR_DTR_RTS	0x03
#define MCR_OUT2	0x08	/* gates the IRQ line on PC UARTs */
#define LSR_DR		0x01
#define LSR_THRE	0x20

static bool on_xen;

int
cons_init_xen(void)
{
	if (xencons_init() != 0)
		return -1;
	on_xen = true;
	return 0;
}

void
cons_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);		/* 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE);
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
}

/* The interrupt only wakes the main loop; the shell reads the bytes. */
void
cons_enable_rx_intr(void)
{
	outb(COM1 + UART_IER, IER_RX);
}

static void
putraw(char c)
{
	int spin;

	for (spin = 0; spin < 100000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

static void
cons_write(const char *s, size_t n)
{
	if (on_xen) {
		xencons_write(s, n);
		return;
	}
	while (n-- > 0)
		putraw(*s++);
}

void
cons_putc(char c)
{
	if (c == '\n')
		cons_write("\r\n", 2);
	else
		cons_write(&c, 1);
}

/* Whole runs at once: one notification per run on Xen. */
void
cons_puts(const char *s)
{
	const char *p;

	while (*s != '\0') {
		for (p = s; *p != '\0' && *p != '\n'; p++)
			continue;
		cons_write(s, (size_t)(p - s));
		if (*p == '\n') {
			cons_write("\r\n", 2);
			p++;
		}
		s = p;
	}
}

int
cons_rx_ready(void)
{
	if (on_xen)
		return xencons_rx_ready();
	return (inb(COM1 + UART_LSR) & LSR_DR) != 0;
}

int
cons_getc(void)
{
	if (on_xen)
		return xencons_getc();
	if (!cons_rx_ready())
		return -1;
	return inb(COM1 + UART_DATA);
}

void
kvprintf(const char *fmt, va_list ap)
{
	char buf[512];

	bn_vsnprintf(buf, sizeof(buf), fmt, ap);
	cons_puts(buf);
}

void
kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
