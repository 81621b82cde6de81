/*
 * The power-off and reset decisions, from a parsed FADT and the \_S5 sleep
 * types: which register, in which address space, gets which value, or why
 * the tables do not allow it.  Pure logic (host-tested on the tables of
 * real machines); src/acpi_power.c prints the plan as proof lines at boot
 * and carries it out after the verdict.
 *
 * Rules (ACPI 6.x 4.8.3, 7.4.2; ACPICA's acpi_enter_sleep_state):
 * - HW_REDUCED_ACPI set: the sleep control register gets SLP_TYPa<<2|SLP_EN
 *   after WAK_STS is cleared in the sleep status register.
 * - otherwise PM1a (and PM1b when present) control: X_PM1x_CNT_BLK when its
 *   address is non-zero, else the 32-bit PM1x_CNT_BLK port; SLP_TYPx<<10,
 *   then the same with SLP_EN.
 * - a register must be in system I/O (port <= 0xffff) or system memory;
 *   any other address space is refused with its name.  Its width is the
 *   GAS bit width when 8, 16 or 32, else the register's own (PM1 control
 *   16, sleep and reset registers 8); its access width the GAS access size,
 *   else the width, never more than the width.
 * - reset: RESET_REG_SUP set and a reset register with a non-zero address
 *   in system I/O or memory.
 */
#ifndef PROOFBOOT_ACPI_POWER_PLAN_H
#define PROOFBOOT_ACPI_POWER_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"
#include "acpi_fadt.h"

#define ACPI_IO_PORT_MAX 0xffffu
#define ACPI_POWER_REASON_MAX 64

/* Where an \_S5 package was found (the caller searches DSDT, then SSDTs). */
struct acpi_s5 {
	bool found;
	bool in_ssdt;        /* false: the DSDT */
	unsigned ssdt_index; /* which SSDT, in root-table order, counting from 0 */
	uint8_t slp_typ_a;
	uint8_t slp_typ_b;
};

/*
 * A register to write: a generic address, the register's width and the
 * access width.  A register wider than its access is written in several
 * accesses, lowest address first, as ACPICA does (a 16-bit PM1 control
 * register with byte access gets SLP_EN in the second byte).
 */
struct acpi_power_reg {
	bool present;
	bool from_x;           /* the 64-bit X_ field (or a GAS-only field), not a 32-bit port */
	uint8_t space;         /* GAS_SPACE_IO or GAS_SPACE_MEMORY once accepted */
	uint64_t address;
	unsigned bits;         /* register width: 8, 16 or 32 */
	unsigned access_bits;  /* 8, 16 or 32, at most bits */
};

enum acpi_poweroff_method {
	ACPI_POWEROFF_NONE = 0,
	ACPI_POWEROFF_PM1,           /* PM1a/PM1b control: SLP_TYPx and SLP_EN */
	ACPI_POWEROFF_SLEEP_CONTROL, /* hardware-reduced: sleep control register */
};

struct acpi_poweroff_plan {
	enum acpi_poweroff_method method;
	bool hw_reduced;
	struct acpi_s5 s5;
	struct acpi_power_reg pm1a;   /* ACPI_POWEROFF_PM1 */
	struct acpi_power_reg pm1b;   /* present only when the FADT has one */
	uint16_t pm1a_value;          /* SLP_TYPa<<10 | SLP_EN, ORed into the kept bits */
	uint16_t pm1b_value;
	struct acpi_power_reg sleep_control; /* ACPI_POWEROFF_SLEEP_CONTROL */
	struct acpi_power_reg sleep_status;  /* may be absent: then WAK_STS is not cleared */
	uint8_t sleep_control_value;  /* SLP_TYPa<<2 | SLP_EN */
	char reason[ACPI_POWER_REASON_MAX]; /* why ACPI_POWEROFF_NONE; "" otherwise */
};

struct acpi_reset_plan {
	bool usable;
	struct acpi_power_reg reg;
	uint8_t value;
	char reason[ACPI_POWER_REASON_MAX]; /* why not usable; "" otherwise */
};

/*
 * \_S5 as ACPICA finds it in the namespace the firmware loads: the DSDT at
 * dsdt_addr (from the FADT) first, then every SSDT the root table lists, in
 * order.  Only tables whose length and checksum are valid are searched.
 */
void acpi_s5_search(const struct acpi_tables *t, uint64_t dsdt_addr, struct acpi_s5 *out);

const char *acpi_poweroff_method_str(enum acpi_poweroff_method method);

/* Short name of a GAS address space ("system-io", "pci-config", "space-0x7f", ...). */
const char *acpi_gas_space_str(uint8_t space, char *buf, unsigned cap);

/* fadt may be NULL (no usable FADT). */
void acpi_poweroff_plan(const struct acpi_fadt_info *fadt, const struct acpi_s5 *s5,
			struct acpi_poweroff_plan *out);
void acpi_reset_plan(const struct acpi_fadt_info *fadt, struct acpi_reset_plan *out);

#endif
