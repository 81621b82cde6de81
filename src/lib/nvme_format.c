/*
 * Namespace format arithmetic for the read path (see nvme_format.h).
 */
#include "nvme_format.h"

#include <stdio.h>
#include <string.h>

/* Bytes MPTR must be aligned to when PRPs describe the data (SGLs are not used). */
#define NVME_MPTR_ALIGN 4u
/*
 * QEMU 7.2 moves an extended-LBA transfer as one host segment per block
 * (plus one per page boundary the data crosses) and its block layer refuses
 * more than IOV_MAX = 1024 segments: the read fails with 0x281 (EINVAL).
 * Extended-LBA commands are kept below that on every device (on others it
 * only means a few more commands); two segments are kept spare for the
 * partial first and last page.
 */
#define EXTENDED_SEGMENTS_MAX   1024u
#define EXTENDED_SEGMENTS_SPARE 2u
/*
 * QEMU 7.2's DMA helper (dma_blk_cb) keeps only the unaligned tail of a
 * transfer that is not a whole number of 512-byte sectors instead of
 * dropping it (fixed upstream in 9.0): a command's metadata of 512 bytes or
 * more that is not a sector multiple comes back truncated.  Commands with
 * metadata are therefore cut so their metadata is a sector multiple, or
 * shorter than a sector, on every device.
 */
#define METADATA_SECTOR_BYTES   512u

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static bool pi_settings_ok(const struct nvme_id_ns_info *id, const char **unserved)
{
	uint8_t type = NVME_DPS_TYPE(id->dps);

	if (type > NVME_DPS_TYPE_MAX) {
		*unserved = "reserved-protection-information-type";
		return false;
	}
	if (type && id->metadata_size < NVME_PI_TUPLE_BYTES) {
		*unserved = "protection-information-without-room-in-metadata";
		return false;
	}
	return true;
}

/*
 * PRINFO for reads: PRACT=0 so the metadata (PI included) reaches host
 * memory as the medium holds it, and no PRCHK bit, because the firmware
 * proves the data by CRC against the disk image, and an image never written
 * through a PI-aware path carries tags that would fail any check for reasons
 * that say nothing about the transfer.
 */
static struct nvme_prinfo read_prinfo(void)
{
	struct nvme_prinfo pi = { 0 };
	return pi;
}

bool nvme_format_from_id(const struct nvme_id_ns_info *id, struct nvme_ns_format *f,
			 const char **unserved)
{
	memset(f, 0, sizeof(*f));
	*unserved = NULL;
	const struct nvme_lba_format *lbaf = &id->lbaf[id->flbas_index];

	if (lbaf->lbads > NVME_LBADS_SERVED_MAX) {
		*unserved = "logical-block-larger-than-2MiB";
		return false;
	}
	if (!pi_settings_ok(id, unserved))
		return false;
	f->data_bytes = id->lba_size;
	f->md_bytes = id->metadata_size;
	f->layout = f->md_bytes == 0 ? NVME_MD_NONE
		  : id->metadata_extended ? NVME_MD_EXTENDED : NVME_MD_SEPARATE;
	f->pi_type = (uint8_t)NVME_DPS_TYPE(id->dps);
	f->pi_first = (id->dps & NVME_DPS_PI_FIRST) != 0;
	f->prinfo = read_prinfo();
	f->buffer_bytes = f->data_bytes;
	if (f->layout == NVME_MD_EXTENDED)
		f->buffer_bytes += f->md_bytes;
	/* With PRACT a PI-only extended format moves no metadata (NVM Command Set 5.2.3.1). */
	if (f->layout == NVME_MD_EXTENDED && f->prinfo.pract && f->pi_type &&
	    f->md_bytes == NVME_PI_TUPLE_BYTES)
		f->buffer_bytes = f->data_bytes;
	f->mdts_bytes = f->buffer_bytes;
	f->md_granule = f->md_bytes ? METADATA_SECTOR_BYTES / gcd(METADATA_SECTOR_BYTES, f->md_bytes)
				    : 0;
	return true;
}

const char *nvme_md_layout_name(enum nvme_md_layout layout)
{
	switch (layout) {
	case NVME_MD_NONE: return "none";
	case NVME_MD_EXTENDED: return "extended";
	case NVME_MD_SEPARATE: return "separate";
	}
	return "unknown";
}

const char *nvme_prchk_name(const struct nvme_prinfo *pi)
{
	static const char *const names[] = {
		"none", "reftag", "apptag", "apptag+reftag",
		"guard", "guard+reftag", "guard+apptag", "guard+apptag+reftag",
	};
	unsigned i = (pi->check_reftag ? 1u : 0u) | (pi->check_apptag ? 2u : 0u) |
		     (pi->check_guard ? 4u : 0u);

	return names[i];
}

uint32_t nvme_prinfo_cdw12(const struct nvme_prinfo *pi)
{
	return (pi->pract ? NVME_CDW12_PRACT : 0u) |
	       (pi->check_guard ? NVME_CDW12_PRCHK_GUARD : 0u) |
	       (pi->check_apptag ? NVME_CDW12_PRCHK_APPTAG : 0u) |
	       (pi->check_reftag ? NVME_CDW12_PRCHK_REFTAG : 0u);
}

bool nvme_format_md_bytes(const struct nvme_ns_format *f, uint64_t nblocks, uint64_t *bytes)
{
	*bytes = 0;
	if (f->layout != NVME_MD_SEPARATE)
		return true;
	return nvme_blocks_to_bytes(nblocks, f->md_bytes, bytes);
}

bool nvme_format_buffer_bytes(const struct nvme_ns_format *f, uint64_t nblocks, uint64_t *bytes)
{
	return nvme_blocks_to_bytes(nblocks, f->buffer_bytes, bytes);
}

uint32_t nvme_format_max_blocks(const struct nvme_ns_format *f, uint8_t mdts,
				uint32_t mps_min_bytes, uint64_t buffer_limit)
{
	uint32_t by_mdts = nvme_max_blocks_per_cmd(mdts, mps_min_bytes, f->mdts_bytes, 0);
	uint32_t by_buffer = nvme_max_blocks_per_cmd(0, mps_min_bytes, f->buffer_bytes,
						     buffer_limit);
	uint32_t n = by_mdts < by_buffer ? by_mdts : by_buffer;

	if (f->layout == NVME_MD_EXTENDED && mps_min_bytes) {
		/* n blocks + ceil(n * block / page) page crossings + spare <= the segment limit */
		uint64_t by_segments = (uint64_t)(EXTENDED_SEGMENTS_MAX - EXTENDED_SEGMENTS_SPARE) *
				       mps_min_bytes / ((uint64_t)mps_min_bytes + f->buffer_bytes);

		if (by_segments < n)
			n = (uint32_t)by_segments;
	}
	if (f->md_granule && n > f->md_granule)
		n -= n % f->md_granule;
	return n;
}

const char *nvme_format_missing_address(const struct nvme_ns_format *f,
					const struct nvme_io_addrs *a)
{
	if (!a->prp_set || a->prp.prp1 == 0)
		return "data-pointer-not-set";
	if (f->layout == NVME_MD_SEPARATE && (!a->mptr_set || a->mptr == 0))
		return "metadata-pointer-not-set";
	if (f->layout != NVME_MD_SEPARATE && a->mptr_set)
		return "metadata-pointer-without-separate-metadata";
	if (a->mptr_set && a->mptr % NVME_MPTR_ALIGN)
		return "metadata-pointer-misaligned";
	return NULL;
}

bool nvme_cmd_read_format(struct nvme_sqe *sqe, uint32_t nsid, uint64_t slba, uint32_t nblocks,
			  const struct nvme_ns_format *f)
{
	struct nvme_prp none = { 0 };

	if (!nvme_cmd_read(sqe, nsid, slba, nblocks, &none))
		return false;
	sqe->cdw12 |= nvme_prinfo_cdw12(&f->prinfo);
	return true;
}

void nvme_format_split_extended(const struct nvme_ns_format *f, const uint8_t *src,
				uint64_t nblocks, uint8_t *dst, uint8_t *md)
{
	size_t data = f->data_bytes, meta = f->buffer_bytes - f->data_bytes;

	for (uint64_t i = 0; i < nblocks; i++) {
		const uint8_t *block = src + i * f->buffer_bytes;

		/* Metadata first: in place, the data move below may overwrite it. */
		if (md && meta)
			memcpy(md + i * meta, block + data, meta);
		memmove(dst + i * data, block, data);
	}
}

size_t nvme_format_lbaf_table(const struct nvme_id_ns_info *id, char *dst, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return 0;
	dst[0] = '\0';
	for (unsigned i = 0; i < id->nlbaf_count && len < cap - 1; i++) {
		const struct nvme_lba_format *l = &id->lbaf[i];
		int n = snprintf(dst + len, cap - len, "%s%s%u:%u:%u", i ? "," : "",
				 i == id->flbas_index ? "*" : "", l->lbads, l->ms, l->rp);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	return len < cap ? len : cap - 1;
}
