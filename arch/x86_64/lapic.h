/* Local APIC: EOI, the periodic tick behind per-test timeouts, MSI target. */
#ifndef PROOFBOOT_LAPIC_H
#define PROOFBOOT_LAPIC_H

#include <stdint.h>

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xffffffffff000ull

#define LAPIC_REG_ID 0x20
#define LAPIC_REG_EOI 0xb0
#define LAPIC_REG_SVR 0xf0
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3e0

#define LAPIC_ID_SHIFT 24
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_TIMER_PERIODIC (1u << 17)
#define LAPIC_TIMER_DIVIDE_BY_16 0x3

/* MSI address/data format (Intel SDM 10.11). */
#define MSI_ADDRESS_BASE 0xfee00000u
#define MSI_ADDRESS_DEST_SHIFT 12

void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
/* Starts a periodic tick on `vector` every `period_us` (after time_init). */
void lapic_start_tick(uint8_t vector, uint64_t period_us);

#endif
