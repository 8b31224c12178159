/*
 * ballonet: memory sizes as the operator writes them.
 *
 * A size is a decimal number followed by an optional unit: B (bytes),
 * K, M, G or T (binary multiples: KiB, MiB, GiB, TiB), in either case,
 * optionally spelled KiB, MiB, GiB, TiB.  A bare number is MiB, as in
 * QEMU's -m option and HMP balloon command.  Nothing else is accepted:
 * no sign, no blanks, no fraction, no hexadecimal, no overflow.
 */
#ifndef BALLONET_HOST_SIZE_H
#define BALLONET_HOST_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parse TEXT into *BYTES.  Returns 0, or -1 if malformed or too large. */
int size_parse(const char *text, uint64_t *bytes);

/*
 * Format BYTES for people in the largest unit that divides it exactly:
 * "512 MiB", "1536 MiB", "4 KiB", "1000 B".  Never rounds.  Returns BUF.
 */
const char *size_format(uint64_t bytes, char *buf, size_t len);

#define SIZE_BUFLEN 32

#endif /* BALLONET_HOST_SIZE_H */
