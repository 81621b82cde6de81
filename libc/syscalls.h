/* newlib system-call glue: the heap region and the exit hook. */
#ifndef PROOFBOOT_SYSCALLS_H
#define PROOFBOOT_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

/* malloc's sbrk() hands out [base, base + size). */
void heap_init(uint64_t base, size_t size);

#endif
