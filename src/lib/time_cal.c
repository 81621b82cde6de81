/* TSC calibration logic; see time_cal.h. */
#include "time_cal.h"

#include <stdlib.h>

uint64_t time_cpuid_tsc_hz(const struct time_cpuid_tsc *in, enum time_cpuid_result *result)
{
	if (in->max_leaf < CPUID_LEAF_TSC) {
		*result = TIME_CPUID_NO_LEAF;
		return 0;
	}
	if (in->denominator == 0 || in->numerator == 0) {
		*result = TIME_CPUID_NO_RATIO;
		return 0;
	}
	if (in->crystal_hz) {
		*result = TIME_CPUID_OK_CRYSTAL;
		return (uint64_t)in->crystal_hz * in->numerator / in->denominator;
	}
	/* Crystal not enumerated: where 16h exists the TSC runs at the base frequency. */
	if (in->max_leaf >= CPUID_LEAF_FREQ && in->base_mhz) {
		*result = TIME_CPUID_OK_BASE_MHZ;
		return (uint64_t)in->base_mhz * TIME_HZ_PER_MHZ;
	}
	*result = TIME_CPUID_NO_CRYSTAL;
	return 0;
}

const char *time_cpuid_result_name(enum time_cpuid_result r)
{
	switch (r) {
	case TIME_CPUID_OK_CRYSTAL: return "crystal";
	case TIME_CPUID_OK_BASE_MHZ: return "base-frequency";
	case TIME_CPUID_NO_LEAF: return "no-leaf-15h";
	case TIME_CPUID_NO_RATIO: return "no-tsc-ratio";
	case TIME_CPUID_NO_CRYSTAL: return "no-crystal-frequency";
	}
	return "unknown";
}

uint64_t time_rate_hz(uint64_t tsc_ticks, uint64_t ref_ticks, uint64_t ref_hz)
{
	if (ref_ticks == 0)
		return 0;
	/* Split so tsc_ticks * ref_hz cannot overflow: both are far below 2^40 per part. */
	uint64_t whole = tsc_ticks / ref_ticks, rest = tsc_ticks % ref_ticks;

	return whole * ref_hz + rest * ref_hz / ref_ticks;
}

/* diff / base in ppm, saturating instead of overflowing for absurd inputs. */
static uint64_t ppm_of(uint64_t diff, uint64_t base)
{
	if (base == 0)
		return UINT64_MAX;
	if (diff > UINT64_MAX / TIME_PPM)
		return diff / base >= UINT64_MAX / TIME_PPM ? UINT64_MAX : diff / base * TIME_PPM;
	return diff * TIME_PPM / base;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t time_median_hz(uint64_t *rates, size_t n, uint64_t *spread_ppm)
{
	*spread_ppm = 0;
	if (n == 0)
		return 0;
	qsort(rates, n, sizeof(rates[0]), compare_u64);
	uint64_t median = rates[n / 2];

	*spread_ppm = ppm_of(rates[n - 1] - rates[0], median);
	return median;
}

unsigned time_windows_agreeing(const uint64_t *rates, size_t n, uint64_t median)
{
	unsigned agreeing = 0;

	for (size_t i = 0; i < n; i++)
		agreeing += median && time_disagreement_ppm(rates[i], median) <= TIME_WINDOW_AGREE_PPM;
	return agreeing;
}

const char *time_implausible(uint64_t hz)
{
	if (hz < TIME_TSC_HZ_MIN)
		return "below-200mhz";
	if (hz > TIME_TSC_HZ_MAX)
		return "above-10ghz";
	return NULL;
}

uint64_t time_disagreement_ppm(uint64_t a, uint64_t b)
{
	return ppm_of(a > b ? a - b : b - a, b);
}

uint64_t time_counter_delta(uint64_t start, uint64_t end, unsigned bits)
{
	uint64_t mask = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

	return (end - start) & mask;
}
