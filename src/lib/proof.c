/* Proof-line writer; see proof.h and docs/proof-lines.md. */
#include "proof.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char truncation_marker[] = " truncated=true";
/* Room kept free so the truncation marker always fits. */
#define PROOF_BODY_MAX (PROOF_LINE_MAX - (sizeof(truncation_marker) - 1))

static proof_sink_fn current_sink;
static void *current_sink_ctx;

void proof_set_sink(proof_sink_fn sink, void *ctx)
{
	current_sink = sink;
	current_sink_ctx = ctx;
}

static bool byte_is_literal(unsigned char c)
{
	return c > ' ' && c <= '~' && c != '%';
}

size_t proof_escape(char *dst, size_t cap, const char *src, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char enc[3] = { '%', hex[c >> 4], hex[c & 0xf] };
		size_t width = byte_is_literal(c) ? 1 : 3;

		if (width == 1)
			enc[0] = (char)c;
		for (size_t k = 0; k < width; k++, need++)
			if (need + 1 < cap)
				dst[need] = enc[k];
	}
	if (cap > 0)
		dst[need < cap ? need : cap - 1] = '\0';
	return need;
}

/* Appends raw text; on overflow the line is marked truncated and stops growing. */
static void append_raw(struct proof *p, const char *text, size_t n)
{
	if (p->truncated)
		return;
	if (p->len + n > PROOF_BODY_MAX) {
		p->truncated = true;
		return;
	}
	memcpy(p->buf + p->len, text, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

/* Appends " key=value" whole, or marks the line truncated: never half a field. */
static void append_field(struct proof *p, const char *key, const char *value, size_t n)
{
	size_t key_len = strlen(key);

	if (p->truncated || p->len + 2 + key_len + n > PROOF_BODY_MAX) {
		p->truncated = true;
		return;
	}
	append_raw(p, " ", 1);
	append_raw(p, key, key_len);
	append_raw(p, "=", 1);
	append_raw(p, value, n);
}

void proof_begin(struct proof *p, const char *subsystem, const char *event)
{
	p->len = 0;
	p->truncated = false;
	p->buf[0] = '\0';
	append_raw(p, subsystem, strlen(subsystem));
	append_raw(p, ": ", 2);
	append_raw(p, event, strlen(event));
}

void proof_strn(struct proof *p, const char *key, const char *value, size_t n)
{
	char escaped[PROOF_LINE_MAX];
	const char *nul = memchr(value, '\0', n);
	size_t len = nul ? (size_t)(nul - value) : n;

	while (len > 0 && value[len - 1] == ' ')
		len--;
	size_t need = proof_escape(escaped, sizeof(escaped), value, len);

	if (need >= sizeof(escaped)) {
		p->truncated = true;
		return;
	}
	append_field(p, key, escaped, need);
}

void proof_bytes(struct proof *p, const char *key, const void *value, size_t n)
{
	char escaped[PROOF_LINE_MAX];
	size_t need = proof_escape(escaped, sizeof(escaped), value, n);

	if (need >= sizeof(escaped)) {
		p->truncated = true;
		return;
	}
	append_field(p, key, escaped, need);
}

void proof_str(struct proof *p, const char *key, const char *value)
{
	proof_strn(p, key, value, strlen(value));
}

static void append_formatted(struct proof *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append_formatted(struct proof *p, const char *key, const char *fmt, ...)
{
	char text[40];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* A number wider than text (a huge proof_hex width) is dropped whole, never cut. */
	if (n < 0 || (size_t)n >= sizeof(text)) {
		p->truncated = true;
		return;
	}
	append_field(p, key, text, (size_t)n);
}

void proof_u64(struct proof *p, const char *key, uint64_t value)
{
	append_formatted(p, key, "%" PRIu64, value);
}

void proof_i64(struct proof *p, const char *key, int64_t value)
{
	append_formatted(p, key, "%" PRId64, value);
}

void proof_hex(struct proof *p, const char *key, uint64_t value, unsigned digits)
{
	append_formatted(p, key, "0x%0*" PRIx64, (int)digits, value);
}

void proof_bool(struct proof *p, const char *key, bool value)
{
	proof_str(p, key, value ? "true" : "false");
}

const char *proof_finish(struct proof *p)
{
	if (p->truncated) {
		memcpy(p->buf + p->len, truncation_marker, sizeof(truncation_marker));
		p->len += sizeof(truncation_marker) - 1;
		p->truncated = false; /* marker written once */
	}
	return p->buf;
}

void proof_emit(struct proof *p)
{
	const char *line = proof_finish(p);

	if (current_sink)
		current_sink(line, current_sink_ctx);
}
