/* The identity map: boot maps the first 4 GiB; anything else on demand. */
#ifndef PROOFBOOT_PAGING_H
#define PROOFBOOT_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Makes [phys, phys + size) accessible (identity mapped, uncached) so that
 * MMIO anywhere in the 52-bit physical space never faults.  Returns false
 * (and prints why) when page-table memory runs out or the range is invalid.
 */
bool paging_map_mmio(uint64_t phys, uint64_t size);

#endif
