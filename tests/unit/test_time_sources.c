/* Host tests for TSC calibration logic (src/lib/time_cal.c) and the HPET and
 * PM timer table parsers (src/lib/acpi_hpet.c, src/lib/acpi_pmtimer.c),
 * the parsers on 45 real machines' tables. */
#include "unit.h"
#include "acpi_hpet.h"
#include "acpi_pmtimer.h"
#include "time_cal.h"

#include <stddef.h>

struct real_timer_case {
	const char *folder;
	const uint8_t *facp;
	size_t facp_len;
	const uint8_t *hpet; /* NULL: the machine has no HPET table */
	size_t hpet_len;
	enum acpi_pmtimer_status pm_status;
	int pm_io;
	uint64_t pm_address;
	unsigned pm_bits;
	int pm_from_x;
	enum acpi_hpet_status hpet_status;
	uint64_t hpet_base;
};

#include "data/acpi_real_timers.inc"

UNIT_TEST(time_real_tables_pm_timer_and_hpet)
{
	size_t n = sizeof(real_timer_cases) / sizeof(real_timer_cases[0]);

	CHECK_EQ(n, 45);
	for (size_t i = 0; i < n; i++) {
		const struct real_timer_case *c = &real_timer_cases[i];
		struct acpi_pmtimer_info pm = { 0 };
		struct acpi_hpet_info hp = { 0 };

		CHECK_EQ(acpi_pmtimer_parse(c->facp, c->facp_len, &pm), c->pm_status);
		if (c->pm_status == ACPI_PMTIMER_OK) {
			CHECK_EQ(pm.io, c->pm_io);
			CHECK_EQ(pm.address, c->pm_address);
			CHECK_EQ(pm.from_x_field, c->pm_from_x);
		}
		CHECK_EQ(pm.bits, c->pm_bits);
		if (c->hpet) {
			CHECK_EQ(acpi_hpet_parse(c->hpet, c->hpet_len, &hp), c->hpet_status);
			CHECK_EQ(hp.base, c->hpet_base);
		}
	}
}

UNIT_TEST(time_pm_timer_hand_made_fadts)
{
	uint8_t f[244] = { 0 };
	struct acpi_pmtimer_info pm;

	CHECK_EQ(acpi_pmtimer_parse(f, 100, &pm), ACPI_PMTIMER_TOO_SHORT);
	CHECK_EQ(acpi_pmtimer_parse(f, sizeof(f), &pm), ACPI_PMTIMER_NONE);
	/* QEMU q35: PM_TMR_BLK 0x608, length 4, no X_ address: 24 bits, I/O. */
	f[FADT_OFF_PM_TMR_BLK] = 0x08;
	f[FADT_OFF_PM_TMR_BLK + 1] = 0x06;
	CHECK_EQ(acpi_pmtimer_parse(f, sizeof(f), &pm), ACPI_PMTIMER_BAD_LENGTH);
	f[FADT_OFF_PM_TMR_LEN] = PM_TIMER_LEN;
	CHECK_EQ(acpi_pmtimer_parse(f, sizeof(f), &pm), ACPI_PMTIMER_OK);
	CHECK(pm.io && pm.address == 0x608 && pm.bits == 24 && !pm.from_x_field);
	/* TMR_VAL_EXT: 32 bits.  X_PM_TMR_BLK in memory wins over the port. */
	f[FADT_OFF_FLAGS + 1] = FADT_FLAG_TMR_VAL_EXT >> 8;
	f[FADT_OFF_X_PM_TMR_BLK + GAS_OFF_SPACE] = GAS_SPACE_MEMORY;
	f[FADT_OFF_X_PM_TMR_BLK + GAS_OFF_ADDRESS + 2] = 0xd0; /* 0xfed00000-ish */
	f[FADT_OFF_X_PM_TMR_BLK + GAS_OFF_ADDRESS + 3] = 0xfe;
	CHECK_EQ(acpi_pmtimer_parse(f, sizeof(f), &pm), ACPI_PMTIMER_OK);
	CHECK(!pm.io && pm.address == 0xfed00000u && pm.bits == 32 && pm.from_x_field);
	/* A space the firmware cannot read (PCI config, 2) is refused, not guessed. */
	f[FADT_OFF_X_PM_TMR_BLK + GAS_OFF_SPACE] = 2;
	CHECK_EQ(acpi_pmtimer_parse(f, sizeof(f), &pm), ACPI_PMTIMER_BAD_SPACE);
	/* An ACPI 1.0 FADT (no X_ fields) still has its port. */
	CHECK_EQ(acpi_pmtimer_parse(f, 116, &pm), ACPI_PMTIMER_OK);
	CHECK(pm.io && pm.address == 0x608);
}

UNIT_TEST(time_hpet_table_and_capabilities)
{
	uint8_t t[ACPI_HPET_MIN_LEN] = { 0 };
	struct acpi_hpet_info hp;

	CHECK_EQ(acpi_hpet_parse(t, ACPI_HPET_MIN_LEN - 1, &hp), ACPI_HPET_TOO_SHORT);
	CHECK_EQ(acpi_hpet_parse(t, sizeof(t), &hp), ACPI_HPET_ZERO_BASE);
	t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_ADDRESS + 2] = 0xd0;
	t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_ADDRESS + 3] = 0xfe;
	CHECK_EQ(acpi_hpet_parse(t, sizeof(t), &hp), ACPI_HPET_OK);
	CHECK_EQ(hp.base, 0xfed00000u);
	t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_ADDRESS] = 0x10;
	CHECK_EQ(acpi_hpet_parse(t, sizeof(t), &hp), ACPI_HPET_MISALIGNED);
	t[ACPI_HPET_OFF_BASE_GAS + GAS_OFF_SPACE] = GAS_SPACE_IO;
	CHECK_EQ(acpi_hpet_parse(t, sizeof(t), &hp), ACPI_HPET_NOT_MEMORY_SPACE);
	/* QEMU's HPET: 10 ns period (100 MHz), 64-bit counter. */
	uint64_t qemu_gcap = (UINT64_C(10000000) << HPET_GCAP_PERIOD_SHIFT) | HPET_GCAP_COUNT_SIZE_64;
	CHECK_EQ(hpet_counter_hz(qemu_gcap), 100000000);
	CHECK_EQ(hpet_counter_bits(qemu_gcap), 64);
	/* Intel PCH HPETs: 69.841279 ns, 14.318 MHz, 64-bit. */
	CHECK_EQ(hpet_counter_hz(UINT64_C(69841279) << HPET_GCAP_PERIOD_SHIFT), 14318179);
	CHECK_EQ(hpet_counter_bits(0), 32);
	CHECK_EQ(hpet_counter_hz(0), 0);
	CHECK_EQ(hpet_counter_hz((HPET_PERIOD_FS_MAX + 1) << HPET_GCAP_PERIOD_SHIFT), 0);
}

UNIT_TEST(time_cpuid_leaves)
{
	enum time_cpuid_result r;
	/* Skylake client: crystal not enumerated, ratio 216/2, 16h base 2700 MHz. */
	struct time_cpuid_tsc skl = { 0x16, 2, 216, 0, 2700 };
	/* Ice Lake / Tiger Lake: 38.4 MHz crystal enumerated, ratio 130/2 = 2.496 GHz. */
	struct time_cpuid_tsc tgl = { 0x1b, 2, 130, 38400000, 2500 };
	/* QEMU TCG's default CPUs: max leaf 0xd. */
	struct time_cpuid_tsc tcg = { 0xd, 0, 0, 0, 0 };
	/* QEMU -cpu qemu64,level=0x16: the leaves exist but hold zeros. */
	struct time_cpuid_tsc zeros = { 0x16, 0, 0, 0, 0 };
	struct time_cpuid_tsc no_crystal = { 0x15, 2, 216, 0, 0 };

	CHECK_EQ(time_cpuid_tsc_hz(&tgl, &r), 2496000000ull);
	CHECK_EQ(r, TIME_CPUID_OK_CRYSTAL);
	CHECK_EQ(time_cpuid_tsc_hz(&skl, &r), 2700000000ull);
	CHECK_EQ(r, TIME_CPUID_OK_BASE_MHZ);
	CHECK_EQ(time_cpuid_tsc_hz(&tcg, &r), 0);
	CHECK_STR(time_cpuid_result_name(r), "no-leaf-15h");
	CHECK_EQ(time_cpuid_tsc_hz(&zeros, &r), 0);
	CHECK_STR(time_cpuid_result_name(r), "no-tsc-ratio");
	CHECK_EQ(time_cpuid_tsc_hz(&no_crystal, &r), 0);
	CHECK_STR(time_cpuid_result_name(r), "no-crystal-frequency");
}

UNIT_TEST(time_rates_bounds_and_agreement)
{
	/* 13 million TSC ticks over 5 ms of the PM timer (17898 ticks at 3.579545 MHz). */
	CHECK_EQ(time_rate_hz(13000000, 17898, PM_TIMER_HZ), 2599960051);
	CHECK_EQ(time_rate_hz(1, 0, PM_TIMER_HZ), 0);
	/* No overflow for an hour of a 10 GHz TSC against a 100 MHz HPET. */
	CHECK_EQ(time_rate_hz(36000000000000ull, 360000000000ull, 100000000), 10000000000ull);
	CHECK(time_implausible(27204) != NULL); /* the pit=off calibration of issue 13 */
	CHECK_STR(time_implausible(TIME_TSC_HZ_MAX + 1), "above-10ghz");
	CHECK(time_implausible(2600000000ull) == NULL);
	CHECK(time_implausible(TIME_TSC_HZ_CONSERVATIVE) == NULL);

	uint64_t rates[5] = { 2600000000ull, 5744501827ull, 2600100000ull, 2599900000ull, 4144875831ull };
	uint64_t spread;
	uint64_t median = time_median_hz(rates, 5, &spread);
	CHECK_EQ(median, 2600100000ull);
	CHECK_EQ(time_windows_agreeing(rates, 5, median), 3);
	CHECK(spread > 1000000);
	uint64_t noisy[5] = { 4392151149ull, 2774126746ull, 7293417289ull, 8300655326ull, 6224314615ull };
	median = time_median_hz(noisy, 5, &spread);
	CHECK(time_windows_agreeing(noisy, 5, median) < TIME_WINDOWS_AGREEING_MIN);
	CHECK_EQ(time_disagreement_ppm(1020000, 1000000), 20000);
	CHECK_EQ(time_disagreement_ppm(UINT64_MAX, 1), UINT64_MAX);
	CHECK_EQ(time_counter_delta(0xfffff0, 0x10, 24), 0x20);
	CHECK_EQ(time_counter_delta(0xfff0, 0x0010, 16), 0x20);
	CHECK_EQ(time_counter_delta(5, 3, 64), UINT64_MAX - 1);
}
