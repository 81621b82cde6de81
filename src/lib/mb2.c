/* Multiboot2 information parser (spec 2.0, section 3.6). */
#include "mb2.h"

#include <string.h>

#define MB2_ALIGN 8
#define MB2_FIXED_HEADER 8
#define MB2_TAG_HEADER 8
#define MB2_MMAP_HEADER 16  /* tag header + entry_size + entry_version */
#define MB2_MMAP_ENTRY_MIN 24
#define MB2_RSDP_V1_LEN 20
#define MB2_FB_MIN_SIZE 31
/* Body offsets of the framebuffer tag (after addr, pitch, width, height, bpp, type, reserved). */
#define MB2_FB_BODY_COLOR_INFO 24
#define MB2_FB_RGB_INFO_LEN 6
#define MB2_EFI64_SIZE 16

struct tag_view {
	const uint8_t *body; /* after the 8-byte tag header */
	uint32_t type;
	uint32_t body_len;
	uint32_t offset;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void problem(struct mb2_info *out, const char *reason, uint32_t tag_type, uint32_t offset)
{
	if (out->problem_count < MB2_MAX_PROBLEMS)
		out->problems[out->problem_count++] = (struct mb2_problem){ reason, tag_type, offset };
}

static void copy_string(char *dst, size_t cap, const struct tag_view *t, struct mb2_info *out)
{
	const uint8_t *nul = memchr(t->body, '\0', t->body_len);

	if (!nul) {
		problem(out, "string-not-terminated", t->type, t->offset);
		return;
	}
	size_t len = (size_t)(nul - t->body);
	if (len >= cap) {
		problem(out, "string-too-long", t->type, t->offset);
		len = cap - 1;
	}
	memcpy(dst, t->body, len);
	dst[len] = '\0';
}

static void parse_mmap(const struct tag_view *t, struct mb2_info *out)
{
	const uint32_t fixed = MB2_MMAP_HEADER - MB2_TAG_HEADER;

	if (t->body_len < fixed) {
		problem(out, "mmap-too-short", t->type, t->offset);
		return;
	}
	uint32_t entry_size = rd32(t->body);
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % MB2_ALIGN) {
		problem(out, "mmap-bad-entry-size", t->type, t->offset);
		return;
	}
	/* Compared as "fits in what is left" so a huge entry_size cannot wrap the sum. */
	for (uint32_t at = fixed; entry_size <= t->body_len - at; at += entry_size) {
		if (out->region_count == MB2_MAX_REGIONS) {
			out->regions_truncated = true;
			problem(out, "mmap-too-many-regions", t->type, t->offset);
			return;
		}
		const uint8_t *e = t->body + at;
		out->regions[out->region_count++] = (struct mb2_region){
			.base = rd64(e), .length = rd64(e + 8), .type = rd32(e + 16),
		};
	}
}

static void parse_rsdp(const struct tag_view *t, struct mb2_info *out)
{
	if (t->body_len < MB2_RSDP_V1_LEN) {
		problem(out, "rsdp-too-short", t->type, t->offset);
		return;
	}
	/* Keep the new (ACPI 2.0+) RSDP if both tags are present. */
	if (out->rsdp_tag == MB2_INFO_TAG_ACPI_NEW && t->type == MB2_INFO_TAG_ACPI_OLD)
		return;
	size_t len = t->body_len < MB2_RSDP_MAX ? t->body_len : MB2_RSDP_MAX;
	memcpy(out->rsdp, t->body, len);
	out->rsdp_len = len;
	out->rsdp_tag = t->type;
}

static void parse_framebuffer(const struct tag_view *t, struct mb2_info *out)
{
	if (t->body_len + MB2_TAG_HEADER < MB2_FB_MIN_SIZE) {
		problem(out, "framebuffer-too-short", t->type, t->offset);
		return;
	}
	out->fb = (struct mb2_framebuffer){
		.addr = rd64(t->body),
		.pitch = rd32(t->body + 8),
		.width = rd32(t->body + 12),
		.height = rd32(t->body + 16),
		.bpp = t->body[20],
		.type = t->body[21],
	};
	if (out->fb.type == MB2_FB_TYPE_RGB &&
	    t->body_len >= MB2_FB_BODY_COLOR_INFO + MB2_FB_RGB_INFO_LEN) {
		const uint8_t *c = t->body + MB2_FB_BODY_COLOR_INFO;
		out->fb.rgb = (struct mb2_rgb_layout){ c[0], c[1], c[2], c[3], c[4], c[5] };
		out->fb.has_rgb_layout = true;
	}
	out->has_framebuffer = true;
}

static void parse_tag(const struct tag_view *t, struct mb2_info *out)
{
	switch (t->type) {
	case MB2_INFO_TAG_CMDLINE:
		copy_string(out->cmdline, sizeof(out->cmdline), t, out);
		out->has_cmdline = true;
		break;
	case MB2_INFO_TAG_BOOTLOADER:
		copy_string(out->bootloader, sizeof(out->bootloader), t, out);
		break;
	case MB2_INFO_TAG_MMAP:
		parse_mmap(t, out);
		break;
	case MB2_INFO_TAG_ACPI_OLD:
	case MB2_INFO_TAG_ACPI_NEW:
		parse_rsdp(t, out);
		break;
	case MB2_INFO_TAG_FRAMEBUFFER:
		parse_framebuffer(t, out);
		break;
	case MB2_INFO_TAG_EFI64:
	case MB2_INFO_TAG_EFI_MMAP:
		out->efi = true;
		break;
	case MB2_INFO_TAG_EFI_BS_NOT_TERMINATED:
		out->efi_boot_services_active = true;
		break;
	default:
		break; /* tags we do not use are skipped by size */
	}
}

static bool fatal(struct mb2_info *out, const char *reason, uint32_t tag_type, uint32_t offset)
{
	problem(out, reason, tag_type, offset);
	out->fatal = true;
	return false;
}

bool mb2_parse(const void *info, size_t avail, struct mb2_info *out)
{
	const uint8_t *base = info;

	memset(out, 0, sizeof(*out));
	if (!info || avail < MB2_FIXED_HEADER)
		return fatal(out, "info-missing", 0, 0);
	uint32_t total = rd32(base);
	out->total_size = total;
	if (total < MB2_FIXED_HEADER + MB2_TAG_HEADER || total > avail || total > MB2_INFO_MAX_SIZE)
		return fatal(out, "bad-total-size", 0, 0);

	for (uint32_t at = MB2_FIXED_HEADER; at + MB2_TAG_HEADER <= total;) {
		uint32_t type = rd32(base + at), size = rd32(base + at + 4);
		if (size < MB2_TAG_HEADER || size > total - at)
			return fatal(out, "tag-overruns-info", type, at);
		if (type == MB2_INFO_TAG_END)
			return true;
		struct tag_view t = { base + at + MB2_TAG_HEADER, type, size - MB2_TAG_HEADER, at };
		parse_tag(&t, out);
		at += (size + MB2_ALIGN - 1) & ~(uint32_t)(MB2_ALIGN - 1);
	}
	return fatal(out, "end-tag-missing", 0, total);
}

uint64_t mb2_usable_bytes(const struct mb2_info *info)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < info->region_count; i++)
		if (info->regions[i].type == MB2_MMAP_AVAILABLE)
			sum += info->regions[i].length;
	return sum;
}
