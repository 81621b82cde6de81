/*
 * The AMD-Vi unit driver (struct remap_unit_ops, src/remap_unit.h):
 * discovery from the IVRS table only, one device table per IOMMU (every
 * requester id blocked until attached), host page tables, a command buffer
 * (INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOMMU_PAGES, each batch closed by a
 * COMPLETION_WAIT whose store is polled with a bound), the event log read
 * into neutral faults, enable/disable.  Table and command formats are built
 * by src/lib/amdvi_pt.c and src/lib/amdvi_cmd.c; register names are in
 * src/lib/amdvi_regs.h; the IVRS parser is src/lib/ivrs.c.
 *
 * Every wait is bounded by AMDVI_WAIT_US.  Proof lines: `iommu: ivrs`,
 * `iommu: ivhd`, `iommu: dte`, `iommu: amd-vi enabled|disabled`, `iommu:
 * unavailable` (docs/proof-lines.md).
 */
#ifndef PROOFBOOT_AMDVI_H
#define PROOFBOOT_AMDVI_H

#include "ivrs.h"
#include "remap_unit.h"

/* The AMD-Vi unit driver behind the remapping core (src/dma_remap.c). */
extern const struct remap_unit_ops amdvi_unit_ops;

/* The parsed IVRS table (valid once amdvi_unit_ops.discover succeeded). */
const struct ivrs_info *amdvi_ivrs(void);

#endif
