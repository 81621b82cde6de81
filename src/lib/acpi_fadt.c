/* FADT power fields and the \_S5 package scan; see acpi_fadt.h. */
#include "acpi_fadt.h"

#include "acpi.h"
#include "le.h"

#include <string.h>

/* AML encodings (ACPI 6.x, 20.2). */
#define AML_NAME_OP 0x08
#define AML_ROOT_PREFIX 0x5c
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_PKGLEN_EXTRA_SHIFT 6
#define S5_NAME "_S5_"
#define S5_NAME_LEN 4

void acpi_gas_parse(const uint8_t *gas, struct acpi_gas *out)
{
	out->space = gas[GAS_OFF_SPACE];
	out->bit_width = gas[GAS_OFF_BIT_WIDTH];
	out->bit_offset = gas[GAS_OFF_BIT_OFFSET];
	out->access_size = gas[GAS_OFF_ACCESS_SIZE];
	out->address = le_get64(gas + GAS_OFF_ADDRESS);
}

bool acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *out)
{
	const uint8_t *f = fadt;

	memset(out, 0, sizeof(*out));
	if (len < FADT_MIN_LEN)
		return false;
	/* Fields past the table's own Length belong to whatever follows it. */
	uint32_t claimed = le_get32(f + ACPI_HDR_OFF_LENGTH);
	size_t end = claimed < len ? claimed : len;

	if (end < FADT_MIN_LEN)
		return false;
	out->length = (uint32_t)end;
	out->revision = f[FADT_OFF_REVISION];
	out->dsdt = le_get32(f + FADT_OFF_DSDT);
	out->pm1a_cnt_blk = le_get32(f + FADT_OFF_PM1A_CNT_BLK);
	out->pm1b_cnt_blk = le_get32(f + FADT_OFF_PM1B_CNT_BLK);
	if (end > FADT_OFF_PM1_CNT_LEN)
		out->pm1_cnt_len = f[FADT_OFF_PM1_CNT_LEN];
	if (end >= FADT_OFF_FLAGS + 4)
		out->flags = le_get32(f + FADT_OFF_FLAGS);
	if (end >= FADT_RESET_END) {
		out->has_reset = true;
		acpi_gas_parse(f + FADT_OFF_RESET_REG, &out->reset_reg);
		out->reset_value = f[FADT_OFF_RESET_VALUE];
	}
	if (end >= FADT_X_DSDT_END && le_get64(f + FADT_OFF_X_DSDT))
		out->dsdt = le_get64(f + FADT_OFF_X_DSDT);
	if (end >= FADT_X_PM1B_END) {
		out->has_x_pm1 = true;
		acpi_gas_parse(f + FADT_OFF_X_PM1A_CNT_BLK, &out->x_pm1a_cnt);
		acpi_gas_parse(f + FADT_OFF_X_PM1B_CNT_BLK, &out->x_pm1b_cnt);
	}
	if (end >= FADT_SLEEP_REGS_END) {
		out->has_sleep_regs = true;
		acpi_gas_parse(f + FADT_OFF_SLEEP_CONTROL_REG, &out->sleep_control);
		acpi_gas_parse(f + FADT_OFF_SLEEP_STATUS_REG, &out->sleep_status);
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

/* "_S5_" at i is the name a NameOp defines (Name (_S5, ...) or Name (\_S5, ...)). */
static bool named_by_name_op(const uint8_t *aml, size_t i)
{
	if (i >= 1 && aml[i - 1] == AML_NAME_OP)
		return true;
	return i >= 2 && aml[i - 1] == AML_ROOT_PREFIX && aml[i - 2] == AML_NAME_OP;
}

bool acpi_find_s5(const void *aml_bytes, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b)
{
	const uint8_t *aml = aml_bytes;

	for (size_t i = 0; i + S5_NAME_LEN < len; i++) {
		if (memcmp(aml + i, S5_NAME, S5_NAME_LEN) != 0 || aml[i + S5_NAME_LEN] != AML_PACKAGE_OP ||
		    !named_by_name_op(aml, i))
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
