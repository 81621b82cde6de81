/*
 * ACPI reset register and S5 soft-off.  These run after the verdict line, so
 * they print plain text (never proof lines: the verdict stays last).
 */
#include "acpi_power.h"

#include "acpi.h"
#include "acpi_fadt.h"
#include "lib/acpi.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"

#include <stdio.h>

static bool load_fadt(struct acpi_fadt_info *fadt)
{
	size_t len;
	const void *table = acpi_find_table("FACP", 0, &len);

	if (!table || !acpi_fadt_parse(table, len, fadt)) {
		printf("acpi power: no usable FADT\n");
		return false;
	}
	return true;
}

void acpi_reset(void)
{
	struct acpi_fadt_info fadt;

	if (!load_fadt(&fadt) || !fadt.reset_supported)
		return;
	if (fadt.reset_space == GAS_SPACE_IO)
		outb((uint16_t)fadt.reset_addr, fadt.reset_value);
	else if (paging_map_mmio(fadt.reset_addr, 1))
		mmio_write8(fadt.reset_addr, fadt.reset_value);
}

/* The DSDT is not in the RSDT/XSDT: validate it from the FADT's pointer. */
static const void *map_dsdt(uint64_t phys, size_t *len)
{
	struct acpi_header header;

	if (!phys || !paging_map_mmio(phys, ACPI_HEADER_LEN))
		return NULL;
	const void *dsdt = (const void *)(uintptr_t)phys;
	if (acpi_header_parse(dsdt, ACPI_HEADER_LEN, &header) != ACPI_OK ||
	    header.length > ACPI_FW_MAX_TABLE_LEN || !paging_map_mmio(phys, header.length) ||
	    acpi_table_check(dsdt, header.length, &header) != ACPI_OK)
		return NULL;
	*len = header.length;
	return dsdt;
}

void acpi_poweroff(void)
{
	struct acpi_fadt_info fadt;
	uint8_t slp_typ_a, slp_typ_b;
	size_t len;

	if (!load_fadt(&fadt) || !fadt.pm1a_cnt)
		return;
	const void *dsdt = map_dsdt(fadt.dsdt, &len);
	if (!dsdt || !acpi_find_s5(dsdt, len, &slp_typ_a, &slp_typ_b)) {
		printf("acpi power: no valid DSDT with an \\_S5 package\n");
		return;
	}
	outw((uint16_t)fadt.pm1a_cnt, (uint16_t)(slp_typ_a << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
	if (fadt.pm1b_cnt)
		outw((uint16_t)fadt.pm1b_cnt, (uint16_t)(slp_typ_b << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
}
