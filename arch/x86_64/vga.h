/*
 * VGA text mode, the screen under BIOS boots: 16-bit cells (character in the
 * low byte, colour attribute in the high byte), row-major, plus the CRT
 * controller's hardware cursor.
 */
#ifndef PROOFBOOT_VGA_H
#define PROOFBOOT_VGA_H

#include <stdbool.h>
#include <stdint.h>

/* The colour text mode BIOS and GRUB leave behind when nothing else is said. */
#define VGA_TEXT_DEFAULT_ADDR 0xb8000
#define VGA_TEXT_DEFAULT_COLS 80
#define VGA_TEXT_DEFAULT_ROWS 25
#define VGA_TEXT_CELL_BYTES 2

/* Cells start at `addr` (identity mapped), one row every `pitch` bytes, `cols` wide. */
void vga_text_init(uint64_t addr, uint32_t pitch, unsigned cols);
/* screen_attr: a screen_text.h attribute; status: the status row (colour as background). */
void vga_text_draw(unsigned col, unsigned row, char c, unsigned char screen_attr, bool status);
void vga_text_cursor(unsigned col, unsigned row);

#endif
