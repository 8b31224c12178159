/*
 * ballonet: between viomb.c and viomb_feat.c, the optional parts of the
 * balloon (statistics, free page reporting).  Private to virtio/ (priv/,
 * as lwIP's): not for OS code.
 */
#ifndef BALLONET_VIOMB_FEAT_H
#define BALLONET_VIOMB_FEAT_H

#include <stdint.h>

#include "../viomb.h"

/* How many statistics the port keeps; 0: do not negotiate STATS_VQ. */
uint32_t viomb_stats_probe(struct viomb_softc *sc);

/* Before DRIVER_OK: the first buffer, published but not notified. */
int	viomb_stats_init(struct viomb_softc *sc) BN_MUST_CHECK;

/* After a reset, before DRIVER_OK: the same, without allocating. */
void	viomb_stats_repost(struct viomb_softc *sc);

/* After DRIVER_OK: notify the device of that buffer (5.5.5 step 7). */
void	viomb_stats_start(struct viomb_softc *sc);

void	viomb_stats_free(struct viomb_softc *sc);

/* From poll: take used buffers back, refill and repost the stats. */
void	viomb_stats_drain(struct viomb_softc *sc);
void	viomb_report_drain(struct viomb_softc *sc);

/* After a reset: the reports the device held go back through report_done. */
void	viomb_report_drop(struct viomb_softc *sc);

#endif /* BALLONET_VIOMB_FEAT_H */
