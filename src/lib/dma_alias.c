/* DMA requester-id aliases; see dma_alias.h for the rules and their sources. */
#include "dma_alias.h"

#include <stdbool.h>

#define RID_BUS_SHIFT 8
#define RID_DEV_SHIFT 3
#define RID_DEV_MASK 0x1fu
#define RID_FN_MASK 0x7u
/* PCIe capability device/port types that are bridges to another bus flavour. */
#define PCIE_TYPE_PCIE_TO_PCI 0x7u
#define PCIE_TYPE_PCI_TO_PCIE 0x8u

uint16_t dma_alias_rid(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (uint16_t)((unsigned)bus << RID_BUS_SHIFT | (dev & RID_DEV_MASK) << RID_DEV_SHIFT |
			  (fn & RID_FN_MASK));
}

enum dma_alias_bridge dma_alias_bridge_kind(int has_pcie, uint8_t port_type)
{
	if (!has_pcie)
		return DMA_ALIAS_CONVENTIONAL;
	if (port_type == PCIE_TYPE_PCIE_TO_PCI)
		return DMA_ALIAS_PCIE_TO_PCI;
	if (port_type == PCIE_TYPE_PCI_TO_PCIE)
		return DMA_ALIAS_PCI_TO_PCIE;
	return DMA_ALIAS_PCIE_PORT;
}

const char *dma_alias_bridge_name(enum dma_alias_bridge kind)
{
	switch (kind) {
	case DMA_ALIAS_PCIE_PORT: return "pcie-port";
	case DMA_ALIAS_PCIE_TO_PCI: return "pcie-to-pci";
	case DMA_ALIAS_PCI_TO_PCIE: return "pci-to-pcie";
	case DMA_ALIAS_CONVENTIONAL: return "conventional";
	}
	return "unknown";
}

static bool listed(const uint16_t *out, unsigned n, uint16_t rid)
{
	for (unsigned i = 0; i < n; i++)
		if (out[i] == rid)
			return true;
	return false;
}

unsigned dma_alias_list(uint16_t own_rid, const struct dma_alias_hop *hops, unsigned hop_count,
			uint16_t *out, int *via, unsigned max)
{
	unsigned n = 0;

	if (max == 0)
		return 0;
	out[n] = own_rid;
	if (via)
		via[n] = -1;
	n++;
	for (unsigned i = 0; i < hop_count && n < max; i++) {
		uint16_t rid;

		if (hops[i].kind == DMA_ALIAS_PCIE_PORT)
			continue;
		rid = hops[i].kind == DMA_ALIAS_PCIE_TO_PCI ? dma_alias_rid(hops[i].secondary_bus, 0, 0)
							    : hops[i].bridge_rid;
		if (listed(out, n, rid))
			continue;
		out[n] = rid;
		if (via)
			via[n] = (int)i;
		n++;
	}
	return n;
}
