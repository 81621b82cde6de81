/*
 * TSC calibration logic, independent of the hardware read: decoding the
 * CPUID TSC leaves, turning a (TSC ticks, reference ticks) window into a
 * rate, judging a rate and a set of windows, and the conservative rate used
 * when no source can be trusted.  arch/x86_64/tsc.c reads the hardware.
 */
#ifndef PROOFBOOT_TIME_CAL_H
#define PROOFBOOT_TIME_CAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Plausible invariant-TSC rates.  No x86 CPU that runs x86_64 code has a
 * TSC below 200 MHz, none above 10 GHz.  A calibration outside is a broken
 * reference (an absent PIT whose gate bit toggles at once, a lying leaf).
 */
#define TIME_TSC_HZ_MIN 200000000ull
#define TIME_TSC_HZ_MAX 10000000000ull
/*
 * Without a trustworthy source the TSC is assumed to run at the highest
 * plausible rate: any real TSC is slower, so every elapsed time the
 * firmware computes is at most the real one, every timeout and delay lasts
 * at least as long as asked (never "timeout after 30 s" in less).
 */
#define TIME_TSC_HZ_CONSERVATIVE TIME_TSC_HZ_MAX
/*
 * A measured source is trusted when most of its windows agree: at least
 * TIME_WINDOWS_AGREEING_MIN of them within TIME_WINDOW_AGREE_PPM of the
 * median.  A loaded host (or an emulator) stretches or shrinks single
 * windows, in either direction; a majority that agrees is the rate.
 */
#define TIME_WINDOW_AGREE_PPM 20000ull
#define TIME_WINDOWS_AGREEING_MIN 3
/* A CPUID rate that a measured reference contradicts by more than this is rejected. */
#define TIME_CPUID_AGREE_PPM 20000ull
#define TIME_PPM 1000000ull

/* CPUID leaves and their outputs (Intel SDM vol. 2A, CPUID). */
#define CPUID_LEAF_MAX 0x0u
#define CPUID_LEAF_TSC 0x15u  /* EAX denominator, EBX numerator, ECX crystal Hz */
#define CPUID_LEAF_FREQ 0x16u /* EAX base frequency MHz */
#define TIME_HZ_PER_MHZ 1000000ull

struct time_cpuid_tsc {
	uint32_t max_leaf;
	uint32_t denominator; /* 15h EAX */
	uint32_t numerator;   /* 15h EBX */
	uint32_t crystal_hz;  /* 15h ECX, 0 = not enumerated */
	uint32_t base_mhz;    /* 16h EAX, 0 = not enumerated */
};

enum time_cpuid_result {
	TIME_CPUID_OK_CRYSTAL,  /* crystal Hz x numerator / denominator */
	TIME_CPUID_OK_BASE_MHZ, /* ratio given, crystal not: leaf 16h base frequency */
	TIME_CPUID_NO_LEAF,     /* max leaf below 15h */
	TIME_CPUID_NO_RATIO,    /* 15h EAX or EBX is 0 */
	TIME_CPUID_NO_CRYSTAL,  /* no crystal and no usable 16h */
};

/* The TSC rate the leaves state, 0 when they state none; *result says which way. */
uint64_t time_cpuid_tsc_hz(const struct time_cpuid_tsc *in, enum time_cpuid_result *result);
/* "crystal", "base-frequency", "no-leaf-15h", "no-tsc-ratio", "no-crystal-frequency" */
const char *time_cpuid_result_name(enum time_cpuid_result r);

/* tsc_ticks over ref_ticks of a reference running at ref_hz; 0 when ref_ticks is 0. */
uint64_t time_rate_hz(uint64_t tsc_ticks, uint64_t ref_ticks, uint64_t ref_hz);

/* Sorts rates (in place) and returns the median; spread in ppm of the median. */
uint64_t time_median_hz(uint64_t *rates, size_t n, uint64_t *spread_ppm);

/* How many of the n rates lie within TIME_WINDOW_AGREE_PPM of `median`. */
unsigned time_windows_agreeing(const uint64_t *rates, size_t n, uint64_t median);

/* NULL when plausible, else "below-200mhz" / "above-10ghz". */
const char *time_implausible(uint64_t hz);

/* |a - b| / b in ppm (b > 0). */
uint64_t time_disagreement_ppm(uint64_t a, uint64_t b);

/* Ticks of an up-counter of `bits` bits from `start` to `end`, across one wrap. */
uint64_t time_counter_delta(uint64_t start, uint64_t end, unsigned bits);

#endif
