/*
 * ACPI reset register and S5 soft-off: the plans (src/lib/acpi_power_plan.c)
 * made and printed at boot, carried out after the verdict.  Execution runs
 * after the verdict line, so it prints plain text (never proof lines: the
 * verdict stays last).
 */
#include "acpi_power.h"

#include "acpi.h"
#include "acpi_fadt.h"
#include "acpi_power_plan.h"
#include "lib/acpi.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"
#include "proof.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define REG_TEXT_MAX 32
#define HEX_VALUE16_DIGITS 4
#define HEX_VALUE8_DIGITS 2
#define BITS_PER_BYTE 8

static struct acpi_poweroff_plan poweroff;
static struct acpi_reset_plan reset;
static bool planned;

/* \_S5 from the DSDT, else from the first SSDT (root-table order) that defines it. */
static void find_s5(const struct acpi_fadt_info *fadt, struct acpi_s5 *s5)
{
	const struct acpi_tables *t = acpi_tables_get();

	memset(s5, 0, sizeof(*s5));
	if (t)
		acpi_s5_search(t, fadt ? fadt->dsdt : 0, s5);
}

static const char *reg_text(const struct acpi_power_reg *r, char *buf)
{
	if (r->space == GAS_SPACE_IO)
		snprintf(buf, REG_TEXT_MAX, "io:0x%04" PRIx64, r->address);
	else
		snprintf(buf, REG_TEXT_MAX, "mem:0x%016" PRIx64, r->address);
	return buf;
}

static void proof_reg(struct proof *p, const char *key, const char *from_key,
		      const char *bits_key, const char *access_key, const struct acpi_power_reg *r)
{
	char buf[REG_TEXT_MAX];

	proof_str(p, key, reg_text(r, buf));
	if (from_key)
		proof_str(p, from_key, r->from_x ? "x" : "legacy");
	proof_u64(p, bits_key, r->bits);
	proof_u64(p, access_key, r->access_bits);
}

static void report_poweroff(void)
{
	struct proof p;
	char s5[16];

	if (!poweroff.s5.found)
		snprintf(s5, sizeof(s5), "missing");
	else if (poweroff.s5.in_ssdt)
		snprintf(s5, sizeof(s5), "ssdt%u", poweroff.s5.ssdt_index);
	else
		snprintf(s5, sizeof(s5), "dsdt");
	proof_begin(&p, "acpi", "poweroff plan");
	proof_str(&p, "method", acpi_poweroff_method_str(poweroff.method));
	proof_bool(&p, "hw_reduced", poweroff.hw_reduced);
	proof_str(&p, "s5", s5);
	if (poweroff.s5.found) {
		proof_u64(&p, "slp_typ_a", poweroff.s5.slp_typ_a);
		proof_u64(&p, "slp_typ_b", poweroff.s5.slp_typ_b);
	}
	if (poweroff.pm1a.present) {
		proof_reg(&p, "pm1a", "pm1a_from", "pm1a_bits", "pm1a_access_bits", &poweroff.pm1a);
		proof_hex(&p, "pm1a_value", poweroff.pm1a_value, HEX_VALUE16_DIGITS);
	}
	if (poweroff.pm1b.present) {
		proof_reg(&p, "pm1b", "pm1b_from", "pm1b_bits", "pm1b_access_bits", &poweroff.pm1b);
		proof_hex(&p, "pm1b_value", poweroff.pm1b_value, HEX_VALUE16_DIGITS);
	}
	if (poweroff.sleep_control.present) {
		proof_reg(&p, "sleep_control", NULL, "sleep_control_bits", "sleep_control_access_bits",
			  &poweroff.sleep_control);
		proof_hex(&p, "sleep_control_value", poweroff.sleep_control_value, HEX_VALUE8_DIGITS);
		if (poweroff.sleep_status.present)
			proof_reg(&p, "sleep_status", NULL, "sleep_status_bits",
				  "sleep_status_access_bits", &poweroff.sleep_status);
	}
	if (poweroff.method == ACPI_POWEROFF_NONE)
		proof_str(&p, "reason", poweroff.reason);
	proof_emit(&p);
}

static void report_reset(void)
{
	struct proof p;
	char buf[REG_TEXT_MAX];

	proof_begin(&p, "acpi", "reset plan");
	proof_str(&p, "method", reset.usable ? "register" : "none");
	if (reset.usable) {
		proof_str(&p, "register", reg_text(&reset.reg, buf));
		proof_hex(&p, "value", reset.value, HEX_VALUE8_DIGITS);
	} else {
		proof_str(&p, "reason", reset.reason);
	}
	proof_emit(&p);
}

void acpi_power_init(void)
{
	struct acpi_fadt_info fadt;
	size_t len;
	const void *table = acpi_find_table("FACP", 0, &len);
	bool have_fadt = table && acpi_fadt_parse(table, len, &fadt);
	struct acpi_s5 s5;

	find_s5(have_fadt ? &fadt : NULL, &s5);
	acpi_poweroff_plan(have_fadt ? &fadt : NULL, &s5, &poweroff);
	acpi_reset_plan(have_fadt ? &fadt : NULL, &reset);
	planned = true;
	report_poweroff();
	report_reset();
}

/* ------------------------------------------------- after the verdict */

static bool reg_map(const struct acpi_power_reg *r)
{
	return r->space == GAS_SPACE_IO || paging_map_mmio(r->address, r->bits / BITS_PER_BYTE);
}

/* One access of r->access_bits at byte offset `at` of the register. */
static uint32_t access_read(const struct acpi_power_reg *r, unsigned at)
{
	uint16_t port = (uint16_t)(r->address + at);
	uint64_t addr = r->address + at;

	if (r->space == GAS_SPACE_IO)
		return r->access_bits == 8 ? inb(port) : r->access_bits == 16 ? inw(port) : inl(port);
	return r->access_bits == 8 ? mmio_read8(addr)
	       : r->access_bits == 16 ? mmio_read16(addr) : mmio_read32(addr);
}

static void access_write(const struct acpi_power_reg *r, unsigned at, uint32_t value)
{
	uint16_t port = (uint16_t)(r->address + at);
	uint64_t addr = r->address + at;

	if (r->space == GAS_SPACE_IO) {
		if (r->access_bits == 8)
			outb(port, (uint8_t)value);
		else if (r->access_bits == 16)
			outw(port, (uint16_t)value);
		else
			outl(port, value);
	} else if (r->access_bits == 8) {
		mmio_write8(addr, (uint8_t)value);
	} else if (r->access_bits == 16) {
		mmio_write16(addr, (uint16_t)value);
	} else {
		mmio_write32(addr, value);
	}
}

/* The whole register, assembled from its accesses (lowest address first). */
static uint32_t reg_read(const struct acpi_power_reg *r)
{
	uint32_t value = 0;

	for (unsigned shift = 0; shift < r->bits; shift += r->access_bits)
		value |= access_read(r, shift / BITS_PER_BYTE) << shift;
	return value;
}

static void reg_write(const struct acpi_power_reg *r, uint32_t value)
{
	char buf[REG_TEXT_MAX];
	uint32_t mask = r->access_bits == 32 ? UINT32_MAX : (1u << r->access_bits) - 1;

	printf("acpi power: write %s bits=%u access_bits=%u value=0x%" PRIx32 "\n",
	       reg_text(r, buf), r->bits, r->access_bits, value);
	for (unsigned shift = 0; shift < r->bits; shift += r->access_bits)
		access_write(r, shift / BITS_PER_BYTE, (value >> shift) & mask);
}

void acpi_reset(void)
{
	if (!planned)
		acpi_power_init();
	if (!reset.usable) {
		printf("acpi power: no ACPI reset register (%s)\n", reset.reason);
		return;
	}
	if (reg_map(&reset.reg))
		reg_write(&reset.reg, reset.value);
}

/* PM1 control with SLP_TYP set and SLP_EN clear, keeping the register's other bits (SCI_EN). */
static uint32_t pm1_typed(const struct acpi_power_reg *r, uint16_t value)
{
	uint32_t kept = reg_read(r) & ~(uint32_t)(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);

	return kept | (value & PM1_CNT_SLP_TYP_MASK);
}

/* As ACPICA: SLP_TYPx into PM1a and PM1b, then SLP_EN into both (PM1a first). */
static void pm1_sleep(void)
{
	const struct acpi_power_reg *a = &poweroff.pm1a, *b = &poweroff.pm1b;
	bool use_b = b->present && reg_map(b);

	if (!reg_map(a))
		return;
	uint32_t typed_a = pm1_typed(a, poweroff.pm1a_value);
	uint32_t typed_b = use_b ? pm1_typed(b, poweroff.pm1b_value) : 0;

	reg_write(a, typed_a);
	if (use_b)
		reg_write(b, typed_b);
	reg_write(a, typed_a | PM1_CNT_SLP_EN);
	if (use_b)
		reg_write(b, typed_b | PM1_CNT_SLP_EN);
}

void acpi_poweroff(void)
{
	if (!planned)
		acpi_power_init();
	switch (poweroff.method) {
	case ACPI_POWEROFF_NONE:
		printf("acpi power: no ACPI soft-off (%s)\n", poweroff.reason);
		return;
	case ACPI_POWEROFF_PM1:
		pm1_sleep();
		return;
	case ACPI_POWEROFF_SLEEP_CONTROL:
		if (poweroff.sleep_status.present && reg_map(&poweroff.sleep_status))
			reg_write(&poweroff.sleep_status, SLEEP_STATUS_WAK_STS);
		if (reg_map(&poweroff.sleep_control))
			reg_write(&poweroff.sleep_control, poweroff.sleep_control_value);
		return;
	}
}
