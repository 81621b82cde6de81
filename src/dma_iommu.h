/*
 * The VT-d remapping DMA backend (behind src/dma.h).  Each device gets its
 * own domain whose IOVAs live in a window far from physical memory (1 TiB
 * with 4-level tables, 256 GiB with 3-level), so a device that used a
 * physical address would fault instead of hitting RAM.  Only what the
 * driver hands out is mapped: queues, PRP lists and data buffers; unmap
 * invalidates the IOTLB before returning.
 *
 * Test hooks (used by src/tests_iommu.c) let a test send the next
 * streaming transfer to an IOVA that is deliberately not mapped, and
 * declare the fault it expects, so `check` does not count it as stray.
 */
#ifndef PROOFBOOT_DMA_IOMMU_H
#define PROOFBOOT_DMA_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "dma.h"
#include "vtd.h"

#define DMA_IOMMU_WINDOW_4LEVEL (1ull << 40) /* 1 TiB: needs 41-bit IOVAs */
#define DMA_IOMMU_WINDOW_3LEVEL (1ull << 38) /* 256 GiB: fits 39-bit tables */
#define DMA_IOMMU_WINDOW_BYTES (64u << 20)

extern const struct dma_backend_ops dma_iommu_ops;

/* Registers the backend and its self-test with dma.c; call once before dma_select_backend. */
void dma_iommu_register(void);

struct dma_iommu_info {
	struct vtd_unit *unit;
	uint16_t domain_id;
	unsigned levels;
	uint16_t sid;
	uint64_t window_base;
	uint64_t window_size;
	uint64_t canary_phys;     /* a page the device must never reach */
	uint64_t last_map_iova;   /* page IOVA of the latest streaming map */
	uint64_t last_map_phys;   /* and the physical page behind it */
	uint64_t maps, unmaps;    /* streaming and coherent, since attach */
	uint64_t stray_faults;    /* faults nobody expected */
};

/* False when d is not attached to this backend. */
bool dma_iommu_info(struct dma_device *d, struct dma_iommu_info *out);

/* The canary page (CPU pointer) and whether it still holds its pattern. */
bool dma_iommu_canary_intact(struct dma_device *d);

/*
 * The next streaming map hands the device `iova` (plus the buffer's page
 * offset) without mapping anything: a deliberately blocked transfer.
 */
void dma_iommu_redirect_next_map(struct dma_device *d, uint64_t iova);

/* Declares that a fault at this page IOVA is the test's doing, not a stray one. */
void dma_iommu_expect_fault(struct dma_device *d, uint64_t iova);

/* The expected fault, once `check` has collected it; false if none arrived. */
bool dma_iommu_take_expected_fault(struct dma_device *d, struct vtd_fault *out);

/* Reads and clears whatever faults are pending now (through check's bookkeeping). */
bool dma_iommu_collect_faults(struct dma_device *d, char *reason, size_t cap);

/* The domain a device is attached to (NULL when not on this backend). */
const struct vtd_domain *dma_iommu_domain(struct dma_device *d);

/*
 * Turns translation off on every unit.  Needed before a device that used
 * this backend is given bounce buffers in the same boot: with translation
 * on, its DMA to the bounce pool would be blocked.  (Attaching to this
 * backend again turns translation back on.)
 */
void dma_iommu_stand_down(void);

/* The self-test result behind the selection policy (runs it on first call). */
bool dma_iommu_verified(const char **reason);

#endif
