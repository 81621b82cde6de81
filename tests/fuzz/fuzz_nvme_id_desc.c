/*
 * Namespace Identification Descriptor lists (CNS 03h) and Zoned Identify
 * Namespace pages (CNS 05h, CSI 02h): nvme_parse_ns_descriptors,
 * nvme_parse_zns_id_ns and nvme_parse_zns_id_ctrl (src/lib/nvme_ident.c).  The first input byte picks
 * the format index and the next eight the namespace size for the zoned page;
 * the rest is the page (zero-padded when short; short input is also
 * rejected as truncated).
 *
 * Invariants: an accepted descriptor list has at most one descriptor of
 * each known type, every known type it reports is present in the page at a
 * descriptor boundary with its exact length, a CSI name is never NULL; an
 * accepted zoned page has a zone size > 0 and a zone count that covers the
 * namespace without a spare zone.
 */
#include "fuzz.h"

#include "nvme_ident.h"

#define HEADER_BYTES 9

static void check_descriptors(const uint8_t *page)
{
	struct nvme_ns_descriptors d;
	struct nvme_parse_status st;
	bool ok = nvme_parse_ns_descriptors(page, NVME_IDENTIFY_DATA_SIZE, &d, &st);

	FUZZ_CHECK(fuzz_terminated(st.reason, sizeof(st.reason)));
	FUZZ_CHECK(ok == (st.error == NVME_PARSE_OK));
	FUZZ_CHECK(nvme_csi_name(d.csi) != NULL);
	if (!ok)
		return;
	/* Walk the list again and find each reported descriptor where the parser did. */
	size_t off = 0;
	unsigned seen = 0;
	while (off + NVME_NIDT_HEADER_SIZE <= NVME_IDENTIFY_DATA_SIZE && page[off]) {
		FUZZ_CHECK(page[off + 1] != 0);
		if (page[off] == NVME_NIDT_CSI) {
			FUZZ_CHECK(d.has_csi && page[off + 1] == NVME_NIDL_CSI);
			FUZZ_CHECK(d.csi == page[off + NVME_NIDT_HEADER_SIZE]);
		}
		if (page[off] == NVME_NIDT_EUI64)
			FUZZ_CHECK(d.has_eui64 && !memcmp(d.eui64, page + off + 4, NVME_NIDL_EUI64));
		seen++;
		off += NVME_NIDT_HEADER_SIZE + page[off + 1];
		FUZZ_CHECK(off <= NVME_IDENTIFY_DATA_SIZE);
	}
	FUZZ_CHECK(seen == d.count);
}

static void check_zoned(const uint8_t *page, uint8_t flbas_index, uint64_t nsze)
{
	struct nvme_zns_info z;
	struct nvme_parse_status st;
	uint8_t zasl;
	bool ok = nvme_parse_zns_id_ns(page, NVME_IDENTIFY_DATA_SIZE, flbas_index, nsze, &z, &st);

	/* The same bytes as a Zoned Identify Controller page: ZASL is byte 0. */
	FUZZ_CHECK(nvme_parse_zns_id_ctrl(page, NVME_IDENTIFY_DATA_SIZE, &zasl, &st) &&
		   zasl == page[NVME_ZNS_IDC_ZASL]);
	ok = nvme_parse_zns_id_ns(page, NVME_IDENTIFY_DATA_SIZE, flbas_index, nsze, &z, &st);

	FUZZ_CHECK(fuzz_terminated(st.reason, sizeof(st.reason)));
	FUZZ_CHECK(ok == (st.error == NVME_PARSE_OK));
	if (!ok)
		return;
	FUZZ_CHECK(flbas_index < NVME_IDNS_LBAF_LEGACY_MAX && z.zone_blocks > 0);
	FUZZ_CHECK(z.zones >= nsze / z.zone_blocks && z.zones - nsze / z.zone_blocks <= 1);
	FUZZ_CHECK(z.zones == 0 || (z.zones - 1) * z.zone_blocks < nsze);
	/* A split kept inside zones never crosses a boundary. */
	struct nvme_split s;
	struct nvme_chunk c;
	nvme_split_init(&s, nsze > 3 ? nsze - 3 : 0, nsze > 3 ? 3 : nsze, 2);
	nvme_split_set_boundary(&s, z.zone_blocks);
	while (nvme_split_next(&s, &c))
		FUZZ_CHECK(c.slba / z.zone_blocks == (c.slba + c.nblocks - 1) / z.zone_blocks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flbas_index = size ? data[0] % 20 : 0;
	uint64_t nsze = 0;

	for (size_t i = 1; i < HEADER_BYTES && i < size; i++)
		nsze = nsze << 8 | data[i];
	const uint8_t *body = size > HEADER_BYTES ? data + HEADER_BYTES : data;
	size_t body_len = size > HEADER_BYTES ? size - HEADER_BYTES : 0;
	uint8_t *page = calloc(1, NVME_IDENTIFY_DATA_SIZE);

	if (!page)
		abort();
	if (body_len) {
		struct nvme_ns_descriptors d;
		struct nvme_parse_status st;

		memcpy(page, body, body_len < NVME_IDENTIFY_DATA_SIZE ? body_len : NVME_IDENTIFY_DATA_SIZE);
		if (body_len < NVME_IDENTIFY_DATA_SIZE) {
			uint8_t *exact = fuzz_dup(body, body_len);
			FUZZ_CHECK(!nvme_parse_ns_descriptors(exact, body_len, &d, &st));
			FUZZ_CHECK(st.error == NVME_PARSE_TRUNCATED);
			free(exact);
		}
	}
	check_descriptors(page);
	check_zoned(page, flbas_index, nsze);
	free(page);
	return 0;
}
