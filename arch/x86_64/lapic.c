#include "lapic.h"

#include "cpu.h"
#include "io.h"
#include "mmio.h"
#include "timer.h"

/*
 * How long the LAPIC timer is counted against the TSC to learn its rate.
 * The runner's tick only has to come about every period (the watchdog
 * compares TSC deadlines, the screen catches up): 1 ms of counting, timed
 * by the TSC between the two register accesses, is well under 1% off at
 * QEMU's 62.5 MHz (1 GHz / 16) or any real bus clock / 16.  It was 10 ms,
 * all of it spent before the first test.
 */
#define LAPIC_CALIBRATION_US 1000

static uint64_t lapic_base;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_base + reg);
}

static void lapic_write(uint32_t reg, uint32_t value)
{
	mmio_write32(lapic_base + reg, value);
}

void lapic_init(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	lapic_base = msr & APIC_BASE_ADDR_MASK;
	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	lapic_write(LAPIC_REG_SVR, LAPIC_SVR_ENABLE | VECTOR_SPURIOUS);
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_REG_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_REG_ID) >> LAPIC_ID_SHIFT;
}

/* Counts LAPIC timer ticks over a TSC-timed interval. */
static uint64_t lapic_timer_hz(void)
{
	lapic_write(LAPIC_REG_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_BY_16);
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INITIAL, UINT32_MAX);
	uint64_t start = time_tsc();

	time_delay_us(LAPIC_CALIBRATION_US);
	uint32_t elapsed = UINT32_MAX - lapic_read(LAPIC_REG_TIMER_CURRENT);
	uint64_t us = time_tsc_to_us(time_tsc() - start);

	lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
	return us ? (uint64_t)elapsed * US_PER_S / us : 0;
}

void lapic_start_tick(uint8_t vector, uint64_t period_us)
{
	uint64_t count = lapic_timer_hz() * period_us / US_PER_S;

	if (count == 0)
		count = 1;
	if (count > UINT32_MAX)
		count = UINT32_MAX;
	lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | vector);
	lapic_write(LAPIC_REG_TIMER_INITIAL, (uint32_t)count);
}
