/* Set-up side of the physical allocator (used by main.c). */
#ifndef PROOFBOOT_PMEM_INIT_H
#define PROOFBOOT_PMEM_INIT_H

#include "mb2.h"

#include <stdint.h>

void pmem_init(const struct mb2_info *info, uint64_t image_start, uint64_t image_end);
uint64_t pmem_free_bytes(void);

#endif
