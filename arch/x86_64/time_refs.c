/* HPET, ACPI PM timer and PIT as TSC references; see time_refs.h. */
#include "time_refs.h"

#include "acpi.h"
#include "acpi_hpet.h"
#include "acpi_pmtimer.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"
#include "time_cal.h"
#include "time_units.h"

/*
 * A counter that stops (or never starts) must not hang the boot: a window
 * gives up once the TSC has run for 4x the window at the highest plausible
 * rate, a bound that needs no trusted clock.
 */
#define WINDOW_GIVE_UP_TSC (TIME_REF_WINDOW_US * TIME_TSC_HZ_MAX / US_PER_S * 4)

/* --------------------------------------------------- free-running counters */

struct counter {
	uint64_t (*read)(const struct counter *c);
	uint64_t address;
	unsigned bits;
	uint64_t hz;
};

/*
 * TSC rate over one window; 0 if the counter did not advance far enough in
 * time.  The counter is always checked before giving up, so a descheduled
 * vCPU (both clocks jumped) still completes its window.
 */
static uint64_t counter_window(const struct counter *c)
{
	uint64_t want = c->hz * TIME_REF_WINDOW_US / US_PER_S;
	uint64_t first = c->read(c), start, now, tsc_start = rdtsc(), tsc_now;

	/* Start on a tick edge, so the window's reference length is exact to one tick. */
	for (;;) {
		start = c->read(c);
		tsc_now = rdtsc();
		if (start != first)
			break;
		if (tsc_now - tsc_start > WINDOW_GIVE_UP_TSC)
			return 0;
	}
	tsc_start = tsc_now;
	for (;;) {
		now = c->read(c);
		tsc_now = rdtsc();
		if (time_counter_delta(start, now, c->bits) >= want)
			break;
		if (tsc_now - tsc_start > WINDOW_GIVE_UP_TSC)
			return 0;
	}
	return time_rate_hz(tsc_now - tsc_start, time_counter_delta(start, now, c->bits), c->hz);
}

static void judge(struct time_measurement *m, uint64_t *rates, unsigned n)
{
	m->available = true;
	m->tsc_hz = time_median_hz(rates, n, &m->spread_ppm);
	m->agreeing = time_windows_agreeing(rates, n, m->tsc_hz);
	m->reason = time_implausible(m->tsc_hz);
	if (!m->reason && m->agreeing < TIME_WINDOWS_AGREEING_MIN)
		m->reason = "windows-disagree";
	m->accepted = m->reason == NULL;
	if (m->accepted)
		m->reason = "ok";
}

static void measure_counter(struct time_measurement *m, const struct counter *c)
{
	uint64_t rates[TIME_REF_WINDOWS];

	for (unsigned i = 0; i < TIME_REF_WINDOWS; i++) {
		rates[i] = counter_window(c);
		if (rates[i] == 0) {
			m->reason = "counter-not-counting"; /* one stuck window is enough: do not wait 5 times */
			return;
		}
	}
	judge(m, rates, TIME_REF_WINDOWS);
}

/* ------------------------------------------------------------------ HPET */

static uint64_t hpet_read(const struct counter *c)
{
	if (c->bits == 64)
		return mmio_read64(c->address + HPET_REG_MAIN_COUNTER);
	return mmio_read32(c->address + HPET_REG_MAIN_COUNTER);
}

/* Finds and starts the HPET's main counter; NULL, or why it cannot be used. */
static const char *open_hpet(struct counter *c)
{
	size_t len;
	const void *table = acpi_find_table("HPET", 0, &len);
	struct acpi_hpet_info info;
	enum acpi_hpet_status st = table ? acpi_hpet_parse(table, len, &info) : ACPI_HPET_OK;

	if (!table)
		return "no-hpet-table";
	if (st != ACPI_HPET_OK)
		return acpi_hpet_status_name(st);
	if (!paging_map_mmio(info.base, HPET_BLOCK_BYTES))
		return "hpet-map-failed";
	uint64_t gcap = mmio_read64(info.base + HPET_REG_GCAP_ID);
	*c = (struct counter){ hpet_read, info.base, hpet_counter_bits(gcap), hpet_counter_hz(gcap) };
	if (c->hz == 0)
		return "hpet-period-invalid";
	/* The main counter only runs while ENABLE_CNF is set; firmware may leave it off. */
	uint64_t conf = mmio_read64(info.base + HPET_REG_GEN_CONF);
	if (!(conf & HPET_GEN_CONF_ENABLE))
		mmio_write64(info.base + HPET_REG_GEN_CONF, conf | HPET_GEN_CONF_ENABLE);
	return NULL;
}

void time_measure_hpet(struct time_measurement *m)
{
	struct counter c;

	*m = (struct time_measurement){ .name = "hpet", .reason = open_hpet(&c) };
	if (!m->reason)
		measure_counter(m, &c);
}

/* -------------------------------------------------------------- PM timer */

static uint64_t pm_timer_read(const struct counter *c)
{
	uint32_t mask = c->bits == PM_TIMER_BITS_EXT ? UINT32_MAX : (1u << PM_TIMER_BITS_SHORT) - 1;

	if (c->address <= PM_TIMER_IO_PORT_MAX)
		return inl((uint16_t)c->address) & mask;
	return mmio_read32(c->address) & mask;
}

/* Finds the PM timer from the FADT; NULL, or why it cannot be used. */
static const char *open_pm_timer(struct counter *c)
{
	size_t len;
	const void *fadt = acpi_find_table("FACP", 0, &len);
	struct acpi_pmtimer_info info;
	enum acpi_pmtimer_status st = fadt ? acpi_pmtimer_parse(fadt, len, &info) : ACPI_PMTIMER_OK;

	if (!fadt)
		return "no-fadt";
	if (st != ACPI_PMTIMER_OK)
		return acpi_pmtimer_status_name(st);
	/* Memory-space timers below 64 KiB do not exist; keep the I/O/memory choice unambiguous. */
	if (!info.io && (info.address <= PM_TIMER_IO_PORT_MAX ||
			 !paging_map_mmio(info.address, PM_TIMER_LEN)))
		return "pm-timer-map-failed";
	*c = (struct counter){ pm_timer_read, info.address, info.bits, PM_TIMER_HZ };
	return NULL;
}

void time_measure_pm_timer(struct time_measurement *m)
{
	struct counter c;

	*m = (struct time_measurement){ .name = "pm-timer", .reason = open_pm_timer(&c) };
	if (!m->reason)
		measure_counter(m, &c);
}

/* ------------------------------------------------------------------ PIT */

/* The PIT's input clock is fixed at 1.193182 MHz on every PC-compatible (and in QEMU). */
#define PIT_HZ 1193182ull
#define PIT_BITS 16
#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43
#define PIT_CH2_LOHI_MODE2 0xb4 /* channel 2, lo/hi byte, rate generator, binary */
#define PIT_CH2_LATCH 0x80      /* channel 2 counter latch command */
#define PIT_RELOAD_MAX 0        /* 0 means 65536: the longest period, 54.9 ms */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02

/* Channel 2 counts down; as an up-counter the generic window code can use it. */
static uint64_t pit_read(const struct counter *c)
{
	(void)c;
	outb(PIT_MODE_CMD, PIT_CH2_LATCH);
	uint16_t lo = inb(PIT_CH2_DATA);
	uint16_t count = (uint16_t)(lo | (uint16_t)inb(PIT_CH2_DATA) << 8);

	return (uint16_t)(0u - count);
}

/*
 * Channel 2 (the one software may gate; channel 0 belongs to the timer
 * interrupt) runs free as a rate generator over its full 16 bits and is
 * read back through the latch command at both ends of each window, like
 * HPET and the PM timer.  Polling OUT2 for the end of a one-shot count, as
 * before, only gave a lower bound (under QEMU's TCG on a loaded host most
 * windows came out 1.5-3x long).  A window longer than one period (54.9 ms:
 * the vCPU descheduled that long) aliases; the median of the windows and
 * their agreement reject it.  Without a PIT (pit=off, boards that gate the
 * 8254) the count never moves: "counter-not-counting".
 */
void time_measure_pit(struct time_measurement *m)
{
	struct counter c = { pit_read, 0, PIT_BITS, PIT_HZ };
	uint8_t port_b = inb(PORT_B);

	*m = (struct time_measurement){ .name = "pit" };
	outb(PORT_B, (port_b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2);
	outb(PIT_MODE_CMD, PIT_CH2_LOHI_MODE2);
	outb(PIT_CH2_DATA, PIT_RELOAD_MAX);
	outb(PIT_CH2_DATA, PIT_RELOAD_MAX);
	outb(PORT_B, (port_b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	measure_counter(m, &c);
	outb(PORT_B, port_b);
}
