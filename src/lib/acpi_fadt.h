/*
 * What the firmware needs from the FADT and DSDT to end a run on a real
 * machine: the ACPI reset register and the S5 (soft-off) sleep type.
 * Portable: parses byte buffers only.
 */
#ifndef PROOFBOOT_ACPI_FADT_H
#define PROOFBOOT_ACPI_FADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FADT field offsets (ACPI 6.x, table 5.9). */
#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT_BLK 64
#define FADT_OFF_PM1B_CNT_BLK 68
#define FADT_OFF_FLAGS 112
#define FADT_OFF_RESET_REG 116
#define FADT_OFF_RESET_VALUE 128
#define FADT_OFF_X_DSDT 140
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_MIN_LEN (FADT_OFF_PM1B_CNT_BLK + 4)

/* Generic Address Structure (5.2.3.2). */
#define GAS_OFF_SPACE 0
#define GAS_OFF_ADDRESS 4
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO 1

/* PM1 control register: SLP_TYP bits 12:10, SLP_EN bit 13. */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)

struct acpi_fadt_info {
	uint64_t dsdt;        /* X_DSDT when present, else DSDT */
	uint32_t pm1a_cnt;    /* I/O port, 0 = none */
	uint32_t pm1b_cnt;
	bool reset_supported; /* RESET_REG_SUP and a usable address */
	uint8_t reset_space;  /* GAS_SPACE_* */
	uint64_t reset_addr;
	uint8_t reset_value;
};

/* Parses a checksum-validated FADT of `len` bytes; false if too short. */
bool acpi_fadt_parse(const void *fadt, size_t len, struct acpi_fadt_info *out);

/*
 * Finds the \_S5_ package in AML (DSDT or SSDT bytes) and returns its first
 * two values, SLP_TYPa and SLP_TYPb.  A byte scan, not an AML interpreter:
 * enough for the static package every firmware emits.
 */
bool acpi_find_s5(const void *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b);

#endif
