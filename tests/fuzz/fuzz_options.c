/*
 * Option string (src/lib/options.c): the multiboot2 command line and the
 * fw_cfg opt/proofboot/cmdline file are outside data.  The parser is
 * checked against an independent model of the documented rules (last word
 * wins, every bad word is one error, tokens cut to 63 bytes), and
 * glob_match against a dynamic-programming reference matcher.  The input's
 * bytes are handed over with their length, NULs included: a word holding a
 * control byte is one error naming that byte's offset.
 */
#include "fuzz.h"

#include <ctype.h>

#include "options.h"

#define WS " \t\r\n"
#define GLOB_REF_MAX 128

struct model {
	enum dma_mode dma;
	enum end_action end;
	unsigned timeout_s;
	char write_serial[OPTIONS_SERIAL_MAX + 1];
	unsigned write_nsid;
	uint64_t bench_bytes;
	unsigned order;     /* 0 table, 1 reverse, 2 shuffle */
	uint64_t order_seed;
	char tests[OPTIONS_TESTS_MAX];
	char console[OPTIONS_CONSOLE_MAX];
	unsigned errors;
	char tokens[OPTIONS_MAX_ERRORS][64];
	long offsets[OPTIONS_MAX_ERRORS];
};

static bool model_is_control(unsigned char c)
{
	return c == 0x7f || (c < 0x20 && c != '\t' && c != '\r' && c != '\n');
}

static bool model_is_separator(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

/* 1..11 decimal digits whose value is in [1, max]. */
static bool model_number(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;

	if (n == 0 || n > 11)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		value = value * 10 + (uint64_t)(v[i] - '0');
	}
	if (value < 1 || value > max)
		return false;
	*out = value;
	return true;
}

static bool model_timeout(struct model *m, const char *v, size_t n)
{
	uint64_t value;

	if (!model_number(v, n, OPTIONS_TIMEOUT_MAX_S, &value))
		return false;
	m->timeout_s = (unsigned)value;
	return true;
}

/* write=<serial>:<nsid>: 1..20 serial bytes before the first ':', NSID 1..0xfffffffe. */
static bool model_write(struct model *m, const char *v, size_t n)
{
	const char *colon = memchr(v, ':', n);
	uint64_t nsid;

	if (!colon || colon == v || (size_t)(colon - v) > OPTIONS_SERIAL_MAX)
		return false;
	size_t serial = (size_t)(colon - v);
	if (!model_number(colon + 1, n - serial - 1, 0xfffffffeu, &nsid))
		return false;
	memcpy(m->write_serial, v, serial);
	m->write_serial[serial] = '\0';
	m->write_nsid = (unsigned)nsid;
	return true;
}

/* bench_bytes=N[K|M|G]: 1..64 GiB in bytes, binary suffixes, upper case. */
static bool model_bench_bytes(struct model *m, const char *v, size_t n)
{
	unsigned shift = 0;
	uint64_t value;

	if (n > 0 && (v[n - 1] == 'K' || v[n - 1] == 'M' || v[n - 1] == 'G')) {
		shift = v[n - 1] == 'K' ? 10 : v[n - 1] == 'M' ? 20 : 30;
		n--;
	}
	if (!model_number(v, n, OPTIONS_BENCH_BYTES_MAX >> shift, &value))
		return false;
	m->bench_bytes = value << shift;
	return true;
}

/* order=table|reverse|shuffle:<seed>, the seed 1..4294967295 in decimal; only shuffle takes one. */
static bool model_order(struct model *m, const char *v, size_t n)
{
	uint64_t seed = 0;

	if (word_is(v, n, "table") || word_is(v, n, "reverse")) {
		m->order = word_is(v, n, "table") ? 0 : 1;
		m->order_seed = 0;
		return true;
	}
	if (n < 8 || memcmp(v, "shuffle:", 8) != 0 || !model_number(v + 8, n - 8, 0xffffffffu, &seed))
		return false;
	m->order = 2;
	m->order_seed = seed;
	return true;
}

static bool model_choice(const char *const *names, unsigned count, const char *v, size_t n,
			 unsigned *out)
{
	for (unsigned i = 0; i < count; i++)
		if (word_is(v, n, names[i])) {
			*out = i;
			return true;
		}
	return false;
}

static bool model_tests(struct model *m, const char *v, size_t n)
{
	if (n == 0 || n >= OPTIONS_TESTS_MAX || v[0] == ',' || v[n - 1] == ',')
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (v[i] == ',' && v[i + 1] == ',')
			return false;
	memcpy(m->tests, v, n);
	m->tests[n] = '\0';
	return true;
}

/* One console= item: all, spcr, com1-4, mmio:0x<1-16 hex, not all zero>, mmio32:0x<...>. */
static bool model_console_item(const char *v, size_t n, unsigned *mmio)
{
	if (word_is(v, n, "all") || word_is(v, n, "spcr"))
		return true;
	if (n == 4 && memcmp(v, "com", 3) == 0 && v[3] >= '1' && v[3] <= '4')
		return true;
	size_t p = n > 7 && memcmp(v, "mmio32:", 7) == 0 ? 7 : n > 5 && memcmp(v, "mmio:", 5) == 0 ? 5 : 0;
	if (p == 0 || n - p < 3 || n - p > 18 || v[p] != '0' || v[p + 1] != 'x')
		return false;
	bool nonzero = false;
	for (size_t i = p + 2; i < n; i++) {
		if (!isxdigit((unsigned char)v[i]))
			return false;
		nonzero |= v[i] != '0';
	}
	return nonzero && ++*mmio <= 2;
}

static bool model_console(struct model *m, const char *v, size_t n)
{
	unsigned mmio = 0;
	size_t start = 0;

	if (n == 0 || n >= sizeof(m->console))
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		if (!model_console_item(v + start, i - start, &mmio))
			return false;
		start = i + 1;
	}
	memcpy(m->console, v, n);
	m->console[n] = '\0';
	return true;
}

static bool model_word(struct model *m, const char *w, size_t n)
{
	const char *eq = memchr(w, '=', n);

	if (!eq)
		return false;
	size_t k = (size_t)(eq - w), vn = n - k - 1;
	const char *v = eq + 1;

	unsigned choice;

	if (word_is(w, k, "dma")) {
		static const char *const names[] = { "auto", "bounce", "iommu" };
		if (!model_choice(names, 3, v, vn, &choice))
			return false;
		m->dma = (enum dma_mode)choice;
		return true;
	}
	if (word_is(w, k, "end")) {
		static const char *const names[] = { "auto", "halt", "reboot", "poweroff" };
		if (!model_choice(names, 4, v, vn, &choice))
			return false;
		m->end = (enum end_action)choice;
		return true;
	}
	if (word_is(w, k, "write"))
		return model_write(m, v, vn);
	if (word_is(w, k, "bench_bytes"))
		return model_bench_bytes(m, v, vn);
	if (word_is(w, k, "timeout"))
		return model_timeout(m, v, vn);
	if (word_is(w, k, "order"))
		return model_order(m, v, vn);
	if (word_is(w, k, "tests"))
		return model_tests(m, v, vn);
	if (word_is(w, k, "console"))
		return model_console(m, v, vn);
	return false;
}

static void model_error(struct model *m, const char *w, size_t n, long offset)
{
	if (m->errors < OPTIONS_MAX_ERRORS) {
		size_t keep = n < 63 ? n : 63;

		for (size_t i = 0; i < keep; i++)
			m->tokens[m->errors][i] = model_is_control((unsigned char)w[i]) ? '?' : w[i];
		m->tokens[m->errors][keep] = '\0';
		m->offsets[m->errors] = offset;
	}
	m->errors++;
}

static void model_parse(struct model *m, const char *text, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->dma = DMA_AUTO;
	m->end = END_AUTO;
	m->bench_bytes = OPTIONS_BENCH_BYTES_DEFAULT;
	m->timeout_s = OPTIONS_TIMEOUT_DEFAULT_S;
	strcpy(m->console, "all");
	size_t at = 0;
	while (at < len) {
		if (model_is_separator((unsigned char)text[at])) {
			at++;
			continue;
		}
		size_t n = 0;
		long bad = -1;
		while (at + n < len && !model_is_separator((unsigned char)text[at + n])) {
			if (bad < 0 && model_is_control((unsigned char)text[at + n]))
				bad = (long)(at + n);
			n++;
		}
		if (bad >= 0)
			model_error(m, text + at, n, bad);
		else if (!model_word(m, text + at, n))
			model_error(m, text + at, n, OPTION_ERROR_NO_OFFSET);
		at += n;
	}
}

/* Reference glob: match[i][j] = pattern[i..] matches text[j..]. */
static bool glob_reference(const char *p, size_t pn, const char *t, size_t tn)
{
	static bool match[GLOB_REF_MAX + 1][GLOB_REF_MAX + 1];

	for (size_t i = pn + 1; i-- > 0;)
		for (size_t j = tn + 1; j-- > 0;) {
			bool r;
			if (i == pn)
				r = j == tn;
			else if (p[i] == '*')
				r = match[i + 1][j] || (j < tn && match[i][j + 1]);
			else
				r = j < tn && (p[i] == '?' || p[i] == t[j]) && match[i + 1][j + 1];
			match[i][j] = r;
		}
	return match[0][0];
}

static void check_options(const char *text, size_t len)
{
	struct options o;
	struct model m;

	options_defaults(&o);
	bool ok = options_parse_n(&o, text, len);
	model_parse(&m, text, len);

	FUZZ_CHECK(ok == (o.error_count == 0));
	FUZZ_CHECK(o.error_count == m.errors);
	FUZZ_CHECK(o.dma == m.dma);
	FUZZ_CHECK(o.end == m.end);
	FUZZ_CHECK(o.bench_bytes == m.bench_bytes);
	FUZZ_CHECK(strcmp(o.console_text, m.console) == 0);
	FUZZ_CHECK(o.bench_bytes >= 1 && o.bench_bytes <= OPTIONS_BENCH_BYTES_MAX);
	FUZZ_CHECK(o.write_nsid == m.write_nsid);
	FUZZ_CHECK(fuzz_terminated(o.write_serial, sizeof(o.write_serial)));
	FUZZ_CHECK(strcmp(o.write_serial, m.write_serial) == 0);
	/* Writes are allowed for exactly the named target, and only when one is named. */
	FUZZ_CHECK(options_write_allowed(&o, o.write_serial, o.write_nsid) == (o.write_nsid != 0));
	FUZZ_CHECK(!options_write_allowed(&o, o.write_serial, o.write_nsid + 1));
	FUZZ_CHECK(options_end_name(o.end) != NULL);
	FUZZ_CHECK(o.timeout_s == m.timeout_s);
	FUZZ_CHECK((unsigned)o.order == m.order);
	FUZZ_CHECK(o.order_seed == m.order_seed);
	FUZZ_CHECK((o.order == RUN_ORDER_SHUFFLE) == (o.order_seed != 0));
	FUZZ_CHECK(o.timeout_s >= 1 && o.timeout_s <= OPTIONS_TIMEOUT_MAX_S);
	FUZZ_CHECK(fuzz_terminated(o.tests, sizeof(o.tests)));
	FUZZ_CHECK(strcmp(o.tests, m.tests) == 0);
	const char *name = options_dma_name(o.dma);
	FUZZ_CHECK(name && (!strcmp(name, "auto") || !strcmp(name, "bounce") || !strcmp(name, "iommu")));
	for (unsigned i = 0; i < o.error_count && i < OPTIONS_MAX_ERRORS; i++) {
		FUZZ_CHECK(fuzz_terminated(o.errors[i].token, sizeof(o.errors[i].token)));
		FUZZ_CHECK(strcmp(o.errors[i].token, m.tokens[i]) == 0);
		FUZZ_CHECK(o.errors[i].offset == m.offsets[i]);
		if (o.errors[i].offset != OPTION_ERROR_NO_OFFSET)
			FUZZ_CHECK(o.errors[i].byte == (uint8_t)text[o.errors[i].offset]);
		FUZZ_CHECK(o.errors[i].reason && o.errors[i].reason[0]);
		FUZZ_CHECK(strpbrk(o.errors[i].reason, WS) == NULL);
	}
	/* A literal list item always matches itself as a glob. */
	if (o.tests[0]) {
		size_t first = strcspn(o.tests, ",");
		char item[OPTIONS_TESTS_MAX];

		memcpy(item, o.tests, first);
		item[first] = '\0';
		FUZZ_CHECK(list_contains(o.tests, item));
		FUZZ_CHECK(glob_list_match(o.tests, item));
	}
}

static void check_options_cstring(const char *text, size_t len)
{
	struct options a, b;

	options_defaults(&a);
	options_defaults(&b);
	FUZZ_CHECK(options_parse(&a, text) == options_parse_n(&b, text, len));
	FUZZ_CHECK(a.error_count == b.error_count && a.dma == b.dma && a.timeout_s == b.timeout_s);
	FUZZ_CHECK(strcmp(a.tests, b.tests) == 0);
}

static void check_glob(const char *text)
{
	const char *bar = strchr(text, '|');

	if (!bar)
		return;
	size_t pn = (size_t)(bar - text);
	const char *name = bar + 1;
	size_t tn = strlen(name);

	if (pn > GLOB_REF_MAX || tn > GLOB_REF_MAX)
		return;
	FUZZ_CHECK(glob_match(text, pn, name) == glob_reference(text, pn, name, tn));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_alloc(size + 1);

	if (size)
		memcpy(text, data, size);
	check_options(text, size);
	if (size && memchr(text, '\0', size) == NULL)
		/* Without NULs the C-string entry point must agree with the length one. */
		check_options_cstring(text, size);
	check_glob(text);
	free(text);
	return 0;
}
