/*
 * Firmware ACPI: validates the tables once at boot (every table's length
 * and checksum), prints the `acpi:` proof lines, registers the MCFG ECAM
 * windows with PCI, and then serves table look-ups.  The parsing itself is
 * src/lib/acpi.c (host-tested).
 */
#ifndef PROOFBOOT_ACPI_H
#define PROOFBOOT_ACPI_H

#include <stdbool.h>
#include <stddef.h>

/* Largest table length believed; anything claiming more is reported, not read. */
#define ACPI_FW_MAX_TABLE_LEN (1u << 20)

/*
 * Validates the RSDP copy (from the multiboot2 ACPI old/new tag; NULL or
 * len 0 when GRUB gave none) and walks the tables.  Never crashes on bad
 * tables: each problem is a proof line.
 */
void acpi_init(const void *rsdp_copy, size_t len);

/* Whether acpi_init found a valid RSDP and root table. */
bool acpi_available(void);

/*
 * The index-th table with this signature whose length and checksum are
 * valid (counting all tables of that signature), or NULL; *len gets its
 * length when len is not NULL.
 */
const void *acpi_find_table(const char sig[4], unsigned index, size_t *len);

struct acpi_tables;

/* The validated tables (for lib parsers that walk them), or NULL when unusable. */
const struct acpi_tables *acpi_tables_get(void);

#endif
