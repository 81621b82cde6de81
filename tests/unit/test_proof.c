#include "unit.h"
#include "proof.h"

#include <stdio.h>

static char last_line[PROOF_LINE_MAX + 1];
static int sink_calls;

static void capture_sink(const char *line, void *ctx)
{
	(void)ctx;
	snprintf(last_line, sizeof(last_line), "%s", line);
	sink_calls++;
}

UNIT_TEST(proof_line_has_subsystem_event_and_fields)
{
	struct proof p;

	proof_set_sink(capture_sink, NULL);
	sink_calls = 0;
	proof_begin(&p, "test", "result");
	proof_str(&p, "name", "nvme.read.bounce");
	proof_u64(&p, "duration_us", 1234);
	proof_hex(&p, "status", 0x281, 3);
	proof_hex(&p, "crc32", 0xbeef, 8);
	proof_i64(&p, "delta", -5);
	proof_bool(&p, "ok", true);
	proof_emit(&p);
	CHECK_EQ(sink_calls, 1);
	CHECK_STR(last_line, "test: result name=nvme.read.bounce duration_us=1234 "
			     "status=0x281 crc32=0x0000beef delta=-5 ok=true");
}

UNIT_TEST(proof_escape_spaces_percent_and_controls)
{
	char out[64];

	CHECK_EQ(proof_escape(out, sizeof(out), "a b%c\n\x80", 7), 15);
	CHECK_STR(out, "a%20b%25c%0A%80");
	/* Embedded NUL is escaped too, so binary fields survive. */
	CHECK_EQ(proof_escape(out, sizeof(out), "x\0y", 3), 5);
	CHECK_STR(out, "x%00y");
}

UNIT_TEST(proof_escape_reports_needed_length_when_short)
{
	char out[4];

	CHECK_EQ(proof_escape(out, sizeof(out), "a b", 3), 5);
	CHECK_STR(out, "a%2");
	CHECK_EQ(proof_escape(NULL, 0, "%%", 2), 6);
}

UNIT_TEST(proof_strn_trims_fixed_width_padding)
{
	struct proof p;

	proof_begin(&p, "nvme", "identify controller");
	proof_strn(&p, "mn", "QEMU NVMe Ctrl                          ", 40);
	proof_strn(&p, "sn", "vol0123\0\0\0", 10);
	CHECK_STR(proof_finish(&p), "nvme: identify controller mn=QEMU%20NVMe%20Ctrl sn=vol0123");
}

UNIT_TEST(proof_empty_value_is_key_equals)
{
	struct proof p;

	proof_begin(&p, "test", "result");
	proof_str(&p, "reason", "");
	CHECK_STR(proof_finish(&p), "test: result reason=");
}

UNIT_TEST(proof_overlong_line_is_marked_truncated_and_bounded)
{
	struct proof p;
	char big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	proof_begin(&p, "test", "long");
	for (int i = 0; i < 10; i++)
		proof_str(&p, "k", big);
	const char *line = proof_finish(&p);
	CHECK(strlen(line) <= PROOF_LINE_MAX);
	const char *tail = line + strlen(line) - strlen(" truncated=true");
	CHECK_STR(tail, " truncated=true");
	/* Whole fields only: the body before the marker ends with a complete value. */
	CHECK(tail[-1] == 'x');
}
