/*
 * libFuzzer: the virtio front-end and the engine against a device model
 * (tests/harness/devmodel.c) that the input drives.  The first bytes set
 * up the device (features, queue sizes, legacy), the rest is a script of
 * steps: run the worker, move the clock, change num_pages, complete or
 * hold buffers, return bogus or out-of-order used entries, corrupt a used
 * index, ask for a reset, lose state, refuse allocations, use memory.
 * After every step the harness's invariants must hold; a broken one is a
 * crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "devmodel.h"
#include "fuzz_input.h"
#include "virtio_io.h"

#define RAM_PAGES	768	/* 3 MiB: small, so that each run is quick */

static void
check(struct devmodel *dm, const char *step)
{
	fuzz_check("fuzz_viomb", step, dm_check(dm), &dm->os);
}

/* Device shape: features, queue sizes, transport, driver limits. */
static void
configure(struct devmodel *dm, struct input *in)
{
	uint8_t f = in_u8(in), q0 = in_u8(in), q1 = in_u8(in), lim = in_u8(in);

	dm->offered = (uint64_t)in_u8(in) |
	    (f & 1 ? 1ull << VIRTIO_F_VERSION_1 : 0);
	dm->vdev.modern = (f & 2) == 0;
	dm->fixed_size = (f & 4) != 0;
	dm->refuse_features_ok = (f & 8) != 0 && (f & 0x30) == 0x30;
	dm->q[0].max = f & 0x40 ? q0 : 128;
	dm->q[1].max = f & 0x80 ? q1 : 128;
	dm->cfg.batch_pages = (uint32_t)(lim & 0x0f) * 70;
	dm->cfg.max_inflight = (uint32_t)(lim >> 4) % 9;
	dm->used_len = lim & 1 ? 0xffffffffu : 0;
}

/* A used entry from a device that may lie; the model stays honest. */
static void
hostile_used(struct devmodel *dm, struct input *in)
{
	int qi = in_u8(in) & 1;
	uint16_t id = (uint16_t)in_u32(in);

	if ((dm->status & VIRTIO_STATUS_NEEDS_RESET) != 0)
		return;
	dm_consume(dm, qi);
	if (!dm_complete_id(dm, qi, id))
		dm_push_used(dm, qi, id, in_u32(in));
}

static void
corrupt_used_idx(struct devmodel *dm, struct input *in)
{
	struct dm_queue *q = &dm->q[in_u8(in) & 1];
	uint16_t jump = (uint16_t)in_u32(in);

	if (!q->enabled || (uint16_t)(jump - 1) < q->size)
		return;		/* a plausible idx: the model would lie */
	vio_write16(dm_va(dm, q->used) + 2, (uint16_t)(q->used_idx + jump));
}

static void
step(struct devmodel *dm, struct input *in)
{
	uint8_t op = in_u8(in);

	switch (op % 16) {
	case 0: case 1: case 2:
		bn_balloon_run(&dm->sc->balloon);
		break;
	case 3:
		dm->os.now_ms += (uint64_t)in_u32(in) % 120000;
		break;
	case 4:
		dm_set_num_pages(dm, op & 0x80 ? in_u32(in) :
		    in_u32(in) % (RAM_PAGES + 64));
		break;
	case 5:
		dm_complete(dm, in_u8(in) & 1, in_u8(in));
		break;
	case 6:
		dm_consume(dm, in_u8(in) & 1);
		break;
	case 7:
		hostile_used(dm, in);
		break;
	case 8:
		dm->hold = (op & 0x10) != 0;
		dm->no_ack = (op & 0x20) != 0;
		dm->tear = (op & 0x40) != 0;
		dm->flap_pages = op & 0x80 ? in_u32(in) : 0;
		break;
	case 9:
		dm_needs_reset(dm);
		break;
	case 10:
		if (op & 0x10)
			dm_lose_state(dm);
		else
			dm->status &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;
		break;
	case 11:
		corrupt_used_idx(dm, in);
		break;
	case 12:
		dm->os.fail_after = op & 0x80 ? -1 : (long)(in_u8(in) % 64);
		break;
	case 13:
		if (op & 0x80)
			dm_unuse(dm, in_u8(in));
		else
			dm_use(dm, in_u8(in));
		break;
	case 14:
		dm->offered ^= 1ull << (in_u8(in) % 6);
		break;
	case 15:
		dm_process(dm, in_u8(in) & 1);
		break;
	}
	check(dm, "a step");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct devmodel *dm = dm_new(RAM_PAGES);
	int steps = 0;

	configure(dm, &in);
	if (dm_attach(dm) == BN_OK) {
		check(dm, "attach");
		while (in.left > 0 && steps++ < 400)
			step(dm, &in);
		/* A device that behaves again must be able to finish. */
		dm->hold = dm->no_ack = dm->tear = false;
		dm->flap_pages = 0;
		dm->os.fail_after = -1;
		viomb_detach(dm->sc);
		check(dm, "detach");
	}
	dm_free(dm);
	return 0;
}
