/* VT-d page-table builder, entry encoders and register extractor tests. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "vtd_pt.h"
#include "vtd_regs.h"

/*
 * Host page allocator: malloc'd pages with invented physical addresses far
 * from their pointers, so any code that used a physical address as a
 * pointer would crash or be caught by ASan.
 */
#define FAKE_PHYS_BASE 0x7700000000ull
#define MAX_FAKE_PAGES 4096

struct fake_pages {
	void *ptr[MAX_FAKE_PAGES];
	unsigned used;
	unsigned limit; /* allocation fails beyond this many pages */
	unsigned freed;
	unsigned flushes;
};

static void *fake_alloc(void *ctx, uint64_t *phys)
{
	struct fake_pages *fp = ctx;

	if (fp->used >= fp->limit || fp->used >= MAX_FAKE_PAGES)
		return NULL;
	void *p = aligned_alloc(VTD_PAGE_4K, VTD_PAGE_4K);

	memset(p, 0, VTD_PAGE_4K);
	fp->ptr[fp->used] = p;
	*phys = FAKE_PHYS_BASE + (uint64_t)fp->used * VTD_PAGE_4K;
	fp->used++;
	return p;
}

static void *fake_page_ptr(void *ctx, uint64_t phys)
{
	struct fake_pages *fp = ctx;
	uint64_t i = (phys - FAKE_PHYS_BASE) / VTD_PAGE_4K;

	CHECK(phys >= FAKE_PHYS_BASE && i < fp->used && fp->ptr[i] != NULL);
	return fp->ptr[i];
}

static void fake_free(void *ctx, void *page, uint64_t phys)
{
	struct fake_pages *fp = ctx;
	uint64_t i = (phys - FAKE_PHYS_BASE) / VTD_PAGE_4K;

	CHECK(fp->ptr[i] == page);
	free(page);
	fp->ptr[i] = NULL;
	fp->freed++;
}

static void fake_flush(void *ctx, const void *p, size_t len)
{
	(void)p;
	(void)len;
	((struct fake_pages *)ctx)->flushes++;
}

static struct fake_pages pages;

static void fake_reset(unsigned limit)
{
	for (unsigned i = 0; i < pages.used; i++)
		free(pages.ptr[i]);
	memset(&pages, 0, sizeof(pages));
	pages.limit = limit;
}

static struct vtd_pt new_pt(unsigned levels, unsigned large)
{
	const struct vtd_pt_ops ops = { fake_alloc, fake_page_ptr, fake_free, fake_flush, &pages };
	struct vtd_pt pt;

	fake_reset(MAX_FAKE_PAGES);
	CHECK_EQ(vtd_pt_init(&pt, levels, large, &ops), VTD_PT_OK);
	return pt;
}

#define TIB (1ull << 40)

UNIT_TEST(vtd_pt_init_and_widths)
{
	const struct vtd_pt_ops ops = { fake_alloc, fake_page_ptr, NULL, NULL, &pages };
	struct vtd_pt pt;

	fake_reset(MAX_FAKE_PAGES);
	CHECK_EQ(vtd_pt_init(&pt, 2, 0, &ops), VTD_PT_ERR_LEVELS);
	CHECK_EQ(vtd_pt_init(&pt, 6, 0, &ops), VTD_PT_ERR_LEVELS);
	CHECK_EQ(vtd_pt_address_width(3), 39);
	CHECK_EQ(vtd_pt_address_width(4), 48);
	CHECK_EQ(vtd_pt_address_width(5), 57);
	fake_reset(0);
	CHECK_EQ(vtd_pt_init(&pt, 4, 0, &ops), VTD_PT_ERR_NOMEM);
	fake_reset(MAX_FAKE_PAGES);
	CHECK_EQ(vtd_pt_init(&pt, 4, 0, &ops), VTD_PT_OK);
	CHECK_EQ(pt.root_phys, FAKE_PHYS_BASE);
	CHECK_EQ(pt.table_pages, 1);
}

UNIT_TEST(vtd_pt_4k_three_levels)
{
	struct vtd_pt pt = new_pt(3, 0);
	struct vtd_translation tr;

	CHECK_EQ(vtd_pt_map_page(&pt, 0x1000, 0x5000, VTD_PAGE_4K, VTD_PERM_READ), VTD_PT_OK);
	CHECK_EQ(pt.table_pages, 3);
	CHECK(pages.flushes >= 3); /* two table links and the leaf */
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1234, &tr), VTD_PT_OK);
	CHECK_EQ(tr.phys, 0x5234);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	CHECK_EQ(tr.perms, VTD_PERM_READ);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x2000, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_lookup(&pt, 0xfff, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_map_page(&pt, 0x1000, 0x9000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_EXISTS);
	/* The raw leaf: address | R, no PS, no W. */
	uint64_t *l2 = fake_page_ptr(&pages, pt.root[0] & VTD_SLPTE_ADDR_MASK);
	uint64_t *l1 = fake_page_ptr(&pages, l2[0] & VTD_SLPTE_ADDR_MASK);

	CHECK_EQ(pt.root[0] & ~VTD_SLPTE_ADDR_MASK, VTD_SLPTE_R | VTD_SLPTE_W);
	CHECK_EQ(l1[1], 0x5000 | VTD_SLPTE_R);
}

UNIT_TEST(vtd_pt_4k_four_levels_high_iova)
{
	struct vtd_pt pt = new_pt(4, 0);
	struct vtd_translation tr;

	/* 1 TiB: needs 41 bits, so 4 levels; the index at level 4 is 2. */
	CHECK_EQ(vtd_pt_map(&pt, TIB, 0x200000, 3 * VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(pt.table_pages, 4);
	CHECK(pt.root[2] != 0);
	CHECK_EQ(pt.root[0], 0);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB + 0x2fff, &tr), VTD_PT_OK);
	CHECK_EQ(tr.phys, 0x202fff);
	CHECK_EQ(tr.perms, VTD_PERM_RW);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB + 0x3000, &tr), VTD_PT_ERR_NOT_MAPPED);
	/* The physical address itself is NOT a valid IOVA: no identity map. */
	CHECK_EQ(vtd_pt_lookup(&pt, 0x200000, &tr), VTD_PT_ERR_NOT_MAPPED);

	struct vtd_pt small = new_pt(3, 0);

	CHECK_EQ(vtd_pt_map(&small, TIB, 0x200000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_RANGE);
}

UNIT_TEST(vtd_pt_address_width_bounds)
{
	struct vtd_pt pt3 = new_pt(3, VTD_PT_ALLOW_2M);
	struct vtd_translation tr;
	const uint64_t top3 = 1ull << 39, top4 = 1ull << 48;

	CHECK_EQ(vtd_pt_map_page(&pt3, top3 - VTD_PAGE_4K, 0x1000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt3, top3 - 1, &tr), VTD_PT_OK);
	CHECK_EQ(vtd_pt_map_page(&pt3, top3, 0x1000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_RANGE);
	CHECK_EQ(vtd_pt_lookup(&pt3, top3, &tr), VTD_PT_ERR_RANGE);
	/* A range that starts inside and ends outside. */
	CHECK_EQ(vtd_pt_map(&pt3, top3 - VTD_PAGE_2M, 0, 2 * VTD_PAGE_2M, VTD_PERM_RW), VTD_PT_ERR_RANGE);
	CHECK_EQ(vtd_pt_unmap(&pt3, top3 - VTD_PAGE_4K, 2 * VTD_PAGE_4K), VTD_PT_ERR_RANGE);
	/* Wrap-around sizes are caught, not overflowed. */
	CHECK_EQ(vtd_pt_map(&pt3, VTD_PAGE_4K, 0, UINT64_MAX - VTD_PAGE_4K + 1, VTD_PERM_RW),
		 VTD_PT_ERR_RANGE);

	struct vtd_pt pt4 = new_pt(4, 0);

	CHECK_EQ(vtd_pt_map_page(&pt4, top4 - VTD_PAGE_4K, 0x1000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_map_page(&pt4, top4, 0x1000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_RANGE);
	/* Physical addresses beyond 52 bits do not fit a PTE. */
	CHECK_EQ(vtd_pt_map_page(&pt4, 0, 1ull << 52, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_RANGE);
	CHECK_EQ(vtd_pt_map_page(&pt4, 0, (1ull << 52) - VTD_PAGE_4K, VTD_PAGE_4K, VTD_PERM_RW),
		 VTD_PT_OK);
}

UNIT_TEST(vtd_pt_large_pages)
{
	struct vtd_pt pt = new_pt(4, VTD_PT_ALLOW_2M | VTD_PT_ALLOW_1G);
	struct vtd_translation tr;

	CHECK_EQ(vtd_pt_map_page(&pt, VTD_PAGE_2M, 0x40000000, VTD_PAGE_2M, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(pt.table_pages, 3); /* root, level 3, level 2: no level-1 table */
	uint64_t *l3 = fake_page_ptr(&pages, pt.root[0] & VTD_SLPTE_ADDR_MASK);
	uint64_t *l2 = fake_page_ptr(&pages, l3[0] & VTD_SLPTE_ADDR_MASK);

	CHECK_EQ(l2[1], 0x40000000 | VTD_SLPTE_PS | VTD_SLPTE_R | VTD_SLPTE_W);
	CHECK_EQ(vtd_pt_lookup(&pt, VTD_PAGE_2M + 0x1fffff, &tr), VTD_PT_OK);
	CHECK_EQ(tr.phys, 0x401fffff);
	CHECK_EQ(tr.page_size, VTD_PAGE_2M);
	CHECK_EQ(vtd_pt_map_page(&pt, VTD_PAGE_1G, 0x80000000, VTD_PAGE_1G, VTD_PERM_READ), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, VTD_PAGE_1G + 0x12345678, &tr), VTD_PT_OK);
	CHECK_EQ(tr.phys, 0x80000000 + 0x12345678);
	CHECK_EQ(tr.page_size, VTD_PAGE_1G);
	CHECK_EQ(tr.perms, VTD_PERM_READ);
	/* Misaligned large pages. */
	CHECK_EQ(vtd_pt_map_page(&pt, VTD_PAGE_2M + VTD_PAGE_4K, 0, VTD_PAGE_2M, VTD_PERM_RW),
		 VTD_PT_ERR_ALIGN);
	CHECK_EQ(vtd_pt_map_page(&pt, 4 * VTD_PAGE_1G, VTD_PAGE_2M, VTD_PAGE_1G, VTD_PERM_RW),
		 VTD_PT_ERR_ALIGN);
	CHECK_EQ(vtd_pt_map_page(&pt, 0, 0, 3 * VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_ERR_PAGE_SIZE);
	/* Inside an existing 2M page, and over it. */
	CHECK_EQ(vtd_pt_map_page(&pt, VTD_PAGE_2M + VTD_PAGE_4K, 0, VTD_PAGE_4K, VTD_PERM_RW),
		 VTD_PT_ERR_EXISTS);
	CHECK_EQ(vtd_pt_map_page(&pt, 0, 0, VTD_PAGE_1G, VTD_PERM_RW), VTD_PT_ERR_EXISTS);

	/* Large pages the unit does not support are refused. */
	struct vtd_pt no_large = new_pt(3, 0);

	CHECK_EQ(vtd_pt_map_page(&no_large, 0, 0, VTD_PAGE_2M, VTD_PERM_RW), VTD_PT_ERR_PAGE_SIZE);
	CHECK_EQ(vtd_pt_map_page(&no_large, 0, 0, VTD_PAGE_1G, VTD_PERM_RW), VTD_PT_ERR_PAGE_SIZE);
}

UNIT_TEST(vtd_pt_map_range_picks_page_sizes)
{
	struct vtd_pt pt = new_pt(4, VTD_PT_ALLOW_2M);
	struct vtd_translation tr;
	const uint64_t iova = 0x1ff000, phys = 0x3ff000, size = 0x402000;

	CHECK_EQ(vtd_pt_map(&pt, iova, phys, size, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1ff000, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x200000, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_2M);
	CHECK_EQ(tr.phys, 0x400000);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x5fffff, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_2M);
	CHECK_EQ(tr.phys, 0x7fffff);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x600fff, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x601000, &tr), VTD_PT_ERR_NOT_MAPPED);
	/* Different alignment of iova and phys forces 4K pages. */
	struct vtd_pt pt2 = new_pt(4, VTD_PT_ALLOW_2M);

	CHECK_EQ(vtd_pt_map(&pt2, VTD_PAGE_2M, VTD_PAGE_2M + VTD_PAGE_4K, VTD_PAGE_2M, VTD_PERM_RW),
		 VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt2, VTD_PAGE_2M, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	CHECK_EQ(vtd_pt_map(&pt2, 0, 0, 0x800, VTD_PERM_RW), VTD_PT_ERR_ALIGN);
	CHECK_EQ(vtd_pt_map(&pt2, 0, 0, 0, VTD_PERM_RW), VTD_PT_ERR_ALIGN);
}

UNIT_TEST(vtd_pt_unmap_revokes_and_prunes)
{
	struct vtd_pt pt = new_pt(4, VTD_PT_ALLOW_2M);
	struct vtd_translation tr;

	CHECK_EQ(vtd_pt_map(&pt, TIB, 0x100000, 2 * VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(pt.table_pages, 4);
	CHECK_EQ(vtd_pt_unmap(&pt, TIB, VTD_PAGE_4K), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB + VTD_PAGE_4K, &tr), VTD_PT_OK);
	CHECK_EQ(pt.table_pages, 4);
	CHECK_EQ(vtd_pt_unmap(&pt, TIB, VTD_PAGE_4K), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_unmap(&pt, TIB + VTD_PAGE_4K, VTD_PAGE_4K), VTD_PT_OK);
	/* Every table emptied went back: only the root remains. */
	CHECK_EQ(pt.table_pages, 1);
	CHECK_EQ(pages.freed, 3);
	CHECK_EQ(pt.root[2], 0);
	/* So a 2M page can now take the place where 4K pages were. */
	CHECK_EQ(vtd_pt_map_page(&pt, TIB, 0x200000, VTD_PAGE_2M, VTD_PERM_RW), VTD_PT_OK);
	/* Part of a large page cannot be unmapped; it stays mapped. */
	CHECK_EQ(vtd_pt_unmap(&pt, TIB, VTD_PAGE_4K), VTD_PT_ERR_SPLIT);
	CHECK_EQ(vtd_pt_unmap(&pt, TIB + VTD_PAGE_4K, VTD_PAGE_2M), VTD_PT_ERR_SPLIT);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB, &tr), VTD_PT_OK);
	CHECK_EQ(vtd_pt_unmap(&pt, TIB, VTD_PAGE_2M), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, TIB + 0x1000, &tr), VTD_PT_ERR_NOT_MAPPED);
}

UNIT_TEST(vtd_pt_unmap_with_hole_changes_nothing)
{
	struct vtd_pt pt = new_pt(3, 0);
	struct vtd_translation tr;

	CHECK_EQ(vtd_pt_map(&pt, 0x10000, 0x10000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_map(&pt, 0x12000, 0x12000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_unmap(&pt, 0x10000, 3 * VTD_PAGE_4K), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x10000, &tr), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x12000, &tr), VTD_PT_OK);
	CHECK_EQ(vtd_pt_unmap(&pt, 0x10000, 0x800), VTD_PT_ERR_ALIGN);
}

UNIT_TEST(vtd_pt_permissions)
{
	struct vtd_pt pt = new_pt(3, 0);
	struct vtd_translation tr;

	CHECK_EQ(vtd_pt_map_page(&pt, 0x1000, 0x1000, VTD_PAGE_4K, VTD_PERM_WRITE), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1000, &tr), VTD_PT_OK);
	CHECK_EQ(tr.perms, VTD_PERM_WRITE);
	CHECK_EQ(vtd_pt_map_page(&pt, 0x2000, 0x2000, VTD_PAGE_4K, 0), VTD_PT_ERR_PERMS);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x2000, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_map_page(&pt, 0x3000, 0x3000, VTD_PAGE_4K, VTD_PERM_RW), VTD_PT_OK);
	/* The hardware checks R/W at every level: a read-only upper entry wins. */
	pt.root[0] &= ~VTD_SLPTE_W;
	CHECK_EQ(vtd_pt_lookup(&pt, 0x3000, &tr), VTD_PT_OK);
	CHECK_EQ(tr.perms, VTD_PERM_READ);
	/* ... and write-only page under a read-only path: no access at all. */
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1000, &tr), VTD_PT_ERR_NOT_MAPPED);
}

UNIT_TEST(vtd_pt_out_of_memory_rolls_back)
{
	struct vtd_pt pt = new_pt(4, 0);
	struct vtd_translation tr;

	/* Root + 3 tables exist for the first 2 MiB; crossing into the next level-1 table needs one more. */
	pages.limit = 4;
	CHECK_EQ(vtd_pt_map(&pt, VTD_PAGE_2M - 2 * VTD_PAGE_4K, 0, 4 * VTD_PAGE_4K, VTD_PERM_RW),
		 VTD_PT_ERR_NOMEM);
	CHECK_EQ(vtd_pt_lookup(&pt, VTD_PAGE_2M - 2 * VTD_PAGE_4K, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(vtd_pt_lookup(&pt, VTD_PAGE_2M - VTD_PAGE_4K, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(pt.table_pages, 1);
}

/* Random map/unmap against a model of a small window: lookups must agree. */
#define MODEL_PAGES 2048 /* 8 MiB window of 4K slots */
#define MODEL_BASE (3 * TIB)

struct model_slot {
	uint64_t phys; /* 0 = unmapped */
	unsigned perms;
	uint64_t page_size;
};

static struct model_slot model[MODEL_PAGES];

static void model_check(const struct vtd_pt *pt)
{
	for (unsigned i = 0; i < MODEL_PAGES; i++) {
		struct vtd_translation tr;
		enum vtd_pt_status s = vtd_pt_lookup(pt, MODEL_BASE + i * VTD_PAGE_4K + 0x10, &tr);

		if (model[i].phys == 0) {
			CHECK_EQ(s, VTD_PT_ERR_NOT_MAPPED);
			continue;
		}
		CHECK_EQ(s, VTD_PT_OK);
		CHECK_EQ(tr.phys, model[i].phys + 0x10);
		CHECK_EQ(tr.perms, model[i].perms);
		CHECK_EQ(tr.page_size, model[i].page_size);
	}
}

UNIT_TEST(vtd_pt_random_against_model)
{
	struct vtd_pt pt = new_pt(4, VTD_PT_ALLOW_2M);
	uint32_t seed = 4242;

	memset(model, 0, sizeof(model));
	for (int op = 0; op < 400; op++) {
		seed = seed * 1103515245u + 12345u;
		bool large = (seed >> 4) % 4 == 0;
		uint64_t size = large ? VTD_PAGE_2M : VTD_PAGE_4K;
		unsigned per = (unsigned)(size / VTD_PAGE_4K);
		unsigned first = ((seed >> 8) % MODEL_PAGES) / per * per;
		uint64_t iova = MODEL_BASE + first * VTD_PAGE_4K;
		bool any_mapped = false, whole = true;

		/* Unmap succeeds only if every page is mapped and lies wholly inside the range. */
		for (unsigned k = 0; k < per; k++) {
			any_mapped |= model[first + k].phys != 0;
			whole &= model[first + k].phys != 0 && model[first + k].page_size <= size;
		}
		if ((seed >> 20) % 2 == 0) {
			uint64_t phys = 0x100000000ull + (uint64_t)((seed >> 12) % 64) * VTD_PAGE_2M;
			unsigned perms = 1 + (seed >> 28) % 3;
			enum vtd_pt_status s = vtd_pt_map_page(&pt, iova, phys, size, perms);

			CHECK_EQ(s, any_mapped ? VTD_PT_ERR_EXISTS : VTD_PT_OK);
			if (s == VTD_PT_OK)
				for (unsigned k = 0; k < per; k++)
					model[first + k] = (struct model_slot){
						phys + k * VTD_PAGE_4K, perms, size };
		} else {
			enum vtd_pt_status s = vtd_pt_unmap(&pt, iova, size);

			CHECK_EQ(s == VTD_PT_OK, whole);
			if (s == VTD_PT_OK)
				for (unsigned k = 0; k < per; k++)
					model[first + k].phys = 0;
		}
		model_check(&pt);
	}
}

/* ---- root / context entries ---- */

UNIT_TEST(vtd_root_and_context_entries)
{
	struct vtd_entry128 root = vtd_root_entry(0x12345000);
	struct vtd_context_fields f = { true, false, VTD_TT_PAGE_WALK, 0xabc000, 2, 5 }, back;
	struct vtd_entry128 ctx = vtd_context_entry(&f);

	CHECK_EQ(root.lo, 0x12345001);
	CHECK_EQ(root.hi, 0);
	CHECK_EQ(ctx.lo, 0xabc001);
	CHECK_EQ(ctx.hi, 0x502);
	vtd_context_decode(ctx, &back);
	CHECK(back.present && !back.fault_disable);
	CHECK_EQ(back.slpt_phys, 0xabc000);
	CHECK_EQ(back.address_width, 2);
	CHECK_EQ(back.domain_id, 5);

	f = (struct vtd_context_fields){ true, true, VTD_TT_PASS_THROUGH, 0, 1, 0xffff };
	ctx = vtd_context_entry(&f);
	CHECK_EQ(ctx.lo, 0x1 | 0x2 | 0x8);
	CHECK_EQ(ctx.hi, 0xffff01);
	vtd_context_decode(ctx, &back);
	CHECK_EQ(back.translation_type, VTD_TT_PASS_THROUGH);
	CHECK(back.fault_disable);
	/* Stray low bits in a table pointer never leak into the flags. */
	f = (struct vtd_context_fields){ true, false, VTD_TT_PAGE_WALK, 0xabcfff, 1, 1 };
	CHECK_EQ(vtd_context_entry(&f).lo, 0xabc001);
}

UNIT_TEST(vtd_depth_selection)
{
	CHECK_EQ(vtd_aw_for_levels(3), 1);
	CHECK_EQ(vtd_aw_for_levels(4), 2);
	CHECK_EQ(vtd_aw_for_levels(5), 3);
	CHECK_EQ(vtd_aw_for_levels(2), 0);
	CHECK_EQ(vtd_sagaw_bit_for_levels(3), VTD_SAGAW_3LEVEL);
	CHECK_EQ(vtd_sagaw_bit_for_levels(4), VTD_SAGAW_4LEVEL);
	/* QEMU aw-bits=39: 3-level only. */
	CHECK_EQ(vtd_choose_levels(VTD_SAGAW_3LEVEL, 39), 3);
	CHECK_EQ(vtd_choose_levels(VTD_SAGAW_3LEVEL, 41), 0);
	/* QEMU aw-bits=48: 3 and 4. */
	CHECK_EQ(vtd_choose_levels(VTD_SAGAW_3LEVEL | VTD_SAGAW_4LEVEL, 39), 3);
	CHECK_EQ(vtd_choose_levels(VTD_SAGAW_3LEVEL | VTD_SAGAW_4LEVEL, 41), 4);
	CHECK_EQ(vtd_choose_levels(VTD_SAGAW_4LEVEL, 30), 4);
	CHECK_EQ(vtd_choose_levels(0, 30), 0);
}

/* ---- register extractors, with the values QEMU 7.2 really reports ---- */

#define QEMU72_CAP_AW39 0x00d2008c22260206ull
#define QEMU72_CAP_AW48 0x00d2008c222f0606ull

UNIT_TEST(vtd_regs_qemu_cap)
{
	CHECK_EQ(VTD_CAP_SAGAW(QEMU72_CAP_AW39), VTD_SAGAW_3LEVEL);
	CHECK_EQ(VTD_CAP_MGAW(QEMU72_CAP_AW39), 39);
	CHECK_EQ(VTD_CAP_FRO(QEMU72_CAP_AW39), 0x220);
	CHECK_EQ(VTD_CAP_NFR(QEMU72_CAP_AW39), 1);
	CHECK_EQ(VTD_CAP_SLLPS(QEMU72_CAP_AW39), VTD_SLLPS_2M | VTD_SLLPS_1G);
	CHECK_EQ(vtd_cap_domains(QEMU72_CAP_AW39), 65536);
	CHECK(QEMU72_CAP_AW39 & VTD_CAP_PSI);
	CHECK(!(QEMU72_CAP_AW39 & VTD_CAP_CM));
	CHECK_EQ(VTD_CAP_SAGAW(QEMU72_CAP_AW48), VTD_SAGAW_3LEVEL | VTD_SAGAW_4LEVEL);
	CHECK_EQ(VTD_CAP_MGAW(QEMU72_CAP_AW48), 48);
	CHECK_EQ(vtd_frcd_offset(QEMU72_CAP_AW48, 0), 0x220);
	CHECK_EQ(vtd_frcd_offset(QEMU72_CAP_AW48, 2), 0x240);
}

UNIT_TEST(vtd_regs_ecap_gcmd_frcd)
{
	/* IRO = 0xf: IVA at 0xf0 and the IOTLB command at 0xf8, as on QEMU. */
	const uint64_t ecap = (0xfull << 8) | VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_PT;

	CHECK_EQ(VTD_ECAP_IRO(ecap), 0xf0);
	CHECK_EQ(vtd_iva_offset(ecap), 0xf0);
	CHECK_EQ(vtd_iotlb_offset(ecap), 0xf8);
	CHECK_EQ(VTD_GSTS_PERSISTENT_MASK, 0x96ffffffu);
	/* Root pointer set + translation on + IR on: re-enabling keeps TE and IRE, drops RTPS. */
	CHECK_EQ(vtd_gcmd_value(VTD_GSTS_TES | VTD_GSTS_RTPS | VTD_GSTS_IRES, VTD_GCMD_SRTP),
		 VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_SRTP);
	CHECK_EQ(vtd_gcmd_value(VTD_GSTS_RTPS, VTD_GCMD_TE), VTD_GCMD_TE);
	/* A fault record as QEMU writes it: read of 0x1000 by 00:03.0, reason 6. */
	const uint64_t hi = VTD_FRCD_HI_F | VTD_FRCD_HI_TYPE_READ | (6ull << 32) | 0x18;

	CHECK_EQ(VTD_FRCD_HI_SID(hi), vtd_source_id(0, 3, 0));
	CHECK_EQ(VTD_FRCD_HI_REASON(hi), VTD_FR_READ_NOT_PERMITTED);
	CHECK_EQ(vtd_source_id(0x12, 0x1f, 7), 0x12ff);
	CHECK_EQ(VTD_FSTS_FRI(0x0301u), 3);
	CHECK_EQ(VTD_CCMD_SID(vtd_source_id(1, 0, 0)) | VTD_CCMD_DID(7), 0x01000007ull);
	CHECK_EQ(VTD_IOTLB_DID(0x1234), 0x123400000000ull);
}

/* What the remapping core maps for a device-lifetime buffer of 5 MiB + 12 KiB, 2 MiB aligned. */
UNIT_TEST(vtd_pt_long_lived_buffer_takes_2m_leaves)
{
	struct vtd_pt pt = new_pt(4, VTD_SLLPS_2M);
	struct vtd_translation tr;
	const uint64_t iova = TIB, phys = 0x4000000, size = 2 * VTD_PAGE_2M + (1u << 20) + 3 * VTD_PAGE_4K;

	/* QEMU 7.2's intel-iommu offers 2 MiB (and 1 GiB) leaves at both widths. */
	CHECK(VTD_CAP_SLLPS(QEMU72_CAP_AW39) & VTD_SLLPS_2M);
	CHECK(VTD_CAP_SLLPS(QEMU72_CAP_AW48) & VTD_SLLPS_2M);
	CHECK_EQ(vtd_pt_map(&pt, iova, phys, size, VTD_PERM_RW), VTD_PT_OK);
	/* Two 2 MiB leaves, then 4 KiB pages for the last 1 MiB + 12 KiB. */
	CHECK_EQ(vtd_pt_lookup(&pt, iova + VTD_PAGE_2M + 0x1234, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_2M);
	CHECK_EQ(tr.phys, phys + VTD_PAGE_2M + 0x1234);
	CHECK_EQ(vtd_pt_lookup(&pt, iova + 2 * VTD_PAGE_2M, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	CHECK_EQ(vtd_pt_lookup(&pt, iova + size - 1, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
	/* Nothing past the buffer: the last leaf ends where the buffer does. */
	CHECK_EQ(vtd_pt_lookup(&pt, iova + size, &tr), VTD_PT_ERR_NOT_MAPPED);
	/* Root, level 3, level 2 and one level-1 table for the tail only. */
	CHECK_EQ(pt.table_pages, 4);
	CHECK_EQ(vtd_pt_unmap(&pt, iova, size), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&pt, iova, &tr), VTD_PT_ERR_NOT_MAPPED);
	CHECK_EQ(pt.table_pages, 1);
	/* Without SLLPS the same buffer is all 4 KiB pages. */
	struct vtd_pt small = new_pt(4, 0);

	CHECK_EQ(vtd_pt_map(&small, iova, phys, size, VTD_PERM_RW), VTD_PT_OK);
	CHECK_EQ(vtd_pt_lookup(&small, iova + VTD_PAGE_2M, &tr), VTD_PT_OK);
	CHECK_EQ(tr.page_size, VTD_PAGE_4K);
}

UNIT_TEST(vtd_psi_cover_smallest_block)
{
	struct vtd_psi_range r;

	/* One page: mask 0 at the page. */
	CHECK(vtd_psi_cover(0x4000003000, VTD_PAGE_4K, 18, &r));
	CHECK_EQ(r.base, 0x4000003000);
	CHECK_EQ(r.am, 0);
	/* Two pages that straddle a 2-page boundary need a 4-page block. */
	CHECK(vtd_psi_cover(0x4000003000, 2 * VTD_PAGE_4K, 18, &r));
	CHECK_EQ(r.base, 0x4000000000);
	CHECK_EQ(r.am, 3);
	/* A partial page still covers its whole page. */
	CHECK(vtd_psi_cover(0x4000002800, 0x100, 18, &r));
	CHECK_EQ(r.base, 0x4000002000);
	CHECK_EQ(r.am, 0);
	/* A batch spanning [window, window + 1 MiB): 256 pages, mask 8. */
	CHECK(vtd_psi_cover(0x4000000000, 1u << 20, 18, &r));
	CHECK_EQ(r.base, 0x4000000000);
	CHECK_EQ(r.am, 8);
	/* The last page of one 1 MiB block and the first of the next: 2^9 pages. */
	CHECK(vtd_psi_cover(0x40000ff000, 2 * VTD_PAGE_4K, 18, &r));
	CHECK_EQ(r.base, 0x4000000000);
	CHECK_EQ(r.am, 9);
	/* Beyond MAMV: the caller invalidates the domain. */
	CHECK(!vtd_psi_cover(0x40000ff000, 2 * VTD_PAGE_4K, 8, &r));
	CHECK(vtd_psi_cover(0x4000000000, VTD_PAGE_2M, 9, &r));
	CHECK_EQ(r.am, 9);
	CHECK(!vtd_psi_cover(0x4000000000, VTD_PAGE_2M + VTD_PAGE_4K, 9, &r));
	/* Empty and wrapping ranges are refused. */
	CHECK(!vtd_psi_cover(0x1000, 0, 18, &r));
	CHECK(!vtd_psi_cover(UINT64_MAX - 0xfff, 0x2000, 63, &r));
	/* The whole 64-bit space is no page-selective block at all. */
	CHECK(!vtd_psi_cover(0, UINT64_MAX, 63, &r));
	CHECK(vtd_psi_cover(0, 1ull << 63, 63, &r));
	CHECK_EQ(r.am, 51);
}
