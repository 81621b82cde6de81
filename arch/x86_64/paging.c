/*
 * On-demand identity mapping for MMIO beyond the 4 GiB boot map (64-bit BARs,
 * far ACPI tables).  2 MiB pages, uncached; page-table pages come from a
 * static pool so mapping never depends on the heap.
 */
#include "paging.h"

#include "boot_defs.h"
#include "cpu.h"
#include "proof.h"

#include <string.h>

#define PAGING_POOL_PAGES 64
#define PHYS_ADDR_LIMIT (1ull << 52)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define LARGE_PAGE_SIZE (1ull << LARGE_PAGE_SHIFT)
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define INDEX_MASK (PT_ENTRIES - 1)

extern uint64_t boot_pml4[PT_ENTRIES];

static uint64_t pool[PAGING_POOL_PAGES][PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;

static uint64_t *next_table(uint64_t *table, unsigned index)
{
	if (!(table[index] & PTE_PRESENT)) {
		if (pool_used == PAGING_POOL_PAGES)
			return NULL;
		uint64_t *fresh = pool[pool_used++];
		memset(fresh, 0, PAGE_SIZE);
		table[index] = (uint64_t)(uintptr_t)fresh | PTE_PRESENT | PTE_WRITE;
	}
	if (table[index] & PTE_LARGE)
		return NULL; /* already covered by a large page: caller checks first */
	return (uint64_t *)(uintptr_t)(table[index] & PTE_ADDR_MASK);
}

static bool map_large_page(uint64_t phys)
{
	uint64_t *pdpt = next_table(boot_pml4, (phys >> PML4_SHIFT) & INDEX_MASK);
	if (!pdpt)
		return false;
	uint64_t *pd = next_table(pdpt, (phys >> PDPT_SHIFT) & INDEX_MASK);
	if (!pd)
		return false;
	unsigned index = (phys >> LARGE_PAGE_SHIFT) & INDEX_MASK;
	if (!(pd[index] & PTE_PRESENT)) {
		pd[index] = phys | PTE_PRESENT | PTE_WRITE | PTE_LARGE | PTE_PCD | PTE_PWT;
		__asm__ volatile("invlpg (%0)" : : "r"(phys) : "memory");
	}
	return true;
}

static bool map_failed(uint64_t addr, uint64_t size, const char *reason)
{
	struct proof p;

	proof_begin(&p, "cpu", "map failed");
	proof_hex(&p, "addr", addr, 16);
	proof_hex(&p, "size", size, 1);
	proof_str(&p, "reason", reason);
	proof_emit(&p);
	return false;
}

bool paging_map_mmio(uint64_t phys, uint64_t size)
{
	if (size == 0 || phys >= PHYS_ADDR_LIMIT || size > PHYS_ADDR_LIMIT - phys)
		return map_failed(phys, size, "outside-physical-address-space");
	uint64_t first = phys & ~(LARGE_PAGE_SIZE - 1);
	for (uint64_t page = first; page < phys + size; page += LARGE_PAGE_SIZE) {
		if (page < (uint64_t)BOOT_IDENTITY_GIB << PDPT_SHIFT)
			continue; /* boot map */
		if (!map_large_page(page))
			return map_failed(page, size, "page-table-pool-exhausted");
	}
	return true;
}
