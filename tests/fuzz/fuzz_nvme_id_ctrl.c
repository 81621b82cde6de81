/*
 * Identify Controller data (nvme_parse_id_ctrl, src/lib/nvme_cmd.c) as a
 * controller returns it, then what the firmware derives from it: the
 * cloud shape (src/lib/cloud_shape.c), the EBS volume id and attachment
 * name.  Inputs shorter than a page must be rejected as truncated; they are
 * also parsed zero-padded so short mutations still reach the field checks.
 *
 * Invariants: accepted pages have trimmed strings that are the page's own
 * bytes, flagged strings_ascii exactly when all three are printable ASCII
 * (non-ASCII is a warning, never a rejection), a SUBNQN that is the page's
 * bytes up to the first NUL within 256, SQES/CQES that allow 64/16-byte entries, an MDTS whose
 * byte count fits 64 bits; derived EBS ids and names are well-formed and
 * bounded by the caller's buffer.
 */
#include "fuzz.h"

#include "cloud_shape.h"
#include "nvme_cmd.h"

/* True when the string is printable ASCII. */
static bool check_string(const char *s, size_t cap, const uint8_t *field, size_t n)
{
	size_t len = strlen(s);

	FUZZ_CHECK(fuzz_terminated(s, cap) && len <= n);
	FUZZ_CHECK(len == 0 || s[len - 1] != ' ');
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(field[i] == (uint8_t)s[i] || (field[i] == 0 && s[i] == ' '));
	for (size_t i = len; i < n; i++)
		FUZZ_CHECK(field[i] == ' ' || field[i] == 0);
	return fuzz_bytes_within(s, 0x20, 0x7e);
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void check_ebs(const struct nvme_id_ctrl_info *id, size_t cap)
{
	char *out = fuzz_alloc(cap);

	if (aws_ebs_volume_id(id->sn, out, cap)) {
		size_t n = strlen(out);
		FUZZ_CHECK(n < cap && (n == 12 || n == 21));
		FUZZ_CHECK(strncmp(out, "vol-", 4) == 0 && lower_hex(out + 4, n - 4));
		/* The serial is the id with or without its dash. */
		FUZZ_CHECK(strcmp(id->sn, out) == 0 ||
			   (strncmp(id->sn, "vol", 3) == 0 && strcmp(id->sn + 3, out + 4) == 0));
	} else if (cap > 0) {
		FUZZ_CHECK(out[0] == '\0');
	}
	if (aws_ebs_block_device(id->vendor_specific, sizeof(id->vendor_specific), out, cap)) {
		size_t n = strlen(out);
		FUZZ_CHECK(n >= 1 && n < cap && n <= AWS_EBS_BDEV_FIELD_LEN);
		FUZZ_CHECK(fuzz_bytes_within(out, 0x21, 0x7e));
		FUZZ_CHECK(memcmp(out, id->vendor_specific, n) == 0);
	} else if (cap > 0) {
		FUZZ_CHECK(out[0] == '\0');
	}
	free(out);
}

static void check_shape(uint16_t vendor, uint16_t device, const char *model)
{
	struct cloud_shape s;
	const struct cloud_shape_entry *e = cloud_shape_lookup(vendor, device);

	cloud_shape_classify(vendor, device, model, &s);
	FUZZ_CHECK(s.known == (e != NULL));
	FUZZ_CHECK(s.provider && s.shape && s.disk_kind);
	FUZZ_CHECK(!s.model_consistent || s.known);
	FUZZ_CHECK(s.model_consistent || strcmp(s.disk_kind, "unknown") == 0);
	FUZZ_CHECK(s.dma_addr_bits >= 32 && s.dma_addr_bits <= 64);
	FUZZ_CHECK(s.dma_max_address == cloud_dma_max_address(s.dma_addr_bits));
	FUZZ_CHECK(!cloud_shape_is_aws_ebs(&s) || vendor == CLOUD_VENDOR_AMAZON);
}

static void derive(const struct nvme_id_ctrl_info *id, size_t cap)
{
	size_t n;
	const struct cloud_shape_entry *table = cloud_shape_table(&n);

	/* The PCI device id is not in Identify data: try every row of this vendor. */
	for (size_t i = 0; i < n; i++)
		if (table[i].vendor == id->vid)
			check_shape(table[i].vendor, table[i].device, id->mn);
	check_shape(id->vid, 0xffff, id->mn);
	check_shape(id->vid, 0xffff, NULL);
	check_ebs(id, cap);
}

static void parse_page(const uint8_t *page, size_t cap)
{
	struct nvme_id_ctrl_info id;
	struct nvme_parse_status st;
	bool ok = nvme_parse_id_ctrl(page, NVME_IDENTIFY_DATA_SIZE, &id, &st);

	FUZZ_CHECK(fuzz_terminated(st.reason, sizeof(st.reason)));
	FUZZ_CHECK(ok == (st.error == NVME_PARSE_OK));
	FUZZ_CHECK(ok == (st.reason[0] == '\0'));
	FUZZ_CHECK(strcmp(nvme_parse_error_name(st.error), "unknown") != 0);
	if (!ok)
		return;
	bool sn = check_string(id.sn, sizeof(id.sn), page + NVME_IDC_SN, NVME_IDC_SN_LEN);
	bool mn = check_string(id.mn, sizeof(id.mn), page + NVME_IDC_MN, NVME_IDC_MN_LEN);
	bool fr = check_string(id.fr, sizeof(id.fr), page + NVME_IDC_FR, NVME_IDC_FR_LEN);
	FUZZ_CHECK(id.strings_ascii == (sn && mn && fr));
	size_t nqn = strlen(id.subnqn);
	FUZZ_CHECK(fuzz_terminated(id.subnqn, sizeof(id.subnqn)) && nqn <= NVME_IDC_SUBNQN_LEN);
	FUZZ_CHECK(memcmp(id.subnqn, page + NVME_IDC_SUBNQN, nqn) == 0);
	FUZZ_CHECK(nqn == NVME_IDC_SUBNQN_LEN || page[NVME_IDC_SUBNQN + nqn] == 0);
	FUZZ_CHECK(id.sqes_min <= NVME_SQE_SIZE_LOG2 && NVME_SQE_SIZE_LOG2 <= id.sqes_max);
	FUZZ_CHECK(id.cqes_min <= NVME_CQE_SIZE_LOG2 && NVME_CQE_SIZE_LOG2 <= id.cqes_max);
	FUZZ_CHECK(id.mdts == page[NVME_IDC_MDTS]);
	/* MDTS is accepted only when 2^MDTS 4 KiB pages fit 64 bits. */
	FUZZ_CHECK(id.mdts == 0 || nvme_mdts_bytes(id.mdts, 4096) != UINT64_MAX);
	FUZZ_CHECK(id.nn == fuzz_le32(page + NVME_IDC_NN));
	derive(&id, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *page = fuzz_dup(data, size);
	/* Bytes past the page choose the caller's buffer size for derived names. */
	size_t cap = size > NVME_IDENTIFY_DATA_SIZE ? data[NVME_IDENTIFY_DATA_SIZE] % 40
						  : AWS_EBS_VOLUME_ID_MAX;

	if (size < NVME_IDENTIFY_DATA_SIZE) {
		struct nvme_id_ctrl_info id;
		struct nvme_parse_status st;

		FUZZ_CHECK(!nvme_parse_id_ctrl(page, size, &id, &st));
		FUZZ_CHECK(st.error == NVME_PARSE_TRUNCATED);
		uint8_t *padded = calloc(1, NVME_IDENTIFY_DATA_SIZE);
		if (!padded)
			abort();
		if (size)
			memcpy(padded, data, size);
		parse_page(padded, cap);
		free(padded);
	} else {
		parse_page(page, cap);
	}
	free(page);
	return 0;
}
