/* The MMIO access counter (see mmio.h). */
#include "mmio.h"

uint64_t mmio_access_count;
