/*
 * Where a 16550-compatible UART's registers are and how to reach them:
 * legacy I/O ports (COM1-COM4), or memory-mapped with 1- or 4-byte
 * register spacing (SoC and chipset UARTs such as AMD's FCH UART, which the
 * ACPI SPCR table names).  Shared by the SPCR parser, the console= option
 * parser and the serial driver.
 */
#ifndef PROOFBOOT_UART_DESC_H
#define PROOFBOOT_UART_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum uart_space { UART_SPACE_IO, UART_SPACE_MMIO };

/* 16550 register spacing: byte-wide registers, or one per 32-bit word. */
#define UART_STRIDE_BYTE 1u
#define UART_STRIDE_DWORD 4u

/* The PC's UART input clock (1.8432 MHz / 16): divisor = 115200 / baud. */
#define UART_PC_CLOCK_HZ 1843200u
#define UART_CLOCK_DIVIDE 16u

struct uart_desc {
	enum uart_space space;
	uint64_t base;       /* I/O port or physical address */
	unsigned stride;     /* UART_STRIDE_BYTE or UART_STRIDE_DWORD (access width too) */
	uint32_t baud;       /* 0: keep what the platform firmware programmed */
	uint32_t clock_hz;   /* input clock; 0 when unknown (then the divisor is kept) */
};

/* "io:0x2f8", "mmio:0xfedc9000" or "mmio32:0xfedc9000" into buf (always terminated). */
void uart_desc_name(const struct uart_desc *u, char *buf, size_t cap);

/* Same register block (space and base). */
bool uart_desc_same(const struct uart_desc *a, const struct uart_desc *b);

#endif
