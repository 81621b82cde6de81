/*
 * The test table: every test the firmware knows, in run order.  Names are
 * subsystem.what[.backend]; tests= selects by glob.  Rows flagged
 * TEST_FLAG_EXPLICIT_ONLY run only when named exactly in tests=.
 */
#include "test.h"

#include "tests_core.h"
#include "tests_nvme.h"

const struct test_case tests_table[] = {
	{ "boot.options", "boot", TEST_FLAG_ON_OPTION_ERROR, test_boot_options },
	{ "boot.multiboot2", "boot", 0, test_boot_multiboot2 },
	{ "time.calibration", "boot", 0, test_time_calibration },
	{ "libc.newlib", "boot", 0, test_libc_newlib },
	TESTS_NVME_ROWS
	{ "cpu.fault", "negative", TEST_FLAG_EXPLICIT_ONLY, test_cpu_fault },
	{ "runner.hang", "negative", TEST_FLAG_EXPLICIT_ONLY, test_runner_hang },
};

const unsigned tests_table_count = sizeof(tests_table) / sizeof(tests_table[0]);
