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

/* A FADT of `len` bytes whose header claims that length. */
static void fadt_init(uint8_t *fadt, uint32_t len, uint8_t revision)
{
	memset(fadt, 0, len);
	memcpy(fadt, "FACP", 4);
	put32(fadt + 4, len);
	fadt[FADT_OFF_REVISION] = revision;
}

static void put_gas(uint8_t *gas, uint8_t space, uint8_t width, uint8_t access, uint64_t addr)
{
	gas[GAS_OFF_SPACE] = space;
	gas[GAS_OFF_BIT_WIDTH] = width;
	gas[GAS_OFF_ACCESS_SIZE] = access;
	put64(gas + GAS_OFF_ADDRESS, addr);
}

UNIT_TEST(fadt_reset_register_and_pm1)
{
	uint8_t fadt[276];
	struct acpi_fadt_info info;

	fadt_init(fadt, sizeof(fadt), 6);
	put32(fadt + FADT_OFF_DSDT, 0x7fe0040);
	put32(fadt + FADT_OFF_PM1A_CNT_BLK, 0x604);
	put32(fadt + FADT_OFF_FLAGS, FADT_FLAG_RESET_REG_SUP);
	put_gas(fadt + FADT_OFF_RESET_REG, GAS_SPACE_IO, 8, 0, 0xcf9);
	fadt[FADT_OFF_RESET_VALUE] = 0x0f;
	put_gas(fadt + FADT_OFF_X_PM1A_CNT_BLK, GAS_SPACE_IO, 16, 2, 0x1804);
	put_gas(fadt + FADT_OFF_SLEEP_CONTROL_REG, GAS_SPACE_MEMORY, 8, 1, 0xfe000405);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK_EQ(info.revision, 6);
	CHECK_EQ(info.length, sizeof(fadt));
	CHECK_EQ(info.dsdt, 0x7fe0040);
	CHECK_EQ(info.pm1a_cnt_blk, 0x604);
	CHECK_EQ(info.pm1b_cnt_blk, 0);
	CHECK(info.has_reset);
	CHECK_EQ(info.reset_reg.space, GAS_SPACE_IO);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK_EQ(info.reset_value, 0x0f);
	CHECK(info.has_x_pm1);
	CHECK_EQ(info.x_pm1a_cnt.address, 0x1804);
	CHECK_EQ(info.x_pm1a_cnt.access_size, 2);
	CHECK(info.has_sleep_regs);
	CHECK_EQ(info.sleep_control.space, GAS_SPACE_MEMORY);
	CHECK_EQ(info.sleep_control.address, 0xfe000405);

	put64(fadt + FADT_OFF_X_DSDT, 0x100000000ull);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK_EQ(info.dsdt, 0x100000000ull); /* X_DSDT wins when set */
}

UNIT_TEST(fadt_fields_past_the_claimed_length_are_absent)
{
	uint8_t fadt[276];
	struct acpi_fadt_info info;

	/* A revision 3 FADT claims 244 bytes: no sleep registers even if bytes follow. */
	fadt_init(fadt, sizeof(fadt), 3);
	put32(fadt + 4, 244);
	put_gas(fadt + FADT_OFF_SLEEP_CONTROL_REG, GAS_SPACE_IO, 8, 1, 0x405);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK_EQ(info.length, 244);
	CHECK(info.has_x_pm1);
	CHECK(!info.has_sleep_regs);
	/* An ACPI 1.0 FADT (116 bytes) has neither a reset register nor X_ fields. */
	put32(fadt + 4, 116);
	CHECK(acpi_fadt_parse(fadt, sizeof(fadt), &info));
	CHECK(!info.has_reset);
	CHECK(!info.has_x_pm1);
	CHECK(!acpi_fadt_parse(fadt, FADT_MIN_LEN - 1, &info));
	put32(fadt + 4, FADT_MIN_LEN - 1);
	CHECK(!acpi_fadt_parse(fadt, sizeof(fadt), &info));
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

UNIT_TEST(s5_must_be_defined_by_a_name_op)
{
	/* A reference to _S5_ that is not Name (_S5, Package ...) is not the package. */
	const uint8_t reference[] = { 0x70, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x05, 0x00 };
	const uint8_t rooted[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a, 0x07, 0x00 };
	uint8_t a = 0xff, b = 0xff;

	CHECK(!acpi_find_s5(reference, sizeof(reference), &a, &b));
	CHECK(acpi_find_s5(rooted, sizeof(rooted), &a, &b));
	CHECK_EQ(a, 7);
	CHECK_EQ(b, 0);
}
