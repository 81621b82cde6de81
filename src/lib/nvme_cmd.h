/*
 * NVMe pure logic: command builders, PRP construction, transfer splitting,
 * completion status names, Identify parsers and 64-bit LBA arithmetic.
 * Nothing here touches a device; the firmware driver (src/nvme.c) and the
 * host unit tests (tests/unit/test_nvme_cmd.c) share it.
 */
#ifndef PROOFBOOT_NVME_CMD_H
#define PROOFBOOT_NVME_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_defs.h"

/* ---------------------------------------------------------------- PRPs */

/* The two data-pointer fields of an SQE. */
struct nvme_prp {
	uint64_t prp1;
	uint64_t prp2;
};

/* One page the caller lends for a PRP list: CPU view and device address. */
struct nvme_prp_list_page {
	uint64_t *cpu;
	uint64_t dev;
};

enum nvme_prp_error {
	NVME_PRP_OK = 0,
	NVME_PRP_BAD_PAGE_SIZE,    /* not a power of two in [4 KiB, 128 MiB] */
	NVME_PRP_EMPTY,            /* zero-length transfer */
	NVME_PRP_MISALIGNED,       /* buffer offset not dword aligned */
	NVME_PRP_WRAPS,            /* buffer end overflows 64 bits */
	NVME_PRP_LIST_MISALIGNED,  /* a list page is not page aligned (or has no CPU pointer) */
	NVME_PRP_LIST_TOO_SHORT,   /* caller lent fewer list pages than needed */
};

const char *nvme_prp_error_name(enum nvme_prp_error err);

/* Data pages the transfer [dev, dev + len) touches (0 when len is 0). */
uint64_t nvme_prp_data_pages(uint64_t dev, uint64_t len, uint32_t page_size);

/*
 * PRP list pages needed for that transfer: 0 when PRP1/PRP2 suffice; lists
 * chain through their last entry, so each full list carries page_size/8 - 1
 * data entries plus the pointer to the next list.
 */
uint64_t nvme_prp_list_pages_needed(uint64_t dev, uint64_t len, uint32_t page_size);

/*
 * Builds PRP1/PRP2 for a transfer that is contiguous in device address space,
 * writing PRP list entries into the caller's list pages when needed.
 * `list_pages_used` (may be NULL) receives how many list pages were filled.
 */
enum nvme_prp_error nvme_prp_build(uint64_t dev, uint64_t len, uint32_t page_size,
				   const struct nvme_prp_list_page *lists, size_t list_count,
				   struct nvme_prp *out, size_t *list_pages_used);

/* ---------------------------------------------------------- builders */

/* Every builder zeroes the SQE first; the queue layer fills in the CID. */
void nvme_cmd_identify(struct nvme_sqe *sqe, uint8_t cns, uint32_t nsid,
		       const struct nvme_prp *prp);
/* qsize is the number of entries (>= 2); base must be page aligned. */
void nvme_cmd_create_io_cq(struct nvme_sqe *sqe, uint16_t qid, uint32_t qsize,
			   uint64_t base, bool irq_enabled, uint16_t irq_vector);
void nvme_cmd_create_io_sq(struct nvme_sqe *sqe, uint16_t qid, uint32_t qsize,
			   uint64_t base, uint16_t cqid);
void nvme_cmd_delete_io_sq(struct nvme_sqe *sqe, uint16_t qid);
void nvme_cmd_delete_io_cq(struct nvme_sqe *sqe, uint16_t qid);
/* Returns false (SQE untouched) unless 1 <= nblocks <= 65536. */
bool nvme_cmd_read(struct nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint32_t nblocks,
		   const struct nvme_prp *prp);

/* ------------------------------------------------------ MDTS splitting */

/* Bytes one command may move: 2^MDTS minimum pages; UINT64_MAX when MDTS is 0 (no limit). */
uint64_t nvme_mdts_bytes(uint8_t mdts, uint32_t mps_min_bytes);

/*
 * Blocks per read command: limited by MDTS, by the 16-bit NLB field and by
 * `buffer_bytes` (the largest buffer the caller can map; 0 = no limit).
 * Returns 0 when even one block does not fit.
 */
uint32_t nvme_max_blocks_per_cmd(uint8_t mdts, uint32_t mps_min_bytes, uint32_t lba_size,
				 uint64_t buffer_bytes);

struct nvme_chunk {
	uint64_t slba;
	uint32_t nblocks;
	uint64_t block_offset; /* blocks already covered by earlier chunks */
};

struct nvme_split {
	uint64_t next_lba;
	uint64_t remaining;
	uint64_t done;
	uint32_t max_blocks;
	uint64_t boundary;     /* chunks never cross a multiple of this LBA count (0 = none) */
	uint32_t granule;      /* chunks of at least this many blocks are multiples of it (0 = any) */
};

void nvme_split_init(struct nvme_split *s, uint64_t slba, uint64_t nblocks, uint32_t max_blocks);
/* Zoned namespaces: no chunk crosses a zone boundary (a multiple of zone_blocks). */
void nvme_split_set_boundary(struct nvme_split *s, uint64_t zone_blocks);
/* Chunks of `granule` blocks or more are whole multiples of it (a shorter one ends the run). */
void nvme_split_set_granule(struct nvme_split *s, uint32_t granule);
/* Next chunk of at most max_blocks blocks; false when done (or max_blocks is 0). */
bool nvme_split_next(struct nvme_split *s, struct nvme_chunk *chunk);

/* ------------------------------------------------------ completion queue head */

/*
 * Whether the CQ head doorbell must be written before a submission leaves
 * `in_flight_after` commands outstanding, when `untold` consumed entries
 * have not been reported yet.  The controller sees entries - 1 - (untold +
 * posted but unconsumed) free CQ entries and every outstanding command may
 * post one, so untold + in_flight_after may not exceed entries - 1 (a full
 * CQ stops the controller posting).
 */
static inline bool nvme_cq_head_due(uint32_t untold, uint32_t in_flight_after, uint32_t entries)
{
	return untold + in_flight_after > entries - 1;
}

/* ------------------------------------------------------ status names */

/* Status field (CQE status word >> 1) -> printable pieces. */
static inline uint16_t nvme_cqe_status_field(uint16_t status_word)
{
	return (uint16_t)(status_word >> NVME_CQE_STATUS_SHIFT);
}

static inline uint16_t nvme_status_code(uint16_t status_field)
{
	return status_field & NVME_STATUS_CODE_MASK;
}

/* "generic", "command-specific", "media-error", "path-related", "vendor-specific", "reserved". */
const char *nvme_sct_name(uint8_t sct);
/* Spec name for SCT:SC (e.g. 0x281 -> "unrecovered-read-error"); unknown codes
 * get "unknown-<sct name>-status". */
const char *nvme_status_name(uint16_t status_field);

struct nvme_status_info {
	uint16_t code;   /* SCT << 8 | SC */
	uint8_t sct;
	uint8_t sc;
	uint8_t crd;
	bool more;
	bool dnr;
	const char *name;
	const char *sct_name;
};

void nvme_status_decode(uint16_t status_field, struct nvme_status_info *info);

/* ------------------------------------------------------ Identify parse */

enum nvme_parse_error {
	NVME_PARSE_OK = 0,
	NVME_PARSE_TRUNCATED,       /* fewer than 4096 bytes */
	NVME_PARSE_ALL_ZERO,        /* controller returned nothing */
	NVME_PARSE_BAD_QUEUE_ENTRY, /* SQES/CQES do not allow 64/16-byte entries */
	NVME_PARSE_BAD_MDTS,        /* transfer size exponent beyond 2^63 bytes */
	NVME_PARSE_INACTIVE_NS,     /* NSZE 0: namespace not active */
	NVME_PARSE_BAD_SIZES,       /* NCAP > NSZE or NUSE > NCAP */
	NVME_PARSE_BAD_LBAF,        /* NLBAF / FLBAS / LBADS out of range */
	NVME_PARSE_CAPACITY_OVERFLOW,
	NVME_PARSE_NSID_ORDER,      /* active list not strictly ascending */
	NVME_PARSE_NSID_INVALID,    /* broadcast/reserved NSID or not above the start NSID */
	NVME_PARSE_BAD_DESCRIPTOR,  /* namespace identification descriptor malformed */
	NVME_PARSE_BAD_ZONE_SIZE,   /* zoned namespace with zone size 0 */
};

const char *nvme_parse_error_name(enum nvme_parse_error err);

#define NVME_PARSE_REASON_MAX 112

struct nvme_parse_status {
	enum nvme_parse_error error;
	char reason[NVME_PARSE_REASON_MAX]; /* human detail, "" on success */
};

/* For the parsers in src/lib: record a failure (printf-style reason) / a success. */
bool nvme_parse_fail(struct nvme_parse_status *st, enum nvme_parse_error err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool nvme_parse_ok(struct nvme_parse_status *st);

struct nvme_id_ctrl_info {
	uint16_t vid;
	uint16_t ssvid;
	char sn[NVME_IDC_SN_LEN + 1]; /* trailing spaces/NULs trimmed */
	char mn[NVME_IDC_MN_LEN + 1];
	char fr[NVME_IDC_FR_LEN + 1];
	bool strings_ascii;           /* false: SN/MN/FR hold bytes outside printable ASCII */
	char subnqn[NVME_IDC_SUBNQN_LEN + 1];
	uint16_t oacs, oncs;
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;  /* 0 on NVMe 1.0/1.1 controllers */
	uint32_t nn;
	uint8_t sqes_min, sqes_max, cqes_min, cqes_max;
	uint8_t vendor_specific[NVME_IDC_VS_LEN];
};

bool nvme_parse_id_ctrl(const uint8_t *page, size_t len, struct nvme_id_ctrl_info *info,
			struct nvme_parse_status *st);

struct nvme_lba_format {
	uint16_t ms;   /* metadata bytes per block */
	uint8_t lbads; /* log2 data bytes per block (0 = format unavailable) */
	uint8_t rp;    /* relative performance */
};

struct nvme_id_ns_info {
	uint64_t nsze, ncap, nuse;
	uint8_t mc, dpc, dps, nmic; /* metadata caps, PI caps, PI settings, sharing */
	uint8_t nlbaf_count;   /* NLBAF + 1 */
	uint8_t flbas_index;
	bool metadata_extended;
	uint32_t lba_size;     /* data bytes per block (512 B .. 2 GiB; see nvme_format.h for what is served) */
	uint16_t metadata_size;
	uint64_t capacity_bytes; /* NSZE * lba_size */
	struct nvme_lba_format lbaf[NVME_IDNS_LBAF_MAX];
};

bool nvme_parse_id_ns(const uint8_t *page, size_t len, struct nvme_id_ns_info *info,
		      struct nvme_parse_status *st);

/*
 * Active Namespace ID list (CNS 02h) requested with `start_nsid`: entries
 * ascend strictly, are above start_nsid, end at the first 0 or after 1024
 * entries.  `*more` is set when all 1024 slots were used (ask again from the
 * last NSID).  Returns false on a malformed list, leaving the valid prefix.
 */
bool nvme_parse_nsid_list(const uint8_t *page, size_t len, uint32_t start_nsid,
			  uint32_t *nsids, size_t cap, size_t *count, bool *more,
			  struct nvme_parse_status *st);

/* ------------------------------------------------------ LBA arithmetic */

/* All return false on overflow / empty input instead of wrapping. */
bool nvme_last_lba(uint64_t nsze, uint64_t *last);
bool nvme_blocks_to_bytes(uint64_t nblocks, uint32_t lba_size, uint64_t *bytes);
/* [slba, slba + nblocks) lies inside a namespace of nsze blocks. */
bool nvme_lba_range_ok(uint64_t slba, uint64_t nblocks, uint64_t nsze);

#endif
