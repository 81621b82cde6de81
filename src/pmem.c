/* Physical page allocator over the multiboot2 memory map (bump, never frees). */
#include "pmem.h"

#include "pmem_init.h"

#include <string.h>

#define PMEM_MAX_RANGES (MB2_MAX_REGIONS + 2)
/* Below 1 MiB live the BIOS data, EBDA and option ROMs: never hand it out. */
#define LOW_MEMORY_END 0x100000ull
/* Only the boot identity map (cached, first 4 GiB) is handed out as RAM. */
#define RAM_MAPPED_END (4ull << 30)

struct range {
	uint64_t start, end; /* [start, end) */
};

static struct range ranges[PMEM_MAX_RANGES];
static unsigned range_count;

static void add_range(uint64_t start, uint64_t end)
{
	if (start < end && range_count < PMEM_MAX_RANGES)
		ranges[range_count++] = (struct range){ start, end };
}

void pmem_init(const struct mb2_info *info, uint64_t image_start, uint64_t image_end)
{
	range_count = 0;
	for (unsigned i = 0; i < info->region_count; i++) {
		const struct mb2_region *r = &info->regions[i];
		if (r->type != MB2_MMAP_AVAILABLE || r->length == 0)
			continue;
		uint64_t start = r->base < LOW_MEMORY_END ? LOW_MEMORY_END : r->base;
		uint64_t end = r->base + r->length < r->base ? UINT64_MAX : r->base + r->length;
		start = (start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		end &= ~(uint64_t)(PAGE_SIZE - 1);
		if (end > RAM_MAPPED_END)
			end = RAM_MAPPED_END;
		/* Cut the firmware image out (it may split the range in two). */
		if (image_start < end && image_end > start) {
			add_range(start, image_start);
			add_range(image_end, end);
		} else {
			add_range(start, end);
		}
	}
}

void *pmem_alloc_unzeroed(size_t size, size_t align, uint64_t limit)
{
	if (size == 0 || align < PAGE_SIZE || (align & (align - 1)))
		return NULL;
	size = (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
	for (unsigned i = 0; i < range_count; i++) {
		struct range *r = &ranges[i];
		uint64_t start = (r->start + align - 1) & ~(uint64_t)(align - 1);
		if (start < r->start || start >= r->end || size > r->end - start)
			continue;
		if (start + size > limit)
			continue;
		r->start = start + size;
		return phys_to_virt(start);
	}
	return NULL;
}

void *pmem_alloc(size_t size, size_t align, uint64_t limit)
{
	void *p = pmem_alloc_unzeroed(size, align, limit);

	if (p)
		memset(p, 0, (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1));
	return p;
}

uint64_t pmem_free_bytes(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < range_count; i++)
		sum += ranges[i].end - ranges[i].start;
	return sum;
}
