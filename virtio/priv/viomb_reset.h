/*
 * ballonet: the balloon front-end's reset watchdog (viomb_reset.c) and
 * what it shares with viomb.c.  Private to virtio/ (priv/, as lwIP's).
 */
#ifndef BALLONET_VIOMB_RESET_H
#define BALLONET_VIOMB_RESET_H

#include <stdint.h>

#include "../viomb.h"

/*
 * From poll: reset and restart the device when it needs a reset, lost its
 * state, broke a queue or leaves requests unacknowledged; resets back off.
 */
void	viomb_reset_watchdog(struct viomb_softc *sc);

/* viomb.c: write "actual" (5.5.6), saturated to its 32 bits. */
void	viomb_put_actual(struct viomb_softc *sc, uint64_t pages);

/* viomb.c: the device config the driver writes before DRIVER_OK. */
void	viomb_put_poison(struct viomb_softc *sc, uint32_t poison_val);

#endif /* BALLONET_VIOMB_RESET_H */
