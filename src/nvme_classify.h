/*
 * What kind of NVMe device this is (QEMU, AWS Nitro/EBS, ...), from PCI ids
 * and the model number; the pure rules live in src/lib/cloud_shape.c.
 */
#ifndef PROOFBOOT_NVME_CLASSIFY_H
#define PROOFBOOT_NVME_CLASSIFY_H

#include "nvme.h"

/* Prints `nvme: cloud shape classification` (and the EBS line on EBS volumes). */
void nvme_report_classification(struct nvme_ctrl *c);

#endif
