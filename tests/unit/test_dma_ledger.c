/* Host tests for src/lib/dma_ledger.c: ledger checks, audit, page bitmap, canaries. */
#include "unit.h"
#include "dma_ledger.h"

#define POOL 0x10000000ull
#define POOL_SIZE 0x100000ull

UNIT_TEST(dma_ledger_accepts_ranges_inside_pool)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0x1000, DMA_DIR_BIDIRECTIONAL, 1), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + POOL_SIZE - 0x200, 0x200, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_OK);
	dma_ledger_audit(&l, &a);
	CHECK(a.ok);
	CHECK_EQ(a.live, 2);
	CHECK_EQ(a.checked, 2);
}

UNIT_TEST(dma_ledger_refuses_bad_ranges)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, POOL + 0x7ffff, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL - 1, 0x10, DMA_DIR_TO_DEVICE, 0), DMA_LEDGER_OUTSIDE_POOL);
	CHECK_EQ(dma_ledger_record(&l, POOL + POOL_SIZE - 8, 0x10, DMA_DIR_TO_DEVICE, 0),
		 DMA_LEDGER_OUTSIDE_POOL);
	CHECK_EQ(dma_ledger_record(&l, UINT64_MAX - 4, 0x10, DMA_DIR_TO_DEVICE, 0),
		 DMA_LEDGER_OUTSIDE_POOL);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0, DMA_DIR_TO_DEVICE, 0), DMA_LEDGER_EMPTY);
	/* Inside the pool but above this device's limit. */
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x7f000, 0x2000, DMA_DIR_TO_DEVICE, 0),
		 DMA_LEDGER_OVER_LIMIT);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x7f000, 0x1000, DMA_DIR_TO_DEVICE, 0), DMA_LEDGER_OK);
	CHECK_EQ(l.count, 1);
	CHECK_EQ(l.refused, 5);
	CHECK_EQ(l.first_refusal, DMA_LEDGER_OUTSIDE_POOL);
	dma_ledger_audit(&l, &a);
	CHECK(!a.ok); /* refusals mean a backend tried to hand out a bad address */
	CHECK_EQ(a.refused, 5);
	CHECK_EQ(a.outside_pool, 0);
}

UNIT_TEST(dma_ledger_refuses_aliases_until_released)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x1000, 0x1000, DMA_DIR_FROM_DEVICE, 0), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x1fff, 0x10, DMA_DIR_FROM_DEVICE, 0),
		 DMA_LEDGER_ALIASED);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x800, 0x801, DMA_DIR_FROM_DEVICE, 0),
		 DMA_LEDGER_ALIASED);
	/* Touching but not overlapping is fine. */
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x2000, 0x10, DMA_DIR_FROM_DEVICE, 0), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_release(&l, POOL + 0x1000, 0x800), DMA_LEDGER_NOT_LIVE);
	CHECK_EQ(dma_ledger_release(&l, POOL + 0x1000, 0x1000), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_release(&l, POOL + 0x1000, 0x1000), DMA_LEDGER_NOT_LIVE);
	/* Reuse of a released range is not aliasing. */
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x1000, 0x1000, DMA_DIR_FROM_DEVICE, 0), DMA_LEDGER_OK);
}

UNIT_TEST(dma_ledger_retires_released_entries_when_full)
{
	struct dma_ledger_entry e[4];
	struct dma_ledger l;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(dma_ledger_record(&l, POOL + i * 0x1000, 0x1000, DMA_DIR_TO_DEVICE, i),
			 DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x8000, 0x1000, DMA_DIR_TO_DEVICE, 9), DMA_LEDGER_FULL);
	CHECK_EQ(dma_ledger_release(&l, POOL + 0x1000, 0x1000), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x8000, 0x1000, DMA_DIR_TO_DEVICE, 9), DMA_LEDGER_OK);
	CHECK_EQ(l.retired, 1);
	CHECK_EQ(l.count, 4);
	CHECK_EQ(l.recorded, 5);
}

UNIT_TEST(dma_ledger_audit_rechecks_stored_entries)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0x1000, DMA_DIR_TO_DEVICE, 0), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x1000, 0x1000, DMA_DIR_TO_DEVICE, 0), DMA_LEDGER_OK);
	/* Corrupt the stored state behind the ledger's back: the audit must notice. */
	e[1].dev = POOL + 0x800;
	dma_ledger_audit(&l, &a);
	CHECK(!a.ok);
	CHECK_EQ(a.aliased, 1);
	e[1].dev = POOL + POOL_SIZE;
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.outside_pool, 1);
	CHECK(!a.ok);
	e[1].dev = POOL + 0x1000;
	l.device_max = POOL + 0x17ff;
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.over_limit, 1);
	CHECK(!a.ok);
}

UNIT_TEST(dma_ledger_sub_ranges_live_only_inside_a_live_buffer)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	/* No buffer yet: a transfer into pool memory nobody holds is refused. */
	CHECK_EQ(dma_ledger_record_within(&l, POOL, 0x1000, DMA_DIR_FROM_DEVICE, 0),
		 DMA_LEDGER_NOT_WITHIN);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0x4000, DMA_DIR_BIDIRECTIONAL, 1), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x4000, 0x1000, DMA_DIR_TO_DEVICE, 1), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x1000, 0x1000, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x2000, 0x2000, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_OK);
	/* Two transfers into the same bytes at once alias. */
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x1800, 0x10, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_ALIASED);
	/* Straddling the buffer's end, or inside a buffer the device may only read: refused. */
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x3800, 0x1000, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_NOT_WITHIN);
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x4000, 0x1000, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_NOT_WITHIN);
	/* An ordinary range over a buffer is aliasing, as before. */
	CHECK_EQ(dma_ledger_record(&l, POOL + 0x1000, 0x10, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_ALIASED);
	CHECK_EQ(l.recorded_within, 2);
	CHECK_EQ(l.refused, 5);
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.within, 2);
	CHECK_EQ(a.aliased, 0); /* sub-ranges inside their buffer are not aliases */
	CHECK_EQ(a.unparented, 0);
	CHECK_EQ(a.live, 4);
}

UNIT_TEST(dma_ledger_buffer_outlives_its_sub_ranges)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0x2000, DMA_DIR_BIDIRECTIONAL, 1), DMA_LEDGER_OK);
	/* A sub-range as large as its buffer: each release finds its own kind. */
	CHECK_EQ(dma_ledger_record_within(&l, POOL, 0x2000, DMA_DIR_FROM_DEVICE, 2), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_release(&l, POOL, 0x2000), DMA_LEDGER_IN_USE);
	CHECK_EQ(l.refused, 1); /* freeing memory the device may still write is a defect */
	CHECK_EQ(dma_ledger_release_within(&l, POOL, 0x1000), DMA_LEDGER_NOT_LIVE);
	CHECK_EQ(dma_ledger_release_within(&l, POOL, 0x2000), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_release_within(&l, POOL, 0x2000), DMA_LEDGER_NOT_LIVE);
	CHECK_EQ(dma_ledger_release(&l, POOL, 0x2000), DMA_LEDGER_OK);
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.live, 0);
	CHECK_EQ(a.within, 1);
	CHECK(!a.ok); /* the refused release stays on record */
}

UNIT_TEST(dma_ledger_audit_rechecks_sub_ranges)
{
	struct dma_ledger_entry e[8];
	struct dma_ledger l;
	struct dma_ledger_audit a;

	dma_ledger_init(&l, POOL, POOL_SIZE, UINT64_MAX, e, 8);
	CHECK_EQ(dma_ledger_record(&l, POOL, 0x2000, DMA_DIR_BIDIRECTIONAL, 1), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record_within(&l, POOL, 0x1000, DMA_DIR_FROM_DEVICE, 2), DMA_LEDGER_OK);
	CHECK_EQ(dma_ledger_record_within(&l, POOL + 0x1000, 0x1000, DMA_DIR_FROM_DEVICE, 2),
		 DMA_LEDGER_OK);
	dma_ledger_audit(&l, &a);
	CHECK(a.ok);
	/* Corrupt the stored state: a sub-range moved onto its neighbour ... */
	e[2].dev = POOL + 0x800;
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.aliased, 1);
	CHECK(!a.ok);
	/* ... one that left its buffer ... */
	e[2].dev = POOL + 0x1800;
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.unparented, 1);
	CHECK_EQ(a.aliased, 1); /* it also overlaps the buffer without lying inside it */
	CHECK(!a.ok);
	/* ... and a buffer released under a live sub-range. */
	e[2].dev = POOL + 0x1000;
	e[0].live = false;
	dma_ledger_audit(&l, &a);
	CHECK_EQ(a.unparented, 2);
	CHECK(!a.ok);
}

UNIT_TEST(page_bitmap_first_fit_alignment_and_free)
{
	uint32_t words[PAGE_BITMAP_WORDS(40)];
	struct page_bitmap b;
	uint64_t a1, a2, a3;

	page_bitmap_init(&b, POOL, 4096, 40, words);
	CHECK(page_bitmap_alloc(&b, 3, 1, &a1));
	CHECK_EQ(a1, POOL);
	CHECK(page_bitmap_alloc(&b, 2, 4, &a2));
	CHECK_EQ(a2, POOL + 4 * 4096);
	CHECK(page_bitmap_alloc(&b, 1, 1, &a3));
	CHECK_EQ(a3, POOL + 3 * 4096);
	CHECK_EQ(b.used, 6);
	CHECK(!page_bitmap_alloc(&b, 41, 1, &a3));
	CHECK(!page_bitmap_free(&b, a1 + 1, 1));      /* not page aligned */
	CHECK(!page_bitmap_free(&b, POOL + 6 * 4096, 1)); /* never allocated */
	CHECK(page_bitmap_free(&b, a1, 3));
	CHECK(!page_bitmap_free(&b, a1, 3));          /* double free */
	CHECK_EQ(b.used, 3);
	/* Crossing a 32-page word boundary. */
	CHECK(page_bitmap_alloc(&b, 34, 1, &a1));
	CHECK_EQ(a1, POOL + 6 * 4096);
	CHECK(!page_bitmap_alloc(&b, 4, 1, &a2));
	CHECK(page_bitmap_alloc(&b, 3, 1, &a2));
	CHECK_EQ(a2, POOL);
	CHECK_EQ(b.used, 40);
}

UNIT_TEST(dma_canary_detects_any_change)
{
	uint8_t buf[8192];
	size_t bad = 0;

	dma_canary_fill(buf, sizeof(buf), 0x1234);
	CHECK(dma_canary_check(buf, sizeof(buf), 0x1234, &bad));
	CHECK(!dma_canary_check(buf, sizeof(buf), 0x1235, &bad));
	buf[5000] ^= 1;
	CHECK(!dma_canary_check(buf, sizeof(buf), 0x1234, &bad));
	CHECK_EQ(bad, 5000);
	/* A page of zeros (a device writing zeros) is never a valid canary. */
	memset(buf, 0, 4096);
	CHECK(!dma_canary_check(buf, 4096, 0x1234, &bad));
}

/* The check compares whole words but names the first changed byte, tail bytes included. */
UNIT_TEST(dma_canary_names_the_first_changed_byte)
{
	uint8_t buf[4099];
	size_t bad = 0;

	dma_canary_fill(buf, sizeof(buf), 7);
	CHECK(dma_canary_check(buf, sizeof(buf), 7, &bad));
	buf[3003] ^= 0x80;
	buf[3001] ^= 0x01;
	buf[4000] ^= 0x01;
	CHECK(!dma_canary_check(buf, sizeof(buf), 7, &bad));
	CHECK_EQ(bad, 3001);
	dma_canary_fill(buf, sizeof(buf), 7);
	buf[4098] ^= 0x10; /* the last byte, past the last whole word */
	CHECK(!dma_canary_check(buf, sizeof(buf), 7, &bad));
	CHECK_EQ(bad, 4098);
	/* A fill of a shorter length is the same pattern, cut short. */
	dma_canary_fill(buf, sizeof(buf), 7);
	CHECK(dma_canary_check(buf, 13, 7, &bad));
	CHECK(dma_canary_check(buf + 0, 8, 7, &bad));
}
