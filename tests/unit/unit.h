/*
 * Minimal host unit-test harness.  Each tests/unit/test_*.c file declares
 * cases with UNIT_TEST(name); they register themselves at start-up and
 * tests/unit/main.c runs them all (or those whose name contains argv[1]),
 * ending with the line "N passed, N failed".
 */
#ifndef PROOFBOOT_UNIT_H
#define PROOFBOOT_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define UNIT_TEST(name)                                                    \
	static void name(void);                                            \
	__attribute__((constructor)) static void unit_reg_##name(void)     \
	{                                                                  \
		unit_register(#name, __FILE__, name);                      \
	}                                                                  \
	static void name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		uint64_t unit_a_ = (uint64_t)(a), unit_b_ = (uint64_t)(b); \
		if (unit_a_ != unit_b_)                                    \
			unit_fail(__FILE__, __LINE__,                      \
				  "%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, \
				  #a, #b, unit_a_, unit_b_);               \
	} while (0)

#define CHECK_STR(a, b)                                                    \
	do {                                                               \
		const char *unit_a_ = (a), *unit_b_ = (b);                 \
		if (strcmp(unit_a_, unit_b_) != 0)                         \
			unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				  #a, #b, unit_a_, unit_b_);               \
	} while (0)

#endif
