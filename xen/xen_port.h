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

/*
 * Memory hot-plug above the boot memory map (xenhot.h): what the OS does
 * with the window's pages.  Ranges are page aligned, inside the window.
 */
struct xen_hot_ops {
	/*
	 * Attach: books for the whole window, every page absent; nothing in
	 * it is touched.  Nonzero when the OS cannot use memory there.
	 */
	int	(*add_range)(void *os, uint64_t base, uint64_t size);
	/* The hypervisor populated [pa, pa + len): free memory now. */
	void	(*online)(void *os, uint64_t pa, uint64_t len);
	/*
	 * Take [pa, pa + len) out of the allocator if no page of it is in
	 * use: 0 and the pages are gone, or nonzero and nothing changed.
	 */
	int	(*offline)(void *os, uint64_t pa, uint64_t len);
};

#endif /* BALLONET_XEN_PORT_H */
