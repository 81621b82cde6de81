/*
 * The namespace format as the data path sees it: how many bytes one logical
 * block occupies in host memory, where its metadata goes, what counts
 * against MDTS, which protection-information handling a read asks for,
 * whether the firmware can serve the format at all, and the check that a
 * read command carries every address its format needs.
 *
 * Pure logic: the driver and the host unit tests share it.
 */
#ifndef PROOFBOOT_NVME_FORMAT_H
#define PROOFBOOT_NVME_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_cmd.h"

/* Where a block's metadata travels (NVM Command Set 5.2.3). */
enum nvme_md_layout {
	NVME_MD_NONE = 0,  /* MS = 0 */
	NVME_MD_EXTENDED,  /* FLBAS bit 4: data then metadata, per block, in the data buffer */
	NVME_MD_SEPARATE,  /* a second contiguous buffer behind MPTR, MS bytes per block */
};

/* Protection information tuple with the 16-bit guard (PIF 0), the only one parsed. */
#define NVME_PI_TUPLE_BYTES 8u

/* PRINFO of a Read: PRACT plus the PRCHK bits, kept as data so it can be printed. */
struct nvme_prinfo {
	bool pract;
	bool check_guard, check_apptag, check_reftag;
};

struct nvme_ns_format {
	uint32_t data_bytes;        /* LBA data per block */
	uint16_t md_bytes;          /* metadata per block */
	enum nvme_md_layout layout;
	uint8_t pi_type;            /* DPS type: 0 none, 1..3 */
	bool pi_first;              /* PI in the first 8 metadata bytes */
	struct nvme_prinfo prinfo;  /* what reads of this namespace ask for */
	uint32_t buffer_bytes;      /* bytes per block in the data buffer */
	uint32_t mdts_bytes;        /* bytes per block counted against MDTS */
	uint32_t md_granule;        /* blocks whose metadata fills whole 512-byte sectors; 0: no metadata */
};

/*
 * Fills *f from Identify Namespace.  Returns false (with *unserved naming
 * the reason) for a format the firmware does not read: data blocks above
 * 2 MiB, PI with fewer metadata bytes than a PI tuple, or a reserved DPS type.
 */
bool nvme_format_from_id(const struct nvme_id_ns_info *id, struct nvme_ns_format *f,
			 const char **unserved);

/* "none", "extended", "separate". */
const char *nvme_md_layout_name(enum nvme_md_layout layout);
/* PRCHK as printed: "none" or a '+'-joined subset of "guard", "apptag", "reftag". */
const char *nvme_prchk_name(const struct nvme_prinfo *pi);
/* The CDW12 bits of *pi. */
uint32_t nvme_prinfo_cdw12(const struct nvme_prinfo *pi);

/* Metadata buffer bytes for n blocks: MS x n for separate metadata, else 0; false on overflow. */
bool nvme_format_md_bytes(const struct nvme_ns_format *f, uint64_t nblocks, uint64_t *bytes);
/* Data buffer bytes for n blocks (data + interleaved metadata); false on overflow. */
bool nvme_format_buffer_bytes(const struct nvme_ns_format *f, uint64_t nblocks, uint64_t *bytes);

/*
 * Blocks per read command: MDTS counts real bytes per block (the spec counts
 * interleaved metadata, not a separate metadata buffer), the 16-bit NLB
 * field and the largest buffer the caller can map (0 = no limit) bound it;
 * extended LBAs also stay within 1022 host segments (QEMU 7.2's IOV_MAX, see
 * nvme_format.c), and with metadata the count is a multiple of md_granule
 * when it is at least that.  0 when even one block does not fit.
 */
uint32_t nvme_format_max_blocks(const struct nvme_ns_format *f, uint8_t mdts,
				uint32_t mps_min_bytes, uint64_t buffer_limit);

/* Every address-bearing field of one read, as the DMA backend handed them out. */
struct nvme_io_addrs {
	struct nvme_prp prp;
	bool prp_set;      /* PRP1/PRP2 came from the PRP builder without error */
	uint64_t mptr;
	bool mptr_set;     /* MPTR came from a backend mapping of the metadata buffer */
};

/*
 * NULL when *a carries every address the format needs; otherwise the
 * named reason the command must not be submitted: no PRPs, separate
 * metadata without MPTR, a misaligned MPTR, or an MPTR where the format
 * has no separate metadata.
 */
const char *nvme_format_missing_address(const struct nvme_ns_format *f,
					const struct nvme_io_addrs *a);

/*
 * A Read of n blocks with the format's PRINFO and no address yet (the I/O
 * engine adds them); false (SQE untouched) unless 1 <= n <= 65536.
 */
bool nvme_cmd_read_format(struct nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint32_t nblocks,
			  const struct nvme_ns_format *f);

/*
 * Copies the LBA data out of an extended-LBA buffer (data then metadata per
 * block) so the CRC covers exactly the LBA data, and the metadata into md
 * (may be NULL).  In place is allowed (dst == src).
 */
void nvme_format_split_extended(const struct nvme_ns_format *f, const uint8_t *src,
				uint64_t nblocks, uint8_t *dst, uint8_t *md);

/*
 * The LBA format table as printed: entries "DS:MS:RP" joined by commas, the
 * one in use prefixed with '*'.  Returns the length (truncated to cap - 1).
 */
size_t nvme_format_lbaf_table(const struct nvme_id_ns_info *id, char *dst, size_t cap);

#endif
