/* Character grid for the screen console; see textgrid.h. */
#include "textgrid.h"

#include <string.h>

#define ASCII_PRINTABLE_FIRST 0x20
#define ASCII_PRINTABLE_LAST 0x7e

static size_t cell_count(const struct textgrid *g)
{
	return (size_t)g->cols * (g->rows + (g->has_status ? 1 : 0));
}

static void mark_dirty(struct textgrid *g, size_t first, size_t end)
{
	if (g->dirty_first == g->dirty_end) {
		g->dirty_first = first;
		g->dirty_end = end;
		return;
	}
	if (first < g->dirty_first)
		g->dirty_first = first;
	if (end > g->dirty_end)
		g->dirty_end = end;
}

size_t textgrid_cells_size(unsigned cols, unsigned screen_rows)
{
	return (size_t)cols * screen_rows;
}

bool textgrid_init(struct textgrid *g, char *cells, char *line, unsigned cols,
		   unsigned screen_rows, unsigned scroll_rows, const char *pin_prefix)
{
	memset(g, 0, sizeof(*g));
	if (cols == 0 || screen_rows == 0)
		return false;
	g->cells = cells;
	g->cols = cols;
	g->has_status = pin_prefix && line && screen_rows >= 2;
	g->rows = screen_rows - (g->has_status ? 1 : 0);
	g->pin_prefix = g->has_status ? pin_prefix : NULL;
	g->line = g->has_status ? line : NULL;
	g->scroll_rows = scroll_rows == 0 ? 1 : scroll_rows > g->rows ? g->rows : scroll_rows;
	memset(cells, ' ', cell_count(g));
	mark_dirty(g, 0, cell_count(g));
	return true;
}

/* Moves the text up by scroll_rows rows; the freed rows at the bottom are blank. */
static void scroll(struct textgrid *g)
{
	size_t shift = (size_t)g->scroll_rows * g->cols;
	size_t text = (size_t)g->rows * g->cols;

	memmove(g->cells, g->cells + shift, text - shift);
	memset(g->cells + text - shift, ' ', shift);
	if (g->attrs) {
		memmove(g->attrs, g->attrs + shift, text - shift);
		memset(g->attrs + text - shift, 0, shift);
	}
	g->row -= g->scroll_rows;
	mark_dirty(g, 0, text);
}

static void pin_if_wanted(struct textgrid *g)
{
	size_t prefix_len;

	if (!g->pin_prefix)
		return;
	prefix_len = strlen(g->pin_prefix);
	if (g->line_len >= prefix_len && memcmp(g->line, g->pin_prefix, prefix_len) == 0)
		textgrid_set_status(g, g->line, g->line_len);
}

static void end_line(struct textgrid *g)
{
	pin_if_wanted(g);
	g->line_len = 0;
}

static void next_row(struct textgrid *g)
{
	g->col = 0;
	if (++g->row >= g->rows)
		scroll(g);
}

static void remember(struct textgrid *g, char c)
{
	if (!g->line)
		return;
	if (g->line_len < g->cols)
		g->line[g->line_len++] = c;
}

static void put(struct textgrid *g, char c)
{
	/* Wrap only when a character follows: a line exactly `cols` wide leaves no blank row. */
	if (g->col >= g->cols)
		next_row(g);
	size_t at = (size_t)g->row * g->cols + g->col;
	g->cells[at] = c;
	if (g->attrs)
		g->attrs[at] = g->attr;
	mark_dirty(g, at, at + 1);
	g->col++;
	remember(g, c);
}

static void tab(struct textgrid *g)
{
	unsigned stop = (g->col / TEXTGRID_TAB_WIDTH + 1) * TEXTGRID_TAB_WIDTH;

	if (stop > g->cols)
		stop = g->cols;
	do
		put(g, ' ');
	while (g->col < stop);
}

void textgrid_write(struct textgrid *g, const char *buf, size_t len)
{
	if (!g->cells)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		switch (c) {
		case '\n':
			end_line(g);
			next_row(g);
			break;
		case '\r':
			g->col = 0;
			break;
		case '\t':
			tab(g);
			break;
		case '\b':
			if (g->col > 0)
				g->col--;
			break;
		default:
			put(g, c >= ASCII_PRINTABLE_FIRST && c <= ASCII_PRINTABLE_LAST ? (char)c : TEXTGRID_REPLACEMENT);
			break;
		}
	}
}

void textgrid_set_status(struct textgrid *g, const char *text, size_t len)
{
	if (!g->has_status)
		return;
	size_t start = (size_t)g->rows * g->cols;
	size_t n = len < g->cols ? len : g->cols;
	memcpy(g->cells + start, text, n);
	memset(g->cells + start + n, ' ', g->cols - n);
	if (g->attrs)
		memset(g->attrs + start, g->status_attr, g->cols);
	mark_dirty(g, start, start + g->cols);
}

void textgrid_use_attrs(struct textgrid *g, unsigned char *attrs)
{
	g->attrs = attrs;
	if (!attrs || !g->cells)
		return;
	memset(attrs, 0, cell_count(g));
	mark_dirty(g, 0, cell_count(g));
}

void textgrid_set_attr(struct textgrid *g, unsigned char attr)
{
	g->attr = attr;
}

void textgrid_set_status_attr(struct textgrid *g, unsigned char attr)
{
	g->status_attr = attr;
}

unsigned char textgrid_attr_at(const struct textgrid *g, unsigned col, unsigned row)
{
	if (!g->attrs || !g->cells || col >= g->cols || row >= g->rows + (g->has_status ? 1u : 0u))
		return 0;
	return g->attrs[(size_t)row * g->cols + col];
}

char textgrid_at(const struct textgrid *g, unsigned col, unsigned row)
{
	if (!g->cells || col >= g->cols || row >= g->rows + (g->has_status ? 1u : 0u))
		return ' ';
	return g->cells[(size_t)row * g->cols + col];
}

bool textgrid_take_dirty(struct textgrid *g, size_t *first, size_t *end)
{
	if (g->dirty_first == g->dirty_end)
		return false;
	*first = g->dirty_first;
	*end = g->dirty_end;
	g->dirty_first = g->dirty_end = 0;
	return true;
}
