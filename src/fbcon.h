/*
 * Framebuffer console, the screen under UEFI boots: draws 8x16 glyphs from
 * src/font8x16.c into the linear framebuffer GRUB hands over (multiboot2
 * framebuffer tag, direct RGB colour).  Text is white on black (all pixel
 * bits set or clear), which needs no knowledge of the colour layout.
 */
#ifndef PROOFBOOT_FBCON_H
#define PROOFBOOT_FBCON_H

#include "mb2.h"

#include <stdbool.h>

/* framebuffer_type of the multiboot2 framebuffer tag (spec 3.6.12). */
#define MB2_FB_TYPE_INDEXED 0
#define MB2_FB_TYPE_RGB 1
#define MB2_FB_TYPE_EGA_TEXT 2

/*
 * Validates and maps the framebuffer and clears it.  Returns NULL when it is
 * usable, else why not (a proof-line reason, e.g. "framebuffer-bpp-unsupported").
 */
const char *fbcon_init(const struct mb2_framebuffer *fb);
/* Character cells that fit the framebuffer (valid after fbcon_init succeeded). */
unsigned fbcon_cols(void);
unsigned fbcon_rows(void);
/* Inverse: black text on white (the status row). */
void fbcon_draw(unsigned col, unsigned row, char c, bool inverse);

#endif
