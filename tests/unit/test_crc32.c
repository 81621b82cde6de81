/* Host tests for src/lib/crc32.c against zlib's published and computed values. */
#include "unit.h"
#include "crc32.h"

UNIT_TEST(crc32_check_value)
{
	/* The CRC-32 "check" value from the catalogue of parametrised CRCs. */
	CHECK_EQ(crc32_update(0, "123456789", 9), 0xcbf43926);
	CHECK_EQ(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339);
	CHECK_EQ(crc32_update(0, "", 0), 0);
}

UNIT_TEST(crc32_matches_zlib_on_blocks)
{
	static uint8_t buf[4096];

	/* Values from Python's zlib.crc32. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(crc32_update(0, buf, sizeof(buf)), 0xc71c0011);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(crc32_update(0, buf, sizeof(buf)), 0xa2912082);
}

UNIT_TEST(crc32_is_incremental)
{
	static uint8_t buf[4096];
	uint32_t whole, parts = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = crc32_update(0, buf, sizeof(buf));
	/* Uneven pieces, including an empty one, give the same result. */
	parts = crc32_update(parts, buf, 1);
	parts = crc32_update(parts, buf + 1, 0);
	parts = crc32_update(parts, buf + 1, 511);
	parts = crc32_update(parts, buf + 512, sizeof(buf) - 512);
	CHECK_EQ(parts, whole);
	CHECK_EQ(crc32_update(crc32_update(0, "1234", 4), "56789", 5), 0xcbf43926);
}

/* The bit-at-a-time definition, independent of the tables. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return crc ^ 0xffffffffu;
}

UNIT_TEST(crc32_every_length_and_alignment_matches_the_definition)
{
	static uint8_t buf[96];
	uint32_t x = 0x12345678u;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	/* Every start offset modulo 8 and every tail length of the 8-byte slices. */
	for (size_t start = 0; start < 9; start++)
		for (size_t len = 0; start + len <= sizeof(buf); len++)
			CHECK_EQ(crc32_update(0, buf + start, len), crc32_bitwise(buf + start, len));
}
