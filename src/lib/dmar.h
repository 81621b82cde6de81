/*
 * DMAR (DMA Remapping Reporting) table parser and the "which remapping
 * unit translates this PCI device" decision, per the Intel VT-d
 * specification, chapter 8.  Portable: host-tested against the table QEMU
 * 7.2 really builds and against hand-broken ones.
 */
#ifndef PROOFBOOT_LIB_DMAR_H
#define PROOFBOOT_LIB_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table layout after the 36-byte ACPI header. */
#define DMAR_OFF_HOST_ADDR_WIDTH 36 /* value + 1 = DMA physical address width */
#define DMAR_OFF_FLAGS 37
#define DMAR_STRUCTS_OFF 48

#define DMAR_FLAG_INTR_REMAP (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT (1u << 1)
#define DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN (1u << 2)

/* Every remapping structure starts with type (u16) and length (u16). */
#define DMAR_STRUCT_HEADER_LEN 4
enum dmar_struct_type {
	DMAR_TYPE_DRHD = 0, /* a remapping hardware unit */
	DMAR_TYPE_RMRR = 1, /* reserved memory that devices keep using */
	DMAR_TYPE_ATSR = 2,
	DMAR_TYPE_RHSA = 3,
	DMAR_TYPE_ANDD = 4,
	DMAR_TYPE_SATC = 5,
};

/* DRHD body. */
#define DMAR_DRHD_OFF_FLAGS 4
#define DMAR_DRHD_OFF_SEGMENT 6
#define DMAR_DRHD_OFF_REG_BASE 8
#define DMAR_DRHD_SCOPES_OFF 16
#define DMAR_DRHD_FLAG_INCLUDE_PCI_ALL (1u << 0)

/* RMRR body. */
#define DMAR_RMRR_OFF_SEGMENT 6
#define DMAR_RMRR_OFF_BASE 8
#define DMAR_RMRR_OFF_LIMIT 16
#define DMAR_RMRR_SCOPES_OFF 24

/* Device scope: type, length, 2 reserved, enumeration id, start bus, path. */
#define DMAR_SCOPE_OFF_TYPE 0
#define DMAR_SCOPE_OFF_LENGTH 1
#define DMAR_SCOPE_OFF_ENUM_ID 4
#define DMAR_SCOPE_OFF_START_BUS 5
#define DMAR_SCOPE_PATH_OFF 6
#define DMAR_SCOPE_STEP_LEN 2
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,
	DMAR_SCOPE_BRIDGE = 2, /* the bridge and everything below it */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI_NAMESPACE = 5,
};

#define DMAR_PAGE_MASK 0xfffull
#define DMAR_PATH_MAX_DEVICE 31
#define DMAR_PATH_MAX_FUNCTION 7

/*
 * Capacity of the parsed form.  A table needing more keeps what fits, with a
 * warning, and marks the parse incomplete (see dmar_info.incomplete).
 */
#define DMAR_MAX_UNITS 16
#define DMAR_MAX_RMRRS 16
#define DMAR_MAX_SCOPES 256
#define DMAR_MAX_PATH 8
#define DMAR_REASON_MAX 120
#define DMAR_MAX_WARNINGS 16
#define DMAR_WARNING_DETAIL_MAX 112

/*
 * Faults Linux tolerates (drivers/iommu/intel/dmar.c): each is a warning and
 * the usable part of the table is used.
 */
enum dmar_warning_kind {
	DMAR_WARN_ZERO_LENGTH = 0,    /* a structure of length 0 ends the walk; earlier ones kept */
	DMAR_WARN_RMRR_NOT_PAGE_GRANULAR, /* kept, widened to whole 4 KiB pages */
	DMAR_WARN_RMRR_END_BELOW_BASE,   /* dropped: it names no memory */
	DMAR_WARN_DRHD_BASE_UNALIGNED,   /* kept at the address given */
	DMAR_WARN_DRHD_BASE_ZERO,        /* the unit is disabled: devices it claims get no unit */
	DMAR_WARN_PATH_OUT_OF_RANGE,     /* a path step above device 31 / function 7: scope dropped */
	DMAR_WARN_TOO_MANY_UNITS,        /* over DMAR_MAX_UNITS: unit dropped */
	DMAR_WARN_TOO_MANY_RMRRS,        /* over DMAR_MAX_RMRRS: RMRR dropped */
	DMAR_WARN_TOO_MANY_SCOPES,       /* over DMAR_MAX_SCOPES: scope dropped */
	DMAR_WARN_TOO_MANY_PATH_STEPS,   /* over DMAR_MAX_PATH: scope dropped */
	DMAR_WARN_KIND_COUNT,
};

struct dmar_warning {
	enum dmar_warning_kind kind;
	uint16_t struct_type;  /* enum dmar_struct_type of the structure concerned */
	uint32_t offset;       /* the structure's offset in the table */
	char detail[DMAR_WARNING_DETAIL_MAX];
};

struct dmar_path_step {
	uint8_t device;
	uint8_t function;
};

struct dmar_scope {
	uint8_t type; /* enum dmar_scope_type, or unknown values kept as-is */
	uint8_t enumeration_id;
	uint8_t start_bus;
	uint8_t path_len;
	struct dmar_path_step path[DMAR_MAX_PATH];
};

struct dmar_drhd {
	uint32_t offset; /* in the table */
	uint8_t flags;
	uint16_t segment;
	uint64_t reg_base;
	unsigned scope_first; /* into dmar_info.scopes */
	unsigned scope_count;
};

struct dmar_rmrr {
	uint16_t segment;
	uint64_t base;
	uint64_t limit; /* last byte, inclusive */
	unsigned scope_first;
	unsigned scope_count;
};

struct dmar_info {
	uint8_t host_addr_width; /* in bits (table value + 1) */
	uint8_t flags;
	unsigned drhd_count;
	struct dmar_drhd drhd[DMAR_MAX_UNITS];
	unsigned rmrr_count;
	struct dmar_rmrr rmrr[DMAR_MAX_RMRRS];
	unsigned scope_count;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
	unsigned skipped_structs; /* types this parser does not use (ATSR, RHSA, ...) */
	/* DRHDs with register base 0: their scopes still claim devices, for no unit. */
	unsigned disabled_count;
	struct dmar_drhd disabled[DMAR_MAX_UNITS];
	/*
	 * A unit or a scope of a unit was dropped (capacity): a device not
	 * matched explicitly may belong to it, so no INCLUDE_PCI_ALL fallback.
	 */
	bool incomplete;
	unsigned warning_count;   /* all warnings, also those not stored */
	struct dmar_warning warnings[DMAR_MAX_WARNINGS];
	unsigned warnings_by_kind[DMAR_WARN_KIND_COUNT];
	char reason[DMAR_REASON_MAX]; /* why parsing failed; "" on success */
};

enum dmar_status {
	DMAR_OK = 0,
	DMAR_ERR_TABLE,    /* ACPI header: truncated, bad length or checksum */
	DMAR_ERR_SIGNATURE,
	DMAR_ERR_STRUCT,   /* a remapping structure is truncated or overruns */
	DMAR_ERR_SCOPE,    /* a device scope is truncated, overruns or has a ragged length */
};

const char *dmar_status_str(enum dmar_status status);

/* Proof-line name of a warning kind ("zero-length-structure", ...). */
const char *dmar_warning_kind_str(enum dmar_warning_kind kind);

/* "DRHD", "RMRR", "ATSR", ... or "type-<n>". */
const char *dmar_struct_type_str(uint16_t type, char *buf, size_t cap);

/*
 * Parses a DMAR table held in len readable bytes (checksum included).
 * On failure info->reason says what and at which offset.
 */
enum dmar_status dmar_parse(const void *table, size_t len, struct dmar_info *info);

struct dmar_bdf {
	uint16_t segment;
	uint8_t bus;
	uint8_t device;
	uint8_t function;
};

/*
 * Reports the secondary and subordinate bus numbers of the bridge at
 * seg:bus:dev.fn; returns false when no bridge sits there.
 */
typedef bool (*dmar_bridge_fn)(void *ctx, struct dmar_bdf bridge, uint8_t *secondary,
			       uint8_t *subordinate);

enum dmar_match_kind {
	DMAR_MATCH_NONE = 0,
	DMAR_MATCH_EXACT,       /* a scope names the device itself */
	DMAR_MATCH_BRIDGE,      /* the device is below a bridge scope */
	DMAR_MATCH_INCLUDE_ALL, /* only the segment's INCLUDE_PCI_ALL unit claims it */
	DMAR_MATCH_DISABLED,    /* a unit with register base 0 claims it: no unit translates */
};

struct dmar_match {
	enum dmar_match_kind kind;
	int unit;  /* index into info->drhd, -1 when none */
	int scope; /* index into info->scopes, -1 for include-all or none */
};

/*
 * Which unit translates DMA from dev.  Explicit scopes win over an
 * INCLUDE_PCI_ALL unit: an exact endpoint/bridge scope first, then the
 * narrowest bridge scope whose bus range holds the device.  A multi-step
 * path is walked through bridges (each step after the first lies on the
 * secondary bus of the previous step), resolved by `bridge`; a path that
 * cannot be resolved matches nothing.  A claim by a disabled unit (register
 * base 0) wins like any other and yields -1 (kind DMAR_MATCH_DISABLED,
 * match->unit -1); so does falling to a disabled INCLUDE_PCI_ALL unit.  An
 * incomplete parse never falls back to INCLUDE_PCI_ALL.  Returns the unit
 * index or -1.
 */
int dmar_find_unit(const struct dmar_info *info, struct dmar_bdf dev, dmar_bridge_fn bridge,
		   void *bridge_ctx, struct dmar_match *match);

/*
 * The bus and devfn a scope's path ends at, walking bridges; false when an
 * intermediate step is not a bridge.
 */
bool dmar_scope_resolve(const struct dmar_scope *scope, uint16_t segment, dmar_bridge_fn bridge,
			void *bridge_ctx, struct dmar_bdf *out);

#endif
