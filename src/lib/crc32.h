/*
 * CRC-32 as zlib computes it (IEEE 802.3 polynomial, reflected, initial and
 * final XOR with 0xffffffff), so host tools can check firmware values with
 * Python's zlib.crc32().
 */
#ifndef PROOFBOOT_CRC32_H
#define PROOFBOOT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * Incremental, like zlib's crc32(): start with crc = 0 and feed the result
 * of one call into the next; crc32_update(crc32_update(0, a), b) equals the
 * CRC of a followed by b.
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
