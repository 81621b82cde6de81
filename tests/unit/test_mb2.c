#include "unit.h"
#include "mb2.h"

#include <stdlib.h>

/* Builds multiboot2 information in a buffer, tag by tag. */
struct builder {
	uint8_t buf[4096] __attribute__((aligned(8)));
	uint32_t len;
};

static void put32(struct builder *b, uint32_t at, uint32_t v)
{
	memcpy(b->buf + at, &v, 4);
}

static void put64(struct builder *b, uint32_t at, uint64_t v)
{
	memcpy(b->buf + at, &v, 8);
}

static void begin(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
}

static uint32_t add_tag(struct builder *b, uint32_t type, const void *body, uint32_t body_len)
{
	uint32_t at = b->len;
	put32(b, at, type);
	put32(b, at + 4, 8 + body_len);
	if (body_len)
		memcpy(b->buf + at + 8, body, body_len);
	b->len = (at + 8 + body_len + 7) & ~7u;
	return at;
}

static void finish(struct builder *b)
{
	add_tag(b, MB2_INFO_TAG_END, NULL, 0);
	put32(b, 0, b->len);
}

static void add_mmap(struct builder *b, const uint64_t (*regions)[3], unsigned n)
{
	uint8_t body[8 + 24 * 8] = { 0 };
	uint32_t entry = 24;
	memcpy(body, &entry, 4);
	for (unsigned i = 0; i < n; i++) {
		memcpy(body + 8 + 24 * i, &regions[i][0], 8);
		memcpy(body + 8 + 24 * i + 8, &regions[i][1], 8);
		uint32_t type = (uint32_t)regions[i][2];
		memcpy(body + 8 + 24 * i + 16, &type, 4);
	}
	add_tag(b, MB2_INFO_TAG_MMAP, body, 8 + 24 * n);
}

UNIT_TEST(mb2_parses_cmdline_mmap_and_acpi)
{
	static struct builder b;
	static struct mb2_info info;
	const uint64_t regions[][3] = {
		{ 0, 0x9fc00, MB2_MMAP_AVAILABLE },
		{ 0x100000, 0x7ee0000, MB2_MMAP_AVAILABLE },
		{ 0xfeffc000, 0x4000, 2 },
	};
	uint8_t rsdp[20] = "RSD PTR ";

	begin(&b);
	add_tag(&b, MB2_INFO_TAG_CMDLINE, "dma=bounce", 11);
	add_mmap(&b, regions, 3);
	add_tag(&b, MB2_INFO_TAG_ACPI_OLD, rsdp, sizeof(rsdp));
	finish(&b);

	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_EQ(info.problem_count, 0);
	CHECK(info.has_cmdline);
	CHECK_STR(info.cmdline, "dma=bounce");
	CHECK_EQ(info.region_count, 3);
	CHECK_EQ(info.regions[1].base, 0x100000);
	CHECK_EQ(info.regions[2].type, 2);
	CHECK_EQ(mb2_usable_bytes(&info), 0x9fc00 + 0x7ee0000);
	CHECK_EQ(info.rsdp_tag, MB2_INFO_TAG_ACPI_OLD);
	CHECK_EQ(info.rsdp_len, 20);
	CHECK(memcmp(info.rsdp, "RSD PTR ", 8) == 0);
}

UNIT_TEST(mb2_prefers_acpi_new_rsdp_whatever_the_order)
{
	static struct builder b;
	static struct mb2_info info;
	uint8_t old_rsdp[20] = "OLD";
	uint8_t new_rsdp[36] = "NEW";

	begin(&b);
	add_tag(&b, MB2_INFO_TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
	add_tag(&b, MB2_INFO_TAG_ACPI_OLD, old_rsdp, sizeof(old_rsdp));
	finish(&b);
	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_EQ(info.rsdp_tag, MB2_INFO_TAG_ACPI_NEW);
	CHECK_EQ(info.rsdp_len, 36);
	CHECK_STR((const char *)info.rsdp, "NEW");
}

UNIT_TEST(mb2_rejects_total_size_beyond_buffer)
{
	static struct builder b;
	static struct mb2_info info;

	begin(&b);
	finish(&b);
	CHECK(!mb2_parse(b.buf, b.len - 1, &info));
	CHECK(info.fatal);
	CHECK_STR(info.problems[0].reason, "bad-total-size");
	CHECK(!mb2_parse(NULL, 0, &info));
	CHECK_STR(info.problems[0].reason, "info-missing");
}

UNIT_TEST(mb2_rejects_tag_overrunning_info)
{
	static struct builder b;
	static struct mb2_info info;

	begin(&b);
	uint32_t at = add_tag(&b, MB2_INFO_TAG_CMDLINE, "x", 2);
	finish(&b);
	put32(&b, at + 4, 4096); /* tag claims more than the info holds */
	CHECK(!mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_STR(info.problems[0].reason, "tag-overruns-info");
	CHECK_EQ(info.problems[0].offset, at);

	put32(&b, at + 4, 4); /* smaller than a tag header: would loop forever */
	CHECK(!mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_STR(info.problems[0].reason, "tag-overruns-info");
}

UNIT_TEST(mb2_requires_end_tag)
{
	static struct builder b;
	static struct mb2_info info;

	begin(&b);
	add_tag(&b, MB2_INFO_TAG_CMDLINE, "abc", 4);
	put32(&b, 0, b.len); /* no end tag */
	CHECK(!mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_STR(info.problems[0].reason, "end-tag-missing");
	/* What was read before the fault is still reported. */
	CHECK_STR(info.cmdline, "abc");
}

UNIT_TEST(mb2_skips_bad_tags_but_reports_them)
{
	static struct builder b;
	static struct mb2_info info;
	uint8_t short_rsdp[8] = { 0 };
	uint8_t bad_mmap[16] = { 3 }; /* entry_size 3 */
	char unterminated[4] = { 'a', 'b', 'c', 'd' };

	begin(&b);
	add_tag(&b, MB2_INFO_TAG_ACPI_NEW, short_rsdp, sizeof(short_rsdp));
	add_tag(&b, MB2_INFO_TAG_MMAP, bad_mmap, sizeof(bad_mmap));
	add_tag(&b, MB2_INFO_TAG_CMDLINE, unterminated, sizeof(unterminated));
	add_tag(&b, 0x7777, "future", 7);
	finish(&b);
	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK_EQ(info.problem_count, 3);
	CHECK_STR(info.problems[0].reason, "rsdp-too-short");
	CHECK_STR(info.problems[1].reason, "mmap-bad-entry-size");
	CHECK_STR(info.problems[2].reason, "string-not-terminated");
	CHECK_EQ(info.rsdp_tag, 0);
	CHECK_EQ(info.region_count, 0);
}

UNIT_TEST(mb2_framebuffer_and_efi_tags)
{
	static struct builder b;
	static struct mb2_info info;
	uint8_t fb[24] = { 0 };
	uint32_t pitch = 4096, width = 1024, height = 768;

	begin(&b);
	put64(&b, 0, 0); /* keep put64 used for the header scratch */
	uint64_t addr = 0xfd000000;
	memcpy(fb, &addr, 8);
	memcpy(fb + 8, &pitch, 4);
	memcpy(fb + 12, &width, 4);
	memcpy(fb + 16, &height, 4);
	fb[20] = 32;
	fb[21] = 1;
	add_tag(&b, MB2_INFO_TAG_FRAMEBUFFER, fb, sizeof(fb));
	add_tag(&b, MB2_INFO_TAG_EFI64, "\0\0\0\0\0\0\0\0", 8);
	finish(&b);
	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK(info.has_framebuffer);
	CHECK_EQ(info.fb.addr, 0xfd000000);
	CHECK_EQ(info.fb.width, 1024);
	CHECK_EQ(info.fb.height, 768);
	CHECK_EQ(info.fb.bpp, 32);
	CHECK(!info.fb.has_rgb_layout); /* the tag stopped before the colour fields */
	CHECK(info.efi);
}

UNIT_TEST(mb2_framebuffer_rgb_layout)
{
	static struct builder b;
	static struct mb2_info info;
	uint8_t fb[30] = { 0 };
	/* OVMF's GOP as GRUB reports it: 8-bit fields, blue lowest (BGRX). */
	static const uint8_t layout[6] = { 16, 8, 8, 8, 0, 8 };

	begin(&b);
	fb[20] = 32;
	fb[21] = 1;
	memcpy(fb + 24, layout, sizeof(layout));
	add_tag(&b, MB2_INFO_TAG_FRAMEBUFFER, fb, sizeof(fb));
	finish(&b);
	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK(info.fb.has_rgb_layout);
	CHECK_EQ(info.fb.rgb.red_pos, 16);
	CHECK_EQ(info.fb.rgb.green_size, 8);
	CHECK_EQ(info.fb.rgb.blue_pos, 0);

	fb[21] = 0; /* indexed colour: the same bytes are a palette description */
	begin(&b);
	add_tag(&b, MB2_INFO_TAG_FRAMEBUFFER, fb, sizeof(fb));
	finish(&b);
	CHECK(mb2_parse(b.buf, sizeof(b.buf), &info));
	CHECK(!info.fb.has_rgb_layout);
}

UNIT_TEST(mb2_survives_random_garbage)
{
	static struct builder b;
	static struct mb2_info info;

	srand(1234);
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(b.buf); i++)
			b.buf[i] = (uint8_t)rand();
		put32(&b, 0, (uint32_t)(rand() % (int)sizeof(b.buf)));
		mb2_parse(b.buf, sizeof(b.buf), &info);
		CHECK(info.problem_count <= MB2_MAX_PROBLEMS);
		CHECK(info.region_count <= MB2_MAX_REGIONS);
	}
}
