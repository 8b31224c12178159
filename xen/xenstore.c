/*
 * ballonet: the xenstore client.  Wire format: io/xs_wire.h; ring rules:
 * docs/misc/xenstore-ring.txt (free-running 32-bit indexes, the producer
 * publishes its index after the data, the consumer after reading it).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>
#include <ballonet/fmt.h>
#include <ballonet/port.h>
#include <ballonet/str.h>

#include "xenstore.h"

#define RING_MASK(i)	((i) & (XENSTORE_RING_SIZE - 1))
#define HDR_BYTES	sizeof(struct xsd_sockmsg)

void
xs_init(struct xs_client *xs, const struct xen_hv *hv, void *os, void *ring,
    uint32_t evtchn)
{
	bn_memzero(xs, sizeof(*xs));
	xs->ring = ring;
	xs->evtchn = evtchn;
	xs->hv = hv;
	xs->os = os;
	xs->next_id = 1;
}

int
xs_error_code(const char *name)
{
	static const struct {
		const char	*name;
		int		 code;
	} map[] = {
		{ "ENOENT", BN_ENOENT }, { "EACCES", BN_EPERM },
		{ "EPERM", BN_EPERM }, { "EINVAL", BN_EINVAL },
		{ "ENOMEM", BN_ENOMEM }, { "EBUSY", BN_EBUSY },
		{ "EAGAIN", BN_EBUSY }, { "E2BIG", BN_ERANGE },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (bn_streq(name, map[i].name))
			return map[i].code;
	return BN_EIO;
}

/* A whole message arrived: a watch event, our reply, or noise. */
static void
xs_dispatch(struct xs_client *xs)
{
	size_t kept = xs->hdr.len < XS_VALUE_MAX ? xs->hdr.len : XS_VALUE_MAX;
	size_t i;

	if (xs->hdr.type == XS_WATCH_EVENT) {
		xs->events++;
		return;
	}
	if (!xs->waiting || xs->replied || xs->hdr.req_id != xs->want_id) {
		xs->bogus++;
		return;
	}
	for (i = 0; i < kept; i++)
		xs->reply[i] = xs->payload[i];
	xs->reply_type = xs->hdr.type;
	xs->reply_len = xs->hdr.len;
	xs->replied = true;
}

/* Take one byte of the incoming message; dispatch it when complete. */
static void
xs_take(struct xs_client *xs, char c)
{
	size_t off;

	if (xs->got < HDR_BYTES) {
		((char *)&xs->hdr)[xs->got++] = c;
		if (xs->got < HDR_BYTES)
			return;
		if (xs->hdr.len > XENSTORE_PAYLOAD_MAX) {
			xs->broken = true;
			return;
		}
	} else {
		off = xs->got++ - HDR_BYTES;
		if (off < XS_VALUE_MAX)
			xs->payload[off] = c;
	}
	if (xs->got == HDR_BYTES + xs->hdr.len) {
		xs_dispatch(xs);
		xs->got = 0;
	}
}

bool
xs_pending(const struct xs_client *xs)
{
	return xs->ring != NULL && xs->ring->rsp_cons != xs->ring->rsp_prod;
}

static void
xs_drain(struct xs_client *xs)
{
	volatile struct xenstore_domain_interface *r = xs->ring;
	uint32_t cons, prod;

	cons = r->rsp_cons;
	prod = r->rsp_prod;
	bn_port_mb(xs->os);		/* the index before the data */
	if (prod - cons > XENSTORE_RING_SIZE) {
		xs->broken = true;
		return;
	}
	if (cons == prod)
		return;
	while (cons != prod && !xs->broken)
		xs_take(xs, r->rsp[RING_MASK(cons++)]);
	bn_port_mb(xs->os);		/* the data before the index */
	r->rsp_cons = cons;
	xs->hv->evtchn_send(xs->os, xs->evtchn);
}

uint32_t
xs_poll(struct xs_client *xs)
{
	uint32_t n;

	if (xs->ring == NULL || xs->broken)
		return 0;
	xs_drain(xs);
	n = xs->events;
	xs->events = 0;
	return n;
}

static bool
xs_timed_out(struct xs_client *xs, uint64_t start)
{
	if (bn_port_now_ms(xs->os) - start >= XS_TIMEOUT_MS)
		return true;
	if (xs->hv->relax != NULL)
		xs->hv->relax(xs->os);
	return false;
}

/* Copy "len" bytes into the request ring, waiting for room. */
static int
xs_put(struct xs_client *xs, const void *data, size_t len, uint64_t start)
{
	volatile struct xenstore_domain_interface *r = xs->ring;
	const char *p = data;
	uint32_t cons, prod;

	while (len > 0) {
		cons = r->req_cons;
		prod = r->req_prod;
		bn_port_mb(xs->os);
		if (prod - cons > XENSTORE_RING_SIZE) {
			xs->broken = true;
			return BN_EIO;
		}
		if (prod - cons == XENSTORE_RING_SIZE) {
			xs->hv->evtchn_send(xs->os, xs->evtchn);
			if (xs_timed_out(xs, start))
				return BN_ETIMEDOUT;
			continue;
		}
		while (len > 0 && prod - cons < XENSTORE_RING_SIZE) {
			r->req[RING_MASK(prod++)] = *p++;
			len--;
		}
		bn_port_mb(xs->os);	/* the data before the index */
		r->req_prod = prod;
	}
	return BN_OK;
}

/*
 * Send one request made of "nparts" strings (each with its NUL when
 * "nul[i]"), wait for its reply.  BN_OK leaves the reply in xs->reply.
 */
static int
xs_request(struct xs_client *xs, uint32_t type, const char *const *parts,
    const bool *nul, int nparts)
{
	struct xsd_sockmsg hdr = { .type = type, .tx_id = 0 };
	uint64_t start;
	size_t len = 0;
	int i, error;

	if (xs->ring == NULL || xs->broken)
		return BN_ENODEV;
	for (i = 0; i < nparts; i++)
		len += bn_strlen(parts[i]) + (nul[i] ? 1 : 0);
	if (len > XENSTORE_PAYLOAD_MAX)
		return BN_ERANGE;
	hdr.req_id = xs->next_id++;
	hdr.len = (uint32_t)len;
	xs->waiting = true;
	xs->want_id = hdr.req_id;
	xs->replied = false;
	start = bn_port_now_ms(xs->os);
	error = xs_put(xs, &hdr, sizeof(hdr), start);
	for (i = 0; i < nparts && error == BN_OK; i++)
		error = xs_put(xs, parts[i], bn_strlen(parts[i]) +
		    (nul[i] ? 1 : 0), start);
	if (error == BN_OK)
		xs->hv->evtchn_send(xs->os, xs->evtchn);
	while (error == BN_OK && !xs->replied) {
		xs_drain(xs);
		if (xs->broken)
			error = BN_EIO;
		else if (!xs->replied && xs_timed_out(xs, start))
			error = BN_ETIMEDOUT;
	}
	xs->waiting = false;
	if (error != BN_OK)
		return error;
	if (xs->reply_type == XS_ERROR) {
		xs->reply[xs->reply_len < XS_VALUE_MAX - 1 ?
		    xs->reply_len : XS_VALUE_MAX - 1] = '\0';
		return xs_error_code(xs->reply);
	}
	return xs->reply_type == type ? BN_OK : BN_EIO;
}

int
xs_read(struct xs_client *xs, const char *path, char *buf, size_t len)
{
	const char *parts[] = { path };
	const bool nul[] = { true };
	size_t n, i;
	int error;

	if (len == 0)
		return BN_EINVAL;
	error = xs_request(xs, XS_READ, parts, nul, 1);
	if (error != BN_OK)
		return error;
	n = xs->reply_len < XS_VALUE_MAX ? xs->reply_len : XS_VALUE_MAX;
	if (n > len - 1)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = xs->reply[i];
	buf[n] = '\0';
	return BN_OK;
}

int
xs_read_u64(struct xs_client *xs, const char *path, uint64_t *val)
{
	const char *end;
	char buf[24];
	uint64_t v;
	int error;

	if ((error = xs_read(xs, path, buf, sizeof(buf))) != BN_OK)
		return error;
	/* xs_read truncates: a prefix of the number is not the number. */
	if (xs->reply_len >= sizeof(buf))
		return BN_ERANGE;
	if ((error = bn_parse_u64(buf, &v, &end)) != BN_OK)
		return error;
	if (*end != '\0')
		return BN_EINVAL;
	*val = v;
	return BN_OK;
}

/* XS_WRITE: "path\0value", the value without a NUL. */
int
xs_write(struct xs_client *xs, const char *path, const char *value)
{
	const char *parts[] = { path, value };
	const bool nul[] = { true, false };

	return xs_request(xs, XS_WRITE, parts, nul, 2);
}

/* XS_WATCH: "path\0token\0". */
int
xs_watch(struct xs_client *xs, const char *path, const char *token)
{
	const char *parts[] = { path, token };
	const bool nul[] = { true, true };

	return xs_request(xs, XS_WATCH, parts, nul, 2);
}
