/*
 * The Xen PV console (io/console.h): two rings on the page that
 * HVM_PARAM_CONSOLE_PFN names, the other end kicked through
 * HVM_PARAM_CONSOLE_EVTCHN.  xenconsoled in dom0 logs what we write
 * (/var/log/xen/guest-NAME.log) and `xl console` types into "in".
 */
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "xen.h"
#include "xen_abi.h"

#define SPIN_MAX	10000000	/* then drop output: dom0 is gone */

struct xencons_interface {
	char		in[1024];
	char		out[2048];
	uint32_t	in_cons, in_prod;
	uint32_t	out_cons, out_prod;
};

static volatile struct xencons_interface *ring;
static uint32_t evtchn;

static void
mb(void)
{
	__asm__ volatile("mfence" : : : "memory");
}

int
xencons_init(void)
{
	uint64_t pfn, port;

	if (xen_get_param(HVM_PARAM_CONSOLE_PFN, &pfn) != 0 || pfn == 0 ||
	    xen_get_param(HVM_PARAM_CONSOLE_EVTCHN, &port) != 0)
		return -1;
	ring = (volatile struct xencons_interface *)(uintptr_t)(pfn << 12);
	evtchn = (uint32_t)port;
	return 0;
}

uint32_t
xencons_evtchn(void)
{
	return evtchn;
}

void
xencons_write(const char *s, size_t n)
{
	uint32_t cons, prod;
	long spin = 0;

	while (n > 0) {
		cons = ring->out_cons;
		prod = ring->out_prod;
		mb();
		if (prod - cons >= sizeof(ring->out)) {
			xen_hv.evtchn_send(NULL, evtchn);
			if (++spin > SPIN_MAX)
				return;
			pause();
			continue;
		}
		while (n > 0 && prod - cons < sizeof(ring->out)) {
			ring->out[prod++ & (sizeof(ring->out) - 1)] = *s++;
			n--;
		}
		mb();
		ring->out_prod = prod;
	}
	xen_hv.evtchn_send(NULL, evtchn);
}

int
xencons_rx_ready(void)
{
	return ring != NULL && ring->in_cons != ring->in_prod;
}

int
xencons_getc(void)
{
	uint32_t cons;
	int c;

	if (ring == NULL)
		return -1;
	cons = ring->in_cons;
	if (cons == ring->in_prod)
		return -1;
	mb();
	c = (unsigned char)ring->in[cons++ & (sizeof(ring->in) - 1)];
	mb();
	ring->in_cons = cons;
	xen_hv.evtchn_send(NULL, evtchn);
	return c;
}
