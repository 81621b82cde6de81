/* The console: where stdout (and so every proof line) goes. */
#ifndef PROOFBOOT_CONSOLE_H
#define PROOFBOOT_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *buf, size_t len);

#endif
