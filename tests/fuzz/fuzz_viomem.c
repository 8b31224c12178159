/*
 * libFuzzer: the virtio-mem front-end against the device model of
 * tests/harness/memmodel.c that the input drives.  The first bytes set up
 * the device (features, geometry, plugged memory at attach), the rest is
 * a script of steps: run the worker, move the clock, change requested_size
 * or usable_region_size (any value), force answers, hold requests, mark
 * blocks in use or free.  After every step mm_check() must hold: the OS
 * never holds an unplugged block, a block in use is never unplugged, and
 * the driver's books match the device's.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_input.h"
#include "memmodel.h"

#define BLOCKS		64

static void
check(struct memmodel *mm, const char *step)
{
	fuzz_check("fuzz_viomem", step, mm_check(mm), &mm->os);
}

/* Features, geometry (mostly sane, sometimes anything), plugged blocks. */
static void
configure(struct memmodel *mm, struct input *in)
{
	uint8_t f = in_u8(in), g = in_u8(in), n = in_u8(in);
	uint64_t i;

	mm->offered = (f & 1 ? 1ull << VIRTIO_F_VERSION_1 : 0) |
	    (f & 2 ? 1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE : 0) |
	    (f & 4 ? 1ull << VIRTIO_MEM_F_ACPI_PXM : 0);
	mm->need_inaccessible = (f & 8) != 0;
	mm->vdev.modern = (f & 16) == 0;
	mm->refuse_range = (f & 32) != 0;
	mm->auto_usable = (f & 64) == 0;
	mm->qmax = f & 128 ? in_u8(in) : 128;
	if (g & 1) {
		mm->block_size = in_u64(in);
		mm->addr = in_u64(in);
		mm->region_size = in_u64(in);
	} else if (g & 2)
		mm->region_size = (uint64_t)(g >> 2) * mm->block_size;
	for (i = 0; i < (uint64_t)n % (BLOCKS + 1) &&
	    mm->region_size == mm->nblocks * mm->block_size; i++)
		mm->plugged[i] = true;
	if (mm->region_size == mm->nblocks * mm->block_size)
		mm->plugged_size = i * mm->block_size;
}

static void
step(struct memmodel *mm, struct input *in)
{
	uint8_t op = in_u8(in);

	switch (op % 12) {
	case 0: case 1: case 2:
		(void)viomem_run(&mm->sc);
		break;
	case 3:
		mm->os.now_ms += in_u64(in) % 20000;
		break;
	case 4:
		mm_request(mm, op & 0x80 ? in_u64(in) :
		    (in_u64(in) % (BLOCKS + 1)) * mm->block_size);
		break;
	case 5:
		mm->usable = op & 0x80 ? in_u64(in) :
		    (in_u64(in) % (BLOCKS + 1)) * mm->block_size;
		mm->isr |= VIRTIO_ISR_CONFIG;
		break;
	case 6:
		/* -1 honest .. 4 */
		mm->force_resp = (int)(in_u8(in) % 6) - 1;
		mm->force_count = in_u8(in) % 4;
		break;
	case 7:
		mm->hold = (op & 0x10) != 0;
		mm->no_resp = (op & 0x20) != 0 && (op & 0x40) != 0;
		break;
	case 8:
		(void)mm_process(mm);
		break;
	case 9:
		mm_busy(mm, in_u8(in) % BLOCKS, (op & 0x80) != 0);
		break;
	case 10:
		mm_run(mm, 1 + in_u8(in) % 8);
		break;
	case 11:
		(void)viomem_intr(&mm->sc);
		break;
	}
	check(mm, "a step");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct memmodel *mm = mm_new(2u << 20, BLOCKS);
	int steps = 0;

	configure(mm, &in);
	if (mm_attach(mm) == BN_OK) {
		check(mm, "attach");
		while (in.left > 0 && steps++ < 400)
			step(mm, &in);
		viomem_detach(&mm->sc);
	}
	mm_free(mm);
	return 0;
}
