/*
 * Identify Namespace data (nvme_parse_id_ns, src/lib/nvme_cmd.c) and the
 * transfer limits the firmware derives from it.  Short inputs must be
 * rejected as truncated and are also parsed zero-padded.
 *
 * Invariants: an accepted namespace has 0 < NSZE, NCAP <= NSZE, NUSE <=
 * NCAP, a format index inside NLBAF+1 <= 64 formats, a power-of-two LBA
 * size in 512 B..2 GiB taken from that format, a capacity equal to NSZE x
 * LBA size without overflow; the read format (src/lib/nvme_format.c) is
 * served only up to 2 MiB blocks, counts interleaved metadata against MDTS
 * and never a separate metadata buffer, and its printed LBA format table
 * marks exactly the format in use; blocks per command respect MDTS, the
 * 16-bit block count and the buffer; splitting covers a range exactly; the
 * benchmark grid (src/lib/bench_grid.c) only holds whole-block sizes the
 * controller takes and depths the queue holds, each pair once.
 */
#include "fuzz.h"

#include "bench_grid.h"
#include "nvme_cmd.h"
#include "nvme_format.h"

#define QEMU_MDTS 7
#define QEMU_MQES 2047
#define MIN_PAGE 4096u
#define SPLIT_MAX_BLOCKS (1u << 12)

static void check_limits(const struct nvme_id_ns_info *ns, uint8_t mdts, uint64_t buffer)
{
	uint32_t per_cmd = nvme_max_blocks_per_cmd(mdts, MIN_PAGE, ns->lba_size, buffer);
	uint64_t limit = nvme_mdts_bytes(mdts, MIN_PAGE);

	FUZZ_CHECK(per_cmd <= NVME_MAX_BLOCKS_PER_RW);
	FUZZ_CHECK((uint64_t)per_cmd * ns->lba_size <= limit);
	FUZZ_CHECK(buffer == 0 || (uint64_t)per_cmd * ns->lba_size <= buffer);
	if (per_cmd == 0)
		return;
	/* Split a bounded range at the end of the namespace. */
	uint64_t n = ns->nsze < SPLIT_MAX_BLOCKS ? ns->nsze : SPLIT_MAX_BLOCKS;
	uint64_t slba = ns->nsze - n, covered = 0, next = slba;
	struct nvme_split s;
	struct nvme_chunk c;

	FUZZ_CHECK(nvme_lba_range_ok(slba, n, ns->nsze));
	FUZZ_CHECK(!nvme_lba_range_ok(slba, n + 1, ns->nsze));
	nvme_split_init(&s, slba, n, per_cmd);
	while (nvme_split_next(&s, &c)) {
		FUZZ_CHECK(c.nblocks >= 1 && c.nblocks <= per_cmd);
		FUZZ_CHECK(c.slba == next && c.block_offset == covered);
		FUZZ_CHECK(nvme_lba_range_ok(c.slba, c.nblocks, ns->nsze));
		next += c.nblocks;
		covered += c.nblocks;
	}
	FUZZ_CHECK(covered == n);
}

/* The benchmark grid built from the namespace and controller limits. */
static void check_grid(uint32_t max_transfer, uint32_t lba_size, uint32_t depth, size_t cap)
{
	struct bench_point *grid = fuzz_alloc(cap * sizeof(*grid));
	size_t n = bench_grid(max_transfer, lba_size, depth, grid, cap);

	FUZZ_CHECK(n <= cap && n <= BENCH_GRID_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct bench_point *g = &grid[i];
		FUZZ_CHECK(g->bs == BENCH_BS_SMALL || g->bs == BENCH_BS_MEDIUM || g->bs == max_transfer);
		FUZZ_CHECK(g->bs >= lba_size && g->bs % lba_size == 0 && g->bs <= max_transfer);
		FUZZ_CHECK(g->qd >= 1 && g->qd <= depth);
		FUZZ_CHECK((g->qd == BENCH_QD_SHALLOW && !strcmp(g->qd_label, "1")) ||
			   (g->qd == BENCH_QD_DEEP && !strcmp(g->qd_label, "32")) ||
			   (g->qd == depth && !strcmp(g->qd_label, "max")));
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(grid[k].bs != g->bs || grid[k].qd != g->qd);
	}
	free(grid);
}

static void check_format(const struct nvme_id_ns_info *ns, uint8_t mdts, uint64_t buffer)
{
	struct nvme_ns_format f;
	const char *why;
	bool served = nvme_format_from_id(ns, &f, &why);
	char table[NVME_IDNS_LBAF_MAX * 16];
	size_t n = nvme_format_lbaf_table(ns, table, sizeof(table));

	FUZZ_CHECK(n == strlen(table) && n < sizeof(table));
	FUZZ_CHECK(strchr(table, '*') == strrchr(table, '*'));
	FUZZ_CHECK(served == (why == NULL));
	if (!served) {
		FUZZ_CHECK(ns->lbaf[ns->flbas_index].lbads > NVME_LBADS_SERVED_MAX ||
			   NVME_DPS_TYPE(ns->dps) > NVME_DPS_TYPE_MAX ||
			   ns->metadata_size < NVME_PI_TUPLE_BYTES);
		return;
	}
	FUZZ_CHECK(f.data_bytes == ns->lba_size && f.data_bytes <= (1u << NVME_LBADS_SERVED_MAX));
	FUZZ_CHECK(f.buffer_bytes == f.data_bytes + (f.layout == NVME_MD_EXTENDED ? f.md_bytes : 0));
	FUZZ_CHECK(f.mdts_bytes == f.buffer_bytes);
	FUZZ_CHECK((f.layout == NVME_MD_NONE) == (ns->metadata_size == 0));
	uint32_t per_cmd = nvme_format_max_blocks(&f, mdts, MIN_PAGE, buffer);
	FUZZ_CHECK(per_cmd <= NVME_MAX_BLOCKS_PER_RW);
	FUZZ_CHECK((uint64_t)per_cmd * f.mdts_bytes <= nvme_mdts_bytes(mdts, MIN_PAGE));
	FUZZ_CHECK(buffer == 0 || (uint64_t)per_cmd * f.buffer_bytes <= buffer);
	uint64_t md;
	FUZZ_CHECK(nvme_format_md_bytes(&f, per_cmd, &md));
	FUZZ_CHECK(md == (f.layout == NVME_MD_SEPARATE ? (uint64_t)per_cmd * f.md_bytes : 0));
}

static void parse_page(const uint8_t *page, uint8_t mdts, uint64_t buffer)
{
	struct nvme_id_ns_info ns;
	struct nvme_parse_status st;
	bool ok = nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &ns, &st);

	FUZZ_CHECK(fuzz_terminated(st.reason, sizeof(st.reason)));
	FUZZ_CHECK(ok == (st.error == NVME_PARSE_OK) && ok == (st.reason[0] == '\0'));
	FUZZ_CHECK(strcmp(nvme_parse_error_name(st.error), "unknown") != 0);
	if (!ok)
		return;
	FUZZ_CHECK(ns.nsze != 0 && ns.ncap <= ns.nsze && ns.nuse <= ns.ncap);
	FUZZ_CHECK(ns.nlbaf_count == page[NVME_IDNS_NLBAF] + 1u);
	FUZZ_CHECK(ns.nlbaf_count <= NVME_IDNS_LBAF_MAX && ns.flbas_index < ns.nlbaf_count);
	FUZZ_CHECK((ns.flbas_index & 0xf) == (page[NVME_IDNS_FLBAS] & 0xf));
	FUZZ_CHECK(ns.lba_size >= 512 && ns.lba_size <= (1u << 31));
	FUZZ_CHECK((ns.lba_size & (ns.lba_size - 1)) == 0);
	FUZZ_CHECK(ns.lba_size == 1u << ns.lbaf[ns.flbas_index].lbads);
	FUZZ_CHECK(ns.metadata_size == ns.lbaf[ns.flbas_index].ms);
	FUZZ_CHECK(ns.nsze <= UINT64_MAX / ns.lba_size && ns.capacity_bytes == ns.nsze * ns.lba_size);
	uint64_t last;
	FUZZ_CHECK(nvme_last_lba(ns.nsze, &last) && last == ns.nsze - 1);
	check_format(&ns, mdts, buffer);
	check_limits(&ns, QEMU_MDTS, 0);
	check_limits(&ns, mdts, buffer);
	uint64_t transfer = nvme_mdts_bytes(mdts, MIN_PAGE);
	uint32_t max_transfer = transfer > UINT32_MAX ? UINT32_MAX : (uint32_t)transfer;
	check_grid(max_transfer, ns.lba_size, (uint32_t)(buffer >> 12), (size_t)(buffer >> 12) % 12);
	check_grid(max_transfer, ns.lba_size, QEMU_MQES, BENCH_GRID_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *page = fuzz_dup(data, size);
	/* Bytes past the page choose an MDTS and a bounce-buffer size. */
	uint8_t mdts = size > NVME_IDENTIFY_DATA_SIZE ? data[NVME_IDENTIFY_DATA_SIZE] % 20 : 5;
	uint64_t buffer = size > NVME_IDENTIFY_DATA_SIZE + 1
				  ? (uint64_t)data[NVME_IDENTIFY_DATA_SIZE + 1] << 12 : 0;

	if (size < NVME_IDENTIFY_DATA_SIZE) {
		struct nvme_id_ns_info ns;
		struct nvme_parse_status st;

		FUZZ_CHECK(!nvme_parse_id_ns(page, size, &ns, &st));
		FUZZ_CHECK(st.error == NVME_PARSE_TRUNCATED);
		uint8_t *padded = calloc(1, NVME_IDENTIFY_DATA_SIZE);
		if (!padded)
			abort();
		if (size)
			memcpy(padded, data, size);
		parse_page(padded, mdts, buffer);
		free(padded);
	} else {
		parse_page(page, mdts, buffer);
	}
	free(page);
	return 0;
}
