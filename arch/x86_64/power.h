/* Ending the run: QEMU exit code, halt, reset or power-off. */
#ifndef PROOFBOOT_POWER_H
#define PROOFBOOT_POWER_H

#include "options.h"

/* Never returns. `qemu_code` goes to isa-debug-exit when `end` is auto. */
void platform_end(enum end_action end, unsigned qemu_code) __attribute__((noreturn));

#endif
