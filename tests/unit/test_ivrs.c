/*
 * IVRS parser and device-to-IOMMU matching: real machines' tables and QEMU
 * 7.2's, each checked against what `iasl -d` decoded (ivrs-iasl.inc), plus
 * hand-made and hand-broken tables.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "acpi.h"
#include "ivrs.h"

struct iasl_range {
	uint8_t kind, entry, dte;
	uint16_t first, last, alias;
};

struct iasl_special {
	uint8_t variety, handle;
	uint16_t devid;
	uint8_t dte;
};

struct iasl_unit {
	uint8_t type, flags;
	uint16_t devid, cap_offset;
	uint64_t base;
	uint16_t segment;
	uint32_t features;
	uint64_t efr;
	const struct iasl_range *ranges;
	unsigned range_count;
	const struct iasl_special *specials;
	unsigned special_count;
};

struct iasl_table {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	const struct iasl_unit *units;
	unsigned unit_count;
};

#include "data/ivrs-iasl.inc"

#define TABLE_COUNT (sizeof(ivrs_iasl_tables) / sizeof(ivrs_iasl_tables[0]))

static struct ivrs_info info; /* large: keep it off the stack */

static const struct iasl_table *table_named(const char *name)
{
	for (size_t i = 0; i < TABLE_COUNT; i++)
		if (strcmp(ivrs_iasl_tables[i].name, name) == 0)
			return &ivrs_iasl_tables[i];
	return NULL;
}

static void check_unit_matches_iasl(const struct ivrs_unit *u, const struct iasl_unit *x,
				    const char *name)
{
	CHECK_EQ(u->type, x->type);
	CHECK_EQ(u->flags, x->flags);
	CHECK_EQ(u->devid, x->devid);
	CHECK_EQ(u->cap_offset, x->cap_offset);
	CHECK_EQ(u->base, x->base);
	CHECK_EQ(u->segment, x->segment);
	CHECK_EQ(u->features, x->features);
	CHECK_EQ(u->has_efr, x->type != IVRS_TYPE_IVHD_LEGACY);
	CHECK_EQ(u->efr, x->efr);
	CHECK_EQ(u->range_count, x->range_count);
	CHECK_EQ(u->special_count, x->special_count);
	for (unsigned i = 0; i < u->range_count && i < x->range_count; i++) {
		const struct ivrs_range *r = &info.ranges[u->range_first + i];
		const struct iasl_range *e = &x->ranges[i];

		CHECK_EQ(r->kind, e->kind);
		CHECK_EQ(r->entry, e->entry);
		CHECK_EQ(r->dte, e->dte);
		CHECK_EQ(r->first, e->first);
		CHECK_EQ(r->last, e->last);
		if (r->kind == IVRS_RANGE_ALIAS)
			CHECK_EQ(r->alias, e->alias);
	}
	for (unsigned i = 0; i < u->special_count && i < x->special_count; i++) {
		const struct ivrs_special *s = &info.specials[u->special_first + i];
		const struct iasl_special *e = &x->specials[i];

		CHECK_EQ(s->variety, e->variety);
		CHECK_EQ(s->handle, e->handle);
		CHECK_EQ(s->devid, e->devid);
		CHECK_EQ(s->dte, e->dte);
	}
	(void)name;
}

/* Every table, every IVHD block iasl decodes (10h, 11h), field by field. */
UNIT_TEST(ivrs_every_table_matches_iasl)
{
	CHECK(TABLE_COUNT >= 15);
	for (size_t t = 0; t < TABLE_COUNT; t++) {
		const struct iasl_table *x = &ivrs_iasl_tables[t];
		enum ivrs_status st = ivrs_parse(x->bytes, x->len, &info);

		if (st != IVRS_OK) {
			unit_fail(__FILE__, __LINE__, "%s: %s (%s)", x->name, ivrs_status_str(st),
				  info.reason);
			continue;
		}
		CHECK_STR(info.reason, "");
		unsigned k = 0;

		for (unsigned i = 0; i < info.unit_count; i++) {
			const struct ivrs_unit *u = &info.units[i];

			if (u->type == IVRS_TYPE_IVHD_MIXED)
				continue; /* iasl 20200925 does not decode 40h */
			if (k < x->unit_count)
				check_unit_matches_iasl(u, &x->units[k], x->name);
			k++;
		}
		CHECK_EQ(k, x->unit_count);
	}
}

UNIT_TEST(ivrs_qemu72_amd_iommu)
{
	const struct iasl_table *t = table_named("qemu72-q35-amdiommu");
	struct ivrs_match m;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_EQ(ivrs_parse(t->bytes, t->len, &info), IVRS_OK);
	CHECK_EQ(info.unit_count, 1);
	CHECK_EQ(info.used_type, IVRS_TYPE_IVHD_LEGACY);
	CHECK_EQ(ivrs_used_unit_count(&info), 1);
	CHECK_EQ(info.units[0].base, 0xfed80000ull);
	CHECK_EQ(info.units[0].devid, IVRS_DEVID(0, 3, 0));
	CHECK(!info.units[0].has_efr);
	CHECK_EQ(info.pa_bits, 40);
	/* The IOMMU itself at 00:03.0 and the ICH9 functions at 00:1f.x are selected. */
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(0, 3, 0), &m), 0);
	CHECK_EQ(m.alias, IVRS_DEVID(0, 3, 0));
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(0, 0x1f, 3), &m), 0);
	/* QEMU lists only what sits on bus 0 when it builds the table. */
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(1, 0, 0), &m), -1);
	CHECK_EQ(m.unit, -1);
	CHECK_EQ(ivrs_find_unit(&info, 1, IVRS_DEVID(0, 3, 0), &m), -1);
	/* The south-bridge IOAPIC behind the IOMMU: 00:14.0, handle 0. */
	CHECK_EQ(info.special_count, 1);
	CHECK_EQ(info.specials[0].variety, IVHD_SPECIAL_IOAPIC);
	CHECK_EQ(info.specials[0].devid, IVRS_DEVID(0, 0x14, 0));
}

UNIT_TEST(ivrs_qemu72_root_port_range)
{
	const struct iasl_table *t = table_named("qemu72-q35-amdiommu-rootport");
	struct ivrs_match m;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_EQ(ivrs_parse(t->bytes, t->len, &info), IVRS_OK);
	/* The root port at 00:04.0 brings a range for its secondary bus 1. */
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(1, 0, 0), &m), 0);
	CHECK_EQ(info.ranges[m.range].kind, IVRS_RANGE_RANGE);
	CHECK_EQ(info.ranges[m.range].first, 0x0100);
	CHECK_EQ(info.ranges[m.range].last, 0x01ff);
	CHECK_EQ(m.alias, IVRS_DEVID(1, 0, 0));
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(2, 0, 0), &m), -1);
}

/* A laptop with 10h, 11h and 40h blocks, IVMDs and an alias range. */
UNIT_TEST(ivrs_real_three_block_types_alias_range)
{
	const struct iasl_table *t = table_named("real-m0590");
	struct ivrs_match m;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_EQ(ivrs_parse(t->bytes, t->len, &info), IVRS_OK);
	CHECK_EQ(info.unit_count, 3);
	CHECK_EQ(info.used_type, IVRS_TYPE_IVHD_MIXED);
	CHECK_EQ(ivrs_used_unit_count(&info), 1);
	CHECK(info.ivmd_count >= 1);
	int u = ivrs_find_unit(&info, 0, IVRS_DEVID(0, 1, 0), &m);

	CHECK_EQ(u, 2); /* the 40h block, not the 10h or 11h one */
	CHECK_EQ(info.units[2].type, IVRS_TYPE_IVHD_MIXED);
	CHECK_EQ(info.units[2].base, 0xfdf00000ull);
	CHECK(info.units[2].has_efr);
	CHECK_EQ(m.alias, IVRS_DEVID(0, 1, 0));
	/* ff:00.0 is in the 0008-fffe range and then in an alias range: the later wins. */
	CHECK_EQ(ivrs_find_unit(&info, 0, 0xff00, &m), 2);
	CHECK_EQ(info.ranges[m.range].kind, IVRS_RANGE_ALIAS);
	CHECK_EQ(m.alias, 0x00a5);
	/* 00:00.0 (below the first range) is not translated by any IOMMU. */
	CHECK_EQ(ivrs_find_unit(&info, 0, 0x0000, &m), -1);
}

/* ---------------------------------------------------------------- made by hand */

struct builder {
	uint8_t b[512];
	size_t len;
};

static void put(struct builder *t, const void *bytes, size_t n)
{
	memcpy(t->b + t->len, bytes, n);
	t->len += n;
}

static void put16(struct builder *t, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	put(t, b, 2);
}

static void put64(struct builder *t, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		put(t, &b, 1);
	}
}

static void table_start(struct builder *t)
{
	memset(t, 0, sizeof(*t));
	put(t, "IVRS", 4);
	t->len = IVRS_BLOCKS_OFF;
	t->b[IVRS_OFF_IVINFO + 1] = 48; /* PA size 48 */
}

static void table_finish(struct builder *t)
{
	uint8_t sum = 0;

	t->b[ACPI_HDR_OFF_LENGTH] = (uint8_t)t->len;
	t->b[ACPI_HDR_OFF_LENGTH + 1] = (uint8_t)(t->len >> 8);
	t->b[ACPI_HDR_OFF_REVISION] = 2;
	t->b[ACPI_HDR_OFF_CHECKSUM] = 0;
	for (size_t i = 0; i < t->len; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[ACPI_HDR_OFF_CHECKSUM] = (uint8_t)-sum;
}

/* Opens an IVHD; returns its offset so block_end can fill in the length. */
static size_t block_start(struct builder *t, uint8_t type, uint64_t base, uint16_t segment)
{
	size_t at = t->len;
	uint8_t hdr[4] = { type, 0, 0, 0 };

	put(t, hdr, 4);
	put16(t, IVRS_DEVID(0, 2, 0));
	put16(t, 0x40);
	put64(t, base);
	put16(t, segment);
	put16(t, 0);
	put(t, "\0\0\0\0", 4);
	if (type != IVRS_TYPE_IVHD_LEGACY) {
		put64(t, 0x1234);
		put64(t, 0);
	}
	return at;
}

static void block_end(struct builder *t, size_t at)
{
	t->b[at + 2] = (uint8_t)(t->len - at);
	t->b[at + 3] = (uint8_t)((t->len - at) >> 8);
}

static void entry4(struct builder *t, uint8_t type, uint16_t devid, uint8_t dte)
{
	uint8_t e[4] = { type, (uint8_t)devid, (uint8_t)(devid >> 8), dte };
	put(t, e, 4);
}

static void entry8(struct builder *t, uint8_t type, uint16_t devid, uint8_t b4, uint16_t w5,
		   uint8_t b7)
{
	uint8_t e[8] = { type, (uint8_t)devid, (uint8_t)(devid >> 8), 0, b4, (uint8_t)w5,
			 (uint8_t)(w5 >> 8), b7 };
	put(t, e, 8);
}

UNIT_TEST(ivrs_hand_made_every_entry_kind)
{
	struct builder t;
	struct ivrs_match m;

	table_start(&t);
	size_t a = block_start(&t, IVRS_TYPE_IVHD_EFR, 0xfeb80000, 0);
	entry4(&t, IVHD_ENTRY_SELECT, IVRS_DEVID(0, 1, 0), 0);
	entry4(&t, IVHD_ENTRY_RANGE_START, IVRS_DEVID(2, 0, 0), 0);
	entry4(&t, IVHD_ENTRY_RANGE_END, IVRS_DEVID(3, 0x1f, 7), 0);
	entry8(&t, IVHD_ENTRY_ALIAS_SELECT, IVRS_DEVID(5, 0, 0), 0, IVRS_DEVID(4, 0, 0), 0);
	entry8(&t, IVHD_ENTRY_ALIAS_RANGE, IVRS_DEVID(6, 0, 0), 0, IVRS_DEVID(0, 0x1e, 0), 0);
	entry4(&t, IVHD_ENTRY_RANGE_END, IVRS_DEVID(6, 0x1f, 7), 0);
	entry8(&t, IVHD_ENTRY_EXT_SELECT, IVRS_DEVID(7, 0, 0), 0x01, 0x0200, 0x80);
	entry8(&t, IVHD_ENTRY_EXT_RANGE, IVRS_DEVID(8, 0, 0), 0, 0, 0);
	entry4(&t, IVHD_ENTRY_RANGE_END, IVRS_DEVID(8, 0, 7), 0);
	entry8(&t, IVHD_ENTRY_SPECIAL, 0, 0x21, IVRS_DEVID(0, 0x14, 0), IVHD_SPECIAL_IOAPIC);
	entry8(&t, IVHD_ENTRY_SPECIAL, 0, 0x00, IVRS_DEVID(0, 0x14, 0), IVHD_SPECIAL_HPET);
	entry4(&t, IVHD_ENTRY_PAD, 0, 0);
	block_end(&t, a);
	size_t b = block_start(&t, IVRS_TYPE_IVHD_EFR, 0xfeb84000, 1);
	entry4(&t, IVHD_ENTRY_ALL, 0, 0x07);
	block_end(&t, b);
	table_finish(&t);

	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_OK);
	CHECK_STR(info.reason, "");
	CHECK_EQ(info.pa_bits, 48);
	CHECK_EQ(info.unit_count, 2);
	CHECK_EQ(ivrs_used_unit_count(&info), 2);
	CHECK_EQ(info.units[0].efr, 0x1234);
	CHECK_EQ(info.units[0].range_count, 6);
	CHECK_EQ(info.units[0].special_count, 2);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(0, 1, 0), &m), 0);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(0, 1, 1), &m), -1);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(3, 4, 5), &m), 0);
	CHECK_EQ(m.alias, IVRS_DEVID(3, 4, 5));
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(5, 0, 0), &m), 0);
	CHECK_EQ(m.alias, IVRS_DEVID(4, 0, 0));
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(6, 3, 1), &m), 0);
	CHECK_EQ(m.alias, IVRS_DEVID(0, 0x1e, 0));
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(7, 0, 0), &m), 0);
	CHECK_EQ(info.ranges[m.range].ext, 0x80020001u);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(8, 0, 7), &m), 0);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(8, 1, 0), &m), -1);
	CHECK_EQ(info.specials[0].handle, 0x21);
	CHECK_EQ(info.specials[1].variety, IVHD_SPECIAL_HPET);
	/* The second IOMMU claims all of segment 1 and nothing of segment 0. */
	CHECK_EQ(ivrs_find_unit(&info, 1, IVRS_DEVID(0x42, 0, 0), &m), 1);
	CHECK_EQ(m.dte, 0x07);
	CHECK_EQ(ivrs_find_unit(&info, 0, IVRS_DEVID(0x42, 0, 0), &m), -1);
}

/* Builds a one-block table whose entries are `entries` (4-byte each). */
static enum ivrs_status parse_entries(const uint8_t (*entries)[4], size_t n)
{
	struct builder t;

	table_start(&t);
	size_t a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0xfed80000, 0);
	for (size_t i = 0; i < n; i++)
		put(&t, entries[i], 4);
	block_end(&t, a);
	table_finish(&t);
	return ivrs_parse(t.b, t.len, &info);
}

UNIT_TEST(ivrs_rejects_unpaired_ranges)
{
	const uint8_t open_only[][4] = { { IVHD_ENTRY_RANGE_START, 0, 1, 0 } };
	const uint8_t end_only[][4] = { { IVHD_ENTRY_RANGE_END, 0, 1, 0 } };
	const uint8_t nested[][4] = { { IVHD_ENTRY_RANGE_START, 0, 1, 0 },
				      { IVHD_ENTRY_SELECT, 8, 1, 0 },
				      { IVHD_ENTRY_RANGE_END, 0, 2, 0 } };
	const uint8_t backwards[][4] = { { IVHD_ENTRY_RANGE_START, 0, 2, 0 },
					 { IVHD_ENTRY_RANGE_END, 0, 1, 0 } };
	const uint8_t padded[][4] = { { IVHD_ENTRY_RANGE_START, 0, 1, 0 },
				      { IVHD_ENTRY_PAD, 0, 0, 0 },
				      { IVHD_ENTRY_RANGE_END, 0, 2, 0 } };

	CHECK_EQ(parse_entries(open_only, 1), IVRS_ERR_ENTRY);
	CHECK(strstr(info.reason, "never closed") != NULL);
	CHECK_EQ(parse_entries(end_only, 1), IVRS_ERR_ENTRY);
	CHECK(strstr(info.reason, "without a start") != NULL);
	CHECK_EQ(parse_entries(nested, 3), IVRS_ERR_ENTRY);
	CHECK_EQ(parse_entries(backwards, 2), IVRS_ERR_VALUE);
	CHECK_EQ(parse_entries(padded, 3), IVRS_OK);
	CHECK_EQ(info.ranges[0].first, 0x100);
	CHECK_EQ(info.ranges[0].last, 0x200);
}

UNIT_TEST(ivrs_rejects_broken_tables)
{
	const struct iasl_table *q = table_named("qemu72-q35-amdiommu");
	static uint8_t buf[512];

	CHECK(q != NULL && q->len <= sizeof(buf));
	if (!q || q->len > sizeof(buf))
		return;
	/* Checksum off by one. */
	memcpy(buf, q->bytes, q->len);
	buf[IVRS_OFF_IVINFO]++;
	CHECK_EQ(ivrs_parse(buf, q->len, &info), IVRS_ERR_TABLE);
	/* Shorter buffer than the header claims. */
	CHECK_EQ(ivrs_parse(q->bytes, q->len - 1, &info), IVRS_ERR_TABLE);

	struct builder t;

	/* An 8-byte entry cut by the end of its block. */
	table_start(&t);
	size_t a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0xfed80000, 0);
	entry4(&t, IVHD_ENTRY_ALIAS_SELECT, 8, 0);
	block_end(&t, a);
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_ENTRY);
	CHECK(strstr(info.reason, "overruns") != NULL);

	/* A variable-length entry outside a 40h block. */
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_EFR, 0xfed80000, 0);
	entry4(&t, IVHD_ENTRY_ACPI_HID, 8, 0);
	block_end(&t, a);
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_ENTRY);

	/* An ACPI HID entry inside a 40h block is skipped by its UID length. */
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_MIXED, 0xfed80000, 0);
	uint8_t hid[IVHD_ENTRY_HID_FIXED_LEN + 3] = { IVHD_ENTRY_ACPI_HID, 0xa0, 0 };
	hid[IVHD_ENTRY_OFF_HID_UID_LEN] = 3;
	put(&t, hid, sizeof(hid));
	entry4(&t, IVHD_ENTRY_SELECT, 8, 0);
	block_end(&t, a);
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_OK);
	CHECK_EQ(info.units[0].hid_count, 1);
	CHECK_EQ(info.units[0].range_count, 1);

	/* MMIO base zero, and one not 16 KiB aligned. */
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0, 0);
	block_end(&t, a);
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_VALUE);
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0xfed81000, 0);
	block_end(&t, a);
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_VALUE);

	/* A block shorter than its fixed part, and one longer than the table. */
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_EFR, 0xfed80000, 0);
	block_end(&t, a);
	t.b[a + 2] = IVHD_LEGACY_ENTRIES_OFF;
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_BLOCK);
	table_start(&t);
	a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0xfed80000, 0);
	block_end(&t, a);
	t.b[a + 2] = 0xf0;
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_BLOCK);

	/* Not an IVRS. */
	memcpy(buf, q->bytes, q->len);
	memcpy(buf, "DMAR", 4);
	buf[ACPI_HDR_OFF_CHECKSUM] = (uint8_t)(buf[ACPI_HDR_OFF_CHECKSUM] + 'I' + 'V' + 'R' + 'S' -
					       'D' - 'M' - 'A' - 'R');
	CHECK_EQ(ivrs_parse(buf, q->len, &info), IVRS_ERR_SIGNATURE);
}

UNIT_TEST(ivrs_capacity_is_an_error_not_a_cut)
{
	struct builder t;

	table_start(&t);
	for (int i = 0; i <= IVRS_MAX_UNITS; i++) {
		size_t a = block_start(&t, IVRS_TYPE_IVHD_LEGACY, 0xfed80000 + 0x4000ull * i, 0);
		block_end(&t, a);
	}
	table_finish(&t);
	CHECK_EQ(ivrs_parse(t.b, t.len, &info), IVRS_ERR_CAPACITY);
	CHECK_STR(ivrs_status_str(IVRS_ERR_CAPACITY), "capacity");
}
