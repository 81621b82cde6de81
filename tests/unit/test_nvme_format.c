/* Host tests for src/lib/nvme_format.c and src/lib/nvme_ident.c: every legal namespace shape. */
#include "unit.h"
#include "nvme_format.h"
#include "nvme_ident.h"

#include <stdlib.h>

#define PAGE 4096u
#define QEMU_MDTS 7

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An Identify Namespace result with one format in use (no page parsing involved). */
static struct nvme_id_ns_info ns_info(unsigned lbads, uint16_t ms, bool extended, uint8_t dps)
{
	struct nvme_id_ns_info id;

	memset(&id, 0, sizeof(id));
	id.nsze = id.ncap = id.nuse = 2048;
	id.nlbaf_count = 2;
	id.flbas_index = 1;
	id.lbaf[0].lbads = 9;
	id.lbaf[1].lbads = (uint8_t)lbads;
	id.lbaf[1].ms = ms;
	id.lbaf[1].rp = 2;
	id.lba_size = 1u << lbads;
	id.metadata_size = ms;
	id.metadata_extended = extended;
	id.dps = dps;
	return id;
}

static struct nvme_ns_format format_of(struct nvme_id_ns_info id)
{
	struct nvme_ns_format f;
	const char *why;

	CHECK(nvme_format_from_id(&id, &f, &why));
	CHECK(why == NULL);
	return f;
}

UNIT_TEST(nvme_format_extended_metadata_counts_520_bytes_per_block)
{
	struct nvme_ns_format f = format_of(ns_info(9, 8, true, 0));
	uint64_t bytes;

	CHECK_EQ(f.layout, NVME_MD_EXTENDED);
	CHECK_STR(nvme_md_layout_name(f.layout), "extended");
	CHECK_EQ(f.buffer_bytes, 520);
	CHECK_EQ(f.mdts_bytes, 520);
	CHECK(nvme_format_buffer_bytes(&f, 8, &bytes));
	CHECK_EQ(bytes, 4160);
	CHECK(nvme_format_md_bytes(&f, 8, &bytes));
	CHECK_EQ(bytes, 0);
	/* 512 KiB MDTS / 520 bytes is 1008 blocks (not the 1024 a 512-byte count gives), but
	 * QEMU 7.2's 1024-segment limit for interleaved transfers keeps it at 906, and whole
	 * 512-byte sectors of metadata (64 blocks of 8 bytes) at 896. */
	CHECK_EQ(f.md_granule, 64);
	CHECK_EQ(nvme_format_max_blocks(&f, QEMU_MDTS, PAGE, 0), 896);
	CHECK_EQ(nvme_format_max_blocks(&f, QEMU_MDTS, PAGE, 16 * 1024), 31); /* below a granule */
	/* With 4 KiB + 8 blocks MDTS is the tighter bound: 524288 / 4104 = 127, then 64. */
	struct nvme_ns_format big = format_of(ns_info(12, 8, true, 0));
	CHECK_EQ(nvme_format_max_blocks(&big, QEMU_MDTS, PAGE, 0), 64);
}

UNIT_TEST(nvme_format_separate_metadata_needs_its_own_buffer)
{
	struct nvme_ns_format f = format_of(ns_info(12, 16, false, 0));
	uint64_t bytes;

	CHECK_EQ(f.layout, NVME_MD_SEPARATE);
	CHECK_EQ(f.buffer_bytes, 4096);
	CHECK_EQ(f.mdts_bytes, 4096); /* a separate metadata buffer is not counted against MDTS */
	CHECK(nvme_format_md_bytes(&f, 3, &bytes));
	CHECK_EQ(bytes, 48);
	CHECK_EQ(nvme_format_max_blocks(&f, QEMU_MDTS, PAGE, 0), 128);
	CHECK_EQ(f.md_granule, 32);
	CHECK(!nvme_format_md_bytes(&f, UINT64_MAX / 2, &bytes));
}

UNIT_TEST(nvme_format_pi_types_read_without_pract_or_checks)
{
	for (uint8_t type = 1; type <= 3; type++) {
		struct nvme_ns_format f = format_of(ns_info(9, 8, false, type | NVME_DPS_PI_FIRST));

		CHECK_EQ(f.pi_type, type);
		CHECK(f.pi_first);
		CHECK(!f.prinfo.pract);
		CHECK_STR(nvme_prchk_name(&f.prinfo), "none");
		CHECK_EQ(nvme_prinfo_cdw12(&f.prinfo), 0);
	}
	struct nvme_prinfo all = { .pract = true, .check_guard = true, .check_apptag = true,
				   .check_reftag = true };
	CHECK_EQ(nvme_prinfo_cdw12(&all), 0xfu << 26);
	CHECK_STR(nvme_prchk_name(&all), "guard+apptag+reftag");
	struct nvme_prinfo ref = { .check_reftag = true };
	CHECK_EQ(nvme_prinfo_cdw12(&ref), NVME_CDW12_PRCHK_REFTAG);
	CHECK_STR(nvme_prchk_name(&ref), "reftag");
}

UNIT_TEST(nvme_format_refuses_what_it_cannot_serve)
{
	struct nvme_id_ns_info id = ns_info(22, 0, false, 0); /* 4 MiB blocks */
	struct nvme_ns_format f;
	const char *why;

	CHECK(!nvme_format_from_id(&id, &f, &why));
	CHECK_STR(why, "logical-block-larger-than-2MiB");
	id = ns_info(9, 4, false, 1);                         /* PI needs 8 bytes */
	CHECK(!nvme_format_from_id(&id, &f, &why));
	CHECK_STR(why, "protection-information-without-room-in-metadata");
	id = ns_info(9, 8, false, 5);
	CHECK(!nvme_format_from_id(&id, &f, &why));
	CHECK_STR(why, "reserved-protection-information-type");
}

/* Every LBA size QEMU allows: MDTS 512 KiB holds 2 MiB blocks zero times. */
UNIT_TEST(nvme_format_every_lba_size_512_to_2MiB)
{
	for (unsigned lbads = 9; lbads <= NVME_LBADS_SERVED_MAX; lbads++) {
		struct nvme_ns_format f = format_of(ns_info(lbads, 0, false, 0));
		uint32_t per_cmd = nvme_format_max_blocks(&f, QEMU_MDTS, PAGE, 0);

		CHECK_EQ(f.buffer_bytes, 1u << lbads);
		CHECK_EQ(per_cmd, lbads <= 19 ? (512u * 1024) >> lbads : 0);
		CHECK_EQ(nvme_format_max_blocks(&f, 0, PAGE, 0), NVME_MAX_BLOCKS_PER_RW);
	}
}

static struct nvme_io_addrs addrs(uint64_t prp1, uint64_t mptr, bool mptr_set)
{
	struct nvme_io_addrs a = { .prp = { prp1, 0 }, .prp_set = prp1 != 0, .mptr = mptr,
				   .mptr_set = mptr_set };
	return a;
}

UNIT_TEST(nvme_format_missing_address_names_the_pointer)
{
	struct nvme_ns_format sep = format_of(ns_info(9, 8, false, 1));
	struct nvme_ns_format ext = format_of(ns_info(9, 8, true, 0));
	struct nvme_ns_format plain = format_of(ns_info(9, 0, false, 0));
	struct nvme_io_addrs a = addrs(0x10000, 0, false);

	CHECK_STR(nvme_format_missing_address(&sep, &a), "metadata-pointer-not-set");
	CHECK(nvme_format_missing_address(&plain, &a) == NULL);
	CHECK(nvme_format_missing_address(&ext, &a) == NULL);
	a = addrs(0x10000, 0x20002, true);
	CHECK_STR(nvme_format_missing_address(&sep, &a), "metadata-pointer-misaligned");
	a = addrs(0, 0x20000, true);
	CHECK_STR(nvme_format_missing_address(&sep, &a), "data-pointer-not-set");
	a = addrs(0x10000, 0x20000, true);
	CHECK_STR(nvme_format_missing_address(&ext, &a), "metadata-pointer-without-separate-metadata");
	CHECK(nvme_format_missing_address(&sep, &a) == NULL);
	a.prp_set = false; /* the PRP builder failed: whatever PRP1 holds is not an address */
	CHECK_STR(nvme_format_missing_address(&plain, &a), "data-pointer-not-set");
}

UNIT_TEST(nvme_cmd_read_format_carries_prinfo_and_no_address)
{
	struct nvme_ns_format f = format_of(ns_info(9, 8, false, 1));
	struct nvme_sqe sqe;

	memset(&sqe, 0xab, sizeof(sqe));
	CHECK(!nvme_cmd_read_format(&sqe, 1, 0, 0, &f));
	CHECK_EQ(sqe.opcode, 0xab); /* untouched */
	f.prinfo.pract = true;
	f.prinfo.check_guard = true;
	CHECK(nvme_cmd_read_format(&sqe, 7, 99, 4, &f));
	CHECK_EQ(sqe.opcode, NVME_IO_READ);
	CHECK_EQ(sqe.nsid, 7);
	CHECK_EQ(sqe.cdw10, 99);
	CHECK_EQ(sqe.cdw12, 3u | NVME_CDW12_PRACT | NVME_CDW12_PRCHK_GUARD);
	CHECK_EQ(sqe.prp1, 0);
	CHECK_EQ(sqe.mptr, 0);
}

UNIT_TEST(nvme_format_split_extended_keeps_only_lba_data)
{
	struct nvme_ns_format f = format_of(ns_info(9, 8, true, 0));
	uint8_t *buf = malloc(3 * 520), *want = malloc(3 * 512), md[24];

	for (unsigned b = 0; b < 3; b++) {
		memset(buf + b * 520, 'a' + b, 512);
		memset(buf + b * 520 + 512, '0' + b, 8);
		memset(want + b * 512, 'a' + b, 512);
	}
	nvme_format_split_extended(&f, buf, 3, buf, md); /* in place */
	CHECK(memcmp(buf, want, 3 * 512) == 0);
	CHECK_EQ(md[0], '0');
	CHECK_EQ(md[8], '1');
	CHECK_EQ(md[23], '2');
	free(buf);
	free(want);
}

UNIT_TEST(nvme_format_lbaf_table_marks_format_in_use)
{
	struct nvme_id_ns_info id = ns_info(12, 8, false, 0);
	char s[64];

	CHECK_EQ(nvme_format_lbaf_table(&id, s, sizeof(s)), strlen("9:0:0,*12:8:2"));
	CHECK_STR(s, "9:0:0,*12:8:2");
	CHECK_EQ(nvme_format_lbaf_table(&id, s, 5), 4);
	CHECK_STR(s, "9:0:");
}

/* Zone boundaries: a split never crosses one (0x1b8 Zone Boundary Error otherwise). */
UNIT_TEST(nvme_split_respects_zone_boundaries)
{
	struct nvme_split s;
	struct nvme_chunk c;
	uint64_t covered = 0;

	nvme_split_init(&s, 2, 2051, 1024);
	nvme_split_set_boundary(&s, 2048);
	while (nvme_split_next(&s, &c)) {
		CHECK(c.slba / 2048 == (c.slba + c.nblocks - 1) / 2048);
		CHECK_EQ(c.block_offset, covered);
		covered += c.nblocks;
	}
	CHECK_EQ(covered, 2051);
	nvme_split_init(&s, 2, 2051, 1024);
	nvme_split_set_boundary(&s, 2048);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 1024);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 1022 && c.slba == 1026);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 5 && c.slba == 2048);
	CHECK(!nvme_split_next(&s, &c));
}

/* Metadata per command: whole 512-byte sectors, or one short chunk at the end. */
UNIT_TEST(nvme_split_granule_keeps_metadata_in_whole_sectors)
{
	struct nvme_split s;
	struct nvme_chunk c;

	nvme_split_init(&s, 2, 1815, 896);
	nvme_split_set_granule(&s, 64);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 896);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 896);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 23 && c.slba == 1794);
	CHECK(!nvme_split_next(&s, &c));
	/* A remainder above the granule is cut into a multiple and a short rest. */
	nvme_split_init(&s, 0, 100, 896);
	nvme_split_set_granule(&s, 64);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 64);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 36 && c.block_offset == 64);
	/* With a zone boundary too: the boundary first, then the granule. */
	nvme_split_init(&s, 2000, 200, 896);
	nvme_split_set_boundary(&s, 2048);
	nvme_split_set_granule(&s, 32);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 32);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 16 && c.slba == 2032);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 152 - 152 % 32 && c.slba == 2048);
	CHECK(nvme_split_next(&s, &c) && c.nblocks == 152 % 32);
	CHECK(!nvme_split_next(&s, &c));
}

UNIT_TEST(nvme_zoned_status_names)
{
	CHECK_STR(nvme_status_name(0x1b8), "zone-boundary-error");
	CHECK_STR(nvme_status_name(0x1b9), "zone-is-full");
	CHECK_STR(nvme_status_name(0x1ba), "zone-is-read-only");
	CHECK_STR(nvme_status_name(0x1bb), "zone-is-offline");
	CHECK_STR(nvme_status_name(0x1bc), "zone-invalid-write");
	CHECK_STR(nvme_status_name(0x1bd), "too-many-active-zones");
	CHECK_STR(nvme_status_name(0x1be), "too-many-open-zones");
	CHECK_STR(nvme_status_name(0x1bf), "invalid-zone-state-transition");
	CHECK_STR(nvme_status_name(0x1c0), "unknown-command-specific-status");
}

static void put_desc(uint8_t *page, size_t *off, uint8_t nidt, uint8_t nidl, uint8_t fill)
{
	page[*off] = nidt;
	page[*off + 1] = nidl;
	memset(page + *off + NVME_NIDT_HEADER_SIZE, fill, nidl);
	*off += NVME_NIDT_HEADER_SIZE + nidl;
}

UNIT_TEST(nvme_parse_ns_descriptors_csi_and_ids)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_ns_descriptors d;
	struct nvme_parse_status st;
	size_t off = 0;

	memset(page, 0, sizeof(page));
	CHECK(nvme_parse_ns_descriptors(page, sizeof(page), &d, &st));
	CHECK(!d.has_csi && d.count == 0);
	/* Any order; types the firmware does not know are stepped over by NIDL. */
	put_desc(page, &off, NVME_NIDT_UUID, 16, 0x11);
	put_desc(page, &off, 0x7, 3, 0x55); /* unknown type: skipped by its length */
	put_desc(page, &off, NVME_NIDT_CSI, 1, NVME_CSI_ZONED);
	CHECK(nvme_parse_ns_descriptors(page, sizeof(page), &d, &st));
	CHECK(d.has_csi && d.csi == NVME_CSI_ZONED && d.has_uuid && !d.has_eui64);
	CHECK_EQ(d.uuid[15], 0x11);
	CHECK_EQ(d.count, 3);
	CHECK_STR(nvme_csi_name(d.csi), "zoned");
	CHECK_STR(nvme_csi_name(NVME_CSI_NVM), "nvm");
	CHECK_STR(nvme_csi_name(NVME_CSI_KV), "key-value");
	CHECK_STR(nvme_csi_name(0x30), "unknown");

	put_desc(page, &off, NVME_NIDT_CSI, 1, NVME_CSI_NVM);
	CHECK(!nvme_parse_ns_descriptors(page, sizeof(page), &d, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_DESCRIPTOR);
	CHECK(strstr(st.reason, "twice") != NULL);

	memset(page, 0, sizeof(page));
	off = 0;
	put_desc(page, &off, NVME_NIDT_EUI64, 16, 0x22);
	CHECK(!nvme_parse_ns_descriptors(page, sizeof(page), &d, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_DESCRIPTOR);

	memset(page, 0, sizeof(page));
	page[NVME_IDENTIFY_DATA_SIZE - 8] = 0x9;
	page[NVME_IDENTIFY_DATA_SIZE - 7] = 200; /* runs past the page */
	/* reachable only through a chain of unknown descriptors */
	off = 0;
	while (off + NVME_NIDT_HEADER_SIZE + 200 < NVME_IDENTIFY_DATA_SIZE - 8)
		put_desc(page, &off, 0x9, 200, 0);
	put_desc(page, &off, 0x9, (uint8_t)(NVME_IDENTIFY_DATA_SIZE - 8 - off - 4), 0);
	CHECK_EQ(off, NVME_IDENTIFY_DATA_SIZE - 8);
	CHECK(!nvme_parse_ns_descriptors(page, sizeof(page), &d, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_DESCRIPTOR);
	CHECK(!nvme_parse_ns_descriptors(page, 100, &d, &st));
	CHECK_EQ(st.error, NVME_PARSE_TRUNCATED);
}

UNIT_TEST(nvme_parse_zns_id_ns_zone_size_and_count)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_zns_info z;
	struct nvme_parse_status st;

	memset(page, 0, sizeof(page));
	put_le(page + NVME_ZNS_IDNS_MAR, UINT32_MAX, 4);
	put_le(page + NVME_ZNS_IDNS_MOR, 13, 4);
	put_le(page + NVME_ZNS_IDNS_LBAFE + 1 * NVME_ZNS_LBAFE_SIZE, 2048, 8);
	CHECK(nvme_parse_zns_id_ns(page, sizeof(page), 1, 131072, &z, &st));
	CHECK_EQ(z.zone_blocks, 2048);
	CHECK_EQ(z.zones, 64);
	CHECK_EQ(z.max_active, 0);
	CHECK_EQ(z.max_open, 14);
	CHECK(nvme_parse_zns_id_ns(page, sizeof(page), 1, 2049, &z, &st));
	CHECK_EQ(z.zones, 2);
	CHECK(!nvme_parse_zns_id_ns(page, sizeof(page), 0, 2048, &z, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_ZONE_SIZE);
	CHECK(!nvme_parse_zns_id_ns(page, sizeof(page), 16, 2048, &z, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_LBAF);
	CHECK(!nvme_parse_zns_id_ns(page, 4000, 1, 2048, &z, &st));
	CHECK_EQ(st.error, NVME_PARSE_TRUNCATED);
}

UNIT_TEST(nvme_parse_zns_id_ctrl_zasl)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_parse_status st;
	uint8_t zasl = 0xff;

	memset(page, 0, sizeof(page));
	page[NVME_ZNS_IDC_ZASL] = 5;
	CHECK(nvme_parse_zns_id_ctrl(page, sizeof(page), &zasl, &st));
	CHECK_EQ(zasl, 5);
	CHECK(!nvme_parse_zns_id_ctrl(page, 100, &zasl, &st));
	CHECK_EQ(st.error, NVME_PARSE_TRUNCATED);
	CHECK_EQ(zasl, 0);
}

UNIT_TEST(nvme_decode_cmb_qemu_shapes)
{
	struct nvme_cmb_info cmb;
	const uint64_t cap_cmbs = 1ull << 57;

	nvme_decode_cmb(0, 0, 0, &cmb);
	CHECK(!cmb.supported && !cmb.valid);
	/* QEMU 7.2 cmb_size_mb=64 once CMBMSC.CRE is set, as a Linux guest read them:
	 * CMBLOC 0x62 (BIR 2), CMBSZ 0x0004021d (SZ 64 x 1 MiB, SQS|LISTS|RDS|WDS, no CQS). */
	nvme_decode_cmb(cap_cmbs, 0x62, 0x0004021d, &cmb);
	CHECK(cmb.supported && cmb.valid);
	CHECK_EQ(cmb.bir, 2);
	CHECK_EQ(cmb.size, 64ull << 20);
	CHECK_EQ(cmb.offset, 0);
	CHECK(cmb.sqs && !cmb.cqs && cmb.lists && cmb.rds && cmb.wds);
	/* Before CRE is set QEMU reads both registers as 0: supported, nothing decoded. */
	nvme_decode_cmb(cap_cmbs, 0, 0, &cmb);
	CHECK(cmb.supported && !cmb.valid);
	nvme_decode_cmb(cap_cmbs, 0x2 | (3u << 12), (1u << 12) | (6u << 8), &cmb);
	CHECK_EQ(cmb.size, 1ull << 36);
	CHECK_EQ(cmb.offset, 3ull << 36);
	nvme_decode_cmb(cap_cmbs, 0, (1u << 12) | (7u << 8), &cmb); /* reserved SZU */
	CHECK(cmb.supported && !cmb.valid);
}

UNIT_TEST(nvme_nsid_ranges_compact_every_active_nsid)
{
	struct nvme_nsid_ranges r;

	nvme_nsid_ranges_init(&r);
	CHECK_STR(nvme_nsid_ranges_text(&r), "");
	for (uint32_t n = 1; n <= 20; n++)
		nvme_nsid_ranges_add(&r, n);
	CHECK_STR(nvme_nsid_ranges_text(&r), "1-20");
	nvme_nsid_ranges_add(&r, 25);
	CHECK_STR(nvme_nsid_ranges_text(&r), "1-20,25");
	nvme_nsid_ranges_add(&r, 26);
	nvme_nsid_ranges_add(&r, 4000000000u);
	CHECK_STR(nvme_nsid_ranges_text(&r), "1-20,25-26,4000000000");
	CHECK_EQ(r.count, 23);
	CHECK(r.complete);
	nvme_nsid_ranges_add(&r, 7); /* not ascending */
	CHECK(!r.complete);
	/* Every other NSID up to 2000: far more than fits; the text stays terminated and bounded. */
	nvme_nsid_ranges_init(&r);
	for (uint32_t n = 1; n <= 2000; n += 2)
		nvme_nsid_ranges_add(&r, n);
	CHECK(!r.complete);
	CHECK(strlen(nvme_nsid_ranges_text(&r)) < NVME_NSID_RANGES_MAX);
	CHECK_EQ(r.count, 1000);
}
