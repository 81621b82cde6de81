/*
 * What the firmware needs from the FADT and the AML tables to end a run on
 * a real machine: the PM1 control blocks (32-bit ports and the 64-bit X_
 * generic addresses), the hardware-reduced sleep control/status registers,
 * the reset register, and the \_S5 (soft-off) sleep types.  Portable:
 * parses byte buffers only.  The decision built on it is acpi_power_plan.h.
 */
#ifndef PROOFBOOT_ACPI_FADT_H
#define PROOFBOOT_ACPI_FADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FADT field offsets (ACPI 6.x, table 5.9). */
#define FADT_OFF_REVISION 8
#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT_BLK 64
#define FADT_OFF_PM1B_CNT_BLK 68
#define FADT_OFF_PM1_CNT_LEN 89
#define FADT_OFF_FLAGS 112
#define FADT_OFF_RESET_REG 116
#define FADT_OFF_RESET_VALUE 128
#define FADT_OFF_X_DSDT 140
#define FADT_OFF_X_PM1A_CNT_BLK 172
#define FADT_OFF_X_PM1B_CNT_BLK 184
#define FADT_OFF_SLEEP_CONTROL_REG 244
#define FADT_OFF_SLEEP_STATUS_REG 256
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_FLAG_HW_REDUCED_ACPI (1u << 20)
#define FADT_MIN_LEN (FADT_OFF_PM1B_CNT_BLK + 4)

/* Generic Address Structure (5.2.3.2): 12 bytes. */
#define GAS_LEN 12
#define GAS_OFF_SPACE 0
#define GAS_OFF_BIT_WIDTH 1
#define GAS_OFF_BIT_OFFSET 2
#define GAS_OFF_ACCESS_SIZE 3
#define GAS_OFF_ADDRESS 4
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO 1
#define GAS_SPACE_PCI_CONFIG 2

/* A field is present when the table is long enough to hold all of it. */
#define FADT_RESET_END (FADT_OFF_RESET_VALUE + 1)
#define FADT_X_DSDT_END (FADT_OFF_X_DSDT + 8)
#define FADT_X_PM1B_END (FADT_OFF_X_PM1B_CNT_BLK + GAS_LEN)
#define FADT_SLEEP_REGS_END (FADT_OFF_SLEEP_STATUS_REG + GAS_LEN)

/* PM1 control register (4.8.3.2.1): SLP_TYP bits 12:10, SLP_EN bit 13. */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)

/* Sleep control / status registers (4.8.3.7, 4.8.3.8): one byte each. */
#define SLEEP_CONTROL_SLP_TYP_SHIFT 2
#define SLEEP_CONTROL_SLP_TYP_MASK (7u << SLEEP_CONTROL_SLP_TYP_SHIFT)
#define SLEEP_CONTROL_SLP_EN (1u << 5)
#define SLEEP_STATUS_WAK_STS (1u << 7)

#define ACPI_SLP_TYP_MAX 7

struct acpi_gas {
	uint8_t space;        /* GAS_SPACE_* or any other value the table holds */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;  /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
};

struct acpi_fadt_info {
	uint8_t revision;
	uint32_t length;       /* bytes parsed: the table's claimed length, capped by len */
	uint32_t flags;
	uint64_t dsdt;         /* X_DSDT when present and non-zero, else DSDT */
	uint32_t pm1a_cnt_blk; /* 32-bit I/O port, 0 = none */
	uint32_t pm1b_cnt_blk;
	uint8_t pm1_cnt_len;
	bool has_x_pm1;        /* the table reaches X_PM1b_CNT_BLK */
	struct acpi_gas x_pm1a_cnt;
	struct acpi_gas x_pm1b_cnt;
	bool has_reset;        /* the table reaches RESET_VALUE */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	bool has_sleep_regs;   /* the table reaches SLEEP_STATUS_REG (ACPI 5.0+) */
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
};

/*
 * Parses a checksum-validated FADT held in `len` bytes; fields beyond the
 * table's own Length (or beyond len) read as absent.  False if too short
 * for the PM1 control blocks.
 */
bool acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *out);

/* Decodes a 12-byte generic address structure. */
void acpi_gas_parse(const uint8_t *gas, struct acpi_gas *out);

/*
 * Finds the \_S5_ package in AML (DSDT or SSDT bytes) and returns its first
 * two values, SLP_TYPa and SLP_TYPb.  A byte scan, not an AML interpreter:
 * NameOp, an optional root prefix, "_S5_", PackageOp, and Zero/One/BytePrefix
 * elements: enough for the static package every firmware emits.
 */
bool acpi_find_s5(const void *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b);

#endif
