/*
 * ballonet vm console: the terminal in raw mode while it is attached.
 */
#ifndef BALLONET_HOST_TTY_H
#define BALLONET_HOST_TTY_H

#include <stdbool.h>
#include <termios.h>

/* What tty_raw() changed, for tty_restore(). */
struct tty_state {
	bool		raw;	/* FD is in raw mode; SAVED is its old mode */
	struct termios	saved;
};

/*
 * Put FD in raw mode if it is a terminal whose mode can be read.  Does
 * nothing to anything else: a pipe, or a terminal tcgetattr() fails on.
 */
void tty_raw(int fd, struct tty_state *st);

/* Give FD back the mode tty_raw() found, if it changed it. */
void tty_restore(int fd, const struct tty_state *st);

#endif /* BALLONET_HOST_TTY_H */
