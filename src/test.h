/*
 * The test table and the small report API tests use.
 *
 * A test is one row in tests_table (src/tests.c): a dotted name such as
 * nvme.read.bounce, the groups it belongs to, a function and the
 * parameter the function gets (e.g. which DMA backend), so one function
 * serves several rows.  The runner
 * (src/runner.c) selects rows with the tests= option, runs each under the
 * per-test timeout, and prints one `test: result` line per row.
 */
#ifndef PROOFBOOT_TEST_H
#define PROOFBOOT_TEST_H

#include <stdbool.h>
#include <stdint.h>

enum test_status {
	TEST_PASS = 0,
	TEST_SKIP = 1,
	TEST_FAIL = 2, /* most severe wins */
};

#define TEST_REASON_MAX 200

struct test_ctx {
	char reason[TEST_REASON_MAX];
	const void *arg; /* the running row's parameter (struct test_case.arg) */
};

typedef enum test_status (*test_fn)(struct test_ctx *ctx);

/* Test is not run unless selected by name/glob (e.g. the deliberate fault). */
#define TEST_FLAG_EXPLICIT_ONLY (1u << 0)
/* The one test that runs (alone) when options are invalid, to report them. */
#define TEST_FLAG_ON_OPTION_ERROR (1u << 1)
/* Not in the default run (benchmarks): selected when a glob in tests= matches it. */
#define TEST_FLAG_NOT_DEFAULT (1u << 2)
/* Runs after every other row in every order= (its plan line says runs_last=true). */
#define TEST_FLAG_RUNS_LAST (1u << 3)

struct test_case {
	const char *name;
	const char *groups;   /* comma-separated, e.g. "nvme,bounce" */
	unsigned flags;
	test_fn fn;
	const void *arg;      /* the row's parameter, seen by fn as ctx->arg (may be NULL) */
};

/* Records why and returns the status: `return test_fail(ctx, "...", ...);` */
enum test_status test_report(struct test_ctx *ctx, enum test_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define test_fail(ctx, ...) test_report((ctx), TEST_FAIL, __VA_ARGS__)
#define test_skip(ctx, ...) test_report((ctx), TEST_SKIP, __VA_ARGS__)
#define test_pass(ctx, ...) test_report((ctx), TEST_PASS, __VA_ARGS__)

extern const struct test_case tests_table[];
extern const unsigned tests_table_count;

#endif
