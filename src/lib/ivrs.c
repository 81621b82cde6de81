/* IVRS table parsing and device-to-IOMMU matching; see ivrs.h. */
#include "ivrs.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "le.h"

const char *ivrs_status_str(enum ivrs_status status)
{
	switch (status) {
	case IVRS_OK: return "ok";
	case IVRS_ERR_TABLE: return "table";
	case IVRS_ERR_SIGNATURE: return "signature";
	case IVRS_ERR_BLOCK: return "block";
	case IVRS_ERR_ENTRY: return "device-entry";
	case IVRS_ERR_VALUE: return "value";
	case IVRS_ERR_CAPACITY: return "capacity";
	}
	return "unknown";
}

const char *ivrs_block_type_str(uint8_t type)
{
	switch (type) {
	case IVRS_TYPE_IVHD_LEGACY: return "IVHD-10h";
	case IVRS_TYPE_IVHD_EFR: return "IVHD-11h";
	case IVRS_TYPE_IVHD_MIXED: return "IVHD-40h";
	case IVRS_TYPE_IVMD_ALL:
	case IVRS_TYPE_IVMD_SELECT:
	case IVRS_TYPE_IVMD_RANGE: return "IVMD";
	}
	return "unknown";
}

static enum ivrs_status fail(struct ivrs_info *info, enum ivrs_status status, const char *fmt,
			     ...) __attribute__((format(printf, 3, 4)));

static enum ivrs_status fail(struct ivrs_info *info, enum ivrs_status status, const char *fmt,
			     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info->reason, sizeof(info->reason), fmt, ap);
	va_end(ap);
	return status;
}

static bool is_ivhd(uint8_t type)
{
	return type == IVRS_TYPE_IVHD_LEGACY || type == IVRS_TYPE_IVHD_EFR ||
	       type == IVRS_TYPE_IVHD_MIXED;
}

static bool is_ivmd(uint8_t type)
{
	return type == IVRS_TYPE_IVMD_ALL || type == IVRS_TYPE_IVMD_SELECT ||
	       type == IVRS_TYPE_IVMD_RANGE;
}

/* Bytes a device entry occupies, from its type (0 = need the HID entry's own length). */
static size_t entry_fixed_size(uint8_t type)
{
	if (type <= IVHD_ENTRY_SIZE_4_LAST)
		return 4;
	if (type <= IVHD_ENTRY_SIZE_8_LAST)
		return 8;
	if (type <= IVHD_ENTRY_SIZE_16_LAST)
		return 16;
	if (type <= IVHD_ENTRY_SIZE_32_LAST)
		return 32;
	return 0;
}

/* Walk state of one IVHD's entries: an open range waits for its 04h. */
struct entry_walk {
	struct ivrs_info *info;
	struct ivrs_unit *unit;
	bool range_open;
	struct ivrs_range pending;
	size_t pending_off;
};

static enum ivrs_status add_range(struct entry_walk *w, const struct ivrs_range *r, size_t off)
{
	struct ivrs_info *info = w->info;

	if (info->range_count == IVRS_MAX_RANGES)
		return fail(info, IVRS_ERR_CAPACITY, "entry at 0x%zx: more than %d device ranges",
			    off, IVRS_MAX_RANGES);
	info->ranges[info->range_count++] = *r;
	w->unit->range_count++;
	return IVRS_OK;
}

static enum ivrs_status add_special(struct entry_walk *w, const uint8_t *e, size_t off)
{
	struct ivrs_info *info = w->info;

	if (info->special_count == IVRS_MAX_SPECIALS)
		return fail(info, IVRS_ERR_CAPACITY, "entry at 0x%zx: more than %d special entries",
			    off, IVRS_MAX_SPECIALS);
	info->specials[info->special_count++] = (struct ivrs_special){
		.variety = e[IVHD_ENTRY_OFF_VARIETY],
		.handle = e[IVHD_ENTRY_OFF_HANDLE],
		.devid = le_get16(e + IVHD_ENTRY_OFF_SPECIAL_DEVID),
		.dte = e[IVHD_ENTRY_OFF_DTE],
	};
	w->unit->special_count++;
	return IVRS_OK;
}

static enum ivrs_status open_range(struct entry_walk *w, const struct ivrs_range *r, size_t off)
{
	if (w->range_open)
		return fail(w->info, IVRS_ERR_ENTRY,
			    "entry at 0x%zx: range start while the one at 0x%zx is open", off,
			    w->pending_off);
	w->range_open = true;
	w->pending = *r;
	w->pending_off = off;
	return IVRS_OK;
}

static enum ivrs_status close_range(struct entry_walk *w, uint16_t last, size_t off)
{
	if (!w->range_open)
		return fail(w->info, IVRS_ERR_ENTRY, "entry at 0x%zx: range end without a start",
			    off);
	if (last < w->pending.first)
		return fail(w->info, IVRS_ERR_VALUE,
			    "entry at 0x%zx: range end %04x before its start %04x", off, last,
			    w->pending.first);
	w->range_open = false;
	w->pending.last = last;
	return add_range(w, &w->pending, w->pending_off);
}

/* One fixed-size entry (its bytes are all inside the block). */
static enum ivrs_status parse_entry(struct entry_walk *w, const uint8_t *e, size_t off)
{
	uint8_t type = e[IVHD_ENTRY_OFF_TYPE];
	uint16_t devid = le_get16(e + IVHD_ENTRY_OFF_DEVID);
	struct ivrs_range r = { .entry = type, .dte = e[IVHD_ENTRY_OFF_DTE], .first = devid,
				.last = devid, .alias = devid };

	if (w->range_open && type != IVHD_ENTRY_RANGE_END && type != IVHD_ENTRY_PAD)
		return fail(w->info, IVRS_ERR_ENTRY,
			    "entry at 0x%zx: type %02x inside the range opened at 0x%zx", off, type,
			    w->pending_off);
	switch (type) {
	case IVHD_ENTRY_ALL:
		r.kind = IVRS_RANGE_ALL;
		r.first = r.alias = 0;
		r.last = IVRS_DEVID_LAST;
		return add_range(w, &r, off);
	case IVHD_ENTRY_SELECT:
		r.kind = IVRS_RANGE_SELECT;
		return add_range(w, &r, off);
	case IVHD_ENTRY_EXT_SELECT:
		r.kind = IVRS_RANGE_SELECT;
		r.ext = le_get32(e + IVHD_ENTRY_OFF_EXT);
		return add_range(w, &r, off);
	case IVHD_ENTRY_ALIAS_SELECT:
		r.kind = IVRS_RANGE_ALIAS;
		r.alias = le_get16(e + IVHD_ENTRY_OFF_ALIAS);
		return add_range(w, &r, off);
	case IVHD_ENTRY_RANGE_START:
		r.kind = IVRS_RANGE_RANGE;
		return open_range(w, &r, off);
	case IVHD_ENTRY_EXT_RANGE:
		r.kind = IVRS_RANGE_RANGE;
		r.ext = le_get32(e + IVHD_ENTRY_OFF_EXT);
		return open_range(w, &r, off);
	case IVHD_ENTRY_ALIAS_RANGE:
		r.kind = IVRS_RANGE_ALIAS;
		r.alias = le_get16(e + IVHD_ENTRY_OFF_ALIAS);
		return open_range(w, &r, off);
	case IVHD_ENTRY_RANGE_END:
		return close_range(w, devid, off);
	case IVHD_ENTRY_SPECIAL:
		return add_special(w, e, off);
	default:
		/* Padding and reserved types: skipped by their size, as the spec asks. */
		return IVRS_OK;
	}
}

/* Size of the entry at `off` of a block ending at `end`, 0 when it does not fit. */
static size_t entry_size(const struct ivrs_unit *u, const uint8_t *table, size_t off, size_t end)
{
	uint8_t type = table[off];
	size_t size = entry_fixed_size(type);

	if (size == 0) {
		/* Variable-length entries exist only in type 40h blocks. */
		if (u->type != IVRS_TYPE_IVHD_MIXED || end - off < IVHD_ENTRY_HID_FIXED_LEN)
			return 0;
		size = IVHD_ENTRY_HID_FIXED_LEN + table[off + IVHD_ENTRY_OFF_HID_UID_LEN];
	}
	return size <= end - off ? size : 0;
}

static enum ivrs_status parse_entries(struct ivrs_info *info, struct ivrs_unit *u,
				      const uint8_t *table, size_t off, size_t end)
{
	struct entry_walk w = { .info = info, .unit = u };

	u->range_first = info->range_count;
	u->special_first = info->special_count;
	while (off < end) {
		size_t size = entry_size(u, table, off, end);

		if (size == 0)
			return fail(info, IVRS_ERR_ENTRY,
				    "entry type %02x at 0x%zx overruns its block (%zu bytes left)",
				    table[off], off, end - off);
		if (entry_fixed_size(table[off]) == 0) {
			u->hid_count++;
		} else {
			enum ivrs_status st = parse_entry(&w, table + off, off);

			if (st != IVRS_OK)
				return st;
		}
		off += size;
	}
	if (w.range_open)
		return fail(info, IVRS_ERR_ENTRY, "range opened at 0x%zx is never closed",
			    w.pending_off);
	return IVRS_OK;
}

static enum ivrs_status parse_ivhd(struct ivrs_info *info, const uint8_t *table, size_t off,
				   size_t len)
{
	const uint8_t *p = table + off;
	uint8_t type = p[IVRS_BLOCK_OFF_TYPE];
	size_t entries = type == IVRS_TYPE_IVHD_LEGACY ? IVHD_LEGACY_ENTRIES_OFF
						       : IVHD_EFR_ENTRIES_OFF;

	if (len < entries)
		return fail(info, IVRS_ERR_BLOCK, "%s at 0x%zx: length %zu < %zu",
			    ivrs_block_type_str(type), off, len, entries);
	if (info->unit_count == IVRS_MAX_UNITS)
		return fail(info, IVRS_ERR_CAPACITY, "more than %d IVHD blocks", IVRS_MAX_UNITS);
	struct ivrs_unit *u = &info->units[info->unit_count];

	memset(u, 0, sizeof(*u));
	u->type = type;
	u->flags = p[IVRS_BLOCK_OFF_FLAGS];
	u->devid = le_get16(p + IVHD_OFF_DEVICE_ID);
	u->cap_offset = le_get16(p + IVHD_OFF_CAP_OFFSET);
	u->base = le_get64(p + IVHD_OFF_BASE);
	u->segment = le_get16(p + IVHD_OFF_SEGMENT);
	u->info = le_get16(p + IVHD_OFF_INFO);
	u->features = le_get32(p + IVHD_OFF_FEATURES);
	if (type != IVRS_TYPE_IVHD_LEGACY) {
		u->has_efr = true;
		u->efr = le_get64(p + IVHD_OFF_EFR);
	}
	if (u->base == 0 || (u->base & IVHD_BASE_ALIGN_MASK) != 0)
		return fail(info, IVRS_ERR_VALUE, "%s at 0x%zx: MMIO base 0x%" PRIx64
			    " is not a non-zero 16 KiB aligned address",
			    ivrs_block_type_str(type), off, u->base);
	enum ivrs_status st = parse_entries(info, u, table, off + entries, off + len);

	if (st == IVRS_OK)
		info->unit_count++;
	return st;
}

static enum ivrs_status parse_block(struct ivrs_info *info, const uint8_t *table, size_t off,
				    size_t len)
{
	uint8_t type = table[off + IVRS_BLOCK_OFF_TYPE];

	if (is_ivhd(type))
		return parse_ivhd(info, table, off, len);
	if (is_ivmd(type))
		info->ivmd_count++;
	else
		info->skipped_blocks++;
	return IVRS_OK;
}

/* Linux's rule: software uses the blocks of the highest IVHD type it knows. */
static uint8_t highest_ivhd_type(const struct ivrs_info *info)
{
	uint8_t best = 0;

	for (unsigned i = 0; i < info->unit_count; i++)
		if (info->units[i].type > best)
			best = info->units[i].type;
	return best;
}

enum ivrs_status ivrs_parse(const void *table, size_t len, struct ivrs_info *info)
{
	const uint8_t *p = table;
	struct acpi_header header;

	memset(info, 0, sizeof(*info));
	enum acpi_status acpi = acpi_table_open_as(table, len, "IVRS", IVRS_BLOCKS_OFF, &header,
						   info->reason, sizeof(info->reason));

	if (acpi != ACPI_OK)
		return acpi == ACPI_ERR_SIGNATURE ? IVRS_ERR_SIGNATURE : IVRS_ERR_TABLE;
	info->ivinfo = le_get32(p + IVRS_OFF_IVINFO);
	info->pa_bits = (info->ivinfo >> IVRS_IVINFO_PA_SHIFT) & IVRS_IVINFO_SIZE_MASK;
	info->va_bits = (info->ivinfo >> IVRS_IVINFO_VA_SHIFT) & IVRS_IVINFO_SIZE_MASK;

	for (size_t off = IVRS_BLOCKS_OFF; off < header.length;) {
		size_t room = header.length - off;

		if (room < IVRS_BLOCK_HEADER_LEN)
			return fail(info, IVRS_ERR_BLOCK, "block at 0x%zx: %zu bytes left", off, room);
		size_t blen = le_get16(p + off + IVRS_BLOCK_OFF_LENGTH);

		/* A length below the header would loop forever; past the end overruns. */
		if (blen < IVRS_BLOCK_HEADER_LEN || blen > room)
			return fail(info, IVRS_ERR_BLOCK,
				    "block type %02x at 0x%zx: length %zu with %zu bytes left",
				    p[off], off, blen, room);
		enum ivrs_status st = parse_block(info, p, off, blen);

		if (st != IVRS_OK)
			return st;
		off += blen;
	}
	info->used_type = highest_ivhd_type(info);
	return IVRS_OK;
}

unsigned ivrs_used_unit_count(const struct ivrs_info *info)
{
	unsigned n = 0;

	for (unsigned i = 0; i < info->unit_count; i++)
		n += info->units[i].type == info->used_type;
	return n;
}

/* The last range of unit u covering devid, -1 when none. */
static int last_covering_range(const struct ivrs_info *info, const struct ivrs_unit *u,
			       uint16_t devid)
{
	int found = -1;

	for (unsigned i = 0; i < u->range_count; i++) {
		const struct ivrs_range *r = &info->ranges[u->range_first + i];

		if (devid >= r->first && devid <= r->last)
			found = (int)(u->range_first + i);
	}
	return found;
}

int ivrs_find_unit(const struct ivrs_info *info, uint16_t segment, uint16_t devid,
		   struct ivrs_match *match)
{
	*match = (struct ivrs_match){ .unit = -1, .range = -1, .alias = devid };
	for (unsigned i = 0; i < info->unit_count; i++) {
		const struct ivrs_unit *u = &info->units[i];

		if (u->type != info->used_type || u->segment != segment)
			continue;
		int r = last_covering_range(info, u, devid);

		if (r < 0)
			continue;
		const struct ivrs_range *range = &info->ranges[r];

		match->unit = (int)i;
		match->range = r;
		match->dte = range->dte;
		if (range->kind == IVRS_RANGE_ALIAS)
			match->alias = range->alias;
		return (int)i;
	}
	return -1;
}
