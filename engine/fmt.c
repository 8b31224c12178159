/*
 * Freestanding snprintf: the subset the engine and the reference guest use.
 */
#include <stdbool.h>
#include <stddef.h>
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

/* The length modifiers: which type va_arg must read (C11 7.21.6.1). */
enum len {
	LEN_INT,	/* none; also hh and h, promoted to int */
	LEN_CHAR,	/* hh */
	LEN_SHORT,	/* h */
	LEN_LONG,	/* l */
	LEN_LLONG,	/* ll */
	LEN_SIZE,	/* z: size_t */
	LEN_MAX,	/* j: intmax_t */
	LEN_PTRDIFF,	/* t: ptrdiff_t */
};

static const char *
parse_len(const char *fmt, enum len *len)
{
	switch (*fmt) {
	case 'h':
		if (fmt[1] == 'h') {
			*len = LEN_CHAR;
			return fmt + 2;
		}
		*len = LEN_SHORT;
		return fmt + 1;
	case 'l':
		if (fmt[1] == 'l') {
			*len = LEN_LLONG;
			return fmt + 2;
		}
		*len = LEN_LONG;
		return fmt + 1;
	case 'z':
		*len = LEN_SIZE;
		return fmt + 1;
	case 'j':
		*len = LEN_MAX;
		return fmt + 1;
	case 't':
		*len = LEN_PTRDIFF;
		return fmt + 1;
	default:
		*len = LEN_INT;
		return fmt;
	}
}

/*
 * Each argument is read with its own type: a 32-bit size_t read as long
 * long would swallow the next argument too.  The signed type of %zd and
 * the unsigned one of %tu have the width of size_t and ptrdiff_t.
 */
static uint64_t
arg_unsigned(va_list *ap, enum len len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	/* size_t and uintmax_t: one type on LP64 hosts, two on 32-bit ports. */
	/* NOLINTNEXTLINE(bugprone-branch-clone) */
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	case LEN_MAX:
		return va_arg(*ap, uintmax_t);
	case LEN_PTRDIFF:
		/* The unsigned type of ptrdiff_t's width. */
		if (sizeof(ptrdiff_t) == 4)
			return (uint32_t)va_arg(*ap, ptrdiff_t);
		return (uint64_t)va_arg(*ap, ptrdiff_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t
arg_signed(va_list *ap, enum len len)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
		/* The signed type of size_t's width. */
		if (sizeof(size_t) == 4)
			return (int32_t)va_arg(*ap, size_t);
		return (int64_t)va_arg(*ap, size_t);
	/* intmax_t and ptrdiff_t: one type on LP64 hosts, two on i386. */
	/* NOLINTNEXTLINE(bugprone-branch-clone) */
	case LEN_MAX:
		return va_arg(*ap, intmax_t);
	case LEN_PTRDIFF:
		return va_arg(*ap, ptrdiff_t);
	default:
		return va_arg(*ap, int);
	}
}

static void
put_string(struct out *o, const char *s, int width, bool left)
{
	size_t n;

	if (s == NULL)
		s = "(null)";
	for (n = 0; s[n] != '\0'; n++)
		continue;
	put_padded(o, s, n, width, left, ' ');
}

/* One conversion "conv", its flags, width and length already parsed. */
static void
convert(struct out *o, char conv, enum len len, va_list *ap, int width,
    bool left, char pad)
{
	uint64_t u;
	int64_t i;

	switch (conv) {
	case 's':
		put_string(o, va_arg(*ap, const char *), width, left);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case 'd':
	case 'i':
		i = arg_signed(ap, len);
		/* Negate unsigned: INT64_MIN has no positive twin. */
		u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
		put_number(o, u, i < 0, 10, false, width, left, pad);
		break;
	case 'u':
	case 'x':
	case 'X':
		u = arg_unsigned(ap, len);
		put_number(o, u, false, conv == 'u' ? 10 : 16, conv == 'X',
		    width, left, pad);
		break;
	case 'p':
		put(o, '0');
		put(o, 'x');
		put_number(o, (uint64_t)(uintptr_t)va_arg(*ap, void *),
		    false, 16, false, width, left, pad);
		break;
	case '%':
		put(o, '%');
		break;
	default:
		put(o, '%');
		put(o, conv);
		break;
	}
}

int
bn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list args;

	/* A copy, so that helpers can take its address portably. */
	va_copy(args, ap);
	for (; *fmt != '\0'; fmt++) {
		bool left = false;
		char pad = ' ';
		int width = 0;
		enum len len;

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
		fmt = parse_len(fmt, &len);
		if (left)
			pad = ' ';
		if (*fmt == '\0') {
			fmt--;	/* a lone '%' at the end */
			continue;
		}
		convert(&o, *fmt, len, &args, width, left, pad);
	}
	va_end(args);
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
