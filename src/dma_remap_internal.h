/*
 * Private to the remapping core's files (dma_remap.c: the backend,
 * dma_remap_select.c: which unit driver, dma_remap_hooks.c: what tests
 * reach into).  Nothing else includes this.
 */
#ifndef PROOFBOOT_DMA_REMAP_INTERNAL_H
#define PROOFBOOT_DMA_REMAP_INTERNAL_H

#include "dma_remap.h"

#include "pci_cfg.h"
#include "pmem.h"

#define REMAP_WINDOW_PAGES (DMA_REMAP_WINDOW_BYTES / PAGE_SIZE)
#define REMAP_LEDGER_ENTRIES 1024
#define REMAP_COHERENT_CACHE 32
#define REMAP_FAULT_BATCH 8
/* Canary and coherent memory sit below 4 GiB: inside every table depth's IOVA range. */
#define REMAP_MEMORY_LIMIT (4ull << 30)
#define REMAP_CANARY_SEED 0x696f6d6du
#define REMAP_FALLBACK_WINDOW (4ull << 30) /* for devices that cannot reach the usual windows */
#define REMAP_MAX_DEVICES 16
/* Bridges between a device and its root bus that the alias walk follows at most. */
#define REMAP_MAX_HOPS 16
#define HEX64 16
/* Coherent buffers (queues, PRP-list pages) listed per device; the rest are counted. */
#define REMAP_MAP_LINES_MAX 8
#define PAGE_MASK_4K (~(uint64_t)(PAGE_SIZE - 1))
#define RID_BUS(r) ((uint8_t)((r) >> 8))
#define RID_DEV(r) ((uint8_t)(((r) >> 3) & 0x1f))
#define RID_FN(r) ((uint8_t)((r) & 0x7))

enum remap_tag { REMAP_TAG_COHERENT = 1, REMAP_TAG_STREAMING = 2 };

/*
 * Unmaps one batch may defer before it invalidates early: a full I/O queue's
 * data and metadata mappings (NVMe queues here have at most 128 entries).
 */
#define REMAP_BATCH_MAX 256

/* A streaming unmap whose entries are cleared but not yet invalidated. */
struct remap_deferred {
	uint64_t iova_page;
	size_t offset, len;
};

/*
 * Unmaps between dma_unmap_batch_begin() and _end(): their page-table
 * entries are cleared at once, the IOTLB is invalidated once for all of
 * them (the smallest range covering them), and only then are their IOVA
 * pages freed and the unmaps counted: nothing is reused or reported done
 * before its invalidation completed.
 */
struct remap_batch {
	bool open;
	unsigned count;
	uint64_t lo, hi; /* [lo, hi): the IOVAs the cleared entries span */
	struct remap_deferred items[REMAP_BATCH_MAX];
};

/* Backing pages of freed coherent buffers, kept for reuse (pmem never frees). */
struct coherent_spare {
	void *cpu;
	size_t pages;
};

/*
 * One device the core has seen: every device attached to this backend, and
 * every device detached from it (or bound elsewhere while a unit existed),
 * which must get pass-through whenever its unit translates.
 */
struct remap_state {
	const struct remap_unit_ops *drv;
	struct remap_unit *unit;
	struct remap_domain *domain; /* NULL until the device first attaches here */
	struct pci_bdf bdf;
	char name[PCI_BDF_STR_LEN];
	uint16_t sid;
	unsigned rid_count;
	uint16_t rids[DMA_ALIAS_MAX];
	bool remapped;  /* its requester ids translate through its domain now */
	bool aliases_reported; /* `iommu: alias` lines printed */
	uint64_t window_base;
	struct page_bitmap bitmap;
	uint32_t bitmap_words[PAGE_BITMAP_WORDS(REMAP_WINDOW_PAGES)];
	struct dma_ledger ledger;
	struct dma_ledger_entry entries[REMAP_LEDGER_ENTRIES];
	uint8_t *canary;
	struct coherent_spare spares[REMAP_COHERENT_CACHE];
	uint64_t maps, unmaps;
	uint64_t invalidations; /* IOTLB invalidations for unmaps: one per unmap or per batch */
	struct remap_batch batch;
	unsigned map_lines; /* `iommu: map` lines printed for this device */
	uint64_t last_map_iova, last_map_phys;
	uint64_t checks, check_failures, stray_faults;
	uint64_t faults_seen; /* every fault from this device, expected or not */
	uint64_t unmapped_handouts; /* test hook: IOVAs handed out with nothing mapped */
	char first_failure[DMA_REASON_MAX];
	/* test hooks */
	unsigned forced_perms; /* REMAP_PERM_* for the next streaming map; 0: from its direction */
	bool redirect_pending;
	uint64_t redirect_iova;
	bool expect_pending;
	uint64_t expect_iova;
	bool expected_arrived;
	struct iommu_fault expected;
};

/* The device's record on this backend (its own or parked state), or NULL. */
struct remap_state *remap_state_of(struct dma_device *d);
/* The state kept for the device at bdf, attached now or not; NULL if it never had one. */
struct remap_state *remap_state_for(struct pci_bdf bdf);
/* Whether `sid` is one of the device's requester ids. */
bool remap_owns_sid(const struct remap_state *s, uint16_t sid);
/* Collects the unit's faults and sorts them to their devices; false on a stray one. */
bool remap_absorb_faults(struct remap_state *s, char *reason, size_t cap);
/* Whether the canary page still holds its pattern (else the reason names the offset). */
bool remap_canary_ok(struct remap_state *s, char *reason, size_t cap);
/* Counts a failed check; the first reason is kept for the audit. */
void remap_note_failure(struct remap_state *s, const char *reason);
/* After `drv` failed verification: no device counts as remapped through it any more. */
void remap_forget_remapped(const struct remap_unit_ops *drv);

#endif
