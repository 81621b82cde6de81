/*
 * Shared helpers for the libFuzzer harnesses in tests/fuzz.  Each harness
 * defines LLVMFuzzerTestOneInput, feeds the input to the same src/lib
 * parser the firmware uses and checks invariants of the result with
 * FUZZ_CHECK: a violated invariant aborts, which libFuzzer reports as a
 * crash and saves as an artifact (then a regression input, see
 * docs/robustness.md).
 */
#ifndef PROOFBOOT_FUZZ_H
#define PROOFBOOT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                           \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* A C string that ends inside its array of `cap` bytes. */
static inline bool fuzz_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* Every byte of the NUL-terminated s lies in [lo, hi]. */
static inline bool fuzz_bytes_within(const char *s, unsigned char lo, unsigned char hi)
{
	for (; *s; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > hi)
			return false;
	return true;
}

/*
 * n zeroed bytes in their own exactly-sized heap block, so that
 * AddressSanitizer reports any access past them.  n may be 0: under ASan
 * malloc(0) is a real zero-byte block, and touching it is a report.
 */
static inline void *fuzz_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	if (n)
		memset(p, 0, n);
	return p;
}

/* A copy of n bytes in its own exactly-sized heap block (see fuzz_alloc). */
static inline uint8_t *fuzz_dup(const void *src, size_t n)
{
	uint8_t *p = fuzz_alloc(n);

	if (n)
		memcpy(p, src, n);
	return p;
}

static inline uint32_t fuzz_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ACPI table header: the length (offset 4) and checksum (offset 9) fields. */
#define FUZZ_ACPI_HEADER_LEN 36u
#define FUZZ_ACPI_OFF_LENGTH 4
#define FUZZ_ACPI_OFF_CHECKSUM 9

/*
 * Makes an ACPI table's checksum right over the length its header claims,
 * when that length fits in size, so mutations reach the parser's structure
 * walk (bad checksums are the unit tests' business).
 */
static inline void fuzz_fix_acpi_checksum(uint8_t *table, size_t size)
{
	if (size < FUZZ_ACPI_HEADER_LEN)
		return;
	uint32_t len = fuzz_le32(table + FUZZ_ACPI_OFF_LENGTH);

	if (len < FUZZ_ACPI_HEADER_LEN || len > size)
		return;
	uint8_t sum = 0;

	table[FUZZ_ACPI_OFF_CHECKSUM] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + table[i]);
	table[FUZZ_ACPI_OFF_CHECKSUM] = (uint8_t)-sum;
}

#endif
