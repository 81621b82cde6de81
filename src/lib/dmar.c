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
	}
	return "unknown";
}

const char *dmar_warning_kind_str(enum dmar_warning_kind kind)
{
	static const char *const names[DMAR_WARN_KIND_COUNT] = {
		[DMAR_WARN_ZERO_LENGTH] = "zero-length-structure",
		[DMAR_WARN_RMRR_NOT_PAGE_GRANULAR] = "rmrr-not-page-granular",
		[DMAR_WARN_RMRR_END_BELOW_BASE] = "rmrr-end-below-base",
		[DMAR_WARN_DRHD_BASE_UNALIGNED] = "drhd-base-not-4k-aligned",
		[DMAR_WARN_DRHD_BASE_ZERO] = "drhd-base-zero",
		[DMAR_WARN_PATH_OUT_OF_RANGE] = "path-step-out-of-range",
		[DMAR_WARN_TOO_MANY_UNITS] = "too-many-units",
		[DMAR_WARN_TOO_MANY_RMRRS] = "too-many-rmrrs",
		[DMAR_WARN_TOO_MANY_SCOPES] = "too-many-scopes",
		[DMAR_WARN_TOO_MANY_PATH_STEPS] = "too-many-path-steps",
	};

	return (unsigned)kind < DMAR_WARN_KIND_COUNT ? names[kind] : "unknown";
}

const char *dmar_struct_type_str(uint16_t type, char *buf, size_t cap)
{
	static const char *const names[] = { "DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP" };

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	snprintf(buf, cap, "type-%u", type);
	return buf;
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

static void warn(struct dmar_info *info, enum dmar_warning_kind kind, uint16_t type, size_t off,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records a tolerated fault; the count goes on past the stored ones. */
static void warn(struct dmar_info *info, enum dmar_warning_kind kind, uint16_t type, size_t off,
		 const char *fmt, ...)
{
	va_list ap;

	info->warnings_by_kind[kind]++;
	if (info->warning_count++ >= DMAR_MAX_WARNINGS)
		return;
	struct dmar_warning *w = &info->warnings[info->warning_count - 1];

	w->kind = kind;
	w->struct_type = type;
	w->offset = (uint32_t)off;
	va_start(ap, fmt);
	vsnprintf(w->detail, sizeof(w->detail), fmt, ap);
	va_end(ap);
}

/* The structure a scope belongs to, for warnings. */
struct scope_owner {
	uint16_t type;
	size_t off;
	bool claims_devices; /* a DRHD: dropping its scope makes the parse incomplete */
};

/* Stores the path of a scope whose steps are all in range; false (and a warning) otherwise. */
static bool store_path(struct dmar_info *info, const struct scope_owner *owner, const uint8_t *p,
		       size_t off, size_t steps, struct dmar_scope *s)
{
	for (size_t i = 0; i < steps; i++) {
		const uint8_t *step = p + DMAR_SCOPE_PATH_OFF + i * DMAR_SCOPE_STEP_LEN;

		/* No PCI function has such a device/function: the scope names nothing. */
		if (step[0] > DMAR_PATH_MAX_DEVICE || step[1] > DMAR_PATH_MAX_FUNCTION) {
			warn(info, DMAR_WARN_PATH_OUT_OF_RANGE, owner->type, owner->off,
			     "scope at 0x%zx: path step %zu is %02x.%x (device <= 1f, function <= 7); "
			     "scope ignored", off, i, step[0], step[1]);
			return false;
		}
		s->path[i] = (struct dmar_path_step){ step[0], step[1] };
	}
	return true;
}

/* One device scope at table offset `off`, at most `room` bytes long. */
static enum dmar_status parse_scope(struct dmar_info *info, const struct scope_owner *owner,
				    const uint8_t *p, size_t off, size_t room, size_t *consumed)
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
	*consumed = len;
	size_t steps = (len - DMAR_SCOPE_PATH_OFF) / DMAR_SCOPE_STEP_LEN;

	if (steps > DMAR_MAX_PATH) {
		warn(info, DMAR_WARN_TOO_MANY_PATH_STEPS, owner->type, owner->off,
		     "scope at 0x%zx: %zu path steps, at most %d kept; scope ignored", off, steps,
		     DMAR_MAX_PATH);
		info->incomplete |= owner->claims_devices;
		return DMAR_OK;
	}
	if (info->scope_count == DMAR_MAX_SCOPES) {
		warn(info, DMAR_WARN_TOO_MANY_SCOPES, owner->type, owner->off,
		     "scope at 0x%zx: more than %d device scopes; scope ignored", off, DMAR_MAX_SCOPES);
		info->incomplete |= owner->claims_devices;
		return DMAR_OK;
	}
	struct dmar_scope *s = &info->scopes[info->scope_count];

	memset(s, 0, sizeof(*s));
	s->type = p[DMAR_SCOPE_OFF_TYPE];
	s->enumeration_id = p[DMAR_SCOPE_OFF_ENUM_ID];
	s->start_bus = p[DMAR_SCOPE_OFF_START_BUS];
	s->path_len = (uint8_t)steps;
	if (store_path(info, owner, p, off, steps, s))
		info->scope_count++;
	return DMAR_OK;
}

/* The scopes filling [off, end) of a structure; records where they went. */
static enum dmar_status parse_scopes(struct dmar_info *info, const struct scope_owner *owner,
				     const uint8_t *table, size_t off, size_t end, unsigned *first,
				     unsigned *count)
{
	*first = info->scope_count;
	while (off < end) {
		size_t used = 0;
		enum dmar_status status = parse_scope(info, owner, table + off, off, end - off, &used);

		if (status != DMAR_OK)
			return status;
		off += used;
	}
	*count = info->scope_count - *first;
	return DMAR_OK;
}

/* Where a DRHD goes: the unit list, the disabled list (base 0), or nowhere (full). */
static struct dmar_drhd *drhd_slot(struct dmar_info *info, uint64_t reg_base, size_t off)
{
	if (reg_base == 0) {
		/* Linux refuses VT-d for such a table; here only this unit is off. */
		warn(info, DMAR_WARN_DRHD_BASE_ZERO, DMAR_TYPE_DRHD, off,
		     "DRHD at 0x%zx: register base 0; unit disabled, devices it claims get no unit",
		     off);
		if (info->disabled_count < DMAR_MAX_UNITS)
			return &info->disabled[info->disabled_count];
	} else if (info->drhd_count < DMAR_MAX_UNITS) {
		return &info->drhd[info->drhd_count];
	}
	warn(info, DMAR_WARN_TOO_MANY_UNITS, DMAR_TYPE_DRHD, off,
	     "DRHD at 0x%zx: more than %d units; unit ignored", off, DMAR_MAX_UNITS);
	info->incomplete = true;
	return NULL;
}

static enum dmar_status parse_drhd(struct dmar_info *info, const uint8_t *table, size_t off,
				   size_t len)
{
	const uint8_t *p = table + off;
	const struct scope_owner owner = { DMAR_TYPE_DRHD, off, true };

	if (len < DMAR_DRHD_SCOPES_OFF)
		return fail(info, DMAR_ERR_STRUCT, "DRHD at 0x%zx: length %zu < %d", off, len,
			    DMAR_DRHD_SCOPES_OFF);
	uint64_t reg_base = le_get64(p + DMAR_DRHD_OFF_REG_BASE);
	struct dmar_drhd *u = drhd_slot(info, reg_base, off);

	if (!u)
		return DMAR_OK;
	if ((reg_base & DMAR_PAGE_MASK) != 0)
		warn(info, DMAR_WARN_DRHD_BASE_UNALIGNED, DMAR_TYPE_DRHD, off,
		     "DRHD at 0x%zx: register base 0x%" PRIx64 " is not 4 KiB aligned; used as given",
		     off, reg_base);
	u->offset = (uint32_t)off;
	u->flags = p[DMAR_DRHD_OFF_FLAGS];
	u->segment = le_get16(p + DMAR_DRHD_OFF_SEGMENT);
	u->reg_base = reg_base;
	enum dmar_status status = parse_scopes(info, &owner, table, off + DMAR_DRHD_SCOPES_OFF,
					       off + len, &u->scope_first, &u->scope_count);

	if (status == DMAR_OK) {
		if (reg_base == 0)
			info->disabled_count++;
		else
			info->drhd_count++;
	}
	return status;
}

/* False (and a warning) for an RMRR that names no memory; widens a ragged one to pages. */
static bool rmrr_range_usable(struct dmar_info *info, size_t off, struct dmar_rmrr *r)
{
	if (r->limit < r->base) {
		warn(info, DMAR_WARN_RMRR_END_BELOW_BASE, DMAR_TYPE_RMRR, off,
		     "RMRR at 0x%zx: end 0x%" PRIx64 " is below its base 0x%" PRIx64 "; RMRR ignored",
		     off, r->limit, r->base);
		return false;
	}
	/* Linux keeps such an RMRR and identity-maps the pages it touches; so do we. */
	if ((r->base & DMAR_PAGE_MASK) != 0 || (r->limit & DMAR_PAGE_MASK) != DMAR_PAGE_MASK) {
		uint64_t base = r->base & ~DMAR_PAGE_MASK, limit = r->limit | DMAR_PAGE_MASK;

		warn(info, DMAR_WARN_RMRR_NOT_PAGE_GRANULAR, DMAR_TYPE_RMRR, off,
		     "RMRR at 0x%zx: range 0x%" PRIx64 "-0x%" PRIx64 " is not page granular; "
		     "used as 0x%" PRIx64 "-0x%" PRIx64, off, r->base, r->limit, base, limit);
		r->base = base;
		r->limit = limit;
	}
	return true;
}

static enum dmar_status parse_rmrr(struct dmar_info *info, const uint8_t *table, size_t off,
				   size_t len)
{
	const uint8_t *p = table + off;
	const struct scope_owner owner = { DMAR_TYPE_RMRR, off, false };

	if (len < DMAR_RMRR_SCOPES_OFF)
		return fail(info, DMAR_ERR_STRUCT, "RMRR at 0x%zx: length %zu < %d", off, len,
			    DMAR_RMRR_SCOPES_OFF);
	if (info->rmrr_count == DMAR_MAX_RMRRS) {
		warn(info, DMAR_WARN_TOO_MANY_RMRRS, DMAR_TYPE_RMRR, off,
		     "RMRR at 0x%zx: more than %d RMRRs; RMRR ignored", off, DMAR_MAX_RMRRS);
		return DMAR_OK;
	}
	struct dmar_rmrr *r = &info->rmrr[info->rmrr_count];

	r->segment = le_get16(p + DMAR_RMRR_OFF_SEGMENT);
	r->base = le_get64(p + DMAR_RMRR_OFF_BASE);
	r->limit = le_get64(p + DMAR_RMRR_OFF_LIMIT);
	if (!rmrr_range_usable(info, off, r))
		return DMAR_OK;
	enum dmar_status status = parse_scopes(info, &owner, table, off + DMAR_RMRR_SCOPES_OFF,
					       off + len, &r->scope_first, &r->scope_count);

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
	enum acpi_status acpi = acpi_table_open_as(table, len, "DMAR", DMAR_STRUCTS_OFF, &header,
						   info->reason, sizeof(info->reason));

	if (acpi != ACPI_OK)
		return acpi == ACPI_ERR_SIGNATURE ? DMAR_ERR_SIGNATURE : DMAR_ERR_TABLE;
	info->host_addr_width = (uint8_t)(p[DMAR_OFF_HOST_ADDR_WIDTH] + 1);
	info->flags = p[DMAR_OFF_FLAGS];

	for (size_t off = DMAR_STRUCTS_OFF; off < header.length;) {
		size_t room = header.length - off;

		if (room < DMAR_STRUCT_HEADER_LEN)
			return fail(info, DMAR_ERR_STRUCT, "structure at 0x%zx: %zu bytes left", off,
				    room);
		uint16_t type = le_get16(p + off);
		size_t slen = le_get16(p + off + 2);

		/* Linux stops at a zero length (it would loop forever) and keeps what it has. */
		if (slen == 0) {
			char buf[16];

			warn(info, DMAR_WARN_ZERO_LENGTH, type, off,
			     "%s at 0x%zx: length 0; walk ended, %zu bytes after it ignored",
			     dmar_struct_type_str(type, buf, sizeof(buf)), off, room);
			break;
		}
		/* A length below the header cannot advance; past the end overruns. */
		if (slen < DMAR_STRUCT_HEADER_LEN || slen > room)
			return fail(info, DMAR_ERR_STRUCT,
				    "structure type %u at 0x%zx: length %zu with %zu bytes left",
				    type, off, slen, room);
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

/* Checks one scope of a unit (index u, reported in the match) against dev. */
static void match_scope(const struct dmar_info *info, const struct dmar_drhd *unit, int u,
			unsigned si, struct dmar_bdf dev, dmar_bridge_fn bridge, void *ctx,
			struct dmar_match *best, unsigned *best_width)
{
	const struct dmar_scope *s = &info->scopes[si];
	struct dmar_bdf target;
	uint8_t secondary, subordinate;

	if (!scope_names_pci_device(s) ||
	    !dmar_scope_resolve(s, unit->segment, bridge, ctx, &target))
		return;
	if (same_bdf(target, dev)) {
		consider(best, best_width, DMAR_MATCH_EXACT, u, (int)si, 0);
		return;
	}
	if (s->type != DMAR_SCOPE_BRIDGE || !bridge || !bridge(ctx, target, &secondary, &subordinate))
		return;
	if (dev.bus >= secondary && dev.bus <= subordinate && secondary <= subordinate)
		consider(best, best_width, DMAR_MATCH_BRIDGE, u, (int)si,
			 (unsigned)(subordinate - secondary));
}

/* The best claim among units[0..count) on dev's segment; include-all units noted, not matched. */
static void match_units(const struct dmar_info *info, const struct dmar_drhd *units,
			unsigned count, struct dmar_bdf dev, dmar_bridge_fn bridge, void *ctx,
			struct dmar_match *best, unsigned *best_width, int *include_all)
{
	for (unsigned u = 0; u < count; u++) {
		const struct dmar_drhd *unit = &units[u];

		if (unit->segment != dev.segment)
			continue;
		if (unit->flags & DMAR_DRHD_FLAG_INCLUDE_PCI_ALL) {
			if (*include_all < 0)
				*include_all = (int)u;
			continue;
		}
		for (unsigned i = 0; i < unit->scope_count; i++)
			match_scope(info, unit, (int)u, unit->scope_first + i, dev, bridge, ctx, best,
				    best_width);
	}
}

int dmar_find_unit(const struct dmar_info *info, struct dmar_bdf dev, dmar_bridge_fn bridge,
		   void *bridge_ctx, struct dmar_match *match)
{
	struct dmar_match best = { DMAR_MATCH_NONE, -1, -1 };
	struct dmar_match off = { DMAR_MATCH_NONE, -1, -1 };
	unsigned best_width = 0, off_width = 0;
	int include_all = -1, off_include_all = -1;

	match_units(info, info->drhd, info->drhd_count, dev, bridge, bridge_ctx, &best, &best_width,
		    &include_all);
	match_units(info, info->disabled, info->disabled_count, dev, bridge, bridge_ctx, &off,
		    &off_width, &off_include_all);
	/* A disabled unit's claim counts as a claim: the device is its, and it does not translate. */
	if (off.kind != DMAR_MATCH_NONE) {
		consider(&best, &best_width, off.kind, -2, off.scope, off_width);
		if (best.unit == -2)
			best = (struct dmar_match){ DMAR_MATCH_DISABLED, -1, off.scope };
	}
	if (best.kind == DMAR_MATCH_NONE && !info->incomplete) {
		if (include_all >= 0)
			best = (struct dmar_match){ DMAR_MATCH_INCLUDE_ALL, include_all, -1 };
		else if (off_include_all >= 0)
			best = (struct dmar_match){ DMAR_MATCH_DISABLED, -1, -1 };
	}
	if (match)
		*match = best;
	return best.unit;
}
