/*
 * AMD-Vi host translation structures, independent of hardware (AMD IOMMU
 * specification 48882, section 2.2): the device table entry (DTE) and the
 * host I/O page tables (v1 format, 1 to 6 levels, 4 KiB pages, IR/IW
 * permissions).
 *
 * Empty slots are not zero: every not-present entry is written as
 * AMDVI_PTE_NOT_PRESENT (PR = 0 with a non-zero next-level field).  The
 * hardware ignores every other bit of an entry whose PR is 0, so this is
 * the same "not present" the spec defines; QEMU 7.2's walker, though, stops
 * silently at an all-zero entry and only records an IO_PAGE_FAULT event for
 * a non-zero entry with PR = 0, so the marker makes the emulation report the
 * faults real hardware reports.
 *
 * Table pages come from a caller-supplied allocator (CPU pointer + physical
 * address): pmem pages in the firmware, malloc in the host tests.  After
 * changing live tables the caller invalidates (INVALIDATE_IOMMU_PAGES).
 */
#ifndef PROOFBOOT_LIB_AMDVI_PT_H
#define PROOFBOOT_LIB_AMDVI_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMDVI_PAGE_SHIFT 12
#define AMDVI_PAGE_4K (1ull << AMDVI_PAGE_SHIFT)
#define AMDVI_PT_BITS_PER_LEVEL 9
#define AMDVI_PT_ENTRIES 512u
#define AMDVI_PT_MIN_LEVELS 1
#define AMDVI_PT_MAX_LEVELS 6
#define AMDVI_PHYS_ADDR_BITS 52

/* Page directory / page table entry. */
#define AMDVI_PTE_PR (1ull << 0)
#define AMDVI_PTE_NEXT_LEVEL_SHIFT 9
#define AMDVI_PTE_NEXT_LEVEL_MASK (7ull << AMDVI_PTE_NEXT_LEVEL_SHIFT)
#define AMDVI_PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define AMDVI_PTE_FC (1ull << 60)                 /* force coherent */
#define AMDVI_PTE_IR (1ull << 61)
#define AMDVI_PTE_IW (1ull << 62)
/* Not present (PR = 0); next level 1 only so QEMU 7.2 records the fault (see above). */
#define AMDVI_PTE_NOT_PRESENT (1ull << AMDVI_PTE_NEXT_LEVEL_SHIFT)

/* Permission bits as callers give them. */
#define AMDVI_PERM_READ 1u
#define AMDVI_PERM_WRITE 2u
#define AMDVI_PERM_RW (AMDVI_PERM_READ | AMDVI_PERM_WRITE)

struct amdvi_pt_ops {
	/* A 4 KiB aligned page (contents undefined): CPU pointer, *phys; NULL when out. */
	void *(*alloc_page)(void *ctx, uint64_t *phys);
	/* CPU pointer of a page alloc_page returned, from its physical address. */
	void *(*page_ptr)(void *ctx, uint64_t phys);
	/* Optional: gives back a table page that unmap emptied (NULL: keep it). */
	void (*free_page)(void *ctx, void *page, uint64_t phys);
	void *ctx;
};

struct amdvi_pt {
	struct amdvi_pt_ops ops;
	unsigned levels;      /* the DTE Mode */
	uint64_t root_phys;
	uint64_t *root;
	unsigned table_pages; /* pages currently in the tree, root included */
};

enum amdvi_pt_status {
	AMDVI_PT_OK = 0,
	AMDVI_PT_ERR_LEVELS,     /* depth not 1..6 */
	AMDVI_PT_ERR_ALIGN,      /* iova, phys or size not 4 KiB aligned, or size 0 */
	AMDVI_PT_ERR_RANGE,      /* beyond the depth's input width or 52-bit physical */
	AMDVI_PT_ERR_PERMS,      /* no permission: that is what not mapping means */
	AMDVI_PT_ERR_NOMEM,
	AMDVI_PT_ERR_EXISTS,     /* a page in the range is already mapped */
	AMDVI_PT_ERR_NOT_MAPPED, /* a page in the range is not mapped */
};

const char *amdvi_pt_status_str(enum amdvi_pt_status status);

/* Input address width of a depth: 12 + 9 * levels, capped at 64 bits. */
unsigned amdvi_pt_address_width(unsigned levels);

/* Smallest depth (at most max_levels) whose width covers required_bits; 0 when none. */
unsigned amdvi_pt_choose_levels(unsigned max_levels, unsigned required_bits);

enum amdvi_pt_status amdvi_pt_init(struct amdvi_pt *pt, unsigned levels,
				   const struct amdvi_pt_ops *ops);

/* Maps [iova, iova + size) to [phys, ...) in 4 KiB pages; all or nothing. */
enum amdvi_pt_status amdvi_pt_map(struct amdvi_pt *pt, uint64_t iova, uint64_t phys,
				  uint64_t size, unsigned perms);

/* Unmaps [iova, iova + size): every page must be mapped, else nothing changes. */
enum amdvi_pt_status amdvi_pt_unmap(struct amdvi_pt *pt, uint64_t iova, uint64_t size);

struct amdvi_translation {
	uint64_t phys;
	unsigned perms; /* effective: IR/IW ANDed over every level */
};

/* Translates iova as the hardware would: AMDVI_PT_ERR_NOT_MAPPED if it would fault. */
enum amdvi_pt_status amdvi_pt_lookup(const struct amdvi_pt *pt, uint64_t iova,
				     struct amdvi_translation *out);

/* ---- device table entry: 256 bits, one per requester id ---- */

#define AMDVI_DTE_BYTES 32u
#define AMDVI_DEV_TABLE_ENTRIES 65536u
/* Quad 0 */
#define AMDVI_DTE_V (1ull << 0)
#define AMDVI_DTE_TV (1ull << 1)
#define AMDVI_DTE_MODE_SHIFT 9
#define AMDVI_DTE_MODE_MASK (7ull << AMDVI_DTE_MODE_SHIFT)
#define AMDVI_DTE_ROOT_MASK 0x000ffffffffff000ull /* page table root, bits 51:12 */
#define AMDVI_DTE_IR (1ull << 61)
#define AMDVI_DTE_IW (1ull << 62)
/* Quad 1 */
#define AMDVI_DTE_DOMAIN_MASK 0xffffull
#define AMDVI_DTE_SE (1ull << 33) /* suppress events: never set here, faults must be seen */
/* Quad 2: interrupt remapping (IV = 0: interrupts pass untranslated). */
#define AMDVI_DTE_IV (1ull << 0)

struct amdvi_dte {
	uint64_t q[4];
};

struct amdvi_dte_fields {
	bool valid;             /* V: the entry is used (else DMA passes untranslated) */
	bool translation_valid; /* TV: mode and root are valid */
	unsigned mode;          /* page-table depth; 0 = no translation (IR/IW still apply) */
	uint64_t root_phys;
	unsigned perms;         /* AMDVI_PERM_*: IR/IW, ANDed with every level below */
	uint16_t domain_id;
};

struct amdvi_dte amdvi_dte_encode(const struct amdvi_dte_fields *f);
void amdvi_dte_decode(const struct amdvi_dte *e, struct amdvi_dte_fields *out);

/* A DTE that translates through pt for domain_id with full permission at the top. */
struct amdvi_dte amdvi_dte_translate(const struct amdvi_pt *pt, uint16_t domain_id);
/* A DTE that blocks all DMA: valid, translation valid, mode 0, no permission. */
struct amdvi_dte amdvi_dte_blocked(uint16_t domain_id);

#endif
