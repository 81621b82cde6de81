/*
 * The one MMIO accessor layer.  Every device register access in the
 * firmware goes through these: volatile, explicit width, no merging.
 * Physical addresses are identity-mapped; call paging_map_mmio() once for a
 * region before touching it (BARs may sit above 4 GiB).
 */
#ifndef PROOFBOOT_MMIO_H
#define PROOFBOOT_MMIO_H

#include <stdint.h>

/*
 * Every access below is counted: under an emulator each one is a trap into
 * device emulation, the main cost of a driver's fast path (the benchmark
 * reports the count per point).
 */
extern uint64_t mmio_access_count;

static inline uint8_t mmio_read8(uint64_t addr)
{
	mmio_access_count++;
	return *(volatile uint8_t *)(uintptr_t)addr;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	mmio_access_count++;
	return *(volatile uint16_t *)(uintptr_t)addr;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	mmio_access_count++;
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline uint64_t mmio_read64(uint64_t addr)
{
	mmio_access_count++;
	return *(volatile uint64_t *)(uintptr_t)addr;
}

static inline void mmio_write8(uint64_t addr, uint8_t value)
{
	mmio_access_count++;
	*(volatile uint8_t *)(uintptr_t)addr = value;
}

static inline void mmio_write16(uint64_t addr, uint16_t value)
{
	mmio_access_count++;
	*(volatile uint16_t *)(uintptr_t)addr = value;
}

static inline void mmio_write32(uint64_t addr, uint32_t value)
{
	mmio_access_count++;
	*(volatile uint32_t *)(uintptr_t)addr = value;
}

static inline void mmio_write64(uint64_t addr, uint64_t value)
{
	mmio_access_count++;
	*(volatile uint64_t *)(uintptr_t)addr = value;
}

#endif
