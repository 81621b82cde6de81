/*
 * SPCR decoding and the console= option.  The SPCR tables are compiled by
 * iasl from the .asl sources in tests/data/spcr/ (an encoder independent of this parser).
 */
#include "acpi.h"
#include "acpi_fadt.h"
#include "console_spec.h"
#include "options.h"
#include "spcr.h"
#include "unit.h"

#include <stdio.h>

#define SPCR_DIR "tests/data/spcr/"
#define TABLE_MAX 256
#define FCH_UART_CLOCK_HZ 48000000u
#define REV3_LEN 88

struct table {
	uint8_t bytes[TABLE_MAX];
	size_t len;
};

static void load(const char *name, struct table *t)
{
	char path[128];
	snprintf(path, sizeof(path), SPCR_DIR "%s.bin", name);
	FILE *f = fopen(path, "rb");
	t->len = 0;
	if (!f) {
		unit_fail(__FILE__, __LINE__, "cannot open %s (run from the repository root)", path);
		return;
	}
	t->len = fread(t->bytes, 1, sizeof(t->bytes), f);
	fclose(f);
}

UNIT_TEST(spcr_io_com2_like_a_supermicro_bmc)
{
	struct table t;
	struct spcr_info info;
	char name[32];

	load("spcr-io-2f8", &t);
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_OK);
	CHECK_EQ(info.interface_type, SPCR_IF_16550);
	CHECK_EQ(info.uart.space, UART_SPACE_IO);
	CHECK_EQ(info.uart.base, 0x2f8);
	CHECK_EQ(info.uart.stride, UART_STRIDE_BYTE);
	CHECK_EQ(info.uart.baud, 115200);
	CHECK_EQ(info.uart.clock_hz, UART_PC_CLOCK_HZ);
	uart_desc_name(&info.uart, name, sizeof(name));
	CHECK_STR(name, "io:0x2f8");
}

UNIT_TEST(spcr_mmio32_fch_uart_keeps_unknown_clock)
{
	struct table t;
	struct spcr_info info;
	char name[32];

	load("spcr-mmio32-fedc9000", &t);
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_OK);
	CHECK_EQ(info.uart.space, UART_SPACE_MMIO);
	CHECK_EQ(info.uart.base, 0xfedc9000u);
	CHECK_EQ(info.uart.stride, UART_STRIDE_DWORD);
	CHECK_EQ(info.uart.baud, 115200);
	/* Revision 2 states no clock: the platform's divisor must be kept. */
	CHECK_EQ(info.uart.clock_hz, 0);
	uart_desc_name(&info.uart, name, sizeof(name));
	CHECK_STR(name, "mmio32:0xfedc9000");
}

UNIT_TEST(spcr_revision3_clock_is_used)
{
	struct table t;
	struct spcr_info info;

	load("spcr-mmio32-fedc9000", &t);
	t.bytes[ACPI_HDR_OFF_REVISION] = SPCR_REV_UART_CLOCK;
	memset(t.bytes + SPCR_MIN_LEN, 0, REV3_LEN - SPCR_MIN_LEN);
	t.bytes[SPCR_OFF_UART_CLOCK + 0] = (uint8_t)FCH_UART_CLOCK_HZ;
	t.bytes[SPCR_OFF_UART_CLOCK + 1] = (uint8_t)(FCH_UART_CLOCK_HZ >> 8);
	t.bytes[SPCR_OFF_UART_CLOCK + 2] = (uint8_t)(FCH_UART_CLOCK_HZ >> 16);
	t.bytes[SPCR_OFF_UART_CLOCK + 3] = (uint8_t)(FCH_UART_CLOCK_HZ >> 24);
	CHECK_EQ(spcr_parse(t.bytes, REV3_LEN, &info), SPCR_OK);
	CHECK_EQ(info.uart.clock_hz, FCH_UART_CLOCK_HZ);
	/* A revision-3 table cut at 80 bytes has no clock field to read. */
	CHECK_EQ(spcr_parse(t.bytes, SPCR_MIN_LEN, &info), SPCR_OK);
	CHECK_EQ(info.uart.clock_hz, 0);
}

UNIT_TEST(spcr_rejects_what_it_cannot_drive)
{
	struct table t;
	struct spcr_info info;

	load("spcr-pl011", &t);
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_NOT_16550);
	CHECK_EQ(info.interface_type, 3);

	load("spcr-io-2f8", &t);
	CHECK_EQ(spcr_parse(t.bytes, SPCR_MIN_LEN - 1, &info), SPCR_TOO_SHORT);
	t.bytes[SPCR_OFF_BAUD] = 5; /* not an SPCR baud code */
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_UNKNOWN_BAUD);
	t.bytes[SPCR_OFF_BAUD] = 0; /* "as is" */
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_OK);
	CHECK_EQ(info.uart.baud, 0);
	t.bytes[SPCR_OFF_BASE_GAS + GAS_OFF_SPACE] = GAS_SPACE_PCI_CONFIG;
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_UNSUPPORTED_SPACE);
	memset(t.bytes + SPCR_OFF_BASE_GAS + GAS_OFF_ADDRESS, 0, sizeof(uint64_t));
	CHECK_EQ(spcr_parse(t.bytes, t.len, &info), SPCR_REDIRECTION_OFF);
	CHECK_STR(spcr_status_str(SPCR_REDIRECTION_OFF), "redirection-disabled-base-address-0");
}

static bool spec(const char *text, struct console_spec *s)
{
	return console_spec_parse(text, strlen(text), s);
}

UNIT_TEST(console_spec_accepts_ports_and_lists)
{
	struct console_spec s;

	console_spec_default(&s);
	CHECK(s.all);
	CHECK(spec("com2", &s));
	CHECK(!s.all && !s.spcr);
	CHECK_EQ(s.com_mask, 0x2);
	CHECK(spec("spcr,com1,com4", &s));
	CHECK(s.spcr);
	CHECK_EQ(s.com_mask, 0x9);
	CHECK(spec("mmio32:0xFEDC9000,mmio:0x3f8", &s));
	CHECK_EQ(s.mmio_count, 2);
	CHECK_EQ(s.mmio[0].base, 0xfedc9000u);
	CHECK_EQ(s.mmio[0].stride, UART_STRIDE_DWORD);
	CHECK_EQ(s.mmio[1].stride, UART_STRIDE_BYTE);
	CHECK_EQ(s.mmio[1].baud, 0);
}

UNIT_TEST(console_spec_rejects_bad_items)
{
	static const char *const bad[] = {
		"", "com5", "com", "COM1", ",com1", "com1,", "com1,,com2", "mmio:", "mmio:0x",
		"mmio:0", "mmio:0x0", "mmio:fedc9000", "mmio:0xfedc9000g", "mmio16:0x1000",
		"mmio:0x11112222333344445", "mmio:0x1,mmio:0x2,mmio:0x3", "spcr ",
	};
	struct console_spec s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spec(bad[i], &s))
			unit_fail(__FILE__, __LINE__, "console=%s accepted", bad[i]);
}

UNIT_TEST(console_option_reaches_the_options)
{
	struct options o;

	options_defaults(&o);
	CHECK_STR(o.console_text, "all");
	CHECK(o.console.all);
	CHECK(options_parse(&o, "console=spcr,com2"));
	CHECK_STR(o.console_text, "spcr,com2");
	CHECK(o.console.spcr && !o.console.all);
	CHECK(!options_parse(&o, "console=com9"));
	CHECK_EQ(o.error_count, 1);
	CHECK_STR(o.errors[0].token, "console=com9");
	/* A rejected value leaves the earlier selection. */
	CHECK_STR(o.console_text, "spcr,com2");
}
