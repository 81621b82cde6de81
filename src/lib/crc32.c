/* zlib-compatible CRC-32; see crc32.h. */
#include "crc32.h"

#include <stdbool.h>

#define CRC32_POLY_REFLECTED 0xedb88320u
#define CRC32_XOR            0xffffffffu
#define CRC32_TABLE_SIZE     256

static uint32_t crc_table[CRC32_TABLE_SIZE];
static bool crc_table_ready;

/* Built on first use rather than spelled out: 256 literals would hide the polynomial. */
static void build_table(void)
{
	for (uint32_t n = 0; n < CRC32_TABLE_SIZE; n++) {
		uint32_t c = n;

		for (int bit = 0; bit < 8; bit++)
			c = (c & 1) ? CRC32_POLY_REFLECTED ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
	crc_table_ready = true;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!crc_table_ready)
		build_table();
	crc ^= CRC32_XOR;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ CRC32_XOR;
}
