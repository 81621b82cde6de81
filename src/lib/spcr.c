/* ACPI SPCR decoding: see spcr.h. */
#include "spcr.h"

#include "acpi.h"
#include "acpi_fadt.h"
#include "le.h"

/* SPCR's baud rate codes; 0 means "as is": keep the platform's setting. */
static const uint32_t spcr_baud_by_code[] = {
	[0] = 0, [3] = 9600, [4] = 19200, [6] = 57600, [7] = 115200,
};
#define SPCR_BAUD_CODES (sizeof(spcr_baud_by_code) / sizeof(spcr_baud_by_code[0]))

static bool interface_is_16550(uint8_t type)
{
	return type == SPCR_IF_16550 || type == SPCR_IF_16550_SUBSET || type == SPCR_IF_16550_GAS;
}

/*
 * Register spacing follows the access width the table gives: a UART
 * described with 32-bit accesses (FCH-style) has one register per dword.
 */
static unsigned gas_stride(const struct acpi_gas *gas)
{
	if (gas->access_size == SPCR_GAS_ACCESS_DWORD || gas->bit_width == SPCR_GAS_BITS_DWORD)
		return UART_STRIDE_DWORD;
	return UART_STRIDE_BYTE;
}

static enum spcr_status decode_base(const uint8_t *raw, struct uart_desc *u)
{
	struct acpi_gas gas;

	acpi_gas_parse(raw, &gas);
	u->base = gas.address;
	if (u->base == 0)
		return SPCR_REDIRECTION_OFF;
	switch (gas.space) {
	case GAS_SPACE_IO:
		u->space = UART_SPACE_IO;
		u->stride = UART_STRIDE_BYTE;
		u->clock_hz = UART_PC_CLOCK_HZ; /* legacy ports run from the PC clock */
		return SPCR_OK;
	case GAS_SPACE_MEMORY:
		u->space = UART_SPACE_MMIO;
		u->stride = gas_stride(&gas);
		return SPCR_OK;
	default:
		return SPCR_UNSUPPORTED_SPACE;
	}
}

enum spcr_status spcr_parse(const void *table, size_t len, struct spcr_info *info)
{
	const uint8_t *t = table;

	*info = (struct spcr_info){ 0 };
	if (len < SPCR_MIN_LEN)
		return SPCR_TOO_SHORT;
	info->revision = t[ACPI_HDR_OFF_REVISION];
	info->interface_type = t[SPCR_OFF_INTERFACE_TYPE];
	info->baud_code = t[SPCR_OFF_BAUD];
	if (!interface_is_16550(info->interface_type))
		return SPCR_NOT_16550;
	enum spcr_status status = decode_base(t + SPCR_OFF_BASE_GAS, &info->uart);
	if (status != SPCR_OK)
		return status;
	/* Revision 3 states the input clock; an MMIO UART's is otherwise unknown. */
	if (info->revision >= SPCR_REV_UART_CLOCK && len >= SPCR_OFF_UART_CLOCK + SPCR_CLOCK_FIELD_LEN &&
	    le_get32(t + SPCR_OFF_UART_CLOCK) != 0)
		info->uart.clock_hz = le_get32(t + SPCR_OFF_UART_CLOCK);
	if (info->baud_code >= SPCR_BAUD_CODES ||
	    (info->baud_code != 0 && spcr_baud_by_code[info->baud_code] == 0))
		return SPCR_UNKNOWN_BAUD;
	info->uart.baud = spcr_baud_by_code[info->baud_code];
	return SPCR_OK;
}

const char *spcr_status_str(enum spcr_status status)
{
	switch (status) {
	case SPCR_OK: return "ok";
	case SPCR_TOO_SHORT: return "table-too-short";
	case SPCR_NOT_16550: return "interface-not-16550-compatible";
	case SPCR_REDIRECTION_OFF: return "redirection-disabled-base-address-0";
	case SPCR_UNSUPPORTED_SPACE: return "base-address-space-not-memory-or-io";
	case SPCR_UNKNOWN_BAUD: return "unknown-baud-rate-code";
	}
	return "unknown";
}
