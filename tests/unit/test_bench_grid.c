#include "unit.h"
#include "bench_grid.h"

#include <string.h>

static int find(const struct bench_point *p, size_t n, uint32_t bs, uint32_t qd)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].bs == bs && p[i].qd == qd)
			return (int)i;
	return -1;
}

UNIT_TEST(bench_grid_qemu_controller_is_three_by_three)
{
	struct bench_point p[BENCH_GRID_MAX];
	/* QEMU 7.2: MDTS 7 with 4 KiB pages (512 KiB), 128-entry I/O queue (127 in flight). */
	size_t n = bench_grid(512u << 10, 512, 127, p, BENCH_GRID_MAX);

	CHECK_EQ(n, 9);
	CHECK_EQ(p[0].bs, 4096);
	CHECK_EQ(p[0].qd, 1);
	CHECK_STR(p[0].qd_label, "1");
	CHECK_EQ(p[1].qd, 32);
	CHECK_STR(p[1].qd_label, "32");
	CHECK_EQ(p[2].qd, 127);
	CHECK_STR(p[2].qd_label, "max");
	CHECK_EQ(p[3].bs, 128u << 10);
	CHECK_EQ(p[8].bs, 512u << 10);
	CHECK_EQ(p[8].qd, 127);
	CHECK_STR(p[8].qd_label, "max");
}

UNIT_TEST(bench_grid_drops_repeats_and_sizes_that_do_not_fit)
{
	struct bench_point p[BENCH_GRID_MAX];
	/* MDTS = 128 KiB: the MDTS size is the 128 KiB one; a 32-deep queue: "max" is 32. */
	size_t n = bench_grid(128u << 10, 512, 32, p, BENCH_GRID_MAX);

	CHECK_EQ(n, 4);
	CHECK(find(p, n, 4096, 1) >= 0);
	CHECK(find(p, n, 4096, 32) >= 0);
	CHECK(find(p, n, 128u << 10, 32) >= 0);
	CHECK_STR(p[find(p, n, 4096, 32)].qd_label, "32");

	/* 64 KiB commands: no 128 KiB point; a 16-deep queue: no 32 point. */
	n = bench_grid(64u << 10, 4096, 16, p, BENCH_GRID_MAX);
	CHECK_EQ(n, 4);
	CHECK(find(p, n, 128u << 10, 1) < 0);
	CHECK(find(p, n, 4096, 32) < 0);
	CHECK_STR(p[find(p, n, 65536, 16)].qd_label, "max");

	/* A block larger than 4 KiB: no 4 KiB point. */
	n = bench_grid(512u << 10, 8192, 127, p, BENCH_GRID_MAX);
	CHECK_EQ(n, 6);
	CHECK(find(p, n, 4096, 1) < 0);

	/* A one-entry queue and the capacity limit. */
	CHECK_EQ(bench_grid(512u << 10, 512, 1, p, BENCH_GRID_MAX), 3);
	CHECK_EQ(bench_grid(512u << 10, 512, 127, p, 2), 2);
	CHECK_EQ(bench_grid(512u << 10, 0, 127, p, BENCH_GRID_MAX), 0);
}

UNIT_TEST(bench_rates_are_bytes_over_microseconds)
{
	CHECK_EQ(bench_mbps(64ull << 20, 1000000), 67);
	CHECK_EQ(bench_mbps(123, 0), 0);
	CHECK_EQ(bench_iops(4096ull * 3000, 4096, 1000000), 3000);
	CHECK_EQ(bench_iops(4096ull * 3000, 4096, 2000000), 1500);
	CHECK_EQ(bench_iops(4096ull * 7, 4096, 3), 2333333);
	CHECK_EQ(bench_iops(1, 0, 5), 0);
	CHECK_EQ(bench_iops(1, 4096, 0), 0);
	/* Large counts do not overflow the * 10^6. */
	CHECK_EQ(bench_iops(UINT64_C(1) << 62, 1, UINT64_C(1) << 40), (UINT64_C(1) << 22) * 1000000);
}
