/*
 * Pure PCI configuration-space decoding over a byte image of one function's
 * configuration space (256 bytes, or 4096 with ECAM): BAR decode including
 * 64-bit BARs and sanity checks, capability-list walks with loop protection,
 * MSI/MSI-X/PCIe capability decode, class names.  src/pci.c reads the image
 * from hardware; host tests feed hand-made and hostile images.
 */
#ifndef PROOFBOOT_PCI_CFG_H
#define PROOFBOOT_PCI_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci_defs.h"

struct pci_bdf {
	uint16_t segment;
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

/* "SSSS:BB:DD.F" plus NUL. */
#define PCI_BDF_STR_LEN 13
void pci_bdf_format(struct pci_bdf bdf, char out[PCI_BDF_STR_LEN]);

/* Reads from an image; out-of-range reads return all ones like absent hardware. */
uint8_t pci_cfg_get8(const uint8_t *cfg, size_t len, size_t off);
uint16_t pci_cfg_get16(const uint8_t *cfg, size_t len, size_t off);
uint32_t pci_cfg_get32(const uint8_t *cfg, size_t len, size_t off);

/* ------------------------------------------------------------------ BARs */

enum pci_bar_kind {
	PCI_BAR_KIND_NONE = 0, /* unimplemented */
	PCI_BAR_KIND_IO,
	PCI_BAR_KIND_MEM32,
	PCI_BAR_KIND_MEM64,
};

enum pci_bar_state {
	PCI_BAR_UNIMPLEMENTED = 0, /* size 0: no BAR in this slot */
	PCI_BAR_OK,
	PCI_BAR_UNASSIGNED,        /* address 0: firmware never placed it */
	PCI_BAR_MISALIGNED,        /* address not a multiple of the size */
	PCI_BAR_OVERFLOWS,         /* address + size wraps, or 32-bit BAR beyond 4 GiB */
	PCI_BAR_BAD_TYPE,          /* reserved memory type, or 64-bit BAR in the last slot */
};

struct pci_bar {
	uint8_t index;             /* BAR number 0..5 */
	enum pci_bar_kind kind;
	enum pci_bar_state state;
	bool prefetchable;
	uint64_t address;
	uint64_t size;
};

/*
 * Decodes BAR `index` from its value before sizing (raw_lo/raw_hi) and the
 * read-back after writing all ones (mask_lo/mask_hi).  raw_hi/mask_hi are the
 * next slot, used only for 64-bit BARs; has_next_slot says whether it exists.
 * Returns the slots consumed: 2 for a 64-bit BAR, else 1.
 */
unsigned pci_bar_decode(unsigned index, uint32_t raw_lo, uint32_t raw_hi, uint32_t mask_lo,
			uint32_t mask_hi, bool has_next_slot, struct pci_bar *out);

const char *pci_bar_kind_name(enum pci_bar_kind kind);   /* "io", "mem32", "mem64", "none" */
const char *pci_bar_state_name(enum pci_bar_state state); /* "ok", "unassigned", ... */

/* ------------------------------------------------------------ capabilities */

struct pci_cap {
	uint16_t offset;
	uint16_t id;
	bool extended;   /* PCIe extended capability (offset >= 0x100) */
	uint8_t version; /* extended capabilities only */
};

enum pci_cap_walk_result {
	PCI_CAPS_OK = 0,
	PCI_CAPS_LOOP,        /* a pointer revisits a capability */
	PCI_CAPS_BAD_POINTER, /* pointer into the header or past the image */
	PCI_CAPS_TOO_MANY,    /* caller's array is full */
};

#define PCI_CAPS_MAX 64

/*
 * Walks the conventional list (when the status register says there is one)
 * and, for images of 4096 bytes, the extended list.  Stops at the first
 * corruption and reports it; the capabilities found until then are kept.
 */
size_t pci_cap_walk(const uint8_t *cfg, size_t len, struct pci_cap *caps, size_t max,
		    enum pci_cap_walk_result *result);

const char *pci_cap_walk_result_name(enum pci_cap_walk_result r);
/* First capability with this id (conventional or extended), or NULL. */
const struct pci_cap *pci_cap_find(const struct pci_cap *caps, size_t n, uint16_t id,
				   bool extended);
/* Short name: "msi", "msix", "pcie", "pm", "vendor", "aer", ... or "cap-0xNN". */
const char *pci_cap_name(const struct pci_cap *cap, char *buf, size_t cap_len);

struct pci_msix_info {
	uint16_t table_size; /* entries */
	uint8_t table_bir;
	uint32_t table_offset;
	uint8_t pba_bir;
	uint32_t pba_offset;
	bool enabled;
	bool function_masked;
};

void pci_msix_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset,
		     struct pci_msix_info *out);

struct pci_msi_info {
	bool enabled;
	bool is_64bit;
	bool per_vector_mask;
	uint8_t multi_message_capable; /* log2 of vectors */
};

void pci_msi_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset, struct pci_msi_info *out);

struct pci_pcie_info {
	uint8_t version;
	uint8_t port_type;
};

void pci_pcie_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset,
		     struct pci_pcie_info *out);
/* "endpoint", "root-port", "rc-integrated-endpoint", ... */
const char *pci_pcie_port_type_name(uint8_t port_type);

/* --------------------------------------------------------------- classes */

/* Specific name for well-known triples ("nvme", "ahci", "pci-bridge", ...),
 * else the class name ("mass-storage", "network", ...), else "unknown". */
const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if);

#endif
