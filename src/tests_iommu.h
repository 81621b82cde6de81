/*
 * Remapping tests (rows for src/tests.c, group "iommu") and the verifier the
 * remapping core's selection policy calls (tests_iommu_verify, registered
 * in main.c with remap_set_verifier).  The translation test uses the first
 * NVMe controller through the remapping backend, whichever unit driver is
 * in use; iommu.faults.none covers every controller.  The isolation proofs,
 * on every controller, are in tests_isolation.h.  Under dma=auto a machine
 * without a usable IOMMU SKIPs them with the failed condition named; under
 * dma=iommu that is a FAIL; under dma=bounce they SKIP.
 */
#ifndef PROOFBOOT_TESTS_IOMMU_H
#define PROOFBOOT_TESTS_IOMMU_H

#include "dma.h"
#include "test.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The remapping self-test behind dma=auto (a remap_verify_fn): every NVMe
 * controller is covered by a unit, the first comes up through remapped
 * IOVAs, Identify's ids equal PCI config space's, and no fault was
 * recorded; prints `iommu: self-test passed|failed`.  The controller is
 * shut down afterwards.
 */
bool tests_iommu_verify(const struct dma_backend_ops *ops, char *why, size_t cap);

/* DMAR found and parsed; every unit's registers read. */
enum test_status test_iommu_units(struct test_ctx *ctx);
/* The selection self-test: remapped bring-up, Identify data checked, no fault. */
enum test_status test_iommu_selftest(struct test_ctx *ctx);
/* A read lands through a non-identity IOVA; the physical address is not a valid IOVA. */
enum test_status test_iommu_translate(struct test_ctx *ctx);
/* No fault that a test did not cause, on any controller that had a domain (runs last). */
enum test_status test_iommu_no_stray_faults(struct test_ctx *ctx);

#endif
