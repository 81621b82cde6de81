/*
 * Fake physical memory for ACPI/DMAR tests: a list of byte regions, each at
 * a physical address.  The captured tables in tests/unit/data (.inc files, real
 * QEMU boots) are such lists.  A map request must fall wholly inside one
 * region, so a parser that reads past a table's end gets NULL (and ASan
 * catches any direct overrun of the arrays).
 */
#ifndef PROOFBOOT_TEST_ACPI_FIXTURE_H
#define PROOFBOOT_TEST_ACPI_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct acpi_fixture_table {
	uint64_t addr;
	const uint8_t *bytes;
	size_t len;
};

#define FAKE_MEM_MAX_REGIONS 32

struct fake_mem {
	struct acpi_fixture_table regions[FAKE_MEM_MAX_REGIONS];
	size_t count;
	unsigned map_calls;
	size_t largest_request;
};

static inline void fake_mem_add(struct fake_mem *m, uint64_t addr, const void *bytes, size_t len)
{
	if (m->count < FAKE_MEM_MAX_REGIONS)
		m->regions[m->count++] = (struct acpi_fixture_table){ addr, bytes, len };
}

static inline void fake_mem_add_all(struct fake_mem *m, const struct acpi_fixture_table *t,
				    size_t n)
{
	for (size_t i = 0; i < n; i++)
		fake_mem_add(m, t[i].addr, t[i].bytes, t[i].len);
}

static inline const void *fake_mem_map(void *ctx, uint64_t phys, size_t len)
{
	struct fake_mem *m = ctx;

	m->map_calls++;
	if (len > m->largest_request)
		m->largest_request = len;
	for (size_t i = 0; i < m->count; i++) {
		const struct acpi_fixture_table *r = &m->regions[i];

		if (phys >= r->addr && phys - r->addr <= r->len && len <= r->len - (phys - r->addr))
			return r->bytes + (phys - r->addr);
	}
	return NULL;
}

/* Finds a captured table by signature (NULL if absent). */
static inline const struct acpi_fixture_table *
fixture_find(const struct acpi_fixture_table *t, size_t n, const char *sig)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].len >= 4 && memcmp(t[i].bytes, sig, 4) == 0)
			return &t[i];
	return NULL;
}

/* Makes a byte buffer's checksum byte (at off) bring the sum of len bytes to zero. */
static inline void fixture_fix_checksum(uint8_t *buf, size_t len, size_t off)
{
	uint8_t sum = 0;

	buf[off] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + buf[i]);
	buf[off] = (uint8_t)(0x100 - sum);
}

#include "data/qemu72-q35-iommu-aw39.inc"
#include "data/qemu72-q35-iommu-aw48-rootport.inc"
#include "data/qemu72-q35-iommu-aw48-ovmf.inc"

#define FIXTURE_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

#endif
