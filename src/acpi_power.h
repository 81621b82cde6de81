/*
 * ACPI reset and soft-off (S5).  acpi_power_init() decides both from the
 * FADT, the DSDT and the SSDTs at boot and prints the decisions as
 * `acpi: poweroff plan` / `acpi: reset plan` proof lines (so every log shows
 * what end=poweroff / end=reboot would do); the functions below carry the
 * plans out after the verdict.  The decisions are src/lib/acpi_power_plan.c.
 */
#ifndef PROOFBOOT_ACPI_POWER_H
#define PROOFBOOT_ACPI_POWER_H

/* After acpi_init(); prints the two plan lines. */
void acpi_power_init(void);

/* Each returns only if the tables do not allow it (or the machine ignored it). */
void acpi_reset(void);
void acpi_poweroff(void);

#endif
