/*
 * ACPI SPCR (Serial Port Console Redirection): the UART the platform
 * firmware and its BMC (serial-over-LAN) use as the console.  Servers often
 * route SOL to COM2 and some boards have only a memory-mapped 16550 (e.g.
 * AMD's FCH UART at 0xFEDC9000), so a lab listening there sees nothing
 * unless the firmware writes where SPCR points.
 *
 * Only 16550-compatible interface types are usable here; anything else is
 * reported with its type, never guessed at.
 */
#ifndef PROOFBOOT_SPCR_H
#define PROOFBOOT_SPCR_H

#include <stddef.h>
#include <stdint.h>

#include "uart_desc.h"

/* Field offsets (ACPI header is 36 bytes; layout of revisions 1 to 4). */
#define SPCR_OFF_INTERFACE_TYPE 36
#define SPCR_OFF_BASE_GAS 40
#define SPCR_OFF_BAUD 58
#define SPCR_MIN_LEN 80             /* revisions 1 and 2 */
#define SPCR_OFF_UART_CLOCK 80      /* revision 3 and later */
#define SPCR_REV_UART_CLOCK 3
#define SPCR_CLOCK_FIELD_LEN 4

/* The base address is a Generic Address Structure (acpi_gas_parse, acpi_fadt.h). */
#define SPCR_GAS_ACCESS_DWORD 3
#define SPCR_GAS_BITS_DWORD 32

/* Interface types that are 16550-compatible (DBG2 serial port subtypes). */
#define SPCR_IF_16550 0x00
#define SPCR_IF_16550_SUBSET 0x01
#define SPCR_IF_16550_GAS 0x12

enum spcr_status {
	SPCR_OK = 0,
	SPCR_TOO_SHORT,
	SPCR_NOT_16550,        /* an interface this driver does not speak */
	SPCR_REDIRECTION_OFF,  /* base address 0: console redirection disabled */
	SPCR_UNSUPPORTED_SPACE,
	SPCR_UNKNOWN_BAUD,
};

struct spcr_info {
	uint8_t revision;
	uint8_t interface_type;
	uint8_t baud_code;      /* the table's encoding */
	struct uart_desc uart;
};

/* Decodes a checksummed SPCR table of `len` bytes; info is filled as far as read. */
enum spcr_status spcr_parse(const void *table, size_t len, struct spcr_info *info);
const char *spcr_status_str(enum spcr_status status);

#endif
