/*
 * ballonet: device initialization for every virtio driver (VIRTIO 1.2,
 * 3.1.1), over any transport.  The status steps and the transport's own
 * feature bits live here, so that each driver only says which of its
 * device's features it wants and sets up its queues.
 */
#include <stdbool.h>
#include <stdint.h>

#include <ballonet/error.h>

#include "virtio.h"

int
virtio_reinit_start(struct virtio_dev *d, uint64_t *offered)
{
	int error;

	*offered = 0;
	if ((error = virtio_reset(d)) != BN_OK)
		return error;
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	*offered = virtio_get_features(d);
	return BN_OK;
}

uint64_t
virtio_accept(const struct virtio_dev *d, uint64_t offered, uint64_t want)
{
	uint64_t take = want & ~VIRTIO_F_TRANSPORT_MASK;

	if (d->modern)
		take |= 1ull << VIRTIO_F_VERSION_1;
	take |= 1ull << VIRTIO_F_ACCESS_PLATFORM;
	return offered & take;
}

int
virtio_features_ok(struct virtio_dev *d, uint64_t features)
{
	if (d->modern && (features & (1ull << VIRTIO_F_VERSION_1)) == 0)
		return BN_ENODEV;
	virtio_set_features(d, features);
	if (!d->modern)
		return BN_OK;
	virtio_add_status(d, VIRTIO_STATUS_FEATURES_OK);
	if ((virtio_get_status(d) & VIRTIO_STATUS_FEATURES_OK) == 0)
		return BN_ENODEV;
	return BN_OK;
}

void
virtio_reinit_end(struct virtio_dev *d)
{
	virtio_add_status(d, VIRTIO_STATUS_DRIVER_OK);
}

void
virtio_fail(struct virtio_dev *d)
{
	virtio_add_status(d, VIRTIO_STATUS_FAILED);
}
