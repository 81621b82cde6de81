/*
 * The serial console: every 16550-compatible UART the log goes to.  At boot
 * COM1 (always, as the legacy console) and every other legacy port
 * (COM2-COM4) that answers are started at 115200 8N1; later the console adds
 * the UART the ACPI SPCR table names (I/O or memory-mapped) or one named by
 * the console= option, and may narrow the set.  A UART added later first
 * receives what was written before it (up to SERIAL_TRANSCRIPT_SIZE bytes),
 * so a lab listening only there still sees the whole run.
 */
#ifndef PROOFBOOT_SERIAL_H
#define PROOFBOOT_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "uart_desc.h"

#define SERIAL_MAX_PORTS 6
#define SERIAL_LABEL_MAX 32
#define SERIAL_TRANSCRIPT_SIZE (16u * 1024u)
#define SERIAL_COM_PORTS 4
#define SERIAL_CONSOLE_BAUD 115200u

struct serial_port {
	struct uart_desc uart;
	char label[SERIAL_LABEL_MAX]; /* "com1".."com4", "spcr-io:0x2f8", "mmio32:0x..." */
	int com;                      /* 1..4 for a legacy port, 0 otherwise */
	bool from_spcr;
	bool active;
	unsigned tx_burst;            /* bytes written per THRE: 16 with FIFOs, else 1 */
	unsigned tx_room;             /* of those, left before LSR is read again */
};

/* The legacy port COM(index + 1), index < SERIAL_COM_PORTS, at 115200 from the PC clock. */
void serial_com_uart(unsigned index, struct uart_desc *out);

/* Starts COM1 and every answering COM2-COM4. */
void serial_init(void);
void serial_write(const char *buf, size_t len);

/*
 * Starts another UART, replays the transcript to it and keeps writing to it.
 * False with a reason when it does not answer (scratch register test) or
 * there is no room; an already-active UART at the same address just gets
 * the flag.
 */
bool serial_add(const struct uart_desc *u, bool from_spcr, const char **reason);

/* The ports known (active or not), for selection and reporting. */
unsigned serial_port_count(void);
struct serial_port *serial_port_get(unsigned index);

/* Stops keeping the transcript: no UART is added after this. */
void serial_transcript_end(void);

#endif
