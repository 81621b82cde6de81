/* Power-off and reset decisions from the FADT and \_S5; see acpi_power_plan.h. */
#include "acpi_power_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BITS_PER_BYTE 8
#define PM1_CNT_DEFAULT_BITS 16
#define BYTE_REGISTER_BITS 8
#define FADT_FIRST_RESET_REVISION 2

/* GAS access sizes (5.2.3.2): 1 byte, 2 word, 3 dword. */
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_DWORD 3

static const char *const space_names[] = {
	"system-memory", "system-io", "pci-config", "embedded-controller", "smbus",
	"system-cmos", "pci-bar-target", "ipmi", "gpio", "generic-serial-bus", "pcc",
};
#define GAS_SPACE_FFH 0x7f

const char *acpi_gas_space_str(uint8_t space, char *buf, unsigned cap)
{
	if (space < sizeof(space_names) / sizeof(space_names[0]))
		return space_names[space];
	if (space == GAS_SPACE_FFH)
		return "functional-fixed-hardware";
	snprintf(buf, cap, "space-0x%02x", space);
	return buf;
}

void acpi_s5_search(const struct acpi_tables *t, uint64_t dsdt_addr, struct acpi_s5 *out)
{
	struct acpi_table_ref ref;

	memset(out, 0, sizeof(*out));
	if (dsdt_addr && acpi_tables_map(t, dsdt_addr, &ref) == ACPI_OK &&
	    acpi_find_s5(ref.table, ref.header.length, &out->slp_typ_a, &out->slp_typ_b)) {
		out->found = true;
		return;
	}
	for (unsigned i = 0; acpi_tables_find(t, "SSDT", i, &ref) != ACPI_ERR_NOT_FOUND; i++) {
		if (ref.status == ACPI_OK &&
		    acpi_find_s5(ref.table, ref.header.length, &out->slp_typ_a, &out->slp_typ_b)) {
			out->found = out->in_ssdt = true;
			out->ssdt_index = i;
			return;
		}
	}
}

const char *acpi_poweroff_method_str(enum acpi_poweroff_method method)
{
	switch (method) {
	case ACPI_POWEROFF_NONE: return "none";
	case ACPI_POWEROFF_PM1: return "pm1";
	case ACPI_POWEROFF_SLEEP_CONTROL: return "sleep-control";
	}
	return "unknown";
}

static void set_reason(char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, ACPI_POWER_REASON_MAX, fmt, ap);
	va_end(ap);
}

static bool is_access_width(unsigned bits)
{
	return bits == 8 || bits == 16 || bits == 32;
}

/* The register width a GAS names, else the register's own. */
static unsigned gas_register_bits(const struct acpi_gas *g, unsigned default_bits)
{
	return is_access_width(g->bit_width) ? g->bit_width : default_bits;
}

/* The access width a GAS asks for (its access size, else its width), at most the width. */
static unsigned gas_access_bits(const struct acpi_gas *g, unsigned width)
{
	unsigned bits = width;

	if (g->access_size >= GAS_ACCESS_BYTE && g->access_size <= GAS_ACCESS_DWORD)
		bits = BITS_PER_BYTE << (g->access_size - 1);
	return bits < width ? bits : width;
}

/*
 * Accepts a non-zero generic address in system I/O or memory; otherwise
 * names why (`what` prefixes the reason) and returns false.
 */
static bool accept_gas(const struct acpi_gas *g, unsigned default_bits, const char *what,
		       struct acpi_power_reg *out, char *reason)
{
	char buf[16];

	memset(out, 0, sizeof(*out));
	if (g->space != GAS_SPACE_IO && g->space != GAS_SPACE_MEMORY) {
		set_reason(reason, "%s-space-%s-unsupported", what,
			   acpi_gas_space_str(g->space, buf, sizeof(buf)));
		return false;
	}
	if (g->space == GAS_SPACE_IO && g->address > ACPI_IO_PORT_MAX) {
		set_reason(reason, "%s-io-port-above-0xffff", what);
		return false;
	}
	unsigned bits = gas_register_bits(g, default_bits);

	*out = (struct acpi_power_reg){ true, true, g->space, g->address, bits,
					gas_access_bits(g, bits) };
	return true;
}

/* PM1x control: the X_ generic address when non-zero, else the 32-bit port. */
static bool pick_pm1(const struct acpi_fadt_info *f, const struct acpi_gas *x, uint32_t port,
		     const char *what, struct acpi_power_reg *out, char *reason)
{
	memset(out, 0, sizeof(*out));
	if (f->has_x_pm1 && x->address != 0)
		return accept_gas(x, PM1_CNT_DEFAULT_BITS, what, out, reason);
	if (port == 0)
		return true; /* absent: not an error by itself */
	*out = (struct acpi_power_reg){ true, false, GAS_SPACE_IO, port, PM1_CNT_DEFAULT_BITS,
					PM1_CNT_DEFAULT_BITS };
	if (port > ACPI_IO_PORT_MAX) {
		set_reason(reason, "%s-io-port-above-0xffff", what);
		return false;
	}
	return true;
}

static bool plan_pm1(const struct acpi_fadt_info *f, struct acpi_poweroff_plan *out)
{
	out->pm1a_value = (uint16_t)(((out->s5.slp_typ_a & ACPI_SLP_TYP_MAX) << PM1_CNT_SLP_TYP_SHIFT) |
				     PM1_CNT_SLP_EN);
	out->pm1b_value = (uint16_t)(((out->s5.slp_typ_b & ACPI_SLP_TYP_MAX) << PM1_CNT_SLP_TYP_SHIFT) |
				     PM1_CNT_SLP_EN);
	if (!pick_pm1(f, &f->x_pm1a_cnt, f->pm1a_cnt_blk, "pm1a", &out->pm1a, out->reason) ||
	    !pick_pm1(f, &f->x_pm1b_cnt, f->pm1b_cnt_blk, "pm1b", &out->pm1b, out->reason))
		return false;
	if (!out->pm1a.present) {
		set_reason(out->reason, "no-pm1a-control-block");
		return false;
	}
	return true;
}

static bool plan_sleep_control(const struct acpi_fadt_info *f, struct acpi_poweroff_plan *out)
{
	char ignored[ACPI_POWER_REASON_MAX];

	if (!f->has_sleep_regs || f->sleep_control.address == 0) {
		set_reason(out->reason, "hw-reduced-without-sleep-control-register");
		return false;
	}
	if (!accept_gas(&f->sleep_control, BYTE_REGISTER_BITS, "sleep-control", &out->sleep_control,
			out->reason))
		return false;
	/* Clearing WAK_STS first is good practice, not a precondition: skip an unusable one. */
	if (f->sleep_status.address != 0)
		accept_gas(&f->sleep_status, BYTE_REGISTER_BITS, "sleep-status", &out->sleep_status,
			   ignored);
	out->sleep_control_value = (uint8_t)(((out->s5.slp_typ_a & ACPI_SLP_TYP_MAX)
					      << SLEEP_CONTROL_SLP_TYP_SHIFT) | SLEEP_CONTROL_SLP_EN);
	return true;
}

void acpi_poweroff_plan(const struct acpi_fadt_info *fadt, const struct acpi_s5 *s5,
			struct acpi_poweroff_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (s5)
		out->s5 = *s5;
	if (!fadt) {
		set_reason(out->reason, "no-usable-fadt");
		return;
	}
	out->hw_reduced = (fadt->flags & FADT_FLAG_HW_REDUCED_ACPI) != 0;
	bool registers = out->hw_reduced ? plan_sleep_control(fadt, out) : plan_pm1(fadt, out);

	if (!registers)
		return;
	if (!out->s5.found) {
		set_reason(out->reason, "no-s5-package-in-dsdt-or-ssdt");
		return;
	}
	out->method = out->hw_reduced ? ACPI_POWEROFF_SLEEP_CONTROL : ACPI_POWEROFF_PM1;
}

void acpi_reset_plan(const struct acpi_fadt_info *fadt, struct acpi_reset_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (!fadt) {
		set_reason(out->reason, "no-usable-fadt");
		return;
	}
	if (fadt->revision < FADT_FIRST_RESET_REVISION || !fadt->has_reset) {
		set_reason(out->reason, "fadt-has-no-reset-register");
		return;
	}
	if (!(fadt->flags & FADT_FLAG_RESET_REG_SUP)) {
		set_reason(out->reason, "fadt-reset-reg-sup-clear");
		return;
	}
	if (fadt->reset_reg.address == 0) {
		set_reason(out->reason, "reset-register-address-zero");
		return;
	}
	/* The value is one byte (5.2.9): one byte write, whatever width the GAS claims (as Linux). */
	struct acpi_gas byte_reg = fadt->reset_reg;

	byte_reg.access_size = GAS_ACCESS_BYTE;
	byte_reg.bit_width = BYTE_REGISTER_BITS;
	if (!accept_gas(&byte_reg, BYTE_REGISTER_BITS, "reset-register", &out->reg, out->reason))
		return;
	out->value = fadt->reset_value;
	out->usable = true;
}
