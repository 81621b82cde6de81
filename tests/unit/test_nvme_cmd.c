/* Host tests for src/lib/nvme_cmd.c: PRPs, builders, splitting, status names, Identify parsers. */
#include "unit.h"
#include "nvme_cmd.h"

#include <stdlib.h>

#define PAGE 4096u
#define MAX_LIST_PAGES 8

/* A pool of fake PRP list pages at device addresses LIST_DEV_BASE + i * page. */
#define LIST_DEV_BASE 0x7000000000ull

struct list_pool {
	uint32_t page_size;
	uint64_t *mem[MAX_LIST_PAGES];
	struct nvme_prp_list_page pages[MAX_LIST_PAGES];
};

static void pool_init(struct list_pool *pool, uint32_t page_size)
{
	pool->page_size = page_size;
	for (size_t i = 0; i < MAX_LIST_PAGES; i++) {
		pool->mem[i] = calloc(1, page_size);
		pool->pages[i].cpu = pool->mem[i];
		pool->pages[i].dev = LIST_DEV_BASE + i * (uint64_t)page_size;
	}
}

static void pool_free(struct list_pool *pool)
{
	for (size_t i = 0; i < MAX_LIST_PAGES; i++)
		free(pool->mem[i]);
}

static uint64_t *pool_lookup(struct list_pool *pool, uint64_t dev)
{
	for (size_t i = 0; i < MAX_LIST_PAGES; i++)
		if (pool->pages[i].dev == dev)
			return pool->mem[i];
	return NULL;
}

/*
 * Walks PRP1/PRP2 the way a controller does and checks that the pages it
 * reaches are exactly the consecutive pages of [dev, dev + len).
 * Returns the number of pages reached, or 0 on any deviation.
 */
static uint64_t device_walk(struct list_pool *pool, const struct nvme_prp *prp, uint64_t dev,
			    uint64_t len)
{
	const uint64_t ps = pool->page_size, per_list = ps / 8;
	uint64_t expect = (dev & ~(ps - 1)) + ps;
	uint64_t first = ps - (prp->prp1 & (ps - 1));
	uint64_t remaining = len > first ? len - first : 0;
	uint64_t reached = 1;

	if (prp->prp1 != dev)
		return 0;
	if (remaining == 0)
		return prp->prp2 == 0 ? reached : 0;
	if (remaining <= ps)
		return prp->prp2 == expect ? reached + 1 : 0;
	uint64_t *list = pool_lookup(pool, prp->prp2);
	uint64_t slot = 0;

	while (remaining > 0) {
		if (list == NULL)
			return 0;
		if (slot == per_list - 1 && remaining > ps) {
			list = pool_lookup(pool, list[slot]);
			slot = 0;
			continue;
		}
		if (list[slot++] != expect)
			return 0;
		expect += ps;
		reached++;
		remaining = remaining > ps ? remaining - ps : 0;
	}
	return reached;
}

UNIT_TEST(nvme_prp_single_page_aligned_uses_prp1_only)
{
	struct list_pool pool;
	struct nvme_prp prp;
	size_t used = 99;

	pool_init(&pool, PAGE);
	CHECK_EQ(nvme_prp_build(0x10000, PAGE, PAGE, pool.pages, MAX_LIST_PAGES, &prp, &used),
		 NVME_PRP_OK);
	CHECK_EQ(prp.prp1, 0x10000);
	CHECK_EQ(prp.prp2, 0);
	CHECK_EQ(used, 0);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_odd_size_inside_one_page)
{
	struct list_pool pool;
	struct nvme_prp prp;

	pool_init(&pool, PAGE);
	CHECK_EQ(nvme_prp_build(0x10004, 100, PAGE, pool.pages, 0, &prp, NULL), NVME_PRP_OK);
	CHECK_EQ(prp.prp1, 0x10004);
	CHECK_EQ(prp.prp2, 0);
	/* Ends exactly at the page end: still one page. */
	CHECK_EQ(nvme_prp_build(0x10f00, 0x100, PAGE, pool.pages, 0, &prp, NULL), NVME_PRP_OK);
	CHECK_EQ(prp.prp2, 0);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_offset_crossing_page_boundary_uses_prp2_direct)
{
	struct list_pool pool;
	struct nvme_prp prp;
	size_t used = 99;

	pool_init(&pool, PAGE);
	/* 4 KiB starting 0x200 into a page touches two pages. */
	CHECK_EQ(nvme_prp_build(0x10200, PAGE, PAGE, pool.pages, MAX_LIST_PAGES, &prp, &used),
		 NVME_PRP_OK);
	CHECK_EQ(prp.prp1, 0x10200);
	CHECK_EQ(prp.prp2, 0x11000);
	CHECK_EQ(used, 0);
	/* Two whole pages, aligned. */
	CHECK_EQ(nvme_prp_build(0x20000, 2 * PAGE, PAGE, pool.pages, 0, &prp, NULL), NVME_PRP_OK);
	CHECK_EQ(prp.prp2, 0x21000);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_list_for_three_or_more_pages)
{
	struct list_pool pool;
	struct nvme_prp prp;
	size_t used = 0;

	pool_init(&pool, PAGE);
	/* 5 pages from offset 0x200: six pages touched, list holds pages 2..6. */
	CHECK_EQ(nvme_prp_build(0x100200, 5 * PAGE, PAGE, pool.pages, MAX_LIST_PAGES, &prp, &used),
		 NVME_PRP_OK);
	CHECK_EQ(used, 1);
	CHECK_EQ(prp.prp1, 0x100200);
	CHECK_EQ(prp.prp2, pool.pages[0].dev);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(pool.mem[0][i], 0x101000 + i * PAGE);
	CHECK_EQ(device_walk(&pool, &prp, 0x100200, 5 * PAGE), 6);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_list_exactly_full_does_not_chain)
{
	struct list_pool pool;
	struct nvme_prp prp;
	size_t used = 0;
	const uint64_t per_list = PAGE / 8;

	pool_init(&pool, PAGE);
	/* 1 + 512 pages: the list's 512 slots all hold data. */
	uint64_t len = (1 + per_list) * PAGE;

	CHECK_EQ(nvme_prp_list_pages_needed(0x200000, len, PAGE), 1);
	CHECK_EQ(nvme_prp_build(0x200000, len, PAGE, pool.pages, MAX_LIST_PAGES, &prp, &used),
		 NVME_PRP_OK);
	CHECK_EQ(used, 1);
	CHECK_EQ(pool.mem[0][per_list - 1], 0x200000 + per_list * PAGE);
	CHECK_EQ(device_walk(&pool, &prp, 0x200000, len), 1 + per_list);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_list_chains_through_last_entry)
{
	struct list_pool pool;
	struct nvme_prp prp;
	size_t used = 0;
	const uint64_t per_list = PAGE / 8;

	pool_init(&pool, PAGE);
	/* 1 + 513 pages: first list has 511 data entries + chain, second has 2. */
	uint64_t len = (2 + per_list) * PAGE;

	CHECK_EQ(nvme_prp_list_pages_needed(0x400000, len, PAGE), 2);
	CHECK_EQ(nvme_prp_build(0x400000, len, PAGE, pool.pages, MAX_LIST_PAGES, &prp, &used),
		 NVME_PRP_OK);
	CHECK_EQ(used, 2);
	CHECK_EQ(pool.mem[0][per_list - 1], pool.pages[1].dev);
	CHECK_EQ(pool.mem[0][per_list - 2], 0x400000 + (per_list - 1) * PAGE);
	CHECK_EQ(pool.mem[1][0], 0x400000 + per_list * PAGE);
	CHECK_EQ(pool.mem[1][1], 0x400000 + (per_list + 1) * PAGE);
	CHECK_EQ(device_walk(&pool, &prp, 0x400000, len), 2 + per_list);
	pool_free(&pool);
}

UNIT_TEST(nvme_prp_every_shape_walks_correctly)
{
	/* Offsets and odd lengths around page and list boundaries, two page sizes. */
	static const uint32_t page_sizes[] = { 4096, 8192 };
	static const uint64_t offsets[] = { 0, 4, 0x200, 0xffc };
	struct nvme_prp prp;

	for (size_t p = 0; p < 2; p++) {
		uint32_t ps = page_sizes[p];
		uint64_t per_list = ps / 8;
		uint64_t lens[] = { 1, 511, ps - 4, ps, ps + 1, 2 * ps, 3 * ps - 1,
				    per_list * ps, (per_list + 1) * ps, (per_list + 1) * ps + 3,
				    (2 * per_list) * ps + 17 };
		struct list_pool pool;

		pool_init(&pool, ps);
		for (size_t o = 0; o < 4; o++) {
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				uint64_t dev = 0x10000000ull + offsets[o];
				size_t used = 0;
				enum nvme_prp_error e = nvme_prp_build(dev, lens[l], ps, pool.pages,
								       MAX_LIST_PAGES, &prp, &used);

				CHECK_EQ(e, NVME_PRP_OK);
				CHECK_EQ(used, nvme_prp_list_pages_needed(dev, lens[l], ps));
				CHECK_EQ(device_walk(&pool, &prp, dev, lens[l]),
					 nvme_prp_data_pages(dev, lens[l], ps));
			}
		}
		pool_free(&pool);
	}
}

UNIT_TEST(nvme_prp_rejects_bad_input)
{
	struct list_pool pool;
	struct nvme_prp prp;

	pool_init(&pool, PAGE);
	CHECK_EQ(nvme_prp_build(0x10001, 16, PAGE, pool.pages, 1, &prp, NULL), NVME_PRP_MISALIGNED);
	CHECK_EQ(nvme_prp_build(0x10002, 16, PAGE, pool.pages, 1, &prp, NULL), NVME_PRP_MISALIGNED);
	CHECK_EQ(nvme_prp_build(0x10000, 0, PAGE, pool.pages, 1, &prp, NULL), NVME_PRP_EMPTY);
	CHECK_EQ(nvme_prp_build(0x10000, 16, 3000, pool.pages, 1, &prp, NULL),
		 NVME_PRP_BAD_PAGE_SIZE);
	CHECK_EQ(nvme_prp_build(0x10000, 16, 2048, pool.pages, 1, &prp, NULL),
		 NVME_PRP_BAD_PAGE_SIZE);
	CHECK_EQ(nvme_prp_build(UINT64_MAX - 7, 100, PAGE, pool.pages, 1, &prp, NULL),
		 NVME_PRP_WRAPS);
	/* Three pages need a list; none lent. */
	CHECK_EQ(nvme_prp_build(0x10000, 3 * PAGE, PAGE, pool.pages, 0, &prp, NULL),
		 NVME_PRP_LIST_TOO_SHORT);
	/* Chained transfer with only one list page lent. */
	CHECK_EQ(nvme_prp_build(0x10000, 600 * (uint64_t)PAGE, PAGE, pool.pages, 1, &prp, NULL),
		 NVME_PRP_LIST_TOO_SHORT);
	/* A list page that is not page aligned. */
	struct nvme_prp_list_page bad = { pool.mem[0], LIST_DEV_BASE + 8 };

	CHECK_EQ(nvme_prp_build(0x10000, 3 * PAGE, PAGE, &bad, 1, &prp, NULL),
		 NVME_PRP_LIST_MISALIGNED);
	CHECK_STR(nvme_prp_error_name(NVME_PRP_MISALIGNED), "buffer-not-dword-aligned");
	pool_free(&pool);
}

UNIT_TEST(nvme_cmd_builders_encode_fields)
{
	struct nvme_sqe sqe;
	struct nvme_prp prp = { 0x123000, 0x456000 };

	nvme_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0, &prp);
	CHECK_EQ(sqe.opcode, NVME_ADMIN_IDENTIFY);
	CHECK_EQ(sqe.cdw10, 1);
	CHECK_EQ(sqe.prp1, 0x123000);
	CHECK_EQ(sqe.prp2, 0x456000);

	nvme_cmd_create_io_cq(&sqe, 1, 1024, 0x800000, true, 1);
	CHECK_EQ(sqe.opcode, 0x05);
	CHECK_EQ(sqe.cdw10, 0x03ff0001);
	CHECK_EQ(sqe.cdw11, 0x00010003);
	CHECK_EQ(sqe.prp1, 0x800000);
	nvme_cmd_create_io_cq(&sqe, 2, 64, 0x900000, false, 7);
	CHECK_EQ(sqe.cdw11, 0x1);

	nvme_cmd_create_io_sq(&sqe, 1, 2048, 0xa00000, 1);
	CHECK_EQ(sqe.opcode, 0x01);
	CHECK_EQ(sqe.cdw10, 0x07ff0001);
	CHECK_EQ(sqe.cdw11, 0x00010001);

	nvme_cmd_delete_io_sq(&sqe, 3);
	CHECK_EQ(sqe.opcode, 0x00);
	CHECK_EQ(sqe.cdw10, 3);
	nvme_cmd_delete_io_cq(&sqe, 3);
	CHECK_EQ(sqe.opcode, 0x04);

	CHECK(nvme_cmd_read(&sqe, 1, 0x123456789ull, 8, &prp));
	CHECK_EQ(sqe.opcode, NVME_IO_READ);
	CHECK_EQ(sqe.nsid, 1);
	CHECK_EQ(sqe.cdw10, 0x23456789);
	CHECK_EQ(sqe.cdw11, 0x1);
	CHECK_EQ(sqe.cdw12, 7);
	CHECK(nvme_cmd_read(&sqe, 1, 0, 65536, &prp));
	CHECK_EQ(sqe.cdw12, 0xffff);
	CHECK(!nvme_cmd_read(&sqe, 1, 0, 0, &prp));
	CHECK(!nvme_cmd_read(&sqe, 1, 0, 65537, &prp));
}

UNIT_TEST(nvme_mdts_limits_and_split)
{
	CHECK_EQ(nvme_mdts_bytes(7, 4096), 512 * 1024);
	CHECK_EQ(nvme_mdts_bytes(0, 4096), UINT64_MAX);
	CHECK_EQ(nvme_mdts_bytes(60, 4096), UINT64_MAX); /* would overflow: no limit */
	CHECK_EQ(nvme_max_blocks_per_cmd(7, 4096, 512, 0), 1024);
	CHECK_EQ(nvme_max_blocks_per_cmd(7, 4096, 4096, 0), 128);
	CHECK_EQ(nvme_max_blocks_per_cmd(7, 4096, 512, 64 * 1024), 128);
	CHECK_EQ(nvme_max_blocks_per_cmd(0, 4096, 512, 0), 65536);
	CHECK_EQ(nvme_max_blocks_per_cmd(1, 4096, 16384, 0), 0);
	CHECK_EQ(nvme_max_blocks_per_cmd(7, 4096, 0, 0), 0);

	struct nvme_split s;
	struct nvme_chunk c;
	uint64_t start = (1ull << 33) + 5;

	nvme_split_init(&s, start, 3000, 1024);
	CHECK(nvme_split_next(&s, &c));
	CHECK_EQ(c.slba, start);
	CHECK_EQ(c.nblocks, 1024);
	CHECK_EQ(c.block_offset, 0);
	CHECK(nvme_split_next(&s, &c));
	CHECK_EQ(c.slba, start + 1024);
	CHECK_EQ(c.block_offset, 1024);
	CHECK(nvme_split_next(&s, &c));
	CHECK_EQ(c.nblocks, 952);
	CHECK_EQ(c.block_offset, 2048);
	CHECK(!nvme_split_next(&s, &c));
	nvme_split_init(&s, 0, 10, 0);
	CHECK(!nvme_split_next(&s, &c));
}

UNIT_TEST(nvme_status_names_follow_spec)
{
	struct nvme_status_info info;

	CHECK_STR(nvme_status_name(0x0002), "invalid-field");
	CHECK_STR(nvme_status_name(0x0013), "invalid-prp-offset");
	CHECK_STR(nvme_status_name(0x0004), "data-transfer-error");
	CHECK_STR(nvme_status_name(0x0281), "unrecovered-read-error");
	CHECK_STR(nvme_status_name(0x0280), "write-fault");
	CHECK_STR(nvme_status_name(0x0000), "successful-completion");
	CHECK_STR(nvme_status_name(0x0108), "invalid-interrupt-vector");
	CHECK_STR(nvme_status_name(0x00fe), "unknown-generic-status");
	CHECK_STR(nvme_status_name(0x07c0), "vendor-specific-status");
	CHECK_STR(nvme_status_name(0x0500), "reserved-status-code-type");

	/* A CQE status word: DNR set, More clear, phase 1, SCT 2, SC 0x81. */
	uint16_t word = (uint16_t)(((NVME_STATUS_DNR | 0x281u) << 1) | NVME_CQE_PHASE);

	nvme_status_decode(nvme_cqe_status_field(word), &info);
	CHECK_EQ(info.code, 0x281);
	CHECK_EQ(info.sct, 2);
	CHECK_EQ(info.sc, 0x81);
	CHECK(info.dnr);
	CHECK(!info.more);
	CHECK_STR(info.name, "unrecovered-read-error");
	CHECK_STR(info.sct_name, "media-error");

	nvme_status_decode(NVME_STATUS_MORE | 0x013, &info);
	CHECK(info.more);
	CHECK(!info.dnr);
	CHECK_EQ(info.code, NVME_SC_INVALID_PRP_OFFSET);
}

/* ---------------------------------------------------- Identify pages */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static void put_padded(uint8_t *p, const char *s, size_t n)
{
	memset(p, ' ', n);
	memcpy(p, s, strlen(s));
}

/* A plausible QEMU controller page. */
static void make_ctrl_page(uint8_t *page)
{
	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	put_le16(page + NVME_IDC_VID, 0x1b36);
	put_le16(page + NVME_IDC_SSVID, 0x1af4);
	put_padded(page + NVME_IDC_SN, "pb-serial-1", NVME_IDC_SN_LEN);
	put_padded(page + NVME_IDC_MN, "QEMU NVMe Ctrl", NVME_IDC_MN_LEN);
	put_padded(page + NVME_IDC_FR, "7.2.0", NVME_IDC_FR_LEN);
	page[NVME_IDC_MDTS] = 7;
	put_le16(page + NVME_IDC_CNTLID, 0x0001);
	put_le32(page + NVME_IDC_VER, 0x00010400);
	page[NVME_IDC_SQES] = 0x66;
	page[NVME_IDC_CQES] = 0x44;
	put_le32(page + NVME_IDC_NN, 256);
	memcpy(page + NVME_IDC_VS, "vendor", 6);
}

UNIT_TEST(nvme_parse_id_ctrl_decodes_fields)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ctrl_info info;
	struct nvme_parse_status st;

	make_ctrl_page(page);
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_OK);
	CHECK_STR(st.reason, "");
	CHECK_EQ(info.vid, 0x1b36);
	CHECK_EQ(info.ssvid, 0x1af4);
	CHECK_STR(info.sn, "pb-serial-1");
	CHECK_STR(info.mn, "QEMU NVMe Ctrl");
	CHECK_STR(info.fr, "7.2.0");
	CHECK_EQ(info.mdts, 7);
	CHECK_EQ(info.cntlid, 1);
	CHECK_EQ(info.ver, 0x00010400);
	CHECK_EQ(info.nn, 256);
	CHECK_EQ(info.sqes_min, 6);
	CHECK_EQ(info.cqes_max, 4);
	CHECK(memcmp(info.vendor_specific, "vendor", 6) == 0);

	/* NUL padding instead of spaces is trimmed too. */
	memset(page + NVME_IDC_SN, 0, NVME_IDC_SN_LEN);
	memcpy(page + NVME_IDC_SN, "abc", 3);
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_STR(info.sn, "abc");
}

/* Non-ASCII identify strings are a warning: kept byte for byte (the emitter escapes them). */
UNIT_TEST(nvme_parse_id_ctrl_keeps_non_ascii_strings)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ctrl_info info;
	struct nvme_parse_status st;

	make_ctrl_page(page);
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK(info.strings_ascii);

	page[NVME_IDC_SN + 1] = 0xc3;
	page[NVME_IDC_SN + 2] = 0xa9;
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK(!info.strings_ascii);
	CHECK_EQ((uint8_t)info.sn[1], 0xc3);
	CHECK_EQ((uint8_t)info.sn[2], 0xa9);

	make_ctrl_page(page);
	page[NVME_IDC_FR + 7] = 0x07; /* a control byte in the last FR byte */
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK(!info.strings_ascii);
	CHECK_EQ(strlen(info.fr), NVME_IDC_FR_LEN);
}

/* OACS, ONCS, CMIC and SUBNQN as Identify Controller places them. */
UNIT_TEST(nvme_parse_id_ctrl_decodes_sharing_and_options)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ctrl_info info;
	struct nvme_parse_status st;
	static const char nqn[] = "nqn.2019-08.org.qemu:subsys0";

	make_ctrl_page(page);
	page[NVME_IDC_OACS] = 0x0a;
	page[NVME_IDC_OACS + 1] = 0x01;
	page[NVME_IDC_ONCS] = 0x5f;
	page[NVME_IDC_CMIC] = NVME_CMIC_MULTI_CTRL;
	memcpy(page + NVME_IDC_SUBNQN, nqn, sizeof(nqn) - 1);
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(info.oacs, 0x010a);
	CHECK_EQ(info.oncs, 0x005f);
	CHECK_EQ(info.cmic, NVME_CMIC_MULTI_CTRL);
	CHECK_STR(info.subnqn, nqn);

	/* An unterminated SUBNQN is cut at 256 bytes, never read beyond. */
	memset(page + NVME_IDC_SUBNQN, 'q', NVME_IDC_SUBNQN_LEN);
	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(strlen(info.subnqn), NVME_IDC_SUBNQN_LEN);
}

UNIT_TEST(nvme_parse_id_ctrl_rejects_malformed_pages)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ctrl_info info;
	struct nvme_parse_status st;

	memset(page, 0, sizeof(page));
	CHECK(!nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_ALL_ZERO);
	CHECK(st.reason[0] != '\0');

	make_ctrl_page(page);
	CHECK(!nvme_parse_id_ctrl(page, 100, &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_TRUNCATED);

	make_ctrl_page(page);
	page[NVME_IDC_SQES] = 0x77;
	CHECK(!nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_QUEUE_ENTRY);

	make_ctrl_page(page);
	page[NVME_IDC_CQES] = 0x33;
	CHECK(!nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_QUEUE_ENTRY);

	make_ctrl_page(page);
	page[NVME_IDC_MDTS] = 60;
	CHECK(!nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_MDTS);
	CHECK_STR(nvme_parse_error_name(st.error), "bad-mdts");

	/* Random garbage never crashes and either parses or names an error. */
	srand(12345);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)rand();
		bool ok = nvme_parse_id_ctrl(page, sizeof(page), &info, &st);

		CHECK(ok == (st.error == NVME_PARSE_OK));
		CHECK(strlen(info.sn) <= NVME_IDC_SN_LEN);
	}
}

static void make_ns_page(uint8_t *page, uint64_t nsze, uint8_t nlbaf, uint8_t flbas)
{
	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	put_le64(page + NVME_IDNS_NSZE, nsze);
	put_le64(page + NVME_IDNS_NCAP, nsze);
	put_le64(page + NVME_IDNS_NUSE, nsze / 2);
	page[NVME_IDNS_NLBAF] = nlbaf;
	page[NVME_IDNS_FLBAS] = flbas;
	/* Format 0: 512 bytes; format 1: 4096 + 8 metadata; others 4096. */
	put_le32(page + NVME_IDNS_LBAF, 9u << 16);
	put_le32(page + NVME_IDNS_LBAF + 4, (12u << 16) | 8u | (2u << 24));
	for (unsigned i = 2; i < NVME_IDNS_LBAF_MAX; i++)
		put_le32(page + NVME_IDNS_LBAF + 4 * i, 12u << 16);
}

UNIT_TEST(nvme_parse_id_ns_decodes_large_namespace)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ns_info info;
	struct nvme_parse_status st;
	const uint64_t nsze = (1ull << 33) + 5; /* above 2^32 blocks */

	make_ns_page(page, nsze, 1, 1 | NVME_FLBAS_EXTENDED);
	CHECK(nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(info.nsze, nsze);
	CHECK_EQ(info.ncap, nsze);
	CHECK_EQ(info.nuse, nsze / 2);
	CHECK_EQ(info.nlbaf_count, 2);
	CHECK_EQ(info.flbas_index, 1);
	CHECK(info.metadata_extended);
	CHECK_EQ(info.lba_size, 4096);
	CHECK_EQ(info.metadata_size, 8);
	CHECK_EQ(info.lbaf[1].rp, 2);
	CHECK_EQ(info.lbaf[0].lbads, 9);
	CHECK_EQ(info.capacity_bytes, nsze * 4096);

	make_ns_page(page, 1000, 0, 0);
	CHECK(nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(info.lba_size, 512);
	CHECK_EQ(info.metadata_size, 0);
	CHECK(!info.metadata_extended);

	/* NVMe 2.0: 20 formats, index 17 = low 1 + high bits 01. */
	make_ns_page(page, 1000, 19, 0x01 | (1u << 5));
	CHECK(nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(info.flbas_index, 17);
	/* With 16 or fewer formats bits 6:5 are reserved and ignored. */
	make_ns_page(page, 1000, 3, 0x01 | (1u << 5));
	CHECK(nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(info.flbas_index, 1);
}

UNIT_TEST(nvme_parse_id_ns_rejects_malformed_pages)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ns_info info;
	struct nvme_parse_status st;

	make_ns_page(page, 0, 0, 0);
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_INACTIVE_NS);

	make_ns_page(page, 1000, 0, 0);
	put_le64(page + NVME_IDNS_NCAP, 1001);
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_SIZES);
	CHECK(strstr(st.reason, "NCAP 1001") != NULL);

	make_ns_page(page, 1000, 0, 0);
	put_le64(page + NVME_IDNS_NUSE, 1001);
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_SIZES);

	make_ns_page(page, 1000, 1, 2); /* index 2 but only formats 0..1 */
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_LBAF);

	make_ns_page(page, 1000, 64, 0); /* 65 formats */
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_LBAF);

	make_ns_page(page, 1000, 0, 0);
	put_le32(page + NVME_IDNS_LBAF, 8u << 16); /* 256-byte blocks */
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_LBAF);

	make_ns_page(page, 1000, 0, 0);
	put_le32(page + NVME_IDNS_LBAF, 40u << 16); /* 2^40-byte blocks */
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_BAD_LBAF);

	make_ns_page(page, 1ull << 60, 1, 1); /* 2^60 blocks x 4 KiB */
	CHECK(!nvme_parse_id_ns(page, sizeof(page), &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_CAPACITY_OVERFLOW);

	CHECK(!nvme_parse_id_ns(page, 4095, &info, &st));
	CHECK_EQ(st.error, NVME_PARSE_TRUNCATED);

	srand(777);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)rand();
		bool ok = nvme_parse_id_ns(page, sizeof(page), &info, &st);

		CHECK(ok == (st.error == NVME_PARSE_OK));
		CHECK(!ok || (info.lba_size >= 512 && info.flbas_index < info.nlbaf_count));
	}
}

static void make_nsid_page(uint8_t *page, const uint32_t *ids, size_t n)
{
	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	for (size_t i = 0; i < n; i++)
		put_le32(page + 4 * i, ids[i]);
}

UNIT_TEST(nvme_parse_nsid_list_ascending_terminated)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	static uint32_t out[NVME_NSID_LIST_MAX];
	struct nvme_parse_status st;
	size_t count;
	bool more;

	const uint32_t ids[] = { 1, 2, 5 };

	make_nsid_page(page, ids, 3);
	CHECK(nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(count, 3);
	CHECK(!more);
	CHECK_EQ(out[2], 5);

	/* Empty list. */
	make_nsid_page(page, ids, 0);
	CHECK(nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(count, 0);

	/* All 1024 slots used: more to fetch from NSID 1024. */
	for (uint32_t i = 0; i < NVME_NSID_LIST_MAX; i++)
		put_le32(page + 4 * i, i + 1);
	CHECK(nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(count, 1024);
	CHECK(more);
	CHECK_EQ(out[1023], 1024);

	/* Caller array smaller than the list. */
	CHECK(nvme_parse_nsid_list(page, sizeof(page), 0, out, 10, &count, &more, &st));
	CHECK_EQ(count, 10);
	CHECK(more);
}

UNIT_TEST(nvme_parse_nsid_list_rejects_bad_order)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	static uint32_t out[NVME_NSID_LIST_MAX];
	struct nvme_parse_status st;
	size_t count;
	bool more;

	const uint32_t descending[] = { 3, 2 };

	make_nsid_page(page, descending, 2);
	CHECK(!nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(st.error, NVME_PARSE_NSID_ORDER);
	CHECK_EQ(count, 1); /* valid prefix kept */

	const uint32_t dup[] = { 1, 1 };

	make_nsid_page(page, dup, 2);
	CHECK(!nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(st.error, NVME_PARSE_NSID_ORDER);

	const uint32_t bcast[] = { 1, 0xffffffff };

	make_nsid_page(page, bcast, 2);
	CHECK(!nvme_parse_nsid_list(page, sizeof(page), 0, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(st.error, NVME_PARSE_NSID_INVALID);

	const uint32_t below_start[] = { 3, 9 };

	make_nsid_page(page, below_start, 2);
	CHECK(!nvme_parse_nsid_list(page, sizeof(page), 5, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(st.error, NVME_PARSE_NSID_INVALID);
	CHECK(nvme_parse_nsid_list(page, sizeof(page), 2, out, NVME_NSID_LIST_MAX, &count, &more, &st));
	CHECK_EQ(count, 2);
}

UNIT_TEST(nvme_lba_arithmetic_is_64_bit_and_checked)
{
	uint64_t v;

	CHECK(!nvme_last_lba(0, &v));
	CHECK(nvme_last_lba((1ull << 33) + 1, &v));
	CHECK_EQ(v, 1ull << 33);
	CHECK(nvme_blocks_to_bytes(1ull << 33, 4096, &v));
	CHECK_EQ(v, 1ull << 45);
	CHECK(!nvme_blocks_to_bytes(1ull << 60, 4096, &v));
	CHECK(nvme_blocks_to_bytes(UINT64_MAX, 1, &v));
	CHECK(nvme_lba_range_ok((1ull << 33) - 1, 1, 1ull << 33));
	CHECK(!nvme_lba_range_ok((1ull << 33) - 1, 2, 1ull << 33));
	CHECK(!nvme_lba_range_ok(0, 0, 10));
	CHECK(!nvme_lba_range_ok(10, 1, 10));
	CHECK(!nvme_lba_range_ok(5, UINT64_MAX, 10)); /* slba + n would wrap */
}

/* The CQ head is told only when untold entries plus outstanding commands could fill the CQ. */
UNIT_TEST(nvme_cq_head_due_only_when_the_cq_could_fill)
{
	/* 128 entries, depth 1: 126 untold + 1 in flight fit in the 127 usable entries. */
	CHECK(!nvme_cq_head_due(0, 1, 128));
	CHECK(!nvme_cq_head_due(126, 1, 128));
	CHECK(nvme_cq_head_due(127, 1, 128));
	/* The deepest queue (entries - 2 in flight) leaves room for one untold entry. */
	CHECK(!nvme_cq_head_due(1, 126, 128));
	CHECK(nvme_cq_head_due(2, 126, 128));
	/* A 2-entry queue tells the head before every further command. */
	CHECK(!nvme_cq_head_due(0, 1, 2));
	CHECK(nvme_cq_head_due(1, 1, 2));
}
