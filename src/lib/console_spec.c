/* The console= option value: see console_spec.h. */
#include "console_spec.h"

#include <string.h>

#define HEX_PREFIX "0x"
#define HEX_PREFIX_LEN 2
#define HEX_DIGITS_MAX 16
#define HEX_RADIX 16
#define DECIMAL_RADIX 10

static const char *const com_names[CONSOLE_COM_PORTS] = { "com1", "com2", "com3", "com4" };

void console_spec_default(struct console_spec *s)
{
	*s = (struct console_spec){ .all = true };
}

static bool item_is(const char *item, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(item, name, len) == 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + DECIMAL_RADIX;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + DECIMAL_RADIX;
	return -1;
}

/* "0x" and 1..16 hex digits, not zero. */
static bool parse_address(const char *text, size_t len, uint64_t *out)
{
	if (len <= HEX_PREFIX_LEN || len > HEX_PREFIX_LEN + HEX_DIGITS_MAX ||
	    memcmp(text, HEX_PREFIX, HEX_PREFIX_LEN) != 0)
		return false;
	uint64_t value = 0;
	for (size_t i = HEX_PREFIX_LEN; i < len; i++) {
		int d = hex_digit(text[i]);
		if (d < 0)
			return false;
		value = value * HEX_RADIX + (uint64_t)d;
	}
	*out = value;
	return value != 0;
}

/* mmio:<addr> or mmio32:<addr>; the platform's baud rate is kept. */
static bool parse_mmio(const char *item, size_t len, struct console_spec *s)
{
	static const struct { const char *prefix; unsigned stride; } kinds[] = {
		{ "mmio:", UART_STRIDE_BYTE },
		{ "mmio32:", UART_STRIDE_DWORD },
	};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t plen = strlen(kinds[k].prefix);
		if (len <= plen || memcmp(item, kinds[k].prefix, plen) != 0)
			continue;
		struct uart_desc u = { .space = UART_SPACE_MMIO, .stride = kinds[k].stride };
		if (s->mmio_count == CONSOLE_MMIO_MAX || !parse_address(item + plen, len - plen, &u.base))
			return false;
		s->mmio[s->mmio_count++] = u;
		return true;
	}
	return false;
}

static bool parse_item(const char *item, size_t len, struct console_spec *s)
{
	if (item_is(item, len, "all")) {
		s->all = true;
		return true;
	}
	if (item_is(item, len, "spcr")) {
		s->spcr = true;
		return true;
	}
	for (unsigned i = 0; i < CONSOLE_COM_PORTS; i++) {
		if (item_is(item, len, com_names[i])) {
			s->com_mask |= (uint8_t)(1u << i);
			return true;
		}
	}
	return parse_mmio(item, len, s);
}

bool console_spec_parse(const char *value, size_t len, struct console_spec *s)
{
	*s = (struct console_spec){ 0 };
	if (len == 0)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && value[i] != ',')
			continue;
		if (i == start || !parse_item(value + start, i - start, s))
			return false;
		start = i + 1;
	}
	return true;
}
