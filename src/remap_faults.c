/* Fault intake of the remapping core: interrupt inbox plus poll; see remap_faults.h. */
#include "remap_faults.h"

#include "io.h"
#include "irq.h"
#include "dmar.h"

#include <stdio.h>

#define INBOX_FAULTS 16
#define REASON_MAX 120

struct fault_inbox {
	const struct remap_unit_ops *drv;
	struct remap_unit *unit;
	bool routed;
	uint8_t vector;
	uint64_t interrupts;
	unsigned count;      /* faults waiting in `faults` */
	unsigned overflow;   /* faults taken from the unit with no room left here */
	struct iommu_fault faults[INBOX_FAULTS];
};

static struct fault_inbox inboxes[DMAR_MAX_UNITS];

static struct fault_inbox *inbox_of(const struct remap_unit *u)
{
	return u->index < DMAR_MAX_UNITS ? &inboxes[u->index] : NULL;
}

static bool same_fault(const struct iommu_fault *a, const struct iommu_fault *b)
{
	return a->record == b->record && a->sid == b->sid && a->addr == b->addr &&
	       a->reason == b->reason && a->access == b->access;
}

static bool in_inbox(const struct fault_inbox *in, const struct iommu_fault *f)
{
	for (unsigned i = 0; i < in->count; i++)
		if (same_fault(&in->faults[i], f))
			return true;
	return false;
}

/* Runs with interrupts off: notes the unit's pending records, leaving them set. */
static void fault_interrupt(uint8_t vector, void *ctx)
{
	struct fault_inbox *in = ctx;
	struct iommu_fault got[INBOX_FAULTS];
	unsigned n = in->drv->faults_read(in->unit, got, INBOX_FAULTS);

	(void)vector;
	in->interrupts++;
	for (unsigned i = 0; i < n && i < INBOX_FAULTS; i++) {
		if (in_inbox(in, &got[i]))
			continue;
		if (in->count == INBOX_FAULTS) {
			in->overflow++;
			continue;
		}
		in->faults[in->count++] = got[i];
	}
}

void remap_faults_route(const struct remap_unit_ops *drv, struct remap_unit *u)
{
	struct fault_inbox *in = inbox_of(u);
	char reason[REASON_MAX];

	if (!in || in->routed || !drv->fault_irq_route || !drv->faults_read)
		return;
	*in = (struct fault_inbox){ .drv = drv, .unit = u };
	in->vector = irq_alloc_vector(fault_interrupt, in);
	if (!in->vector)
		return; /* no vector left: the poll alone takes this unit's faults */
	if (!drv->fault_irq_route(u, irq_msi_address(), irq_msi_data(in->vector), reason,
				  sizeof(reason))) {
		irq_free_vector(in->vector);
		in->vector = 0;
		return;
	}
	in->routed = true;
}

unsigned remap_faults_take(const struct remap_unit_ops *drv, struct remap_unit *u,
			   struct iommu_fault *out, unsigned max)
{
	struct fault_inbox *in = inbox_of(u);
	/* The handler must not run between the poll and emptying the inbox. */
	uint64_t flags = irq_save();
	unsigned n = drv->faults_collect(u, out, max);

	for (unsigned i = 0; i < n && i < max; i++)
		out[i].path = in && in->routed && in_inbox(in, &out[i]) ? REMAP_FAULT_INTERRUPT
								       : REMAP_FAULT_POLL;
	if (in) {
		in->count = 0;
		in->overflow = 0;
	}
	irq_restore(flags);
	return n;
}

uint64_t remap_faults_interrupts(const struct remap_unit *u)
{
	const struct fault_inbox *in = inbox_of(u);

	return in && in->routed ? in->interrupts : 0;
}
