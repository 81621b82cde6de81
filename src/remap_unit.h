/*
 * The remapping-unit interface: what the device-neutral remapping core
 * (src/dma_remap*.c) needs from one kind of IOMMU hardware.  One driver per
 * kind implements `struct remap_unit_ops`: src/vtd.c (Intel VT-d,
 * `vtd_unit_ops`) and src/amdvi.c (AMD-Vi, `amdvi_unit_ops`).  A new IOMMU
 * is one new file with one new ops table, registered with
 * remap_register_driver() in main.c; nothing in the core, the DMA backend
 * interface or the tests is copied.
 *
 * Words (docs/architecture.md): a *unit* is one IOMMU instance (a VT-d DRHD,
 * an AMD-Vi IVHD); a *domain* is one address space (page tables + id) the
 * unit translates a device's DMA through; a *requester id* (rid, VT-d's
 * "source id") is bus << 8 | dev << 3 | fn as the unit sees it, which may
 * be a DMA alias of the device (src/lib/dma_alias.h); *remapping* is the
 * DMA backend that hands devices IOVAs through a domain.
 *
 * Division of work:
 *  - the driver owns the hardware: discovery from its ACPI table, register
 *    access, root/context or device tables, page tables, invalidation,
 *    fault records, enable/disable, and its hardware-specific proof lines
 *    (`iommu: dmar`, `iommu: drhd`, `iommu: context`, `iommu: enabled`...);
 *  - the core owns policy and bookkeeping: which domain a device gets, its
 *    IOVA window and allocation, the ledger, canaries, audit, aliases,
 *    detach, expected-fault bookkeeping and the neutral proof lines
 *    (`iommu: attach`, `iommu: alias`, `iommu: map`, `iommu: fault recorded`).
 *
 * Contract for every op that takes `reason, cap`: false means nothing
 * changed that the caller must undo, and `reason` names why in
 * lower-case-dashed words.  No op may block longer than its hardware wait
 * bound.  All calls come from one CPU; no locking.
 */
#ifndef PROOFBOOT_REMAP_UNIT_H
#define PROOFBOOT_REMAP_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci_cfg.h"

#define REMAP_REASON_MAX 120

/* What a mapping lets the device do: read memory (TO_DEVICE) and/or write it (FROM_DEVICE). */
#define REMAP_PERM_READ 1u
#define REMAP_PERM_WRITE 2u
#define REMAP_PERM_RW (REMAP_PERM_READ | REMAP_PERM_WRITE)

struct remap_unit_ops;

/* The neutral head of a driver's unit structure (the driver embeds it first). */
struct remap_unit {
	const struct remap_unit_ops *ops;
	unsigned index;    /* the driver's unit number, as printed in `iommu:` lines */
	uint16_t segment;  /* PCI segment the unit's requester ids belong to */
};

/* The neutral head of a driver's domain structure (the driver embeds it first). */
struct remap_domain {
	struct remap_unit *unit;
	uint16_t id;       /* the hardware domain id (VT-d DID, AMD-Vi DomainID) */
	unsigned levels;   /* page-table depth */
};

enum remap_access { REMAP_ACCESS_READ, REMAP_ACCESS_WRITE };

/* Which intake took a fault out of the unit first (src/remap_faults.h). */
enum remap_fault_path { REMAP_FAULT_POLL = 0, REMAP_FAULT_INTERRUPT };

/* A fault as the core sees it, whatever unit recorded it. */
struct iommu_fault {
	unsigned unit;            /* unit index */
	unsigned record;          /* the driver's record slot (VT-d FRCD index, AMD-Vi log entry) */
	uint16_t sid;             /* requester id the request arrived with (may be an alias) */
	uint64_t addr;            /* faulting page (the IOVA, 4 KiB granular) */
	enum remap_access access; /* READ: the device read memory; WRITE: it wrote memory */
	/* The page tables refused it (not present, or the permission is missing). */
	bool page_denied;
	uint8_t reason;           /* the driver's reason code (VT-d fault reason) */
	const char *reason_name;  /* the driver's name for it, lower-case-dashed */
	enum remap_fault_path path; /* set by the core's intake, not the driver */
};

struct remap_unit_ops {
	const char *name;         /* "vtd": the driver's word in docs and `iommu=` fields */
	const char *acpi_table;   /* signature whose presence means "this kind of unit exists" */

	/*
	 * Finds the units from the ACPI table only (nothing else) and reads
	 * their identification registers; runs once, later calls return the
	 * first result.  False with the reason when no unit is usable.
	 */
	bool (*discover)(char *reason, size_t cap);
	unsigned (*unit_count)(void);
	struct remap_unit *(*unit_get)(unsigned index);
	/* The unit translating this device's DMA (bridges resolved), or NULL + reason. */
	struct remap_unit *(*unit_for_device)(struct pci_bdf bdf, char *reason, size_t cap);
	/* Whether the unit can walk tables of this depth with IOVAs below 2^iova_bits. */
	bool (*supports)(const struct remap_unit *u, unsigned levels, unsigned iova_bits);

	/* A fresh domain: new id, empty page tables of `levels`; NULL + reason. */
	struct remap_domain *(*domain_create)(struct remap_unit *u, unsigned levels, char *reason,
					      size_t cap);
	/*
	 * Makes requests with requester id `rid` translate through `d` (VT-d:
	 * the context entry; AMD-Vi: the device table entry), replacing what
	 * rid had and invalidating whatever the unit cached for it.  Called once per DMA alias of a
	 * device; `device` is the device the rid belongs to (for proof lines
	 * and for reserved regions such as RMRRs that name the device).
	 */
	bool (*attach)(struct remap_domain *d, struct pci_bdf rid, struct pci_bdf device,
		       char *reason, size_t cap);
	/*
	 * Lets untranslated DMA from `rid` through while the unit translates
	 * for others (VT-d: a pass-through context entry, needs ECAP.PT).
	 * False + reason when the unit cannot: the core then attaches rid to an
	 * identity domain it builds with the other ops.  Needed for the
	 * bounce-buffer backend.
	 */
	bool (*bypass)(struct remap_unit *u, struct pci_bdf rid, char *reason, size_t cap);
	/* Removes whatever translation rid had (entry not present), invalidating caches. */
	bool (*detach)(struct remap_unit *u, struct pci_bdf rid, char *reason, size_t cap);

	/* Maps [iova, iova + size) -> phys with REMAP_PERM_* (each direction on its own). */
	bool (*map)(struct remap_domain *d, uint64_t iova, uint64_t phys, uint64_t size,
		    unsigned perms, char *reason, size_t cap);
	/*
	 * Unmapping, in two steps so the core can batch them (one range:
	 * clear, then invalidate the same range).  clear removes the range's
	 * entries from the page tables only: the unit may still translate
	 * through what it cached, so the caller may neither reuse the IOVAs
	 * nor report the unmap done until `invalidate` of a range covering
	 * them returned true.  invalidate: the smallest invalidation the unit
	 * offers that covers [iova, iova + size) in d (page-selective with an
	 * address mask, else domain-wide), waited for.
	 */
	bool (*clear)(struct remap_domain *d, uint64_t iova, uint64_t size, char *reason,
		      size_t cap);
	bool (*invalidate)(struct remap_domain *d, uint64_t iova, uint64_t size, char *reason,
			   size_t cap);
	/*
	 * The leaf page size the core aligns long-lived allocations to (IOVA
	 * and physical address both), so that map can use it: 2 MiB where the
	 * unit walks 2 MiB leaves (VT-d CAP.SLLPS bit 0), else 4 KiB.  map
	 * picks leaves by alignment on its own: 4 KiB wherever the IOVA, the
	 * physical address or the remaining length is not a multiple.
	 */
	uint64_t (*large_page)(const struct remap_unit *u);
	/* Invalidates everything the unit cached for the domain. */
	bool (*flush)(struct remap_domain *d, char *reason, size_t cap);
	/* Walks the domain's tables as the hardware would: false when iova would fault. */
	bool (*lookup)(const struct remap_domain *d, uint64_t iova, uint64_t *phys,
		       unsigned *perms);

	/* Turns translation on (tables latched first) / off; prints `iommu: enabled|disabled`. */
	bool (*enable)(struct remap_unit *u, char *reason, size_t cap);
	bool (*disable)(struct remap_unit *u, char *reason, size_t cap);
	bool (*translating)(const struct remap_unit *u);

	/*
	 * Reads every pending fault of the unit and clears it in hardware.
	 * Returns how many there were; up to max are copied to out.  The core
	 * prints them (`iommu: fault recorded`).
	 */
	unsigned (*faults_collect)(struct remap_unit *u, struct iommu_fault *out, unsigned max);
	/*
	 * The same without clearing anything (for the fault interrupt: the
	 * records stay until the core's poll clears them, so a device retrying
	 * a blocked transfer adds no new record meanwhile).
	 */
	unsigned (*faults_read)(const struct remap_unit *u, struct iommu_fault *out, unsigned max);
	/* The unit says a fault is pending (VT-d: FSTS.PPF or PFO). */
	bool (*fault_pending)(const struct remap_unit *u);
	/*
	 * Sends the unit's fault events as the MSI (msi_addr, msi_data) and
	 * unmasks them (VT-d: FEDATA, FEADDR, FEUADDR, then FECTL.IM cleared);
	 * prints its hardware line.  NULL when the unit kind has no fault
	 * interrupt: its faults are then only polled.
	 */
	bool (*fault_irq_route)(struct remap_unit *u, uint64_t msi_addr, uint32_t msi_data,
				char *reason, size_t cap);
	/*
	 * Interrupt remapping.  ir_capable: whether this unit remaps
	 * interrupts, and whether its table uses extended (x2APIC) destinations
	 * (VT-d: ECAP.IR, ECAP.EIM; used whenever supported).  ir_enable:
	 * remapping through a table the caller built in the unit's format
	 * (VT-d: IRTEs, src/lib/vtd_ir.h) at table_phys with `entries` entries;
	 * compatibility-format interrupts are blocked while it is on (VT-d:
	 * CFI clear), so no device can send a message the table does not cover.
	 * NULL when the unit kind cannot.
	 */
	bool (*ir_capable)(const struct remap_unit *u, bool *extended);
	bool (*ir_enable)(struct remap_unit *u, uint64_t table_phys, unsigned entries,
			  char *reason, size_t cap);
	bool (*ir_disable)(struct remap_unit *u, char *reason, size_t cap);
};

/* A driver's one-time discovery and its outcome. */
struct remap_discovery {
	bool done, ok;
	char reason[REMAP_REASON_MAX];
};

/*
 * Provided by the core for drivers: runs discover once (later calls return
 * the first outcome), prints `iommu: unavailable reason=...` when it
 * failed, and copies the reason to `reason`.
 */
bool remap_discover_once(struct remap_discovery *state, bool (*discover)(char *, size_t),
			 char *reason, size_t cap);

/* Provided by the core for drivers: printf into reason (when not NULL and cap > 0). */
void remap_reason(char *reason, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Provided by the core for drivers: prints `iommu: map` / `iommu: unmap` (perms 0). */
void remap_report_mapping(const struct remap_domain *d, const char *event, uint64_t iova,
			  uint64_t phys, uint64_t size, unsigned perms);

#endif
