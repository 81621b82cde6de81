/*
 * 16550 UARTs carrying the console: legacy COM ports through port I/O and
 * memory-mapped ones through the MMIO accessor layer.  See serial.h.
 */
#include "serial.h"

#include "io.h"
#include "mmio.h"
#include "paging.h"

#include <stdio.h>
#include <string.h>

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7 /* scratch: holds what was written on a real 16550 */
#define UART_REGS 8

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_THR_EMPTY 0x20
/* IIR bits 7:6 both set: the FIFOs are enabled (a 16550A or later; a 16450 has none). */
#define UART_IIR_FIFOS_ENABLED 0xc0
#define UART_TX_FIFO_BYTES 16 /* the 16550A's transmit FIFO */
#define UART_DIVISOR_BYTE 0xff
#define UART_DIVISOR_HIGH_SHIFT 8
/* Two patterns: an absent port floats to 0xff, a stuck bus may echo one value. */
#define UART_SCRATCH_A 0x5a
#define UART_SCRATCH_B 0xa5

/* Bounds the wait for a UART that never drains (absent or wedged port). */
#define UART_TX_SPIN_LIMIT 100000

static const uint16_t com_ports[SERIAL_COM_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

static struct serial_port ports[SERIAL_MAX_PORTS];
static unsigned port_count;

static char transcript[SERIAL_TRANSCRIPT_SIZE];
static size_t transcript_len;
static bool transcript_open = true;

static uint8_t reg_read(const struct uart_desc *u, unsigned reg)
{
	uint64_t addr = u->base + (uint64_t)reg * u->stride;

	if (u->space == UART_SPACE_IO)
		return inb((uint16_t)addr);
	if (u->stride == UART_STRIDE_DWORD)
		return (uint8_t)mmio_read32(addr);
	return mmio_read8(addr);
}

static void reg_write(const struct uart_desc *u, unsigned reg, uint8_t value)
{
	uint64_t addr = u->base + (uint64_t)reg * u->stride;

	if (u->space == UART_SPACE_IO)
		outb((uint16_t)addr, value);
	else if (u->stride == UART_STRIDE_DWORD)
		mmio_write32(addr, value);
	else
		mmio_write8(addr, value);
}

static bool uart_answers(const struct uart_desc *u)
{
	reg_write(u, UART_SCR, UART_SCRATCH_A);
	if (reg_read(u, UART_SCR) != UART_SCRATCH_A)
		return false;
	reg_write(u, UART_SCR, UART_SCRATCH_B);
	return reg_read(u, UART_SCR) == UART_SCRATCH_B;
}

/*
 * 8N1 at u->baud when the input clock is known; otherwise (baud 0, or an
 * MMIO UART whose clock nobody stated) the platform firmware's divisor and
 * line settings stay: it configured the port for its own console.
 */
static void uart_start(const struct uart_desc *u)
{
	reg_write(u, UART_IER, 0);
	if (u->baud != 0 && u->clock_hz != 0) {
		uint32_t divisor = u->clock_hz / (UART_CLOCK_DIVIDE * u->baud);
		if (divisor != 0) {
			reg_write(u, UART_LCR, UART_LCR_DLAB);
			reg_write(u, UART_DLL, divisor & UART_DIVISOR_BYTE);
			reg_write(u, UART_DLM, (divisor >> UART_DIVISOR_HIGH_SHIFT) & UART_DIVISOR_BYTE);
			reg_write(u, UART_LCR, UART_LCR_8N1);
		}
	}
	reg_write(u, UART_FCR, UART_FCR_ENABLE_CLEAR);
	reg_write(u, UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

/* Bytes the transmitter takes once LSR says it is empty: the FIFO's depth, or 1 without FIFOs. */
static unsigned uart_tx_burst(const struct uart_desc *u)
{
	bool fifos = (reg_read(u, UART_IIR) & UART_IIR_FIFOS_ENABLED) == UART_IIR_FIFOS_ENABLED;

	return fifos ? UART_TX_FIFO_BYTES : 1;
}

/*
 * THRE means the whole transmit FIFO is empty, so one LSR read covers a
 * FIFO's worth of bytes: under QEMU's TCG every register access is a trip
 * out of the guest, and polling before each byte doubled the console's cost.
 */
static void uart_put(struct serial_port *p, char c)
{
	if (p->tx_room == 0) {
		for (unsigned spin = 0; spin < UART_TX_SPIN_LIMIT; spin++)
			if (reg_read(&p->uart, UART_LSR) & UART_LSR_THR_EMPTY)
				break;
		p->tx_room = p->tx_burst ? p->tx_burst : 1; /* 0 before uart_tx_burst ran */
	}
	reg_write(&p->uart, UART_THR, (uint8_t)c);
	p->tx_room--;
}

/* Terminals want CR LF; logs parse either. */
static void uart_write(struct serial_port *p, const char *buf, size_t len)
{
	/* Other code (GRUB before us, a debugger) may have used the port since: wait for THRE first. */
	p->tx_room = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			uart_put(p, '\r');
		uart_put(p, buf[i]);
	}
}

static struct serial_port *port_new(const struct uart_desc *u)
{
	if (port_count == SERIAL_MAX_PORTS)
		return NULL;
	struct serial_port *p = &ports[port_count++];
	*p = (struct serial_port){ .uart = *u };
	return p;
}

void serial_com_uart(unsigned index, struct uart_desc *out)
{
	*out = (struct uart_desc){ .space = UART_SPACE_IO, .base = com_ports[index],
				   .stride = UART_STRIDE_BYTE, .baud = SERIAL_CONSOLE_BAUD,
				   .clock_hz = UART_PC_CLOCK_HZ };
}

void serial_init(void)
{
	for (unsigned i = 0; i < SERIAL_COM_PORTS; i++) {
		struct uart_desc u;
		serial_com_uart(i, &u);
		/* COM1 is the documented console: used even when it cannot be probed. */
		bool answers = uart_answers(&u);
		if (i != 0 && !answers)
			continue;
		struct serial_port *p = port_new(&u);
		snprintf(p->label, sizeof(p->label), "com%u", i + 1);
		p->com = (int)i + 1;
		p->active = true;
		uart_start(&u);
		p->tx_burst = uart_tx_burst(&u);
	}
}

void serial_write(const char *buf, size_t len)
{
	if (transcript_open) {
		size_t room = sizeof(transcript) - transcript_len;
		size_t n = len < room ? len : room;
		memcpy(transcript + transcript_len, buf, n);
		transcript_len += n;
	}
	for (unsigned i = 0; i < port_count; i++)
		if (ports[i].active)
			uart_write(&ports[i], buf, len);
}

static struct serial_port *port_at(const struct uart_desc *u)
{
	for (unsigned i = 0; i < port_count; i++)
		if (uart_desc_same(&ports[i].uart, u))
			return &ports[i];
	return NULL;
}

bool serial_add(const struct uart_desc *u, bool from_spcr, const char **reason)
{
	struct serial_port *p = port_at(u);

	if (p) {
		p->from_spcr |= from_spcr;
		return true;
	}
	if (u->space == UART_SPACE_MMIO &&
	    !paging_map_mmio(u->base, (uint64_t)UART_REGS * u->stride)) {
		*reason = "cannot-map-uart-registers";
		return false;
	}
	if (!uart_answers(u)) {
		*reason = "uart-does-not-answer-scratch-register-test";
		return false;
	}
	p = port_new(u);
	if (!p) {
		*reason = "too-many-serial-ports";
		return false;
	}
	char name[SERIAL_LABEL_MAX];
	uart_desc_name(u, name, sizeof(name));
	snprintf(p->label, sizeof(p->label), "%s%s", from_spcr ? "spcr-" : "", name);
	p->from_spcr = from_spcr;
	uart_start(u);
	p->tx_burst = uart_tx_burst(u);
	uart_write(p, transcript, transcript_len);
	p->active = true;
	return true;
}

unsigned serial_port_count(void)
{
	return port_count;
}

struct serial_port *serial_port_get(unsigned index)
{
	return index < port_count ? &ports[index] : NULL;
}

void serial_transcript_end(void)
{
	transcript_open = false;
}
