#ifndef PROOFBOOT_TESTS_CORE_H
#define PROOFBOOT_TESTS_CORE_H

#include "test.h"

enum test_status test_boot_options(struct test_ctx *ctx);
enum test_status test_boot_multiboot2(struct test_ctx *ctx);
enum test_status test_time_calibration(struct test_ctx *ctx);
enum test_status test_libc_newlib(struct test_ctx *ctx);
enum test_status test_cpu_fault(struct test_ctx *ctx);
enum test_status test_runner_hang(struct test_ctx *ctx);

#endif
