/* Host tests for src/lib/pci_cfg.c over hand-made configuration-space images. */
#include "unit.h"
#include "pci_cfg.h"

#include <stdlib.h>

static void put16(uint8_t *cfg, size_t off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *cfg, size_t off, uint32_t v)
{
	put16(cfg, off, (uint16_t)v);
	put16(cfg, off + 2, (uint16_t)(v >> 16));
}

UNIT_TEST(pci_bdf_formats_segment_bus_dev_fn)
{
	char s[PCI_BDF_STR_LEN];

	pci_bdf_format((struct pci_bdf){ 0, 0, 4, 0 }, s);
	CHECK_STR(s, "0000:00:04.0");
	pci_bdf_format((struct pci_bdf){ 0x3851, 0xff, 31, 7 }, s);
	CHECK_STR(s, "3851:ff:1f.7");
}

UNIT_TEST(pci_bar_decode_64bit_memory)
{
	struct pci_bar bar;

	/* QEMU nvme BAR0: 64-bit, 16 KiB at 0xfebd0000 (mask = ~(16K-1) | type). */
	CHECK_EQ(pci_bar_decode(0, 0xfebd0004, 0, 0xffffc004, 0xffffffff, true, &bar), 2);
	CHECK_EQ(bar.kind, PCI_BAR_KIND_MEM64);
	CHECK_EQ(bar.state, PCI_BAR_OK);
	CHECK_EQ(bar.address, 0xfebd0000);
	CHECK_EQ(bar.size, 0x4000);
	CHECK(!bar.prefetchable);

	/* Above 4 GiB and prefetchable. */
	CHECK_EQ(pci_bar_decode(2, 0x0000000c, 0x80, 0xfff0000c, 0xffffffff, true, &bar), 2);
	CHECK_EQ(bar.address, 0x8000000000ull);
	CHECK_EQ(bar.size, 0x100000);
	CHECK(bar.prefetchable);
	CHECK_EQ(bar.state, PCI_BAR_OK);

	/* 8 GiB BAR: size lives entirely in the upper dword. */
	CHECK_EQ(pci_bar_decode(0, 0x4, 0x4, 0x4, 0xfffffffe, true, &bar), 2);
	CHECK_EQ(bar.size, 0x200000000ull);
	CHECK_EQ(bar.address, 0x400000000ull);
	CHECK_EQ(bar.state, PCI_BAR_OK);
}

UNIT_TEST(pci_bar_decode_reports_insane_placements)
{
	struct pci_bar bar;

	/* Firmware left it at 0. */
	pci_bar_decode(0, 0x00000004, 0, 0xffffc004, 0xffffffff, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_UNASSIGNED);
	CHECK_STR(pci_bar_state_name(bar.state), "unassigned");
	/* Not aligned to its size. */
	pci_bar_decode(0, 0xfebd2004, 0, 0xffffc004, 0xffffffff, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_MISALIGNED);
	/* 64-bit BAR in the last slot has no upper half. */
	CHECK_EQ(pci_bar_decode(5, 0xfebd0004, 0, 0xffffc004, 0, false, &bar), 1);
	CHECK_EQ(bar.state, PCI_BAR_BAD_TYPE);
	/* Reserved memory type. */
	pci_bar_decode(1, 0xfe000006, 0, 0xfff00006, 0, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_BAD_TYPE);
	/* Wraps the 64-bit space. */
	pci_bar_decode(0, 0xfff00004, 0xffffffff, 0xffe00004, 0xffffffff, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_MISALIGNED);
	pci_bar_decode(0, 0xffe00004, 0xffffffff, 0xffe00004, 0xffffffff, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_OK); /* ends exactly at 2^64 - 1 */
	/* Unimplemented slot. */
	CHECK_EQ(pci_bar_decode(3, 0, 0, 0, 0, true, &bar), 1);
	CHECK_EQ(bar.state, PCI_BAR_UNIMPLEMENTED);
	CHECK_EQ(bar.kind, PCI_BAR_KIND_NONE);
}

UNIT_TEST(pci_bar_decode_32bit_and_io)
{
	struct pci_bar bar;

	CHECK_EQ(pci_bar_decode(1, 0xfebd1000, 0, 0xfffff000, 0, true, &bar), 1);
	CHECK_EQ(bar.kind, PCI_BAR_KIND_MEM32);
	CHECK_EQ(bar.size, 0x1000);
	CHECK_EQ(bar.state, PCI_BAR_OK);

	/* I/O BAR with 16-bit decode: upper half of the mask reads 0. */
	pci_bar_decode(4, 0xc001, 0, 0x0000ffe1, 0, true, &bar);
	CHECK_EQ(bar.kind, PCI_BAR_KIND_IO);
	CHECK_EQ(bar.size, 0x20);
	CHECK_EQ(bar.address, 0xc000);
	CHECK_EQ(bar.state, PCI_BAR_OK);
	CHECK_STR(pci_bar_kind_name(bar.kind), "io");
	pci_bar_decode(4, 0x0001, 0, 0xffffffe1, 0, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_UNASSIGNED);
	/* Beyond the 64 KiB port space. */
	pci_bar_decode(4, 0x20001, 0, 0xffffffe1, 0, true, &bar);
	CHECK_EQ(bar.state, PCI_BAR_OVERFLOWS);
}

/* An endpoint image with PM -> MSI-X -> PCIe, like a PCIe NVMe device. */
static void make_endpoint(uint8_t *cfg, size_t len)
{
	memset(cfg, 0, len);
	put16(cfg, PCI_VENDOR_ID, 0x1b36);
	put16(cfg, PCI_DEVICE_ID, 0x0010);
	put16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST);
	cfg[PCI_CLASS_CODE] = 0x01;
	cfg[PCI_SUBCLASS] = 0x08;
	cfg[PCI_PROG_IF] = 0x02;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	cfg[0x40] = PCI_CAP_ID_PM;
	cfg[0x41] = 0x60;
	cfg[0x60] = PCI_CAP_ID_MSIX;
	cfg[0x61] = 0x80;
	put16(cfg, 0x62, 64 - 1);                 /* 64 vectors, disabled */
	put32(cfg, 0x64, 0x2000 | 0);             /* table in BAR0 + 0x2000 */
	put32(cfg, 0x68, 0x3000 | 0);             /* PBA in BAR0 + 0x3000 */
	cfg[0x80] = PCI_CAP_ID_PCIE;
	cfg[0x81] = 0x00;
	put16(cfg, 0x82, 0x0002);                 /* version 2, endpoint */
}

UNIT_TEST(pci_cap_walk_conventional_list)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct pci_cap caps[PCI_CAPS_MAX];
	enum pci_cap_walk_result r;
	char buf[16];

	make_endpoint(cfg, sizeof(cfg));
	size_t n = pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);

	CHECK_EQ(r, PCI_CAPS_OK);
	CHECK_EQ(n, 3);
	CHECK_EQ(caps[1].id, PCI_CAP_ID_MSIX);
	CHECK_EQ(caps[1].offset, 0x60);
	CHECK_STR(pci_cap_name(&caps[2], buf, sizeof(buf)), "pcie");
	CHECK(pci_cap_find(caps, n, PCI_CAP_ID_MSI, false) == NULL);

	struct pci_msix_info msix;

	pci_msix_decode(cfg, sizeof(cfg), pci_cap_find(caps, n, PCI_CAP_ID_MSIX, false)->offset, &msix);
	CHECK_EQ(msix.table_size, 64);
	CHECK_EQ(msix.table_bir, 0);
	CHECK_EQ(msix.table_offset, 0x2000);
	CHECK_EQ(msix.pba_offset, 0x3000);
	CHECK(!msix.enabled);

	struct pci_pcie_info pcie;

	pci_pcie_decode(cfg, sizeof(cfg), 0x80, &pcie);
	CHECK_EQ(pcie.version, 2);
	CHECK_STR(pci_pcie_port_type_name(pcie.port_type), "endpoint");

	/* Without the status bit the pointer is ignored. */
	put16(cfg, PCI_STATUS, 0);
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r), 0);
	CHECK_EQ(r, PCI_CAPS_OK);
}

UNIT_TEST(pci_cap_walk_survives_hostile_lists)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct pci_cap caps[PCI_CAPS_MAX];
	enum pci_cap_walk_result r;

	make_endpoint(cfg, sizeof(cfg));
	cfg[0x81] = 0x40; /* PCIe -> PM: loop */
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r), 3);
	CHECK_EQ(r, PCI_CAPS_LOOP);

	make_endpoint(cfg, sizeof(cfg));
	cfg[0x81] = 0x81; /* self loop after masking the low bits */
	pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);
	CHECK_EQ(r, PCI_CAPS_LOOP);

	make_endpoint(cfg, sizeof(cfg));
	cfg[0x61] = 0x10; /* into the header */
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r), 2);
	CHECK_EQ(r, PCI_CAPS_BAD_POINTER);

	make_endpoint(cfg, sizeof(cfg));
	cfg[0x81] = 0xff; /* 0xfc: last dword, its next byte still inside */
	cfg[0xfc] = PCI_CAP_ID_VENDOR;
	cfg[0xfd] = 0;
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r), 4);
	CHECK_EQ(r, PCI_CAPS_OK);

	make_endpoint(cfg, sizeof(cfg));
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, 2, &r), 2);
	CHECK_EQ(r, PCI_CAPS_TOO_MANY);

	/* Every byte random: the walk always ends. */
	srand(4242);
	for (int round = 0; round < 500; round++) {
		for (size_t i = 0; i < sizeof(cfg); i++)
			cfg[i] = (uint8_t)rand();
		size_t n = pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);

		CHECK(n <= (PCI_CFG_SIZE - PCI_CAP_FIRST_OFFSET) / 4);
	}
}

UNIT_TEST(pci_cap_walk_extended_list)
{
	static uint8_t cfg[PCIE_CFG_SIZE];
	struct pci_cap caps[PCI_CAPS_MAX];
	enum pci_cap_walk_result r;
	char buf[16];

	make_endpoint(cfg, sizeof(cfg));
	put32(cfg, 0x100, PCIE_EXT_CAP_ID_AER | (2u << 16) | (0x148u << 20));
	put32(cfg, 0x148, 0x0023 | (1u << 16) | (0u << 20));
	size_t n = pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);

	CHECK_EQ(r, PCI_CAPS_OK);
	CHECK_EQ(n, 5);
	CHECK(caps[3].extended);
	CHECK_STR(pci_cap_name(&caps[3], buf, sizeof(buf)), "aer");
	CHECK_EQ(caps[3].version, 2);
	CHECK_STR(pci_cap_name(&caps[4], buf, sizeof(buf)), "ext-0x0023");
	CHECK(pci_cap_find(caps, n, PCIE_EXT_CAP_ID_AER, true) != NULL);
	CHECK(pci_cap_find(caps, n, 0x0023, false) == NULL); /* ids are per list */
	CHECK_EQ(pci_cap_find(caps, n, PCI_CAP_ID_PM, false)->offset, 0x40);

	put32(cfg, 0x148, 0x0023 | (1u << 16) | (0x100u << 20));
	pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);
	CHECK_EQ(r, PCI_CAPS_LOOP);
	put32(cfg, 0x148, 0x0023 | (1u << 16) | (0x0fcu << 20));
	pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r);
	CHECK_EQ(r, PCI_CAPS_BAD_POINTER);
	/* Absent extended space (conventional device behind ECAM reads ones). */
	memset(cfg + 0x100, 0xff, PCIE_CFG_SIZE - 0x100);
	CHECK_EQ(pci_cap_walk(cfg, sizeof(cfg), caps, PCI_CAPS_MAX, &r), 3);
	CHECK_EQ(r, PCI_CAPS_OK);
}

UNIT_TEST(pci_msi_decode_flags)
{
	uint8_t cfg[PCI_CFG_SIZE] = { 0 };
	struct pci_msi_info msi;

	put16(cfg, 0x50 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3u << 1));
	pci_msi_decode(cfg, sizeof(cfg), 0x50, &msi);
	CHECK(msi.is_64bit);
	CHECK(msi.per_vector_mask);
	CHECK(!msi.enabled);
	CHECK_EQ(msi.multi_message_capable, 3);
}

UNIT_TEST(pci_class_names)
{
	CHECK_STR(pci_class_name(0x01, 0x08, 0x02), "nvme");
	CHECK_STR(pci_class_name(0x01, 0x08, 0x01), "non-volatile-memory");
	CHECK_STR(pci_class_name(0x06, 0x04, 0x00), "pci-bridge");
	CHECK_STR(pci_class_name(0x01, 0x06, 0x01), "ahci");
	CHECK_STR(pci_class_name(0x0c, 0x80, 0x00), "serial-bus");
	CHECK_STR(pci_class_name(0xff, 0x00, 0x00), "unknown");
}

UNIT_TEST(pci_cfg_reads_out_of_range_as_ones)
{
	uint8_t cfg[8] = { 0x36, 0x1b, 0x10, 0x00 };

	CHECK_EQ(pci_cfg_get16(cfg, sizeof(cfg), 0), 0x1b36);
	CHECK_EQ(pci_cfg_get32(cfg, sizeof(cfg), 0), 0x00101b36);
	CHECK_EQ(pci_cfg_get32(cfg, sizeof(cfg), 6), 0xffffffff);
	CHECK_EQ(pci_cfg_get8(cfg, sizeof(cfg), 8), 0xff);
}
