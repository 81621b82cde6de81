/* AMD-Vi host page tables and device table entries; see amdvi_pt.h. */
#include "amdvi_pt.h"

#include <string.h>

const char *amdvi_pt_status_str(enum amdvi_pt_status status)
{
	switch (status) {
	case AMDVI_PT_OK: return "ok";
	case AMDVI_PT_ERR_LEVELS: return "levels";
	case AMDVI_PT_ERR_ALIGN: return "alignment";
	case AMDVI_PT_ERR_RANGE: return "range";
	case AMDVI_PT_ERR_PERMS: return "permissions";
	case AMDVI_PT_ERR_NOMEM: return "no-memory";
	case AMDVI_PT_ERR_EXISTS: return "already-mapped";
	case AMDVI_PT_ERR_NOT_MAPPED: return "not-mapped";
	}
	return "unknown";
}

#define ADDRESS_BITS_MAX 64u

static bool levels_valid(unsigned levels)
{
	return levels >= AMDVI_PT_MIN_LEVELS && levels <= AMDVI_PT_MAX_LEVELS;
}

unsigned amdvi_pt_address_width(unsigned levels)
{
	if (!levels_valid(levels))
		return 0;
	unsigned bits = AMDVI_PAGE_SHIFT + AMDVI_PT_BITS_PER_LEVEL * levels;

	return bits > ADDRESS_BITS_MAX ? ADDRESS_BITS_MAX : bits;
}

unsigned amdvi_pt_choose_levels(unsigned max_levels, unsigned required_bits)
{
	for (unsigned levels = AMDVI_PT_MIN_LEVELS; levels <= max_levels && levels_valid(levels);
	     levels++)
		if (amdvi_pt_address_width(levels) >= required_bits)
			return levels;
	return 0;
}

static unsigned level_index(uint64_t iova, unsigned level)
{
	return (unsigned)(iova >> (AMDVI_PAGE_SHIFT + AMDVI_PT_BITS_PER_LEVEL * (level - 1))) &
	       (AMDVI_PT_ENTRIES - 1);
}

static uint64_t perms_to_bits(unsigned perms)
{
	return ((perms & AMDVI_PERM_READ) ? AMDVI_PTE_IR : 0) |
	       ((perms & AMDVI_PERM_WRITE) ? AMDVI_PTE_IW : 0);
}

static unsigned bits_to_perms(uint64_t e)
{
	return ((e & AMDVI_PTE_IR) ? AMDVI_PERM_READ : 0) |
	       ((e & AMDVI_PTE_IW) ? AMDVI_PERM_WRITE : 0);
}

static bool present(uint64_t e)
{
	return (e & AMDVI_PTE_PR) != 0;
}

static uint64_t *table_at(const struct amdvi_pt *pt, uint64_t entry)
{
	return pt->ops.page_ptr(pt->ops.ctx, entry & AMDVI_PTE_ADDR_MASK);
}

/* A fresh table: every slot not present (the marker, not zero: see amdvi_pt.h). */
static uint64_t *new_table(struct amdvi_pt *pt, uint64_t *phys)
{
	uint64_t *t = pt->ops.alloc_page(pt->ops.ctx, phys);

	if (!t)
		return NULL;
	for (unsigned i = 0; i < AMDVI_PT_ENTRIES; i++)
		t[i] = AMDVI_PTE_NOT_PRESENT;
	pt->table_pages++;
	return t;
}

static bool table_empty(const uint64_t *table)
{
	for (unsigned i = 0; i < AMDVI_PT_ENTRIES; i++)
		if (present(table[i]))
			return false;
	return true;
}

enum amdvi_pt_status amdvi_pt_init(struct amdvi_pt *pt, unsigned levels,
				   const struct amdvi_pt_ops *ops)
{
	memset(pt, 0, sizeof(*pt));
	if (!levels_valid(levels))
		return AMDVI_PT_ERR_LEVELS;
	pt->ops = *ops;
	pt->levels = levels;
	pt->root = new_table(pt, &pt->root_phys);
	return pt->root ? AMDVI_PT_OK : AMDVI_PT_ERR_NOMEM;
}

/* Whether [addr, addr + size) fits below 2^bits (without overflowing). */
static bool fits_below(uint64_t addr, uint64_t size, unsigned bits)
{
	if (bits >= ADDRESS_BITS_MAX)
		return size == 0 || addr + (size - 1) >= addr;
	uint64_t limit = 1ull << bits;

	return addr < limit && size <= limit - addr;
}

/* The level-1 slot for iova; with create, missing tables are added. NULL if absent. */
static uint64_t *leaf_slot(struct amdvi_pt *pt, uint64_t iova, bool create, bool *nomem)
{
	uint64_t *table = pt->root;

	for (unsigned level = pt->levels; level > 1; level--) {
		uint64_t *slot = &table[level_index(iova, level)];

		if (!present(*slot)) {
			uint64_t phys;

			if (!create || !(table = new_table(pt, &phys))) {
				*nomem = create;
				return NULL;
			}
			/* Directory entries grant all; the leaf carries the real permissions. */
			*slot = (phys & AMDVI_PTE_ADDR_MASK) | AMDVI_PTE_PR | AMDVI_PTE_IR |
				AMDVI_PTE_IW | ((uint64_t)(level - 1) << AMDVI_PTE_NEXT_LEVEL_SHIFT);
			continue;
		}
		table = table_at(pt, *slot);
	}
	return &table[level_index(iova, 1)];
}

static enum amdvi_pt_status check_range(const struct amdvi_pt *pt, uint64_t iova, uint64_t size)
{
	if (size == 0 || ((iova | size) & (AMDVI_PAGE_4K - 1)))
		return AMDVI_PT_ERR_ALIGN;
	if (!fits_below(iova, size, amdvi_pt_address_width(pt->levels)))
		return AMDVI_PT_ERR_RANGE;
	return AMDVI_PT_OK;
}

/* Whether every 4 KiB page of the range is mapped (want) or unmapped (!want). */
static bool range_is(const struct amdvi_pt *pt, uint64_t iova, uint64_t size, bool want)
{
	for (uint64_t off = 0; off < size; off += AMDVI_PAGE_4K) {
		struct amdvi_translation t;

		if ((amdvi_pt_lookup(pt, iova + off, &t) == AMDVI_PT_OK) != want)
			return false;
	}
	return true;
}

enum amdvi_pt_status amdvi_pt_map(struct amdvi_pt *pt, uint64_t iova, uint64_t phys,
				  uint64_t size, unsigned perms)
{
	enum amdvi_pt_status st = check_range(pt, iova, size);

	if (st != AMDVI_PT_OK)
		return st;
	if (phys & (AMDVI_PAGE_4K - 1))
		return AMDVI_PT_ERR_ALIGN;
	if (!fits_below(phys, size, AMDVI_PHYS_ADDR_BITS))
		return AMDVI_PT_ERR_RANGE;
	if ((perms & AMDVI_PERM_RW) == 0)
		return AMDVI_PT_ERR_PERMS;
	if (!range_is(pt, iova, size, false))
		return AMDVI_PT_ERR_EXISTS;
	for (uint64_t off = 0; off < size; off += AMDVI_PAGE_4K) {
		bool nomem = false;
		uint64_t *slot = leaf_slot(pt, iova + off, true, &nomem);

		if (!slot) {
			if (off > 0)
				amdvi_pt_unmap(pt, iova, off);
			return AMDVI_PT_ERR_NOMEM;
		}
		/* Next level 0: a 4 KiB page. */
		*slot = ((phys + off) & AMDVI_PTE_ADDR_MASK) | AMDVI_PTE_PR | perms_to_bits(perms);
	}
	return AMDVI_PT_OK;
}

/* Clears iova's leaf below `table`, then unlinks tables that became empty. */
static void clear_leaf(struct amdvi_pt *pt, uint64_t *table, unsigned level, uint64_t iova)
{
	uint64_t *slot = &table[level_index(iova, level)];

	if (level == 1) {
		*slot = AMDVI_PTE_NOT_PRESENT;
		return;
	}
	uint64_t child_phys = *slot & AMDVI_PTE_ADDR_MASK;
	uint64_t *child = table_at(pt, *slot);

	clear_leaf(pt, child, level - 1, iova);
	if (!table_empty(child))
		return;
	*slot = AMDVI_PTE_NOT_PRESENT;
	pt->table_pages--;
	if (pt->ops.free_page)
		pt->ops.free_page(pt->ops.ctx, child, child_phys);
}

enum amdvi_pt_status amdvi_pt_unmap(struct amdvi_pt *pt, uint64_t iova, uint64_t size)
{
	enum amdvi_pt_status st = check_range(pt, iova, size);

	if (st != AMDVI_PT_OK)
		return st;
	if (!range_is(pt, iova, size, true))
		return AMDVI_PT_ERR_NOT_MAPPED;
	for (uint64_t off = 0; off < size; off += AMDVI_PAGE_4K)
		clear_leaf(pt, pt->root, pt->levels, iova + off);
	return AMDVI_PT_OK;
}

enum amdvi_pt_status amdvi_pt_lookup(const struct amdvi_pt *pt, uint64_t iova,
				     struct amdvi_translation *out)
{
	const uint64_t *table = pt->root;
	unsigned perms = AMDVI_PERM_RW;

	memset(out, 0, sizeof(*out));
	if (!fits_below(iova, 1, amdvi_pt_address_width(pt->levels)))
		return AMDVI_PT_ERR_RANGE;
	for (unsigned level = pt->levels; level >= 1; level--) {
		uint64_t e = table[level_index(iova, level)];

		if (!present(e))
			return AMDVI_PT_ERR_NOT_MAPPED;
		perms &= bits_to_perms(e);
		if (level == 1) {
			if (perms == 0)
				return AMDVI_PT_ERR_NOT_MAPPED;
			out->phys = (e & AMDVI_PTE_ADDR_MASK) | (iova & (AMDVI_PAGE_4K - 1));
			out->perms = perms;
			return AMDVI_PT_OK;
		}
		table = table_at(pt, e);
	}
	return AMDVI_PT_ERR_NOT_MAPPED;
}

/* ---- device table entries ---- */

struct amdvi_dte amdvi_dte_encode(const struct amdvi_dte_fields *f)
{
	struct amdvi_dte e = { { 0, 0, 0, 0 } };

	e.q[0] = (f->valid ? AMDVI_DTE_V : 0) | (f->translation_valid ? AMDVI_DTE_TV : 0) |
		 (((uint64_t)f->mode << AMDVI_DTE_MODE_SHIFT) & AMDVI_DTE_MODE_MASK) |
		 (f->root_phys & AMDVI_DTE_ROOT_MASK) |
		 ((f->perms & AMDVI_PERM_READ) ? AMDVI_DTE_IR : 0) |
		 ((f->perms & AMDVI_PERM_WRITE) ? AMDVI_DTE_IW : 0);
	e.q[1] = f->domain_id & AMDVI_DTE_DOMAIN_MASK;
	/* q[2] = 0: IV clear, interrupts are not remapped; q[3] reserved. */
	return e;
}

void amdvi_dte_decode(const struct amdvi_dte *e, struct amdvi_dte_fields *out)
{
	out->valid = (e->q[0] & AMDVI_DTE_V) != 0;
	out->translation_valid = (e->q[0] & AMDVI_DTE_TV) != 0;
	out->mode = (unsigned)((e->q[0] & AMDVI_DTE_MODE_MASK) >> AMDVI_DTE_MODE_SHIFT);
	out->root_phys = e->q[0] & AMDVI_DTE_ROOT_MASK;
	out->perms = ((e->q[0] & AMDVI_DTE_IR) ? AMDVI_PERM_READ : 0) |
		     ((e->q[0] & AMDVI_DTE_IW) ? AMDVI_PERM_WRITE : 0);
	out->domain_id = (uint16_t)(e->q[1] & AMDVI_DTE_DOMAIN_MASK);
}

struct amdvi_dte amdvi_dte_translate(const struct amdvi_pt *pt, uint16_t domain_id)
{
	struct amdvi_dte_fields f = { .valid = true, .translation_valid = true,
				      .mode = pt->levels, .root_phys = pt->root_phys,
				      .perms = AMDVI_PERM_RW, .domain_id = domain_id };

	return amdvi_dte_encode(&f);
}

struct amdvi_dte amdvi_dte_blocked(uint16_t domain_id)
{
	struct amdvi_dte_fields f = { .valid = true, .translation_valid = true, .mode = 0,
				      .perms = 0, .domain_id = domain_id };

	return amdvi_dte_encode(&f);
}
