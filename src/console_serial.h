/*
 * Which serial ports carry the log, once the ACPI tables and the options
 * are known: adds the UART the SPCR table names (the BMC's serial-over-LAN
 * port on many servers) and those console= names, then keeps only what
 * console= selects.  Prints `console: serial ...` (docs/proof-lines.md).
 */
#ifndef PROOFBOOT_CONSOLE_SERIAL_H
#define PROOFBOOT_CONSOLE_SERIAL_H

#include <stddef.h>

#include "console_spec.h"

/* Needs acpi_init(); `selection` is the console= text ("all" by default). */
void console_serial_configure(const struct console_spec *spec, const char *selection);

/* Comma-separated labels of the ports carrying the log ("com1,spcr-io:0x2f8"). */
void console_serial_describe(char *buf, size_t cap);

#endif
