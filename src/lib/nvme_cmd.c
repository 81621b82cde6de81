/* NVMe pure logic; see nvme_cmd.h. */
#include "nvme_cmd.h"

#include "le.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PRP_ENTRY_SIZE   8u
#define PRP_DWORD_ALIGN  4u
#define PRP_PAGE_MIN     4096u
#define PRP_PAGE_MAX     (1u << 27) /* CAP.MPSMAX 15 -> 2^(12+15) */
/* Transfer size exponents beyond this overflow 64 bits even with 4 KiB pages. */
#define NVME_MDTS_MAX    (63u - NVME_MPS_SHIFT_BASE)
#define ASCII_FIRST_PRINTABLE 0x20
#define ASCII_LAST_PRINTABLE  0x7e

/* ------------------------------------------------------------- helpers */

static bool is_power_of_two(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

bool nvme_parse_fail(struct nvme_parse_status *st, enum nvme_parse_error err,
		     const char *fmt, ...)
{
	va_list ap;

	st->error = err;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
	return false;
}

bool nvme_parse_ok(struct nvme_parse_status *st)
{
	st->error = NVME_PARSE_OK;
	st->reason[0] = '\0';
	return true;
}

/* ---------------------------------------------------------------- PRPs */

const char *nvme_prp_error_name(enum nvme_prp_error err)
{
	switch (err) {
	case NVME_PRP_OK: return "ok";
	case NVME_PRP_BAD_PAGE_SIZE: return "bad-page-size";
	case NVME_PRP_EMPTY: return "empty-transfer";
	case NVME_PRP_MISALIGNED: return "buffer-not-dword-aligned";
	case NVME_PRP_WRAPS: return "buffer-wraps-address-space";
	case NVME_PRP_LIST_MISALIGNED: return "prp-list-page-misaligned";
	case NVME_PRP_LIST_TOO_SHORT: return "prp-list-pages-missing";
	}
	return "unknown";
}

static bool page_size_ok(uint32_t page_size)
{
	return is_power_of_two(page_size) && page_size >= PRP_PAGE_MIN && page_size <= PRP_PAGE_MAX;
}

uint64_t nvme_prp_data_pages(uint64_t dev, uint64_t len, uint32_t page_size)
{
	if (len == 0 || !page_size_ok(page_size) || len - 1 > UINT64_MAX - dev)
		return 0;
	uint64_t mask = (uint64_t)page_size - 1;
	uint64_t first = dev & ~mask;
	uint64_t last = (dev + len - 1) & ~mask;

	return (last - first) / page_size + 1;
}

uint64_t nvme_prp_list_pages_needed(uint64_t dev, uint64_t len, uint32_t page_size)
{
	uint64_t pages = nvme_prp_data_pages(dev, len, page_size);
	uint64_t per_list = page_size / PRP_ENTRY_SIZE;

	/* PRP1 covers the first page; PRP2 alone covers exactly one more. */
	if (pages <= 2)
		return 0;
	uint64_t entries = pages - 1;

	/* Every list but the last gives one slot to the chain pointer. */
	return (entries - 1 + (per_list - 1) - 1) / (per_list - 1);
}

static bool list_pages_ok(const struct nvme_prp_list_page *lists, uint64_t needed,
			  uint32_t page_size)
{
	for (uint64_t i = 0; i < needed; i++)
		if (lists[i].cpu == NULL || (lists[i].dev & ((uint64_t)page_size - 1)) != 0)
			return false;
	return true;
}

/* Writes `entries` data-page addresses starting at `page`, chaining lists as needed. */
static void fill_prp_lists(uint64_t page, uint64_t entries, uint32_t page_size,
			   const struct nvme_prp_list_page *lists)
{
	const uint64_t per_list = page_size / PRP_ENTRY_SIZE;
	size_t list = 0;
	uint64_t slot = 0;

	for (uint64_t k = 0; k < entries; k++) {
		bool more_after_this = k + 1 < entries;

		if (slot == per_list - 1 && more_after_this) {
			lists[list].cpu[slot] = lists[list + 1].dev;
			list++;
			slot = 0;
		}
		lists[list].cpu[slot++] = page;
		page += page_size;
	}
}

enum nvme_prp_error nvme_prp_build(uint64_t dev, uint64_t len, uint32_t page_size,
				   const struct nvme_prp_list_page *lists, size_t list_count,
				   struct nvme_prp *out, size_t *list_pages_used)
{
	if (list_pages_used)
		*list_pages_used = 0;
	if (!page_size_ok(page_size))
		return NVME_PRP_BAD_PAGE_SIZE;
	if (len == 0)
		return NVME_PRP_EMPTY;
	if (dev & (PRP_DWORD_ALIGN - 1))
		return NVME_PRP_MISALIGNED;
	if (len - 1 > UINT64_MAX - dev)
		return NVME_PRP_WRAPS;

	uint64_t pages = nvme_prp_data_pages(dev, len, page_size);
	uint64_t needed = nvme_prp_list_pages_needed(dev, len, page_size);
	uint64_t second_page = (dev & ~((uint64_t)page_size - 1)) + page_size;

	if (needed > list_count)
		return NVME_PRP_LIST_TOO_SHORT;
	if (!list_pages_ok(lists, needed, page_size))
		return NVME_PRP_LIST_MISALIGNED;

	out->prp1 = dev;
	if (pages == 1) {
		out->prp2 = 0;
	} else if (pages == 2) {
		out->prp2 = second_page;
	} else {
		fill_prp_lists(second_page, pages - 1, page_size, lists);
		out->prp2 = lists[0].dev;
	}
	if (list_pages_used)
		*list_pages_used = (size_t)needed;
	return NVME_PRP_OK;
}

/* ---------------------------------------------------------- builders */

static void sqe_init(struct nvme_sqe *sqe, uint8_t opcode, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = nsid;
}

static uint32_t queue_cdw10(uint16_t qid, uint32_t qsize)
{
	/* Queue size is 0-based in the command. */
	return ((qsize - 1u) << NVME_CDW10_QSIZE_SHIFT) | ((uint32_t)qid << NVME_CDW10_QID_SHIFT);
}

void nvme_cmd_identify(struct nvme_sqe *sqe, uint8_t cns, uint32_t nsid,
		       const struct nvme_prp *prp)
{
	sqe_init(sqe, NVME_ADMIN_IDENTIFY, nsid);
	sqe->prp1 = prp->prp1;
	sqe->prp2 = prp->prp2;
	sqe->cdw10 = cns;
}

void nvme_cmd_create_io_cq(struct nvme_sqe *sqe, uint16_t qid, uint32_t qsize,
			   uint64_t base, bool irq_enabled, uint16_t irq_vector)
{
	sqe_init(sqe, NVME_ADMIN_CREATE_IO_CQ, 0);
	sqe->prp1 = base;
	sqe->cdw10 = queue_cdw10(qid, qsize);
	sqe->cdw11 = NVME_CDW11_PC;
	if (irq_enabled)
		sqe->cdw11 |= NVME_CDW11_CQ_IEN | ((uint32_t)irq_vector << NVME_CDW11_CQ_IV_SHIFT);
}

void nvme_cmd_create_io_sq(struct nvme_sqe *sqe, uint16_t qid, uint32_t qsize,
			   uint64_t base, uint16_t cqid)
{
	sqe_init(sqe, NVME_ADMIN_CREATE_IO_SQ, 0);
	sqe->prp1 = base;
	sqe->cdw10 = queue_cdw10(qid, qsize);
	sqe->cdw11 = NVME_CDW11_PC | ((uint32_t)cqid << NVME_CDW11_SQ_CQID_SHIFT);
}

void nvme_cmd_delete_io_sq(struct nvme_sqe *sqe, uint16_t qid)
{
	sqe_init(sqe, NVME_ADMIN_DELETE_IO_SQ, 0);
	sqe->cdw10 = qid;
}

void nvme_cmd_delete_io_cq(struct nvme_sqe *sqe, uint16_t qid)
{
	sqe_init(sqe, NVME_ADMIN_DELETE_IO_CQ, 0);
	sqe->cdw10 = qid;
}

bool nvme_cmd_read(struct nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint32_t nblocks,
		   const struct nvme_prp *prp)
{
	if (nblocks == 0 || nblocks > NVME_MAX_BLOCKS_PER_RW)
		return false;
	sqe_init(sqe, NVME_IO_READ, nsid);
	sqe->prp1 = prp->prp1;
	sqe->prp2 = prp->prp2;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (nblocks - 1) & NVME_CDW12_NLB_MASK;
	return true;
}

/* ------------------------------------------------------ MDTS splitting */

uint64_t nvme_mdts_bytes(uint8_t mdts, uint32_t mps_min_bytes)
{
	if (mdts == 0)
		return UINT64_MAX;
	uint64_t unit = mps_min_bytes;

	if (unit == 0 || mdts >= 64 || (unit >> (64 - mdts)) != 0)
		return UINT64_MAX; /* would not fit in 64 bits: no practical limit */
	return unit << mdts;
}

uint32_t nvme_max_blocks_per_cmd(uint8_t mdts, uint32_t mps_min_bytes, uint32_t lba_size,
				 uint64_t buffer_bytes)
{
	uint64_t limit = nvme_mdts_bytes(mdts, mps_min_bytes);

	if (lba_size == 0)
		return 0;
	if (buffer_bytes != 0 && buffer_bytes < limit)
		limit = buffer_bytes;
	uint64_t blocks = limit / lba_size;

	return blocks > NVME_MAX_BLOCKS_PER_RW ? NVME_MAX_BLOCKS_PER_RW : (uint32_t)blocks;
}

void nvme_split_init(struct nvme_split *s, uint64_t slba, uint64_t nblocks, uint32_t max_blocks)
{
	s->next_lba = slba;
	s->remaining = nblocks;
	s->done = 0;
	s->max_blocks = max_blocks;
	s->boundary = 0;
	s->granule = 0;
}

void nvme_split_set_granule(struct nvme_split *s, uint32_t granule)
{
	s->granule = granule;
}

void nvme_split_set_boundary(struct nvme_split *s, uint64_t zone_blocks)
{
	s->boundary = zone_blocks;
}

bool nvme_split_next(struct nvme_split *s, struct nvme_chunk *chunk)
{
	if (s->remaining == 0 || s->max_blocks == 0)
		return false;
	uint32_t n = s->remaining < s->max_blocks ? (uint32_t)s->remaining : s->max_blocks;

	if (s->boundary) {
		uint64_t to_boundary = s->boundary - s->next_lba % s->boundary;

		if (to_boundary < n)
			n = (uint32_t)to_boundary;
	}
	if (s->granule && n > s->granule)
		n -= n % s->granule;

	chunk->slba = s->next_lba;
	chunk->nblocks = n;
	chunk->block_offset = s->done;
	s->next_lba += n;
	s->remaining -= n;
	s->done += n;
	return true;
}

/* ------------------------------------------------------ status names */

struct status_name {
	uint16_t code;
	const char *name;
};

/* Names follow the NVMe Base/NVM Command Set specifications, lower-case and hyphenated. */
static const struct status_name status_names[] = {
	{ 0x000, "successful-completion" },
	{ 0x001, "invalid-command-opcode" },
	{ 0x002, "invalid-field" },
	{ 0x003, "command-id-conflict" },
	{ 0x004, "data-transfer-error" },
	{ 0x005, "aborted-power-loss" },
	{ 0x006, "internal-error" },
	{ 0x007, "aborted-by-request" },
	{ 0x008, "aborted-sq-deletion" },
	{ 0x009, "aborted-failed-fused" },
	{ 0x00a, "aborted-missing-fused" },
	{ 0x00b, "invalid-namespace-or-format" },
	{ 0x00c, "command-sequence-error" },
	{ 0x00d, "invalid-sgl-segment-descriptor" },
	{ 0x00e, "invalid-number-of-sgl-descriptors" },
	{ 0x00f, "data-sgl-length-invalid" },
	{ 0x010, "metadata-sgl-length-invalid" },
	{ 0x011, "sgl-descriptor-type-invalid" },
	{ 0x012, "invalid-use-of-controller-memory-buffer" },
	{ 0x013, "invalid-prp-offset" },
	{ 0x014, "atomic-write-unit-exceeded" },
	{ 0x015, "operation-denied" },
	{ 0x016, "sgl-offset-invalid" },
	{ 0x018, "host-identifier-inconsistent-format" },
	{ 0x019, "keep-alive-timer-expired" },
	{ 0x01a, "keep-alive-timeout-invalid" },
	{ 0x01b, "aborted-preempt-and-abort" },
	{ 0x01c, "sanitize-failed" },
	{ 0x01d, "sanitize-in-progress" },
	{ 0x01e, "sgl-data-block-granularity-invalid" },
	{ 0x01f, "command-not-supported-for-queue-in-cmb" },
	{ 0x020, "namespace-is-write-protected" },
	{ 0x021, "command-interrupted" },
	{ 0x022, "transient-transport-error" },
	{ 0x080, "lba-out-of-range" },
	{ 0x081, "capacity-exceeded" },
	{ 0x082, "namespace-not-ready" },
	{ 0x083, "reservation-conflict" },
	{ 0x084, "format-in-progress" },
	{ 0x100, "completion-queue-invalid" },
	{ 0x101, "invalid-queue-identifier" },
	{ 0x102, "invalid-queue-size" },
	{ 0x103, "abort-command-limit-exceeded" },
	{ 0x105, "asynchronous-event-request-limit-exceeded" },
	{ 0x106, "invalid-firmware-slot" },
	{ 0x107, "invalid-firmware-image" },
	{ 0x108, "invalid-interrupt-vector" },
	{ 0x109, "invalid-log-page" },
	{ 0x10a, "invalid-format" },
	{ 0x10b, "firmware-activation-requires-conventional-reset" },
	{ 0x10c, "invalid-queue-deletion" },
	{ 0x10d, "feature-identifier-not-saveable" },
	{ 0x10e, "feature-not-changeable" },
	{ 0x10f, "feature-not-namespace-specific" },
	{ 0x110, "firmware-activation-requires-nvm-subsystem-reset" },
	{ 0x111, "firmware-activation-requires-controller-level-reset" },
	{ 0x112, "firmware-activation-requires-maximum-time-violation" },
	{ 0x113, "firmware-activation-prohibited" },
	{ 0x114, "overlapping-range" },
	{ 0x180, "conflicting-attributes" },
	{ 0x181, "invalid-protection-information" },
	{ 0x182, "attempted-write-to-read-only-range" },
	/* Zoned Namespace Command Set, command specific (SCT 1h). */
	{ 0x1b8, "zone-boundary-error" },
	{ 0x1b9, "zone-is-full" },
	{ 0x1ba, "zone-is-read-only" },
	{ 0x1bb, "zone-is-offline" },
	{ 0x1bc, "zone-invalid-write" },
	{ 0x1bd, "too-many-active-zones" },
	{ 0x1be, "too-many-open-zones" },
	{ 0x1bf, "invalid-zone-state-transition" },
	{ 0x280, "write-fault" },
	{ 0x281, "unrecovered-read-error" },
	{ 0x282, "end-to-end-guard-check-error" },
	{ 0x283, "end-to-end-application-tag-check-error" },
	{ 0x284, "end-to-end-reference-tag-check-error" },
	{ 0x285, "compare-failure" },
	{ 0x286, "access-denied" },
	{ 0x287, "deallocated-or-unwritten-logical-block" },
	{ 0x300, "internal-path-error" },
	{ 0x301, "asymmetric-access-persistent-loss" },
	{ 0x302, "asymmetric-access-inaccessible" },
	{ 0x303, "asymmetric-access-transition" },
	{ 0x360, "controller-pathing-error" },
	{ 0x370, "host-pathing-error" },
	{ 0x371, "command-aborted-by-host" },
};

const char *nvme_sct_name(uint8_t sct)
{
	switch (sct) {
	case NVME_SCT_GENERIC: return "generic";
	case NVME_SCT_COMMAND_SPECIFIC: return "command-specific";
	case NVME_SCT_MEDIA: return "media-error";
	case NVME_SCT_PATH: return "path-related";
	case NVME_SCT_VENDOR: return "vendor-specific";
	}
	return "reserved";
}

static const char *unknown_status_name(uint8_t sct)
{
	switch (sct) {
	case NVME_SCT_GENERIC: return "unknown-generic-status";
	case NVME_SCT_COMMAND_SPECIFIC: return "unknown-command-specific-status";
	case NVME_SCT_MEDIA: return "unknown-media-error-status";
	case NVME_SCT_PATH: return "unknown-path-related-status";
	case NVME_SCT_VENDOR: return "vendor-specific-status";
	}
	return "reserved-status-code-type";
}

const char *nvme_status_name(uint16_t status_field)
{
	uint16_t code = nvme_status_code(status_field);

	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].code == code)
			return status_names[i].name;
	return unknown_status_name(NVME_STATUS_SCT(status_field));
}

void nvme_status_decode(uint16_t status_field, struct nvme_status_info *info)
{
	info->code = nvme_status_code(status_field);
	info->sct = NVME_STATUS_SCT(status_field);
	info->sc = NVME_STATUS_SC(status_field);
	info->crd = NVME_STATUS_CRD(status_field);
	info->more = (status_field & NVME_STATUS_MORE) != 0;
	info->dnr = (status_field & NVME_STATUS_DNR) != 0;
	info->name = nvme_status_name(status_field);
	info->sct_name = nvme_sct_name(info->sct);
}

/* ------------------------------------------------------ Identify parse */

const char *nvme_parse_error_name(enum nvme_parse_error err)
{
	switch (err) {
	case NVME_PARSE_OK: return "ok";
	case NVME_PARSE_TRUNCATED: return "truncated";
	case NVME_PARSE_ALL_ZERO: return "all-zero";
	case NVME_PARSE_BAD_QUEUE_ENTRY: return "bad-queue-entry-size";
	case NVME_PARSE_BAD_MDTS: return "bad-mdts";
	case NVME_PARSE_INACTIVE_NS: return "inactive-namespace";
	case NVME_PARSE_BAD_SIZES: return "bad-namespace-sizes";
	case NVME_PARSE_BAD_LBAF: return "bad-lba-format";
	case NVME_PARSE_CAPACITY_OVERFLOW: return "capacity-overflow";
	case NVME_PARSE_NSID_ORDER: return "nsid-list-not-ascending";
	case NVME_PARSE_NSID_INVALID: return "nsid-invalid";
	case NVME_PARSE_BAD_DESCRIPTOR: return "bad-namespace-descriptor";
	case NVME_PARSE_BAD_ZONE_SIZE: return "bad-zone-size";
	}
	return "unknown";
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Copies a space-padded text field, trimming padding; NUL bytes count as
 * padding.  Bytes outside printable ASCII are kept (the proof-line emitter
 * escapes them); returns false when there was any, so the caller can flag it.
 */
static bool copy_text_field(char *dst, const uint8_t *src, size_t n)
{
	size_t len = 0;
	bool ascii = true;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = src[i];

		if (c == 0) {
			dst[i] = ' ';
			continue;
		}
		if (c < ASCII_FIRST_PRINTABLE || c > ASCII_LAST_PRINTABLE)
			ascii = false;
		dst[i] = (char)c;
		if (c != ' ')
			len = i + 1;
	}
	dst[len] = '\0';
	return ascii;
}

/* SUBNQN: UTF-8, NUL terminated or padded; an unterminated field is cut at its size. */
static void copy_nqn(char *dst, const uint8_t *src, size_t n)
{
	size_t len = 0;

	while (len < n && src[len])
		len++;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool entry_sizes_ok(uint8_t field, unsigned required_log2)
{
	unsigned min = field & 0xf, max = field >> 4;

	return min <= required_log2 && required_log2 <= max;
}

/* Identify strings: non-ASCII bytes are a warning (info->strings_ascii), never a failure. */
static void parse_ctrl_strings(const uint8_t *page, struct nvme_id_ctrl_info *info)
{
	bool sn = copy_text_field(info->sn, page + NVME_IDC_SN, NVME_IDC_SN_LEN);
	bool mn = copy_text_field(info->mn, page + NVME_IDC_MN, NVME_IDC_MN_LEN);
	bool fr = copy_text_field(info->fr, page + NVME_IDC_FR, NVME_IDC_FR_LEN);

	info->strings_ascii = sn && mn && fr;
	copy_nqn(info->subnqn, page + NVME_IDC_SUBNQN, NVME_IDC_SUBNQN_LEN);
}

bool nvme_parse_id_ctrl(const uint8_t *page, size_t len, struct nvme_id_ctrl_info *info,
			struct nvme_parse_status *st)
{
	memset(info, 0, sizeof(*info));
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				  (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	if (all_zero(page, NVME_IDENTIFY_DATA_SIZE))
		return nvme_parse_fail(st, NVME_PARSE_ALL_ZERO, "identify controller data is all zero");
	parse_ctrl_strings(page, info);
	info->vid = le_get16(page + NVME_IDC_VID);
	info->ssvid = le_get16(page + NVME_IDC_SSVID);
	info->mdts = page[NVME_IDC_MDTS];
	info->cntlid = le_get16(page + NVME_IDC_CNTLID);
	info->ver = le_get32(page + NVME_IDC_VER);
	info->nn = le_get32(page + NVME_IDC_NN);
	info->oacs = le_get16(page + NVME_IDC_OACS);
	info->oncs = le_get16(page + NVME_IDC_ONCS);
	info->cmic = page[NVME_IDC_CMIC];
	info->sqes_min = page[NVME_IDC_SQES] & 0xf;
	info->sqes_max = page[NVME_IDC_SQES] >> 4;
	info->cqes_min = page[NVME_IDC_CQES] & 0xf;
	info->cqes_max = page[NVME_IDC_CQES] >> 4;
	memcpy(info->vendor_specific, page + NVME_IDC_VS, NVME_IDC_VS_LEN);

	if (!entry_sizes_ok(page[NVME_IDC_SQES], NVME_SQE_SIZE_LOG2))
		return nvme_parse_fail(st, NVME_PARSE_BAD_QUEUE_ENTRY,
				  "SQES 0x%02x does not allow 64-byte entries", page[NVME_IDC_SQES]);
	if (!entry_sizes_ok(page[NVME_IDC_CQES], NVME_CQE_SIZE_LOG2))
		return nvme_parse_fail(st, NVME_PARSE_BAD_QUEUE_ENTRY,
				  "CQES 0x%02x does not allow 16-byte entries", page[NVME_IDC_CQES]);
	if (info->mdts > NVME_MDTS_MAX)
		return nvme_parse_fail(st, NVME_PARSE_BAD_MDTS, "MDTS %u exceeds 64-bit sizes", info->mdts);
	return nvme_parse_ok(st);
}

static uint8_t flbas_index(uint8_t flbas, unsigned nlbaf_count)
{
	uint8_t index = NVME_FLBAS_INDEX_LOW(flbas);

	/* Bits 6:5 extend the index only when more than 16 formats exist (NVMe 2.0). */
	if (nlbaf_count > NVME_IDNS_LBAF_LEGACY_MAX)
		index |= (uint8_t)(NVME_FLBAS_INDEX_HIGH(flbas) << 4);
	return index;
}

static void parse_lbaf_table(const uint8_t *page, struct nvme_id_ns_info *info)
{
	for (unsigned i = 0; i < info->nlbaf_count; i++) {
		uint32_t d = le_get32(page + NVME_IDNS_LBAF + i * NVME_IDNS_LBAF_ENTRY_SIZE);

		info->lbaf[i].ms = NVME_LBAF_MS(d);
		info->lbaf[i].lbads = NVME_LBAF_LBADS(d);
		info->lbaf[i].rp = NVME_LBAF_RP(d);
	}
}

static bool check_ns_sizes(struct nvme_id_ns_info *info, struct nvme_parse_status *st)
{
	if (info->nsze == 0)
		return nvme_parse_fail(st, NVME_PARSE_INACTIVE_NS, "NSZE is 0 (namespace not active)");
	if (info->ncap > info->nsze)
		return nvme_parse_fail(st, NVME_PARSE_BAD_SIZES, "NCAP %" PRIu64 " > NSZE %" PRIu64,
				  info->ncap, info->nsze);
	if (info->nuse > info->ncap)
		return nvme_parse_fail(st, NVME_PARSE_BAD_SIZES, "NUSE %" PRIu64 " > NCAP %" PRIu64,
				  info->nuse, info->ncap);
	return true;
}

static bool check_ns_format(const uint8_t *page, struct nvme_id_ns_info *info,
			    struct nvme_parse_status *st)
{
	unsigned count = (unsigned)page[NVME_IDNS_NLBAF] + 1;
	uint8_t flbas = page[NVME_IDNS_FLBAS];

	if (count > NVME_IDNS_LBAF_MAX)
		return nvme_parse_fail(st, NVME_PARSE_BAD_LBAF, "NLBAF %u exceeds %u formats",
				  page[NVME_IDNS_NLBAF], NVME_IDNS_LBAF_MAX);
	info->nlbaf_count = (uint8_t)count;
	info->flbas_index = flbas_index(flbas, count);
	info->metadata_extended = (flbas & NVME_FLBAS_EXTENDED) != 0;
	if (info->flbas_index >= count)
		return nvme_parse_fail(st, NVME_PARSE_BAD_LBAF, "FLBAS index %u beyond NLBAF %u",
				  info->flbas_index, count - 1);
	parse_lbaf_table(page, info);
	const struct nvme_lba_format *f = &info->lbaf[info->flbas_index];

	if (f->lbads < NVME_LBADS_MIN || f->lbads > NVME_LBADS_MAX)
		return nvme_parse_fail(st, NVME_PARSE_BAD_LBAF, "LBADS %u of format %u outside %u..%u",
				  f->lbads, info->flbas_index, NVME_LBADS_MIN, NVME_LBADS_MAX);
	info->lba_size = 1u << f->lbads;
	info->metadata_size = f->ms;
	return true;
}

bool nvme_parse_id_ns(const uint8_t *page, size_t len, struct nvme_id_ns_info *info,
		      struct nvme_parse_status *st)
{
	memset(info, 0, sizeof(*info));
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				  (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	info->nsze = le_get64(page + NVME_IDNS_NSZE);
	info->ncap = le_get64(page + NVME_IDNS_NCAP);
	info->nuse = le_get64(page + NVME_IDNS_NUSE);
	info->mc = page[NVME_IDNS_MC];
	info->dpc = page[NVME_IDNS_DPC];
	info->dps = page[NVME_IDNS_DPS];
	info->nmic = page[NVME_IDNS_NMIC];
	if (!check_ns_sizes(info, st) || !check_ns_format(page, info, st))
		return false;
	if (!nvme_blocks_to_bytes(info->nsze, info->lba_size, &info->capacity_bytes))
		return nvme_parse_fail(st, NVME_PARSE_CAPACITY_OVERFLOW,
				  "NSZE %" PRIu64 " x %u bytes overflows 64 bits", info->nsze,
				  info->lba_size);
	return nvme_parse_ok(st);
}

bool nvme_parse_nsid_list(const uint8_t *page, size_t len, uint32_t start_nsid,
			  uint32_t *nsids, size_t cap, size_t *count, bool *more,
			  struct nvme_parse_status *st)
{
	uint32_t prev = start_nsid;

	*count = 0;
	*more = false;
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				  (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	for (size_t i = 0; i < NVME_NSID_LIST_MAX; i++) {
		uint32_t id = le_get32(page + i * sizeof(uint32_t));

		if (id == 0)
			return nvme_parse_ok(st);
		if (id == NVME_NSID_BROADCAST)
			return nvme_parse_fail(st, NVME_PARSE_NSID_INVALID,
					  "entry %lu is the broadcast NSID", (unsigned long)i);
		if (id <= start_nsid)
			return nvme_parse_fail(st, NVME_PARSE_NSID_INVALID,
					  "entry %lu NSID %" PRIu32 " not above start %" PRIu32,
					  (unsigned long)i, id, start_nsid);
		if (id <= prev)
			return nvme_parse_fail(st, NVME_PARSE_NSID_ORDER,
					  "entry %lu NSID %" PRIu32 " after %" PRIu32, (unsigned long)i,
					  id, prev);
		if (*count == cap) {
			*more = true; /* caller's array is full: continue from the last NSID */
			return nvme_parse_ok(st);
		}
		nsids[(*count)++] = id;
		prev = id;
	}
	*more = true;
	return nvme_parse_ok(st);
}

/* ------------------------------------------------------ LBA arithmetic */

bool nvme_last_lba(uint64_t nsze, uint64_t *last)
{
	if (nsze == 0)
		return false;
	*last = nsze - 1;
	return true;
}

bool nvme_blocks_to_bytes(uint64_t nblocks, uint32_t lba_size, uint64_t *bytes)
{
	if (lba_size != 0 && nblocks > UINT64_MAX / lba_size)
		return false;
	*bytes = nblocks * lba_size;
	return true;
}

bool nvme_lba_range_ok(uint64_t slba, uint64_t nblocks, uint64_t nsze)
{
	return nblocks != 0 && slba < nsze && nblocks <= nsze - slba;
}
