/*
 * The reference guest on Xen (PVH): detection, the hypercall page, the
 * PVH start info, the PV console, and the xen/ front-end's OS hooks.
 */
#ifndef GUEST_XEN_H
#define GUEST_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_port.h"
#include "xenhot.h"

#define XEN_HVM_START_MAGIC	0x336ec578	/* in %eax from boot.S */

/* arch-x86/hvm/start_info.h, version 1. */
struct hvm_start_info {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	flags;
	uint32_t	nr_modules;
	uint64_t	modlist_paddr;
	uint64_t	cmdline_paddr;	/* NUL-terminated, 0: none */
	uint64_t	rsdp_paddr;
	uint64_t	memmap_paddr;	/* version >= 1 */
	uint32_t	memmap_entries;
	uint32_t	reserved;
};

struct hvm_memmap_table_entry {
	uint64_t	addr;
	uint64_t	size;
	uint32_t	type;		/* 1: RAM, as in the e820 */
	uint32_t	reserved;
};

struct hvm_modlist_entry {
	uint64_t	paddr;
	uint64_t	size;
	uint64_t	cmdline_paddr;
	uint64_t	reserved;
};

#define XEN_HVM_MEMMAP_TYPE_RAM	1

extern const struct xen_hv xen_hv;

/* Find Xen by CPUID and install the hypercall page; 0, or -1: no Xen. */
int		xen_init(void);
/* The PV console (HVM params); 0, or -1 when the domain has none. */
int		xencons_init(void);
void		xencons_write(const char *s, size_t n);
int		xencons_getc(void);		/* -1: nothing typed */
int		xencons_rx_ready(void);
/* Feed the PVH memory map to pmem; 0, or -1 when it is unusable. */
int		pvh_memory(uint32_t start_info_pa);
/* The end of the PVH memory map's highest entry, of any type; bytes. */
extern uint64_t	pvh_map_end;
/* Where hot-plugged frames go (xen.c says why); 2 MiB blocks. */
#define XEN_HOT_FLOOR		(4ull << 30)
#define XEN_HOT_ALIGN		(1ull << 30)
#define XEN_HOT_MAP_WORDS	((IDENTITY_LIMIT >> 21) / 64)
void		xen_hot_window(struct xenhot_config *cfg);
/* The guest's TSC rate from Xen's CPUID leaf, kHz; 0 when unknown. */
uint64_t	xen_tsc_khz(void);
/* CPUID base leaf, hypercall MSR: for "info". */
void		xen_describe(void);
/* Read an HVM parameter; 0 or -1. */
int		xen_get_param(uint32_t index, uint64_t *val);
int		xen_set_param(uint32_t index, uint64_t val);
/* Hypercall "nr" with two arguments: the hypervisor's return value. */
long		xen_hypercall2(unsigned int nr, uint64_t a1, uint64_t a2);
/* The console's event channel, HVM_PARAM_CONSOLE_EVTCHN. */
uint32_t	xencons_evtchn(void);
/*
 * Event channel upcalls (xenevt.c): 0, or -1 when they stay polled.  Bound
 * ports are unmasked and their events set guest.wakeup.
 */
int		xen_evtchn_init(void);
void		xen_evtchn_bind(uint32_t port, const char *name);
void		xen_evtchn_print(void);	/* for "intr" */

#endif /* GUEST_XEN_H */
