/*
 * The time references' table parsers (src/lib/acpi_pmtimer.c over a FADT,
 * src/lib/acpi_hpet.c over an HPET table): firmware tables are outside
 * data.  The same bytes are read as both.
 *
 * Invariants: no read outside the buffer; an accepted PM timer is 24 or 32
 * bits wide, in I/O space below 64 KiB or in memory, and its 32-bit port
 * form really has PM_TMR_LEN 4; an accepted HPET block is 1 KiB aligned,
 * non-zero, in memory space; parsing a prefix never accepts more than the
 * whole does.
 */
#include "fuzz.h"

#include "acpi_hpet.h"
#include "acpi_pmtimer.h"

static void check_pm_timer(const uint8_t *t, size_t n)
{
	struct acpi_pmtimer_info pm;

	if (acpi_pmtimer_parse(t, n, &pm) != ACPI_PMTIMER_OK)
		return;
	FUZZ_CHECK(pm.bits == PM_TIMER_BITS_SHORT || pm.bits == PM_TIMER_BITS_EXT);
	FUZZ_CHECK(pm.address != 0);
	FUZZ_CHECK(!pm.io || pm.address <= PM_TIMER_IO_PORT_MAX);
	if (!pm.from_x_field)
		FUZZ_CHECK(t[FADT_OFF_PM_TMR_LEN] == PM_TIMER_LEN);
	else
		FUZZ_CHECK(n >= FADT_OFF_X_PM_TMR_BLK + PM_TMR_GAS_LEN);
	FUZZ_CHECK(acpi_pmtimer_status_name(ACPI_PMTIMER_OK)[0] != '\0');
}

static void check_hpet(const uint8_t *t, size_t n)
{
	struct acpi_hpet_info hp;
	enum acpi_hpet_status st = acpi_hpet_parse(t, n, &hp);

	FUZZ_CHECK(acpi_hpet_status_name(st)[0] != '\0');
	if (st != ACPI_HPET_OK)
		return;
	FUZZ_CHECK(hp.base != 0 && hp.base % HPET_BLOCK_BYTES == 0);
	FUZZ_CHECK(t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_SPACE] == GAS_SPACE_MEMORY);
	/* The capability decode of whatever the block's first qword might be. */
	uint64_t gcap = hp.base ^ ((uint64_t)n << 32);
	uint64_t hz = hpet_counter_hz(gcap);
	FUZZ_CHECK(hz == 0 || hz >= HPET_FS_PER_S / HPET_PERIOD_FS_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t = fuzz_dup(data, size);

	check_pm_timer(t, size);
	check_hpet(t, size);
	free(t);
	return 0;
}
