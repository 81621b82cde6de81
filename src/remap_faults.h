/*
 * Fault intake of the remapping core: the two ways a unit's fault records
 * reach the core, merged.
 *
 *  - Interrupt: once a unit translates, its fault events are routed to a CPU
 *    vector (remap_faults_route: the unit driver's fault_irq_route with this
 *    CPU's MSI address and data).  The handler reads the unit's records
 *    (without clearing them) into a per-unit inbox: the fault is taken on
 *    its interrupt.  The records stay set until the poll clears them, as
 *    they would without the interrupt: a device that retries a blocked
 *    transfer meanwhile adds no second record (VT-d drops further faults of
 *    a requester while its record is pending).
 *  - Poll: remap_faults_take() reads and clears the unit's records with
 *    interrupts off, as a cross-check: each polled record the inbox already
 *    holds was seen by the interrupt first; one it does not hold (no
 *    vector, event masked, interrupt not yet taken) was seen by the poll.
 *
 * Each fault carries the path that took it out of the unit first
 * (iommu_fault.path), printed as `seen_by=` on `iommu: fault recorded`.
 */
#ifndef PROOFBOOT_REMAP_FAULTS_H
#define PROOFBOOT_REMAP_FAULTS_H

#include "remap_unit.h"

/* Routes the unit's fault events to a vector, once per unit; failures leave it polled. */
void remap_faults_route(const struct remap_unit_ops *drv, struct remap_unit *u);

/*
 * Every fault the unit recorded since the last call: the interrupt inbox
 * first, then a poll of the unit.  Returns how many there were (up to max
 * copied to out), counting faults the inbox had no room for.
 */
unsigned remap_faults_take(const struct remap_unit_ops *drv, struct remap_unit *u,
			   struct iommu_fault *out, unsigned max);

/* Fault interrupts taken for the unit so far (0 when its events are not routed). */
uint64_t remap_faults_interrupts(const struct remap_unit *u);

#endif
