/*
 * The console (COM1, or Xen's PV console): output for kprintf(), input
 * for the shell.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdarg.h>

#define COM1_IRQ	4	/* ISA IRQ, identity-mapped to an IOAPIC pin */

void	cons_init(void);
int	cons_init_xen(void);		/* Xen PV console; 0 or -1 */
void	cons_enable_rx_intr(void);
void	cons_putc(char c);		/* '\n' goes out as "\r\n" */
void	cons_puts(const char *s);
int	cons_getc(void);		/* -1 when nothing was typed */
int	cons_rx_ready(void);

void	kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	kvprintf(const char *fmt, va_list ap);

#endif /* GUEST_CONSOLE_H */
