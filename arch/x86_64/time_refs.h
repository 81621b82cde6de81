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

/*
 * 5 windows of 1 ms (5 ms a source).  The agreement rule (3 windows within
 * 2% of the median) needs far less than 1 ms of reference: the coarsest
 * reference, the PIT, ticks every 0.84 us (1193 ticks a window, 0.1%), and
 * each window starts on a tick edge with both ends read from the counter
 * and the TSC together, so the error is a few reads' latency (microseconds
 * under TCG, 0.5% at worst).  Longer windows only delayed the first test.
 */
#define TIME_REF_WINDOWS 5
#define TIME_REF_WINDOW_US 1000ull

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
