/*
 * ballonet: the parts of Xen's public interface the front-end speaks
 * (xen/include/public/: memory.h, hvm/params.h, event_channel.h,
 * io/xs_wire.h).  Layouts are the x86-64 ones; all little-endian.
 */
#ifndef BALLONET_XEN_ABI_H
#define BALLONET_XEN_ABI_H

#include <stdint.h>

typedef uint16_t	xen_domid_t;
#define DOMID_SELF	((xen_domid_t)0x7ff0)

/* HYPERVISOR_memory_op commands, memory.h. */
#define XENMEM_increase_reservation	0
#define XENMEM_decrease_reservation	1
#define XENMEM_current_reservation	3	/* arg: domid_t *; pages */
#define XENMEM_maximum_reservation	4	/* arg: domid_t *; pages */
#define XENMEM_populate_physmap		6

/*
 * Increase, decrease, populate.  For an auto-translated guest (PVH, HVM)
 * extent_start lists guest frame numbers, in and out; the hypercall
 * returns how many extents it handled, from the first on.
 */
struct xen_memory_reservation {
	uint64_t	extent_start;	/* guest pointer to xen_pfn_t[] */
	uint64_t	nr_extents;
	uint32_t	extent_order;	/* 0: 4 KiB pages */
	uint32_t	mem_flags;
	xen_domid_t	domid;
	uint16_t	pad[3];
};

/* HVM parameters, hvm/params.h; read with HVMOP_get_param. */
#define HVM_PARAM_STORE_PFN	1
#define HVM_PARAM_STORE_EVTCHN	2
#define HVM_PARAM_CONSOLE_PFN	17
#define HVM_PARAM_CONSOLE_EVTCHN 18

/* The xenstore ring page, io/xs_wire.h. */
#define XENSTORE_RING_SIZE	1024
#define XENSTORE_PAYLOAD_MAX	4096

struct xenstore_domain_interface {
	char		req[XENSTORE_RING_SIZE];	/* guest -> xenstored */
	char		rsp[XENSTORE_RING_SIZE];	/* replies, watch events */
	uint32_t	req_cons, req_prod;
	uint32_t	rsp_cons, rsp_prod;
	uint32_t	server_features;
	uint32_t	connection;
	uint32_t	error;
};

/* Every message starts with this header; "len" payload bytes follow. */
struct xsd_sockmsg {
	uint32_t	type;
	uint32_t	req_id;		/* echoed in the reply */
	uint32_t	tx_id;		/* 0: no transaction */
	uint32_t	len;
};

enum xsd_sockmsg_type {
	XS_READ = 2,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_WRITE = 11,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
};

#endif /* BALLONET_XEN_ABI_H */
