/*
 * Proof-line writer: escaping and line assembly (src/lib/proof.c) over
 * arbitrary value bytes.  Invariants: the escape uses only bytes
 * 0x21..0x7e, '%' only as %XX with upper-case hex, its length is what
 * proof_escape reports, it decodes back to the input, short buffers get a
 * NUL-terminated prefix; a whole line stays within PROOF_LINE_MAX, has no
 * empty word, and either carries the whole value or says truncated=true.
 */
#include "fuzz.h"

#include "proof.h"

static const char truncated_marker[] = " truncated=true";

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not the writer's form */
}

/* Percent-decodes an escaped value; aborts on anything the grammar forbids. */
static size_t decode(const char *s, size_t n, uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		FUZZ_CHECK(c >= 0x21 && c <= 0x7e);
		if (c != '%') {
			out[len++] = c;
			continue;
		}
		FUZZ_CHECK(i + 2 < n);
		int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);

		FUZZ_CHECK(hi >= 0 && lo >= 0);
		uint8_t byte = (uint8_t)(hi << 4 | lo);
		/* Only bytes that must be escaped are: the writer's form is canonical. */
		FUZZ_CHECK(byte <= 0x20 || byte >= 0x7f || byte == '%');
		out[len++] = byte;
		i += 2;
	}
	return len;
}

static size_t expected_escape_len(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += (data[i] > 0x20 && data[i] < 0x7f && data[i] != '%') ? 1 : 3;
	return n;
}

static void check_escape(const uint8_t *data, size_t size)
{
	char canary = 'c';
	size_t need = proof_escape(&canary, 0, (const char *)data, size);

	FUZZ_CHECK(canary == 'c'); /* cap 0: nothing written */
	FUZZ_CHECK(need == expected_escape_len(data, size));
	char *full = (char *)fuzz_alloc(need + 1);
	FUZZ_CHECK(proof_escape(full, need + 1, (const char *)data, size) == need);
	FUZZ_CHECK(full[need] == '\0' && strlen(full) == need);
	uint8_t *back = fuzz_alloc(need);
	FUZZ_CHECK(decode(full, need, back) == size);
	FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);

	/* Short buffers: a NUL-terminated prefix of the full escape. */
	size_t caps[] = { 1, 2, 3, size % (need + 1) + 1, need };
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		size_t cap = caps[k];
		if (cap == 0)
			continue;
		char *part = (char *)fuzz_alloc(cap);

		FUZZ_CHECK(proof_escape(part, cap, (const char *)data, size) == need);
		size_t kept = need < cap ? need : cap - 1;
		FUZZ_CHECK(part[kept] == '\0' && memcmp(part, full, kept) == 0);
		free(part);
	}
	free(back);
	free(full);
}

static const char *sunk_line;

static void capture_sink(const char *line, void *ctx)
{
	(void)ctx;
	sunk_line = line;
}

/* The value proof_strn is documented to print: cut at NUL, trailing spaces trimmed. */
static size_t trimmed_len(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - data) : size;

	while (len > 0 && data[len - 1] == ' ')
		len--;
	return len;
}

static void check_line(const uint8_t *data, size_t size)
{
	struct proof p;
	size_t value_len = trimmed_len(data, size);

	proof_set_sink(capture_sink, NULL);
	proof_begin(&p, "fuzz", "escape");
	proof_strn(&p, "value", (const char *)data, size);
	proof_u64(&p, "size", size);
	proof_emit(&p);
	const char *line = sunk_line;
	size_t len = strlen(line);

	FUZZ_CHECK(line == p.buf && len <= PROOF_LINE_MAX);
	FUZZ_CHECK(fuzz_bytes_within(line, 0x20, 0x7e));
	FUZZ_CHECK(strstr(line, "  ") == NULL && line[len - 1] != ' ');
	FUZZ_CHECK(strncmp(line, "fuzz: escape", 12) == 0);
	bool truncated = len >= sizeof(truncated_marker) - 1 &&
			 strcmp(line + len - (sizeof(truncated_marker) - 1), truncated_marker) == 0;
	const char *field = strstr(line, " value=");

	if (!field) {
		/* Only a value too long for the line (with the marker) may be dropped,
		 * and then the line says so. */
		FUZZ_CHECK(truncated);
		FUZZ_CHECK(strlen("fuzz: escape value=") + expected_escape_len(data, value_len) +
				   strlen(truncated_marker) > PROOF_LINE_MAX);
		return;
	}
	field += strlen(" value=");
	size_t flen = strcspn(field, " ");
	uint8_t *back = fuzz_alloc(flen);

	FUZZ_CHECK(decode(field, flen, back) == value_len);
	FUZZ_CHECK(value_len == 0 || memcmp(back, data, value_len) == 0);
	free(back);
	if (!truncated)
		FUZZ_CHECK(strstr(line, " size=") != NULL);
}

/* Numeric fields: proof_hex pads to a caller-chosen width; never past the line. */
static void check_numbers(const uint8_t *data, size_t size)
{
	struct proof p;
	uint64_t value = 0;
	unsigned digits = size ? data[0] % 128 : 0;

	memcpy(&value, data, size < sizeof(value) ? size : sizeof(value));
	proof_begin(&p, "fuzz", "numbers");
	proof_hex(&p, "hex", value, digits);
	proof_u64(&p, "u64", value);
	proof_i64(&p, "i64", (int64_t)value);
	proof_bool(&p, "bool", value & 1);
	const char *line = proof_finish(&p);
	size_t len = strlen(line);

	FUZZ_CHECK(len <= PROOF_LINE_MAX && fuzz_bytes_within(line, 0x20, 0x7e));
	const char *hex = strstr(line, " hex=0x");
	if (hex) {
		size_t width = strcspn(hex + 7, " ");
		FUZZ_CHECK(width >= digits && width <= (digits > 16 ? digits : 16));
		FUZZ_CHECK(strtoull(hex + 7, NULL, 16) == value);
	} else {
		/* Dropped only when the padded number cannot be written whole. */
		FUZZ_CHECK(strstr(line, " truncated=true") != NULL && digits > 16);
	}
	FUZZ_CHECK(strstr(line, " bool=") != NULL || strstr(line, " truncated=true") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_escape(data, size);
	check_line(data, size);
	check_numbers(data, size);
	return 0;
}
