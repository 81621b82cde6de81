/*
 * Proof-line emitter: the one way firmware code prints a machine-checkable
 * line.  Grammar (docs/proof-lines.md):
 *
 *     subsystem: event words key=value key=value ...
 *
 * Values are escaped so they never contain a space: every byte outside
 * 0x21..0x7e, and '%' itself, is written as %XX (upper-case hex).
 *
 * Portable: compiles in the firmware and on the host (unit tests, fuzzers).
 */
#ifndef PROOFBOOT_PROOF_H
#define PROOFBOOT_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version of the proof-line schema; bump when a documented line changes. */
#define PROOF_SCHEMA_VERSION 1

/* Longest line (without newline) the writer produces. */
#define PROOF_LINE_MAX 1024

struct proof {
	char buf[PROOF_LINE_MAX + 1];
	size_t len;
	bool truncated;
};

/* Where finished lines go.  The firmware installs a console sink at boot. */
typedef void (*proof_sink_fn)(const char *line, void *ctx);
void proof_set_sink(proof_sink_fn sink, void *ctx);

void proof_begin(struct proof *p, const char *subsystem, const char *event);
void proof_str(struct proof *p, const char *key, const char *value);
/* Fixed-width byte fields (e.g. NVMe SN/MN): trailing spaces and NULs are trimmed. */
void proof_strn(struct proof *p, const char *key, const char *value, size_t n);
/* Exactly n bytes, NULs and control bytes included (each escaped as %XX). */
void proof_bytes(struct proof *p, const char *key, const void *value, size_t n);
void proof_u64(struct proof *p, const char *key, uint64_t value);
void proof_i64(struct proof *p, const char *key, int64_t value);
/* 0x-prefixed, zero-padded to at least `digits` hex digits. */
void proof_hex(struct proof *p, const char *key, uint64_t value, unsigned digits);
void proof_bool(struct proof *p, const char *key, bool value);

/* Terminates the line and returns it (no newline); a too-long line ends in " truncated=true". */
const char *proof_finish(struct proof *p);
/* proof_finish() and hand the line to the sink. */
void proof_emit(struct proof *p);

/*
 * Escapes n bytes of src into dst (capacity cap, always NUL-terminated when
 * cap > 0).  Returns the length the full escape needs, like snprintf.
 */
size_t proof_escape(char *dst, size_t cap, const char *src, size_t n);

#endif
