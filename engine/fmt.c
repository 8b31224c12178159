/*
 * Freestanding snprintf: the subset the engine and the reference guest use.
 */
#include <stdbool.h>
#include <stdint.h>

#include <ballonet/fmt.h>

struct out {
	char	*buf;
	size_t	 size;
	size_t	 len;		/* characters the full output has so far */
};

static void
put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
put_padded(struct out *o, const char *s, size_t n, int width, bool left,
    char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n-- > 0)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void
put_number(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
    int width, bool left, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	if (neg) {
		/* The sign goes before zero padding, after space padding. */
		if (pad == '0') {
			put(o, '-');
			width--;
		} else
			tmp[sizeof(tmp) - 1 - n++] = '-';
	}
	put_padded(o, tmp + sizeof(tmp) - n, n, width, left, pad);
}

int
bn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt != '\0'; fmt++) {
		bool left = false;
		char pad = ' ';
		int width = 0, lng = 0;
		const char *s;
		uint64_t u;
		int64_t i;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 2;
			else
				break;
		}
		if (left)
			pad = ' ';

		switch (*fmt) {
		case 's':
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			for (u = 0; s[u] != '\0'; u++)
				continue;
			put_padded(&o, s, u, width, left, ' ');
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i':
			if (lng >= 2)
				i = va_arg(ap, long long);
			else if (lng == 1)
				i = va_arg(ap, long);
			else
				i = va_arg(ap, int);
			/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
			u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
			put_number(&o, u, i < 0, 10, false, width, left, pad);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			put_number(&o, u, false, *fmt == 'u' ? 10 : 16,
			    *fmt == 'X', width, left, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *),
			    false, 16, false, width, left, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;	/* a lone '%' at the end */
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int
bn_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bn_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
