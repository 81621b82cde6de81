/* Device interrupt vectors: allocation, dispatch, MSI messages. */
#include "irq.h"

#include "cpu.h"
#include "lapic.h"

#define IRQ_FIRST_VECTOR 0x30 /* above the remapped legacy PIC range */
#define IRQ_LAST_VECTOR 0xef

struct irq_slot {
	irq_handler_fn handler;
	void *ctx;
};

static struct irq_slot slots[IDT_VECTORS];

uint8_t irq_alloc_vector(irq_handler_fn handler, void *ctx)
{
	for (unsigned v = IRQ_FIRST_VECTOR; v <= IRQ_LAST_VECTOR; v++) {
		if (!slots[v].handler) {
			slots[v] = (struct irq_slot){ handler, ctx };
			return (uint8_t)v;
		}
	}
	return 0;
}

void irq_free_vector(uint8_t vector)
{
	slots[vector] = (struct irq_slot){ 0 };
}

uint64_t irq_msi_address(void)
{
	return MSI_ADDRESS_BASE | ((uint64_t)lapic_id() << MSI_ADDRESS_DEST_SHIFT);
}

uint32_t irq_msi_data(uint8_t vector)
{
	return vector; /* fixed delivery, edge triggered */
}

void irq_dispatch(uint8_t vector)
{
	if (vector == VECTOR_SPURIOUS)
		return; /* spurious interrupts take no EOI */
	/* EOI first: a handler may not return (the watchdog unwinds the test). */
	lapic_eoi();
	if (slots[vector].handler)
		slots[vector].handler(vector, slots[vector].ctx);
}
