/* DMAR parser and unit-matching tests: QEMU 7.2's real table plus hand-made ones. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "acpi.h"
#include "acpi_fixture.h"
#include "dmar.h"

static const struct acpi_fixture_table *captured_dmar(const struct acpi_fixture_table *t, size_t n)
{
	return fixture_find(t, n, "DMAR");
}

#define AW39_DMAR captured_dmar(qemu72_q35_iommu_aw39_tables, \
				FIXTURE_COUNT(qemu72_q35_iommu_aw39_tables))
#define AW48_RP_DMAR captured_dmar(qemu72_q35_iommu_aw48_rootport_tables, \
				   FIXTURE_COUNT(qemu72_q35_iommu_aw48_rootport_tables))

static struct dmar_info info; /* large: keep it off the stack */

/* A fake PCI topology of bridges for the resolve callback. */
struct fake_bridge {
	struct dmar_bdf at;
	uint8_t secondary, subordinate;
};

struct fake_topology {
	const struct fake_bridge *bridges;
	size_t count;
	unsigned calls;
};

static bool fake_bridge_lookup(void *ctx, struct dmar_bdf b, uint8_t *sec, uint8_t *sub)
{
	struct fake_topology *t = ctx;

	t->calls++;
	for (size_t i = 0; i < t->count; i++) {
		const struct fake_bridge *f = &t->bridges[i];

		if (f->at.segment == b.segment && f->at.bus == b.bus && f->at.device == b.device &&
		    f->at.function == b.function) {
			*sec = f->secondary;
			*sub = f->subordinate;
			return true;
		}
	}
	return false;
}

static struct dmar_bdf bdf(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (struct dmar_bdf){ seg, bus, dev, fn };
}

UNIT_TEST(dmar_qemu72_aw39_real_table)
{
	const struct acpi_fixture_table *t = AW39_DMAR;
	static const uint8_t endpoints[][2] = {
		{ 0x00, 0 }, { 0x01, 0 }, { 0x02, 0 }, { 0x03, 0 }, { 0x1f, 0 }, { 0x1f, 2 }, { 0x1f, 3 },
	};

	CHECK_EQ(dmar_parse(t->bytes, t->len, &info), DMAR_OK);
	CHECK_STR(info.reason, "");
	CHECK_EQ(info.host_addr_width, 39);
	CHECK_EQ(info.flags, DMAR_FLAG_INTR_REMAP);
	CHECK_EQ(info.drhd_count, 1);
	CHECK_EQ(info.rmrr_count, 0);
	CHECK_EQ(info.skipped_structs, 0);
	CHECK_EQ(info.drhd[0].flags, 0); /* QEMU lists devices; not include-all */
	CHECK_EQ(info.drhd[0].segment, 0);
	CHECK_EQ(info.drhd[0].reg_base, 0xfed90000);
	CHECK_EQ(info.drhd[0].scope_count, 8);
	const struct dmar_scope *s = &info.scopes[info.drhd[0].scope_first];

	CHECK_EQ(s[0].type, DMAR_SCOPE_IOAPIC);
	CHECK_EQ(s[0].start_bus, 0xff);
	CHECK_EQ(s[0].path_len, 1);
	for (unsigned i = 0; i < 7; i++) {
		CHECK_EQ(s[1 + i].type, DMAR_SCOPE_ENDPOINT);
		CHECK_EQ(s[1 + i].start_bus, 0);
		CHECK_EQ(s[1 + i].path_len, 1);
		CHECK_EQ(s[1 + i].path[0].device, endpoints[i][0]);
		CHECK_EQ(s[1 + i].path[0].function, endpoints[i][1]);
	}
}

UNIT_TEST(dmar_qemu72_aw39_unit_for_devices)
{
	const struct acpi_fixture_table *t = AW39_DMAR;
	struct dmar_match m;

	CHECK_EQ(dmar_parse(t->bytes, t->len, &info), DMAR_OK);
	/* The NVMe controller sat at 00:03.0 in this capture. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 3, 0), NULL, NULL, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_EXACT);
	CHECK_EQ(m.scope, (int)info.drhd[0].scope_first + 4);
	/* Not listed: no unit claims it (QEMU's DRHD is not include-all). */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 4, 0), NULL, NULL, &m), -1);
	CHECK_EQ(m.kind, DMAR_MATCH_NONE);
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 3, 1), NULL, NULL, &m), -1);
	CHECK_EQ(dmar_find_unit(&info, bdf(1, 0, 3, 0), NULL, NULL, &m), -1);
	/* The IOAPIC scope is an interrupt source id, not a PCI requester. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0xff, 0, 0), NULL, NULL, &m), -1);
}

UNIT_TEST(dmar_qemu72_aw48_behind_root_port)
{
	const struct acpi_fixture_table *t = AW48_RP_DMAR;
	static const struct fake_bridge bridges[] = { { { 0, 0, 3, 0 }, 1, 1 } };
	struct fake_topology topo = { bridges, 1, 0 };
	struct dmar_match m;

	CHECK_EQ(dmar_parse(t->bytes, t->len, &info), DMAR_OK);
	CHECK_EQ(info.host_addr_width, 48);
	CHECK_EQ(info.scopes[info.drhd[0].scope_first + 4].type, DMAR_SCOPE_BRIDGE);
	/* The NVMe controller behind pcie-root-port 00:03.0 (bus 1). */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 1, 0, 0), fake_bridge_lookup, &topo, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_BRIDGE);
	CHECK_EQ(m.scope, (int)info.drhd[0].scope_first + 4);
	/* The bridge itself is named exactly. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 3, 0), fake_bridge_lookup, &topo, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_EXACT);
	/* Bus 2 is outside the bridge's range. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 2, 0, 0), fake_bridge_lookup, &topo, &m), -1);
	/* Without a way to read bridges, the subtree cannot be claimed. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 1, 0, 0), NULL, NULL, &m), -1);
}

/* ---- hand-made tables ---- */

struct builder {
	uint8_t buf[2048];
	size_t len;
	size_t open_struct;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void b_begin(struct builder *b, uint8_t haw_bits)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->buf, "DMAR", 4);
	b->buf[ACPI_HDR_OFF_REVISION] = 1;
	memcpy(b->buf + ACPI_HDR_OFF_OEM_ID, "PROOFB", 6);
	b->buf[DMAR_OFF_HOST_ADDR_WIDTH] = (uint8_t)(haw_bits - 1);
	b->len = DMAR_STRUCTS_OFF;
}

static void b_struct(struct builder *b, uint16_t type, size_t fixed_len)
{
	b->open_struct = b->len;
	put16(b->buf + b->len, type);
	b->len += fixed_len;
	put16(b->buf + b->open_struct + 2, (uint16_t)(b->len - b->open_struct));
}

static void b_drhd(struct builder *b, uint8_t flags, uint16_t seg, uint64_t base)
{
	b_struct(b, DMAR_TYPE_DRHD, DMAR_DRHD_SCOPES_OFF);
	b->buf[b->open_struct + DMAR_DRHD_OFF_FLAGS] = flags;
	put16(b->buf + b->open_struct + DMAR_DRHD_OFF_SEGMENT, seg);
	put64(b->buf + b->open_struct + DMAR_DRHD_OFF_REG_BASE, base);
}

static void b_rmrr(struct builder *b, uint16_t seg, uint64_t base, uint64_t limit)
{
	b_struct(b, DMAR_TYPE_RMRR, DMAR_RMRR_SCOPES_OFF);
	put16(b->buf + b->open_struct + DMAR_RMRR_OFF_SEGMENT, seg);
	put64(b->buf + b->open_struct + DMAR_RMRR_OFF_BASE, base);
	put64(b->buf + b->open_struct + DMAR_RMRR_OFF_LIMIT, limit);
}

/* Appends a scope to the open structure: steps given as dev, fn pairs. */
static void b_scope(struct builder *b, uint8_t type, uint8_t start_bus, unsigned steps,
		    const uint8_t *path)
{
	uint8_t *s = b->buf + b->len;

	s[DMAR_SCOPE_OFF_TYPE] = type;
	s[DMAR_SCOPE_OFF_LENGTH] = (uint8_t)(DMAR_SCOPE_PATH_OFF + 2 * steps);
	s[DMAR_SCOPE_OFF_START_BUS] = start_bus;
	memcpy(s + DMAR_SCOPE_PATH_OFF, path, 2 * steps);
	b->len += DMAR_SCOPE_PATH_OFF + 2 * steps;
	put16(b->buf + b->open_struct + 2, (uint16_t)(b->len - b->open_struct));
}

static size_t b_finish(struct builder *b)
{
	b->buf[ACPI_HDR_OFF_LENGTH] = (uint8_t)b->len;
	b->buf[ACPI_HDR_OFF_LENGTH + 1] = (uint8_t)(b->len >> 8);
	fixture_fix_checksum(b->buf, b->len, ACPI_HDR_OFF_CHECKSUM);
	return b->len;
}

static struct builder bld;

/*
 * Two units on segment 0: unit 0 names 02:00.0 through the bridge at
 * 00:01.0 (a two-step path), unit 1 is include-all; unit 2 on segment 1
 * has a nested pair of bridge scopes.  One RMRR for 02:00.0.
 */
static size_t build_multi_unit(void)
{
	static const uint8_t two_step[] = { 0x01, 0, 0x00, 0 };
	static const uint8_t outer_bridge[] = { 0x1c, 0 };
	static const uint8_t inner_bridge[] = { 0x1c, 0, 0x00, 0 };
	static const uint8_t unknown[] = { 1, 2, 3, 4 };

	b_begin(&bld, 46);
	b_drhd(&bld, 0, 0, 0xfed91000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 2, two_step);
	b_struct(&bld, 0x77, 8); /* unknown future type: skipped */
	memcpy(bld.buf + bld.open_struct + 4, unknown, 4);
	b_drhd(&bld, DMAR_DRHD_FLAG_INCLUDE_PCI_ALL, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_IOAPIC, 0xf0, 1, (const uint8_t[]){ 0x1f, 0 });
	b_drhd(&bld, 0, 1, 0x10000000000ull);
	b_scope(&bld, DMAR_SCOPE_BRIDGE, 0, 1, outer_bridge);
	b_scope(&bld, DMAR_SCOPE_BRIDGE, 0, 2, inner_bridge);
	b_rmrr(&bld, 0, 0x7a000000, 0x7a0fffff);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 2, two_step);
	b_struct(&bld, DMAR_TYPE_ATSR, 8);
	return b_finish(&bld);
}

static const struct fake_bridge multi_bridges[] = {
	{ { 0, 0, 0x01, 0 }, 2, 2 },
	{ { 1, 0, 0x1c, 0 }, 3, 8 },
	{ { 1, 3, 0x00, 0 }, 4, 5 },
};

UNIT_TEST(dmar_hand_made_parse)
{
	size_t len = build_multi_unit();

	CHECK_EQ(dmar_parse(bld.buf, len, &info), DMAR_OK);
	CHECK_EQ(info.host_addr_width, 46);
	CHECK_EQ(info.drhd_count, 3);
	CHECK_EQ(info.skipped_structs, 2);
	CHECK_EQ(info.drhd[1].flags, DMAR_DRHD_FLAG_INCLUDE_PCI_ALL);
	CHECK_EQ(info.drhd[2].segment, 1);
	CHECK_EQ(info.drhd[2].reg_base, 0x10000000000ull);
	CHECK_EQ(info.drhd[2].scope_count, 2);
	CHECK_EQ(info.scopes[info.drhd[0].scope_first].path_len, 2);
	CHECK_EQ(info.rmrr_count, 1);
	CHECK_EQ(info.rmrr[0].base, 0x7a000000);
	CHECK_EQ(info.rmrr[0].limit, 0x7a0fffff);
	CHECK_EQ(info.rmrr[0].scope_count, 1);
	CHECK_EQ(info.scope_count, 5);
}

UNIT_TEST(dmar_multi_step_path_and_include_all)
{
	struct fake_topology topo = { multi_bridges, 3, 0 };
	struct dmar_match m;
	struct dmar_bdf end;

	CHECK_EQ(dmar_parse(bld.buf, build_multi_unit(), &info), DMAR_OK);
	CHECK(dmar_scope_resolve(&info.scopes[0], 0, fake_bridge_lookup, &topo, &end));
	CHECK_EQ(end.bus, 2);
	CHECK_EQ(end.device, 0);
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 2, 0, 0), fake_bridge_lookup, &topo, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_EXACT);
	/* Same bus, other function: only the include-all unit claims it. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 2, 0, 1), fake_bridge_lookup, &topo, &m), 1);
	CHECK_EQ(m.kind, DMAR_MATCH_INCLUDE_ALL);
	CHECK_EQ(m.scope, -1);
	/* 00:00.0 on bus 0 is not where the path ends (bus 2), despite the same dev.fn. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 0, 0), fake_bridge_lookup, &topo, &m), 1);
	/* Unresolvable first step (no bridge there): the explicit scope cannot match. */
	topo.count = 0;
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 2, 0, 0), fake_bridge_lookup, &topo, &m), 1);
	CHECK_EQ(m.kind, DMAR_MATCH_INCLUDE_ALL);
}

UNIT_TEST(dmar_nested_bridges_narrowest_wins)
{
	struct fake_topology topo = { multi_bridges, 3, 0 };
	struct dmar_match m;
	unsigned outer;

	CHECK_EQ(dmar_parse(bld.buf, build_multi_unit(), &info), DMAR_OK);
	outer = info.drhd[2].scope_first;
	CHECK_EQ(dmar_find_unit(&info, bdf(1, 5, 0, 0), fake_bridge_lookup, &topo, &m), 2);
	CHECK_EQ(m.kind, DMAR_MATCH_BRIDGE);
	CHECK_EQ(m.scope, (int)outer + 1); /* inner bridge: buses 4-5 */
	CHECK_EQ(dmar_find_unit(&info, bdf(1, 7, 1, 0), fake_bridge_lookup, &topo, &m), 2);
	CHECK_EQ(m.scope, (int)outer); /* outer bridge: buses 3-8 */
	CHECK_EQ(dmar_find_unit(&info, bdf(1, 9, 0, 0), fake_bridge_lookup, &topo, &m), -1);
	/* Segment 0's include-all unit does not reach segment 1. */
	CHECK_EQ(dmar_find_unit(&info, bdf(1, 0, 2, 0), fake_bridge_lookup, &topo, &m), -1);
}

/* Parses bld after `len` bytes were finished; expects failure with status. */
static void expect_fail(size_t len, enum dmar_status status, const char *reason_part)
{
	CHECK_EQ(dmar_parse(bld.buf, len, &info), status);
	CHECK(strstr(info.reason, reason_part) != NULL);
	if (!strstr(info.reason, reason_part))
		fprintf(stderr, "  reason was: %s\n", info.reason);
}

UNIT_TEST(dmar_malformed_tables)
{
	size_t len;

	len = build_multi_unit();
	CHECK_EQ(dmar_parse(bld.buf, len - 1, &info), DMAR_ERR_TABLE); /* truncated buffer */
	CHECK(strstr(info.reason, "truncated") != NULL);
	bld.buf[60] ^= 1;
	expect_fail(len, DMAR_ERR_TABLE, "checksum");

	memcpy(bld.buf, "DMAX", 4);
	expect_fail(b_finish(&bld), DMAR_ERR_SIGNATURE, "DMAR");

	/* A structure claiming more than the table holds. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	put16(bld.buf + bld.open_struct + 2, 200);
	expect_fail(b_finish(&bld), DMAR_ERR_STRUCT, "length 200 with 16 bytes left");

	/* Two stray bytes after the last structure. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	bld.len += 2;
	expect_fail(b_finish(&bld), DMAR_ERR_STRUCT, "2 bytes left");

	/* DRHD shorter than its fixed part. */
	b_begin(&bld, 39);
	b_struct(&bld, DMAR_TYPE_DRHD, 12);
	expect_fail(b_finish(&bld), DMAR_ERR_STRUCT, "DRHD at 0x30: length 12");

}

UNIT_TEST(dmar_malformed_scopes_and_rmrr)
{
	static const uint8_t one[] = { 3, 0 };

	/* Scope length 7: not 6 + 2n. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, one);
	bld.buf[bld.len - 8 + DMAR_SCOPE_OFF_LENGTH] = 7;
	expect_fail(b_finish(&bld), DMAR_ERR_SCOPE, "length 7");

	/* Scope overruns its DRHD (the DRHD ends first). */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, one);
	bld.buf[bld.len - 8 + DMAR_SCOPE_OFF_LENGTH] = 10;
	expect_fail(b_finish(&bld), DMAR_ERR_SCOPE, "overruns");

	/* Zero-step path. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 0, one);
	expect_fail(b_finish(&bld), DMAR_ERR_SCOPE, "6 + 2n");

}

/* Parses bld (finished at len) expecting success with exactly `kind` warned once. */
static void expect_warning(size_t len, enum dmar_warning_kind kind, const char *detail_part)
{
	CHECK_EQ(dmar_parse(bld.buf, len, &info), DMAR_OK);
	CHECK_EQ(info.warning_count, 1);
	CHECK_EQ(info.warnings_by_kind[kind], 1);
	CHECK_EQ(info.warnings[0].kind, kind);
	CHECK(strstr(info.warnings[0].detail, detail_part) != NULL);
	if (!strstr(info.warnings[0].detail, detail_part))
		fprintf(stderr, "  detail was: %s\n", info.warnings[0].detail);
}

UNIT_TEST(dmar_zero_length_structure_ends_the_walk)
{
	/* Linux stops at a zero length and keeps what it parsed. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 2, 0 });
	b_rmrr(&bld, 0, 0x7a000000, 0x7a0fffff);
	put16(bld.buf + bld.open_struct + 2, 0);
	expect_warning(b_finish(&bld), DMAR_WARN_ZERO_LENGTH, "RMRR at 0x48: length 0");
	CHECK_EQ(info.drhd_count, 1);
	CHECK_EQ(info.drhd[0].scope_count, 1);
	CHECK_EQ(info.rmrr_count, 0);
	CHECK_EQ(info.warnings[0].offset, 0x48);
	CHECK_EQ(info.warnings[0].struct_type, DMAR_TYPE_RMRR);
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 2, 0), NULL, NULL, NULL), 0);
}

UNIT_TEST(dmar_rmrr_tolerance)
{
	/* A ragged RMRR is kept and widened to whole pages, as Linux maps it. */
	b_begin(&bld, 39);
	b_rmrr(&bld, 0, 0x1010, 0x1ffe);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 2, 0 });
	expect_warning(b_finish(&bld), DMAR_WARN_RMRR_NOT_PAGE_GRANULAR,
		       "range 0x1010-0x1ffe is not page granular; used as 0x1000-0x1fff");
	CHECK_EQ(info.rmrr_count, 1);
	CHECK_EQ(info.rmrr[0].base, 0x1000);
	CHECK_EQ(info.rmrr[0].limit, 0x1fff);
	CHECK_EQ(info.rmrr[0].scope_count, 1);
	/* End below base: the old message called this "not page granular"; it names no memory. */
	b_begin(&bld, 39);
	b_rmrr(&bld, 0, 0x3000, 0x1fff);
	b_drhd(&bld, 0, 0, 0xfed90000);
	expect_warning(b_finish(&bld), DMAR_WARN_RMRR_END_BELOW_BASE,
		       "RMRR at 0x30: end 0x1fff is below its base 0x3000; RMRR ignored");
	CHECK(strstr(info.warnings[0].detail, "granular") == NULL);
	CHECK_EQ(info.rmrr_count, 0);
	CHECK_EQ(info.drhd_count, 1); /* the structure after it is still parsed */
}

UNIT_TEST(dmar_drhd_base_tolerance)
{
	/* Not 4 KiB aligned: kept at the address given (Linux maps it as is). */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90010);
	expect_warning(b_finish(&bld), DMAR_WARN_DRHD_BASE_UNALIGNED, "0xfed90010 is not 4 KiB aligned");
	CHECK_EQ(info.drhd_count, 1);
	CHECK_EQ(info.drhd[0].reg_base, 0xfed90010);

	/* The ThinkPad E15 Gen 2 shape: the include-all unit has base 0. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 2, 0 });
	b_drhd(&bld, DMAR_DRHD_FLAG_INCLUDE_PCI_ALL, 0, 0);
	expect_warning(b_finish(&bld), DMAR_WARN_DRHD_BASE_ZERO, "register base 0; unit disabled");
	CHECK_EQ(info.drhd_count, 1);
	CHECK_EQ(info.disabled_count, 1);
	struct dmar_match m;

	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 2, 0), NULL, NULL, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_EXACT);
	/* Everything else belonged to the disabled include-all unit: no unit. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 1, 0, 0), NULL, NULL, &m), -1);
	CHECK_EQ(m.kind, DMAR_MATCH_DISABLED);

	/* A base-0 unit naming a device: that device gets no unit, not the include-all one. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 2, 0 });
	b_drhd(&bld, DMAR_DRHD_FLAG_INCLUDE_PCI_ALL, 0, 0xfed90000);
	expect_warning(b_finish(&bld), DMAR_WARN_DRHD_BASE_ZERO, "DRHD at 0x30");
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 2, 0), NULL, NULL, &m), -1);
	CHECK_EQ(m.kind, DMAR_MATCH_DISABLED);
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 3, 0), NULL, NULL, &m), 0);
	CHECK_EQ(m.kind, DMAR_MATCH_INCLUDE_ALL);
}

UNIT_TEST(dmar_path_out_of_range_drops_only_that_scope)
{
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 32, 0 });
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 3, 0 });
	expect_warning(b_finish(&bld), DMAR_WARN_PATH_OUT_OF_RANGE, "path step 0 is 20.0");
	CHECK_EQ(info.drhd_count, 1);
	CHECK_EQ(info.drhd[0].scope_count, 1);
	CHECK_EQ(info.scopes[info.drhd[0].scope_first].path[0].device, 3);
	CHECK(!info.incomplete); /* no PCI device can have been named by it */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 3, 8 });
	expect_warning(b_finish(&bld), DMAR_WARN_PATH_OUT_OF_RANGE, "path step 0 is 03.8");
}

UNIT_TEST(dmar_capacity_keeps_what_fits)
{
	struct dmar_match m;

	/* One unit more than fits: the first DMAR_MAX_UNITS are kept, the parse is incomplete. */
	b_begin(&bld, 39);
	b_drhd(&bld, DMAR_DRHD_FLAG_INCLUDE_PCI_ALL, 0, 0xfed90000);
	for (int i = 1; i <= DMAR_MAX_UNITS; i++)
		b_drhd(&bld, 0, (uint16_t)i, 0xfed90000 + 0x1000u * (unsigned)i);
	expect_warning(b_finish(&bld), DMAR_WARN_TOO_MANY_UNITS, "more than 16 units");
	CHECK_EQ(info.drhd_count, DMAR_MAX_UNITS);
	CHECK(info.incomplete);
	/* The dropped unit might have claimed it: no include-all fallback. */
	CHECK_EQ(dmar_find_unit(&info, bdf(0, 0, 4, 0), NULL, NULL, &m), -1);
	CHECK_EQ(m.kind, DMAR_MATCH_NONE);

	/* A path longer than supported: that scope is dropped. */
	b_begin(&bld, 39);
	b_drhd(&bld, 0, 0, 0xfed90000);
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, DMAR_MAX_PATH + 1,
		(const uint8_t[2 * (DMAR_MAX_PATH + 1)]){ 0 });
	b_scope(&bld, DMAR_SCOPE_ENDPOINT, 0, 1, (const uint8_t[]){ 3, 0 });
	expect_warning(b_finish(&bld), DMAR_WARN_TOO_MANY_PATH_STEPS, "9 path steps");
	CHECK_EQ(info.drhd[0].scope_count, 1);
	CHECK(info.incomplete);

	/* More RMRRs than fit: the rest are ignored, the table is still complete for units. */
	b_begin(&bld, 39);
	for (int i = 0; i <= DMAR_MAX_RMRRS; i++)
		b_rmrr(&bld, 0, 0x10000u * (unsigned)i, 0x10000u * (unsigned)i + 0xfff);
	expect_warning(b_finish(&bld), DMAR_WARN_TOO_MANY_RMRRS, "more than 16 RMRRs");
	CHECK_EQ(info.rmrr_count, DMAR_MAX_RMRRS);
	CHECK(!info.incomplete);
}

UNIT_TEST(dmar_scope_capacity_and_warning_overflow)
{
	static uint8_t big[8192];
	size_t len = DMAR_STRUCTS_OFF;

	/* One DRHD with DMAR_MAX_SCOPES + 1 scopes (each 8 bytes) needs more than 2 KiB. */
	memset(big, 0, sizeof(big));
	memcpy(big, "DMAR", 4);
	size_t drhd = len;

	put16(big + drhd, DMAR_TYPE_DRHD);
	put64(big + drhd + DMAR_DRHD_OFF_REG_BASE, 0xfed90000);
	len += DMAR_DRHD_SCOPES_OFF;
	for (unsigned i = 0; i <= DMAR_MAX_SCOPES; i++) {
		big[len + DMAR_SCOPE_OFF_TYPE] = DMAR_SCOPE_ENDPOINT;
		big[len + DMAR_SCOPE_OFF_LENGTH] = 8;
		big[len + DMAR_SCOPE_OFF_START_BUS] = (uint8_t)(i / 32);
		big[len + DMAR_SCOPE_PATH_OFF] = (uint8_t)(i % 32);
		len += 8;
	}
	/* ... and then 17 ragged RMRRs: 18 warnings, 16 stored, the count goes on. */
	for (unsigned i = 0; i <= DMAR_MAX_RMRRS; i++) {
		put16(big + len, DMAR_TYPE_RMRR);
		put16(big + len + 2, DMAR_RMRR_SCOPES_OFF);
		put64(big + len + DMAR_RMRR_OFF_BASE, 0x100000);
		put64(big + len + DMAR_RMRR_OFF_LIMIT, 0x100010);
		len += DMAR_RMRR_SCOPES_OFF;
	}
	put16(big + drhd + 2, (uint16_t)(DMAR_DRHD_SCOPES_OFF + 8 * (DMAR_MAX_SCOPES + 1)));
	big[ACPI_HDR_OFF_LENGTH] = (uint8_t)len;
	big[ACPI_HDR_OFF_LENGTH + 1] = (uint8_t)(len >> 8);
	fixture_fix_checksum(big, len, ACPI_HDR_OFF_CHECKSUM);
	CHECK_EQ(dmar_parse(big, len, &info), DMAR_OK);
	CHECK_EQ(info.drhd[0].scope_count, DMAR_MAX_SCOPES);
	CHECK(info.incomplete);
	CHECK_EQ(info.warnings_by_kind[DMAR_WARN_TOO_MANY_SCOPES], 1);
	/* 16 kept (each widened, each warned) and the 17th over capacity. */
	CHECK_EQ(info.warnings_by_kind[DMAR_WARN_RMRR_NOT_PAGE_GRANULAR], DMAR_MAX_RMRRS);
	CHECK_EQ(info.warnings_by_kind[DMAR_WARN_TOO_MANY_RMRRS], 1);
	CHECK_EQ(info.warning_count, DMAR_MAX_WARNINGS + 2);
	CHECK_EQ(info.warnings[0].kind, DMAR_WARN_TOO_MANY_SCOPES);
	CHECK_EQ(info.rmrr_count, DMAR_MAX_RMRRS);
}

/* Random damage with the checksum repaired: parse must stay in bounds and consistent. */
UNIT_TEST(dmar_fuzz)
{
	uint32_t seed = 777;
	size_t len = build_multi_unit();
	uint8_t pristine[sizeof(bld.buf)];

	memcpy(pristine, bld.buf, sizeof(pristine));
	for (int round = 0; round < 20000; round++) {
		memcpy(bld.buf, pristine, sizeof(pristine));
		for (int k = 0; k < 1 + round % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			bld.buf[ACPI_HEADER_LEN + (seed >> 8) % (len - ACPI_HEADER_LEN)] =
				(uint8_t)(seed >> 24);
		}
		fixture_fix_checksum(bld.buf, len, ACPI_HDR_OFF_CHECKSUM);
		if (dmar_parse(bld.buf, len, &info) != DMAR_OK) {
			CHECK(info.reason[0] != '\0');
			continue;
		}
		for (unsigned u = 0; u < info.drhd_count; u++)
			CHECK(info.drhd[u].scope_first + info.drhd[u].scope_count <= info.scope_count);
		struct fake_topology topo = { multi_bridges, 3, 0 };

		dmar_find_unit(&info, bdf(0, 2, 0, 0), fake_bridge_lookup, &topo, NULL);
	}
}
