/* The screen console's character grid: wrapping, scrolling, dirty ranges, the pinned status row. */
#include "textgrid.h"
#include "unit.h"

#include <stdio.h>

#define COLS 10
#define SCREEN_ROWS 4

struct fixture {
	struct textgrid g;
	char cells[COLS * SCREEN_ROWS];
	char line[COLS];
};

static void setup(struct fixture *f, unsigned scroll_rows, const char *pin)
{
	CHECK(textgrid_init(&f->g, f->cells, f->line, COLS, SCREEN_ROWS, scroll_rows, pin));
}

static void put_text(struct fixture *f, const char *s)
{
	textgrid_write(&f->g, s, strlen(s));
}

/* Row `row` as a string without trailing spaces. */
static const char *row_text(const struct fixture *f, unsigned row)
{
	static char out[COLS + 1];
	unsigned n = 0;

	for (unsigned c = 0; c < COLS; c++)
		out[c] = textgrid_at(&f->g, c, row);
	for (unsigned c = 0; c < COLS; c++)
		if (out[c] != ' ')
			n = c + 1;
	out[n] = '\0';
	return out;
}

UNIT_TEST(textgrid_starts_blank_and_all_dirty)
{
	struct fixture f;
	size_t first, end;

	setup(&f, 1, NULL);
	CHECK_EQ(f.g.rows, SCREEN_ROWS);
	CHECK(!f.g.has_status);
	CHECK_STR(row_text(&f, 0), "");
	CHECK(textgrid_take_dirty(&f.g, &first, &end));
	CHECK_EQ(first, 0);
	CHECK_EQ(end, COLS * SCREEN_ROWS);
	CHECK(!textgrid_take_dirty(&f.g, &first, &end));
}

UNIT_TEST(textgrid_writes_lines_and_marks_only_changed_cells)
{
	struct fixture f;
	size_t first, end;

	setup(&f, 1, NULL);
	textgrid_take_dirty(&f.g, &first, &end);
	put_text(&f, "ab\ncd");
	CHECK_STR(row_text(&f, 0), "ab");
	CHECK_STR(row_text(&f, 1), "cd");
	CHECK(textgrid_take_dirty(&f.g, &first, &end));
	CHECK_EQ(first, 0);
	CHECK_EQ(end, COLS + 2);
	CHECK_EQ(f.g.row, 1);
	CHECK_EQ(f.g.col, 2);
}

UNIT_TEST(textgrid_wraps_only_when_a_character_follows)
{
	struct fixture f;

	setup(&f, 1, NULL);
	put_text(&f, "0123456789\nx");
	CHECK_STR(row_text(&f, 0), "0123456789");
	CHECK_STR(row_text(&f, 1), "x"); /* no blank row after an exactly full line */
	put_text(&f, "\n0123456789AB");
	CHECK_STR(row_text(&f, 2), "0123456789");
	CHECK_STR(row_text(&f, 3), "AB");
}

UNIT_TEST(textgrid_scrolls_one_row_at_the_bottom)
{
	struct fixture f;
	size_t first, end;

	setup(&f, 1, NULL);
	put_text(&f, "r0\nr1\nr2\nr3");
	textgrid_take_dirty(&f.g, &first, &end);
	put_text(&f, "\nr4");
	CHECK_STR(row_text(&f, 0), "r1");
	CHECK_STR(row_text(&f, 2), "r3");
	CHECK_STR(row_text(&f, 3), "r4");
	CHECK_EQ(f.g.row, 3);
	CHECK(textgrid_take_dirty(&f.g, &first, &end));
	CHECK_EQ(first, 0);
	CHECK_EQ(end, COLS * SCREEN_ROWS);
}

UNIT_TEST(textgrid_jump_scrolls_several_rows)
{
	struct fixture f;

	setup(&f, 3, NULL);
	put_text(&f, "r0\nr1\nr2\nr3\nr4");
	CHECK_STR(row_text(&f, 0), "r3");
	CHECK_STR(row_text(&f, 1), "r4");
	CHECK_STR(row_text(&f, 2), "");
	CHECK_EQ(f.g.row, 1);
	setup(&f, 99, NULL);
	CHECK_EQ(f.g.scroll_rows, SCREEN_ROWS); /* clamped: the whole screen at most */
}

UNIT_TEST(textgrid_control_characters)
{
	struct fixture f;

	setup(&f, 1, NULL);
	put_text(&f, "abc\rX\tY\bZ\x01\xe9");
	CHECK_STR(row_text(&f, 0), "X       Z?"); /* the tab writes spaces */
	CHECK_STR(row_text(&f, 1), "?");
}

UNIT_TEST(textgrid_pins_the_matching_line_in_the_status_row)
{
	struct fixture f;

	setup(&f, 1, "v: ");
	CHECK(f.g.has_status);
	CHECK_EQ(f.g.rows, SCREEN_ROWS - 1);
	textgrid_set_status(&f.g, "waiting", 7);
	CHECK_STR(row_text(&f, SCREEN_ROWS - 1), "waiting");
	put_text(&f, "v: PASS\n");
	CHECK_STR(row_text(&f, SCREEN_ROWS - 1), "v: PASS");
	/* Scrolling never touches the status row; non-matching lines do not replace it. */
	put_text(&f, "a\nb\nc\nd\nv:x\n");
	CHECK_STR(row_text(&f, SCREEN_ROWS - 1), "v: PASS");
	CHECK_STR(row_text(&f, 0), "d");
	CHECK_STR(row_text(&f, 1), "v:x");
	/* A long matching line is pinned cut at the width; an unfinished one is not pinned yet. */
	put_text(&f, "v: FAIL and more text\nv: SKIP");
	CHECK_STR(row_text(&f, SCREEN_ROWS - 1), "v: FAIL an");
}

UNIT_TEST(textgrid_needs_two_rows_for_a_status_row)
{
	struct fixture f;

	CHECK(textgrid_init(&f.g, f.cells, f.line, COLS, 1, 1, "v: "));
	CHECK(!f.g.has_status);
	CHECK_EQ(f.g.rows, 1);
	put_text(&f, "a\nb");
	CHECK_STR(row_text(&f, 0), "b");
	CHECK(!textgrid_init(&f.g, f.cells, f.line, 0, SCREEN_ROWS, 1, NULL));
	CHECK(!textgrid_init(&f.g, f.cells, f.line, COLS, 0, 1, NULL));
	CHECK_EQ(textgrid_cells_size(COLS, SCREEN_ROWS), sizeof(f.cells));
}
