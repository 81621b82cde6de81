/* Time unit conversions, one definition for firmware, arch code and host-tested logic. */
#ifndef PROOFBOOT_TIME_UNITS_H
#define PROOFBOOT_TIME_UNITS_H

#include <stdint.h>

#define US_PER_MS UINT64_C(1000)
#define US_PER_S  UINT64_C(1000000)

#endif
