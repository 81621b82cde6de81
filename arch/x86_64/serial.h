#ifndef PROOFBOOT_SERIAL_H
#define PROOFBOOT_SERIAL_H

#include <stddef.h>

/* COM1, 16550-compatible, 115200 8N1. */
void serial_init(void);
void serial_write(const char *buf, size_t len);

#endif
