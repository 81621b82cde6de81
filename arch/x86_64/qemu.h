/* QEMU-only conveniences, each detected before use (never assumed). */
#ifndef PROOFBOOT_QEMU_H
#define PROOFBOOT_QEMU_H

#include <stdbool.h>
#include <stddef.h>

/* fw_cfg is present (its signature reads "QEMU"). */
bool fw_cfg_present(void);
/*
 * Reads fw_cfg file `name` into buf (NUL-terminated, at most cap-1 bytes).
 * Returns its full size, or -1 when there is no such file.
 */
long fw_cfg_read_file(const char *name, char *buf, size_t cap);

/* isa-debug-exit: QEMU exits with status (code << 1) | 1.  No-op elsewhere. */
void qemu_debug_exit(unsigned code);

#endif
