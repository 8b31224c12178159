/*
 * ballonet: a xenstore client on the shared ring (docs/misc/xenstore-ring.txt,
 * io/xs_wire.h): one request at a time, watch events kept for the caller.
 *
 * The client is polled: xs_poll() drains what xenstored sent, and requests
 * wait for their reply by polling the ring (xenstored answers in
 * milliseconds; the wait is bounded by XS_TIMEOUT_MS).  Paths without a
 * leading '/' are relative to the domain's home, /local/domain/<domid>.
 */
#ifndef BALLONET_XENSTORE_H
#define BALLONET_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ballonet/error.h>

#include "xen_abi.h"
#include "xen_port.h"

#define XS_TIMEOUT_MS	5000	/* longest wait for a reply */
#define XS_VALUE_MAX	128	/* bytes of a reply we keep */

struct xs_client {
	volatile struct xenstore_domain_interface *ring;
	uint32_t		 evtchn;	/* to kick xenstored */
	const struct xen_hv	*hv;
	void			*os;
	uint32_t		 next_id;	/* req_id of the next request */

	/* The message being received: header, then payload. */
	struct xsd_sockmsg	 hdr;
	size_t			 got;		/* bytes of hdr + payload so far */
	char			 payload[XS_VALUE_MAX];	/* first bytes of it */

	/* The reply to the request in flight. */
	bool			 waiting;
	uint32_t		 want_id;
	bool			 replied;
	uint32_t		 reply_type;
	size_t			 reply_len;	/* whole payload, maybe > kept */
	char			 reply[XS_VALUE_MAX];

	uint32_t		 events;	/* watch events not yet taken */
	uint32_t		 bogus;		/* messages nobody asked for */
	bool			 broken;	/* protocol error: ring unusable */
};

/* Start on a ring page mapped at "ring"; nothing is sent. */
void	xs_init(struct xs_client *xs, const struct xen_hv *hv, void *os,
	    void *ring, uint32_t evtchn);

/* Read "path" as a string (NUL-terminated, truncated to len - 1). */
int	xs_read(struct xs_client *xs, const char *path, char *buf, size_t len)
	    BN_MUST_CHECK;
/* Read "path" as an unsigned decimal number. */
int	xs_read_u64(struct xs_client *xs, const char *path, uint64_t *val)
	    BN_MUST_CHECK;
int	xs_write(struct xs_client *xs, const char *path, const char *value)
	    BN_MUST_CHECK;
/* Watch "path"; xenstored fires it once at once, then on every change. */
int	xs_watch(struct xs_client *xs, const char *path, const char *token)
	    BN_MUST_CHECK;

/* Drain the ring; return the watch events seen since the last call. */
uint32_t xs_poll(struct xs_client *xs);

/* True when xenstored has put something on the ring we have not read. */
bool	xs_pending(const struct xs_client *xs);

/* BN_* code for the errno name of an XS_ERROR reply ("ENOENT", ...). */
int	xs_error_code(const char *name);

#endif /* BALLONET_XENSTORE_H */
