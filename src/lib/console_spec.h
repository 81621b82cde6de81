/*
 * The console= option: which UARTs carry the log.  A comma-separated list
 * of `all` (default: every 16550 answering at COM1-COM4 and the UART the
 * ACPI SPCR table names), `spcr`, `com1`..`com4`, `mmio:<addr>` (byte-wide
 * registers) and `mmio32:<addr>` (one register per 32-bit word).
 */
#ifndef PROOFBOOT_CONSOLE_SPEC_H
#define PROOFBOOT_CONSOLE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uart_desc.h"

#define CONSOLE_COM_PORTS 4
#define CONSOLE_MMIO_MAX 2

struct console_spec {
	bool all;
	bool spcr;
	uint8_t com_mask;   /* bit n: COM(n + 1) */
	unsigned mmio_count;
	struct uart_desc mmio[CONSOLE_MMIO_MAX];
};

/* The default: all. */
void console_spec_default(struct console_spec *s);

/* Parses the option value; false (s unspecified) on any bad item. */
bool console_spec_parse(const char *value, size_t len, struct console_spec *s);

#endif
