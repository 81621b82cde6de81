/* PM timer location from the FADT; see acpi_pmtimer.h. */
#include "acpi_pmtimer.h"

#include "le.h"

/* X_PM_TMR_BLK wins when it holds an address (ACPI 2.0+), as Linux does. */
static enum acpi_pmtimer_status from_x_field(const uint8_t *f, struct acpi_pmtimer_info *out)
{
	const uint8_t *gas = f + FADT_OFF_X_PM_TMR_BLK;
	uint8_t space = gas[GAS_OFF_SPACE];

	if (space != GAS_SPACE_IO && space != GAS_SPACE_MEMORY)
		return ACPI_PMTIMER_BAD_SPACE;
	out->io = space == GAS_SPACE_IO;
	out->address = le_get64(gas + GAS_OFF_ADDRESS);
	out->from_x_field = true;
	if (out->io && out->address > PM_TIMER_IO_PORT_MAX)
		return ACPI_PMTIMER_BAD_SPACE;
	return ACPI_PMTIMER_OK;
}

enum acpi_pmtimer_status acpi_pmtimer_parse(const void *fadt, size_t len,
					    struct acpi_pmtimer_info *out)
{
	const uint8_t *f = fadt;

	if (len < FADT_OFF_FLAGS + 4)
		return ACPI_PMTIMER_TOO_SHORT;
	out->bits = (le_get32(f + FADT_OFF_FLAGS) & FADT_FLAG_TMR_VAL_EXT) ? PM_TIMER_BITS_EXT
										: PM_TIMER_BITS_SHORT;
	if (len >= FADT_OFF_X_PM_TMR_BLK + PM_TMR_GAS_LEN &&
	    le_get64(f + FADT_OFF_X_PM_TMR_BLK + GAS_OFF_ADDRESS) != 0)
		return from_x_field(f, out);
	out->io = true;
	out->address = le_get32(f + FADT_OFF_PM_TMR_BLK);
	out->from_x_field = false;
	if (out->address == 0)
		return ACPI_PMTIMER_NONE;
	if (f[FADT_OFF_PM_TMR_LEN] != PM_TIMER_LEN)
		return ACPI_PMTIMER_BAD_LENGTH;
	if (out->address > PM_TIMER_IO_PORT_MAX)
		return ACPI_PMTIMER_BAD_SPACE;
	return ACPI_PMTIMER_OK;
}

const char *acpi_pmtimer_status_name(enum acpi_pmtimer_status s)
{
	switch (s) {
	case ACPI_PMTIMER_OK: return "ok";
	case ACPI_PMTIMER_TOO_SHORT: return "fadt-too-short";
	case ACPI_PMTIMER_NONE: return "no-pm-timer";
	case ACPI_PMTIMER_BAD_LENGTH: return "pm-tmr-len-not-4";
	case ACPI_PMTIMER_BAD_SPACE: return "x-pm-tmr-blk-space-unsupported";
	}
	return "unknown";
}
