/*
 * The screen console's character grid: what the screen should show, kept
 * apart from how it is drawn (VGA text cells or framebuffer glyphs).  Text
 * wraps at the right edge and scrolls at the bottom; a screen backend
 * redraws only the cells reported dirty.
 *
 * Optionally the last screen row is a status row that is not scrolled: any
 * completed line starting with a chosen prefix (the verdict) is pinned
 * there, so it stays visible whatever is printed after it.
 *
 * Portable: compiles in the firmware and on the host (unit tests).
 */
#ifndef PROOFBOOT_TEXTGRID_H
#define PROOFBOOT_TEXTGRID_H

#include <stdbool.h>
#include <stddef.h>

#define TEXTGRID_TAB_WIDTH 8
/* Shown for bytes that are not printable ASCII (the font has nothing else). */
#define TEXTGRID_REPLACEMENT '?'

struct textgrid {
	char *cells;          /* row-major; scrolling rows, then the status row if any */
	unsigned cols;
	unsigned rows;        /* scrolling rows (the status row is not counted) */
	unsigned col, row;    /* where the next character goes */
	unsigned scroll_rows; /* rows scrolled at once when text runs off the bottom */
	bool has_status;
	const char *pin_prefix;
	char *line;           /* the first `cols` characters of the current line */
	unsigned line_len;
	size_t dirty_first, dirty_end; /* cells changed since the last take; empty when equal */
	unsigned char *attrs; /* optional: one attribute (colour) per cell, NULL = none */
	unsigned char attr;   /* given to the characters written from now on */
	unsigned char status_attr;
};

/* Bytes of `cells` storage textgrid_init needs for a screen of cols x screen_rows. */
size_t textgrid_cells_size(unsigned cols, unsigned screen_rows);

/*
 * Sets up an empty (all spaces, all dirty) grid of cols x screen_rows cells.
 * With pin_prefix non-NULL and at least two rows, the last row is the status
 * row and `line` (cols bytes) tracks the current line; otherwise `line` may
 * be NULL.  scroll_rows is clamped to 1..scrolling rows.  Returns false when
 * the screen is too small (no columns or no scrolling row).
 */
bool textgrid_init(struct textgrid *g, char *cells, char *line, unsigned cols,
		   unsigned screen_rows, unsigned scroll_rows, const char *pin_prefix);

/*
 * Gives the grid per-cell attributes (storage of textgrid_cells_size bytes,
 * set to 0 and all dirty): characters take the current attribute, the
 * status row the status attribute.  Attribute 0 is the plain default.
 */
void textgrid_use_attrs(struct textgrid *g, unsigned char *attrs);
void textgrid_set_attr(struct textgrid *g, unsigned char attr);
/* Takes effect at the next textgrid_set_status (or pinned line). */
void textgrid_set_status_attr(struct textgrid *g, unsigned char attr);
/* The attribute at (col, row); 0 without attribute storage. */
unsigned char textgrid_attr_at(const struct textgrid *g, unsigned col, unsigned row);

/* Appends text: printable ASCII, '\n', '\r', '\t', '\b'; anything else is shown as TEXTGRID_REPLACEMENT. */
void textgrid_write(struct textgrid *g, const char *buf, size_t len);

/* Replaces the status row's text (cut at the width, padded with spaces); no-op without a status row. */
void textgrid_set_status(struct textgrid *g, const char *text, size_t len);

/* The character at (col, row); row == g->rows is the status row. */
char textgrid_at(const struct textgrid *g, unsigned col, unsigned row);

/* Hands out the range of cell indices changed since the last call and clears it; false when none. */
bool textgrid_take_dirty(struct textgrid *g, size_t *first, size_t *end);

#endif
