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

#include <stdbool.h>
#include <stddef.h>

/* The serial port; the screen waits for console_start_screen(). */
void console_init(void);
void console_write(const char *buf, size_t len);

/*
 * For the runner's watchdog, which ends a hung test by unwinding out of an
 * interrupt: whether a console_write is in progress (unwinding then would
 * cut a line in two), and, after unwinding, ending a line the test left
 * unfinished so the next proof line starts on a line of its own.
 */
bool console_busy(void);
void console_end_line(void);

/*
 * From the runner's periodic tick (interrupts off): draws a screen redraw
 * the frame rate limit held back, so a quiet test never leaves its last
 * lines undrawn.
 */
void console_tick(void);

/*
 * Draws a redraw the frame rate limit held back, now.  For code about to
 * time something (the benchmark's points): the held-back redraw would
 * otherwise land on the next tick, inside the measurement.
 */
void console_flush(void);

/*
 * Starts the screen console from the boot information (NULL when the loader's
 * information is not trusted) and prints `console: screen ...`.  Needs the
 * heap and the proof sink.  The last screen row, when there is room, shows
 * the verdict line once printed, so it stays visible.
 */
void console_start_screen(const struct mb2_info *info);

#endif
