/*
 * Physical memory: the firmware runs identity-mapped, so a pointer is its
 * physical address.  Regions come from the multiboot2 memory map, minus the
 * firmware image, the boot information and the malloc heap.
 */
#ifndef PROOFBOOT_PMEM_H
#define PROOFBOOT_PMEM_H

#include <stddef.h>
#include <stdint.h>

#include "boot_defs.h" /* PAGE_SIZE */

/*
 * Allocates `size` bytes (rounded up to pages), aligned to `align` (a power
 * of two, at least PAGE_SIZE), wholly below `limit` (exclusive), zeroed.
 * Returns NULL when no usable RAM fits.  Memory is never freed: tests
 * allocate what they need once.
 */
void *pmem_alloc(size_t size, size_t align, uint64_t limit);
/*
 * pmem_alloc without the zeroing: the memory holds whatever it held.  For
 * large regions whose owner zeroes each part before its first use (the
 * bounce pool): zeroing 24 MiB up front costs ~10 ms under TCG, and the
 * host one page fault per 4 KiB first touched.
 */
void *pmem_alloc_unzeroed(size_t size, size_t align, uint64_t limit);

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)phys;
}

#endif
