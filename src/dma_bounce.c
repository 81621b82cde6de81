/*
 * The bounce-buffer DMA backend.  Each device gets a pool of RAM below
 * 4 GiB (and below its DMA address limit) with canary pages on both sides:
 *
 *     [ canary | pool (bitmap-allocated pages) | canary ]
 *
 * Streaming mappings copy the caller's data into pool pages (to-device) or
 * out of them on unmap (from-device), keeping the buffer's offset within a
 * page so PRP offsets are exercised.  Transfers into coherent pool memory
 * (dma_map_buffer() in dma.c) copy nothing: the ledger records them as
 * sub-ranges of their buffer.  Every range handed to the device is
 * recorded in the ledger (src/lib/dma_ledger.c); the canaries are checked
 * after every command and by the audit.
 */
#include "dma.h"

#include "pmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for 32 commands of 512 KiB (QEMU's MDTS) in flight, plus queues and PRP lists. */
#define BOUNCE_POOL_BYTES (24u << 20)
#define BOUNCE_POOL_PAGES (BOUNCE_POOL_BYTES / PAGE_SIZE)
#define BOUNCE_CANARY_BYTES (2u * PAGE_SIZE)
#define BOUNCE_MEMORY_LIMIT DMA_BOUNCE_MEMORY_LIMIT /* 32-bit addresses suit every device */
#define BOUNCE_LEDGER_ENTRIES 1024
/* Fresh from-device pages hold this, so data the device never wrote cannot pass as read. */
#define BOUNCE_POISON 0xa5
#define BOUNCE_SEED_LOW 0x6c6f7721u  /* arbitrary, distinct per side */
#define BOUNCE_SEED_HIGH 0x68696768u

enum bounce_tag { BOUNCE_TAG_COHERENT = 1, BOUNCE_TAG_STREAMING = 2 };

struct bounce_state {
	uint8_t *canary_low;
	uint8_t *pool;
	uint8_t *canary_high;
	uint64_t pool_dev;
	size_t zeroed_bytes; /* pool[0, zeroed_bytes) was zeroed; the rest on first hand-out */
	struct page_bitmap bitmap;
	uint32_t bitmap_words[PAGE_BITMAP_WORDS(BOUNCE_POOL_PAGES)];
	struct dma_ledger ledger;
	struct dma_ledger_entry entries[BOUNCE_LEDGER_ENTRIES];
	uint64_t checks;
	uint64_t check_failures;
	char first_failure[DMA_REASON_MAX];
};

static struct bounce_state *state_of(struct dma_device *d)
{
	return d->backend_state;
}

static size_t pages_for(size_t offset, size_t len)
{
	return (offset + len + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint8_t *pool_cpu(struct bounce_state *s, uint64_t dev)
{
	return s->pool + (dev - s->pool_dev);
}

static struct bounce_state *create_state(char *reason, size_t cap)
{
	struct bounce_state *s = calloc(1, sizeof(*s));
	uint8_t *region = pmem_alloc_unzeroed(BOUNCE_POOL_BYTES + 2 * BOUNCE_CANARY_BYTES,
					      PAGE_SIZE, BOUNCE_MEMORY_LIMIT);

	if (!s || !region) {
		free(s);
		snprintf(reason, cap, "no-memory-for-bounce-pool-below-4GiB");
		return NULL;
	}
	s->canary_low = region;
	s->pool = region + BOUNCE_CANARY_BYTES;
	s->canary_high = s->pool + BOUNCE_POOL_BYTES;
	s->pool_dev = virt_to_phys(s->pool);
	dma_canary_fill(s->canary_low, BOUNCE_CANARY_BYTES, BOUNCE_SEED_LOW);
	dma_canary_fill(s->canary_high, BOUNCE_CANARY_BYTES, BOUNCE_SEED_HIGH);
	page_bitmap_init(&s->bitmap, s->pool_dev, PAGE_SIZE, BOUNCE_POOL_PAGES, s->bitmap_words);
	return s;
}

static bool bounce_attach(struct dma_device *d, char *reason, size_t cap)
{
	if (!d->backend_state)
		d->backend_state = create_state(reason, cap);
	struct bounce_state *s = state_of(d);

	if (!s)
		return false;
	if (s->pool_dev + BOUNCE_POOL_BYTES - 1 > d->max_address) {
		snprintf(reason, cap, "bounce-pool-above-device-dma-limit");
		return false;
	}
	/* A fresh ledger per attach only when nothing is still handed out. */
	if (s->bitmap.used == 0)
		dma_ledger_init(&s->ledger, s->pool_dev, BOUNCE_POOL_BYTES, d->max_address, s->entries,
				BOUNCE_LEDGER_ENTRIES);
	else
		s->ledger.device_max = d->max_address;
	return true;
}

/*
 * Every pool page is zero before the device first sees it, as if the whole
 * pool had been zeroed at creation, but only as far up as pages are used:
 * a default run touches a few MiB of the 24.
 */
static void zero_before_first_use(struct bounce_state *s, uint64_t page_dev, size_t pages)
{
	size_t end = (size_t)(page_dev - s->pool_dev) + pages * PAGE_SIZE;

	if (end <= s->zeroed_bytes)
		return;
	memset(s->pool + s->zeroed_bytes, 0, end - s->zeroed_bytes);
	s->zeroed_bytes = end;
}

/* Allocates pool pages and records the range the device will see. */
static bool hand_out(struct bounce_state *s, size_t offset, size_t len, enum dma_dir dir,
		     enum bounce_tag tag, uint64_t *page_dev)
{
	size_t pages = pages_for(offset, len);

	if (!page_bitmap_alloc(&s->bitmap, pages, 1, page_dev))
		return false;
	if (dma_ledger_record(&s->ledger, *page_dev + offset, len, dir, tag) != DMA_LEDGER_OK) {
		page_bitmap_free(&s->bitmap, *page_dev, pages);
		return false;
	}
	zero_before_first_use(s, *page_dev, pages);
	return true;
}

static void take_back(struct bounce_state *s, uint64_t page_dev, size_t offset, size_t len)
{
	/* A buffer the device may still be writing into a part of stays allocated (and refused). */
	if (dma_ledger_release(&s->ledger, page_dev + offset, len) == DMA_LEDGER_IN_USE)
		return;
	page_bitmap_free(&s->bitmap, page_dev, pages_for(offset, len));
}

static bool bounce_alloc_coherent(struct dma_device *d, size_t size, struct dma_buffer *out)
{
	struct bounce_state *s = state_of(d);
	uint64_t dev;

	if (size == 0 || !hand_out(s, 0, size, DMA_DIR_BIDIRECTIONAL, BOUNCE_TAG_COHERENT, &dev))
		return false;
	out->cpu = pool_cpu(s, dev);
	out->dev = dev;
	out->size = size;
	memset(out->cpu, 0, pages_for(0, size) * PAGE_SIZE);
	return true;
}

static void bounce_free_coherent(struct dma_device *d, struct dma_buffer *buf)
{
	if (buf->size == 0)
		return;
	take_back(state_of(d), buf->dev, 0, buf->size);
	*buf = (struct dma_buffer){ 0 };
}

static bool bounce_map(struct dma_device *d, void *cpu, size_t len, enum dma_dir dir,
		       struct dma_mapping *out)
{
	struct bounce_state *s = state_of(d);
	size_t offset = (uintptr_t)cpu & (PAGE_SIZE - 1);
	uint64_t page_dev;

	if (len == 0 || !hand_out(s, offset, len, dir, BOUNCE_TAG_STREAMING, &page_dev))
		return false;
	uint8_t *bounce = pool_cpu(s, page_dev);

	if (dir & DMA_DIR_TO_DEVICE)
		memcpy(bounce + offset, cpu, len);
	else
		memset(bounce + offset, BOUNCE_POISON, len);
	*out = (struct dma_mapping){ cpu, page_dev + offset, len, dir, bounce };
	return true;
}

static void bounce_unmap(struct dma_device *d, struct dma_mapping *m)
{
	struct bounce_state *s = state_of(d);
	uint8_t *bounce = m->backend;
	size_t offset = (uintptr_t)m->cpu & (PAGE_SIZE - 1);

	if (m->dir & DMA_DIR_FROM_DEVICE)
		memcpy(m->cpu, bounce + offset, m->len);
	take_back(s, virt_to_phys(bounce), offset, m->len);
	m->len = 0;
}

static bool canaries_intact(struct bounce_state *s, char *reason, size_t cap)
{
	size_t bad;

	if (!dma_canary_check(s->canary_low, BOUNCE_CANARY_BYTES, BOUNCE_SEED_LOW, &bad)) {
		snprintf(reason, cap, "canary-below-pool-changed-at-offset-%lu",
			 (unsigned long)bad);
		return false;
	}
	if (!dma_canary_check(s->canary_high, BOUNCE_CANARY_BYTES, BOUNCE_SEED_HIGH, &bad)) {
		snprintf(reason, cap, "canary-above-pool-changed-at-offset-%lu",
			 (unsigned long)bad);
		return false;
	}
	return true;
}

static bool bounce_check(struct dma_device *d, char *reason, size_t cap)
{
	struct bounce_state *s = state_of(d);

	s->checks++;
	if (canaries_intact(s, reason, cap))
		return true;
	if (s->check_failures++ == 0)
		snprintf(s->first_failure, sizeof(s->first_failure), "%s", reason);
	return false;
}

static void bounce_audit(struct dma_device *d, struct dma_audit_report *out)
{
	struct bounce_state *s = state_of(d);
	char now[DMA_REASON_MAX] = "";

	memset(out, 0, sizeof(*out));
	out->backend = dma_bounce_ops.name;
	dma_ledger_audit(&s->ledger, &out->ledger);
	out->checks = s->checks;
	out->check_failures = s->check_failures;
	out->canaries_intact = canaries_intact(s, now, sizeof(now));
	dma_audit_judge(out, &s->ledger, now, s->first_failure);
}

static struct dma_ledger *bounce_ledger(struct dma_device *d)
{
	struct bounce_state *s = state_of(d);

	return s ? &s->ledger : NULL;
}

const struct dma_backend_ops dma_bounce_ops = {
	.name = "bounce-buffer",
	.attach = bounce_attach,
	.alloc_coherent = bounce_alloc_coherent,
	.free_coherent = bounce_free_coherent,
	.map = bounce_map,
	.unmap = bounce_unmap,
	.check = bounce_check,
	.audit = bounce_audit,
	.ledger = bounce_ledger,
};

/* Pool facts for proof lines (bounce backend only). */
bool dma_bounce_pool_info(struct dma_device *d, uint64_t *base, uint64_t *size,
			  uint64_t *canary_bytes)
{
	struct bounce_state *s = state_of(d);

	if (d->ops != &dma_bounce_ops || !s)
		return false;
	*base = s->pool_dev;
	*size = BOUNCE_POOL_BYTES;
	*canary_bytes = BOUNCE_CANARY_BYTES;
	return true;
}
