/*
 * The read benchmark (project issue 7): sequential reads over a grid of
 * block sizes and queue depths on each DMA backend, one `bench: read` line
 * per point, and `bench: first-io` (boot to first completed read).  Rows
 * are flagged TEST_FLAG_NOT_DEFAULT: they run with tests=bench.* only.
 */
#ifndef PROOFBOOT_TESTS_BENCH_H
#define PROOFBOOT_TESTS_BENCH_H

#include "test.h"

/* The row's parameter is the backend (&test_backend_bounce or &test_backend_remapped). */
enum test_status test_bench_read(struct test_ctx *ctx);

#endif
