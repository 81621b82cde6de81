/*
 * IVRS table (src/lib/ivrs.c) and the device-to-IOMMU decision.  Input:
 * the table bytes.  The harness repairs the ACPI checksum (over the claimed
 * length, when it fits) so mutations reach the block and entry walk; bad
 * checksums are covered by the unit tests.
 *
 * Invariants: counts within arrays, every unit's ranges and specials inside
 * those arrays, every accepted unit an IVHD type with a non-zero 16 KiB
 * aligned base, every range first <= last, used_type (of an accepted table) the highest IVHD type;
 * an independent walk of an accepted table finds exactly the blocks and the
 * pairing the parser reports; ivrs_find_unit agrees with the parsed ranges
 * for each range's ends and for devices no range names.
 */
#include "fuzz.h"

#include "acpi.h"
#include "ivrs.h"

static bool ivhd_type(uint8_t t)
{
	return t == IVRS_TYPE_IVHD_LEGACY || t == IVRS_TYPE_IVHD_EFR || t == IVRS_TYPE_IVHD_MIXED;
}

static void check_parsed(const struct ivrs_info *info, bool accepted)
{
	uint8_t highest = 0;

	FUZZ_CHECK(info->unit_count <= IVRS_MAX_UNITS);
	FUZZ_CHECK(info->range_count <= IVRS_MAX_RANGES);
	FUZZ_CHECK(info->special_count <= IVRS_MAX_SPECIALS);
	for (unsigned i = 0; i < info->unit_count; i++) {
		const struct ivrs_unit *u = &info->units[i];

		FUZZ_CHECK(ivhd_type(u->type));
		FUZZ_CHECK(u->base != 0 && (u->base & IVHD_BASE_ALIGN_MASK) == 0);
		FUZZ_CHECK(u->has_efr == (u->type != IVRS_TYPE_IVHD_LEGACY));
		FUZZ_CHECK(u->range_first <= info->range_count &&
			   u->range_count <= info->range_count - u->range_first);
		FUZZ_CHECK(u->special_first <= info->special_count &&
			   u->special_count <= info->special_count - u->special_first);
		if (u->type > highest)
			highest = u->type;
	}
	if (accepted)
		FUZZ_CHECK(info->used_type == highest);
	for (unsigned i = 0; i < info->range_count; i++) {
		const struct ivrs_range *r = &info->ranges[i];

		FUZZ_CHECK(r->first <= r->last);
		FUZZ_CHECK(r->kind >= IVRS_RANGE_ALL && r->kind <= IVRS_RANGE_ALIAS);
		if (r->kind == IVRS_RANGE_ALL)
			FUZZ_CHECK(r->first == 0 && r->last == IVRS_DEVID_LAST);
	}
}

/* Independent walk: block and entry counts of an accepted table. */
static void check_counts(const uint8_t *t, const struct ivrs_info *info)
{
	size_t length = fuzz_le32(t + ACPI_HDR_OFF_LENGTH);
	unsigned ivhd = 0, ivmd = 0, other = 0, ranges = 0, specials = 0;

	for (size_t off = IVRS_BLOCKS_OFF; off < length;) {
		uint8_t type = t[off];
		size_t blen = t[off + 2] | t[off + 3] << 8;

		FUZZ_CHECK(blen >= IVRS_BLOCK_HEADER_LEN && blen <= length - off);
		if (ivhd_type(type)) {
			size_t e = off + (type == IVRS_TYPE_IVHD_LEGACY ? IVHD_LEGACY_ENTRIES_OFF
									: IVHD_EFR_ENTRIES_OFF);
			ivhd++;
			while (e < off + blen) {
				uint8_t et = t[e];
				size_t size = et <= IVHD_ENTRY_SIZE_4_LAST ? 4
					    : et <= IVHD_ENTRY_SIZE_8_LAST ? 8
					    : et <= IVHD_ENTRY_SIZE_16_LAST ? 16
					    : et <= IVHD_ENTRY_SIZE_32_LAST ? 32
					    : IVHD_ENTRY_HID_FIXED_LEN +
						      (size_t)t[e + IVHD_ENTRY_OFF_HID_UID_LEN];
				/* Every range start is closed by an 04h: count closings. */
				ranges += et == IVHD_ENTRY_ALL || et == IVHD_ENTRY_SELECT ||
					  et == IVHD_ENTRY_EXT_SELECT || et == IVHD_ENTRY_ALIAS_SELECT ||
					  et == IVHD_ENTRY_RANGE_END;
				specials += et == IVHD_ENTRY_SPECIAL;
				e += size;
			}
			FUZZ_CHECK(e == off + blen);
		} else if (type >= IVRS_TYPE_IVMD_ALL && type <= IVRS_TYPE_IVMD_RANGE) {
			ivmd++;
		} else {
			other++;
		}
		off += blen;
	}
	FUZZ_CHECK(ivhd == info->unit_count);
	FUZZ_CHECK(ivmd == info->ivmd_count);
	FUZZ_CHECK(other == info->skipped_blocks);
	FUZZ_CHECK(ranges == info->range_count);
	FUZZ_CHECK(specials == info->special_count);
}

static void check_answer(const struct ivrs_info *info, uint16_t segment, uint16_t devid)
{
	struct ivrs_match m;
	int unit = ivrs_find_unit(info, segment, devid, &m);

	FUZZ_CHECK(unit == m.unit);
	if (unit < 0) {
		FUZZ_CHECK(m.range == -1 && m.alias == devid);
		return;
	}
	FUZZ_CHECK(unit < (int)info->unit_count);
	const struct ivrs_unit *u = &info->units[unit];

	FUZZ_CHECK(u->type == info->used_type && u->segment == segment);
	FUZZ_CHECK(m.range >= (int)u->range_first &&
		   m.range < (int)(u->range_first + u->range_count));
	const struct ivrs_range *r = &info->ranges[m.range];

	FUZZ_CHECK(devid >= r->first && devid <= r->last);
	FUZZ_CHECK(m.alias == (r->kind == IVRS_RANGE_ALIAS ? r->alias : devid));
	/* No later range of the same unit names the device (the last one wins). */
	for (unsigned i = (unsigned)m.range + 1; i < u->range_first + u->range_count; i++)
		FUZZ_CHECK(devid < info->ranges[i].first || devid > info->ranges[i].last);
}

static void check_matching(const struct ivrs_info *info)
{
	for (unsigned i = 0; i < info->unit_count; i++) {
		const struct ivrs_unit *u = &info->units[i];

		for (unsigned k = 0; k < u->range_count; k++) {
			const struct ivrs_range *r = &info->ranges[u->range_first + k];
			struct ivrs_match m;

			check_answer(info, u->segment, r->first);
			check_answer(info, u->segment, r->last);
			/* A used-type unit's device is always claimed by some unit. */
			if (u->type == info->used_type)
				FUZZ_CHECK(ivrs_find_unit(info, u->segment, r->first, &m) >= 0);
		}
	}
	check_answer(info, 0, IVRS_DEVID(0, 3, 0));
	check_answer(info, 1, IVRS_DEVID(0x80, 0, 0));
	FUZZ_CHECK(ivrs_used_unit_count(info) <= info->unit_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *table = fuzz_dup(data, size);
	struct ivrs_info *info = malloc(sizeof(*info));

	if (!info)
		abort();
	fuzz_fix_acpi_checksum(table, size);
	enum ivrs_status st = ivrs_parse(table, size, info);

	FUZZ_CHECK(fuzz_terminated(info->reason, sizeof(info->reason)));
	FUZZ_CHECK((st == IVRS_OK) == (info->reason[0] == '\0'));
	FUZZ_CHECK(strcmp(ivrs_status_str(st), "unknown") != 0);
	check_parsed(info, st == IVRS_OK);
	if (st == IVRS_OK) {
		FUZZ_CHECK(size >= IVRS_BLOCKS_OFF);
		check_counts(table, info);
		check_matching(info);
	}
	free(info);
	free(table);
	return 0;
}
