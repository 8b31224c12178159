/*
 * libFuzzer: the userland interface, from the engine's parser to the
 * reference guest's shell.  An input whose first byte is even is a list of
 * NUL-separated "name" "value" pairs for bn_sysctl_write() (engine/
 * sysctl.c); otherwise the rest is typed at the guest's shell (guest/
 * shell.c with its sysctl and mem commands, over tests/fuzz/guest_stubs.c).
 * After every write every node must still read, and balloon.4's limits
 * hold: safeguard <= min <= max, the guest's own target lies in
 * [safeguard, max], and the balloon never aims below min.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ballonet/sysctl.h>

#include "fake_port.h"
#include "guest_stubs.h"
#include "kern.h"
#include "shell.h"
#include "viomb.h"

#define RAM_PAGES	1024

static void
be_poll(void *be)
{
	(void)be;
}

static int
be_submit(void *be, struct bn_request *req)
{
	(void)be;
	(void)req;
	return BN_EBUSY;	/* nothing moves: only the rules matter here */
}

static void
be_set_actual(void *be, uint64_t pages)
{
	(void)be;
	(void)pages;
}

static const struct bn_backend_ops be_ops = {
	.sysctl_prefix = "hw.viomb", .poll = be_poll,
	.submit = be_submit, .set_actual = be_set_actual,
};

static void
check(const struct bn_balloon *b)
{
	char name[64];
	uint64_t v;
	size_t i;

	for (i = 0; i < bn_sysctl_count(b); i++) {
		if (bn_sysctl_name(b, i, name, sizeof(name)) != BN_OK ||
		    bn_sysctl_read(b, name, &v) != BN_OK)
			abort();
	}
	if (b->min_kib < b->safeguard_kib || b->min_kib > bn_balloon_max_kib(b))
		abort();
	/*
	 * A target was within [min, max] when set; min may rise above it
	 * later (balloon.4 checks values when written), and then min wins.
	 */
	if (b->user_kib != 0 && (b->user_kib < b->safeguard_kib ||
	    b->user_kib > bn_balloon_max_kib(b)))
		abort();
	if (bn_balloon_target_kib(b) < b->min_kib)
		abort();
	if (bn_balloon_check(b) != BN_OK)
		abort();
}

static void
writes(struct bn_balloon *b, const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), *name, *value;
	uint64_t old;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	for (name = text; name < text + size; name = value + strlen(value) + 1) {
		value = name + strlen(name) + 1;
		if (value > text + size)
			value = text + size;
		(void)bn_sysctl_write(b, name, value, &old);
		check(b);
		(void)bn_balloon_run(b);
	}
	free(text);
}

/* Typed lines, then an empty line and "mem free" so no state lingers. */
static void
typed(struct bn_balloon *b, const uint8_t *data, size_t size)
{
	static const uint8_t tail[] = "\nmem free\n";

	stubs_input(data, size);
	shell_poll();
	stubs_input(tail, sizeof(tail) - 1);
	shell_poll();
	check(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_os os;
	static uint64_t bitmap[BN_BITMAP_BYTES(RAM_PAGES + 256) / 8];
	static struct viomb_softc sc;
	struct bn_config cfg = {
		.name = "viomb0", .ram_pages = RAM_PAGES,
		.max_pfn = RAM_PAGES + 256, .bitmap = bitmap,
		.batch_pages = 64, .max_inflight = 2,
		.os = &os, .ops = &be_ops, .be = NULL,
	};

	if (size == 0 || bn_balloon_init(&sc.balloon, &cfg) != BN_OK)
		return 0;
	guest.viomb = &sc;
	if (data[0] % 2 == 0)
		writes(&sc.balloon, data + 1, size - 1);
	else
		typed(&sc.balloon, data + 1, size - 1);
	return 0;
}
