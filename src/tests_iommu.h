/*
 * VT-d remapping tests (rows for src/tests.c, group "iommu").  They use the
 * first NVMe controller through the remapping backend.  Under dma=auto a
 * machine without a usable IOMMU SKIPs them with the failed condition
 * named; under dma=iommu that is a FAIL; under dma=bounce they SKIP.
 *
 * A blocked transfer still completes with NVMe status SUCCESS in QEMU 7.2,
 * so the isolation proofs rest on the recorded fault and untouched memory,
 * never on the NVMe status.
 */
#ifndef PROOFBOOT_TESTS_IOMMU_H
#define PROOFBOOT_TESTS_IOMMU_H

#include "test.h"

/* DMAR found and parsed; every unit's registers read. */
enum test_status test_iommu_units(struct test_ctx *ctx);
/* The selection self-test: remapped bring-up, Identify data checked, no fault. */
enum test_status test_iommu_selftest(struct test_ctx *ctx);
/* A read lands through a non-identity IOVA; the physical address is not a valid IOVA. */
enum test_status test_iommu_translate(struct test_ctx *ctx);
/* DMA to an unmapped IOVA equal to a canary page's address: fault, canary intact. */
enum test_status test_iommu_blocked(struct test_ctx *ctx);
/* After unmap (+ IOTLB invalidation) the old IOVA faults and the old page stays untouched. */
enum test_status test_iommu_revoke(struct test_ctx *ctx);
/* No fault was recorded that a test did not cause (run last). */
enum test_status test_iommu_no_stray_faults(struct test_ctx *ctx);

#endif
