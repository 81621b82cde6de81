/*
 * Pure bookkeeping behind the DMA backends (host-tested):
 *
 *  - the ledger: every device-visible address range a backend hands to a
 *    device, checked when recorded (inside the pool, under the device's DMA
 *    address limit, not overlapping another live range) and re-checked by
 *    an audit.  A transfer into memory the device already holds (a part of
 *    a live buffer) is recorded as a sub-range: it must lie inside one live
 *    buffer whose direction covers its own and overlap no other live
 *    sub-range (two transfers in flight into the same bytes);
 *  - a page bitmap allocator for carving a pool into device buffers;
 *  - canary patterns that reveal writes outside the pool.
 */
#ifndef PROOFBOOT_DMA_LEDGER_H
#define PROOFBOOT_DMA_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dma_dir {
	DMA_DIR_TO_DEVICE = 1,     /* device reads memory */
	DMA_DIR_FROM_DEVICE = 2,   /* device writes memory */
	DMA_DIR_BIDIRECTIONAL = 3,
};

const char *dma_dir_name(enum dma_dir dir);

/* ------------------------------------------------------------- ledger */

struct dma_ledger_entry {
	uint64_t dev;  /* device-visible address */
	uint64_t len;
	uint32_t tag;  /* caller's label, e.g. coherent vs streaming */
	uint8_t dir;
	bool live;     /* still handed to the device */
	bool within;   /* a sub-range of a live (non-sub-range) entry: one transfer into it */
};

enum dma_ledger_error {
	DMA_LEDGER_OK = 0,
	DMA_LEDGER_EMPTY,        /* zero length */
	DMA_LEDGER_OUTSIDE_POOL, /* not wholly inside [pool_dev, pool_dev + pool_size) */
	DMA_LEDGER_OVER_LIMIT,   /* reaches above the device's DMA address limit */
	DMA_LEDGER_ALIASED,      /* overlaps a range that is still live */
	DMA_LEDGER_FULL,         /* no room even after retiring released entries */
	DMA_LEDGER_NOT_LIVE,     /* release of a range that is not live */
	DMA_LEDGER_NOT_WITHIN,   /* sub-range not inside a live buffer of a covering direction */
	DMA_LEDGER_IN_USE,       /* release of a buffer that still has live sub-ranges */
};

const char *dma_ledger_error_name(enum dma_ledger_error err);

struct dma_ledger {
	uint64_t pool_dev;
	uint64_t pool_size;
	uint64_t device_max;     /* highest address the device may be given (inclusive) */
	struct dma_ledger_entry *entries;
	size_t cap;
	size_t count;
	uint64_t recorded;       /* ranges ever accepted (sub-ranges included) */
	uint64_t recorded_within; /* of which sub-ranges */
	uint64_t released;
	uint64_t retired;        /* released entries dropped to make room (checked when recorded) */
	uint64_t refused;        /* record attempts refused */
	enum dma_ledger_error first_refusal;
};

void dma_ledger_init(struct dma_ledger *l, uint64_t pool_dev, uint64_t pool_size,
		     uint64_t device_max, struct dma_ledger_entry *entries, size_t cap);
/* Checks and records one range; refused ranges are counted, never recorded. */
enum dma_ledger_error dma_ledger_record(struct dma_ledger *l, uint64_t dev, uint64_t len,
					enum dma_dir dir, uint32_t tag);
/*
 * Checks and records one transfer into memory the device already holds:
 * the checks above, and the range must lie wholly inside one live entry
 * that is not itself a sub-range and whose direction covers `dir`, and
 * must not overlap another live sub-range.
 */
enum dma_ledger_error dma_ledger_record_within(struct dma_ledger *l, uint64_t dev, uint64_t len,
					       enum dma_dir dir, uint32_t tag);
/*
 * Marks the live entry (not a sub-range) with exactly this range released;
 * refused (and counted) while a live sub-range lies inside it.
 */
enum dma_ledger_error dma_ledger_release(struct dma_ledger *l, uint64_t dev, uint64_t len);
/* Marks the live sub-range with exactly this range released. */
enum dma_ledger_error dma_ledger_release_within(struct dma_ledger *l, uint64_t dev, uint64_t len);

struct dma_ledger_audit {
	uint64_t checked;       /* entries still stored, live or released */
	uint64_t live;
	uint64_t outside_pool;
	uint64_t over_limit;
	uint64_t aliased;       /* pairs of live entries that overlap (a sub-range inside its buffer does not count) */
	uint64_t within;        /* stored entries that are sub-ranges */
	uint64_t unparented;    /* live sub-ranges not inside a live buffer of a covering direction */
	uint64_t refused;       /* copied from the ledger: attempts that were refused */
	bool ok;
};

/* Re-checks every stored entry from scratch (the record-time checks are not trusted). */
void dma_ledger_audit(const struct dma_ledger *l, struct dma_ledger_audit *a);

/* ---------------------------------------------------------- page bitmap */

#define PAGE_BITMAP_WORD_BITS 32u
#define PAGE_BITMAP_WORDS(pages) (((pages) + PAGE_BITMAP_WORD_BITS - 1) / PAGE_BITMAP_WORD_BITS)

struct page_bitmap {
	uint64_t base;       /* address of page 0 */
	uint32_t page_size;
	size_t pages;
	size_t used;
	uint32_t *words;     /* PAGE_BITMAP_WORDS(pages) words, bit set = allocated */
};

void page_bitmap_init(struct page_bitmap *b, uint64_t base, uint32_t page_size, size_t pages,
		      uint32_t *words);
/* First fit of `count` pages whose first page index is a multiple of align_pages. */
bool page_bitmap_alloc(struct page_bitmap *b, size_t count, size_t align_pages, uint64_t *addr);
/* False (and nothing freed) unless every page in the range is allocated. */
bool page_bitmap_free(struct page_bitmap *b, uint64_t addr, size_t count);

/* -------------------------------------------------------------- canaries */

/* Fills/checks a recognisable pseudo-random pattern derived from `seed`. */
void dma_canary_fill(uint8_t *p, size_t len, uint32_t seed);
/* True when intact; otherwise *bad_offset is the first changed byte. */
bool dma_canary_check(const uint8_t *p, size_t len, uint32_t seed, size_t *bad_offset);

#endif
