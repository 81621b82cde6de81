/* Option parsing; see options.h and the README's option table. */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dma_names[] = {
	[DMA_AUTO] = "auto",
	[DMA_BOUNCE] = "bounce",
	[DMA_IOMMU] = "iommu",
};

static const char *const end_names[] = {
	[END_AUTO] = "auto",
	[END_HALT] = "halt",
	[END_REBOOT] = "reboot",
	[END_POWEROFF] = "poweroff",
};

static const char *const order_names[] = {
	[RUN_ORDER_TABLE] = "table",
	[RUN_ORDER_REVERSE] = "reverse",
	[RUN_ORDER_SHUFFLE] = "shuffle",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ORDER_SEED_MAX 0xfffffffful
#define NSID_MAX 0xfffffffeul /* 0xffffffff is the broadcast NSID */

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->dma = DMA_AUTO;
	o->timeout_s = OPTIONS_TIMEOUT_DEFAULT_S;
	o->bench_bytes = OPTIONS_BENCH_BYTES_DEFAULT;
	console_spec_default(&o->console);
	strcpy(o->console_text, "all");
}

const char *options_dma_name(enum dma_mode mode)
{
	return dma_names[mode];
}

const char *options_end_name(enum end_action end)
{
	return end_names[end];
}

bool options_add_error_n(struct options *o, const char *word, size_t len, const char *reason)
{
	if (o->error_count < OPTIONS_MAX_ERRORS) {
		struct option_error *e = &o->errors[o->error_count];
		size_t n = len < sizeof(e->token) - 1 ? len : sizeof(e->token) - 1;
		memcpy(e->token, word, n);
		e->token[n] = '\0';
		e->reason = reason;
		e->offset = OPTION_ERROR_NO_OFFSET;
		e->byte = 0;
		e->source = NULL;
	}
	o->error_count++;
	return false;
}

static bool value_is(const char *value, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(value, name, len) == 0;
}

/* Index of `value` in names[], or -1. */
static int parse_choice(const char *const *names, size_t count, const char *value, size_t len)
{
	for (size_t i = 0; i < count; i++)
		if (value_is(value, len, names[i]))
			return (int)i;
	return -1;
}

static bool parse_dma(struct options *o, const char *value, size_t len)
{
	int m = parse_choice(dma_names, COUNT_OF(dma_names), value, len);

	if (m >= 0)
		o->dma = (enum dma_mode)m;
	return m >= 0;
}

static bool parse_end(struct options *o, const char *value, size_t len)
{
	int m = parse_choice(end_names, COUNT_OF(end_names), value, len);

	if (m >= 0)
		o->end = (enum end_action)m;
	return m >= 0;
}

/* Decimal in [1, max] from exactly len characters. */
static bool parse_number(const char *value, size_t len, unsigned long max, unsigned long *out)
{
	char digits[12];
	char *end;

	if (len == 0 || len >= sizeof(digits) || value[0] < '0' || value[0] > '9')
		return false;
	memcpy(digits, value, len);
	digits[len] = '\0';
	unsigned long n = strtoul(digits, &end, 10);
	if (*end != '\0' || n == 0 || n > max)
		return false;
	*out = n;
	return true;
}

static bool parse_write(struct options *o, const char *value, size_t len)
{
	const char *colon = memchr(value, ':', len);
	unsigned long nsid;

	if (!colon || colon == value || (size_t)(colon - value) > OPTIONS_SERIAL_MAX)
		return false;
	size_t serial_len = (size_t)(colon - value);
	if (!parse_number(colon + 1, len - serial_len - 1, NSID_MAX, &nsid))
		return false;
	memcpy(o->write_serial, value, serial_len);
	o->write_serial[serial_len] = '\0';
	o->write_nsid = (unsigned)nsid;
	return true;
}

bool options_write_allowed(const struct options *o, const char *serial, unsigned nsid)
{
	return o->write_nsid != 0 && nsid == o->write_nsid && strcmp(serial, o->write_serial) == 0;
}

static bool parse_timeout(struct options *o, const char *value, size_t len)
{
	unsigned long seconds;

	if (!parse_number(value, len, OPTIONS_TIMEOUT_MAX_S, &seconds))
		return false;
	o->timeout_s = (unsigned)seconds;
	return true;
}

/* Bytes with an optional binary suffix: 4096, 512K, 64M, 1G. */
static bool parse_bench_bytes(struct options *o, const char *value, size_t len)
{
	static const char suffixes[] = "KMG";
	const char *unit = len ? memchr(suffixes, value[len - 1], sizeof(suffixes) - 1) : NULL;
	unsigned shift = unit ? 10u * (unsigned)(unit - suffixes + 1) : 0;
	unsigned long n;

	if (!parse_number(value, unit ? len - 1 : len, OPTIONS_BENCH_BYTES_MAX >> shift, &n))
		return false;
	o->bench_bytes = (uint64_t)n << shift;
	return true;
}

/* table | reverse | shuffle:<seed>, the seed decimal 1..4294967295. */
static bool parse_order(struct options *o, const char *value, size_t len)
{
	const char *colon = memchr(value, ':', len);
	size_t name_len = colon ? (size_t)(colon - value) : len;
	int m = parse_choice(order_names, COUNT_OF(order_names), value, name_len);
	unsigned long seed = 0;

	if (m < 0 || (m == RUN_ORDER_SHUFFLE) != (colon != NULL))
		return false;
	if (colon && !parse_number(colon + 1, len - name_len - 1, ORDER_SEED_MAX, &seed))
		return false;
	o->order = (enum run_order)m;
	o->order_seed = (uint32_t)seed;
	return true;
}

const char *options_order_name(const struct options *o, char *buf)
{
	if (o->order == RUN_ORDER_SHUFFLE)
		snprintf(buf, OPTIONS_ORDER_NAME_MAX, "shuffle:%lu", (unsigned long)o->order_seed);
	else
		snprintf(buf, OPTIONS_ORDER_NAME_MAX, "%s", order_names[o->order]);
	return buf;
}

static bool parse_console(struct options *o, const char *value, size_t len)
{
	struct console_spec spec;

	if (len >= sizeof(o->console_text) || !console_spec_parse(value, len, &spec))
		return false;
	o->console = spec;
	memcpy(o->console_text, value, len);
	o->console_text[len] = '\0';
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
	{ "end", parse_end, "end-must-be-auto-halt-reboot-or-poweroff" },
	{ "write", parse_write, "write-must-be-serial:nsid" },
	{ "bench_bytes", parse_bench_bytes, "bench_bytes-must-be-1-to-64G-with-optional-K-M-G" },
	{ "order", parse_order, "order-must-be-table-reverse-or-shuffle:seed" },
	{ "console", parse_console, "console-must-be-all-spcr-com1-to-com4-mmio:0xADDR-or-mmio32:0xADDR-comma-separated" },
};

static bool apply_word(struct options *o, const char *word, size_t len)
{
	const char *eq = memchr(word, '=', len);

	if (!eq)
		return options_add_error_n(o, word, len, "expected-key=value");
	size_t key_len = (size_t)(eq - word);
	for (size_t i = 0; i < COUNT_OF(option_keys); i++) {
		const struct option_key *k = &option_keys[i];
		if (!value_is(word, key_len, k->key))
			continue;
		if (!k->apply(o, eq + 1, len - key_len - 1))
			return options_add_error_n(o, word, len, k->bad_value_reason);
		return true;
	}
	return options_add_error_n(o, word, len, "unknown-option");
}

bool options_is_control_byte(unsigned char c)
{
	/* TAB, CR and LF separate words (a file written by an editor ends in LF). */
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The word shown in the error, control bytes as '?' so it stays one C string. */
static void add_control_byte_error(struct options *o, const char *word, size_t len,
				   size_t bad_at, long offset)
{
	char shown[sizeof(o->errors[0].token)];
	size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

	for (size_t i = 0; i < n; i++)
		shown[i] = options_is_control_byte((unsigned char)word[i]) ? '?' : word[i];
	unsigned index = o->error_count;
	options_add_error_n(o, shown, n, "control-byte-in-option-text");
	if (index < OPTIONS_MAX_ERRORS) {
		o->errors[index].offset = offset;
		o->errors[index].byte = (uint8_t)word[bad_at];
	}
}

static bool apply_checked_word(struct options *o, const char *text, size_t start, size_t len)
{
	const char *word = text + start;

	for (size_t i = 0; i < len; i++)
		if (options_is_control_byte((unsigned char)word[i])) {
			add_control_byte_error(o, word, len, i, (long)(start + i));
			return false;
		}
	return apply_word(o, word, len);
}

bool options_parse_n(struct options *o, const char *text, size_t len)
{
	bool ok = true;
	size_t at = 0;

	while (at < len) {
		if (is_separator(text[at])) {
			at++;
			continue;
		}
		size_t end = at;
		while (end < len && !is_separator(text[end]))
			end++;
		ok = apply_checked_word(o, text, at, end - at) && ok;
		at = end;
	}
	return ok;
}

bool options_parse(struct options *o, const char *text)
{
	return options_parse_n(o, text, strlen(text));
}

bool glob_match(const char *pattern, size_t pattern_len, const char *text)
{
	const char *star = NULL, *resume = NULL;
	size_t p = 0, star_p = 0;

	/* Iterative matcher: on mismatch, let the last '*' swallow one more char. */
	while (*text) {
		/* '*' first: it is a wildcard even when the text holds a literal '*'. */
		if (p < pattern_len && pattern[p] == '*') {
			star = pattern + p;
			star_p = ++p;
			resume = text;
		} else if (p < pattern_len && (pattern[p] == '?' || pattern[p] == *text)) {
			p++;
			text++;
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
