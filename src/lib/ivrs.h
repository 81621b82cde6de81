/*
 * IVRS (I/O Virtualization Reporting Structure) parser and the "which AMD
 * IOMMU translates this PCI device, under which requester id" decision, per
 * the AMD I/O Virtualization Technology (IOMMU) Specification (48882),
 * chapter 5.  Portable: host-tested against the table QEMU 7.2 builds for
 * -device amd-iommu, against real machines' tables and against broken ones.
 */
#ifndef PROOFBOOT_LIB_IVRS_H
#define PROOFBOOT_LIB_IVRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table layout after the 36-byte ACPI header. */
#define IVRS_OFF_IVINFO 36
#define IVRS_BLOCKS_OFF 48

/* IVinfo: what every IOMMU of the system supports. */
#define IVRS_IVINFO_EFR_SUP (1u << 0)   /* IVHD 11h/40h EFR images are valid */
#define IVRS_IVINFO_DMA_REMAP_SUP (1u << 1)
#define IVRS_IVINFO_PA_SHIFT 8          /* physical address size, bits 14:8 */
#define IVRS_IVINFO_VA_SHIFT 15         /* virtual address size, bits 21:15 */
#define IVRS_IVINFO_SIZE_MASK 0x7fu

/* Every block starts with type (u8), flags (u8), length (u16). */
#define IVRS_BLOCK_HEADER_LEN 4
#define IVRS_BLOCK_OFF_TYPE 0
#define IVRS_BLOCK_OFF_FLAGS 1
#define IVRS_BLOCK_OFF_LENGTH 2
enum ivrs_block_type {
	IVRS_TYPE_IVHD_LEGACY = 0x10, /* fixed-length entries only */
	IVRS_TYPE_IVHD_EFR = 0x11,    /* adds the EFR image */
	IVRS_TYPE_IVHD_MIXED = 0x40,  /* adds variable-length (ACPI HID) entries */
	IVRS_TYPE_IVMD_ALL = 0x20,    /* memory definitions: not used here */
	IVRS_TYPE_IVMD_SELECT = 0x21,
	IVRS_TYPE_IVMD_RANGE = 0x22,
};

/* IVHD body. */
#define IVHD_OFF_DEVICE_ID 4     /* the IOMMU's own PCI requester id */
#define IVHD_OFF_CAP_OFFSET 6    /* its capability block in PCI config space */
#define IVHD_OFF_BASE 8          /* MMIO register base */
#define IVHD_OFF_SEGMENT 16
#define IVHD_OFF_INFO 18         /* MSI number, UnitID */
#define IVHD_OFF_FEATURES 20     /* 10h: feature reporting; 11h/40h: attributes */
#define IVHD_OFF_EFR 24          /* 11h/40h only */
#define IVHD_LEGACY_ENTRIES_OFF 24
#define IVHD_EFR_ENTRIES_OFF 40
/* The register block is 16 KiB aligned (the MMIO base register's bits 13:0 are zero). */
#define IVHD_BASE_ALIGN_MASK 0x3fffull

/* Device entries: the type's top bits give the size (spec table 5.2.2.2). */
#define IVHD_ENTRY_OFF_TYPE 0
#define IVHD_ENTRY_OFF_DEVID 1
#define IVHD_ENTRY_OFF_DTE 3
#define IVHD_ENTRY_OFF_ALIAS 5   /* alias entries: the requester id used */
#define IVHD_ENTRY_OFF_EXT 4     /* extended entries: a 32-bit setting */
#define IVHD_ENTRY_OFF_HANDLE 4  /* special entries */
#define IVHD_ENTRY_OFF_SPECIAL_DEVID 5
#define IVHD_ENTRY_OFF_VARIETY 7
#define IVHD_ENTRY_OFF_HID_UID_LEN 21 /* ACPI HID entry: 22 bytes + UID */
#define IVHD_ENTRY_HID_FIXED_LEN 22
#define IVHD_ENTRY_SIZE_4_LAST 0x3f
#define IVHD_ENTRY_SIZE_8_LAST 0x7f
#define IVHD_ENTRY_SIZE_16_LAST 0xbf
#define IVHD_ENTRY_SIZE_32_LAST 0xef
enum ivhd_entry_type {
	IVHD_ENTRY_PAD = 0x00,
	IVHD_ENTRY_ALL = 0x01,          /* every device of the segment */
	IVHD_ENTRY_SELECT = 0x02,
	IVHD_ENTRY_RANGE_START = 0x03,
	IVHD_ENTRY_RANGE_END = 0x04,    /* closes 03h, 43h and 47h */
	IVHD_ENTRY_ALIAS_SELECT = 0x42,
	IVHD_ENTRY_ALIAS_RANGE = 0x43,
	IVHD_ENTRY_EXT_SELECT = 0x46,
	IVHD_ENTRY_EXT_RANGE = 0x47,
	IVHD_ENTRY_SPECIAL = 0x48,      /* IOAPIC / HPET behind this IOMMU */
	IVHD_ENTRY_ACPI_HID = 0xf0,     /* 40h only */
};
enum ivhd_special_variety {
	IVHD_SPECIAL_IOAPIC = 1,
	IVHD_SPECIAL_HPET = 2,
};

/* Requester id = bus << 8 | device << 3 | function. */
#define IVRS_DEVID(bus, dev, fn) ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define IVRS_DEVID_BUS(id) ((uint8_t)((id) >> 8))
#define IVRS_DEVID_DEV(id) ((uint8_t)(((id) >> 3) & 0x1f))
#define IVRS_DEVID_FN(id) ((uint8_t)((id) & 0x7))
#define IVRS_DEVID_LAST 0xffffu

/* Capacity of the parsed form; a table needing more is rejected, not cut. */
#define IVRS_MAX_UNITS 16
#define IVRS_MAX_RANGES 512
#define IVRS_MAX_SPECIALS 64
#define IVRS_REASON_MAX 120

enum ivrs_range_kind {
	IVRS_RANGE_ALL = 1,   /* entry 01h: first..last = 0..ffff */
	IVRS_RANGE_SELECT,    /* 02h, 46h */
	IVRS_RANGE_RANGE,     /* 03h..04h, 47h..04h */
	IVRS_RANGE_ALIAS,     /* 42h, 43h..04h: DMA arrives with requester id `alias` */
};

/* Devices first..last (requester ids) behind one IOMMU block. */
struct ivrs_range {
	uint8_t kind;     /* enum ivrs_range_kind */
	uint8_t entry;    /* the opening entry's type */
	uint8_t dte;      /* DTE setting byte (INITPass, EIntPass, NMIPass, SysMgt, Lint0/1) */
	uint16_t first, last;
	uint16_t alias;   /* requester id the IOMMU sees; == device unless ALIAS */
	uint32_t ext;     /* extended setting (46h/47h), else 0 */
};

struct ivrs_special {
	uint8_t variety;  /* enum ivhd_special_variety, unknown values kept */
	uint8_t handle;   /* IOAPIC id or HPET number */
	uint16_t devid;   /* requester id of its interrupts */
	uint8_t dte;
};

/* One IVHD block: one IOMMU as one block type describes it. */
struct ivrs_unit {
	uint8_t type;            /* enum ivrs_block_type: 10h, 11h or 40h */
	uint8_t flags;
	uint16_t devid;          /* the IOMMU's own requester id */
	uint16_t cap_offset;
	uint64_t base;           /* MMIO register base */
	uint16_t segment;
	uint16_t info;
	uint32_t features;       /* 10h: feature reporting; 11h/40h: attributes */
	bool has_efr;
	uint64_t efr;            /* 11h/40h: image of the EFR register */
	unsigned range_first;    /* into ivrs_info.ranges */
	unsigned range_count;
	unsigned special_first;  /* into ivrs_info.specials */
	unsigned special_count;
	unsigned hid_count;      /* ACPI HID entries (40h): counted, not used */
};

struct ivrs_info {
	uint32_t ivinfo;
	uint8_t pa_bits, va_bits;  /* from IVinfo; 0 = not reported */
	unsigned unit_count;       /* every IVHD block, of every type */
	struct ivrs_unit units[IVRS_MAX_UNITS];
	uint8_t used_type;         /* the IVHD type software uses (highest present) */
	unsigned range_count;
	struct ivrs_range ranges[IVRS_MAX_RANGES];
	unsigned special_count;
	struct ivrs_special specials[IVRS_MAX_SPECIALS];
	unsigned ivmd_count;       /* memory definitions: counted, not used */
	unsigned skipped_blocks;   /* unknown block types */
	char reason[IVRS_REASON_MAX]; /* why parsing failed; "" on success */
};

enum ivrs_status {
	IVRS_OK = 0,
	IVRS_ERR_TABLE,     /* ACPI header: truncated, bad length or checksum */
	IVRS_ERR_SIGNATURE,
	IVRS_ERR_BLOCK,     /* a block is truncated or overruns the table */
	IVRS_ERR_ENTRY,     /* a device entry is truncated, overruns or is unpaired */
	IVRS_ERR_VALUE,     /* a field holds an impossible value */
	IVRS_ERR_CAPACITY,  /* more units/ranges/specials than supported */
};

const char *ivrs_status_str(enum ivrs_status status);
const char *ivrs_block_type_str(uint8_t type);

/*
 * Parses an IVRS table held in len readable bytes (checksum included).
 * On failure info->reason says what and at which offset.
 */
enum ivrs_status ivrs_parse(const void *table, size_t len, struct ivrs_info *info);

struct ivrs_match {
	int unit;        /* index into info->units (a used_type block), -1 when none */
	int range;       /* index into info->ranges, -1 when none */
	uint16_t alias;  /* the requester id DMA from the device carries */
	uint8_t dte;
};

/*
 * Which IOMMU translates DMA from seg:devid, among the blocks of the type
 * software uses (the highest type the table has, as Linux does: the blocks of
 * one type describe all IOMMUs).  Within a block the last entry naming the
 * device wins (entries refine the ones before them); the first block that
 * names it wins.  Returns the unit index or -1.
 */
int ivrs_find_unit(const struct ivrs_info *info, uint16_t segment, uint16_t devid,
		   struct ivrs_match *match);

/* Number of IOMMUs: the blocks of info->used_type. */
unsigned ivrs_used_unit_count(const struct ivrs_info *info);

#endif
