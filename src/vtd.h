/*
 * Intel VT-d remapping units: discovery from the DMAR table only, root and
 * context tables, translation enable/disable, register-based invalidation
 * (never queued), and fault-record reading.  Page tables are built by
 * src/lib/vtd_pt.c; register names are in src/lib/vtd_regs.h.
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
#include "vtd_pt.h"

/* Status bits settle at once on QEMU and within microseconds on hardware. */
#define VTD_WAIT_US 100000u
#define VTD_REG_SPAN 0x1000u /* one register page per unit */
#define VTD_REASON_MAX 120

struct vtd_unit {
	unsigned index;     /* DRHD index in the DMAR table */
	uint16_t segment;
	uint64_t base;
	bool include_all;
	unsigned scope_count;
	uint32_t ver;
	uint64_t cap;
	uint64_t ecap;
	uint64_t *root;     /* root table (NULL until a device is attached) */
	uint64_t root_phys;
	uint64_t *context[VTD_ROOT_ENTRIES]; /* per-bus context tables */
	bool root_set;      /* RTADDR latched with SRTP */
	bool translating;   /* we enabled TE */
	uint16_t next_domain_id;
	uint64_t faults_recorded; /* fault records read and cleared so far */
};

struct vtd_domain {
	struct vtd_unit *unit;
	uint16_t id;
	unsigned levels;
	struct vtd_pt pt;
};

struct vtd_fault {
	unsigned unit;     /* index into the unit table */
	unsigned record;   /* fault-recording register index */
	uint8_t reason;    /* VTD_FR_* */
	bool read;         /* the faulting request was a read (device reading memory) */
	uint16_t sid;      /* source id: bus << 8 | dev << 3 | fn */
	uint64_t addr;     /* faulting page address (the IOVA, 4 KiB granular) */
};

/*
 * Finds the remapping units from the DMAR table (nothing else) and reads
 * their VER/CAP/ECAP; runs once, later calls return the first result.
 * Needs acpi_init() first.  False, with the reason, when no unit is usable.
 */
bool vtd_init(char *reason, size_t cap);

unsigned vtd_unit_count(void);
struct vtd_unit *vtd_unit_get(unsigned index);
const struct dmar_info *vtd_dmar(void);

/* The unit translating bdf's DMA (bridges resolved through the PCI table), or NULL + reason. */
struct vtd_unit *vtd_unit_for_device(struct pci_bdf bdf, char *reason, size_t cap);

/* Whether the unit can walk tables of this depth with IOVAs below 2^bits. */
bool vtd_unit_supports(const struct vtd_unit *u, unsigned levels, unsigned iova_bits);

/* A fresh domain (new domain id, empty page table of `levels`). */
bool vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, unsigned levels, char *reason,
		     size_t cap);

/*
 * Points bdf's context entry at the domain (page-walk translation) and
 * invalidates the context cache; identity-maps any RMRR naming the device.
 */
bool vtd_domain_attach(struct vtd_domain *d, struct pci_bdf bdf, char *reason, size_t cap);

/* Latches the root table and turns translation on; prints `iommu: enabled`. */
bool vtd_enable(struct vtd_unit *u, char *reason, size_t cap);
/* Turns translation off (other enables kept); prints `iommu: disabled`. */
bool vtd_disable(struct vtd_unit *u, char *reason, size_t cap);

/* Maps [iova, iova + size) -> phys; `report` prints an `iommu: map` line. */
bool vtd_map(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size, unsigned perms,
	     bool report, char *reason, size_t cap);
/* Unmaps and invalidates the IOTLB for the range, so the device loses access now. */
bool vtd_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, bool report, char *reason,
	       size_t cap);
/* Domain-selective IOTLB invalidation. */
bool vtd_flush_domain(struct vtd_domain *d, char *reason, size_t cap);

/*
 * Reads every valid fault record of the unit, prints one `iommu: fault
 * recorded` line each, clears them (and an overflow).  Returns how many;
 * up to max are copied to out (out may be NULL).
 */
unsigned vtd_faults_collect(struct vtd_unit *u, struct vtd_fault *out, unsigned max);

/* FSTS says a fault record is pending. */
bool vtd_fault_pending(const struct vtd_unit *u);

#endif
