/*
 * Interrupt vectors for devices (MSI/MSI-X and INTx through the IOAPIC).
 * Handlers run with interrupts off and must not use SSE-heavy library calls
 * that are unsafe in interrupt context (printf is fine: the stub saves the
 * FPU/SSE state).
 */
#ifndef PROOFBOOT_IRQ_H
#define PROOFBOOT_IRQ_H

#include <stdint.h>

typedef void (*irq_handler_fn)(uint8_t vector, void *ctx);

/* Returns a free vector with `handler` installed, or 0 when none is left. */
uint8_t irq_alloc_vector(irq_handler_fn handler, void *ctx);
void irq_free_vector(uint8_t vector);

/* MSI/MSI-X message for `vector` delivered to this CPU (fixed, edge). */
uint64_t irq_msi_address(void);
uint32_t irq_msi_data(uint8_t vector);

#endif
