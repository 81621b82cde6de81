/* The table-driven test runner and the single verdict path. */
#ifndef PROOFBOOT_RUNNER_H
#define PROOFBOOT_RUNNER_H

#include "options.h"
#include "test.h"

/* Exit codes written to QEMU's isa-debug-exit; QEMU exits with (code << 1) | 1. */
#define VERDICT_CODE_PASS 0x10 /* QEMU exit status 33 */
#define VERDICT_CODE_FAIL 0x11 /* QEMU exit status 35 */
#define VERDICT_CODE_SKIP 0x12 /* QEMU exit status 37 */

/* Period of the watchdog tick that enforces per-test timeouts. */
#define RUNNER_TICK_US 10000

/* Adds an option error for each tests= glob that names no row of the table. */
void runner_check_test_globs(struct options *opts);

/* Runs every selected test, prints the verdict and ends the run. */
void runner_run(const struct options *opts) __attribute__((noreturn));

/*
 * Ends the run now (CPU exception, abort): the running test FAILs with
 * `reason`, the tests not yet run SKIP as run-aborted, verdict FAIL.
 */
void runner_fatal(const char *reason) __attribute__((noreturn));

/* The options in force (for tests that need them). */
const struct options *runner_options(void);

#endif
