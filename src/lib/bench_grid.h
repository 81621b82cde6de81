/*
 * The read benchmark's grid and arithmetic (pure logic, host-tested).
 *
 * Block sizes: 4 KiB, 128 KiB and the controller's largest command (MDTS,
 * capped by the driver); queue depths: 1, 32 and the deepest the I/O queue
 * allows.  Sizes the controller or namespace cannot do and repeated values
 * are dropped, so the grid has at most BENCH_GRID_MAX points.
 */
#ifndef PROOFBOOT_BENCH_GRID_H
#define PROOFBOOT_BENCH_GRID_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_BS_SMALL  4096u
#define BENCH_BS_MEDIUM (128u << 10)
#define BENCH_QD_SHALLOW 1u
#define BENCH_QD_DEEP    32u
#define BENCH_GRID_SIZES 3u
#define BENCH_GRID_DEPTHS 3u
#define BENCH_GRID_MAX (BENCH_GRID_SIZES * BENCH_GRID_DEPTHS)

struct bench_point {
	uint32_t bs;          /* bytes per command */
	uint32_t qd;          /* commands to keep in flight */
	const char *qd_label; /* "1", "32" or "max" */
};

/*
 * Fills out[] (capacity cap) with the grid for a controller whose commands
 * carry at most max_transfer bytes, a namespace of lba_size-byte blocks and
 * an I/O queue that holds queue_depth commands.  Returns the point count.
 */
size_t bench_grid(uint32_t max_transfer, uint32_t lba_size, uint32_t queue_depth,
		  struct bench_point *out, size_t cap);

/* Decimal megabytes per second, bytes / microseconds (0 when us is 0). */
uint64_t bench_mbps(uint64_t bytes, uint64_t us);
/* Commands of bs bytes per second (0 when us or bs is 0). */
uint64_t bench_iops(uint64_t bytes, uint32_t bs, uint64_t us);

#endif
