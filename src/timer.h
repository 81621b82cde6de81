/* Time from the TSC, calibrated at boot against the PIT (see time.c). */
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
/* False when the reference timer never answered and a default rate is in use. */
bool time_calibrated(void);
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
