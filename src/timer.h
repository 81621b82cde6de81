/* Time from the TSC, its rate from CPUID or a measured reference (see arch/x86_64/tsc.c). */
#ifndef PROOFBOOT_TIMER_H
#define PROOFBOOT_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "time_units.h" /* US_PER_S, US_PER_MS */

void time_init(void);
/* Microseconds since time_init(). */
uint64_t time_now_us(void);
void time_delay_us(uint64_t us);
uint64_t time_tsc_hz(void);
/* False when no source could be trusted and the conservative rate is in use. */
bool time_calibrated(void);
/* The winning source: "cpuid", "hpet", "pm-timer", "pit", or "none". */
const char *time_source(void);
/* The TSC now. */
uint64_t time_tsc(void);
/* TSC ticks as microseconds at the calibrated rate. */
uint64_t time_tsc_to_us(uint64_t ticks);
/*
 * The TSC read by the first instructions after the boot loader's hand-off
 * (boot.S): the earliest timestamp the firmware has.
 */
uint64_t time_entry_tsc(void);

/* A deadline is an absolute time_now_us() value; every wait loop uses one. */
static inline uint64_t deadline_after_us(uint64_t us)
{
	return time_now_us() + us;
}

static inline bool deadline_passed(uint64_t deadline)
{
	return time_now_us() >= deadline;
}

#endif
