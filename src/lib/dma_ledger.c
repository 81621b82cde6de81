/* DMA ledger, page bitmap and canaries; see dma_ledger.h. */
#include "dma_ledger.h"

#include <string.h>

/* Constants of a small 64-bit integer hash (SplitMix64 finaliser style). */
#define CANARY_SEED_MUL 0xbf58476d1ce4e5b9ull
#define CANARY_HASH_MUL 0x9e3779b97f4a7c15ull
#define CANARY_MIX_SHIFT 31

const char *dma_dir_name(enum dma_dir dir)
{
	switch (dir) {
	case DMA_DIR_TO_DEVICE: return "to-device";
	case DMA_DIR_FROM_DEVICE: return "from-device";
	case DMA_DIR_BIDIRECTIONAL: return "bidirectional";
	}
	return "unknown";
}

const char *dma_ledger_error_name(enum dma_ledger_error err)
{
	switch (err) {
	case DMA_LEDGER_OK: return "ok";
	case DMA_LEDGER_EMPTY: return "empty-range";
	case DMA_LEDGER_OUTSIDE_POOL: return "outside-pool";
	case DMA_LEDGER_OVER_LIMIT: return "over-device-dma-limit";
	case DMA_LEDGER_ALIASED: return "aliases-live-range";
	case DMA_LEDGER_FULL: return "ledger-full";
	case DMA_LEDGER_NOT_LIVE: return "release-of-range-not-live";
	case DMA_LEDGER_NOT_WITHIN: return "sub-range-outside-live-buffers";
	case DMA_LEDGER_IN_USE: return "release-of-buffer-with-live-sub-ranges";
	}
	return "unknown";
}

/* ------------------------------------------------------------- ledger */

void dma_ledger_init(struct dma_ledger *l, uint64_t pool_dev, uint64_t pool_size,
		     uint64_t device_max, struct dma_ledger_entry *entries, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->pool_dev = pool_dev;
	l->pool_size = pool_size;
	l->device_max = device_max;
	l->entries = entries;
	l->cap = cap;
}

static bool inside_pool(const struct dma_ledger *l, uint64_t dev, uint64_t len)
{
	return dev >= l->pool_dev && len <= l->pool_size && dev - l->pool_dev <= l->pool_size - len;
}

static bool under_limit(const struct dma_ledger *l, uint64_t dev, uint64_t len)
{
	return len - 1 <= l->device_max && dev <= l->device_max - (len - 1);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Both ranges are non-empty and do not wrap (checked before). */
	return a < b + blen && b < a + alen;
}

static bool contains(const struct dma_ledger_entry *outer, uint64_t dev, uint64_t len)
{
	return dev >= outer->dev && len <= outer->len && dev - outer->dev <= outer->len - len;
}

static bool covers_dir(const struct dma_ledger_entry *outer, uint8_t dir)
{
	return (dir & ~outer->dir) == 0;
}

/* Whether entry e is a buffer (not a sub-range) holding [dev, dev + len) in direction `dir`. */
static bool parent_of(const struct dma_ledger_entry *e, uint64_t dev, uint64_t len, uint8_t dir)
{
	return !e->within && contains(e, dev, len) && covers_dir(e, dir);
}

/* Whether a live buffer holds [dev, dev + len) in direction `dir`. */
static bool has_parent(const struct dma_ledger *l, uint64_t dev, uint64_t len, uint8_t dir)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->entries[i].live && parent_of(&l->entries[i], dev, len, dir))
			return true;
	return false;
}

/*
 * Checks a new range against every live one in a single pass (it runs for
 * every transfer): a sub-range needs a live buffer (not a sub-range) that
 * contains it in a covering direction, and may overlap only such a buffer;
 * any other overlap is aliasing.
 */
static enum dma_ledger_error check_live(const struct dma_ledger *l, uint64_t dev, uint64_t len,
					uint8_t dir, bool within)
{
	bool parent = !within, aliased = false;

	for (size_t i = 0; i < l->count; i++) {
		const struct dma_ledger_entry *e = &l->entries[i];

		if (!e->live || !overlaps(dev, len, e->dev, e->len))
			continue;
		if (within && parent_of(e, dev, len, dir))
			parent = true;
		else
			aliased = true;
	}
	return !parent ? DMA_LEDGER_NOT_WITHIN : aliased ? DMA_LEDGER_ALIASED : DMA_LEDGER_OK;
}

/* Drops released entries (they were checked when recorded) to make room. */
static void retire_released(struct dma_ledger *l)
{
	size_t kept = 0;

	for (size_t i = 0; i < l->count; i++) {
		if (l->entries[i].live)
			l->entries[kept++] = l->entries[i];
		else
			l->retired++;
	}
	l->count = kept;
}

static enum dma_ledger_error refuse(struct dma_ledger *l, enum dma_ledger_error err)
{
	if (l->refused++ == 0)
		l->first_refusal = err;
	return err;
}

static enum dma_ledger_error record(struct dma_ledger *l, uint64_t dev, uint64_t len,
				    enum dma_dir dir, uint32_t tag, bool within)
{
	if (len == 0)
		return refuse(l, DMA_LEDGER_EMPTY);
	if (!inside_pool(l, dev, len))
		return refuse(l, DMA_LEDGER_OUTSIDE_POOL);
	if (!under_limit(l, dev, len))
		return refuse(l, DMA_LEDGER_OVER_LIMIT);
	enum dma_ledger_error live = check_live(l, dev, len, (uint8_t)dir, within);

	if (live != DMA_LEDGER_OK)
		return refuse(l, live);
	if (l->count == l->cap)
		retire_released(l);
	if (l->count == l->cap)
		return refuse(l, DMA_LEDGER_FULL);
	l->entries[l->count++] = (struct dma_ledger_entry){ dev, len, tag, (uint8_t)dir, true, within };
	l->recorded++;
	l->recorded_within += within;
	return DMA_LEDGER_OK;
}

enum dma_ledger_error dma_ledger_record(struct dma_ledger *l, uint64_t dev, uint64_t len,
					enum dma_dir dir, uint32_t tag)
{
	return record(l, dev, len, dir, tag, false);
}

enum dma_ledger_error dma_ledger_record_within(struct dma_ledger *l, uint64_t dev, uint64_t len,
					       enum dma_dir dir, uint32_t tag)
{
	return record(l, dev, len, dir, tag, true);
}

/* Whether a live sub-range lies inside `buffer`. */
static bool has_live_sub_range(const struct dma_ledger *l, const struct dma_ledger_entry *buffer)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct dma_ledger_entry *e = &l->entries[i];

		if (e->live && e->within && contains(buffer, e->dev, e->len))
			return true;
	}
	return false;
}

static enum dma_ledger_error release(struct dma_ledger *l, uint64_t dev, uint64_t len, bool within)
{
	for (size_t i = l->count; i-- > 0;) {
		struct dma_ledger_entry *e = &l->entries[i];

		if (!e->live || e->within != within || e->dev != dev || e->len != len)
			continue;
		/* The device may still be writing into a part of it. */
		if (!within && has_live_sub_range(l, e))
			return refuse(l, DMA_LEDGER_IN_USE);
		e->live = false;
		l->released++;
		return DMA_LEDGER_OK;
	}
	return DMA_LEDGER_NOT_LIVE;
}

enum dma_ledger_error dma_ledger_release(struct dma_ledger *l, uint64_t dev, uint64_t len)
{
	return release(l, dev, len, false);
}

enum dma_ledger_error dma_ledger_release_within(struct dma_ledger *l, uint64_t dev, uint64_t len)
{
	return release(l, dev, len, true);
}

/* Two live entries alias unless one is a sub-range lying inside the other, a buffer. */
static bool aliased_pair(const struct dma_ledger_entry *a, const struct dma_ledger_entry *b)
{
	if (!a->len || !b->len || !overlaps(a->dev, a->len, b->dev, b->len))
		return false;
	if (a->within && !b->within && contains(b, a->dev, a->len))
		return false;
	return !(b->within && !a->within && contains(a, b->dev, b->len));
}

void dma_ledger_audit(const struct dma_ledger *l, struct dma_ledger_audit *a)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < l->count; i++) {
		const struct dma_ledger_entry *e = &l->entries[i];

		a->checked++;
		if (e->len == 0 || !inside_pool(l, e->dev, e->len))
			a->outside_pool++;
		else if (!under_limit(l, e->dev, e->len))
			a->over_limit++;
		a->within += e->within;
		if (!e->live)
			continue;
		a->live++;
		if (e->within && !has_parent(l, e->dev, e->len, e->dir))
			a->unparented++;
		for (size_t j = i + 1; j < l->count; j++)
			if (l->entries[j].live && aliased_pair(e, &l->entries[j]))
				a->aliased++;
	}
	a->refused = l->refused;
	a->ok = a->outside_pool == 0 && a->over_limit == 0 && a->aliased == 0 && a->refused == 0 &&
		a->unparented == 0;
}

/* ---------------------------------------------------------- page bitmap */

static bool bit_is_set(const struct page_bitmap *b, size_t page)
{
	return (b->words[page / PAGE_BITMAP_WORD_BITS] >> (page % PAGE_BITMAP_WORD_BITS)) & 1u;
}

static void set_bits(struct page_bitmap *b, size_t first, size_t count, bool value)
{
	for (size_t p = first; p < first + count; p++) {
		uint32_t bit = 1u << (p % PAGE_BITMAP_WORD_BITS);

		if (value)
			b->words[p / PAGE_BITMAP_WORD_BITS] |= bit;
		else
			b->words[p / PAGE_BITMAP_WORD_BITS] &= ~bit;
	}
}

void page_bitmap_init(struct page_bitmap *b, uint64_t base, uint32_t page_size, size_t pages,
		      uint32_t *words)
{
	b->base = base;
	b->page_size = page_size;
	b->pages = pages;
	b->used = 0;
	b->words = words;
	memset(words, 0, PAGE_BITMAP_WORDS(pages) * sizeof(uint32_t));
}

/* Length of the free run starting at `first`, stopping once `want` is reached. */
static size_t free_run(const struct page_bitmap *b, size_t first, size_t want)
{
	size_t n = 0;

	while (n < want && first + n < b->pages && !bit_is_set(b, first + n))
		n++;
	return n;
}

bool page_bitmap_alloc(struct page_bitmap *b, size_t count, size_t align_pages, uint64_t *addr)
{
	if (count == 0 || count > b->pages || align_pages == 0)
		return false;
	for (size_t first = 0; first + count <= b->pages; first += align_pages) {
		size_t run = free_run(b, first, count);

		if (run == count) {
			set_bits(b, first, count, true);
			b->used += count;
			*addr = b->base + (uint64_t)first * b->page_size;
			return true;
		}
	}
	return false;
}

bool page_bitmap_free(struct page_bitmap *b, uint64_t addr, size_t count)
{
	if (addr < b->base || (addr - b->base) % b->page_size != 0)
		return false;
	size_t first = (size_t)((addr - b->base) / b->page_size);

	if (count == 0 || first >= b->pages || count > b->pages - first)
		return false;
	for (size_t p = first; p < first + count; p++)
		if (!bit_is_set(b, p))
			return false;
	set_bits(b, first, count, false);
	b->used -= count;
	return true;
}

/* -------------------------------------------------------------- canaries */

/*
 * The canary is a sequence of 64-bit words, each a hash of its index and the
 * seed: one hash per 8 bytes keeps the check cheap enough to run after every
 * reaped batch (under QEMU TCG a per-byte hash of the bounce pool's two 8 KiB
 * canaries took ~40 us, a third of a 4 KiB read's round trip; now ~7 us).
 */
static uint64_t canary_word(uint32_t seed, size_t index)
{
	uint64_t x = ((uint64_t)index ^ ((uint64_t)seed * CANARY_SEED_MUL)) * CANARY_HASH_MUL;

	x ^= x >> CANARY_MIX_SHIFT;
	return x * CANARY_HASH_MUL;
}

/*
 * Unaligned-safe 8-byte load and store.  __builtin_memcpy, not memcpy: the
 * firmware is built -ffreestanding, where memcpy is an out-of-line call per word.
 */
static uint64_t load_word(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static void store_word(uint8_t *p, uint64_t v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

void dma_canary_fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t words = len / sizeof(uint64_t);

	for (size_t w = 0; w < words; w++)
		store_word(p + w * sizeof(uint64_t), canary_word(seed, w));
	uint64_t tail = canary_word(seed, words);

	memcpy(p + words * sizeof(tail), &tail, len % sizeof(tail));
}

/* The offset of the first byte of word `w` that differs from the canary, or len when none does. */
static size_t first_changed_byte(const uint8_t *p, size_t len, uint32_t seed, size_t w)
{
	uint8_t want[sizeof(uint64_t)];
	uint64_t v = canary_word(seed, w);
	size_t start = w * sizeof(v);

	memcpy(want, &v, sizeof(v));
	for (size_t i = 0; i < sizeof(want) && start + i < len; i++)
		if (p[start + i] != want[i])
			return start + i;
	return len;
}

bool dma_canary_check(const uint8_t *p, size_t len, uint32_t seed, size_t *bad_offset)
{
	size_t words = len / sizeof(uint64_t);
	uint64_t differs = 0;

	/* Every word is compared before any branch on the result: one loop, no early exit. */
	for (size_t w = 0; w < words; w++)
		differs |= load_word(p + w * sizeof(uint64_t)) ^ canary_word(seed, w);
	uint8_t tail[sizeof(uint64_t)];
	uint64_t want = canary_word(seed, words);

	memcpy(tail, &want, sizeof(want));
	if (!differs && !memcmp(p + words * sizeof(want), tail, len % sizeof(want)))
		return true;
	size_t at = len;

	for (size_t w = 0; w <= words && at == len; w++)
		at = first_changed_byte(p, len, seed, w);
	*bad_offset = at < len ? at : 0; /* at < len: some byte differed */
	return false;
}
