/* ACPI RSDP/RSDT/XSDT/MCFG parsing; see acpi.h. */
#include "acpi.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "le.h"

const char *acpi_status_str(enum acpi_status status)
{
	switch (status) {
	case ACPI_OK: return "ok";
	case ACPI_ERR_TRUNCATED: return "truncated";
	case ACPI_ERR_SIGNATURE: return "signature";
	case ACPI_ERR_CHECKSUM: return "checksum";
	case ACPI_ERR_LENGTH: return "length";
	case ACPI_ERR_NULL_ADDR: return "null-address";
	case ACPI_ERR_UNMAPPED: return "unmapped";
	case ACPI_ERR_NOT_FOUND: return "not-found";
	case ACPI_ERR_VALUE: return "value";
	}
	return "unknown";
}

bool acpi_checksum_ok(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* Copies a fixed-width, possibly unterminated, ID field as a C string. */
static void copy_id(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

enum acpi_status acpi_rsdp_parse(const void *buf, size_t len, struct acpi_rsdp *out)
{
	const uint8_t *p = buf;

	memset(out, 0, sizeof(*out));
	if (len < ACPI_RSDP_V1_LEN)
		return ACPI_ERR_TRUNCATED;
	if (memcmp(p, ACPI_RSDP_SIGNATURE, ACPI_RSDP_SIGNATURE_LEN) != 0)
		return ACPI_ERR_SIGNATURE;
	out->revision = p[ACPI_RSDP_OFF_REVISION];
	copy_id(out->oem_id, p + ACPI_RSDP_OFF_OEM_ID, ACPI_OEM_ID_LEN);
	out->rsdt_addr = le_get32(p + ACPI_RSDP_OFF_RSDT);
	out->length = ACPI_RSDP_V1_LEN;
	if (!acpi_checksum_ok(p, ACPI_RSDP_V1_LEN))
		return ACPI_ERR_CHECKSUM;
	if (out->revision < ACPI_RSDP_FIRST_V2_REVISION)
		return ACPI_OK;

	if (len < ACPI_RSDP_V2_LEN)
		return ACPI_ERR_TRUNCATED;
	uint32_t length = le_get32(p + ACPI_RSDP_OFF_LENGTH);

	if (length < ACPI_RSDP_V2_LEN)
		return ACPI_ERR_LENGTH;
	if (length > len)
		return ACPI_ERR_TRUNCATED;
	out->length = length;
	out->xsdt_addr = le_get64(p + ACPI_RSDP_OFF_XSDT);
	return acpi_checksum_ok(p, length) ? ACPI_OK : ACPI_ERR_CHECKSUM;
}

enum acpi_status acpi_header_parse(const void *buf, size_t len, struct acpi_header *out)
{
	const uint8_t *p = buf;

	memset(out, 0, sizeof(*out));
	if (len < ACPI_HEADER_LEN)
		return ACPI_ERR_TRUNCATED;
	copy_id(out->sig, p, ACPI_SIG_LEN);
	out->length = le_get32(p + ACPI_HDR_OFF_LENGTH);
	out->revision = p[ACPI_HDR_OFF_REVISION];
	copy_id(out->oem_id, p + ACPI_HDR_OFF_OEM_ID, ACPI_OEM_ID_LEN);
	copy_id(out->oem_table_id, p + ACPI_HDR_OFF_OEM_TABLE_ID, ACPI_OEM_TABLE_ID_LEN);
	return ACPI_OK;
}

enum acpi_status acpi_table_check(const void *buf, size_t len, struct acpi_header *out)
{
	enum acpi_status status = acpi_header_parse(buf, len, out);

	if (status != ACPI_OK)
		return status;
	if (out->length < ACPI_HEADER_LEN)
		return ACPI_ERR_LENGTH;
	if (out->length > len)
		return ACPI_ERR_TRUNCATED;
	return acpi_checksum_ok(buf, out->length) ? ACPI_OK : ACPI_ERR_CHECKSUM;
}

enum acpi_status acpi_table_open_as(const void *buf, size_t len, const char sig[ACPI_SIG_LEN],
				    uint32_t min_len, struct acpi_header *out, char *why, size_t cap)
{
	enum acpi_status status = acpi_table_check(buf, len, out);

	if (status != ACPI_OK) {
		snprintf(why, cap, "ACPI header check failed: %s", acpi_status_str(status));
		return status;
	}
	if (memcmp(out->sig, sig, ACPI_SIG_LEN) != 0) {
		snprintf(why, cap, "signature is not %.4s", sig);
		return ACPI_ERR_SIGNATURE;
	}
	if (out->length < min_len) {
		snprintf(why, cap, "length %" PRIu32 " < %" PRIu32, out->length, min_len);
		return ACPI_ERR_LENGTH;
	}
	return ACPI_OK;
}

/*
 * Maps a table in two steps, header first, so that only the length the
 * header claims is ever requested, and only if it is within the bound.
 */
static enum acpi_status map_table(acpi_map_fn map, void *ctx, uint32_t max_len,
				  uint64_t addr, struct acpi_table_ref *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	if (addr == 0)
		return out->status = ACPI_ERR_NULL_ADDR;
	const void *head = map(ctx, addr, ACPI_HEADER_LEN);

	if (!head)
		return out->status = ACPI_ERR_UNMAPPED;
	acpi_header_parse(head, ACPI_HEADER_LEN, &out->header);
	uint32_t length = out->header.length;

	if (length < ACPI_HEADER_LEN || length > max_len || addr + length < addr)
		return out->status = ACPI_ERR_LENGTH;
	const void *whole = map(ctx, addr, length);

	if (!whole)
		return out->status = ACPI_ERR_UNMAPPED;
	out->table = whole;
	out->status = acpi_table_check(whole, length, &out->header);
	return out->status;
}

/* Accepts a mapped root table if it is valid and carries the expected signature. */
static enum acpi_status use_root(struct acpi_tables *t, uint64_t addr, const char *sig,
				 unsigned entry_size)
{
	struct acpi_table_ref ref;
	enum acpi_status status = map_table(t->map, t->map_ctx, t->max_len, addr, &ref);

	if (status != ACPI_OK)
		return status;
	if (memcmp(ref.header.sig, sig, ACPI_SIG_LEN) != 0)
		return ACPI_ERR_SIGNATURE;
	if ((ref.header.length - ACPI_HEADER_LEN) % entry_size != 0)
		return ACPI_ERR_LENGTH;
	t->root_addr = addr;
	t->root = ref.table;
	t->root_len = ref.header.length;
	t->entry_size = entry_size;
	t->entry_count = (ref.header.length - ACPI_HEADER_LEN) / entry_size;
	return ACPI_OK;
}

enum acpi_status acpi_tables_open(struct acpi_tables *t, const void *rsdp, size_t rsdp_len,
				  acpi_map_fn map, void *map_ctx, uint32_t max_len)
{
	memset(t, 0, sizeof(*t));
	t->map = map;
	t->map_ctx = map_ctx;
	t->max_len = max_len;
	enum acpi_status status = acpi_rsdp_parse(rsdp, rsdp_len, &t->rsdp);

	if (status != ACPI_OK)
		return status;
	t->rsdp_valid = true;
	if (t->rsdp.xsdt_addr != 0) {
		status = use_root(t, t->rsdp.xsdt_addr, "XSDT", ACPI_XSDT_ENTRY_SIZE);
		if (status == ACPI_OK)
			return ACPI_OK;
		/* A broken XSDT with a good RSDT beside it still leaves the tables usable. */
		t->xsdt_fallback = true;
		t->xsdt_status = status;
	}
	return use_root(t, t->rsdp.rsdt_addr, "RSDT", ACPI_RSDT_ENTRY_SIZE);
}

enum acpi_status acpi_tables_map(const struct acpi_tables *t, uint64_t addr,
				 struct acpi_table_ref *out)
{
	return map_table(t->map, t->map_ctx, t->max_len, addr, out);
}

enum acpi_status acpi_tables_entry(const struct acpi_tables *t, unsigned index,
				   struct acpi_table_ref *out)
{
	if (!t->root || index >= t->entry_count) {
		memset(out, 0, sizeof(*out));
		return out->status = ACPI_ERR_NOT_FOUND;
	}
	const uint8_t *slot = t->root + ACPI_HEADER_LEN + (size_t)index * t->entry_size;
	uint64_t addr = t->entry_size == ACPI_XSDT_ENTRY_SIZE ? le_get64(slot) : le_get32(slot);

	return map_table(t->map, t->map_ctx, t->max_len, addr, out);
}

/* Whether the entry's header was read, so its signature means something. */
static bool header_was_read(const struct acpi_table_ref *ref)
{
	return ref->header.sig[0] != '\0' && ref->status != ACPI_ERR_NULL_ADDR &&
	       ref->status != ACPI_ERR_UNMAPPED;
}

enum acpi_status acpi_tables_find(const struct acpi_tables *t, const char sig[ACPI_SIG_LEN],
				  unsigned index, struct acpi_table_ref *out)
{
	unsigned seen = 0;

	for (unsigned i = 0; i < t->entry_count; i++) {
		acpi_tables_entry(t, i, out);
		if (!header_was_read(out) || memcmp(out->header.sig, sig, ACPI_SIG_LEN) != 0)
			continue;
		if (seen++ == index)
			return out->status;
	}
	memset(out, 0, sizeof(*out));
	return out->status = ACPI_ERR_NOT_FOUND;
}

enum acpi_status acpi_mcfg_count(const void *mcfg, size_t len, unsigned *count)
{
	struct acpi_header header;
	enum acpi_status status = acpi_header_parse(mcfg, len, &header);

	*count = 0;
	if (status != ACPI_OK)
		return status;
	if (memcmp(header.sig, "MCFG", ACPI_SIG_LEN) != 0)
		return ACPI_ERR_SIGNATURE;
	if (header.length < ACPI_MCFG_ENTRIES_OFF ||
	    (header.length - ACPI_MCFG_ENTRIES_OFF) % ACPI_MCFG_ENTRY_LEN != 0)
		return ACPI_ERR_LENGTH;
	if (header.length > len)
		return ACPI_ERR_TRUNCATED;
	*count = (header.length - ACPI_MCFG_ENTRIES_OFF) / ACPI_MCFG_ENTRY_LEN;
	return ACPI_OK;
}

enum acpi_status acpi_mcfg_get(const void *mcfg, size_t len, unsigned index,
			       struct acpi_mcfg_entry *out)
{
	unsigned count;
	enum acpi_status status = acpi_mcfg_count(mcfg, len, &count);

	memset(out, 0, sizeof(*out));
	if (status != ACPI_OK)
		return status;
	if (index >= count)
		return ACPI_ERR_NOT_FOUND;
	const uint8_t *e = (const uint8_t *)mcfg + ACPI_MCFG_ENTRIES_OFF +
			   (size_t)index * ACPI_MCFG_ENTRY_LEN;

	out->base = le_get64(e + ACPI_MCFG_OFF_BASE);
	out->segment = le_get16(e + ACPI_MCFG_OFF_SEGMENT);
	out->bus_start = e[ACPI_MCFG_OFF_BUS_START];
	out->bus_end = e[ACPI_MCFG_OFF_BUS_END];
	if (out->base == 0 || out->bus_end < out->bus_start)
		return ACPI_ERR_VALUE;
	return ACPI_OK;
}
