/*
 * The Intel VT-d unit driver (struct remap_unit_ops, src/remap_unit.h):
 * discovery from the DMAR table only, root and context tables (page-walk,
 * pass-through and cleared entries), translation enable/disable,
 * register-based invalidation (never queued), and fault-record reading.
 * Page tables are built by src/lib/vtd_pt.c; register names are in
 * src/lib/vtd_regs.h.
 *
 * Every status wait is bounded by VTD_WAIT_US.  Proof lines: `iommu: ...`
 * (docs/proof-lines.md).
 */
#ifndef PROOFBOOT_VTD_H
#define PROOFBOOT_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmar.h"
#include "pci_cfg.h"
#include "remap_unit.h"
#include "vtd_pt.h"

/* The VT-d unit driver behind the remapping core (src/dma_remap.c). */
extern const struct remap_unit_ops vtd_unit_ops;

/* The parsed DMAR table (valid once vtd_unit_ops.discover succeeded). */
const struct dmar_info *vtd_dmar(void);

#endif
