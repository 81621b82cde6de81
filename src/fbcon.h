/*
 * Framebuffer console, the screen under UEFI boots: draws 8x16 glyphs from
 * src/font8x16.c into the linear framebuffer GRUB hands over (multiboot2
 * framebuffer tag, direct RGB colour).  Text is drawn in the cell's colour
 * (screen_text.h attributes) when the tag gave the RGB field layout, else
 * white on black (all pixel bits set or clear, right in any layout).
 */
#ifndef PROOFBOOT_FBCON_H
#define PROOFBOOT_FBCON_H

#include "mb2.h"

#include <stdbool.h>

/*
 * Validates and maps the framebuffer and clears it.  Returns NULL when it is
 * usable, else why not (a proof-line reason, e.g. "framebuffer-bpp-unsupported").
 */
const char *fbcon_init(const struct mb2_framebuffer *fb);
/* Character cells that fit the framebuffer (valid after fbcon_init succeeded). */
unsigned fbcon_cols(void);
unsigned fbcon_rows(void);
/* attr: a screen_text.h attribute; status: the status row (the colour is the background). */
void fbcon_draw(unsigned col, unsigned row, char c, unsigned char attr, bool status);

#endif
