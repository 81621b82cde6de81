#include "acpi_fadt.h"

#include "le.h"

#include <string.h>

#define FADT_X_DSDT_END (FADT_OFF_X_DSDT + 8)
#define FADT_RESET_END (FADT_OFF_RESET_VALUE + 1)

/* AML encodings (ACPI 6.x, 20.2). */
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_PKGLEN_EXTRA_SHIFT 6
#define S5_NAME "_S5_"
#define S5_NAME_LEN 4

bool acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *out)
{
	const uint8_t *f = fadt;

	memset(out, 0, sizeof(*out));
	if (len < FADT_MIN_LEN)
		return false;
	out->dsdt = le_get32(f + FADT_OFF_DSDT);
	out->pm1a_cnt = le_get32(f + FADT_OFF_PM1A_CNT_BLK);
	out->pm1b_cnt = le_get32(f + FADT_OFF_PM1B_CNT_BLK);
	if (len >= FADT_X_DSDT_END && le_get64(f + FADT_OFF_X_DSDT))
		out->dsdt = le_get64(f + FADT_OFF_X_DSDT);
	if (len >= FADT_RESET_END && (le_get32(f + FADT_OFF_FLAGS) & FADT_FLAG_RESET_REG_SUP)) {
		const uint8_t *gas = f + FADT_OFF_RESET_REG;
		out->reset_space = gas[GAS_OFF_SPACE];
		out->reset_addr = le_get64(gas + GAS_OFF_ADDRESS);
		out->reset_value = f[FADT_OFF_RESET_VALUE];
		out->reset_supported = out->reset_addr != 0 &&
				       (out->reset_space == GAS_SPACE_IO || out->reset_space == GAS_SPACE_MEMORY);
	}
	return true;
}

/* One integer package element; advances *at.  False for anything else. */
static bool aml_small_integer(const uint8_t *aml, size_t len, size_t *at, uint8_t *value)
{
	if (*at >= len)
		return false;
	switch (aml[*at]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:
		*value = aml[(*at)++];
		return true;
	case AML_BYTE_PREFIX:
		if (*at + 1 >= len)
			return false;
		*value = aml[*at + 1];
		*at += 2;
		return true;
	default:
		return false;
	}
}

bool acpi_find_s5(const void *aml_bytes, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b)
{
	const uint8_t *aml = aml_bytes;

	for (size_t i = 0; i + S5_NAME_LEN < len; i++) {
		if (memcmp(aml + i, S5_NAME, S5_NAME_LEN) != 0 || aml[i + S5_NAME_LEN] != AML_PACKAGE_OP)
			continue;
		size_t at = i + S5_NAME_LEN + 1;
		if (at >= len)
			return false;
		at += 1u + (aml[at] >> AML_PKGLEN_EXTRA_SHIFT); /* PkgLength */
		at += 1;                                         /* NumElements */
		if (aml_small_integer(aml, len, &at, slp_typ_a) &&
		    aml_small_integer(aml, len, &at, slp_typ_b))
			return true;
	}
	return false;
}
