/*
 * The \_S5 soft-off package scan (acpi_find_s5, src/lib/acpi_fadt.c) over
 * AML bytes: a DSDT as the firmware maps it.  The scan is a byte search, not
 * an interpreter, so every byte after a "_S5_" may be anything.
 *
 * Invariants: no read outside the buffer; a hit means a "_S5_" name followed
 * by PackageOp is really there, and its values are Zero/One or a BytePrefix
 * operand; a hit in a prefix of the buffer is still a hit in the whole.
 */
#include "fuzz.h"

#include "acpi_fadt.h"

#define AML_BYTE_PREFIX 0x0a

static bool byte_follows_prefix(const uint8_t *p, size_t n, uint8_t value)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == AML_BYTE_PREFIX && p[i + 1] == value)
			return true;
	return false;
}

static bool has_package_name(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "_S5_\x12", 5) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *aml = fuzz_dup(data, size);
	uint8_t a = 0xee, b = 0xee;
	bool found = acpi_find_s5(aml, size, &a, &b);

	if (found) {
		FUZZ_CHECK(has_package_name(aml, size));
		FUZZ_CHECK(a <= 1 || byte_follows_prefix(aml, size, a));
		FUZZ_CHECK(b <= 1 || byte_follows_prefix(aml, size, b));
	}
	/* The firmware may hand a shorter length than the bytes around it. */
	size_t cut = size ? data[size - 1] % (size + 1) : 0;
	uint8_t *prefix = fuzz_dup(data, cut);
	uint8_t pa, pb;

	if (acpi_find_s5(prefix, cut, &pa, &pb))
		FUZZ_CHECK(found);
	free(prefix);
	free(aml);
	return 0;
}
