/*
 * The read benchmark (project issue 7): sequential reads over a grid of
 * block sizes and queue depths on each DMA backend, one `bench: read` line
 * per point, and `bench: first-io` (boot to first completed read).  Rows
 * are flagged TEST_FLAG_NOT_DEFAULT: they run with tests=bench.* only.
 */
#ifndef PROOFBOOT_TESTS_BENCH_H
#define PROOFBOOT_TESTS_BENCH_H

#include "test.h"

enum test_status test_bench_read_bounce(struct test_ctx *ctx);
enum test_status test_bench_read_iommu(struct test_ctx *ctx);

#endif
