/*
 * ballonet vm console: raw mode (see tty.h).
 */
#include "tty.h"

#include <unistd.h>

void
tty_raw(int fd, struct tty_state *st)
{
	struct termios raw;

	st->raw = false;
	if (!isatty(fd) || tcgetattr(fd, &st->saved) != 0)
		return;	/* nothing read, so nothing to give back */
	raw = st->saved;
	cfmakeraw(&raw);
	st->raw = tcsetattr(fd, TCSANOW, &raw) == 0;
}

void
tty_restore(int fd, const struct tty_state *st)
{
	if (st->raw)
		tcsetattr(fd, TCSANOW, &st->saved);
}
