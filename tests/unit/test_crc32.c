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
