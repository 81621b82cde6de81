/*
 * Active Namespace ID list (nvme_parse_nsid_list, src/lib/nvme_cmd.c).
 * Input: start NSID (u32 LE), the caller's array capacity (u16 LE, taken
 * modulo 1100), then the returned page (normally 4096 bytes).  The NSID
 * array is an exactly-sized heap block.
 *
 * Invariants: never more than the capacity or 1024 entries; entries are
 * the page's own values, strictly ascending, above the start NSID, never 0
 * or the broadcast NSID; "more" only when the array or the page was full;
 * a list that is not "more" ended at a 0 entry.
 */
#include "fuzz.h"

#include "nvme_cmd.h"

#define HEADER_LEN 6
#define CAP_MODULO 1100u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_LEN)
		return 0;
	uint32_t start = fuzz_le32(data);
	size_t cap = (size_t)(data[4] | data[5] << 8) % CAP_MODULO;
	size_t len = size - HEADER_LEN;
	uint8_t *page = fuzz_dup(data + HEADER_LEN, len);
	uint32_t *nsids = (uint32_t *)fuzz_alloc(cap * sizeof(uint32_t));
	size_t count = 12345;
	bool more = true;
	struct nvme_parse_status st;
	bool ok = nvme_parse_nsid_list(page, len, start, nsids, cap, &count, &more, &st);

	FUZZ_CHECK(fuzz_terminated(st.reason, sizeof(st.reason)));
	FUZZ_CHECK(ok == (st.error == NVME_PARSE_OK) && ok == (st.reason[0] == '\0'));
	FUZZ_CHECK(count <= cap && count <= NVME_NSID_LIST_MAX);
	if (len < NVME_IDENTIFY_DATA_SIZE) {
		FUZZ_CHECK(!ok && st.error == NVME_PARSE_TRUNCATED && count == 0 && !more);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		FUZZ_CHECK(nsids[i] == fuzz_le32(page + 4 * i));
		FUZZ_CHECK(nsids[i] > start && nsids[i] != 0 && nsids[i] != NVME_NSID_BROADCAST);
		FUZZ_CHECK(i == 0 || nsids[i] > nsids[i - 1]);
	}
	if (!ok) {
		FUZZ_CHECK(!more);
		FUZZ_CHECK(st.error == NVME_PARSE_NSID_ORDER || st.error == NVME_PARSE_NSID_INVALID);
		/* The entry after the valid prefix is the offending one. */
		FUZZ_CHECK(count < NVME_NSID_LIST_MAX);
		uint32_t bad = fuzz_le32(page + 4 * count);
		FUZZ_CHECK(bad != 0);
		FUZZ_CHECK(bad == NVME_NSID_BROADCAST || bad <= start ||
			   (count > 0 && bad <= nsids[count - 1]));
	} else if (more) {
		FUZZ_CHECK(count == cap || count == NVME_NSID_LIST_MAX);
	} else {
		FUZZ_CHECK(count < NVME_NSID_LIST_MAX && fuzz_le32(page + 4 * count) == 0);
	}
out:
	free(nsids);
	free(page);
	return 0;
}
