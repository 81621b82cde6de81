/*
 * Multiboot2 boot information (src/lib/mb2.c), as GRUB hands it over.
 * The parser gets an exactly-sized copy, so any read past the bytes it
 * was given is an AddressSanitizer report.  Invariants: counts within
 * their arrays, strings terminated inside their buffers, everything copied
 * out (regions, RSDP, strings) really present in the input, success only
 * with a consistent total size; then the firmware's next steps (options
 * from the command line, RSDP validation) run on the result.
 */
#include "fuzz.h"

#include "acpi.h"
#include "mb2.h"
#include "options.h"

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
	if (k == 0)
		return true;
	for (size_t i = 0; i + k <= n; i++)
		if (hay[i] == *(const uint8_t *)needle && memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

static bool region_in_input(const uint8_t *data, size_t size, const struct mb2_region *r)
{
	uint8_t entry[20];

	memcpy(entry, &r->base, 8);
	memcpy(entry + 8, &r->length, 8);
	memcpy(entry + 16, &r->type, 4);
	return contains(data, size, entry, sizeof(entry));
}

/*
 * Reference count of memory-map entries (spec 3.6.8): each usable mmap tag
 * holds (size - 16) / entry_size entries, in tags walked until the end tag or
 * the first tag that does not fit; at most MB2_MAX_REGIONS are kept.
 * 64-bit arithmetic, written independently of src/lib/mb2.c.
 */
static unsigned expected_regions(const uint8_t *d, size_t size)
{
	uint64_t n = 0;

	if (size < 8)
		return 0;
	uint64_t total = fuzz_le32(d);
	if (total < 16 || total > size || total > MB2_INFO_MAX_SIZE)
		return 0;
	for (uint64_t at = 8; at + 8 <= total;) {
		uint64_t type = fuzz_le32(d + at), tsize = fuzz_le32(d + at + 4);

		if (tsize < 8 || tsize > total - at || type == MB2_INFO_TAG_END)
			break;
		if (type == MB2_INFO_TAG_MMAP && tsize >= 16) {
			uint64_t entry = fuzz_le32(d + at + 8);
			if (entry >= 24 && entry % 8 == 0)
				n += (tsize - 16) / entry;
		}
		at += (tsize + 7) & ~(uint64_t)7;
	}
	return n > MB2_MAX_REGIONS ? MB2_MAX_REGIONS : (unsigned)n;
}

static void check_info(const uint8_t *data, size_t size, const struct mb2_info *info, bool ok)
{
	FUZZ_CHECK(info->region_count == expected_regions(data, size));
	FUZZ_CHECK(ok == !info->fatal);
	FUZZ_CHECK(info->region_count <= MB2_MAX_REGIONS);
	FUZZ_CHECK(!info->regions_truncated || info->region_count == MB2_MAX_REGIONS);
	FUZZ_CHECK(info->problem_count <= MB2_MAX_PROBLEMS);
	FUZZ_CHECK(!info->fatal || info->problem_count > 0);
	for (unsigned i = 0; i < info->problem_count; i++) {
		const char *reason = info->problems[i].reason;
		FUZZ_CHECK(reason && reason[0] && strchr(reason, ' ') == NULL);
	}
	FUZZ_CHECK(fuzz_terminated(info->cmdline, sizeof(info->cmdline)));
	FUZZ_CHECK(fuzz_terminated(info->bootloader, sizeof(info->bootloader)));
	FUZZ_CHECK(contains(data, size, info->cmdline, strlen(info->cmdline)));
	FUZZ_CHECK(contains(data, size, info->bootloader, strlen(info->bootloader)));
	FUZZ_CHECK(info->rsdp_tag == 0 || info->rsdp_tag == MB2_INFO_TAG_ACPI_OLD ||
		   info->rsdp_tag == MB2_INFO_TAG_ACPI_NEW);
	FUZZ_CHECK(info->rsdp_len <= MB2_RSDP_MAX);
	FUZZ_CHECK((info->rsdp_tag == 0) == (info->rsdp_len == 0));
	FUZZ_CHECK(info->rsdp_tag == 0 || info->rsdp_len >= ACPI_RSDP_V1_LEN);
	FUZZ_CHECK(contains(data, size, info->rsdp, info->rsdp_len));
	for (unsigned i = 0; i < info->region_count; i++)
		FUZZ_CHECK(region_in_input(data, size, &info->regions[i]));
	if (ok) {
		FUZZ_CHECK(info->total_size <= size && info->total_size >= 16);
		FUZZ_CHECK(info->total_size == fuzz_le32(data));
	}
	uint64_t usable = 0;
	for (unsigned i = 0; i < info->region_count; i++)
		if (info->regions[i].type == MB2_MMAP_AVAILABLE)
			usable += info->regions[i].length;
	FUZZ_CHECK(mb2_usable_bytes(info) == usable);
}

/* What kmain does next with the parsed information. */
static void firmware_next_steps(const struct mb2_info *info)
{
	struct options o;
	struct acpi_rsdp rsdp;

	options_defaults(&o);
	options_parse(&o, info->cmdline);
	FUZZ_CHECK(o.timeout_s >= 1 && o.timeout_s <= OPTIONS_TIMEOUT_MAX_S);
	if (info->rsdp_len) {
		uint8_t *copy = fuzz_dup(info->rsdp, info->rsdp_len);
		enum acpi_status st = acpi_rsdp_parse(copy, info->rsdp_len, &rsdp);
		FUZZ_CHECK(st != ACPI_OK || rsdp.length <= info->rsdp_len);
		free(copy);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb2_info *info = malloc(sizeof(*info));
	uint8_t *copy = fuzz_dup(data, size);

	if (!info)
		abort();
	bool ok = mb2_parse(copy, size, info);
	check_info(data, size, info, ok);
	firmware_next_steps(info);
	free(copy);
	free(info);
	return 0;
}
