/* The read benchmark's grid and rates; see bench_grid.h. */
#include "bench_grid.h"

#include "time_units.h"

#include <stdbool.h>

static const char *const depth_labels[BENCH_GRID_DEPTHS] = { "1", "32", "max" };

static size_t unique_sizes(uint32_t max_transfer, uint32_t lba_size, uint32_t *sizes)
{
	const uint32_t wanted[BENCH_GRID_SIZES] = { BENCH_BS_SMALL, BENCH_BS_MEDIUM, max_transfer };
	size_t n = 0;

	for (size_t i = 0; i < BENCH_GRID_SIZES; i++) {
		uint32_t bs = wanted[i];
		/* A command is whole blocks, and no larger than the controller takes. */
		bool fits = lba_size && bs >= lba_size && bs % lba_size == 0 && bs <= max_transfer;

		for (size_t k = 0; fits && k < n; k++)
			fits = sizes[k] != bs;
		if (fits)
			sizes[n++] = bs;
	}
	return n;
}

static size_t unique_depths(uint32_t queue_depth, uint32_t *depths, const char **labels)
{
	const uint32_t wanted[BENCH_GRID_DEPTHS] = { BENCH_QD_SHALLOW, BENCH_QD_DEEP, queue_depth };
	size_t n = 0;

	for (size_t i = 0; i < BENCH_GRID_DEPTHS; i++) {
		bool fits = wanted[i] >= 1 && wanted[i] <= queue_depth;

		for (size_t k = 0; fits && k < n; k++)
			fits = depths[k] != wanted[i];
		if (fits) {
			labels[n] = depth_labels[i];
			depths[n++] = wanted[i];
		}
	}
	return n;
}

size_t bench_grid(uint32_t max_transfer, uint32_t lba_size, uint32_t queue_depth,
		  struct bench_point *out, size_t cap)
{
	uint32_t sizes[BENCH_GRID_SIZES], depths[BENCH_GRID_DEPTHS];
	const char *labels[BENCH_GRID_DEPTHS];
	size_t ns = unique_sizes(max_transfer, lba_size, sizes);
	size_t nd = unique_depths(queue_depth, depths, labels);
	size_t n = 0;

	for (size_t s = 0; s < ns; s++)
		for (size_t d = 0; d < nd && n < cap; d++)
			out[n++] = (struct bench_point){ sizes[s], depths[d], labels[d] };
	return n;
}

uint64_t bench_mbps(uint64_t bytes, uint64_t us)
{
	return us ? bytes / us : 0;
}

uint64_t bench_iops(uint64_t bytes, uint32_t bs, uint64_t us)
{
	if (!us || !bs)
		return 0;
	uint64_t commands = bytes / bs;

	/* Split so commands * 10^6 cannot overflow. */
	return commands / us * US_PER_S + commands % us * US_PER_S / us;
}
