/*
 * Interrupt sources: who fired, how often, and whether it was for us.
 *
 * A handler returns 1 when the interrupt was its device's.  Several
 * devices may share a level pin (PCI INTx): each registers its handler,
 * every handler of the pin runs on each interrupt and reads its own
 * device's ISR.  A pin that keeps firing for nobody is masked; once one
 * of several candidate pins of a device proves to be the right one, its
 * sources on the others stop listening, and a pin no source listens on
 * any more is masked.
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
	bool		 masked;	/* no longer listens (see above) */
	bool		 claimed;	/* some interrupt was the device's */
	uint64_t	 count;		/* times it fired */
	uint64_t	 stray;		/* fired, handler said not ours */
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
