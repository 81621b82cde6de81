/*
 * ACPI table discovery, portable part: RSDP validation, RSDT/XSDT walk with
 * every table's length and checksum checked, lookup by signature, and the
 * MCFG (PCI Express ECAM) parser.
 *
 * Nothing here touches memory it was not handed: single structures are
 * parsed from (buffer, length) pairs, and the walk reads physical memory
 * only through a caller-supplied map callback, never past the length a
 * table's header claims nor past the caller's bound.  The firmware supplies
 * an identity-map callback (src/acpi.c); the host tests a fake memory.
 */
#ifndef PROOFBOOT_LIB_ACPI_H
#define PROOFBOOT_LIB_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_SIG_LEN 4
#define ACPI_OEM_ID_LEN 6
#define ACPI_OEM_TABLE_ID_LEN 8
#define ACPI_HEADER_LEN 36

/* RSDP layout (ACPI 6.x, 5.2.5.3). */
#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_RSDP_SIGNATURE_LEN 8
#define ACPI_RSDP_V1_LEN 20 /* covered by the first checksum */
#define ACPI_RSDP_V2_LEN 36 /* minimum for revision >= 2 */
#define ACPI_RSDP_FIRST_V2_REVISION 2
#define ACPI_RSDP_OFF_OEM_ID 9
#define ACPI_RSDP_OFF_REVISION 15
#define ACPI_RSDP_OFF_RSDT 16
#define ACPI_RSDP_OFF_LENGTH 20
#define ACPI_RSDP_OFF_XSDT 24

/* System description table header (5.2.6). */
#define ACPI_HDR_OFF_LENGTH 4
#define ACPI_HDR_OFF_REVISION 8
#define ACPI_HDR_OFF_CHECKSUM 9
#define ACPI_HDR_OFF_OEM_ID 10
#define ACPI_HDR_OFF_OEM_TABLE_ID 16

#define ACPI_RSDT_ENTRY_SIZE 4
#define ACPI_XSDT_ENTRY_SIZE 8

/* MCFG (PCI Firmware Spec 3.x, 4.1.2): header, 8 reserved bytes, 16-byte entries. */
#define ACPI_MCFG_ENTRIES_OFF 44
#define ACPI_MCFG_ENTRY_LEN 16
#define ACPI_MCFG_OFF_BASE 0
#define ACPI_MCFG_OFF_SEGMENT 8
#define ACPI_MCFG_OFF_BUS_START 10
#define ACPI_MCFG_OFF_BUS_END 11

enum acpi_status {
	ACPI_OK = 0,
	ACPI_ERR_TRUNCATED,  /* buffer shorter than the structure or its claimed length */
	ACPI_ERR_SIGNATURE,  /* wrong signature for what was asked */
	ACPI_ERR_CHECKSUM,   /* bytes do not sum to zero */
	ACPI_ERR_LENGTH,     /* claimed length impossible: too small, over bound, ragged */
	ACPI_ERR_NULL_ADDR,  /* a pointer field is zero */
	ACPI_ERR_UNMAPPED,   /* the map callback could not provide the bytes */
	ACPI_ERR_NOT_FOUND,  /* no such table / index out of range */
	ACPI_ERR_VALUE,      /* a field holds an impossible value */
};

/* Short lower-case name, usable as a proof-line value ("checksum", ...). */
const char *acpi_status_str(enum acpi_status status);

/* True when the len bytes sum to zero modulo 256. */
bool acpi_checksum_ok(const void *buf, size_t len);

struct acpi_rsdp {
	uint8_t revision;
	char oem_id[ACPI_OEM_ID_LEN + 1];
	uint32_t rsdt_addr;
	uint64_t xsdt_addr; /* 0 when revision < 2 */
	uint32_t length;    /* ACPI_RSDP_V1_LEN when revision < 2 */
};

/*
 * Validates an RSDP copy of len bytes: signature, the 20-byte checksum, and
 * for revision >= 2 the Length field (36..len) and the extended checksum
 * over Length bytes.
 */
enum acpi_status acpi_rsdp_parse(const void *buf, size_t len, struct acpi_rsdp *out);

struct acpi_header {
	char sig[ACPI_SIG_LEN + 1];
	uint32_t length;
	uint8_t revision;
	char oem_id[ACPI_OEM_ID_LEN + 1];
	char oem_table_id[ACPI_OEM_TABLE_ID_LEN + 1];
};

/* Decodes the 36-byte header only (no length or checksum check); needs len >= 36. */
enum acpi_status acpi_header_parse(const void *buf, size_t len, struct acpi_header *out);

/*
 * Full check of one table held in len readable bytes: header, claimed
 * length at least 36 and at most len, checksum over the claimed length.
 * *out is filled whenever the header itself was readable.
 */
enum acpi_status acpi_table_check(const void *buf, size_t len, struct acpi_header *out);

/*
 * The opening every table parser shares: acpi_table_check, then the expected
 * signature, then at least min_len bytes (the fixed part before the table's
 * structures).  On failure the status (ACPI_ERR_SIGNATURE, ACPI_ERR_LENGTH or
 * the check's) and a reason in why[cap].
 */
enum acpi_status acpi_table_open_as(const void *buf, size_t len, const char sig[ACPI_SIG_LEN],
				    uint32_t min_len, struct acpi_header *out, char *why, size_t cap);

/* Returns `len` readable bytes at physical address `phys`, or NULL. */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

struct acpi_tables {
	acpi_map_fn map;
	void *map_ctx;
	uint32_t max_len;          /* no table may claim more than this */
	struct acpi_rsdp rsdp;
	bool rsdp_valid;           /* the RSDP passed; a later failure is the root table's */
	uint64_t root_addr;        /* the RSDT or XSDT in use */
	const uint8_t *root;
	uint32_t root_len;
	unsigned entry_size;       /* ACPI_RSDT_ENTRY_SIZE or ACPI_XSDT_ENTRY_SIZE */
	unsigned entry_count;
	bool xsdt_fallback;        /* the XSDT was unusable, so the RSDT is in use */
	enum acpi_status xsdt_status; /* why, when xsdt_fallback */
};

struct acpi_table_ref {
	uint64_t addr;
	const void *table;          /* readable for header.length bytes; NULL if unreadable */
	struct acpi_header header;  /* valid when table != NULL */
	enum acpi_status status;    /* ACPI_OK only when length and checksum are valid */
};

/*
 * Validates the RSDP copy and the root table it points to (the XSDT when
 * revision >= 2 and it is usable, else the RSDT).  max_len bounds every
 * table length the walk will believe.
 */
enum acpi_status acpi_tables_open(struct acpi_tables *t, const void *rsdp, size_t rsdp_len,
				  acpi_map_fn map, void *map_ctx, uint32_t max_len);

/*
 * A table not listed in the root table (the DSDT, from the FADT's pointer),
 * mapped and checked like an entry: header first, at most max_len bytes.
 */
enum acpi_status acpi_tables_map(const struct acpi_tables *t, uint64_t addr,
				 struct acpi_table_ref *out);

/* The index-th root-table entry, checked.  ACPI_ERR_NOT_FOUND past the end. */
enum acpi_status acpi_tables_entry(const struct acpi_tables *t, unsigned index,
				   struct acpi_table_ref *out);

/*
 * The index-th table (counting from 0, in root-table order) whose signature
 * is sig; its status tells whether it is valid.  Entries whose header cannot
 * be read are not counted.  ACPI_ERR_NOT_FOUND when there is no such table.
 */
enum acpi_status acpi_tables_find(const struct acpi_tables *t, const char sig[ACPI_SIG_LEN],
				  unsigned index, struct acpi_table_ref *out);

struct acpi_mcfg_entry {
	uint64_t base; /* ECAM address of bus 0 in this segment */
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

/*
 * Number of allocation entries of an MCFG whose bytes were already checked
 * with acpi_table_check (len = readable bytes).  A length that leaves a
 * partial entry is ACPI_ERR_LENGTH.
 */
enum acpi_status acpi_mcfg_count(const void *mcfg, size_t len, unsigned *count);

/* One entry; ACPI_ERR_VALUE when base is 0 or bus_end < bus_start. */
enum acpi_status acpi_mcfg_get(const void *mcfg, size_t len, unsigned index,
			       struct acpi_mcfg_entry *out);

#endif
