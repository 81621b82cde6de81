/* Namespace descriptors, zoned Identify, command sets and CMB decode; see nvme_ident.h. */
#include "nvme_ident.h"

#include "le.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *nvme_csi_name(uint8_t csi)
{
	switch (csi) {
	case NVME_CSI_NVM: return "nvm";
	case NVME_CSI_KV: return "key-value";
	case NVME_CSI_ZONED: return "zoned";
	}
	return "unknown";
}

/* Expected NIDL for the types proofboot knows; 0 for any other type (skipped). */
static unsigned known_length(uint8_t nidt)
{
	switch (nidt) {
	case NVME_NIDT_EUI64: return NVME_NIDL_EUI64;
	case NVME_NIDT_NGUID: return NVME_NIDL_NGUID;
	case NVME_NIDT_UUID: return NVME_NIDL_UUID;
	case NVME_NIDT_CSI: return NVME_NIDL_CSI;
	}
	return 0;
}

/* Stores one known descriptor; false when its type was already seen. */
static bool store_descriptor(struct nvme_ns_descriptors *d, uint8_t nidt, const uint8_t *v)
{
	bool *seen = NULL;
	uint8_t *dst = NULL;

	switch (nidt) {
	case NVME_NIDT_EUI64: seen = &d->has_eui64; dst = d->eui64; break;
	case NVME_NIDT_NGUID: seen = &d->has_nguid; dst = d->nguid; break;
	case NVME_NIDT_UUID: seen = &d->has_uuid; dst = d->uuid; break;
	case NVME_NIDT_CSI: seen = &d->has_csi; dst = &d->csi; break;
	default: return true;
	}
	if (*seen)
		return false;
	*seen = true;
	memcpy(dst, v, known_length(nidt));
	return true;
}

bool nvme_parse_ns_descriptors(const uint8_t *page, size_t len, struct nvme_ns_descriptors *d,
			       struct nvme_parse_status *st)
{
	size_t off = 0;

	memset(d, 0, sizeof(*d));
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				       (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	while (off + NVME_NIDT_HEADER_SIZE <= NVME_IDENTIFY_DATA_SIZE && page[off] != 0) {
		uint8_t nidt = page[off], nidl = page[off + 1];
		unsigned want = known_length(nidt);

		if (nidl == 0 || off + NVME_NIDT_HEADER_SIZE + nidl > NVME_IDENTIFY_DATA_SIZE)
			return nvme_parse_fail(st, NVME_PARSE_BAD_DESCRIPTOR,
					       "descriptor %u at byte %lu: NIDL %u runs past the page",
					       d->count, (unsigned long)off, nidl);
		if (want && nidl != want)
			return nvme_parse_fail(st, NVME_PARSE_BAD_DESCRIPTOR,
					       "descriptor type %u has NIDL %u, not %u", nidt, nidl, want);
		if (!store_descriptor(d, nidt, page + off + NVME_NIDT_HEADER_SIZE))
			return nvme_parse_fail(st, NVME_PARSE_BAD_DESCRIPTOR,
					       "descriptor type %u appears twice", nidt);
		d->count++;
		off += NVME_NIDT_HEADER_SIZE + nidl;
	}
	return nvme_parse_ok(st);
}

/* MAR/MOR are 0-based with all ones meaning "no limit"; returned 1-based, 0 = none. */
static uint32_t zone_resource_limit(uint32_t field)
{
	return field == UINT32_MAX ? 0 : field + 1;
}

bool nvme_parse_zns_id_ns(const uint8_t *page, size_t len, uint8_t flbas_index, uint64_t nsze,
			  struct nvme_zns_info *z, struct nvme_parse_status *st)
{
	memset(z, 0, sizeof(*z));
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				       (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	/* LBA format extensions exist for the 16 formats FLBAS bits 3:0 address. */
	if (flbas_index >= NVME_IDNS_LBAF_LEGACY_MAX)
		return nvme_parse_fail(st, NVME_PARSE_BAD_LBAF,
				       "format %u has no zoned LBA format extension", flbas_index);
	const uint8_t *e = page + NVME_ZNS_IDNS_LBAFE + flbas_index * NVME_ZNS_LBAFE_SIZE;

	z->zone_blocks = le_get64(e + NVME_ZNS_LBAFE_ZSZE);
	z->max_active = zone_resource_limit(le_get32(page + NVME_ZNS_IDNS_MAR));
	z->max_open = zone_resource_limit(le_get32(page + NVME_ZNS_IDNS_MOR));
	if (z->zone_blocks == 0)
		return nvme_parse_fail(st, NVME_PARSE_BAD_ZONE_SIZE, "ZSZE of format %u is 0",
				       flbas_index);
	z->zones = nsze / z->zone_blocks + (nsze % z->zone_blocks != 0);
	return nvme_parse_ok(st);
}

bool nvme_parse_zns_id_ctrl(const uint8_t *page, size_t len, uint8_t *zasl,
			    struct nvme_parse_status *st)
{
	*zasl = 0;
	if (len < NVME_IDENTIFY_DATA_SIZE)
		return nvme_parse_fail(st, NVME_PARSE_TRUNCATED, "identify data is %lu bytes, need %u",
				       (unsigned long)len, NVME_IDENTIFY_DATA_SIZE);
	*zasl = page[NVME_ZNS_IDC_ZASL];
	return nvme_parse_ok(st);
}

void nvme_decode_cmb(uint64_t cap, uint32_t cmbloc, uint32_t cmbsz, struct nvme_cmb_info *cmb)
{
	memset(cmb, 0, sizeof(*cmb));
	/* NVMe 1.3 controllers have no CAP.CMBS but may still report CMBSZ. */
	cmb->supported = NVME_CAP_CMBS(cap) || cmbsz != 0;
	if (!cmb->supported || cmbsz == 0)
		return;
	uint32_t szu = NVME_CMBSZ_SZU(cmbsz);

	cmb->bir = (uint8_t)NVME_CMBLOC_BIR(cmbloc);
	cmb->sqs = (cmbsz & NVME_CMBSZ_SQS) != 0;
	cmb->cqs = (cmbsz & NVME_CMBSZ_CQS) != 0;
	cmb->lists = (cmbsz & NVME_CMBSZ_LISTS) != 0;
	cmb->rds = (cmbsz & NVME_CMBSZ_RDS) != 0;
	cmb->wds = (cmbsz & NVME_CMBSZ_WDS) != 0;
	if (szu > NVME_CMBSZ_SZU_MAX)
		return;
	unsigned shift = NVME_CMBSZ_SZU_BASE_SHIFT + NVME_CMBSZ_SZU_STEP_SHIFT * szu;

	/* SZ and OFST are at most 20 bits and the unit at most 2^36: no overflow. */
	cmb->size = (uint64_t)NVME_CMBSZ_SZ(cmbsz) << shift;
	cmb->offset = (uint64_t)NVME_CMBLOC_OFST(cmbloc) << shift;
	cmb->valid = true;
}

void nvme_nsid_ranges_init(struct nvme_nsid_ranges *r)
{
	memset(r, 0, sizeof(*r));
	r->complete = true;
}

/* Appends "first" or "first-last" (with a leading comma after the first range). */
static void append_range(struct nvme_nsid_ranges *r, uint32_t first, uint32_t last)
{
	char item[32];
	int n = first == last ? snprintf(item, sizeof(item), "%s%" PRIu32, r->len ? "," : "", first)
			      : snprintf(item, sizeof(item), "%s%" PRIu32 "-%" PRIu32,
					 r->len ? "," : "", first, last);

	if (n < 0 || r->len + (size_t)n >= sizeof(r->text)) {
		r->complete = false;
		return;
	}
	memcpy(r->text + r->len, item, (size_t)n + 1);
	r->len += (size_t)n;
}

void nvme_nsid_ranges_add(struct nvme_nsid_ranges *r, uint32_t nsid)
{
	if (r->count && nsid <= r->last) {
		r->complete = false; /* not ascending: the list cannot be trusted as ranges */
		return;
	}
	if (r->count && nsid == r->last + 1) {
		r->last = nsid;
	} else {
		if (r->count && r->complete)
			append_range(r, r->first, r->last);
		r->first = r->last = nsid;
	}
	r->count++;
}

const char *nvme_nsid_ranges_text(struct nvme_nsid_ranges *r)
{
	size_t saved = r->len;

	if (!r->count)
		return "";
	if (r->complete) {
		append_range(r, r->first, r->last);
		r->text[r->len] = '\0';
		r->len = saved; /* the open range may still grow */
	}
	return r->text;
}
