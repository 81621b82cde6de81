/*
 * AMD-Vi pure logic: register helpers, host page tables, device table
 * entries, command encoders and the event decoder, against the bit
 * positions of the AMD IOMMU specification (48882).
 */
#include "unit.h"

#include <stdlib.h>

#include "amdvi_cmd.h"
#include "amdvi_pt.h"
#include "amdvi_regs.h"

/* ---- a malloc-backed page allocator: "physical" = index * 4 KiB + base ---- */
#define FAKE_PAGES 64
#define FAKE_PHYS_BASE 0x100000ull

struct fake_pages {
	void *page[FAKE_PAGES];
	unsigned used, live, freed;
};

static void *fake_alloc(void *ctx, uint64_t *phys)
{
	struct fake_pages *f = ctx;

	if (f->used == FAKE_PAGES)
		return NULL;
	void *p = aligned_alloc(AMDVI_PAGE_4K, AMDVI_PAGE_4K);

	memset(p, 0xa5, AMDVI_PAGE_4K); /* contents undefined: the builder must fill them */
	f->page[f->used] = p;
	*phys = FAKE_PHYS_BASE + (uint64_t)f->used * AMDVI_PAGE_4K;
	f->used++;
	f->live++;
	return p;
}

static void *fake_ptr(void *ctx, uint64_t phys)
{
	struct fake_pages *f = ctx;

	return f->page[(phys - FAKE_PHYS_BASE) / AMDVI_PAGE_4K];
}

static void fake_free(void *ctx, void *page, uint64_t phys)
{
	struct fake_pages *f = ctx;

	(void)page;
	(void)phys;
	f->live--;
	f->freed++;
}

static void fake_release(struct fake_pages *f)
{
	for (unsigned i = 0; i < f->used; i++)
		free(f->page[i]);
}

static struct amdvi_pt_ops fake_ops(struct fake_pages *f)
{
	return (struct amdvi_pt_ops){ fake_alloc, fake_ptr, fake_free, f };
}

UNIT_TEST(amdvi_efr_hats_and_level_choice)
{
	/* QEMU 7.2 reports HATS = 2 (6 levels) in its EFR. */
	CHECK_EQ(AMDVI_EFR_HATS(2ull << 10), AMDVI_HATS_6_LEVELS);
	CHECK_EQ(amdvi_hats_max_levels(AMDVI_HATS_4_LEVELS), 4);
	CHECK_EQ(amdvi_hats_max_levels(AMDVI_HATS_6_LEVELS), 6);
	CHECK_EQ(amdvi_hats_max_levels(AMDVI_HATS_RESERVED), 0);
	CHECK_EQ(amdvi_pt_address_width(3), 39);
	CHECK_EQ(amdvi_pt_address_width(4), 48);
	CHECK_EQ(amdvi_pt_address_width(6), 64);
	CHECK_EQ(amdvi_pt_address_width(7), 0);
	CHECK_EQ(amdvi_pt_choose_levels(6, 39), 3);
	CHECK_EQ(amdvi_pt_choose_levels(6, 40), 4);
	CHECK_EQ(amdvi_pt_choose_levels(4, 57), 0);
	CHECK_EQ(amdvi_pt_choose_levels(5, 57), 5);
}

UNIT_TEST(amdvi_pt_map_lookup_unmap)
{
	struct fake_pages f = { 0 };
	struct amdvi_pt_ops ops = fake_ops(&f);
	struct amdvi_pt pt;
	struct amdvi_translation t;

	CHECK_EQ(amdvi_pt_init(&pt, 3, &ops), AMDVI_PT_OK);
	/* A fresh table holds only not-present markers, whatever the page held. */
	for (unsigned i = 0; i < AMDVI_PT_ENTRIES; i++)
		CHECK_EQ(pt.root[i], AMDVI_PTE_NOT_PRESENT);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x40000000, &t), AMDVI_PT_ERR_NOT_MAPPED);
	CHECK_EQ(amdvi_pt_map(&pt, 0x40000000, 0x7654000, 0x2000, AMDVI_PERM_RW), AMDVI_PT_OK);
	CHECK_EQ(pt.table_pages, 3);
	/* Directory entry: PR, next level 2, IR|IW, address of the level-2 table. */
	uint64_t pde = pt.root[1];

	CHECK_EQ(pde & AMDVI_PTE_PR, AMDVI_PTE_PR);
	CHECK_EQ((pde & AMDVI_PTE_NEXT_LEVEL_MASK) >> AMDVI_PTE_NEXT_LEVEL_SHIFT, 2);
	CHECK_EQ(pde & (AMDVI_PTE_IR | AMDVI_PTE_IW), AMDVI_PTE_IR | AMDVI_PTE_IW);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x40001abc, &t), AMDVI_PT_OK);
	CHECK_EQ(t.phys, 0x7655abc);
	CHECK_EQ(t.perms, AMDVI_PERM_RW);
	/* The leaf: PR, next level 0, address, IR|IW. */
	uint64_t *l2 = fake_ptr(&f, pde & AMDVI_PTE_ADDR_MASK);
	uint64_t *l1 = fake_ptr(&f, l2[0] & AMDVI_PTE_ADDR_MASK);

	CHECK_EQ((l2[0] & AMDVI_PTE_NEXT_LEVEL_MASK) >> AMDVI_PTE_NEXT_LEVEL_SHIFT, 1);
	CHECK_EQ(l1[1], 0x7655000ull | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW);
	CHECK_EQ(l1[2], AMDVI_PTE_NOT_PRESENT);
	/* Overlap, unaligned, too wide, no permission. */
	CHECK_EQ(amdvi_pt_map(&pt, 0x40001000, 0x1000, 0x1000, AMDVI_PERM_READ), AMDVI_PT_ERR_EXISTS);
	CHECK_EQ(amdvi_pt_map(&pt, 0x40003001, 0x1000, 0x1000, AMDVI_PERM_READ), AMDVI_PT_ERR_ALIGN);
	CHECK_EQ(amdvi_pt_map(&pt, 1ull << 39, 0x1000, 0x1000, AMDVI_PERM_READ), AMDVI_PT_ERR_RANGE);
	CHECK_EQ(amdvi_pt_map(&pt, 0x40003000, 0x1000, 0x1000, 0), AMDVI_PT_ERR_PERMS);
	/* Read-only: the leaf lacks IW, the lookup reports read only. */
	CHECK_EQ(amdvi_pt_map(&pt, 0x40003000, 0x9000, 0x1000, AMDVI_PERM_READ), AMDVI_PT_OK);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x40003000, &t), AMDVI_PT_OK);
	CHECK_EQ(t.perms, AMDVI_PERM_READ);
	CHECK_EQ(l1[3] & AMDVI_PTE_IW, 0);
	/* Unmap needs every page mapped; then empty tables are given back. */
	CHECK_EQ(amdvi_pt_unmap(&pt, 0x40000000, 0x5000), AMDVI_PT_ERR_NOT_MAPPED);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x40000000, &t), AMDVI_PT_OK);
	CHECK_EQ(amdvi_pt_unmap(&pt, 0x40000000, 0x2000), AMDVI_PT_OK);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x40000000, &t), AMDVI_PT_ERR_NOT_MAPPED);
	CHECK_EQ(l1[0], AMDVI_PTE_NOT_PRESENT);
	CHECK_EQ(pt.table_pages, 3);
	CHECK_EQ(amdvi_pt_unmap(&pt, 0x40003000, 0x1000), AMDVI_PT_OK);
	CHECK_EQ(pt.table_pages, 1);
	CHECK_EQ(f.freed, 2);
	CHECK_EQ(pt.root[1], AMDVI_PTE_NOT_PRESENT);
	fake_release(&f);
}

UNIT_TEST(amdvi_pt_all_or_nothing_when_out_of_pages)
{
	struct fake_pages f = { 0 };
	struct amdvi_pt_ops ops = fake_ops(&f);
	struct amdvi_pt pt;
	struct amdvi_translation t;

	CHECK_EQ(amdvi_pt_init(&pt, 4, &ops), AMDVI_PT_OK);
	f.used = FAKE_PAGES - 3; /* room for the three tables of the first 2 MiB only */
	for (unsigned i = 1; i < FAKE_PAGES - 3; i++)
		f.page[i] = NULL;
	CHECK_EQ(amdvi_pt_map(&pt, 0x1ff000, 0x1000, 0x2000, AMDVI_PERM_RW), AMDVI_PT_ERR_NOMEM);
	CHECK_EQ(amdvi_pt_lookup(&pt, 0x1ff000, &t), AMDVI_PT_ERR_NOT_MAPPED);
	CHECK_EQ(pt.table_pages, 1);
	fake_release(&f);
}

UNIT_TEST(amdvi_dte_bits)
{
	struct amdvi_dte_fields f = { .valid = true, .translation_valid = true, .mode = 3,
				      .root_phys = 0x12345000, .perms = AMDVI_PERM_RW,
				      .domain_id = 0x42 };
	struct amdvi_dte e = amdvi_dte_encode(&f);
	struct amdvi_dte_fields back;

	/* V bit 0, TV bit 1, Mode 11:9, root 51:12, IR 61, IW 62; domain in quad 1 15:0. */
	CHECK_EQ(e.q[0], 0x6000000012345603ull);
	CHECK_EQ(e.q[1], 0x42);
	CHECK_EQ(e.q[2], 0); /* IV = 0: interrupt remapping off */
	CHECK_EQ(e.q[3], 0);
	amdvi_dte_decode(&e, &back);
	CHECK(back.valid && back.translation_valid);
	CHECK_EQ(back.mode, 3);
	CHECK_EQ(back.root_phys, 0x12345000);
	CHECK_EQ(back.perms, AMDVI_PERM_RW);
	CHECK_EQ(back.domain_id, 0x42);
	e = amdvi_dte_blocked(7);
	CHECK_EQ(e.q[0], AMDVI_DTE_V | AMDVI_DTE_TV);
	CHECK_EQ(e.q[1], 7);
}

UNIT_TEST(amdvi_commands_bits)
{
	struct amdvi_ring_entry c = amdvi_cmd_completion_wait(0x7fe1238, 0x1122334455667788ull);

	/* Opcode 1 in bits 63:60, S bit 0, store address 51:3; store data in quad 1. */
	CHECK_EQ(c.q[0], 0x1000000007fe1239ull);
	CHECK_EQ(c.q[1], 0x1122334455667788ull);
	CHECK_EQ(amdvi_cmd_opcode(&c), AMDVI_CMD_COMPLETION_WAIT);
	c = amdvi_cmd_invalidate_devtab_entry(0x0108);
	CHECK_EQ(c.q[0], 0x2000000000000108ull);
	CHECK_EQ(c.q[1], 0);
	c = amdvi_cmd_invalidate_all();
	CHECK_EQ(c.q[0], 0x8000000000000000ull);
	CHECK_EQ(c.q[1], 0);
	/* One page: no S; domain id in bits 47:32; PDE set. */
	c = amdvi_cmd_invalidate_pages(5, 0x40001000, 0x1000);
	CHECK_EQ(c.q[0], 0x3000000500000000ull);
	CHECK_EQ(c.q[1], 0x40001000ull | AMDVI_INV_PDE);
	/* Everything: S with the all-pages address. */
	c = amdvi_cmd_invalidate_pages(5, 0, 0);
	CHECK_EQ(c.q[1], 0x7ffffffffffff000ull | AMDVI_INV_SIZE | AMDVI_INV_PDE);
}

/* The S encoding covers the range asked for, with the smallest aligned block. */
UNIT_TEST(amdvi_invalidate_pages_ranges)
{
	static const struct { uint64_t iova, size, first, last; } cases[] = {
		{ 0x0, 0x2000, 0x0, 0x1fff },
		{ 0x3000, 0x2000, 0x0, 0x7fff },      /* crosses 16K: the 32K block */
		{ 0x40000000, 0x400000, 0x40000000, 0x403fffff },
		{ 0x40001000, 0x1000, 0x40001000, 0x40001fff },
		{ 0x1ff000, 0x2000, 0x0, 0x3fffff },
		{ 0xfffffffffffff000ull, 0x1000, 0xfffffffffffff000ull, 0xffffffffffffffffull },
		{ 0x8000000000000000ull, 0x2000, 0x8000000000000000ull, 0x8000000000001fffull },
		{ 0x0, 0, 0x0, 0xffffffffffffffffull },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct amdvi_ring_entry c = amdvi_cmd_invalidate_pages(1, cases[i].iova, cases[i].size);
		uint64_t first, last;

		amdvi_cmd_invalidate_range(&c, &first, &last);
		CHECK_EQ(first, cases[i].first);
		CHECK_EQ(last, cases[i].last);
		CHECK_EQ(c.q[1] & (1ull << 63), cases[i].first >> 63 << 63);
	}
}

UNIT_TEST(amdvi_event_decode_by_name)
{
	/* As QEMU 7.2 logs a page fault: devid 15:0, info (code << 12 | I | perm) at 63:48. */
	struct amdvi_ring_entry qemu = { { 0x0018ull | ((uint64_t)(0x2u << 12 | 1u << 3 | 2u) << 48),
					   0x7ffff000ull } };
	struct amdvi_event ev;
	char flags[64];

	amdvi_event_decode(&qemu, &ev);
	CHECK_EQ(ev.code, AMDVI_EVENT_IO_PAGE_FAULT);
	CHECK_STR(ev.name, "IO_PAGE_FAULT");
	CHECK_EQ(ev.devid, 0x0018);
	CHECK_EQ(ev.address, 0x7ffff000ull);
	CHECK_EQ(ev.flags, AMDVI_EVENT_FLAG_I | AMDVI_EVENT_FLAG_NX);
	CHECK(!ev.write);
	CHECK_STR(amdvi_event_flags_str(ev.flags, flags, sizeof(flags)), "NX|I");
	CHECK(amdvi_event_is_write(&ev)); /* QEMU 7.2's write: permission 2 in the NX bit */
	qemu.q[0] ^= 3ull << 48;         /* permission 1: a read, in the GN bit */
	amdvi_event_decode(&qemu, &ev);
	CHECK(!amdvi_event_is_write(&ev));
	/* As the spec lays out a write to a present page: domain 3, flags PR|RW|PE. */
	struct amdvi_ring_entry spec = { { 0x0100ull | 3ull << 32 |
					   (uint64_t)(AMDVI_EVENT_FLAG_PR | AMDVI_EVENT_FLAG_RW |
						      AMDVI_EVENT_FLAG_PE) << 48 | 2ull << 60,
					   0x1000 } };
	amdvi_event_decode(&spec, &ev);
	CHECK_EQ(ev.domain_id, 3);
	CHECK(ev.write);
	CHECK(amdvi_event_is_write(&ev));
	CHECK_STR(amdvi_event_flags_str(ev.flags, flags, sizeof(flags)), "PR|RW|PE");
	CHECK_STR(amdvi_event_flags_str(0, flags, sizeof(flags)), "none");
	CHECK_STR(amdvi_event_flags_str(0x1ff, flags, 8), "GN|NX");
	static const char *const names[] = {
		"UNKNOWN", "ILLEGAL_DEV_TABLE_ENTRY", "IO_PAGE_FAULT", "DEV_TAB_HARDWARE_ERROR",
		"PAGE_TAB_HARDWARE_ERROR", "ILLEGAL_COMMAND_ERROR", "COMMAND_HARDWARE_ERROR",
		"IOTLB_INV_TIMEOUT", "INVALID_DEVICE_REQUEST", "INVALID_PPR_REQUEST",
		"EVENT_COUNTER_ZERO", "UNKNOWN",
	};
	for (unsigned code = 0; code < sizeof(names) / sizeof(names[0]); code++) {
		struct amdvi_ring_entry e = { { (uint64_t)code << 60 | 0xabcd, 0x55 } };

		amdvi_event_decode(&e, &ev);
		CHECK_STR(ev.name, names[code]);
		CHECK_EQ(ev.code, code);
		/* Command errors carry no requester id; the others keep bits 15:0. */
		CHECK_EQ(ev.devid, code == AMDVI_EVENT_ILLEGAL_COMMAND_ERROR ||
					   code == AMDVI_EVENT_COMMAND_HARDWARE_ERROR ||
					   code == AMDVI_EVENT_EVENT_COUNTER_ZERO ? 0 : 0xabcd);
	}
}

UNIT_TEST(amdvi_event_ring_read_by_content)
{
	struct amdvi_ring_entry ring[4] = { { { 0, 0 } } };
	struct amdvi_event ev;
	unsigned head = 3;

	CHECK(!amdvi_event_ring_take(ring, 4, &head, &ev));
	CHECK_EQ(head, 3);
	/* Two events logged at slots 3 and 0: taken in order, across the wrap. */
	ring[3] = (struct amdvi_ring_entry){ { 2ull << 60 | 0x18, 0x1000 } };
	ring[0] = (struct amdvi_ring_entry){ { 5ull << 60, 0x2000 } };
	CHECK(amdvi_event_ring_take(ring, 4, &head, &ev));
	CHECK_STR(ev.name, "IO_PAGE_FAULT");
	CHECK_EQ(ev.address, 0x1000);
	CHECK_EQ(head, 0);
	CHECK_EQ(ring[3].q[0], 0); /* consumed entries are zeroed */
	CHECK(amdvi_event_ring_take(ring, 4, &head, &ev));
	CHECK_STR(ev.name, "ILLEGAL_COMMAND_ERROR");
	CHECK_EQ(head, 1);
	CHECK(!amdvi_event_ring_take(ring, 4, &head, &ev));
	CHECK_EQ(head, 1);
	/* An index outside the ring takes nothing. */
	head = 4;
	ring[0].q[1] = 1;
	CHECK(!amdvi_event_ring_take(ring, 4, &head, &ev));
	CHECK(!amdvi_event_ring_take(ring, 0, &head, &ev));
}
