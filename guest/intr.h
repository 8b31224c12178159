/*
 * Interrupt sources: who fired, how often, and whether it was for us.
 *
 * A handler returns 1 when the interrupt was its device's.  A level pin
 * that keeps firing for nobody is masked; once one of several candidate
 * pins of a device proves to be the right one, the others are masked.
 */
#ifndef GUEST_INTR_H
#define GUEST_INTR_H

#include <stdbool.h>
#include <stdint.h>

typedef int (*intr_fn_t)(void *arg);

struct intrsrc {
	const char	*name;
	int		 gsi;		/* -1: local APIC source */
	uint8_t		 vec;
	bool		 level;
	bool		 masked;
	bool		 claimed;	/* some interrupt was the device's */
	uint64_t	 count;		/* times it fired */
	uint64_t	 stray;		/* fired, handler said not ours */
	uint32_t	 stray_run;	/* consecutive strays */
	intr_fn_t	 fn;
	void		*arg;
};

int	intr_establish_local(uint8_t vec, const char *name, intr_fn_t fn,
	    void *arg);
int	intr_establish_gsi(uint32_t gsi, bool level, const char *name,
	    intr_fn_t fn, void *arg);
void	intr_print(void);
/* The pin "arg"'s device proved to use, -1 while none has. */
int	intr_claimed_gsi(void *arg);

#endif /* GUEST_INTR_H */
