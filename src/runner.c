/*
 * Runs the test table: plan lines (table order), one result line per
 * selected test in the order the order= option names (table, reverse, or a
 * seeded shuffle: src/lib/run_order.h), each under a per-test timeout
 * enforced from the LAPIC tick, then exactly one verdict line, most severe
 * result winning (FAIL > PASS > SKIP).
 */
#include "runner.h"

#include "console.h"
#include "cpu.h"
#include "io.h"
#include "irq.h"
#include "lapic.h"
#include "nvme_coverage.h"
#include "options_tests.h"
#include "proof.h"
#include "power.h"
#include "qemu.h"
#include "run_order.h"
#include "timer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#define RUNNER_MAX_TESTS 256

static const char *const status_names[] = {
	[TEST_PASS] = "PASS",
	[TEST_SKIP] = "SKIP",
	[TEST_FAIL] = "FAIL",
};

struct run_state {
	const struct options *opts;
	bool selected[RUNNER_MAX_TESTS];
	bool reported[RUNNER_MAX_TESTS];
	unsigned counts[3];
	int current;            /* index of the running test, -1 between tests */
	uint64_t current_start_us;
	volatile uint64_t deadline_us; /* 0 = no test running */
	jmp_buf watchdog_jump;
	unsigned fatal_depth;
	struct test_ctx ctx;
};

static struct run_state run = { .current = -1 };

const struct options *runner_options(void)
{
	return run.opts;
}

enum test_status test_report(struct test_ctx *ctx, enum test_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
	va_end(ap);
	return status;
}

/*
 * Rows flagged explicit-only (deliberate faults, hangs) need their exact name
 * in tests=; rows flagged not-default (benchmarks) need a matching glob.
 * With invalid options only the row that reports them runs.
 */
static bool is_selected(const struct test_case *t, const struct options *opts)
{
	if (opts->error_count)
		return t->flags & TEST_FLAG_ON_OPTION_ERROR;
	if (t->flags & TEST_FLAG_EXPLICIT_ONLY)
		return list_contains(opts->tests, t->name);
	if (opts->tests[0] == '\0')
		return !(t->flags & TEST_FLAG_NOT_DEFAULT);
	return glob_list_match(opts->tests, t->name);
}

void runner_check_test_globs(struct options *opts)
{
	static const char *names[RUNNER_MAX_TESTS];
	unsigned count = tests_table_count < RUNNER_MAX_TESTS ? tests_table_count : RUNNER_MAX_TESTS;

	for (unsigned i = 0; i < count; i++)
		names[i] = tests_table[i].name;
	options_check_test_globs(opts, names, count);
}

static void print_plan(void)
{
	for (unsigned i = 0; i < tests_table_count; i++) {
		struct proof p;
		proof_begin(&p, "test", "plan");
		proof_str(&p, "name", tests_table[i].name);
		proof_str(&p, "groups", tests_table[i].groups);
		proof_bool(&p, "selected", run.selected[i]);
		if (tests_table[i].flags & TEST_FLAG_RUNS_LAST)
			proof_bool(&p, "runs_last", true);
		proof_emit(&p);
	}
}

static void print_result(unsigned index, enum test_status status, uint64_t duration_us, const char *reason)
{
	struct proof p;

	run.counts[status]++;
	run.reported[index] = true;
	proof_begin(&p, "test", "result");
	proof_str(&p, "name", tests_table[index].name);
	proof_str(&p, "status", status_names[status]);
	proof_u64(&p, "duration_us", duration_us);
	proof_str(&p, "reason", reason);
	proof_emit(&p);
}

static enum test_status verdict_status(void)
{
	if (run.counts[TEST_FAIL])
		return TEST_FAIL;
	return run.counts[TEST_PASS] ? TEST_PASS : TEST_SKIP;
}

/* A fatal error outside any test still fails the run (see runner_fatal). */
static bool fatal_outside_test;

/* ---- untested controllers (nvme_coverage.c): they keep the verdict from PASS */
static bool controller_tests_selected(void)
{
	for (unsigned i = 0; i < tests_table_count; i++)
		if (run.selected[i] && (list_contains(tests_table[i].groups, "nvme") ||
					list_contains(tests_table[i].groups, "bench")))
			return true;
	return false;
}
/* ---- */

static void __attribute__((noreturn)) finish(void)
{
	static const unsigned codes[] = {
		[TEST_PASS] = VERDICT_CODE_PASS,
		[TEST_SKIP] = VERDICT_CODE_SKIP,
		[TEST_FAIL] = VERDICT_CODE_FAIL,
	};
	irq_disable();
	unsigned untested = nvme_report_untested(controller_tests_selected());
	enum test_status status = fatal_outside_test || untested ? TEST_FAIL : verdict_status();
	struct proof p;

	proof_begin(&p, "proofboot", "verdict");
	proof_str(&p, "status", status_names[status]);
	proof_u64(&p, "passed", run.counts[TEST_PASS]);
	proof_u64(&p, "failed", run.counts[TEST_FAIL]);
	proof_u64(&p, "skipped", run.counts[TEST_SKIP]);
	proof_u64(&p, "untested", untested);
	proof_emit(&p);
	platform_end(run.opts ? run.opts->end : END_AUTO, codes[status]);
}

static void watchdog_tick(uint8_t vector, void *ctx)
{
	(void)vector;
	(void)ctx;
	console_tick();
	/* Never unwind mid-write: the line would be cut and glued to the next (next tick then). */
	if (run.deadline_us && !console_busy() && time_now_us() >= run.deadline_us) {
		run.deadline_us = 0;
		longjmp(run.watchdog_jump, 1); /* unwinds the hung test; see run_one() */
	}
}

static void announce_start(unsigned index)
{
	struct proof p;

	proof_begin(&p, "test", "start");
	proof_str(&p, "name", tests_table[index].name);
	proof_u64(&p, "timeout_s", run.opts->timeout_s);
	proof_emit(&p);
}

static void run_one(unsigned index)
{
	enum test_status status;

	announce_start(index);
	run.ctx.reason[0] = '\0';
	run.ctx.arg = tests_table[index].arg;
	run.current = (int)index;
	run.current_start_us = time_now_us();
	if (setjmp(run.watchdog_jump) == 0) {
		run.deadline_us = run.current_start_us + run.opts->timeout_s * US_PER_S;
		irq_enable();
		status = tests_table[index].fn(&run.ctx);
		run.deadline_us = 0;
	} else {
		/* Back from the tick handler with interrupts still off. */
		console_end_line(); /* the hung test may have left half a line */
		irq_enable();
		status = test_fail(&run.ctx, "timeout after %u s", run.opts->timeout_s);
	}
	print_result(index, status, time_now_us() - run.current_start_us, run.ctx.reason);
	run.current = -1;
}

void runner_run(const struct options *opts)
{
	run.opts = opts;
	if (tests_table_count > RUNNER_MAX_TESTS)
		runner_fatal("test-table-larger-than-RUNNER_MAX_TESTS");
	for (unsigned i = 0; i < tests_table_count; i++)
		run.selected[i] = is_selected(&tests_table[i], opts);
	print_plan();

	uint8_t tick = irq_alloc_vector(watchdog_tick, NULL);
	if (tick)
		lapic_start_tick(tick, RUNNER_TICK_US);

	/* order=: no row may depend on running before or after another (see src/tests.c). */
	static unsigned order[RUNNER_MAX_TESTS];

	static bool runs_last[RUNNER_MAX_TESTS];

	run_order_permutation(opts->order, opts->order_seed, order, tests_table_count);
	for (unsigned i = 0; i < tests_table_count; i++)
		runs_last[i] = tests_table[i].flags & TEST_FLAG_RUNS_LAST;
	run_order_pin_last(order, tests_table_count, runs_last);
	for (unsigned k = 0; k < tests_table_count; k++)
		if (run.selected[order[k]])
			run_one(order[k]);
	finish();
}

/* Last resort when the verdict path itself faults: a raw line and the FAIL code. */
static void __attribute__((noreturn)) emergency_verdict(const char *reason)
{
	static const char line[] = "\nproofboot: verdict status=FAIL passed=0 failed=1 skipped=0 emergency=true\n";

	console_write(reason, __builtin_strlen(reason));
	console_write(line, sizeof(line) - 1);
	qemu_debug_exit(VERDICT_CODE_FAIL);
	cpu_halt_forever();
	__builtin_unreachable();
}

void runner_fatal(const char *reason)
{
	irq_disable();
	run.deadline_us = 0;
	if (run.fatal_depth++)
		emergency_verdict("proofboot: fatal nested=true\n");
	if (run.current >= 0) {
		print_result((unsigned)run.current, TEST_FAIL, time_now_us() - run.current_start_us, reason);
	} else {
		struct proof p;
		proof_begin(&p, "proofboot", "fatal");
		proof_str(&p, "reason", reason);
		proof_emit(&p);
		fatal_outside_test = true;
	}
	for (unsigned i = 0; i < tests_table_count && run.opts; i++)
		if (run.selected[i] && !run.reported[i])
			print_result(i, TEST_SKIP, 0, "run-aborted");
	finish();
}
