/*
 * VT-d second-level translation structures, independent of hardware:
 * page tables (3, 4 or 5 levels; 4 KiB, 2 MiB and 1 GiB pages; read/write
 * permissions), and the encoders for root and context entries.
 *
 * Page-table pages come from a caller-supplied allocator returning both a
 * CPU pointer and a physical address, so the firmware hands out pmem pages
 * and the host tests use malloc.  Nothing here talks to a remapping unit:
 * after changing live tables the caller invalidates the IOTLB.
 */
#ifndef PROOFBOOT_LIB_VTD_PT_H
#define PROOFBOOT_LIB_VTD_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTD_PAGE_SHIFT 12
#define VTD_PAGE_4K (1ull << 12)
#define VTD_PAGE_2M (1ull << 21)
#define VTD_PAGE_1G (1ull << 30)
#define VTD_PT_BITS_PER_LEVEL 9
#define VTD_PT_ENTRIES 512u
#define VTD_PT_MIN_LEVELS 3
#define VTD_PT_MAX_LEVELS 5

/* Second-level paging entry. */
#define VTD_SLPTE_R (1ull << 0)
#define VTD_SLPTE_W (1ull << 1)
#define VTD_SLPTE_PS (1ull << 7) /* leaf at level 2 (2 MiB) or 3 (1 GiB) */
#define VTD_SLPTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define VTD_PHYS_ADDR_BITS 52

/* Permission bits as callers give them. */
#define VTD_PERM_READ 1u
#define VTD_PERM_WRITE 2u
#define VTD_PERM_RW (VTD_PERM_READ | VTD_PERM_WRITE)

/* Large pages a table may use: same bit layout as CAP.SLLPS. */
#define VTD_PT_ALLOW_2M (1u << 0)
#define VTD_PT_ALLOW_1G (1u << 1)

struct vtd_pt_ops {
	/* A zeroed, 4 KiB aligned page: returns its CPU pointer, sets *phys; NULL when out. */
	void *(*alloc_page)(void *ctx, uint64_t *phys);
	/* CPU pointer of a page alloc_page returned, from its physical address. */
	void *(*page_ptr)(void *ctx, uint64_t phys);
	/* Optional: gives back a table page that unmap emptied (NULL: keep it). */
	void (*free_page)(void *ctx, void *page, uint64_t phys);
	/* Optional: makes written entries visible to a non-coherent walker (ECAP.C = 0). */
	void (*flush)(void *ctx, const void *p, size_t len);
	void *ctx;
};

struct vtd_pt {
	struct vtd_pt_ops ops;
	unsigned levels;
	unsigned large_pages; /* VTD_PT_ALLOW_* */
	uint64_t root_phys;
	uint64_t *root;
	unsigned table_pages; /* pages currently in the tree, root included */
};

enum vtd_pt_status {
	VTD_PT_OK = 0,
	VTD_PT_ERR_LEVELS,     /* depth not 3..5 */
	VTD_PT_ERR_PAGE_SIZE,  /* not 4K/2M/1G, or a large page not allowed */
	VTD_PT_ERR_ALIGN,      /* iova, phys or size not aligned to the page size */
	VTD_PT_ERR_RANGE,      /* beyond the address width, or phys beyond 52 bits */
	VTD_PT_ERR_PERMS,      /* no permission bit: that would be a not-present entry */
	VTD_PT_ERR_NOMEM,
	VTD_PT_ERR_EXISTS,     /* something is already mapped there */
	VTD_PT_ERR_NOT_MAPPED,
	VTD_PT_ERR_SPLIT,      /* unmap would cut a large page in part */
};

const char *vtd_pt_status_str(enum vtd_pt_status status);

/* Input address width of a depth: 39, 48 or 57 bits. */
unsigned vtd_pt_address_width(unsigned levels);

/* Allocates the root table.  large_pages: VTD_PT_ALLOW_* the unit supports. */
enum vtd_pt_status vtd_pt_init(struct vtd_pt *pt, unsigned levels, unsigned large_pages,
			       const struct vtd_pt_ops *ops);

/* Maps one page of page_size (4K, 2M or 1G) with perms (VTD_PERM_*). */
enum vtd_pt_status vtd_pt_map_page(struct vtd_pt *pt, uint64_t iova, uint64_t phys,
				   uint64_t page_size, unsigned perms);

/*
 * Maps [iova, iova + size) to [phys, ...) using the largest allowed pages
 * that alignment permits.  All or nothing: on failure, what this call
 * mapped is unmapped again.
 */
enum vtd_pt_status vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t phys, uint64_t size,
			      unsigned perms);

/*
 * Unmaps [iova, iova + size): every page in it must be mapped and wholly
 * inside the range, else nothing changes.  Emptied tables are unlinked.
 */
enum vtd_pt_status vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova, uint64_t size);

struct vtd_translation {
	uint64_t phys;
	uint64_t page_size;
	unsigned perms; /* effective: the hardware checks R/W at every level */
};

/* Translates iova as the hardware would: VTD_PT_ERR_NOT_MAPPED if it would fault. */
enum vtd_pt_status vtd_pt_lookup(const struct vtd_pt *pt, uint64_t iova,
				 struct vtd_translation *out);

/* ---- IOTLB invalidation of a changed range ---- */

/*
 * A page-selective invalidation covers 2^am 4 KiB pages starting at an
 * address aligned to that span (the IVA register's address mask).
 */
struct vtd_psi_range {
	uint64_t base; /* aligned to 2^am pages */
	unsigned am;
};

/*
 * The smallest page-selective invalidation covering [iova, iova + size)
 * (size > 0).  False when its mask would exceed max_am (CAP.MAMV): the
 * caller then invalidates the whole domain.
 */
bool vtd_psi_cover(uint64_t iova, uint64_t size, unsigned max_am, struct vtd_psi_range *out);

/* ---- root and context entries (legacy mode, 128 bits each) ---- */

#define VTD_ROOT_ENTRIES 256u    /* one per bus */
#define VTD_CONTEXT_ENTRIES 256u /* one per devfn */
#define VTD_ENTRY128_SIZE 16u

#define VTD_ROOT_LO_P (1ull << 0)
#define VTD_ROOT_LO_CTP_MASK 0xfffffffffffff000ull

#define VTD_CTX_LO_P (1ull << 0)
#define VTD_CTX_LO_FPD (1ull << 1) /* fault processing disable */
#define VTD_CTX_LO_TT_SHIFT 2
#define VTD_CTX_LO_TT_MASK (3ull << VTD_CTX_LO_TT_SHIFT)
#define VTD_CTX_LO_SLPTPTR_MASK 0xfffffffffffff000ull
#define VTD_CTX_HI_AW_MASK 0x7ull
#define VTD_CTX_HI_DID_SHIFT 8
#define VTD_CTX_HI_DID_MASK (0xffffull << VTD_CTX_HI_DID_SHIFT)

enum vtd_translation_type {
	VTD_TT_PAGE_WALK = 0,     /* untranslated requests walk the second-level tables */
	VTD_TT_DEVICE_TLB = 1,
	VTD_TT_PASS_THROUGH = 2,
};

struct vtd_entry128 {
	uint64_t lo;
	uint64_t hi;
};

struct vtd_context_fields {
	bool present;
	bool fault_disable;
	unsigned translation_type; /* enum vtd_translation_type */
	uint64_t slpt_phys;        /* second-level table root */
	unsigned address_width;    /* AW encoding: vtd_aw_for_levels() */
	uint16_t domain_id;
};

struct vtd_entry128 vtd_root_entry(uint64_t context_table_phys);
struct vtd_entry128 vtd_context_entry(const struct vtd_context_fields *f);
void vtd_context_decode(struct vtd_entry128 e, struct vtd_context_fields *out);

/* AW field value for a depth (3 -> 1, 4 -> 2, 5 -> 3); 0 for an invalid depth. */
unsigned vtd_aw_for_levels(unsigned levels);
/* The CAP.SAGAW bit meaning "this depth is supported". */
unsigned vtd_sagaw_bit_for_levels(unsigned levels);
/* Smallest depth in sagaw whose width covers required_bits; 0 when none. */
unsigned vtd_choose_levels(unsigned sagaw, unsigned required_bits);

#endif
