/*
 * The remapping DMA backend (behind src/dma.h): the device-neutral core
 * that hands devices IOVAs through an IOMMU.  It knows no device driver and
 * no IOMMU kind: units are driven through `struct remap_unit_ops`
 * (src/remap_unit.h), one driver per kind (VT-d: src/vtd.c).
 *
 * Per device (a dma_device attached to this backend):
 *  - its own domain and page tables on the unit that covers it; every DMA
 *    alias of the device (src/lib/dma_alias.h: PCIe-to-PCI and conventional
 *    bridges) is attached to the same domain, and a fault arriving with an
 *    alias is attributed to the device.  Devices that share a requester id
 *    (two behind one PCIe-to-PCI bridge) share one domain, each with its
 *    own IOVA window, and change backend together (the unit cannot tell
 *    their requests apart);
 *  - an IOVA window far from physical memory (1 TiB with 4-level tables,
 *    256 GiB with 3-level, else 4 GiB), so a device that used a physical
 *    address would fault instead of hitting RAM; only what the driver hands
 *    out is mapped (queues, PRP lists, data buffers), each direction with
 *    only the permission it needs (coherent buffers of 2 MiB or more with
 *    2 MiB leaves where the unit has them: physical page and IOVA both
 *    2 MiB aligned); unmap invalidates the IOTLB before it returns, or,
 *    inside dma_unmap_batch_begin/end, once for the batch before the batch
 *    ends (IOVAs are freed only after it);
 *  - a ledger of every range handed out, a canary page that is never
 *    mapped, and an audit like the bounce backend's;
 *  - expected-fault bookkeeping, so a test's deliberate fault is not stray.
 *
 * Detach (dma_attach() of the device to another backend calls
 * dma_remap_ops.detach): afterwards the device's untranslated DMA reaches
 * memory.  The rule, per unit:
 *  - while another device is still remapped on the unit, translation stays
 *    on and the device's requester ids get a pass-through entry (VT-d
 *    ECAP.PT); on a unit without pass-through they are attached to the
 *    unit's identity domain instead ([0, DMA_BOUNCE_MEMORY_LIMIT) mapped to
 *    itself, read and write: where bounce pools live);
 *  - when no remapped device is left, the device's entries are removed and
 *    translation is turned off (`iommu: disabled`): nothing of remapping is
 *    left in the way of bounce DMA;
 *  - when translation comes back on (a device attaches to this backend
 *    again), every device detached earlier on that unit gets its
 *    pass-through entry (or identity domain) first, so bounce devices keep
 *    working beside it.
 * Why pass-through and not "translation off": with two devices on one unit,
 * one remapped and one on bounce buffers, the unit must translate for the
 * first, and a device without a context entry faults (VT-d reason 2) while
 * translation is on; pass-through costs no tables, the identity domain is
 * the fallback that needs none of the unit's optional features.  Turning
 * translation off when the last remapped device leaves keeps the
 * bounce-only state exactly what it was before any remapping, on units with
 * and without pass-through.
 * The domain and IOVA window are kept: a device that comes back finds them.
 *
 * Selection: drivers register with remap_register_driver() (VT-d first, a
 * second kind next).  dma_remap_verified() tries, in that order, each
 * driver whose ACPI table is present (with no table at all, the first
 * driver, so the failure names the missing table): the first the verifier
 * accepts is the one this backend uses.  The verifier is a hook the test
 * layer registers (remap_set_verifier: src/tests_iommu.c discovers the
 * units through dma_remap_driver(), checks every NVMe controller is
 * covered, and drives one through remapped IOVAs); without one nothing is
 * verified and dma=auto stays on bounce buffers.  A driver that fails
 * leaves no unit translating.
 */
#ifndef PROOFBOOT_DMA_REMAP_H
#define PROOFBOOT_DMA_REMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "dma.h"
#include "dma_alias.h"
#include "remap_unit.h"

#define DMA_REMAP_WINDOW_4LEVEL (1ull << 40) /* 1 TiB: needs 41-bit IOVAs */
#define DMA_REMAP_WINDOW_3LEVEL (1ull << 38) /* 256 GiB: fits 39-bit tables */
#define DMA_REMAP_WINDOW_BYTES (64u << 20)
#define DMA_REMAP_MAX_DRIVERS 4

extern const struct dma_backend_ops dma_remap_ops;

/* Adds a unit driver (tried in registration order); call before dma_remap_register(). */
void remap_register_driver(const struct remap_unit_ops *driver);

/*
 * The check that must pass before dma=auto uses remapping: with the
 * candidate driver active (dma_remap_driver()), discover its units, prove
 * the backend moves data and faults nothing (false + why).  Runs once per
 * candidate driver.
 */
typedef bool (*remap_verify_fn)(const struct dma_backend_ops *ops, char *why, size_t cap);
void remap_set_verifier(remap_verify_fn verify);

/* Registers this backend with dma.c (selection policy); call once at boot. */
void dma_remap_register(void);

/* The verification result behind the selection policy (runs it on first call). */
bool dma_remap_verified(const char **reason);

/*
 * Discovers units: the driver in use once verified, else the first
 * registered driver whose units are found.  NULL + reason when none; then
 * *table_present says whether some driver's ACPI table exists (a table
 * that is there but unusable is a finding, no table is a platform fact).
 */
const struct remap_unit_ops *dma_remap_discover(char *reason, size_t cap, bool *table_present);

/* The unit driver in use (the candidate while the verifier runs), else NULL. */
const struct remap_unit_ops *dma_remap_driver(void);

struct dma_remap_info {
	const struct remap_unit_ops *driver;
	struct remap_unit *unit;
	const struct remap_domain *domain;
	uint16_t sid;             /* the device's own requester id */
	unsigned rid_count;       /* the device's requester ids (own + aliases) */
	uint16_t rids[DMA_ALIAS_MAX];
	uint64_t window_base;
	uint64_t window_size;
	uint64_t canary_phys;     /* a page the device must never reach */
	uint64_t last_map_iova;   /* page IOVA of the latest streaming map */
	uint64_t last_map_phys;   /* and the physical page behind it */
	uint64_t maps, unmaps;    /* streaming and coherent, since attach */
	uint64_t invalidations;   /* IOTLB invalidations those unmaps took (batched: fewer) */
	uint64_t stray_faults;    /* faults nobody expected */
};

/* False when d has no state on this backend. */
bool dma_remap_info(struct dma_device *d, struct dma_remap_info *out);

/*
 * The device's remapping record whether or not it is on this backend now:
 * a device that went back to bounce buffers keeps its domain and counters
 * (stray faults included) for its return.  False when it never had a
 * domain; *attached says whether it translates through it now.
 */
bool dma_remap_record(struct pci_bdf bdf, struct dma_remap_info *out, bool *attached);

/* Whether `sid` is one of the device's requester ids (its own or an alias). */
bool dma_remap_owns_sid(struct dma_device *d, uint16_t sid);

/* Whether the canary page still holds its pattern. */
bool dma_remap_canary_intact(struct dma_device *d);

/* Walks d's domain as the hardware would: false when iova would fault. */
bool dma_remap_lookup(struct dma_device *d, uint64_t iova, uint64_t *phys, unsigned *perms);

/*
 * The next streaming map hands the device `iova` (plus the buffer's page
 * offset) without mapping anything: a deliberately blocked transfer.
 */
void dma_remap_redirect_next_map(struct dma_device *d, uint64_t iova);

/*
 * The next streaming map gets exactly these REMAP_PERM_* permissions
 * instead of the ones its direction needs (e.g. REMAP_PERM_READ for a
 * buffer the device will be told to write: an isolation proof).  The ledger
 * still records the caller's direction.
 */
void dma_remap_force_next_map_perms(struct dma_device *d, unsigned perms);

/* Declares that a fault at this page IOVA is the test's doing, not a stray one. */
void dma_remap_expect_fault(struct dma_device *d, uint64_t iova);

/* The expected fault, once collected; false if none arrived. */
bool dma_remap_take_expected_fault(struct dma_device *d, struct iommu_fault *out);

/* Reads and clears whatever faults are pending now (through check's bookkeeping). */
bool dma_remap_collect_faults(struct dma_device *d, char *reason, size_t cap);

/* Whether any unit of the driver in use still reports a pending fault (index in *unit). */
bool dma_remap_fault_pending(unsigned *unit);

#endif
