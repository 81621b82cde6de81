/*
 * Reference clocks the TSC is calibrated against, each measured the same
 * way: several windows of a known reference duration, each giving a TSC
 * rate, judged by src/lib/time_cal.c.  HPET and the ACPI PM timer are
 * free-running counters read at both ends of a window; the PIT (channel 2,
 * one-shot) only says when its window ended.
 */
#ifndef PROOFBOOT_TIME_REFS_H
#define PROOFBOOT_TIME_REFS_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_REF_WINDOWS 5
#define TIME_REF_WINDOW_US 5000ull

struct time_measurement {
	const char *name;     /* "hpet", "pm-timer", "pit" */
	bool available;       /* the reference was found and counts */
	const char *reason;   /* why not available, or why rejected; "ok" when accepted */
	uint64_t tsc_hz;      /* the judged rate (0 when not available) */
	uint64_t spread_ppm;
	unsigned agreeing;    /* windows within TIME_WINDOW_AGREE_PPM of the median */
	bool accepted;
};

/* Each fills *m: found or not, the windows' median rate, and the judgement. */
void time_measure_hpet(struct time_measurement *m);
void time_measure_pm_timer(struct time_measurement *m);
void time_measure_pit(struct time_measurement *m);

#endif
