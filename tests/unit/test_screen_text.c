/* The screen's rendering of console lines, and the grid's per-cell attributes. */
#include "screen_text.h"
#include "textgrid.h"
#include "unit.h"

static const char *render(const char *line, struct screen_line *info)
{
	static char out[256];

	screen_text_render(line, strlen(line), out, sizeof(out), info);
	return out;
}

UNIT_TEST(screen_text_result_lines_are_for_people)
{
	struct screen_line info;

	CHECK_STR(render("test: result name=nvme.read.bounce status=FAIL duration_us=12999 "
			 "reason=read%20failed:%20status%3D0x281", &info),
		  "[FAIL] nvme.read.bounce (12 ms): read failed: status=0x281");
	CHECK(info.is_result && info.failed);
	CHECK_EQ(info.attr, SCREEN_ATTR_FAIL);
	CHECK_EQ(info.len, strlen("[FAIL] nvme.read.bounce (12 ms): read failed: status=0x281"));
	CHECK_STR(render("test: result name=boot.options status=PASS duration_us=5 reason=", &info),
		  "[PASS] boot.options (0 ms)");
	CHECK(!info.failed);
	CHECK_EQ(info.attr, SCREEN_ATTR_PASS);
	CHECK_STR(render("test: result name=x status=SKIP duration_us=2000 reason=no%20NVMe", &info),
		  "[SKIP] x (2 ms): no NVMe");
	CHECK_EQ(info.attr, SCREEN_ATTR_SKIP);
}

UNIT_TEST(screen_text_other_lines_unchanged)
{
	struct screen_line info;
	const char *odd = "test: result name=x status=MAYBE duration_us=1 reason=";

	CHECK_STR(render("nvme: read serial=pb0 crc32=0x1234", &info), "nvme: read serial=pb0 crc32=0x1234");
	CHECK(!info.is_result && !info.is_verdict);
	CHECK_EQ(info.attr, SCREEN_ATTR_PLAIN);
	/* A result line it cannot read is shown as printed, never guessed at. */
	CHECK_STR(render(odd, &info), odd);
	CHECK(!info.is_result);
	CHECK_STR(render("proofboot: verdict status=SKIP passed=0 failed=0 skipped=3", &info),
		  "proofboot: verdict status=SKIP passed=0 failed=0 skipped=3");
	CHECK(info.is_verdict);
	CHECK_EQ(info.attr, SCREEN_ATTR_SKIP);
}

UNIT_TEST(screen_text_bad_escapes_and_small_buffers)
{
	struct screen_line info;
	char out[12];

	/* A broken escape is shown as it is. */
	CHECK_STR(render("test: result name=a status=FAIL duration_us=0 reason=50%25%2", &info),
		  "[FAIL] a (0 ms): 50%%2");
	CHECK_STR(render("test: result name=a status=FAIL duration_us=0 reason=%zz", &info),
		  "[FAIL] a (0 ms): %zz");
	screen_text_render("a line longer than the buffer", 29, out, sizeof(out), &info);
	CHECK_STR(out, "a line long");
	CHECK_EQ(info.len, sizeof(out) - 1);
}

UNIT_TEST(screen_text_failures_title_counts)
{
	char t[96];

	screen_text_failures_title(2, 2, t, sizeof(t));
	CHECK_STR(t, "---- 2 test(s) FAILED ----");
	screen_text_failures_title(9, 6, t, sizeof(t));
	CHECK_STR(t, "---- 9 test(s) FAILED (last 6 below; all in the serial log) ----");
}

UNIT_TEST(textgrid_attributes_follow_the_text)
{
	enum { COLS = 4, ROWS = 3 };
	struct textgrid g;
	char cells[COLS * ROWS], line[COLS];
	unsigned char attrs[COLS * ROWS];

	CHECK(textgrid_init(&g, cells, line, COLS, ROWS, 1, "V"));
	textgrid_use_attrs(&g, attrs);
	textgrid_set_attr(&g, SCREEN_ATTR_FAIL);
	textgrid_write(&g, "ab\n", 3);
	textgrid_set_attr(&g, SCREEN_ATTR_PASS);
	textgrid_write(&g, "cd\n", 3);
	/* Two scrolling rows: "cd\n" scrolled "ab" away, its colour with it. */
	CHECK_EQ(textgrid_at(&g, 0, 0), 'c');
	CHECK_EQ(textgrid_attr_at(&g, 0, 0), SCREEN_ATTR_PASS);
	CHECK_EQ(textgrid_attr_at(&g, 0, 1), 0);
	textgrid_set_status_attr(&g, SCREEN_ATTR_SKIP);
	textgrid_write(&g, "V ok\n", 5);
	CHECK_EQ(textgrid_at(&g, 2, 2), 'o');
	CHECK_EQ(textgrid_attr_at(&g, 3, 2), SCREEN_ATTR_SKIP);
}
