/*
 * The parts of the multiboot (v1) information structure the guest reads.
 */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MB_BOOT_MAGIC		0x2badb002	/* in %eax at entry */

#define MB_INFO_MEM		0x00000001	/* mem_lower, mem_upper valid */
#define MB_INFO_CMDLINE		0x00000004
#define MB_INFO_MMAP		0x00000040	/* mmap_addr, mmap_length valid */

#define MB_MMAP_AVAILABLE	1

struct mb_info {
	uint32_t	flags;
	uint32_t	mem_lower;	/* KiB below 1 MiB */
	uint32_t	mem_upper;	/* KiB above 1 MiB, up to the first hole */
	uint32_t	boot_device;
	uint32_t	cmdline;	/* physical address of a C string */
	uint32_t	mods_count;
	uint32_t	mods_addr;
	uint32_t	syms[4];
	uint32_t	mmap_length;	/* bytes */
	uint32_t	mmap_addr;
} __attribute__((packed));

/* "size" does not count itself: the next entry is at entry + size + 4. */
struct mb_mmap_entry {
	uint32_t	size;
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;
} __attribute__((packed));

#endif /* GUEST_MULTIBOOT_H */
