/*
 * DMA requester-id aliases: which requester ids a device's DMA can arrive
 * with at the remapping unit, given the bridges between it and its root bus.
 *
 * The rules (PCIe-to-PCI/PCI-X Bridge spec 1.0 section 2.3; the same rules
 * Linux's pci_for_each_dma_alias() and QEMU's pci_device_iommu_address_space()
 * apply), walking from the device up to the root bus:
 *  - the device's own id always counts;
 *  - a PCIe root port, upstream or downstream switch port forwards requests
 *    with the requester's id unchanged: no alias;
 *  - a PCIe-to-PCI(-X) bridge (PCIe port type 7) takes ownership of the
 *    transactions of everything below it: they arrive as
 *    (secondary bus, device 0, function 0);
 *  - a PCI-to-PCIe bridge (type 8) and a conventional PCI-to-PCI bridge
 *    (no PCIe capability) use their own id.
 * Every alias found counts, so a device below two conventional bridges has
 * three ids.  Pure logic: host-tested in tests/unit/test_dma_alias.c.
 */
#ifndef PROOFBOOT_DMA_ALIAS_H
#define PROOFBOOT_DMA_ALIAS_H

#include <stdint.h>

/* Enough for the device plus a deep chain of bridges that each alias. */
#define DMA_ALIAS_MAX 8

enum dma_alias_bridge {
	DMA_ALIAS_PCIE_PORT,     /* root, upstream or downstream port: ids pass unchanged */
	DMA_ALIAS_PCIE_TO_PCI,   /* aliases to (secondary bus, 00.0) */
	DMA_ALIAS_PCI_TO_PCIE,   /* aliases to the bridge's own id */
	DMA_ALIAS_CONVENTIONAL,  /* PCI-to-PCI bridge without a PCIe capability: own id */
};

/* One bridge above the device, nearest first. */
struct dma_alias_hop {
	uint16_t bridge_rid;     /* bus << 8 | dev << 3 | fn */
	uint8_t secondary_bus;
	enum dma_alias_bridge kind;
};

/* Requester id of bus/dev/fn (the VT-d source id). */
uint16_t dma_alias_rid(uint8_t bus, uint8_t dev, uint8_t fn);

/* PCIe capability port type (PCI_EXP_FLAGS type) to bridge kind; has_pcie=false: conventional. */
enum dma_alias_bridge dma_alias_bridge_kind(int has_pcie, uint8_t port_type);
const char *dma_alias_bridge_name(enum dma_alias_bridge kind);

/*
 * Fills out[0] with the device's own id and out[1..] with each distinct
 * alias, nearest bridge first; returns the count (at most max).  *via (when
 * not NULL) gets, per entry, the index of the hop that produced it (-1 for
 * the device's own id).
 */
unsigned dma_alias_list(uint16_t own_rid, const struct dma_alias_hop *hops, unsigned hop_count,
			uint16_t *out, int *via, unsigned max);

#endif
