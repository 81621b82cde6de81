/*
 * Multiboot2 boot-information parser.  Pure: takes the raw bytes and a
 * bound, validates every tag, and copies out what the firmware uses, so the
 * original memory can be reused afterwards.
 */
#ifndef PROOFBOOT_MB2_H
#define PROOFBOOT_MB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_INFO_TAG_END 0
#define MB2_INFO_TAG_CMDLINE 1
#define MB2_INFO_TAG_BOOTLOADER 2
#define MB2_INFO_TAG_BASIC_MEMINFO 4
#define MB2_INFO_TAG_MMAP 6
#define MB2_INFO_TAG_FRAMEBUFFER 8
#define MB2_INFO_TAG_EFI64 12
#define MB2_INFO_TAG_ACPI_OLD 14
#define MB2_INFO_TAG_ACPI_NEW 15
#define MB2_INFO_TAG_EFI_MMAP 17
#define MB2_INFO_TAG_EFI_BS_NOT_TERMINATED 18

#define MB2_MMAP_AVAILABLE 1
#define MB2_MMAP_ACPI_RECLAIMABLE 3

#define MB2_MAX_REGIONS 128
#define MB2_CMDLINE_MAX 512
#define MB2_RSDP_MAX 64
#define MB2_MAX_PROBLEMS 8
/* Larger than any real GRUB hand-off; bounds the walk over bad data. */
#define MB2_INFO_MAX_SIZE (1u << 20)

struct mb2_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/* framebuffer_type of the multiboot2 framebuffer tag (spec 3.6.12). */
#define MB2_FB_TYPE_INDEXED 0
#define MB2_FB_TYPE_RGB 1
#define MB2_FB_TYPE_EGA_TEXT 2

/* Where each colour's bits sit in a direct-RGB pixel (framebuffer type 1). */
struct mb2_rgb_layout {
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct mb2_framebuffer {
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type;
	bool has_rgb_layout; /* the tag carried the colour fields (direct RGB only) */
	struct mb2_rgb_layout rgb;
};

struct mb2_problem {
	const char *reason; /* e.g. "tag-overruns-info" */
	uint32_t tag_type;
	uint32_t offset;
};

struct mb2_info {
	uint32_t total_size;
	char cmdline[MB2_CMDLINE_MAX];
	bool has_cmdline;
	char bootloader[64];
	struct mb2_region regions[MB2_MAX_REGIONS];
	unsigned region_count;
	bool regions_truncated;
	uint8_t rsdp[MB2_RSDP_MAX];
	size_t rsdp_len;
	unsigned rsdp_tag; /* MB2_INFO_TAG_ACPI_NEW preferred over _OLD; 0 = none */
	struct mb2_framebuffer fb;
	bool has_framebuffer;
	bool efi;          /* an EFI system table or EFI memory map tag was seen */
	bool efi_boot_services_active;
	struct mb2_problem problems[MB2_MAX_PROBLEMS];
	unsigned problem_count;
	bool fatal; /* header or tag walk unusable: nothing after the fault is trusted */
};

/*
 * Parses info (at most `avail` readable bytes).  Always fills `out`; returns
 * false when a fatal problem stopped the walk.  Non-fatal problems (an
 * unusable tag that is skipped) are listed in out->problems.
 */
bool mb2_parse(const void *info, size_t avail, struct mb2_info *out);

/* Sum of MB2_MMAP_AVAILABLE bytes. */
uint64_t mb2_usable_bytes(const struct mb2_info *info);

#endif
