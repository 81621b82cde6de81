/*
 * Firmware options: whitespace-separated key=value words, from the
 * multiboot2 command line and then QEMU fw_cfg (later sources override).
 * Every unknown key or bad value is an error the run reports and fails on.
 */
#ifndef PROOFBOOT_OPTIONS_H
#define PROOFBOOT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_order.h"
#include "console_spec.h"

enum dma_mode { DMA_AUTO, DMA_BOUNCE, DMA_IOMMU };
/* What happens after the verdict: auto = QEMU exit code when under QEMU, else halt. */
enum end_action { END_AUTO, END_HALT, END_REBOOT, END_POWEROFF };

#define OPTIONS_TESTS_MAX 256
#define OPTIONS_MAX_ERRORS 8
#define OPTIONS_TIMEOUT_MAX_S 3600
#define OPTIONS_TIMEOUT_DEFAULT_S 30
/* NVMe serial numbers are 20 bytes. */
#define OPTIONS_SERIAL_MAX 20
/* Bytes each benchmark point reads at most (it also stops after 1 s): bench_bytes=N[K|M|G]. */
#define OPTIONS_BENCH_BYTES_DEFAULT (UINT64_C(64) << 20)
#define OPTIONS_BENCH_BYTES_MAX (UINT64_C(64) << 30)
#define OPTIONS_CONSOLE_MAX 64

/* No byte offset: the error is about a whole word or source. */
#define OPTION_ERROR_NO_OFFSET (-1L)

struct option_error {
	char token[64]; /* the offending word, cut to fit (control bytes shown as '?') */
	const char *reason;
	long offset;    /* control-byte errors: the byte's offset in the source text, else -1 */
	uint8_t byte;   /* control-byte errors: the byte's value */
	const char *source; /* set by the caller that knows where the text came from; may be NULL */
};

struct options {
	enum dma_mode dma;
	char tests[OPTIONS_TESTS_MAX]; /* comma-separated globs; empty = default set */
	unsigned timeout_s;
	enum end_action end;
	/* Writes are refused unless this names the one target: write=<serial>:<nsid>. */
	char write_serial[OPTIONS_SERIAL_MAX + 1];
	unsigned write_nsid; /* 0 = no write target: the firmware only reads */
	uint64_t bench_bytes; /* per benchmark point */
	enum run_order order; /* order=table|reverse|shuffle:<seed> */
	uint32_t order_seed;  /* shuffle only: 1..4294967295 */
	struct console_spec console;           /* which UARTs carry the log */
	char console_text[OPTIONS_CONSOLE_MAX]; /* the console= value as given ("all") */
	struct option_error errors[OPTIONS_MAX_ERRORS];
	unsigned error_count;
};

void options_defaults(struct options *o);
/* Applies every word of `text` to o; returns false if any word was rejected. */
bool options_parse(struct options *o, const char *text);
/*
 * The same over exactly len bytes, which may hold NULs (a fw_cfg file has a
 * length, not a terminator).  A word holding a NUL or another control byte
 * (below 0x20 except TAB, CR and LF, which separate words, or 0x7f) is
 * rejected whole: one error naming the first such byte's offset.
 */
bool options_parse_n(struct options *o, const char *text, size_t len);
/* Whether this byte makes option text invalid (see options_parse_n). */
bool options_is_control_byte(unsigned char c);
/* Records a rejected word (also for errors found outside the parser); returns false. */
bool options_add_error(struct options *o, const char *token, const char *reason);
bool options_add_error_n(struct options *o, const char *token, size_t len, const char *reason);
const char *options_dma_name(enum dma_mode mode);
const char *options_end_name(enum end_action end);
/* "table", "reverse" or "shuffle:<seed>" into buf (OPTIONS_ORDER_NAME_MAX bytes). */
#define OPTIONS_ORDER_NAME_MAX 24
const char *options_order_name(const struct options *o, char *buf);
/* True only for the controller serial and namespace named by write=. */
bool options_write_allowed(const struct options *o, const char *serial, unsigned nsid);

/* Glob match with '*' and '?' (newlib ships no fnmatch for this target). */
bool glob_match(const char *pattern, size_t pattern_len, const char *text);
/* True if `name` is literally one item of the comma-separated `list`. */
bool list_contains(const char *list, const char *name);
/* True if `name` matches any glob of the comma-separated `list`. */
bool glob_list_match(const char *list, const char *name);

#endif
