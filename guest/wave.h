/*
 * A memory demand that follows a schedule (the shell's `wave`), for the
 * policy benchmark; see wave.c.
 */
#ifndef GUEST_WAVE_H
#define GUEST_WAVE_H

#include <stdint.h>

void	wave_poll(uint64_t now_ms);	/* from the main loop */
int	wave_pending(void);		/* 1: work to do, do not sleep */

#endif /* GUEST_WAVE_H */
