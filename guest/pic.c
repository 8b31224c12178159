/*
 * The 8259 pair: moved off the exception vectors, then masked for good.
 * Interrupts come through the IOAPICs and the local APIC only.
 */
#include "apic.h"
#include "cpu.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

#define ICW1_INIT	0x11	/* edge, cascade, ICW4 follows */
#define ICW4_8086	0x01

void
pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT);
	outb(PIC2_CMD, ICW1_INIT);
	outb(PIC1_DATA, 0xe0);		/* vectors 0xe0-0xe7 */
	outb(PIC2_DATA, 0xe8);		/* vectors 0xe8-0xef */
	outb(PIC1_DATA, 1 << 2);	/* slave on IRQ 2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
