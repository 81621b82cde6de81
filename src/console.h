/*
 * The console: where stdout (and so every proof line) goes.  Everything is
 * written to the COM1 serial port and mirrored on the screen once the
 * screen console has started (VGA text mode under BIOS, the GRUB-provided
 * framebuffer under UEFI).  Output written before that is kept and replayed
 * on the screen, so the screen shows the whole run.
 */
#ifndef PROOFBOOT_CONSOLE_H
#define PROOFBOOT_CONSOLE_H

#include "mb2.h"

#include <stddef.h>

/* The serial port; the screen waits for console_start_screen(). */
void console_init(void);
void console_write(const char *buf, size_t len);

/*
 * Starts the screen console from the boot information (NULL when the loader's
 * information is not trusted) and prints `console: screen ...`.  Needs the
 * heap and the proof sink.  The last screen row, when there is room, shows
 * the verdict line once printed, so it stays visible.
 */
void console_start_screen(const struct mb2_info *info);

#endif
