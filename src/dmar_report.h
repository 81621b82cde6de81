/* Proof lines for the DMAR faults the parser tolerated (src/lib/dmar.c warnings). */
#ifndef PROOFBOOT_DMAR_REPORT_H
#define PROOFBOOT_DMAR_REPORT_H

#include "lib/dmar.h"

/* One `iommu: dmar warning` line per stored warning, then a count line if any. */
void dmar_report_warnings(const struct dmar_info *info);

#endif
