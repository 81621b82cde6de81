/* HPET table and capability decoding; see acpi_hpet.h. */
#include "acpi_hpet.h"

#include "le.h"

enum acpi_hpet_status acpi_hpet_parse(const void *table, size_t len, struct acpi_hpet_info *out)
{
	const uint8_t *t = table;

	if (len < ACPI_HPET_MIN_LEN)
		return ACPI_HPET_TOO_SHORT;
	if (t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_SPACE] != GAS_SPACE_MEMORY)
		return ACPI_HPET_NOT_MEMORY_SPACE;
	out->base = le_get64(t + ACPI_HPET_OFF_BASE_GAS + GAS_OFF_ADDRESS);
	out->number = t[ACPI_HPET_OFF_NUMBER];
	if (out->base == 0)
		return ACPI_HPET_ZERO_BASE;
	if (out->base % HPET_BLOCK_BYTES)
		return ACPI_HPET_MISALIGNED;
	return ACPI_HPET_OK;
}

const char *acpi_hpet_status_name(enum acpi_hpet_status s)
{
	switch (s) {
	case ACPI_HPET_OK: return "ok";
	case ACPI_HPET_TOO_SHORT: return "table-too-short";
	case ACPI_HPET_NOT_MEMORY_SPACE: return "base-not-memory-space";
	case ACPI_HPET_ZERO_BASE: return "base-zero";
	case ACPI_HPET_MISALIGNED: return "base-misaligned";
	}
	return "unknown";
}

uint64_t hpet_counter_hz(uint64_t gcap_id)
{
	uint64_t period_fs = gcap_id >> HPET_GCAP_PERIOD_SHIFT;

	if (period_fs == 0 || period_fs > HPET_PERIOD_FS_MAX)
		return 0;
	return HPET_FS_PER_S / period_fs;
}

unsigned hpet_counter_bits(uint64_t gcap_id)
{
	return (gcap_id & HPET_GCAP_COUNT_SIZE_64) ? 64 : 32;
}
