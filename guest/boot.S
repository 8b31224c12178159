/*
 * Two entries, one path.  Multiboot (v1): QEMU's loader starts us at _start
 * in 32-bit protected mode with paging off, %eax = magic and %ebx = the
 * multiboot information.  Xen PVH: the domain builder starts us at
 * pvh_start (the XEN_ELFNOTE_PHYS32_ENTRY note below) in the same mode,
 * with %ebx = the hvm_start_info; the stack and %eax are undefined, so
 * pvh_start loads the start info's magic into %eax and joins _start.
 * We identity-map the first 64 GiB with 2 MiB pages (RAM, the PCI hole and
 * 64-bit BARs alike), switch to long mode and call kmain(info, magic):
 * kmain tells the two apart by the magic.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory info */

#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PS		0x080

#define NPD		64		/* page directories: 64 x 1 GiB */

#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

#define SEL_CODE	0x08
#define SEL_DATA	0x10

#define XEN_HVM_START_MAGIC		0x336ec578	/* hvm_start_info.magic */
#define XEN_ELFNOTE_PHYS32_ENTRY	18	/* xen/include/public/elfnote.h */

	.section .multiboot, "a"
	.align 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	/* An ELF note: namesz, descsz, type, "Xen", the 32-bit entry. */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4
	.long	4
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign 4
	.long	pvh_start
	.balign 4

	.text
	.code32
	.globl	pvh_start
pvh_start:
	movl	$XEN_HVM_START_MAGIC, %eax
	/* FALLTHROUGH */

	.globl	_start
_start:
	cli
	movl	$boot_stack_top, %esp
	movl	%ebx, %edi		/* kmain's first argument */
	movl	%eax, %esi		/* and its second */

	/* PML4[0] -> PDPT; PDPT[i] -> PD i. */
	movl	$pdpt + (PTE_P | PTE_W), pml4
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$pd + (PTE_P | PTE_W), %eax
	movl	%eax, pdpt(, %ecx, 8)
	incl	%ecx
	cmpl	$NPD, %ecx
	jb	1b

	/* PD entry i maps i * 2 MiB; the high dword holds bits 32 and up. */
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P | PTE_W | PTE_PS), %eax
	movl	%eax, pd(, %ecx, 8)
	movl	%ecx, %eax
	shrl	$11, %eax
	movl	%eax, pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$(NPD * 512), %ecx
	jb	2b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0

	lgdt	gdt_desc
	ljmp	$SEL_CODE, $long_entry

	.code64
long_entry:
	movw	$SEL_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movq	$boot_stack_top, %rsp
	call	kmain
3:	cli
	hlt
	jmp	3b

	.section .rodata
	.align 16
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 64-bit code, ring 0 */
	.quad	0x00cf92000000ffff	/* data, ring 0 */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.bss
	.align 4096
pml4:
	.space	4096
pdpt:
	.space	4096
pd:
	.space	NPD * 4096
	.align 16
boot_stack:
	.space	65536
	.globl	boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
