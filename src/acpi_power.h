/* ACPI reset and soft-off (S5), used after the verdict on real machines. */
#ifndef PROOFBOOT_ACPI_POWER_H
#define PROOFBOOT_ACPI_POWER_H

/* Each returns only if the tables do not allow it (or the machine ignored it). */
void acpi_reset(void);
void acpi_poweroff(void);

#endif
