/*
 * Where the ACPI power-management timer is, from the FADT (ACPI 6.x,
 * 4.8.3.3 and table 5.9): a free-running 24- or 32-bit up-counter at
 * 3.579545 MHz, in I/O space (PM_TMR_BLK) or wherever X_PM_TMR_BLK says.
 * Read here rather than in acpi_fadt.c, which serves power-off and reset.
 * Portable: parses a byte buffer.
 */
#ifndef PROOFBOOT_ACPI_PMTIMER_H
#define PROOFBOOT_ACPI_PMTIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi_fadt.h" /* FADT_OFF_FLAGS and the Generic Address Structure fields */

#define FADT_OFF_PM_TMR_BLK 76
#define FADT_OFF_PM_TMR_LEN 91
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)
#define FADT_OFF_X_PM_TMR_BLK 208
#define PM_TMR_GAS_LEN 12
#define PM_TIMER_LEN 4
#define PM_TIMER_HZ 3579545ull
#define PM_TIMER_BITS_SHORT 24
#define PM_TIMER_BITS_EXT 32
#define PM_TIMER_IO_PORT_MAX 0xffffu

enum acpi_pmtimer_status {
	ACPI_PMTIMER_OK,
	ACPI_PMTIMER_TOO_SHORT,   /* FADT ends before PM_TMR_LEN */
	ACPI_PMTIMER_NONE,        /* no address in either field (hardware-reduced ACPI) */
	ACPI_PMTIMER_BAD_LENGTH,  /* PM_TMR_BLK given but PM_TMR_LEN is not 4 */
	ACPI_PMTIMER_BAD_SPACE,   /* X_PM_TMR_BLK in a space other than I/O or memory */
};

struct acpi_pmtimer_info {
	bool io;          /* true: I/O port; false: memory */
	uint64_t address;
	unsigned bits;    /* 24 or 32 */
	bool from_x_field;
};

enum acpi_pmtimer_status acpi_pmtimer_parse(const void *fadt, size_t len,
					    struct acpi_pmtimer_info *out);
/* "ok", "fadt-too-short", "no-pm-timer", "pm-tmr-len-not-4", "x-pm-tmr-blk-space-unsupported" */
const char *acpi_pmtimer_status_name(enum acpi_pmtimer_status s);

#endif
