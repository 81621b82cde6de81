/* DMAR table parsing and device-to-unit matching; see dmar.h. */
#include "dmar.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "le.h"

const char *dmar_status_str(enum dmar_status status)
{
	switch (status) {
	case DMAR_OK: return "ok";
	case DMAR_ERR_TABLE: return "table";
	case DMAR_ERR_SIGNATURE: return "signature";
	case DMAR_ERR_STRUCT: return "structure";
	case DMAR_ERR_SCOPE: return "device-scope";
	case DMAR_ERR_VALUE: return "value";
	case DMAR_ERR_CAPACITY: return "capacity";
	}
	return "unknown";
}

static enum dmar_status fail(struct dmar_info *info, enum dmar_status status, const char *fmt,
			     ...) __attribute__((format(printf, 3, 4)));

static enum dmar_status fail(struct dmar_info *info, enum dmar_status status, const char *fmt,
			     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info->reason, sizeof(info->reason), fmt, ap);
	va_end(ap);
	return status;
}

/* One device scope at table offset `off`, at most `room` bytes long. */
static enum dmar_status parse_scope(struct dmar_info *info, const uint8_t *p, size_t off,
				    size_t room, size_t *consumed)
{
	if (room < DMAR_SCOPE_PATH_OFF)
		return fail(info, DMAR_ERR_SCOPE, "scope at 0x%zx: %zu bytes left, header needs %d",
			    off, room, DMAR_SCOPE_PATH_OFF);
	size_t len = p[DMAR_SCOPE_OFF_LENGTH];

	if (len < DMAR_SCOPE_PATH_OFF + DMAR_SCOPE_STEP_LEN ||
	    (len - DMAR_SCOPE_PATH_OFF) % DMAR_SCOPE_STEP_LEN != 0)
		return fail(info, DMAR_ERR_SCOPE, "scope at 0x%zx: length %zu is not 6 + 2n, n >= 1",
			    off, len);
	if (len > room)
		return fail(info, DMAR_ERR_SCOPE, "scope at 0x%zx: length %zu overruns its structure",
			    off, len);
	size_t steps = (len - DMAR_SCOPE_PATH_OFF) / DMAR_SCOPE_STEP_LEN;

	if (steps > DMAR_MAX_PATH)
		return fail(info, DMAR_ERR_CAPACITY, "scope at 0x%zx: %zu path steps, max %d", off,
			    steps, DMAR_MAX_PATH);
	if (info->scope_count == DMAR_MAX_SCOPES)
		return fail(info, DMAR_ERR_CAPACITY, "more than %d device scopes", DMAR_MAX_SCOPES);
	struct dmar_scope *s = &info->scopes[info->scope_count];

	memset(s, 0, sizeof(*s));
	s->type = p[DMAR_SCOPE_OFF_TYPE];
	s->enumeration_id = p[DMAR_SCOPE_OFF_ENUM_ID];
	s->start_bus = p[DMAR_SCOPE_OFF_START_BUS];
	s->path_len = (uint8_t)steps;
	for (size_t i = 0; i < steps; i++) {
		const uint8_t *step = p + DMAR_SCOPE_PATH_OFF + i * DMAR_SCOPE_STEP_LEN;

		if (step[0] > DMAR_PATH_MAX_DEVICE || step[1] > DMAR_PATH_MAX_FUNCTION)
			return fail(info, DMAR_ERR_SCOPE, "scope at 0x%zx: path step %zu is %02x.%x",
				    off, i, step[0], step[1]);
		s->path[i] = (struct dmar_path_step){ step[0], step[1] };
	}
	info->scope_count++;
	*consumed = len;
	return DMAR_OK;
}

/* The scopes filling [off, end) of a structure; records where they went. */
static enum dmar_status parse_scopes(struct dmar_info *info, const uint8_t *table, size_t off,
				     size_t end, unsigned *first, unsigned *count)
{
	*first = info->scope_count;
	while (off < end) {
		size_t used = 0;
		enum dmar_status status = parse_scope(info, table + off, off, end - off, &used);

		if (status != DMAR_OK)
			return status;
		off += used;
	}
	*count = info->scope_count - *first;
	return DMAR_OK;
}

static enum dmar_status parse_drhd(struct dmar_info *info, const uint8_t *table, size_t off,
				   size_t len)
{
	const uint8_t *p = table + off;

	if (len < DMAR_DRHD_SCOPES_OFF)
		return fail(info, DMAR_ERR_STRUCT, "DRHD at 0x%zx: length %zu < %d", off, len,
			    DMAR_DRHD_SCOPES_OFF);
	if (info->drhd_count == DMAR_MAX_UNITS)
		return fail(info, DMAR_ERR_CAPACITY, "more than %d DRHD units", DMAR_MAX_UNITS);
	struct dmar_drhd *u = &info->drhd[info->drhd_count];

	u->flags = p[DMAR_DRHD_OFF_FLAGS];
	u->segment = le_get16(p + DMAR_DRHD_OFF_SEGMENT);
	u->reg_base = le_get64(p + DMAR_DRHD_OFF_REG_BASE);
	if (u->reg_base == 0 || (u->reg_base & DMAR_PAGE_MASK) != 0)
		return fail(info, DMAR_ERR_VALUE, "DRHD at 0x%zx: register base 0x%" PRIx64
			    " is not a non-zero 4 KiB aligned address", off, u->reg_base);
	enum dmar_status status = parse_scopes(info, table, off + DMAR_DRHD_SCOPES_OFF, off + len,
					       &u->scope_first, &u->scope_count);

	if (status == DMAR_OK)
		info->drhd_count++;
	return status;
}

static enum dmar_status parse_rmrr(struct dmar_info *info, const uint8_t *table, size_t off,
				   size_t len)
{
	const uint8_t *p = table + off;

	if (len < DMAR_RMRR_SCOPES_OFF)
		return fail(info, DMAR_ERR_STRUCT, "RMRR at 0x%zx: length %zu < %d", off, len,
			    DMAR_RMRR_SCOPES_OFF);
	if (info->rmrr_count == DMAR_MAX_RMRRS)
		return fail(info, DMAR_ERR_CAPACITY, "more than %d RMRRs", DMAR_MAX_RMRRS);
	struct dmar_rmrr *r = &info->rmrr[info->rmrr_count];

	r->segment = le_get16(p + DMAR_RMRR_OFF_SEGMENT);
	r->base = le_get64(p + DMAR_RMRR_OFF_BASE);
	r->limit = le_get64(p + DMAR_RMRR_OFF_LIMIT);
	/* Base is 4 KiB aligned and the limit is the last byte of a 4 KiB page. */
	if ((r->base & DMAR_PAGE_MASK) != 0 || (r->limit & DMAR_PAGE_MASK) != DMAR_PAGE_MASK ||
	    r->limit < r->base)
		return fail(info, DMAR_ERR_VALUE, "RMRR at 0x%zx: range 0x%" PRIx64 "-0x%" PRIx64
			    " is not page granular", off, r->base, r->limit);
	enum dmar_status status = parse_scopes(info, table, off + DMAR_RMRR_SCOPES_OFF, off + len,
					       &r->scope_first, &r->scope_count);

	if (status == DMAR_OK)
		info->rmrr_count++;
	return status;
}

static enum dmar_status parse_struct(struct dmar_info *info, const uint8_t *table, size_t off,
				     size_t len)
{
	switch (le_get16(table + off)) {
	case DMAR_TYPE_DRHD:
		return parse_drhd(info, table, off, len);
	case DMAR_TYPE_RMRR:
		return parse_rmrr(info, table, off, len);
	default:
		/* ATSR, RHSA, ANDD, SATC and future types: not needed to remap DMA. */
		info->skipped_structs++;
		return DMAR_OK;
	}
}

enum dmar_status dmar_parse(const void *table, size_t len, struct dmar_info *info)
{
	const uint8_t *p = table;
	struct acpi_header header;

	memset(info, 0, sizeof(*info));
	enum acpi_status acpi = acpi_table_check(table, len, &header);

	if (acpi != ACPI_OK)
		return fail(info, DMAR_ERR_TABLE, "ACPI header check failed: %s",
			    acpi_status_str(acpi));
	if (memcmp(header.sig, "DMAR", ACPI_SIG_LEN) != 0)
		return fail(info, DMAR_ERR_SIGNATURE, "signature is not DMAR");
	if (header.length < DMAR_STRUCTS_OFF)
		return fail(info, DMAR_ERR_TABLE, "length %" PRIu32 " < %d", header.length,
			    DMAR_STRUCTS_OFF);
	info->host_addr_width = (uint8_t)(p[DMAR_OFF_HOST_ADDR_WIDTH] + 1);
	info->flags = p[DMAR_OFF_FLAGS];

	for (size_t off = DMAR_STRUCTS_OFF; off < header.length;) {
		size_t room = header.length - off;

		if (room < DMAR_STRUCT_HEADER_LEN)
			return fail(info, DMAR_ERR_STRUCT, "structure at 0x%zx: %zu bytes left", off,
				    room);
		size_t slen = le_get16(p + off + 2);

		/* A length below the header would loop forever; past the end overruns. */
		if (slen < DMAR_STRUCT_HEADER_LEN || slen > room)
			return fail(info, DMAR_ERR_STRUCT,
				    "structure type %u at 0x%zx: length %zu with %zu bytes left",
				    le_get16(p + off), off, slen, room);
		enum dmar_status status = parse_struct(info, p, off, slen);

		if (status != DMAR_OK)
			return status;
		off += slen;
	}
	return DMAR_OK;
}

bool dmar_scope_resolve(const struct dmar_scope *scope, uint16_t segment, dmar_bridge_fn bridge,
			void *bridge_ctx, struct dmar_bdf *out)
{
	uint8_t bus = scope->start_bus;

	if (scope->path_len == 0)
		return false;
	for (unsigned i = 0; i + 1 < scope->path_len; i++) {
		struct dmar_bdf b = { segment, bus, scope->path[i].device, scope->path[i].function };
		uint8_t secondary, subordinate;

		if (!bridge || !bridge(bridge_ctx, b, &secondary, &subordinate))
			return false;
		bus = secondary;
	}
	const struct dmar_path_step *last = &scope->path[scope->path_len - 1];

	*out = (struct dmar_bdf){ segment, bus, last->device, last->function };
	return true;
}

static bool same_bdf(struct dmar_bdf a, struct dmar_bdf b)
{
	return a.segment == b.segment && a.bus == b.bus && a.device == b.device &&
	       a.function == b.function;
}

/* Only endpoint and bridge scopes name PCI requesters whose DMA a unit translates. */
static bool scope_names_pci_device(const struct dmar_scope *s)
{
	return s->type == DMAR_SCOPE_ENDPOINT || s->type == DMAR_SCOPE_BRIDGE;
}

/* Keeps the better of the current best match and a candidate. */
static void consider(struct dmar_match *best, unsigned *best_width, enum dmar_match_kind kind,
		     int unit, int scope, unsigned width)
{
	bool better = best->kind == DMAR_MATCH_NONE ||
		      (kind == DMAR_MATCH_EXACT && best->kind != DMAR_MATCH_EXACT) ||
		      (kind == DMAR_MATCH_BRIDGE && best->kind == DMAR_MATCH_BRIDGE &&
		       width < *best_width);

	if (better) {
		*best = (struct dmar_match){ kind, unit, scope };
		*best_width = width;
	}
}

/* Checks one scope of unit u against dev, updating the best match. */
static void match_scope(const struct dmar_info *info, unsigned u, unsigned si,
			struct dmar_bdf dev, dmar_bridge_fn bridge, void *ctx,
			struct dmar_match *best, unsigned *best_width)
{
	const struct dmar_scope *s = &info->scopes[si];
	struct dmar_bdf target;
	uint8_t secondary, subordinate;

	if (!scope_names_pci_device(s) ||
	    !dmar_scope_resolve(s, info->drhd[u].segment, bridge, ctx, &target))
		return;
	if (same_bdf(target, dev)) {
		consider(best, best_width, DMAR_MATCH_EXACT, (int)u, (int)si, 0);
		return;
	}
	if (s->type != DMAR_SCOPE_BRIDGE || !bridge || !bridge(ctx, target, &secondary, &subordinate))
		return;
	if (dev.bus >= secondary && dev.bus <= subordinate && secondary <= subordinate)
		consider(best, best_width, DMAR_MATCH_BRIDGE, (int)u, (int)si,
			 (unsigned)(subordinate - secondary));
}

int dmar_find_unit(const struct dmar_info *info, struct dmar_bdf dev, dmar_bridge_fn bridge,
		   void *bridge_ctx, struct dmar_match *match)
{
	struct dmar_match best = { DMAR_MATCH_NONE, -1, -1 };
	unsigned best_width = 0;
	int include_all = -1;

	for (unsigned u = 0; u < info->drhd_count; u++) {
		const struct dmar_drhd *unit = &info->drhd[u];

		if (unit->segment != dev.segment)
			continue;
		if (unit->flags & DMAR_DRHD_FLAG_INCLUDE_PCI_ALL) {
			if (include_all < 0)
				include_all = (int)u;
			continue;
		}
		for (unsigned i = 0; i < unit->scope_count; i++)
			match_scope(info, u, unit->scope_first + i, dev, bridge, bridge_ctx, &best,
				    &best_width);
	}
	if (best.kind == DMAR_MATCH_NONE && include_all >= 0)
		best = (struct dmar_match){ DMAR_MATCH_INCLUDE_ALL, include_all, -1 };
	if (match)
		*match = best;
	return best.unit;
}
