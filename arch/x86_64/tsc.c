/*
 * Time base: the TSC, its rate taken from the most direct trustworthy
 * source: CPUID leaf 15h/16h where the CPU states it (checked against a
 * measured reference when there is one), else measured against the HPET,
 * the ACPI PM timer or the PIT, in that order.  A rate outside plausible
 * bounds, or from windows that disagree, is rejected and the next source
 * tried.  Without any, the highest plausible rate is assumed, so timeouts
 * and delays can only last longer than asked (src/lib/time_cal.h).
 */
#include "timer.h"

#include "cpu.h"
#include "io.h"
#include "proof.h"
#include "time_cal.h"
#include "time_refs.h"


static uint64_t tsc_hz = TIME_TSC_HZ_CONSERVATIVE;
static uint64_t tsc_at_init;
static bool calibrated;
static const char *source_name = "none";

struct cpuid_attempt {
	enum time_cpuid_result result;
	uint64_t hz;
	const char *reason;
	bool accepted;
};

static void read_cpuid_leaves(struct time_cpuid_tsc *in)
{
	uint32_t unused;

	*in = (struct time_cpuid_tsc){ 0 };
	cpuid(CPUID_LEAF_MAX, 0, &in->max_leaf, &unused, &unused, &unused);
	if (in->max_leaf >= CPUID_LEAF_TSC)
		cpuid(CPUID_LEAF_TSC, 0, &in->denominator, &in->numerator, &in->crystal_hz, &unused);
	if (in->max_leaf >= CPUID_LEAF_FREQ)
		cpuid(CPUID_LEAF_FREQ, 0, &in->base_mhz, &unused, &unused, &unused);
}

/* A stated rate a measurement contradicts is a lie (an emulator's, or a wrong leaf). */
static void judge_cpuid(struct cpuid_attempt *a, const struct time_measurement *measured)
{
	struct time_cpuid_tsc in;

	read_cpuid_leaves(&in);
	a->hz = time_cpuid_tsc_hz(&in, &a->result);
	a->accepted = false;
	if (a->hz == 0)
		a->reason = time_cpuid_result_name(a->result);
	else if ((a->reason = time_implausible(a->hz)) != NULL)
		;
	else if (measured && time_disagreement_ppm(a->hz, measured->tsc_hz) > TIME_CPUID_AGREE_PPM)
		a->reason = "disagrees-with-measured-rate";
	else {
		a->reason = "ok";
		a->accepted = true;
	}
}

static void report_cpuid(const struct cpuid_attempt *a)
{
	struct proof p;

	proof_begin(&p, "time", "source");
	proof_str(&p, "name", "cpuid");
	proof_bool(&p, "accepted", a->accepted);
	proof_u64(&p, "tsc_hz", a->hz);
	proof_str(&p, "reason", a->reason);
	proof_str(&p, "cpuid", time_cpuid_result_name(a->result));
	proof_emit(&p);
}

static void report_measurement(const struct time_measurement *m)
{
	struct proof p;

	proof_begin(&p, "time", "source");
	proof_str(&p, "name", m->name);
	proof_bool(&p, "accepted", m->accepted);
	proof_u64(&p, "tsc_hz", m->tsc_hz);
	proof_str(&p, "reason", m->reason);
	if (m->available) {
		proof_u64(&p, "window_us", TIME_REF_WINDOW_US);
		proof_u64(&p, "windows", TIME_REF_WINDOWS);
		proof_u64(&p, "spread_ppm", m->spread_ppm);
		proof_u64(&p, "agreeing", m->agreeing);
	}
	proof_emit(&p);
}

static void report_result(const struct time_measurement *winner_measured)
{
	struct proof p;

	if (!calibrated) {
		proof_begin(&p, "time", "calibration failed");
		proof_str(&p, "reason", "no-trustworthy-source");
		proof_u64(&p, "assumed_tsc_hz", tsc_hz);
		proof_emit(&p);
		return;
	}
	proof_begin(&p, "time", "calibrated");
	proof_str(&p, "source", source_name);
	proof_u64(&p, "tsc_hz", tsc_hz);
	if (winner_measured) {
		proof_u64(&p, "window_us", TIME_REF_WINDOW_US);
		proof_u64(&p, "windows", TIME_REF_WINDOWS);
		proof_u64(&p, "spread_ppm", winner_measured->spread_ppm);
	}
	proof_emit(&p);
}

void time_init(void)
{
	static void (*const measures[])(struct time_measurement *) = {
		time_measure_hpet, time_measure_pm_timer, time_measure_pit,
	};
	struct time_measurement tried[sizeof(measures) / sizeof(measures[0])];
	const struct time_measurement *measured = NULL;
	unsigned n = 0;
	struct cpuid_attempt cpuid_try;

	/* Measured references in order until one is trusted: CPUID is checked against it. */
	while (n < sizeof(measures) / sizeof(measures[0]) && !measured) {
		measures[n](&tried[n]);
		if (tried[n].accepted)
			measured = &tried[n];
		n++;
	}
	judge_cpuid(&cpuid_try, measured);
	tsc_at_init = rdtsc();
	report_cpuid(&cpuid_try);
	for (unsigned i = 0; i < n; i++)
		report_measurement(&tried[i]);
	if (cpuid_try.accepted) {
		tsc_hz = cpuid_try.hz;
		source_name = "cpuid";
		measured = NULL;
	} else if (measured) {
		tsc_hz = measured->tsc_hz;
		source_name = measured->name;
	}
	calibrated = cpuid_try.accepted || measured;
	report_result(measured);
}

const char *time_source(void)
{
	return source_name;
}

bool time_calibrated(void)
{
	return calibrated;
}

uint64_t time_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t time_tsc_to_us(uint64_t ticks)
{
	/* Split to avoid overflowing ticks * 10^6 after a few hours. */
	return ticks / tsc_hz * US_PER_S + ticks % tsc_hz * US_PER_S / tsc_hz;
}

uint64_t time_now_us(void)
{
	return time_tsc_to_us(rdtsc() - tsc_at_init);
}

uint64_t time_tsc(void)
{
	return rdtsc();
}

extern uint64_t boot_entry_tsc; /* written by boot.S */

uint64_t time_entry_tsc(void)
{
	return boot_entry_tsc;
}

void time_delay_us(uint64_t us)
{
	uint64_t deadline = deadline_after_us(us);

	while (!deadline_passed(deadline))
		cpu_pause();
}
