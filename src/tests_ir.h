/*
 * Interrupt-remapping proofs (rows for src/tests.c, group "iommu"), on every
 * NVMe controller whose unit can remap interrupts (VT-d: ECAP.IR).  The
 * test builds the interrupt remapping table itself (src/lib/vtd_ir.h) before
 * turning remapping on, and never changes an entry while it is on (the
 * driver has no interrupt-entry-cache flush without queued invalidation):
 * the controller's I/O-queue MSI-X entry is pointed at different entries
 * instead.  Remapping is turned off again at the end of each proof.
 *
 * Table used for each controller:
 *   0: present, a fresh vector V, this CPU, source-id check = the controller
 *   1: not present
 *   2: present, vector V, source-id check = another requester id
 */
#ifndef PROOFBOOT_TESTS_IR_H
#define PROOFBOOT_TESTS_IR_H

#include "test.h"

/* The completion interrupt arrives with the entry's vector, not the MSI data's. */
enum test_status test_ir_remapped(struct test_ctx *ctx);
/* Not-present and source-id-mismatch entries deliver nothing; restored, it works again. */
enum test_status test_ir_blocked(struct test_ctx *ctx);

#endif
