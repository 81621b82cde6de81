/* Tests of the firmware's own foundation: boot information, options, time, CPU, runner. */
#include "tests_core.h"

#include "bootinfo.h"
#include "runner.h"
#include "time_cal.h"
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often runner.hang adds a dot to its unfinished line. */
#define RUNNER_HANG_DOT_US 20000

/* A real TSC runs between these; outside them calibration went wrong. */
/* Canonical, above the 4 GiB boot identity map and never mapped on demand. */
#define UNMAPPED_ADDRESS 0x00007f0000000000ull
#define MALLOC_PROBE_BYTES (64u * 1024)

enum test_status test_boot_options(struct test_ctx *ctx)
{
	const struct options *o = runner_options();

	if (o->error_count)
		return test_fail(ctx, "%u option error(s), first: %s (%s)", o->error_count,
				 o->errors[0].token, o->errors[0].reason);
	return test_pass(ctx, "dma=%s timeout=%u", options_dma_name(o->dma), o->timeout_s);
}

enum test_status test_boot_multiboot2(struct test_ctx *ctx)
{
	const struct mb2_info *info = boot_information();

	if (!boot_was_multiboot2())
		return test_fail(ctx, "not booted by a multiboot2 loader");
	if (info->problem_count)
		return test_fail(ctx, "%u boot information problem(s), first: %s", info->problem_count,
				 info->problems[0].reason);
	if (mb2_usable_bytes(info) == 0)
		return test_fail(ctx, "memory map has no usable RAM");
	return test_pass(ctx, "%u regions, %llu usable bytes", info->region_count,
			 (unsigned long long)mb2_usable_bytes(info));
}

enum test_status test_time_calibration(struct test_ctx *ctx)
{
	uint64_t hz = time_tsc_hz();

	if (!time_calibrated())
		return test_fail(ctx, "TSC not calibrated: no trustworthy source, timeouts use the "
				 "conservative %llu Hz", (unsigned long long)hz);
	if (time_implausible(hz))
		return test_fail(ctx, "implausible TSC frequency %llu Hz", (unsigned long long)hz);
	return test_pass(ctx, "tsc_hz=%llu source=%s", (unsigned long long)hz, time_source());
}

/* newlib itself: malloc, string functions and SSE-backed floating point printf. */
enum test_status test_libc_newlib(struct test_ctx *ctx)
{
	char text[32];
	unsigned char *block = malloc(MALLOC_PROBE_BYTES);

	if (!block)
		return test_fail(ctx, "malloc(%u) returned NULL", MALLOC_PROBE_BYTES);
	memset(block, 0xa5, MALLOC_PROBE_BYTES);
	bool filled = block[0] == 0xa5 && block[MALLOC_PROBE_BYTES - 1] == 0xa5;
	free(block);
	snprintf(text, sizeof(text), "%.3f", 2.0 / 3.0);
	if (!filled)
		return test_fail(ctx, "malloc'd block did not hold its contents");
	if (strcmp(text, "0.667") != 0)
		return test_fail(ctx, "printf(%%.3f, 2/3) gave '%s'", text);
	return test_pass(ctx, "malloc, memset and float printf work");
}

/* Deliberate page fault: proves exceptions are reported, never a silent reset. */
enum test_status test_cpu_fault(struct test_ctx *ctx)
{
	volatile uint64_t *unmapped = (volatile uint64_t *)(uintptr_t)UNMAPPED_ADDRESS;
	uint64_t value = *unmapped;

	return test_fail(ctx, "read of unmapped address returned 0x%llx instead of faulting",
			 (unsigned long long)value);
}

/* Never returns: proves the per-test timeout ends a hung test and the run goes on. */
/*
 * Hangs while writing an unfinished console line, as a hung driver printing
 * progress would: the watchdog must end the test without gluing its result
 * line to the dots (the checker would then see a test with no result).
 */
enum test_status test_runner_hang(struct test_ctx *ctx)
{
	(void)ctx;
	fputs("runner.hang: waiting for the watchdog ", stdout);
	for (;;) {
		fputc('.', stdout);
		time_delay_us(RUNNER_HANG_DOT_US);
	}
}
