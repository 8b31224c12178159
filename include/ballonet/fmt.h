/*
 * ballonet: freestanding formatting, so that the engine needs no libc.
 *
 * Supports %s %c %d %i %u %x %X %p %% with the length modifiers hh, h, l,
 * ll, z, j and t (each argument is read with its own type, whatever the
 * width of long and size_t), a field width and the '0' and '-' flags.
 * Always NUL-terminates when size > 0; returns the length the full output
 * would have had.
 */
#ifndef BALLONET_FMT_H
#define BALLONET_FMT_H

#include <stdarg.h>
#include <stddef.h>

int bn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int bn_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* BALLONET_FMT_H */
