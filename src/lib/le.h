/*
 * Little-endian field readers for firmware tables (ACPI, DMAR).  Tables are
 * byte-packed and fields are often unaligned, so read through memcpy rather
 * than casting pointers.
 */
#ifndef PROOFBOOT_LE_H
#define PROOFBOOT_LE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t le_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t le_get64(const uint8_t *p)
{
	return (uint64_t)le_get32(p) | ((uint64_t)le_get32(p + 4) << 32);
}

#endif
