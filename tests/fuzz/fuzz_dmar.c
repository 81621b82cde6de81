/*
 * DMAR table (src/lib/dmar.c) and the device-to-remapping-unit decision.
 * Input: the table bytes.  The harness repairs the ACPI checksum (over
 * the claimed length, when it fits) so mutations reach the structure
 * walk; bad checksums are covered by the unit tests.
 *
 * Invariants: counts within arrays, every unit's scopes inside the scope
 * array, every accepted value valid (non-zero register bases for usable
 * units, zero for disabled ones, page-granular RMRRs, path steps within
 * 31.7, 1..DMAR_MAX_PATH steps), warnings counted per kind and stored up
 * to DMAR_MAX_WARNINGS with terminated details;
 * dmar_find_unit answers consistently with the parsed scopes for each
 * scope's own device and for devices below bridges, under a
 * deterministic fake bridge topology.
 */
#include "fuzz.h"

#include "acpi.h"
#include "dmar.h"

/* Fake topology: functions with an odd device number are bridges. */
static bool fake_bridge(void *ctx, struct dmar_bdf b, uint8_t *secondary, uint8_t *subordinate)
{
	(void)ctx;
	if (!(b.device & 1))
		return false;
	*secondary = (uint8_t)(b.bus + 1 + (b.device >> 1));
	*subordinate = (uint8_t)(*secondary + b.function);
	return true;
}

static void check_scope_ranges(const struct dmar_info *info, unsigned first, unsigned count)
{
	FUZZ_CHECK(first <= info->scope_count && count <= info->scope_count - first);
}

static void check_parsed(const struct dmar_info *info)
{
	FUZZ_CHECK(info->drhd_count <= DMAR_MAX_UNITS);
	FUZZ_CHECK(info->rmrr_count <= DMAR_MAX_RMRRS);
	FUZZ_CHECK(info->scope_count <= DMAR_MAX_SCOPES);
	FUZZ_CHECK(info->disabled_count <= DMAR_MAX_UNITS);
	for (unsigned i = 0; i < info->drhd_count; i++) {
		const struct dmar_drhd *u = &info->drhd[i];
		FUZZ_CHECK(u->reg_base != 0);
		check_scope_ranges(info, u->scope_first, u->scope_count);
	}
	for (unsigned i = 0; i < info->disabled_count; i++) {
		FUZZ_CHECK(info->disabled[i].reg_base == 0);
		check_scope_ranges(info, info->disabled[i].scope_first, info->disabled[i].scope_count);
	}
	unsigned by_kind = 0;
	for (unsigned k = 0; k < DMAR_WARN_KIND_COUNT; k++)
		by_kind += info->warnings_by_kind[k];
	FUZZ_CHECK(by_kind == info->warning_count);
	for (unsigned i = 0; i < info->warning_count && i < DMAR_MAX_WARNINGS; i++) {
		FUZZ_CHECK((unsigned)info->warnings[i].kind < DMAR_WARN_KIND_COUNT);
		FUZZ_CHECK(fuzz_terminated(info->warnings[i].detail, sizeof(info->warnings[i].detail)));
		FUZZ_CHECK(strcmp(dmar_warning_kind_str(info->warnings[i].kind), "unknown") != 0);
	}
	for (unsigned i = 0; i < info->rmrr_count; i++) {
		const struct dmar_rmrr *r = &info->rmrr[i];
		FUZZ_CHECK((r->base & DMAR_PAGE_MASK) == 0);
		FUZZ_CHECK((r->limit & DMAR_PAGE_MASK) == DMAR_PAGE_MASK && r->limit >= r->base);
		check_scope_ranges(info, r->scope_first, r->scope_count);
	}
	for (unsigned i = 0; i < info->scope_count; i++) {
		const struct dmar_scope *s = &info->scopes[i];
		FUZZ_CHECK(s->path_len >= 1 && s->path_len <= DMAR_MAX_PATH);
		for (unsigned k = 0; k < s->path_len; k++)
			FUZZ_CHECK(s->path[k].device <= DMAR_PATH_MAX_DEVICE &&
				   s->path[k].function <= DMAR_PATH_MAX_FUNCTION);
	}
}

static bool same(struct dmar_bdf a, struct dmar_bdf b)
{
	return a.segment == b.segment && a.bus == b.bus && a.device == b.device &&
	       a.function == b.function;
}

static bool scope_in_unit(const struct dmar_info *info, int unit, int scope)
{
	const struct dmar_drhd *u = &info->drhd[unit];
	return scope >= (int)u->scope_first && scope < (int)(u->scope_first + u->scope_count);
}

/* One query's answer agrees with the parsed table. */
static void check_answer(const struct dmar_info *info, struct dmar_bdf dev)
{
	struct dmar_match m;
	int unit = dmar_find_unit(info, dev, fake_bridge, NULL, &m);

	FUZZ_CHECK(unit == m.unit);
	FUZZ_CHECK((m.kind == DMAR_MATCH_NONE || m.kind == DMAR_MATCH_DISABLED) == (unit < 0));
	/* Without every unit parsed, nothing falls back to include-all. */
	FUZZ_CHECK(!info->incomplete || m.kind != DMAR_MATCH_INCLUDE_ALL);
	if (unit < 0)
		return;
	FUZZ_CHECK(unit < (int)info->drhd_count);
	const struct dmar_drhd *u = &info->drhd[unit];
	FUZZ_CHECK(u->segment == dev.segment);
	bool include_all = u->flags & DMAR_DRHD_FLAG_INCLUDE_PCI_ALL;
	struct dmar_bdf target;
	uint8_t secondary, subordinate;

	switch (m.kind) {
	case DMAR_MATCH_INCLUDE_ALL:
		FUZZ_CHECK(include_all && m.scope == -1);
		break;
	case DMAR_MATCH_EXACT:
		FUZZ_CHECK(!include_all && scope_in_unit(info, unit, m.scope));
		FUZZ_CHECK(dmar_scope_resolve(&info->scopes[m.scope], u->segment, fake_bridge, NULL,
					      &target));
		FUZZ_CHECK(same(target, dev));
		break;
	case DMAR_MATCH_BRIDGE:
		FUZZ_CHECK(!include_all && scope_in_unit(info, unit, m.scope));
		FUZZ_CHECK(info->scopes[m.scope].type == DMAR_SCOPE_BRIDGE);
		FUZZ_CHECK(dmar_scope_resolve(&info->scopes[m.scope], u->segment, fake_bridge, NULL,
					      &target));
		FUZZ_CHECK(fake_bridge(NULL, target, &secondary, &subordinate));
		FUZZ_CHECK(dev.bus >= secondary && dev.bus <= subordinate);
		break;
	default:
		FUZZ_CHECK(false);
	}
}

static void check_matching(const struct dmar_info *info)
{
	for (unsigned ui = 0; ui < info->drhd_count; ui++) {
		const struct dmar_drhd *u = &info->drhd[ui];

		for (unsigned i = 0; i < u->scope_count; i++) {
			const struct dmar_scope *s = &info->scopes[u->scope_first + i];
			struct dmar_bdf t, below;
			uint8_t secondary, subordinate;

			if (!dmar_scope_resolve(s, u->segment, fake_bridge, NULL, &t))
				continue;
			check_answer(info, t);
			/* A device a non-include-all unit names itself is matched exactly. */
			if (!(u->flags & DMAR_DRHD_FLAG_INCLUDE_PCI_ALL) &&
			    (s->type == DMAR_SCOPE_ENDPOINT || s->type == DMAR_SCOPE_BRIDGE)) {
				struct dmar_match m;
				dmar_find_unit(info, t, fake_bridge, NULL, &m);
				FUZZ_CHECK(m.kind == DMAR_MATCH_EXACT);
			}
			if (fake_bridge(NULL, t, &secondary, &subordinate)) {
				below = (struct dmar_bdf){ t.segment, subordinate, 0, 0 };
				check_answer(info, below);
			}
		}
	}
	check_answer(info, (struct dmar_bdf){ 0, 0, 3, 0 });
	check_answer(info, (struct dmar_bdf){ 1, 0x80, 0, 0 });
}

/*
 * Independent walk of an accepted table: every remapping structure up to a
 * zero-length one is a DRHD (usable or disabled), an RMRR, counted as
 * skipped, or dropped with a warning; the device scopes inside them are
 * parsed or dropped with a warning (exactly, when no whole structure was
 * dropped: a dropped structure's scopes are never looked at).
 */
static void check_counts(const uint8_t *t, const struct dmar_info *info)
{
	size_t length = fuzz_le32(t + ACPI_HDR_OFF_LENGTH), structs = 0, scopes = 0;
	const unsigned *w = info->warnings_by_kind;
	bool zero_length = false, unread_scope = false;

	for (size_t off = DMAR_STRUCTS_OFF; off < length;) {
		unsigned type = t[off] | t[off + 1] << 8;
		size_t slen = t[off + 2] | t[off + 3] << 8;
		size_t first = type == DMAR_TYPE_DRHD ? DMAR_DRHD_SCOPES_OFF
			     : type == DMAR_TYPE_RMRR ? DMAR_RMRR_SCOPES_OFF : slen;

		if (slen == 0) {
			zero_length = true;
			break;
		}
		FUZZ_CHECK(slen >= DMAR_STRUCT_HEADER_LEN && slen <= length - off);
		for (size_t s = first; s < slen; s += t[off + s + DMAR_SCOPE_OFF_LENGTH]) {
			/* Only a structure dropped whole may hold a scope the parser never read. */
			if (s + DMAR_SCOPE_PATH_OFF > slen || t[off + s + DMAR_SCOPE_OFF_LENGTH] == 0) {
				unread_scope = true;
				break;
			}
			scopes++;
		}
		structs++;
		off += slen;
	}
	FUZZ_CHECK(w[DMAR_WARN_ZERO_LENGTH] == (zero_length ? 1u : 0u));
	unsigned dropped_structs = w[DMAR_WARN_TOO_MANY_UNITS] + w[DMAR_WARN_TOO_MANY_RMRRS] +
				   w[DMAR_WARN_RMRR_END_BELOW_BASE];
	unsigned dropped_scopes = w[DMAR_WARN_PATH_OUT_OF_RANGE] + w[DMAR_WARN_TOO_MANY_SCOPES] +
				  w[DMAR_WARN_TOO_MANY_PATH_STEPS];

	FUZZ_CHECK(structs == info->drhd_count + info->disabled_count + info->rmrr_count +
				      info->skipped_structs + dropped_structs);
	FUZZ_CHECK(!unread_scope || dropped_structs > 0);
	FUZZ_CHECK(unread_scope || scopes >= info->scope_count + dropped_scopes);
	if (dropped_structs == 0)
		FUZZ_CHECK(scopes == info->scope_count + dropped_scopes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *table = fuzz_dup(data, size);
	struct dmar_info *info = malloc(sizeof(*info));

	if (!info)
		abort();
	fuzz_fix_acpi_checksum(table, size);
	enum dmar_status st = dmar_parse(table, size, info);

	FUZZ_CHECK(fuzz_terminated(info->reason, sizeof(info->reason)));
	FUZZ_CHECK((st == DMAR_OK) == (info->reason[0] == '\0'));
	FUZZ_CHECK(dmar_status_str(st) && strcmp(dmar_status_str(st), "unknown") != 0);
	check_parsed(info);
	if (st == DMAR_OK) {
		FUZZ_CHECK(size >= DMAR_STRUCTS_OFF);
		FUZZ_CHECK(info->host_addr_width == (uint8_t)(table[DMAR_OFF_HOST_ADDR_WIDTH] + 1));
		check_counts(table, info);
		check_matching(info);
	}
	free(info);
	free(table);
	return 0;
}
