/*
 * Time base: the TSC, calibrated once against PIT channel 2, whose input
 * clock is fixed at 1.193182 MHz on every PC-compatible (and in QEMU).
 */
#include "timer.h"

#include "io.h"
#include "proof.h"

#include <stdlib.h>

#define PIT_HZ 1193182ull
#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43
#define PIT_CH2_LOHI_MODE0 0xb0 /* channel 2, lo/hi byte, interrupt on terminal count */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

/*
 * Several short windows, keeping the shortest: the loop can only notice the
 * PIT's output late (the CPU was busy or, under an emulator on a loaded
 * host, descheduled), never early, so every error makes a window longer.
 * One window was seen to come out 12x too long, which made every timeout
 * and duration wrong by as much.  The spread is reported so a reader can
 * judge the noise.
 */
#define CALIBRATION_US 5000ull
#define CALIBRATION_WINDOWS 5
#define PPM 1000000ull
/* A PIT that never counts down (absent) must not hang the boot. */
#define CALIBRATION_SPIN_LIMIT 100000000ull
/* Used, and labelled as such, only when the PIT does not respond. */
#define FALLBACK_TSC_HZ 1000000000ull

static uint64_t tsc_hz = FALLBACK_TSC_HZ;
static uint64_t tsc_at_init;
static bool calibrated;

/* TSC ticks while the PIT counts `pit_ticks`; 0 if the PIT never fires. */
static uint64_t measure_tsc_over_pit(uint16_t pit_ticks)
{
	uint8_t port_b = inb(PORT_B);

	outb(PORT_B, (port_b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2);
	outb(PIT_MODE_CMD, PIT_CH2_LOHI_MODE0);
	outb(PIT_CH2_DATA, pit_ticks & 0xff);
	outb(PIT_CH2_DATA, pit_ticks >> 8);
	outb(PORT_B, (port_b & ~PORT_B_SPEAKER) | PORT_B_GATE2);

	uint64_t start = rdtsc();
	for (uint64_t spin = 0; spin < CALIBRATION_SPIN_LIMIT; spin++)
		if (inb(PORT_B) & PORT_B_OUT2)
			return rdtsc() - start;
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void time_init(void)
{
	const uint16_t pit_ticks = (uint16_t)(PIT_HZ * CALIBRATION_US / US_PER_S);
	uint64_t deltas[CALIBRATION_WINDOWS];
	struct proof p;

	for (unsigned i = 0; i < CALIBRATION_WINDOWS; i++)
		deltas[i] = measure_tsc_over_pit(pit_ticks);
	tsc_at_init = rdtsc();
	qsort(deltas, CALIBRATION_WINDOWS, sizeof(deltas[0]), compare_u64);
	uint64_t shortest = deltas[0];
	if (shortest == 0) {
		proof_begin(&p, "time", "calibration failed");
		proof_str(&p, "reason", "pit-channel2-never-fired");
		proof_u64(&p, "assumed_tsc_hz", FALLBACK_TSC_HZ);
		proof_emit(&p);
		return;
	}
	tsc_hz = shortest * PIT_HZ / pit_ticks;
	calibrated = true;
	proof_begin(&p, "time", "calibrated");
	proof_str(&p, "source", "pit");
	proof_u64(&p, "tsc_hz", tsc_hz);
	proof_u64(&p, "window_us", CALIBRATION_US);
	proof_u64(&p, "windows", CALIBRATION_WINDOWS);
	proof_u64(&p, "spread_ppm", (deltas[CALIBRATION_WINDOWS - 1] - shortest) * PPM / shortest);
	proof_emit(&p);
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
