/* Screen rendering of console lines: see screen_text.h. */
#include "screen_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_MS 1000u
#define HEX_RADIX 16
#define DECIMAL_DIGITS 10
#define FIELD_MAX 160

struct status_style {
	const char *word;
	enum screen_attr attr;
};

static const struct status_style styles[] = {
	{ "PASS", SCREEN_ATTR_PASS },
	{ "FAIL", SCREEN_ATTR_FAIL },
	{ "SKIP", SCREEN_ATTR_SKIP },
};

static bool starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(line, prefix, n) == 0;
}

/* The raw (still escaped) value of ` key=` in the line, or NULL. */
static const char *field(const char *line, size_t len, const char *key, size_t *vlen)
{
	char pattern[32];
	int n = snprintf(pattern, sizeof(pattern), " %s=", key);

	for (size_t i = 0; n > 0 && i + (size_t)n <= len; i++) {
		if (memcmp(line + i, pattern, (size_t)n) != 0)
			continue;
		const char *v = line + i + (size_t)n;
		const char *end = memchr(v, ' ', len - (size_t)(v - line));
		*vlen = end ? (size_t)(end - v) : len - (size_t)(v - line);
		return v;
	}
	return NULL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + DECIMAL_DIGITS;
	return -1;
}

/* Undoes the proof-line escaping (%XX, upper-case hex) into out. */
static void percent_decode(const char *v, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		int hi, lo;
		if (v[i] == '%' && i + 2 < len &&
		    (hi = hex_value(v[i + 1])) >= 0 && (lo = hex_value(v[i + 2])) >= 0) {
			out[o++] = (char)(hi * HEX_RADIX + lo);
			i += 2;
		} else {
			out[o++] = v[i];
		}
	}
	out[o] = '\0';
}

static const struct status_style *style_of(const char *v, size_t len)
{
	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
		if (strlen(styles[i].word) == len && memcmp(styles[i].word, v, len) == 0)
			return &styles[i];
	return NULL;
}

static void copy_line(const char *line, size_t len, char *out, size_t cap, struct screen_line *info)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(out, line, n);
	out[n] = '\0';
	info->len = n;
}

static bool render_result(const char *line, size_t len, char *out, size_t cap,
			  struct screen_line *info)
{
	size_t name_len, status_len, dur_len, reason_len = 0;
	const char *name = field(line, len, "name", &name_len);
	const char *status = field(line, len, "status", &status_len);
	const char *dur = field(line, len, "duration_us", &dur_len);
	const char *reason = field(line, len, "reason", &reason_len);
	const struct status_style *style = status ? style_of(status, status_len) : NULL;
	char name_text[FIELD_MAX], reason_text[FIELD_MAX], dur_text[24];

	if (!name || !style || !dur || dur_len >= sizeof(dur_text))
		return false;
	percent_decode(name, name_len, name_text, sizeof(name_text));
	memcpy(dur_text, dur, dur_len);
	dur_text[dur_len] = '\0';
	unsigned long long ms = strtoull(dur_text, NULL, 10) / US_PER_MS;
	int n;
	if (reason && reason_len > 0) {
		percent_decode(reason, reason_len, reason_text, sizeof(reason_text));
		n = snprintf(out, cap, "[%s] %s (%llu ms): %s", style->word, name_text, ms, reason_text);
	} else {
		n = snprintf(out, cap, "[%s] %s (%llu ms)", style->word, name_text, ms);
	}
	info->len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
	info->attr = style->attr;
	info->is_result = true;
	info->failed = style->attr == SCREEN_ATTR_FAIL;
	return true;
}

void screen_text_render(const char *line, size_t len, char *out, size_t cap,
			struct screen_line *info)
{
	*info = (struct screen_line){ .attr = SCREEN_ATTR_PLAIN };
	if (cap == 0)
		return;
	if (starts_with(line, len, SCREEN_RESULT_PREFIX) && render_result(line, len, out, cap, info))
		return;
	copy_line(line, len, out, cap, info);
	if (starts_with(line, len, SCREEN_VERDICT_PREFIX)) {
		size_t status_len;
		const char *status = field(line, len, "status", &status_len);
		const struct status_style *style = status ? style_of(status, status_len) : NULL;
		info->is_verdict = true;
		info->attr = style ? style->attr : SCREEN_ATTR_PLAIN;
	}
}

void screen_text_failures_title(unsigned failed, unsigned shown, char *out, size_t cap)
{
	if (shown < failed)
		snprintf(out, cap, "---- %u test(s) FAILED (last %u below; all in the serial log) ----",
			 failed, shown);
	else
		snprintf(out, cap, "---- %u test(s) FAILED ----", failed);
}
