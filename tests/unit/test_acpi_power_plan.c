/* acpi_power_plan.c: the end=poweroff / end=reboot decisions on hand-made FADT fields. */
#include "unit.h"

#include "acpi_power_plan.h"

static const struct acpi_s5 s5_dsdt_7 = { true, false, 0, 7, 0 };

static struct acpi_fadt_info legacy_fadt(void)
{
	struct acpi_fadt_info f;

	memset(&f, 0, sizeof(f));
	f.revision = 6;
	f.pm1a_cnt_blk = 0x1804;
	f.has_x_pm1 = true;
	f.has_reset = true;
	return f;
}

UNIT_TEST(poweroff_prefers_x_pm1_and_falls_back_to_the_port)
{
	struct acpi_fadt_info f = legacy_fadt();
	struct acpi_poweroff_plan plan;

	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_PM1);
	CHECK(!plan.pm1a.from_x);
	CHECK_EQ(plan.pm1a.address, 0x1804);
	CHECK_EQ(plan.pm1a.access_bits, 16);
	CHECK_EQ(plan.pm1a_value, 7u << 10 | 0x2000);
	CHECK(!plan.pm1b.present);
	/* The laptops' case: 32-bit field zero, address only in X_PM1a_CNT_BLK (memory here). */
	f.pm1a_cnt_blk = 0;
	f.x_pm1a_cnt = (struct acpi_gas){ GAS_SPACE_MEMORY, 32, 0, 3, 0xfe001004 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_PM1);
	CHECK(plan.pm1a.from_x);
	CHECK_EQ(plan.pm1a.space, GAS_SPACE_MEMORY);
	CHECK_EQ(plan.pm1a.access_bits, 32);
	CHECK_STR(plan.reason, "");
	/* The Dell T7500 shape: a 16-bit register with byte access is written in two accesses. */
	f.x_pm1a_cnt = (struct acpi_gas){ GAS_SPACE_IO, 16, 0, 1, 0x804 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_EQ(plan.pm1a.bits, 16);
	CHECK_EQ(plan.pm1a.access_bits, 8);
	/* No width at all: the PM1 control register's own 16 bits; access never wider than that. */
	f.x_pm1a_cnt = (struct acpi_gas){ GAS_SPACE_IO, 0, 0, 3, 0x804 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_EQ(plan.pm1a.bits, 16);
	CHECK_EQ(plan.pm1a.access_bits, 16);
}

UNIT_TEST(poweroff_refuses_unsupported_spaces_and_missing_parts)
{
	struct acpi_fadt_info f = legacy_fadt();
	struct acpi_poweroff_plan plan;
	const struct acpi_s5 none = { false, false, 0, 0, 0 };

	f.x_pm1a_cnt = (struct acpi_gas){ GAS_SPACE_PCI_CONFIG, 16, 0, 0, 0x40 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_NONE);
	CHECK_STR(plan.reason, "pm1a-space-pci-config-unsupported");
	f.x_pm1a_cnt = (struct acpi_gas){ 0x7f, 16, 0, 0, 0x40 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_STR(plan.reason, "pm1a-space-functional-fixed-hardware-unsupported");
	f.x_pm1a_cnt = (struct acpi_gas){ GAS_SPACE_IO, 16, 0, 0, 0x10000 };
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_STR(plan.reason, "pm1a-io-port-above-0xffff");
	f = legacy_fadt();
	acpi_poweroff_plan(&f, &none, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_NONE);
	CHECK_STR(plan.reason, "no-s5-package-in-dsdt-or-ssdt");
	CHECK(plan.pm1a.present); /* the register decision is still shown */
	f.pm1a_cnt_blk = 0;
	acpi_poweroff_plan(&f, &s5_dsdt_7, &plan);
	CHECK_STR(plan.reason, "no-pm1a-control-block");
	acpi_poweroff_plan(NULL, &s5_dsdt_7, &plan);
	CHECK_STR(plan.reason, "no-usable-fadt");
}

UNIT_TEST(poweroff_pm1b_gets_slp_typ_b)
{
	struct acpi_fadt_info f = legacy_fadt();
	struct acpi_poweroff_plan plan;
	const struct acpi_s5 s5 = { true, true, 2, 5, 3 };

	f.pm1b_cnt_blk = 0x1904;
	acpi_poweroff_plan(&f, &s5, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_PM1);
	CHECK(plan.pm1b.present);
	CHECK_EQ(plan.pm1b.address, 0x1904);
	CHECK_EQ(plan.pm1a_value, 5u << 10 | 0x2000);
	CHECK_EQ(plan.pm1b_value, 3u << 10 | 0x2000);
	CHECK(plan.s5.in_ssdt);
	CHECK_EQ(plan.s5.ssdt_index, 2);
}

UNIT_TEST(poweroff_hw_reduced_uses_the_sleep_control_register)
{
	struct acpi_fadt_info f = legacy_fadt();
	struct acpi_poweroff_plan plan;
	const struct acpi_s5 s5 = { true, false, 0, 5, 0 };

	f.flags = FADT_FLAG_HW_REDUCED_ACPI;
	acpi_poweroff_plan(&f, &s5, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_NONE);
	CHECK_STR(plan.reason, "hw-reduced-without-sleep-control-register");
	f.has_sleep_regs = true;
	f.sleep_control = (struct acpi_gas){ GAS_SPACE_IO, 8, 0, 1, 0x405 };
	f.sleep_status = (struct acpi_gas){ GAS_SPACE_IO, 8, 0, 1, 0x401 };
	acpi_poweroff_plan(&f, &s5, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_SLEEP_CONTROL);
	CHECK(plan.hw_reduced);
	CHECK(!plan.pm1a.present); /* PM1 is not used on hardware-reduced machines */
	CHECK_EQ(plan.sleep_control.address, 0x405);
	CHECK_EQ(plan.sleep_control.access_bits, 8);
	CHECK(plan.sleep_status.present);
	CHECK_EQ(plan.sleep_control_value, 5u << 2 | 0x20);
	f.sleep_status.space = 3; /* embedded controller: skipped, not fatal */
	acpi_poweroff_plan(&f, &s5, &plan);
	CHECK_EQ(plan.method, ACPI_POWEROFF_SLEEP_CONTROL);
	CHECK(!plan.sleep_status.present);
}

UNIT_TEST(reset_plan_rules)
{
	struct acpi_fadt_info f = legacy_fadt();
	struct acpi_reset_plan plan;

	f.reset_reg = (struct acpi_gas){ GAS_SPACE_IO, 8, 0, 0, 0xcf9 };
	f.reset_value = 6;
	acpi_reset_plan(&f, &plan);
	CHECK(!plan.usable);
	CHECK_STR(plan.reason, "fadt-reset-reg-sup-clear");
	f.flags = FADT_FLAG_RESET_REG_SUP;
	acpi_reset_plan(&f, &plan);
	CHECK(plan.usable);
	CHECK_EQ(plan.reg.address, 0xcf9);
	CHECK_EQ(plan.reg.access_bits, 8);
	CHECK_EQ(plan.value, 6);
	f.reset_reg.space = GAS_SPACE_PCI_CONFIG;
	acpi_reset_plan(&f, &plan);
	CHECK_STR(plan.reason, "reset-register-space-pci-config-unsupported");
	f.reset_reg = (struct acpi_gas){ GAS_SPACE_MEMORY, 8, 0, 0, 0 };
	acpi_reset_plan(&f, &plan);
	CHECK_STR(plan.reason, "reset-register-address-zero");
	f.revision = 1;
	acpi_reset_plan(&f, &plan);
	CHECK_STR(plan.reason, "fadt-has-no-reset-register");
}
