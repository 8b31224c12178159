/*
 * libFuzzer: the xenstore client (xen/xenstore.c) against a hostile dom0.
 * The input is a script for both ends of the shared ring.  The guest's
 * side reads, writes, watches and polls; "xenstored" acts whenever the
 * client kicks the event channel or waits (relax): it takes the requests
 * or stalls, streams bytes into the response ring (raw, or a header aimed
 * at the request in flight with any type and length), and may write any
 * value into the ring's indexes.
 *
 * The ring is allocated at its exact size, so ASan catches any access
 * beyond it.  After every step: the client never consumes bytes dom0 did
 * not publish nor overwrites requests dom0 has not taken (while dom0 kept
 * the indexes honest), the message it assembles stays within
 * XENSTORE_PAYLOAD_MAX, xs_read() returns a NUL-terminated prefix of the
 * reply within the caller's buffer, every error is one of the documented
 * codes, requests end (the clock moves in each wait), and a client that
 * found a protocol error stays off the ring.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_port.h"
#include "xenstore.h"

#define HDR_BYTES	sizeof(struct xsd_sockmsg)
#define BACKLOG_MAX	(3 * XENSTORE_PAYLOAD_MAX)	/* bytes dom0 queues */
#define STEPS_MAX	64	/* client calls per input */
#define RELAX_MS	100	/* clock step per wait: 50 turns per timeout */

struct input {
	const uint8_t	*p;
	size_t		 left;
};

static struct input in;
static struct fake_os os;
static struct xenstore_domain_interface *ring;
static struct xs_client xs;

/* Bytes dom0 means to send, oldest first, and its own producer index. */
static uint8_t backlog[BACKLOG_MAX];
static size_t nbacklog;
static uint32_t prod;
static bool stall;		/* dom0 leaves requests on the ring */
static bool honest;		/* dom0 has not touched an index it does not own */
static uint32_t turns;		/* dom0's turns in this input */
static uint64_t events_seen;	/* watch events xs_poll() returned */

static uint8_t
u8(void)
{
	if (in.left == 0)
		return 0;
	in.left--;
	return *in.p++;
}

static uint32_t
u32(void)
{
	uint32_t v = u8();

	v |= (uint32_t)u8() << 8;
	v |= (uint32_t)u8() << 16;
	return v | (uint32_t)u8() << 24;
}

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_xenstore: %s\n", why);
	abort();
}

static void
queue(const void *p, size_t n)
{
	if (n > BACKLOG_MAX - nbacklog)
		n = BACKLOG_MAX - nbacklog;
	memcpy(backlog + nbacklog, p, n);
	nbacklog += n;
}

/* Raw bytes from the input, or a header and payload for the request. */
static void
queue_message(uint8_t op)
{
	static const uint32_t types[] = {
		XS_READ, XS_WRITE, XS_WATCH, XS_WATCH_EVENT, XS_ERROR,
	};
	struct xsd_sockmsg h;
	uint8_t fill[256];
	size_t n;

	if ((op & 0x10) != 0) {
		n = u8();
		if (n > in.left)
			n = in.left;
		queue(in.p, n);
		in.p += n;
		in.left -= n;
		return;
	}
	h.type = (op & 0x20) != 0 ? u32() : types[u8() % 5];
	h.req_id = xs.want_id + ((op & 0x40) != 0 ? u8() : 0);
	h.tx_id = 0;
	h.len = (op & 0x80) != 0 ? u32() % (XENSTORE_PAYLOAD_MAX + 64) : u8();
	queue(&h, sizeof(h));
	n = u8();
	if (n > in.left)
		n = in.left;
	if (n > h.len)
		n = h.len;
	queue(in.p, n);
	in.p += n;
	in.left -= n;
	/* The rest of the payload: digits, so that numbers can parse. */
	memset(fill, '7', sizeof(fill));
	for (n = h.len - n; n > 0 && nbacklog < BACKLOG_MAX; ) {
		size_t k = n < sizeof(fill) ? n : sizeof(fill);

		queue(fill, k);
		n -= k;
	}
}

/* Put what fits of the backlog on the response ring. */
static void
publish(void)
{
	uint32_t room = XENSTORE_RING_SIZE - (prod - ring->rsp_cons);
	size_t n, i;

	if (room > XENSTORE_RING_SIZE)
		room = 0;	/* the client's index is wild: wait */
	n = nbacklog < room ? nbacklog : room;
	for (i = 0; i < n; i++)
		ring->rsp[(prod + i) & (XENSTORE_RING_SIZE - 1)] =
		    (char)backlog[i];
	memmove(backlog, backlog + n, nbacklog - n);
	nbacklog -= n;
	prod += (uint32_t)n;
	ring->rsp_prod = prod;
}

/* The ring as dom0 sees it: the client kept to its side of the rules. */
static void
check_ring(void)
{
	if (!honest)
		return;
	if ((uint32_t)(ring->rsp_prod - ring->rsp_cons) > XENSTORE_RING_SIZE)
		die("the client consumed bytes dom0 never published");
	if ((uint32_t)(ring->req_prod - ring->req_cons) > XENSTORE_RING_SIZE)
		die("the client overwrote requests dom0 had not taken");
}

/* One turn of xenstored: at every kick and every wait of the client. */
static void
dom0(void)
{
	uint8_t op;

	check_ring();
	if (++turns > 4096)
		return;		/* a long wait: let the clock end it */
	if (!stall)
		ring->req_cons = ring->req_prod;
	if (in.left == 0) {
		publish();	/* the script is over: dom0 goes quiet */
		return;
	}
	op = u8();
	switch (op & 7) {
	case 0: case 1: case 2:
		queue_message(op);
		break;
	case 3:
		stall = (op & 0x80) != 0;
		break;
	case 4:
		prod = ring->rsp_prod = u32();
		honest = false;
		break;
	case 5:
		ring->rsp_cons = u32();
		honest = false;
		break;
	case 6:
		ring->req_cons = u32();
		honest = false;
		break;
	case 7:
		break;		/* nothing this time */
	}
	publish();
}

static void
hv_evtchn_send(void *osp, uint32_t port)
{
	(void)osp;
	if (port != 3)
		die("kicked the wrong event channel");
	dom0();
}

static void
hv_relax(void *osp)
{
	((struct fake_os *)osp)->now_ms += RELAX_MS;
	dom0();
}

static const struct xen_hv hv = {
	.evtchn_send = hv_evtchn_send, .relax = hv_relax,
};

/* FUZZ_XENSTORE_DEBUG=1: what each request returned, to check seeds. */
static void
debug(const char *call, int error)
{
	if (getenv("FUZZ_XENSTORE_DEBUG") != NULL)
		fprintf(stderr, "fuzz_xenstore: %s: %s, reply type %u len %zu\n",
		    call, bn_strerror(error), (unsigned)xs.reply_type,
		    xs.reply_len);
}

static void
check_state(void)
{
	check_ring();
	if (xs.waiting)
		die("a request returned still waiting");
	if (xs.got >= HDR_BYTES + XENSTORE_PAYLOAD_MAX)
		die("a message grew beyond XENSTORE_PAYLOAD_MAX");
	if (xs.reply_len > XENSTORE_PAYLOAD_MAX)
		die("a reply longer than XENSTORE_PAYLOAD_MAX");
}

static void
check_error(int error)
{
	switch (error) {
	case BN_OK: case BN_EIO: case BN_ETIMEDOUT: case BN_ENODEV:
	case BN_ENOENT: case BN_EPERM: case BN_EINVAL: case BN_ENOMEM:
	case BN_EBUSY: case BN_ERANGE:
		return;
	}
	die("a request returned an undocumented error");
}

/* What every request leaves behind. */
static void
check(int error, bool was_broken)
{
	check_error(error);
	if (was_broken && error != BN_ENODEV)
		die("a broken client went back to the ring");
	check_state();
}

static void
do_read(void)
{
	size_t len = u8() % 40 + 1, n;
	char *buf = malloc(len);
	bool was_broken = xs.broken;
	int error;

	if (buf == NULL)
		return;
	error = xs_read(&xs, "memory/target", buf, len);
	debug("xs_read", error);
	check(error, was_broken);
	if (error == BN_OK) {
		n = xs.reply_len < XS_VALUE_MAX ? xs.reply_len : XS_VALUE_MAX;
		if (n > len - 1)
			n = len - 1;
		if (buf[n] != '\0' || memcmp(buf, xs.reply, n) != 0)
			die("xs_read: not the reply's first bytes");
	}
	free(buf);
}

static void
do_read_u64(void)
{
	bool was_broken = xs.broken;
	uint64_t v = 0xdeadbeef, want = 0;
	size_t i;
	int error;

	error = xs_read_u64(&xs, "memory/static-max", &v);
	debug("xs_read_u64", error);
	check(error, was_broken);
	if (error != BN_OK) {
		if (v != 0xdeadbeef)
			die("xs_read_u64 failed but wrote its result");
		return;
	}
	/* The number is the reply's, up to a NUL at most. */
	for (i = 0; i < xs.reply_len && xs.reply[i] != '\0'; i++) {
		if (xs.reply[i] < '0' || xs.reply[i] > '9')
			die("xs_read_u64 took a reply that is not a number");
		want = want * 10 + (uint64_t)(xs.reply[i] - '0');
	}
	if (i == 0 || v != want)
		die("xs_read_u64: not the reply's number");
}

static void
step(void)
{
	bool was_broken = xs.broken;
	uint32_t cons = ring->rsp_cons, events;
	uint8_t op = u8();

	switch (op % 6) {
	case 0:
		do_read();
		break;
	case 1:
		do_read_u64();
		break;
	case 2:
		check(xs_write(&xs, "memory/target", "524288"), was_broken);
		break;
	case 3:
		check(xs_watch(&xs, "memory/target", "tok"), was_broken);
		break;
	case 4:
		events = xs_poll(&xs);
		check_state();
		if (was_broken && (events != 0 || ring->rsp_cons != cons))
			die("a broken client polled the ring");
		events_seen += events;
		if (honest && events_seen > ring->rsp_cons / HDR_BYTES)
			die("more watch events than messages");
		break;
	case 5:
		dom0();		/* something arrives while nobody waits */
		if (xs_pending(&xs) != (ring->rsp_cons != ring->rsp_prod))
			die("xs_pending does not match the ring");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int steps = 0;

	if (ring == NULL && (ring = malloc(sizeof(*ring))) == NULL)
		abort();
	memset(ring, 0, sizeof(*ring));
	memset(&os, 0, sizeof(os));
	in = (struct input){ data, size };
	nbacklog = 0;
	prod = 0;
	stall = false;
	honest = true;
	turns = 0;
	events_seen = 0;
	xs_init(&xs, &hv, &os, ring, 3);
	while (in.left > 0 && steps++ < STEPS_MAX)
		step();
	return 0;
}
