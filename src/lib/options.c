/* Option parsing; see options.h and the README's option table. */
#include "options.h"

#include <stdlib.h>
#include <string.h>

#define WHITESPACE " \t\r\n"

static const char *const dma_names[] = {
	[DMA_AUTO] = "auto",
	[DMA_BOUNCE] = "bounce",
	[DMA_IOMMU] = "iommu",
};

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->dma = DMA_AUTO;
	o->timeout_s = OPTIONS_TIMEOUT_DEFAULT_S;
}

const char *options_dma_name(enum dma_mode mode)
{
	return dma_names[mode];
}

bool options_add_error_n(struct options *o, const char *word, size_t len, const char *reason)
{
	if (o->error_count < OPTIONS_MAX_ERRORS) {
		struct option_error *e = &o->errors[o->error_count];
		size_t n = len < sizeof(e->token) - 1 ? len : sizeof(e->token) - 1;
		memcpy(e->token, word, n);
		e->token[n] = '\0';
		e->reason = reason;
	}
	o->error_count++;
	return false;
}

static bool value_is(const char *value, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(value, name, len) == 0;
}

static bool parse_dma(struct options *o, const char *value, size_t len)
{
	for (size_t m = 0; m < sizeof(dma_names) / sizeof(dma_names[0]); m++) {
		if (value_is(value, len, dma_names[m])) {
			o->dma = (enum dma_mode)m;
			return true;
		}
	}
	return false;
}

static bool parse_timeout(struct options *o, const char *value, size_t len)
{
	char digits[12];
	char *end;

	if (len == 0 || len >= sizeof(digits) || value[0] < '0' || value[0] > '9')
		return false;
	memcpy(digits, value, len);
	digits[len] = '\0';
	unsigned long seconds = strtoul(digits, &end, 10);
	if (*end != '\0' || seconds == 0 || seconds > OPTIONS_TIMEOUT_MAX_S)
		return false;
	o->timeout_s = (unsigned)seconds;
	return true;
}

static bool parse_tests(struct options *o, const char *value, size_t len)
{
	if (len == 0 || len >= sizeof(o->tests))
		return false;
	/* Empty list items (",," or a trailing ",") are mistakes, not wildcards. */
	if (value[0] == ',' || value[len - 1] == ',')
		return false;
	for (size_t i = 1; i < len; i++)
		if (value[i] == ',' && value[i - 1] == ',')
			return false;
	memcpy(o->tests, value, len);
	o->tests[len] = '\0';
	return true;
}

struct option_key {
	const char *key;
	bool (*apply)(struct options *o, const char *value, size_t len);
	const char *bad_value_reason;
};

static const struct option_key option_keys[] = {
	{ "dma", parse_dma, "dma-must-be-auto-bounce-or-iommu" },
	{ "tests", parse_tests, "tests-must-be-comma-separated-globs" },
	{ "timeout", parse_timeout, "timeout-must-be-1-to-3600-seconds" },
};

static bool apply_word(struct options *o, const char *word, size_t len)
{
	const char *eq = memchr(word, '=', len);

	if (!eq)
		return options_add_error_n(o, word, len, "expected-key=value");
	size_t key_len = (size_t)(eq - word);
	for (size_t i = 0; i < sizeof(option_keys) / sizeof(option_keys[0]); i++) {
		const struct option_key *k = &option_keys[i];
		if (!value_is(word, key_len, k->key))
			continue;
		if (!k->apply(o, eq + 1, len - key_len - 1))
			return options_add_error_n(o, word, len, k->bad_value_reason);
		return true;
	}
	return options_add_error_n(o, word, len, "unknown-option");
}

bool options_parse(struct options *o, const char *text)
{
	bool ok = true;

	for (const char *at = text + strspn(text, WHITESPACE); *at; at += strspn(at, WHITESPACE)) {
		size_t len = strcspn(at, WHITESPACE);
		ok = apply_word(o, at, len) && ok;
		at += len;
	}
	return ok;
}

bool glob_match(const char *pattern, size_t pattern_len, const char *text)
{
	const char *star = NULL, *resume = NULL;
	size_t p = 0, star_p = 0;

	/* Iterative matcher: on mismatch, let the last '*' swallow one more char. */
	while (*text) {
		if (p < pattern_len && (pattern[p] == '?' || pattern[p] == *text)) {
			p++;
			text++;
		} else if (p < pattern_len && pattern[p] == '*') {
			star = pattern + p;
			star_p = ++p;
			resume = text;
		} else if (star) {
			p = star_p;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (p < pattern_len && pattern[p] == '*')
		p++;
	return p == pattern_len;
}

/* True if pred(item, name) holds for any item of the comma-separated list. */
static bool any_item(const char *list, const char *name,
		     bool (*pred)(const char *item, size_t len, const char *name))
{
	for (const char *at = list; *at;) {
		size_t len = strcspn(at, ",");
		if (pred(at, len, name))
			return true;
		at += len;
		if (*at == ',')
			at++;
	}
	return false;
}

bool list_contains(const char *list, const char *name)
{
	return any_item(list, name, value_is);
}

bool glob_list_match(const char *list, const char *name)
{
	return any_item(list, name, glob_match);
}

bool options_add_error(struct options *o, const char *token, const char *reason)
{
	return options_add_error_n(o, token, strlen(token), reason);
}
