/*
 * The ACPI HPET table (IA-PC HPET specification 1.0a, 3.2.4) and the HPET
 * registers the firmware uses as a calibration reference: where the block
 * is and how fast its main counter runs.  Portable: parses byte buffers.
 */
#ifndef PROOFBOOT_ACPI_HPET_H
#define PROOFBOOT_ACPI_HPET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi_fadt.h"

/* HPET table: header (36 bytes), event timer block id, base address GAS, number, min tick. */
#define ACPI_HPET_OFF_BLOCK_ID 36
#define ACPI_HPET_OFF_BASE_GAS 40 /* a Generic Address Structure (acpi_fadt.h) */
#define ACPI_HPET_OFF_NUMBER 52
#define ACPI_HPET_MIN_LEN 56

/* HPET registers (spec 2.3): offsets from the block base; the block is 1 KiB. */
#define HPET_BLOCK_BYTES 0x400u
#define HPET_REG_GCAP_ID 0x000u
#define HPET_REG_GEN_CONF 0x010u
#define HPET_REG_MAIN_COUNTER 0x0f0u
#define HPET_GCAP_PERIOD_SHIFT 32     /* main counter tick, femtoseconds */
#define HPET_GCAP_COUNT_SIZE_64 (1u << 13)
#define HPET_GEN_CONF_ENABLE (1u << 0)
/* The spec bounds the period: at most 100 ns (a counter of at least 10 MHz). */
#define HPET_PERIOD_FS_MAX 100000000ull
#define HPET_FS_PER_S 1000000000000000ull

enum acpi_hpet_status {
	ACPI_HPET_OK,
	ACPI_HPET_TOO_SHORT,        /* the table is shorter than its fixed fields */
	ACPI_HPET_NOT_MEMORY_SPACE, /* the base GAS names another address space */
	ACPI_HPET_ZERO_BASE,        /* no address */
	ACPI_HPET_MISALIGNED,       /* base not 1 KiB aligned */
};

struct acpi_hpet_info {
	uint64_t base;
	uint8_t number;
};

enum acpi_hpet_status acpi_hpet_parse(const void *table, size_t len, struct acpi_hpet_info *out);
/* "ok", "table-too-short", "base-not-memory-space", "base-zero", "base-misaligned" */
const char *acpi_hpet_status_name(enum acpi_hpet_status s);

/* Main-counter frequency from GCAP_ID; 0 when the period is 0 or above the spec's bound. */
uint64_t hpet_counter_hz(uint64_t gcap_id);
/* Width of the main counter from GCAP_ID: 64 or 32 bits. */
unsigned hpet_counter_bits(uint64_t gcap_id);

#endif
