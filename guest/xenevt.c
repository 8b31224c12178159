/*
 * Xen event channels, 2-level ABI (public/xen.h, event_channel.h): the
 * shared_info page mapped into a frame of ours, the upcall delivered as a
 * vector (hvm/params.h, HVM_PARAM_CALLBACK_IRQ type 2), and the ports we
 * bind unmasked.  The handler only clears what it owns and sets
 * guest.wakeup: the main loop still polls the rings, so a lost event costs
 * at most one turn of it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "intr.h"
#include "kern.h"
#include "trap.h"
#include "xen.h"

#define HYPERVISOR_memory_op		12
#define HYPERVISOR_event_channel_op	32

#define XENMEM_add_to_physmap		7	/* memory.h */
#define XENMAPSPACE_shared_info		0
#define EVTCHNOP_unmask			9	/* event_channel.h */
#define HVM_PARAM_CALLBACK_IRQ		0	/* hvm/params.h */
#define HVM_CALLBACK_VECTOR(v)		((2ULL << 56) | (v))

#define NR_PORTS	4096		/* 2-level: 64 words of 64 bits */
#define BIND_MAX	4

/* xen.h, x86-64: 64 bytes per vcpu, 32 legacy vcpus first. */
struct vcpu_info {
	uint8_t		evtchn_upcall_pending;
	uint8_t		evtchn_upcall_mask;
	uint64_t	evtchn_pending_sel;
	uint64_t	arch[2];	/* arch_vcpu_info: cr2, pad */
	uint64_t	time[4];	/* vcpu_time_info */
};

struct shared_info {
	struct vcpu_info	vcpu_info[32];
	uint64_t		evtchn_pending[64];
	uint64_t		evtchn_mask[64];
	/* wallclock and arch_shared_info follow; unused */
};

_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info is 64 bytes");

struct xen_add_to_physmap {
	uint16_t	domid;
	uint16_t	size;
	uint32_t	space;
	uint64_t	idx;
	uint64_t	gpfn;
};


struct bound {
	uint32_t	 port;
	const char	*name;
	uint64_t	 count;
};

static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));
static volatile struct shared_info *shinfo;
static uint64_t owned[NR_PORTS / 64];
static struct bound bound[BIND_MAX];
static int nbound;

static void
count_port(uint32_t port)
{
	int i;

	for (i = 0; i < nbound; i++)
		if (bound[i].port == port)
			bound[i].count++;
}

/* Clear the pending bits of word "w" that are ours; how many were set. */
static int
take_word(unsigned int w)
{
	uint64_t bits;
	int n = 0;

	bits = shinfo->evtchn_pending[w] & owned[w];
	if (bits == 0)
		return 0;
	__atomic_fetch_and(&shinfo->evtchn_pending[w], ~bits,
	    __ATOMIC_SEQ_CST);
	for (; bits != 0; bits &= bits - 1, n++)
		count_port(w * 64 + (uint32_t)__builtin_ctzll(bits));
	return n;
}

/*
 * The upcall (xen.h, "Event channels"): clear evtchn_upcall_pending, then
 * take evtchn_pending_sel, then the pending words it selects.  EOI: trap().
 */
static int
evtchn_intr(void *arg)
{
	volatile struct vcpu_info *vi = &shinfo->vcpu_info[0];
	uint64_t sel;
	int n = 0;

	(void)arg;
	vi->evtchn_upcall_pending = 0;
	sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0,
	    __ATOMIC_SEQ_CST);
	for (; sel != 0; sel &= sel - 1)
		n += take_word((unsigned int)__builtin_ctzll(sel));
	guest.wakeup = 1;
	return n > 0;
}

static int
map_shared_info(void)
{
	struct xen_add_to_physmap xatp = {
		.domid = 0x7ff0,		/* DOMID_SELF */
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)shinfo_page >> 12,
	};

	if (xen_hypercall2(HYPERVISOR_memory_op, XENMEM_add_to_physmap,
	    (uintptr_t)&xatp) != 0)
		return -1;
	shinfo = (volatile struct shared_info *)shinfo_page;
	return 0;
}

int
xen_evtchn_init(void)
{
	if (map_shared_info() != 0) {
		kprintf("xen: cannot map shared_info: event channels polled\n");
		return -1;
	}
	if (intr_establish_local(VEC_XEN_EVTCHN, "xen-evtchn", evtchn_intr,
	    NULL) != 0 || xen_set_param(HVM_PARAM_CALLBACK_IRQ,
	    HVM_CALLBACK_VECTOR(VEC_XEN_EVTCHN)) != 0) {
		kprintf("xen: no callback vector: event channels polled\n");
		shinfo = NULL;
		return -1;
	}
	kprintf("xen: event channel upcall on vector 0x%x\n", VEC_XEN_EVTCHN);
	return 0;
}

/* Own "port" and unmask it; Xen then delivers an event already pending. */
void
xen_evtchn_bind(uint32_t port, const char *name)
{
	uint32_t p = port;

	if (shinfo == NULL || port >= NR_PORTS || nbound == BIND_MAX)
		return;
	bound[nbound].port = port;
	bound[nbound].name = name;
	nbound++;
	__atomic_fetch_or(&owned[port / 64], 1ULL << (port % 64),
	    __ATOMIC_SEQ_CST);
	if (xen_hypercall2(HYPERVISOR_event_channel_op, EVTCHNOP_unmask,
	    (uintptr_t)&p) != 0)
		kprintf("xen: cannot unmask event channel %u\n", port);
}

void
xen_evtchn_print(void)
{
	int i;

	for (i = 0; i < nbound; i++)
		kprintf("xen-evtchn port %u %s %llu\n", bound[i].port,
		    bound[i].name, (unsigned long long)bound[i].count);
}
