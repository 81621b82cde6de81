/* ACPI parser tests: real QEMU 7.2 tables (captured) plus hand-broken ones. */
#include "unit.h"

#include <stdlib.h>

#include "acpi.h"
#include "acpi_fixture.h"

#define MAX_TABLE_LEN (1u << 20)

/* The capture a test walks: its RSDP and tables, in a fake memory. */
static void load_aw39(struct fake_mem *m)
{
	memset(m, 0, sizeof(*m));
	fake_mem_add_all(m, qemu72_q35_iommu_aw39_tables,
			 FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables));
}

UNIT_TEST(acpi_rsdp_v1_from_qemu)
{
	struct acpi_rsdp r;

	CHECK_EQ(acpi_rsdp_parse(qemu72_q35_iommu_aw39_rsdp, sizeof(qemu72_q35_iommu_aw39_rsdp), &r),
		 ACPI_OK);
	CHECK_EQ(r.revision, 0);
	CHECK_STR(r.oem_id, "BOCHS ");
	CHECK_EQ(r.rsdt_addr, 0x7fe233e);
	CHECK_EQ(r.xsdt_addr, 0);
	CHECK_EQ(r.length, ACPI_RSDP_V1_LEN);
}

UNIT_TEST(acpi_rsdp_v1_rejects_damage)
{
	uint8_t b[ACPI_RSDP_V1_LEN];
	struct acpi_rsdp r;

	memcpy(b, qemu72_q35_iommu_aw39_rsdp, sizeof(b));
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b) - 1, &r), ACPI_ERR_TRUNCATED);
	b[ACPI_RSDP_OFF_RSDT] ^= 0x10;
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_ERR_CHECKSUM);
	struct acpi_tables t;
	struct fake_mem m = { 0 };

	CHECK_EQ(acpi_tables_open(&t, b, sizeof(b), fake_mem_map, &m, MAX_TABLE_LEN),
		 ACPI_ERR_CHECKSUM);
	CHECK(!t.rsdp_valid);
	CHECK_EQ(m.map_calls, 0); /* nothing is read through a bad RSDP */
	memcpy(b, qemu72_q35_iommu_aw39_rsdp, sizeof(b));
	b[0] = 'X';
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_ERR_SIGNATURE);
}

/* A revision-2 RSDP pointing at xsdt (and rsdt), both checksums valid. */
static void make_rsdp_v2(uint8_t b[ACPI_RSDP_V2_LEN], uint32_t rsdt, uint64_t xsdt)
{
	memset(b, 0, ACPI_RSDP_V2_LEN);
	memcpy(b, ACPI_RSDP_SIGNATURE, ACPI_RSDP_SIGNATURE_LEN);
	memcpy(b + ACPI_RSDP_OFF_OEM_ID, "PROOFB", ACPI_OEM_ID_LEN);
	b[ACPI_RSDP_OFF_REVISION] = 2;
	for (int i = 0; i < 4; i++)
		b[ACPI_RSDP_OFF_RSDT + i] = (uint8_t)(rsdt >> (8 * i));
	b[ACPI_RSDP_OFF_LENGTH] = ACPI_RSDP_V2_LEN;
	for (int i = 0; i < 8; i++)
		b[ACPI_RSDP_OFF_XSDT + i] = (uint8_t)(xsdt >> (8 * i));
	fixture_fix_checksum(b, ACPI_RSDP_V1_LEN, 8);
	fixture_fix_checksum(b, ACPI_RSDP_V2_LEN, 32);
}

UNIT_TEST(acpi_rsdp_v2_extended_checksum)
{
	uint8_t b[ACPI_RSDP_V2_LEN];
	struct acpi_rsdp r;

	make_rsdp_v2(b, 0x1000, 0x123456789000ull);
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_OK);
	CHECK_EQ(r.revision, 2);
	CHECK_EQ(r.xsdt_addr, 0x123456789000ull);
	CHECK_EQ(r.length, ACPI_RSDP_V2_LEN);
	/* A v2 RSDP cut to the v1 size cannot be trusted. */
	CHECK_EQ(acpi_rsdp_parse(b, ACPI_RSDP_V1_LEN, &r), ACPI_ERR_TRUNCATED);
	/* Damage beyond byte 20 is caught only by the extended checksum. */
	b[ACPI_RSDP_OFF_XSDT] ^= 1;
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_ERR_CHECKSUM);
}

UNIT_TEST(acpi_rsdp_v2_length_field)
{
	uint8_t b[ACPI_RSDP_V2_LEN];
	struct acpi_rsdp r;

	make_rsdp_v2(b, 0x1000, 0x2000);
	b[ACPI_RSDP_OFF_LENGTH] = 35;
	fixture_fix_checksum(b, ACPI_RSDP_V2_LEN, 32);
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_ERR_LENGTH);
	b[ACPI_RSDP_OFF_LENGTH] = 40; /* claims more than the 36 bytes we hold */
	CHECK_EQ(acpi_rsdp_parse(b, sizeof(b), &r), ACPI_ERR_TRUNCATED);
}

UNIT_TEST(acpi_table_check_cases)
{
	const struct acpi_fixture_table *hpet = fixture_find(
		qemu72_q35_iommu_aw39_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables), "HPET");
	struct acpi_header h;
	uint8_t b[64];

	CHECK(hpet != NULL);
	CHECK_EQ(acpi_table_check(hpet->bytes, hpet->len, &h), ACPI_OK);
	CHECK_STR(h.sig, "HPET");
	CHECK_EQ(h.length, 56);
	CHECK_STR(h.oem_id, "BOCHS ");
	CHECK_STR(h.oem_table_id, "BXPC    ");
	CHECK_EQ(acpi_table_check(hpet->bytes, hpet->len - 1, &h), ACPI_ERR_TRUNCATED);
	CHECK_EQ(acpi_table_check(hpet->bytes, ACPI_HEADER_LEN - 1, &h), ACPI_ERR_TRUNCATED);
	memcpy(b, hpet->bytes, hpet->len);
	b[40] ^= 0x55;
	CHECK_EQ(acpi_table_check(b, hpet->len, &h), ACPI_ERR_CHECKSUM);
	b[ACPI_HDR_OFF_LENGTH] = 35;
	CHECK_EQ(acpi_table_check(b, sizeof(b), &h), ACPI_ERR_LENGTH);
}

static const char *const aw39_sigs[] = { "FACP", "APIC", "HPET", "MCFG", "DMAR", "WAET" };

UNIT_TEST(acpi_walk_qemu_rsdt)
{
	struct fake_mem m;
	struct acpi_tables t;
	struct acpi_table_ref ref;

	load_aw39(&m);
	CHECK_EQ(acpi_tables_open(&t, qemu72_q35_iommu_aw39_rsdp, sizeof(qemu72_q35_iommu_aw39_rsdp),
				  fake_mem_map, &m, MAX_TABLE_LEN), ACPI_OK);
	CHECK_EQ(t.root_addr, 0x7fe233e);
	CHECK_EQ(t.entry_size, ACPI_RSDT_ENTRY_SIZE);
	CHECK_EQ(t.entry_count, 6);
	CHECK(!t.xsdt_fallback);
	for (unsigned i = 0; i < t.entry_count; i++) {
		CHECK_EQ(acpi_tables_entry(&t, i, &ref), ACPI_OK);
		CHECK_STR(ref.header.sig, aw39_sigs[i]);
		CHECK(ref.table != NULL);
	}
	CHECK_EQ(acpi_tables_entry(&t, 6, &ref), ACPI_ERR_NOT_FOUND);
	CHECK_EQ(acpi_tables_find(&t, "DMAR", 0, &ref), ACPI_OK);
	CHECK_EQ(ref.addr, 0x7fe2296);
	CHECK_EQ(ref.header.length, 128);
	CHECK_EQ(acpi_tables_find(&t, "DMAR", 1, &ref), ACPI_ERR_NOT_FOUND);
	CHECK_EQ(acpi_tables_find(&t, "SSDT", 0, &ref), ACPI_ERR_NOT_FOUND);
	CHECK(ref.table == NULL);
}

UNIT_TEST(acpi_walk_all_captures)
{
	static const struct {
		const uint8_t *rsdp;
		size_t rsdp_len;
		const struct acpi_fixture_table *tables;
		size_t count;
	} caps[] = {
		{ qemu72_q35_iommu_aw39_rsdp, sizeof(qemu72_q35_iommu_aw39_rsdp),
		  qemu72_q35_iommu_aw39_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables) },
		{ qemu72_q35_iommu_aw48_rootport_rsdp, sizeof(qemu72_q35_iommu_aw48_rootport_rsdp),
		  qemu72_q35_iommu_aw48_rootport_tables,
		  FIXTURE_COUNT(qemu72_q35_iommu_aw48_rootport_tables) },
		{ qemu72_q35_iommu_aw48_ovmf_rsdp, sizeof(qemu72_q35_iommu_aw48_ovmf_rsdp),
		  qemu72_q35_iommu_aw48_ovmf_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw48_ovmf_tables) },
	};

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct fake_mem m = { 0 };
		struct acpi_tables t;
		struct acpi_table_ref ref;

		fake_mem_add_all(&m, caps[c].tables, caps[c].count);
		CHECK_EQ(acpi_tables_open(&t, caps[c].rsdp, caps[c].rsdp_len, fake_mem_map, &m,
					  MAX_TABLE_LEN), ACPI_OK);
		/* Every table but the root itself is listed in the root. */
		CHECK_EQ(t.entry_count, caps[c].count - 1);
		for (unsigned i = 0; i < t.entry_count; i++)
			CHECK_EQ(acpi_tables_entry(&t, i, &ref), ACPI_OK);
		CHECK_EQ(acpi_tables_find(&t, "DMAR", 0, &ref), ACPI_OK);
		CHECK_EQ(acpi_tables_find(&t, "MCFG", 0, &ref), ACPI_OK);
	}
}

/* Writable copies of the aw39 tables so tests can break one. */
struct mutable_tables {
	uint8_t bytes[8][256];
	struct fake_mem mem;
};

static void load_mutable_aw39(struct mutable_tables *mt)
{
	memset(mt, 0, sizeof(*mt));
	for (size_t i = 0; i < FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables); i++) {
		const struct acpi_fixture_table *src = &qemu72_q35_iommu_aw39_tables[i];

		memcpy(mt->bytes[i], src->bytes, src->len);
		fake_mem_add(&mt->mem, src->addr, mt->bytes[i], src->len);
	}
}

static uint8_t *mutable_table(struct mutable_tables *mt, const char *sig)
{
	for (size_t i = 0; i < mt->mem.count; i++)
		if (memcmp(mt->bytes[i], sig, 4) == 0)
			return mt->bytes[i];
	return NULL;
}

static enum acpi_status open_mutable(struct mutable_tables *mt, struct acpi_tables *t,
				     uint32_t max_len)
{
	return acpi_tables_open(t, qemu72_q35_iommu_aw39_rsdp, sizeof(qemu72_q35_iommu_aw39_rsdp),
				fake_mem_map, &mt->mem, max_len);
}

UNIT_TEST(acpi_walk_reports_bad_checksum_and_continues)
{
	struct mutable_tables mt;
	struct acpi_tables t;
	struct acpi_table_ref ref;

	load_mutable_aw39(&mt);
	mutable_table(&mt, "HPET")[50] ^= 0x01;
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_OK);
	CHECK_EQ(acpi_tables_entry(&t, 2, &ref), ACPI_ERR_CHECKSUM);
	CHECK_STR(ref.header.sig, "HPET");
	CHECK(ref.table != NULL);
	CHECK_EQ(acpi_tables_entry(&t, 3, &ref), ACPI_OK);
	CHECK_EQ(acpi_tables_find(&t, "HPET", 0, &ref), ACPI_ERR_CHECKSUM);
	CHECK_EQ(acpi_tables_find(&t, "DMAR", 0, &ref), ACPI_OK);
}

UNIT_TEST(acpi_walk_never_maps_beyond_claims_or_bound)
{
	struct mutable_tables mt;
	struct acpi_tables t;
	struct acpi_table_ref ref;
	uint8_t *apic;

	load_mutable_aw39(&mt);
	apic = mutable_table(&mt, "APIC");
	/* Claims 200 bytes where only 120 exist: the map refuses, no overrun. */
	apic[ACPI_HDR_OFF_LENGTH] = 200;
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_OK);
	CHECK_EQ(acpi_tables_entry(&t, 1, &ref), ACPI_ERR_UNMAPPED);
	/* Claims 16 MiB: refused by the bound before any map of that size. */
	apic[ACPI_HDR_OFF_LENGTH + 3] = 1;
	mt.mem.largest_request = 0;
	CHECK_EQ(acpi_tables_entry(&t, 1, &ref), ACPI_ERR_LENGTH);
	CHECK(mt.mem.largest_request <= ACPI_HEADER_LEN);
	CHECK_STR(ref.header.sig, "APIC");
	/* Claims less than a header. */
	memset(apic + ACPI_HDR_OFF_LENGTH, 0, 4);
	apic[ACPI_HDR_OFF_LENGTH] = 10;
	CHECK_EQ(acpi_tables_entry(&t, 1, &ref), ACPI_ERR_LENGTH);
	/* A small caller bound turns away the 244-byte FACP. */
	CHECK_EQ(open_mutable(&mt, &t, 200), ACPI_OK);
	CHECK_EQ(acpi_tables_entry(&t, 0, &ref), ACPI_ERR_LENGTH);
	CHECK_EQ(acpi_tables_entry(&t, 2, &ref), ACPI_OK);
}

UNIT_TEST(acpi_walk_root_damage)
{
	struct mutable_tables mt;
	struct acpi_tables t;
	uint8_t *rsdt;
	struct acpi_table_ref ref;

	load_mutable_aw39(&mt);
	rsdt = mutable_table(&mt, "RSDT");
	rsdt[ACPI_HEADER_LEN] = 0; /* first entry, low byte: checksum now off */
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_ERR_CHECKSUM);
	CHECK(t.rsdp_valid); /* the failure is the root table's, not the RSDP's */
	CHECK(t.root == NULL);
	CHECK_EQ(t.entry_count, 0);

	load_mutable_aw39(&mt);
	rsdt = mutable_table(&mt, "RSDT");
	memset(rsdt + ACPI_HEADER_LEN, 0, 4); /* null first entry */
	fixture_fix_checksum(rsdt, 60, ACPI_HDR_OFF_CHECKSUM);
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_OK);
	CHECK_EQ(acpi_tables_entry(&t, 0, &ref), ACPI_ERR_NULL_ADDR);
	CHECK_EQ(acpi_tables_find(&t, "APIC", 0, &ref), ACPI_OK);

	/* A length that leaves half an entry. */
	rsdt[ACPI_HDR_OFF_LENGTH] = 58;
	fixture_fix_checksum(rsdt, 58, ACPI_HDR_OFF_CHECKSUM);
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_ERR_LENGTH);

	/* The RSDP's RSDT pointer aims at a non-RSDT table. */
	load_mutable_aw39(&mt);
	memcpy(mutable_table(&mt, "RSDT"), "XXXX", 4);
	fixture_fix_checksum(mutable_table(&mt, "XXXX"), 60, ACPI_HDR_OFF_CHECKSUM);
	CHECK_EQ(open_mutable(&mt, &t, MAX_TABLE_LEN), ACPI_ERR_SIGNATURE);
}

/* Builds an XSDT (header from the RSDT, 8-byte entries) listing addrs. */
static size_t make_xsdt(uint8_t *buf, const uint64_t *addrs, size_t n)
{
	size_t len = ACPI_HEADER_LEN + n * ACPI_XSDT_ENTRY_SIZE;

	memcpy(buf, qemu72_q35_iommu_aw39_tables[FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables) - 1].bytes,
	       ACPI_HEADER_LEN);
	memcpy(buf, "XSDT", 4);
	memset(buf + ACPI_HDR_OFF_LENGTH, 0, 4);
	buf[ACPI_HDR_OFF_LENGTH] = (uint8_t)len;
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			buf[ACPI_HEADER_LEN + i * 8 + b] = (uint8_t)(addrs[i] >> (8 * b));
	fixture_fix_checksum(buf, len, ACPI_HDR_OFF_CHECKSUM);
	return len;
}

#define XSDT_ADDR 0x7ff0000ull
#define HIGH_DMAR_ADDR 0x4000000000ull /* 256 GiB: above 4 GiB on purpose */

UNIT_TEST(acpi_walk_xsdt_with_table_above_4g)
{
	const struct acpi_fixture_table *dmar = fixture_find(
		qemu72_q35_iommu_aw39_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables), "DMAR");
	const uint64_t addrs[] = { 0x7fe225a /* MCFG */, HIGH_DMAR_ADDR };
	uint8_t xsdt[64], rsdp[ACPI_RSDP_V2_LEN];
	struct fake_mem m;
	struct acpi_tables t;
	struct acpi_table_ref ref;
	size_t xlen = make_xsdt(xsdt, addrs, 2);

	load_aw39(&m);
	fake_mem_add(&m, XSDT_ADDR, xsdt, xlen);
	fake_mem_add(&m, HIGH_DMAR_ADDR, dmar->bytes, dmar->len);
	make_rsdp_v2(rsdp, 0x7fe233e, XSDT_ADDR);
	CHECK_EQ(acpi_tables_open(&t, rsdp, sizeof(rsdp), fake_mem_map, &m, MAX_TABLE_LEN), ACPI_OK);
	CHECK_EQ(t.root_addr, XSDT_ADDR);
	CHECK_EQ(t.entry_size, ACPI_XSDT_ENTRY_SIZE);
	CHECK_EQ(t.entry_count, 2);
	CHECK_EQ(acpi_tables_find(&t, "DMAR", 0, &ref), ACPI_OK);
	CHECK_EQ(ref.addr, HIGH_DMAR_ADDR);
	CHECK_EQ(acpi_tables_find(&t, "HPET", 0, &ref), ACPI_ERR_NOT_FOUND);

	/* Broken XSDT: the RSDT beside it is used instead, and that is recorded. */
	xsdt[ACPI_HEADER_LEN] ^= 1;
	CHECK_EQ(acpi_tables_open(&t, rsdp, sizeof(rsdp), fake_mem_map, &m, MAX_TABLE_LEN), ACPI_OK);
	CHECK(t.xsdt_fallback);
	CHECK_EQ(t.xsdt_status, ACPI_ERR_CHECKSUM);
	CHECK_EQ(t.entry_size, ACPI_RSDT_ENTRY_SIZE);
	CHECK_EQ(acpi_tables_find(&t, "HPET", 0, &ref), ACPI_OK);
}

UNIT_TEST(acpi_mcfg_qemu_q35)
{
	const struct acpi_fixture_table *mcfg = fixture_find(
		qemu72_q35_iommu_aw39_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables), "MCFG");
	struct acpi_mcfg_entry e;
	unsigned count;

	CHECK_EQ(acpi_mcfg_count(mcfg->bytes, mcfg->len, &count), ACPI_OK);
	CHECK_EQ(count, 1);
	CHECK_EQ(acpi_mcfg_get(mcfg->bytes, mcfg->len, 0, &e), ACPI_OK);
	CHECK_EQ(e.base, 0xb0000000);
	CHECK_EQ(e.segment, 0);
	CHECK_EQ(e.bus_start, 0);
	CHECK_EQ(e.bus_end, 0xff);
	CHECK_EQ(acpi_mcfg_get(mcfg->bytes, mcfg->len, 1, &e), ACPI_ERR_NOT_FOUND);
	CHECK_EQ(acpi_mcfg_count(mcfg->bytes, mcfg->len - 1, &count), ACPI_ERR_TRUNCATED);
}

UNIT_TEST(acpi_mcfg_malformed)
{
	const struct acpi_fixture_table *mcfg = fixture_find(
		qemu72_q35_iommu_aw39_tables, FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables), "MCFG");
	uint8_t b[80];
	struct acpi_mcfg_entry e;
	unsigned count;

	memcpy(b, mcfg->bytes, mcfg->len);
	b[ACPI_MCFG_ENTRIES_OFF + ACPI_MCFG_OFF_BUS_START] = 0x20;
	b[ACPI_MCFG_ENTRIES_OFF + ACPI_MCFG_OFF_BUS_END] = 0x10;
	CHECK_EQ(acpi_mcfg_get(b, mcfg->len, 0, &e), ACPI_ERR_VALUE);
	memset(b + ACPI_MCFG_ENTRIES_OFF, 0, 8);
	b[ACPI_MCFG_ENTRIES_OFF + ACPI_MCFG_OFF_BUS_END] = 0x30;
	CHECK_EQ(acpi_mcfg_get(b, mcfg->len, 0, &e), ACPI_ERR_VALUE);
	b[ACPI_HDR_OFF_LENGTH] = 70; /* 44 + 26: a partial second entry */
	CHECK_EQ(acpi_mcfg_count(b, sizeof(b), &count), ACPI_ERR_LENGTH);
	b[ACPI_HDR_OFF_LENGTH] = 40; /* shorter than the fixed part */
	CHECK_EQ(acpi_mcfg_count(b, sizeof(b), &count), ACPI_ERR_LENGTH);
	memcpy(b, "MCFH", 4);
	CHECK_EQ(acpi_mcfg_count(b, sizeof(b), &count), ACPI_ERR_SIGNATURE);
}

/* Random byte damage anywhere: the walk must stay within what it maps and never claim ok wrongly. */
UNIT_TEST(acpi_walk_fuzz)
{
	struct mutable_tables mt;
	uint32_t seed = 12345;

	for (int round = 0; round < 3000; round++) {
		struct acpi_tables t;
		struct acpi_table_ref ref;

		load_mutable_aw39(&mt);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t which = (seed >> 8) % mt.mem.count;
			size_t at = (seed >> 16) % mt.mem.regions[which].len;

			mt.bytes[which][at] = (uint8_t)(seed >> 24);
		}
		if (open_mutable(&mt, &t, 4096) != ACPI_OK)
			continue;
		for (unsigned i = 0; i < t.entry_count; i++) {
			if (acpi_tables_entry(&t, i, &ref) != ACPI_OK)
				continue;
			CHECK(ref.header.length <= 4096);
			CHECK(acpi_checksum_ok(ref.table, ref.header.length));
		}
	}
}
