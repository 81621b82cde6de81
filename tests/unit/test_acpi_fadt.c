#include "unit.h"
#include "acpi_fadt.h"

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

UNIT_TEST(fadt_reset_register_and_pm1)
{
	uint8_t fadt[244] = "FACP";
	struct acpi_fadt_info info;

	put32(fadt + FADT_OFF_DSDT, 0x7fe0040);
	put32(fadt + FADT_OFF_PM1A_CNT_BLK, 0x604);
	put32(fadt + FADT_OFF_FLAGS, FADT_FLAG_RESET_REG_SUP);
	fadt[FADT_OFF_RESET_REG + GAS_OFF_SPACE] = GAS_SPACE_IO;
	put64(fadt + FADT_OFF_RESET_REG + GAS_OFF_ADDRESS, 0xcf9);
	fadt[FADT_OFF_RESET_VALUE] = 0x0f;
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK_EQ(info.dsdt, 0x7fe0040);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK(info.reset_supported);
	CHECK_EQ(info.reset_space, GAS_SPACE_IO);
	CHECK_EQ(info.reset_addr, 0xcf9);
	CHECK_EQ(info.reset_value, 0x0f);

	put64(fadt + FADT_OFF_X_DSDT, 0x100000000ull);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK_EQ(info.dsdt, 0x100000000ull); /* X_DSDT wins when set */
}

UNIT_TEST(fadt_without_reset_support_or_too_short)
{
	uint8_t fadt[244] = "FACP";
	struct acpi_fadt_info info;

	put64(fadt + FADT_OFF_RESET_REG + GAS_OFF_ADDRESS, 0xcf9);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK(!info.reset_supported); /* flag clear: register not advertised */
	/* An ACPI 1.0 FADT (116 bytes) has no reset register at all. */
	put32(fadt + FADT_OFF_FLAGS, FADT_FLAG_RESET_REG_SUP);
	CHECK(acpi_fadt_parse(fadt, 116, &info));
	CHECK(!info.reset_supported);
	CHECK(!acpi_fadt_parse(fadt, FADT_MIN_LEN - 1, &info));
}

UNIT_TEST(s5_package_forms)
{
	/* NameOp "_S5_" PackageOp PkgLength NumElements BytePrefix 5 BytePrefix 5 ... */
	const uint8_t bytes_form[] = { 0x10, 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				       0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* The same with ZeroOp/OneOp elements (QEMU's q35 DSDT uses BytePrefix 0x00 forms too). */
	const uint8_t ops_form[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00 };
	uint8_t a = 0xff, b = 0xff;

	CHECK(acpi_find_s5(bytes_form, sizeof(bytes_form), &a, &b));
	CHECK_EQ(a, 5);
	CHECK_EQ(b, 5);
	CHECK(acpi_find_s5(ops_form, sizeof(ops_form), &a, &b));
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 1);
}

UNIT_TEST(s5_missing_or_truncated)
{
	const uint8_t no_s5[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x0a, 0x04 };
	const uint8_t cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };
	const uint8_t not_package[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05 };
	uint8_t a, b;

	CHECK(!acpi_find_s5(no_s5, sizeof(no_s5), &a, &b));
	CHECK(!acpi_find_s5(cut, sizeof(cut), &a, &b));
	CHECK(!acpi_find_s5(not_package, sizeof(not_package), &a, &b));
	CHECK(!acpi_find_s5(cut, 3, &a, &b));
}
