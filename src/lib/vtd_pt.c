/* VT-d second-level page tables and root/context entries; see vtd_pt.h. */
#include "vtd_pt.h"

#include <string.h>

const char *vtd_pt_status_str(enum vtd_pt_status status)
{
	switch (status) {
	case VTD_PT_OK: return "ok";
	case VTD_PT_ERR_LEVELS: return "levels";
	case VTD_PT_ERR_PAGE_SIZE: return "page-size";
	case VTD_PT_ERR_ALIGN: return "alignment";
	case VTD_PT_ERR_RANGE: return "range";
	case VTD_PT_ERR_PERMS: return "permissions";
	case VTD_PT_ERR_NOMEM: return "no-memory";
	case VTD_PT_ERR_EXISTS: return "already-mapped";
	case VTD_PT_ERR_NOT_MAPPED: return "not-mapped";
	case VTD_PT_ERR_SPLIT: return "split-large-page";
	}
	return "unknown";
}

static bool levels_valid(unsigned levels)
{
	return levels >= VTD_PT_MIN_LEVELS && levels <= VTD_PT_MAX_LEVELS;
}

unsigned vtd_pt_address_width(unsigned levels)
{
	return levels_valid(levels) ? VTD_PAGE_SHIFT + VTD_PT_BITS_PER_LEVEL * levels : 0;
}

/* Bytes one entry at `level` spans: level 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB ... */
static uint64_t level_span(unsigned level)
{
	return 1ull << (VTD_PAGE_SHIFT + VTD_PT_BITS_PER_LEVEL * (level - 1));
}

static unsigned level_index(uint64_t iova, unsigned level)
{
	return (unsigned)(iova >> (VTD_PAGE_SHIFT + VTD_PT_BITS_PER_LEVEL * (level - 1))) &
	       (VTD_PT_ENTRIES - 1);
}

static bool entry_present(uint64_t e)
{
	return (e & (VTD_SLPTE_R | VTD_SLPTE_W)) != 0;
}

static bool entry_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (e & VTD_SLPTE_PS) != 0;
}

static uint64_t perms_to_bits(unsigned perms)
{
	return ((perms & VTD_PERM_READ) ? VTD_SLPTE_R : 0) |
	       ((perms & VTD_PERM_WRITE) ? VTD_SLPTE_W : 0);
}

static unsigned bits_to_perms(uint64_t e)
{
	return ((e & VTD_SLPTE_R) ? VTD_PERM_READ : 0) | ((e & VTD_SLPTE_W) ? VTD_PERM_WRITE : 0);
}

static uint64_t *table_at(const struct vtd_pt *pt, uint64_t entry)
{
	return pt->ops.page_ptr(pt->ops.ctx, entry & VTD_SLPTE_ADDR_MASK);
}

static void write_entry(struct vtd_pt *pt, uint64_t *slot, uint64_t value)
{
	*slot = value;
	if (pt->ops.flush)
		pt->ops.flush(pt->ops.ctx, slot, sizeof(*slot));
}

enum vtd_pt_status vtd_pt_init(struct vtd_pt *pt, unsigned levels, unsigned large_pages,
			       const struct vtd_pt_ops *ops)
{
	memset(pt, 0, sizeof(*pt));
	if (!levels_valid(levels))
		return VTD_PT_ERR_LEVELS;
	pt->ops = *ops;
	pt->levels = levels;
	pt->large_pages = large_pages & (VTD_PT_ALLOW_2M | VTD_PT_ALLOW_1G);
	pt->root = ops->alloc_page(ops->ctx, &pt->root_phys);
	if (!pt->root)
		return VTD_PT_ERR_NOMEM;
	pt->table_pages = 1;
	return VTD_PT_OK;
}

/* The level a page of this size is a leaf at; 0 when the size is not allowed. */
static unsigned leaf_level(const struct vtd_pt *pt, uint64_t page_size)
{
	if (page_size == VTD_PAGE_4K)
		return 1;
	if (page_size == VTD_PAGE_2M && (pt->large_pages & VTD_PT_ALLOW_2M))
		return 2;
	if (page_size == VTD_PAGE_1G && (pt->large_pages & VTD_PT_ALLOW_1G))
		return 3;
	return 0;
}

/* Whether [addr, addr + size) fits below 2^bits (without overflowing). */
static bool fits_below(uint64_t addr, uint64_t size, unsigned bits)
{
	uint64_t limit = 1ull << bits;

	return addr < limit && size <= limit - addr;
}

static enum vtd_pt_status check_map_args(const struct vtd_pt *pt, uint64_t iova, uint64_t phys,
					 uint64_t page_size, unsigned perms, unsigned *leaf)
{
	*leaf = leaf_level(pt, page_size);
	if (*leaf == 0)
		return VTD_PT_ERR_PAGE_SIZE;
	if ((iova | phys) & (page_size - 1))
		return VTD_PT_ERR_ALIGN;
	if (!fits_below(iova, page_size, vtd_pt_address_width(pt->levels)) ||
	    !fits_below(phys, page_size, VTD_PHYS_ADDR_BITS))
		return VTD_PT_ERR_RANGE;
	if ((perms & VTD_PERM_RW) == 0)
		return VTD_PT_ERR_PERMS;
	return VTD_PT_OK;
}

/* Returns the next-level table under *slot, creating it if absent; NULL + status on failure. */
static uint64_t *descend(struct vtd_pt *pt, uint64_t *slot, unsigned level,
			 enum vtd_pt_status *status)
{
	if (entry_present(*slot)) {
		if (entry_is_leaf(*slot, level)) {
			*status = VTD_PT_ERR_EXISTS; /* a large page already covers this */
			return NULL;
		}
		return table_at(pt, *slot);
	}
	uint64_t phys;
	uint64_t *table = pt->ops.alloc_page(pt->ops.ctx, &phys);

	if (!table) {
		*status = VTD_PT_ERR_NOMEM;
		return NULL;
	}
	pt->table_pages++;
	/* Non-leaf entries grant everything; the leaf carries the real permissions. */
	write_entry(pt, slot, (phys & VTD_SLPTE_ADDR_MASK) | VTD_SLPTE_R | VTD_SLPTE_W);
	return table;
}

static bool table_empty(const uint64_t *table)
{
	for (unsigned i = 0; i < VTD_PT_ENTRIES; i++)
		if (table[i] != 0)
			return false;
	return true;
}

/* Unlinks the table under *slot if it maps nothing (and gives the page back). */
static void drop_empty_table(struct vtd_pt *pt, uint64_t *slot, unsigned level)
{
	if (!entry_present(*slot) || entry_is_leaf(*slot, level))
		return;
	uint64_t child_phys = *slot & VTD_SLPTE_ADDR_MASK;
	uint64_t *child = table_at(pt, *slot);

	if (!table_empty(child))
		return;
	write_entry(pt, slot, 0);
	pt->table_pages--;
	if (pt->ops.free_page)
		pt->ops.free_page(pt->ops.ctx, child, child_phys);
}

enum vtd_pt_status vtd_pt_map_page(struct vtd_pt *pt, uint64_t iova, uint64_t phys,
				   uint64_t page_size, unsigned perms)
{
	unsigned leaf;
	enum vtd_pt_status status = check_map_args(pt, iova, phys, page_size, perms, &leaf);
	uint64_t *table = pt->root;

	if (status != VTD_PT_OK)
		return status;
	for (unsigned level = pt->levels; level > leaf; level--) {
		table = descend(pt, &table[level_index(iova, level)], level, &status);
		if (!table)
			return status;
	}
	uint64_t *slot = &table[level_index(iova, leaf)];

	drop_empty_table(pt, slot, leaf);
	/* Present means mapped; a table pointer here means smaller pages are mapped below. */
	if (entry_present(*slot))
		return VTD_PT_ERR_EXISTS;
	write_entry(pt, slot, (phys & VTD_SLPTE_ADDR_MASK) | perms_to_bits(perms) |
				      (leaf > 1 ? VTD_SLPTE_PS : 0));
	return VTD_PT_OK;
}

/* Largest allowed page that iova, phys and the remaining size are all aligned to. */
static uint64_t best_page(const struct vtd_pt *pt, uint64_t iova, uint64_t phys, uint64_t left)
{
	static const uint64_t sizes[] = { VTD_PAGE_1G, VTD_PAGE_2M };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (leaf_level(pt, sizes[i]) && left >= sizes[i] && ((iova | phys) & (sizes[i] - 1)) == 0)
			return sizes[i];
	return VTD_PAGE_4K;
}

enum vtd_pt_status vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t phys, uint64_t size,
			      unsigned perms)
{
	uint64_t done = 0;

	if (size == 0 || (size & (VTD_PAGE_4K - 1)) || ((iova | phys) & (VTD_PAGE_4K - 1)))
		return VTD_PT_ERR_ALIGN;
	if (!fits_below(iova, size, vtd_pt_address_width(pt->levels)) ||
	    !fits_below(phys, size, VTD_PHYS_ADDR_BITS))
		return VTD_PT_ERR_RANGE;
	while (done < size) {
		uint64_t page = best_page(pt, iova + done, phys + done, size - done);
		enum vtd_pt_status status = vtd_pt_map_page(pt, iova + done, phys + done, page, perms);

		if (status != VTD_PT_OK) {
			if (done > 0)
				vtd_pt_unmap(pt, iova, done);
			return status;
		}
		done += page;
	}
	return VTD_PT_OK;
}

/* The leaf entry translating iova, with its level; NULL when not mapped. */
static uint64_t *find_leaf(const struct vtd_pt *pt, uint64_t iova, unsigned *level_out,
			   unsigned *perms_out)
{
	uint64_t *table = pt->root;
	unsigned perms = VTD_PERM_RW;

	for (unsigned level = pt->levels; level > 0; level--) {
		uint64_t *slot = &table[level_index(iova, level)];

		if (!entry_present(*slot))
			return NULL;
		perms &= bits_to_perms(*slot);
		if (entry_is_leaf(*slot, level)) {
			*level_out = level;
			*perms_out = perms;
			return slot;
		}
		table = table_at(pt, *slot);
	}
	return NULL;
}

enum vtd_pt_status vtd_pt_lookup(const struct vtd_pt *pt, uint64_t iova,
				 struct vtd_translation *out)
{
	unsigned level, perms;

	memset(out, 0, sizeof(*out));
	if (!fits_below(iova, 1, vtd_pt_address_width(pt->levels)))
		return VTD_PT_ERR_RANGE;
	uint64_t *slot = find_leaf(pt, iova, &level, &perms);

	if (!slot || perms == 0)
		return VTD_PT_ERR_NOT_MAPPED;
	out->page_size = level_span(level);
	out->phys = (*slot & VTD_SLPTE_ADDR_MASK & ~(out->page_size - 1)) |
		    (iova & (out->page_size - 1));
	out->perms = perms;
	return VTD_PT_OK;
}

/* Checks that [iova, iova + size) is covered exactly by whole leaf pages. */
static enum vtd_pt_status check_unmap(const struct vtd_pt *pt, uint64_t iova, uint64_t size)
{
	for (uint64_t off = 0; off < size;) {
		unsigned level, perms;
		uint64_t at = iova + off;

		if (!find_leaf(pt, at, &level, &perms))
			return VTD_PT_ERR_NOT_MAPPED;
		uint64_t span = level_span(level);

		if ((at & (span - 1)) != 0 || size - off < span)
			return VTD_PT_ERR_SPLIT;
		off += span;
	}
	return VTD_PT_OK;
}

/*
 * Clears the leaf for iova below `table` (at `level`), then unlinks any
 * table that became empty so no empty table stays reachable.
 */
static void clear_leaf(struct vtd_pt *pt, uint64_t *table, unsigned level, uint64_t iova)
{
	uint64_t *slot = &table[level_index(iova, level)];

	if (entry_is_leaf(*slot, level)) {
		write_entry(pt, slot, 0);
		return;
	}
	clear_leaf(pt, table_at(pt, *slot), level - 1, iova);
	drop_empty_table(pt, slot, level);
}

enum vtd_pt_status vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova, uint64_t size)
{
	if (size == 0 || ((iova | size) & (VTD_PAGE_4K - 1)))
		return VTD_PT_ERR_ALIGN;
	if (!fits_below(iova, size, vtd_pt_address_width(pt->levels)))
		return VTD_PT_ERR_RANGE;
	enum vtd_pt_status status = check_unmap(pt, iova, size);

	if (status != VTD_PT_OK)
		return status;
	for (uint64_t off = 0; off < size;) {
		unsigned level, perms;

		find_leaf(pt, iova + off, &level, &perms);
		clear_leaf(pt, pt->root, pt->levels, iova + off);
		off += level_span(level);
	}
	return VTD_PT_OK;
}

/* ---- IOTLB invalidation of a changed range ---- */

/* Address bits a mask may span at all: beyond this the block would wrap. */
#define VTD_PSI_AM_LIMIT (64u - VTD_PAGE_SHIFT)

bool vtd_psi_cover(uint64_t iova, uint64_t size, unsigned max_am, struct vtd_psi_range *out)
{
	uint64_t last = iova + (size ? size - 1 : 0);
	unsigned am = 0;

	if (size == 0 || last < iova)
		return false;
	/* The smallest aligned block holding both the first and the last page. */
	while (am < VTD_PSI_AM_LIMIT &&
	       (iova >> (VTD_PAGE_SHIFT + am)) != (last >> (VTD_PAGE_SHIFT + am)))
		am++;
	if (am > max_am || am >= VTD_PSI_AM_LIMIT)
		return false;
	out->am = am;
	out->base = iova & ~((VTD_PAGE_4K << am) - 1);
	return true;
}

/* ---- root and context entries ---- */

struct vtd_entry128 vtd_root_entry(uint64_t context_table_phys)
{
	return (struct vtd_entry128){ (context_table_phys & VTD_ROOT_LO_CTP_MASK) | VTD_ROOT_LO_P,
				      0 };
}

struct vtd_entry128 vtd_context_entry(const struct vtd_context_fields *f)
{
	struct vtd_entry128 e = { 0, 0 };

	e.lo = (f->present ? VTD_CTX_LO_P : 0) | (f->fault_disable ? VTD_CTX_LO_FPD : 0) |
	       (((uint64_t)f->translation_type << VTD_CTX_LO_TT_SHIFT) & VTD_CTX_LO_TT_MASK) |
	       (f->slpt_phys & VTD_CTX_LO_SLPTPTR_MASK);
	e.hi = ((uint64_t)f->address_width & VTD_CTX_HI_AW_MASK) |
	       ((uint64_t)f->domain_id << VTD_CTX_HI_DID_SHIFT);
	return e;
}

void vtd_context_decode(struct vtd_entry128 e, struct vtd_context_fields *out)
{
	out->present = (e.lo & VTD_CTX_LO_P) != 0;
	out->fault_disable = (e.lo & VTD_CTX_LO_FPD) != 0;
	out->translation_type = (unsigned)((e.lo & VTD_CTX_LO_TT_MASK) >> VTD_CTX_LO_TT_SHIFT);
	out->slpt_phys = e.lo & VTD_CTX_LO_SLPTPTR_MASK;
	out->address_width = (unsigned)(e.hi & VTD_CTX_HI_AW_MASK);
	out->domain_id = (uint16_t)((e.hi & VTD_CTX_HI_DID_MASK) >> VTD_CTX_HI_DID_SHIFT);
}

/* AW encodes the depth: 1 = 3-level (39-bit), 2 = 4-level, 3 = 5-level. */
#define VTD_AW_LEVEL_BIAS 2

unsigned vtd_aw_for_levels(unsigned levels)
{
	return levels_valid(levels) ? levels - VTD_AW_LEVEL_BIAS : 0;
}

unsigned vtd_sagaw_bit_for_levels(unsigned levels)
{
	return levels_valid(levels) ? 1u << vtd_aw_for_levels(levels) : 0;
}

unsigned vtd_choose_levels(unsigned sagaw, unsigned required_bits)
{
	for (unsigned levels = VTD_PT_MIN_LEVELS; levels <= VTD_PT_MAX_LEVELS; levels++)
		if ((sagaw & vtd_sagaw_bit_for_levels(levels)) &&
		    vtd_pt_address_width(levels) >= required_bits)
			return levels;
	return 0;
}
