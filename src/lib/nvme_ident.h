/*
 * What a namespace and a controller are beyond the base Identify pages:
 * the Namespace Identification Descriptor list (CNS 03h: command set
 * identifier, EUI-64, NGUID, UUID), the Zoned Namespace Identify
 * Namespace page (CNS 05h, CSI 02h: zone size), the command sets CAP.CSS
 * offers and the controller memory buffer (CAP.CMBS, CMBLOC, CMBSZ).
 *
 * Pure logic over untrusted device data: host unit tests and a fuzz
 * harness (tests/fuzz/fuzz_nvme_id_desc.c) cover it.
 */
#ifndef PROOFBOOT_NVME_IDENT_H
#define PROOFBOOT_NVME_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_cmd.h"

/* "nvm", "key-value", "zoned", or "unknown" for any other CSI. */
const char *nvme_csi_name(uint8_t csi);

struct nvme_ns_descriptors {
	bool has_csi;       /* false: no CSI descriptor, the NVM command set is implied */
	uint8_t csi;
	bool has_eui64, has_nguid, has_uuid;
	uint8_t eui64[NVME_NIDL_EUI64];
	uint8_t nguid[NVME_NIDL_NGUID];
	uint8_t uuid[NVME_NIDL_UUID];
	unsigned count;     /* descriptors read, unknown types included */
};

/*
 * Parses a CNS 03h page: descriptors end at NIDT 0 or the end of the page;
 * a known type with the wrong length, a repeated type, or a descriptor
 * running past the page is malformed (false, with the valid prefix kept).
 */
bool nvme_parse_ns_descriptors(const uint8_t *page, size_t len, struct nvme_ns_descriptors *d,
			       struct nvme_parse_status *st);

struct nvme_zns_info {
	uint8_t zasl;           /* Zone Append Size Limit (CNS 06h, parsed after this page), 0: MDTS */
	uint64_t zone_blocks;   /* ZSZE of the format in use */
	uint64_t zones;         /* NSZE / ZSZE, rounded up */
	uint32_t max_active;    /* MAR + 1, 0 = no limit */
	uint32_t max_open;      /* MOR + 1, 0 = no limit */
};

/*
 * Parses a Zoned Identify Namespace page for the format `flbas_index` of a
 * namespace of `nsze` blocks; ZSZE 0 is malformed.
 */
bool nvme_parse_zns_id_ns(const uint8_t *page, size_t len, uint8_t flbas_index, uint64_t nsze,
			  struct nvme_zns_info *z, struct nvme_parse_status *st);

/*
 * Active NSIDs as compact text, "1-16,20,300-301", built one ascending NSID
 * at a time (a controller may report thousands; only ranges are kept).
 * `complete` turns false when the text no longer fits.
 */
#define NVME_NSID_RANGES_MAX 160
struct nvme_nsid_ranges {
	char text[NVME_NSID_RANGES_MAX];
	size_t len;
	uint32_t first, last;   /* the open range, when count > 0 */
	uint32_t count;         /* NSIDs added */
	bool complete;
};

void nvme_nsid_ranges_init(struct nvme_nsid_ranges *r);
/* NSIDs must ascend; a repeated or smaller one makes the text incomplete. */
void nvme_nsid_ranges_add(struct nvme_nsid_ranges *r, uint32_t nsid);
/* The text with the open range closed (valid until the next add). */
const char *nvme_nsid_ranges_text(struct nvme_nsid_ranges *r);

/* ZASL from a Zoned Identify Controller page (CNS 06h, CSI 02h); false when truncated. */
bool nvme_parse_zns_id_ctrl(const uint8_t *page, size_t len, uint8_t *zasl,
			    struct nvme_parse_status *st);

struct nvme_cmb_info {
	bool supported;         /* CAP.CMBS (NVMe >= 1.4) or a non-zero CMBSZ */
	bool valid;             /* SZU not reserved and the size fits 64 bits */
	uint8_t bir;
	uint64_t offset;        /* bytes into the BAR */
	uint64_t size;          /* bytes */
	bool sqs, cqs, lists, rds, wds;
};

void nvme_decode_cmb(uint64_t cap, uint32_t cmbloc, uint32_t cmbsz, struct nvme_cmb_info *cmb);

#endif
