/* Host tests for src/lib/pci_walk.c: bus planning and the walk over fake topologies. */
#include "unit.h"
#include "pci_walk.h"

#include <stdio.h>
#include <string.h>

#define FAKE_MAX 16
#define LOG_MAX 1024

/* A function of the fake machine: vendor 0x1b36, the given header type and secondary bus. */
struct fake_fn {
	struct pci_bdf bdf;
	uint8_t header;   /* header type byte, multifunction bit included */
	uint8_t secondary;
};

struct fake {
	struct fake_fn fns[FAKE_MAX];
	size_t n;
	char log[LOG_MAX];
	size_t used;
	unsigned reads;
};

static bool same_bdf(struct pci_bdf a, struct pci_bdf b)
{
	return a.segment == b.segment && a.bus == b.bus && a.dev == b.dev && a.fn == b.fn;
}

static uint32_t fake_read32(void *ctx, struct pci_bdf bdf, uint16_t off)
{
	struct fake *f = ctx;

	f->reads++;
	for (size_t i = 0; i < f->n; i++) {
		if (!same_bdf(f->fns[i].bdf, bdf))
			continue;
		switch (off) {
		case PCI_VENDOR_ID: return 0x00011b36;
		case 0x0c: return (uint32_t)f->fns[i].header << 16;
		case 0x18: return (uint32_t)f->fns[i].secondary << 8 | 0xffu << 16;
		}
		return 0;
	}
	return 0xffffffffu;
}

static void fake_log(struct fake *f, const char *text)
{
	f->used += (size_t)snprintf(f->log + f->used, LOG_MAX - f->used, "%s ", text);
}

static void fake_root(void *ctx, uint16_t segment, uint8_t bus, enum pci_root_source source)
{
	char t[48];

	snprintf(t, sizeof(t), "root:%x:%02x:%s", segment, bus, pci_root_source_name(source));
	fake_log(ctx, t);
}

static void fake_function(void *ctx, struct pci_bdf bdf)
{
	char b[PCI_BDF_STR_LEN];

	pci_bdf_format(bdf, b);
	fake_log(ctx, b);
}

static void fake_bridge(void *ctx, struct pci_bdf bdf, uint8_t secondary, uint8_t subordinate,
			enum pci_bridge_decision decision)
{
	char t[64];

	(void)bdf;
	(void)subordinate;
	snprintf(t, sizeof(t), "bridge->%02x:%s", secondary, pci_bridge_decision_name(decision));
	fake_log(ctx, t);
}

static const struct pci_walk_ops fake_ops = {
	.read32 = fake_read32, .root = fake_root, .function = fake_function, .bridge = fake_bridge,
};

static void walk_fake(struct fake *f, const struct pci_bus_range *ranges, size_t n,
		      struct pci_walk_stats *st)
{
	struct pci_walk_ops ops = fake_ops;

	ops.ctx = f;
	memset(st, 0, sizeof(*st));
	pci_walk(ranges, n, &ops, st);
}

UNIT_TEST(pci_plan_sorts_merges_and_drops_ranges)
{
	const struct pci_bus_range in[] = {
		{ 1, 0, 15 }, { 0, 64, 127 }, { 0, 0, 63 }, { 0, 100, 200 }, { 0, 9, 3 }, { 2, 5, 5 },
	};
	struct pci_bus_range out[8];
	size_t n = pci_plan_ranges(in, 6, out, 8);

	CHECK_EQ(n, 3);
	CHECK_EQ(out[0].segment, 0);
	CHECK_EQ(out[0].first, 0);
	CHECK_EQ(out[0].last, 200); /* 0-63, 64-127 (adjacent), 100-200 (overlapping) */
	CHECK_EQ(out[1].segment, 1);
	CHECK_EQ(out[1].last, 15);
	CHECK_EQ(out[2].segment, 2);
	CHECK_EQ(out[2].first, 5);
	CHECK_EQ(out[2].last, 5);
	CHECK_EQ(pci_plan_ranges(in, 6, out, 1), 1);
}

/* QEMU q35 with -device pxb-pcie,bus_nr=0x40 and a root port on it holding an NVMe. */
UNIT_TEST(pci_walk_finds_extra_root_bus_and_its_bridges)
{
	struct fake f = { .n = 6 };
	struct pci_walk_stats st;
	const struct pci_bus_range all = { 0, 0, 255 };

	f.fns[0] = (struct fake_fn){ { 0, 0, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };   /* host bridge */
	f.fns[1] = (struct fake_fn){ { 0, 0, 2, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };   /* pxb host */
	f.fns[2] = (struct fake_fn){ { 0, 0, 3, 0 }, PCI_HEADER_TYPE_BRIDGE, 1 };   /* root port */
	f.fns[3] = (struct fake_fn){ { 0, 1, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };   /* nvme a */
	f.fns[4] = (struct fake_fn){ { 0, 0x40, 0, 0 }, PCI_HEADER_TYPE_BRIDGE, 0x41 };
	f.fns[5] = (struct fake_fn){ { 0, 0x41, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 }; /* nvme b */
	walk_fake(&f, &all, 1, &st);
	CHECK_STR(f.log, "root:0:00:first-bus 0000:00:00.0 0000:00:02.0 0000:00:03.0 bridge->01:ok "
			 "0000:01:00.0 root:0:40:probe 0000:40:00.0 bridge->41:ok 0000:41:00.0 ");
	CHECK_EQ(st.roots, 2);
	CHECK_EQ(st.buses, 4);
	CHECK_EQ(st.functions, 6);
	CHECK_EQ(st.bridges, 2);
}

UNIT_TEST(pci_walk_bridge_decisions_and_multifunction)
{
	struct fake f = { .n = 6 };
	struct pci_walk_stats st;
	const struct pci_bus_range window = { 0, 0, 7 };

	f.fns[0] = (struct fake_fn){ { 0, 0, 1, 0 }, PCI_HEADER_TYPE_BRIDGE | PCI_HEADER_MULTIFUNCTION, 2 };
	f.fns[1] = (struct fake_fn){ { 0, 0, 1, 3 }, PCI_HEADER_TYPE_BRIDGE, 2 };  /* same bus again */
	f.fns[2] = (struct fake_fn){ { 0, 0, 2, 0 }, PCI_HEADER_TYPE_BRIDGE, 0 };  /* unassigned */
	f.fns[3] = (struct fake_fn){ { 0, 0, 3, 0 }, PCI_HEADER_TYPE_BRIDGE, 9 };  /* beyond window */
	f.fns[4] = (struct fake_fn){ { 0, 2, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };
	f.fns[5] = (struct fake_fn){ { 0, 9, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };  /* unreachable */
	walk_fake(&f, &window, 1, &st);
	CHECK_STR(f.log, "root:0:00:first-bus 0000:00:01.0 bridge->02:ok 0000:02:00.0 0000:00:01.3 "
			 "bridge->02:secondary-bus-already-scanned 0000:00:02.0 "
			 "bridge->00:secondary-bus-unassigned 0000:00:03.0 "
			 "bridge->09:secondary-bus-outside-config-range ");
	CHECK_EQ(st.roots, 1);
	CHECK_EQ(st.functions, 5);
}

UNIT_TEST(pci_walk_segments_have_their_own_bus_numbers)
{
	struct fake f = { .n = 2 };
	struct pci_walk_stats st;
	const struct pci_bus_range ranges[] = { { 0, 0, 3 }, { 1, 0, 3 } };

	f.fns[0] = (struct fake_fn){ { 0, 0, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };
	f.fns[1] = (struct fake_fn){ { 1, 2, 0, 0 }, PCI_HEADER_TYPE_NORMAL, 0 };
	walk_fake(&f, ranges, 2, &st);
	CHECK_STR(f.log, "root:0:00:first-bus 0000:00:00.0 root:1:00:first-bus root:1:02:probe "
			 "0001:02:00.0 ");
	CHECK_EQ(st.roots, 3);
	/* Each bus of each range is probed once at most: 32 vendor reads per empty bus. */
	CHECK(f.reads < 2 * 4 * 32 * 2);
}

/* ------------------------------------------------------------ extended capability reads */

struct ext_fake {
	uint8_t full[PCIE_CFG_SIZE];
	unsigned reads;
};

static uint32_t ext_read32(void *ctx, uint16_t off)
{
	struct ext_fake *f = ctx;
	uint32_t v;

	f->reads++;
	memcpy(&v, f->full + off, sizeof(v));
	return v;
}

static void put_ext_header(uint8_t *cfg, unsigned off, uint16_t id, unsigned next)
{
	uint32_t h = (uint32_t)id | 1u << 16 | (uint32_t)next << 20;

	memcpy(cfg + off, &h, sizeof(h));
}

/* The walk over the sparse image the reader builds equals the walk over the full one. */
static unsigned check_same_walk(struct ext_fake *f, size_t want_caps, enum pci_cap_walk_result want)
{
	static uint8_t sparse[PCIE_CFG_SIZE];
	struct pci_cap full_caps[PCI_CAPS_MAX], sparse_caps[PCI_CAPS_MAX];
	enum pci_cap_walk_result full_result, sparse_result;

	memset(sparse, 0, sizeof(sparse));
	memcpy(sparse, f->full, PCI_CFG_SIZE);
	f->reads = 0;
	unsigned reads = pci_ext_caps_read(sparse, ext_read32, f);
	size_t nf = pci_cap_walk(f->full, PCIE_CFG_SIZE, full_caps, PCI_CAPS_MAX, &full_result);
	size_t ns = pci_cap_walk(sparse, PCIE_CFG_SIZE, sparse_caps, PCI_CAPS_MAX, &sparse_result);

	CHECK_EQ(reads, f->reads);
	CHECK_EQ(nf, want_caps);
	CHECK_EQ(ns, nf);
	CHECK_EQ(sparse_result, full_result);
	CHECK_EQ(sparse_result, want);
	for (size_t i = 0; i < ns && i < nf; i++) {
		CHECK_EQ(sparse_caps[i].offset, full_caps[i].offset);
		CHECK_EQ(sparse_caps[i].id, full_caps[i].id);
	}
	return reads;
}

UNIT_TEST(pci_ext_caps_read_follows_the_chain_only)
{
	static struct ext_fake f;

	/* Noise in the extended space but the chain: none of it may be read. */
	memset(f.full, 0, PCI_CFG_SIZE);
	memset(f.full + PCI_CFG_SIZE, 0x5a, PCIE_CFG_SIZE - PCI_CFG_SIZE);
	put_ext_header(f.full, 0x100, PCIE_EXT_CAP_ID_AER, 0x240);
	put_ext_header(f.full, 0x240, PCIE_EXT_CAP_ID_ACS, 0x148);
	put_ext_header(f.full, 0x148, PCIE_EXT_CAP_ID_SRIOV, 0);
	CHECK_EQ(check_same_walk(&f, 3, PCI_CAPS_OK), 3);
}

UNIT_TEST(pci_ext_caps_read_empty_and_absent)
{
	static struct ext_fake f;

	memset(f.full, 0, sizeof(f.full));
	CHECK_EQ(check_same_walk(&f, 0, PCI_CAPS_OK), 1);
	memset(f.full + PCI_CFG_SIZE, 0xff, PCIE_CFG_SIZE - PCI_CFG_SIZE);
	CHECK_EQ(check_same_walk(&f, 0, PCI_CAPS_OK), 1);
}

UNIT_TEST(pci_ext_caps_read_stops_where_the_walk_finds_corruption)
{
	static struct ext_fake f;

	memset(f.full, 0, sizeof(f.full));
	put_ext_header(f.full, 0x100, PCIE_EXT_CAP_ID_AER, 0x180);
	put_ext_header(f.full, 0x180, PCIE_EXT_CAP_ID_ATS, 0x100); /* back to the first */
	CHECK_EQ(check_same_walk(&f, 2, PCI_CAPS_LOOP), 2);
	put_ext_header(f.full, 0x180, PCIE_EXT_CAP_ID_ATS, 0x40);  /* into the conventional space */
	CHECK_EQ(check_same_walk(&f, 2, PCI_CAPS_BAD_POINTER), 2);
	put_ext_header(f.full, 0x180, PCIE_EXT_CAP_ID_ATS, 0x180); /* to itself */
	CHECK_EQ(check_same_walk(&f, 2, PCI_CAPS_LOOP), 2);
}
