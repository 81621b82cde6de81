/* Host tests for src/lib/dma_alias.c: requester-id aliases behind bridges. */
#include "unit.h"
#include "dma_alias.h"

UNIT_TEST(dma_alias_device_on_root_bus_has_only_its_own_id)
{
	uint16_t out[DMA_ALIAS_MAX];
	int via[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(0, 4, 0), NULL, 0, out, via, DMA_ALIAS_MAX), 1);
	CHECK_EQ(out[0], 0x0020);
	CHECK_EQ(via[0], -1);
}

UNIT_TEST(dma_alias_root_and_switch_ports_pass_ids_unchanged)
{
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(2, 0, 0), 3, DMA_ALIAS_PCIE_PORT },   /* downstream port */
		{ dma_alias_rid(1, 0, 0), 2, DMA_ALIAS_PCIE_PORT },   /* upstream port */
		{ dma_alias_rid(0, 0x1c, 0), 1, DMA_ALIAS_PCIE_PORT }, /* root port */
	};
	uint16_t out[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(3, 0, 0), hops, 3, out, NULL, DMA_ALIAS_MAX), 1);
	CHECK_EQ(out[0], 0x0300);
}

UNIT_TEST(dma_alias_pcie_to_pci_bridge_uses_secondary_bus_devfn_zero)
{
	/* QEMU's -device pcie-pci-bridge on pcie.0 at 00:03.0, NVMe at 01:01.0 behind it. */
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(0, 3, 0), 1, DMA_ALIAS_PCIE_TO_PCI },
	};
	uint16_t out[DMA_ALIAS_MAX];
	int via[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(1, 1, 0), hops, 1, out, via, DMA_ALIAS_MAX), 2);
	CHECK_EQ(out[0], 0x0108);
	CHECK_EQ(out[1], 0x0100);
	CHECK_EQ(via[1], 0);
}

UNIT_TEST(dma_alias_device_at_devfn_zero_behind_pcie_to_pci_is_not_listed_twice)
{
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(0, 3, 0), 1, DMA_ALIAS_PCIE_TO_PCI },
	};
	uint16_t out[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(1, 0, 0), hops, 1, out, NULL, DMA_ALIAS_MAX), 1);
	CHECK_EQ(out[0], 0x0100);
}

UNIT_TEST(dma_alias_conventional_bridges_use_their_own_ids_each)
{
	/* A conventional bridge 05:02.0 (secondary 6) below a conventional 00:1e.0 (secondary 5). */
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(5, 2, 0), 6, DMA_ALIAS_CONVENTIONAL },
		{ dma_alias_rid(0, 0x1e, 0), 5, DMA_ALIAS_CONVENTIONAL },
	};
	uint16_t out[DMA_ALIAS_MAX];
	int via[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(6, 3, 1), hops, 2, out, via, DMA_ALIAS_MAX), 3);
	CHECK_EQ(out[0], 0x0619);
	CHECK_EQ(out[1], 0x0510);
	CHECK_EQ(out[2], 0x00f0);
	CHECK_EQ(via[2], 1);
}

UNIT_TEST(dma_alias_pci_to_pcie_bridge_uses_its_own_id)
{
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(4, 0, 0), 5, DMA_ALIAS_PCI_TO_PCIE },
	};
	uint16_t out[DMA_ALIAS_MAX];

	CHECK_EQ(dma_alias_list(dma_alias_rid(5, 0, 0), hops, 1, out, NULL, DMA_ALIAS_MAX), 2);
	CHECK_EQ(out[1], 0x0400);
}

UNIT_TEST(dma_alias_list_stops_at_max)
{
	const struct dma_alias_hop hops[] = {
		{ dma_alias_rid(5, 2, 0), 6, DMA_ALIAS_CONVENTIONAL },
		{ dma_alias_rid(0, 0x1e, 0), 5, DMA_ALIAS_CONVENTIONAL },
	};
	uint16_t out[2];

	CHECK_EQ(dma_alias_list(dma_alias_rid(6, 3, 1), hops, 2, out, NULL, 2), 2);
	CHECK_EQ(dma_alias_list(dma_alias_rid(6, 3, 1), hops, 2, out, NULL, 0), 0);
}

UNIT_TEST(dma_alias_bridge_kind_from_pcie_port_type)
{
	CHECK_EQ(dma_alias_bridge_kind(0, 0), DMA_ALIAS_CONVENTIONAL);
	CHECK_EQ(dma_alias_bridge_kind(1, 4), DMA_ALIAS_PCIE_PORT);
	CHECK_EQ(dma_alias_bridge_kind(1, 6), DMA_ALIAS_PCIE_PORT);
	CHECK_EQ(dma_alias_bridge_kind(1, 7), DMA_ALIAS_PCIE_TO_PCI);
	CHECK_EQ(dma_alias_bridge_kind(1, 8), DMA_ALIAS_PCI_TO_PCIE);
	CHECK(strcmp(dma_alias_bridge_name(DMA_ALIAS_PCIE_TO_PCI), "pcie-to-pci") == 0);
}
