/*
 * Completion status decoding (src/lib/nvme_cmd.c) of the CQE status word
 * a controller writes.  The input space is only 2^16 words, so the first
 * call also checks every one of them exhaustively; each input is then
 * checked on its own.
 *
 * Invariants: the fields are the documented bit ranges; names are
 * non-empty proof-line values (lower-case letters, digits, '-'); the
 * status-code-type name is one of the six; a specific name belongs to
 * exactly one code.
 */
#include "fuzz.h"

#include "nvme_cmd.h"

#define STATUS_CODES 0x800u /* SCT:SC */

static bool is_value_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static bool is_generic_name(const char *name)
{
	return strncmp(name, "unknown-", 8) == 0 || strcmp(name, "vendor-specific-status") == 0 ||
	       strcmp(name, "reserved-status-code-type") == 0;
}

static void check_word(uint16_t word)
{
	uint16_t field = nvme_cqe_status_field(word);
	struct nvme_status_info s;
	static const char *const scts[] = { "generic", "command-specific", "media-error",
					    "path-related", "vendor-specific", "reserved" };

	nvme_status_decode(field, &s);
	FUZZ_CHECK(field == word >> 1);
	FUZZ_CHECK(s.code == (field & 0x7ff) && s.code == nvme_status_code(field));
	FUZZ_CHECK(s.sc == (field & 0xff) && s.sct == ((field >> 8) & 7));
	FUZZ_CHECK(s.crd == ((field >> 11) & 3));
	FUZZ_CHECK(s.more == ((field >> 13) & 1) && s.dnr == ((field >> 14) & 1));
	FUZZ_CHECK(is_value_word(s.name) && is_value_word(s.sct_name));
	FUZZ_CHECK(strcmp(s.name, nvme_status_name(field)) == 0);
	FUZZ_CHECK(strcmp(s.sct_name, nvme_sct_name(s.sct)) == 0);
	bool listed = false;
	for (size_t i = 0; i < sizeof(scts) / sizeof(scts[0]); i++)
		listed = listed || strcmp(s.sct_name, scts[i]) == 0;
	FUZZ_CHECK(listed);
	/* Only the code (not CRD/More/DNR) chooses the name. */
	FUZZ_CHECK(strcmp(s.name, nvme_status_name(s.code)) == 0);
}

static void check_all_once(void)
{
	static bool done;
	static const char *names[STATUS_CODES];

	if (done)
		return;
	done = true;
	for (uint32_t w = 0; w <= 0xffff; w++)
		check_word((uint16_t)w);
	for (unsigned code = 0; code < STATUS_CODES; code++) {
		names[code] = nvme_status_name((uint16_t)code);
		if (is_generic_name(names[code]))
			continue;
		for (unsigned other = 0; other < code; other++)
			FUZZ_CHECK(strcmp(names[other], names[code]) != 0);
	}
	FUZZ_CHECK(strcmp(nvme_status_name(0), "successful-completion") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_all_once();
	if (size < 2)
		return 0;
	check_word((uint16_t)(data[0] | data[1] << 8));
	return 0;
}
