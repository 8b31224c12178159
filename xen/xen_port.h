/*
 * ballonet: what the Xen front-end needs from the OS beyond
 * include/ballonet/port.h.
 *
 * Hypercalls are made through an instruction sequence only the OS can set
 * up (x86: the hypercall page written through the MSR that CPUID leaf
 * 0x40000002 names; Arm: hvc), so the OS hands xen/ a table of the four
 * operations it uses.  Pointers passed to the hypervisor are the OS's own
 * virtual addresses, as the hypercall ABI wants.  Everything else (the
 * xenstore ring's page, the clock, logging) goes through port.h.
 *
 * All hooks run in worker context.
 */
#ifndef BALLONET_XEN_PORT_H
#define BALLONET_XEN_PORT_H

#include <stdint.h>

struct xen_hv {
	/* HYPERVISOR_memory_op(cmd, arg): the hypervisor's return value. */
	long	(*memory_op)(void *os, unsigned int cmd, void *arg);

	/* HVMOP_get_param for this domain; 0, or nonzero when refused. */
	int	(*get_param)(void *os, uint32_t index, uint64_t *val);

	/* EVTCHNOP_send: kick the other end of event channel "port". */
	void	(*evtchn_send)(void *os, uint32_t port);

	/*
	 * Called in every turn of a loop that waits for xenstored (a few
	 * milliseconds at most): "pause" on x86.  May be NULL.
	 */
	void	(*relax)(void *os);
};

#endif /* BALLONET_XEN_PORT_H */
