/*
 * How console lines are shown to a person on the screen.  The serial log
 * keeps every proof line exactly as printed (machines read it); the screen
 * is for the lab engineer in front of the machine, so:
 *  - a `test: result` line becomes `[PASS] name (N ms)` / `[FAIL] name (N ms):
 *    reason`, the reason percent-decoded; the bracketed status is the marker
 *    that survives a monochrome screen, the colour is for those that have it;
 *  - the verdict line is shown as printed, in its status's colour;
 *  - every other line is shown as printed.
 * Portable: compiled into the firmware and the host unit tests.
 */
#ifndef PROOFBOOT_SCREEN_TEXT_H
#define PROOFBOOT_SCREEN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum screen_attr {
	SCREEN_ATTR_PLAIN = 0,
	SCREEN_ATTR_PASS,
	SCREEN_ATTR_FAIL,
	SCREEN_ATTR_SKIP,
	SCREEN_ATTR_HEADING, /* the failed-tests block's title */
	SCREEN_ATTR_COUNT,
};

#define SCREEN_RESULT_PREFIX "test: result "
#define SCREEN_VERDICT_PREFIX "proofboot: verdict "

struct screen_line {
	enum screen_attr attr;
	bool is_result;
	bool is_verdict;
	bool failed;        /* a FAIL result (kept for the summary above the verdict) */
	size_t len;
};

/*
 * Renders one console line (without its '\n') into out (cap bytes, always
 * terminated; cut to fit).  Lines that are not result lines are copied.
 */
void screen_text_render(const char *line, size_t len, char *out, size_t cap,
			struct screen_line *info);

/* The title of the failed-tests block shown above the verdict. */
void screen_text_failures_title(unsigned failed, unsigned shown, char *out, size_t cap);

#endif
