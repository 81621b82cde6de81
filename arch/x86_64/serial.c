/* 16550 UART on COM1: the console every proof line goes to. */
#include "serial.h"

#include "boot_defs.h"
#include "io.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_THR_EMPTY 0x20

#define UART_BASE_CLOCK 115200
#define CONSOLE_BAUD 115200

/* Bounds the wait for a UART that never drains (absent or wedged port). */
#define UART_TX_SPIN_LIMIT 100000

static void uart_put(char c)
{
	for (unsigned spin = 0; spin < UART_TX_SPIN_LIMIT; spin++)
		if (inb(COM1_PORT + UART_LSR) & UART_LSR_THR_EMPTY)
			break;
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_init(void)
{
	const unsigned divisor = UART_BASE_CLOCK / CONSOLE_BAUD;

	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
	outb(COM1_PORT + UART_DLL, divisor & 0xff);
	outb(COM1_PORT + UART_DLM, divisor >> 8);
	outb(COM1_PORT + UART_LCR, UART_LCR_8N1);
	outb(COM1_PORT + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1_PORT + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

/* Terminals want CR LF; logs parse either. */
void serial_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			uart_put('\r');
		uart_put(buf[i]);
	}
}
