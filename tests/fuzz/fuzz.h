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

#endif
