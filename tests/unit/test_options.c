#include "unit.h"
#include "options_tests.h"
#include "options.h"

UNIT_TEST(options_defaults_are_auto_and_default_timeout)
{
	struct options o;

	options_defaults(&o);
	CHECK(options_parse(&o, ""));
	CHECK(options_parse(&o, "   \t "));
	CHECK_EQ(o.dma, DMA_AUTO);
	CHECK_EQ(o.timeout_s, OPTIONS_TIMEOUT_DEFAULT_S);
	CHECK_STR(o.tests, "");
	CHECK_EQ(o.error_count, 0);
}

UNIT_TEST(options_parse_all_keys)
{
	struct options o;

	options_defaults(&o);
	CHECK(options_parse(&o, "dma=iommu tests=nvme.*,boot.options timeout=5"));
	CHECK_EQ(o.dma, DMA_IOMMU);
	CHECK_STR(o.tests, "nvme.*,boot.options");
	CHECK_EQ(o.timeout_s, 5);
	CHECK(options_parse(&o, "dma=bounce"));
	CHECK_EQ(o.dma, DMA_BOUNCE);
	CHECK_STR(options_dma_name(o.dma), "bounce");
}

UNIT_TEST(options_later_source_overrides)
{
	struct options o;

	options_defaults(&o);
	CHECK(options_parse(&o, "dma=bounce timeout=9"));
	CHECK(options_parse(&o, "dma=iommu"));
	CHECK_EQ(o.dma, DMA_IOMMU);
	CHECK_EQ(o.timeout_s, 9);
}

UNIT_TEST(options_reject_unknown_and_bad_values)
{
	struct options o;

	options_defaults(&o);
	CHECK(!options_parse(&o, "dma=sometimes verbose timeout=0 timeout=99999 timeout=5s "
				 "tests= tests=a,,b tests=a, colour=blue"));
	CHECK_EQ(o.error_count, 9); /* all counted; the first OPTIONS_MAX_ERRORS stored */
	CHECK_STR(o.errors[0].token, "dma=sometimes");
	CHECK_STR(o.errors[0].reason, "dma-must-be-auto-bounce-or-iommu");
	CHECK_STR(o.errors[1].reason, "expected-key=value");
	CHECK_STR(o.errors[2].reason, "timeout-must-be-1-to-3600-seconds");
	CHECK_STR(o.errors[3].reason, "timeout-must-be-1-to-3600-seconds");
	CHECK_STR(o.errors[4].reason, "timeout-must-be-1-to-3600-seconds");
	CHECK_STR(o.errors[5].reason, "tests-must-be-comma-separated-globs");
	CHECK_STR(o.errors[6].reason, "tests-must-be-comma-separated-globs");
	CHECK_STR(o.errors[7].reason, "tests-must-be-comma-separated-globs");
	/* Rejected values leave the defaults in place. */
	CHECK_EQ(o.dma, DMA_AUTO);
	CHECK_EQ(o.timeout_s, OPTIONS_TIMEOUT_DEFAULT_S);
}

UNIT_TEST(options_long_token_is_cut_in_error)
{
	struct options o;
	char text[200];

	memset(text, 'k', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	options_defaults(&o);
	CHECK(!options_parse(&o, text));
	CHECK_EQ(strlen(o.errors[0].token), sizeof(o.errors[0].token) - 1);
}

UNIT_TEST(glob_matching)
{
	CHECK(glob_match("nvme.*", 6, "nvme.read.bounce"));
	CHECK(glob_match("*.bounce", 8, "nvme.read.bounce"));
	CHECK(glob_match("nvme.?ead.*", 11, "nvme.read.iommu"));
	CHECK(glob_match("*", 1, ""));
	CHECK(glob_match("a*b*c", 5, "aXXbYYc"));
	CHECK(!glob_match("a*b*c", 5, "aXXbYY"));
	CHECK(!glob_match("nvme.*", 6, "pci.enumerate"));
	CHECK(!glob_match("nvme", 4, "nvme.read"));
	/* Length-bounded: the pattern is a slice of a longer list. */
	CHECK(glob_match("boot,nvme", 4, "boot"));
}

UNIT_TEST(glob_list_and_exact_list)
{
	CHECK(glob_list_match("pci.*,nvme.read.*", "nvme.read.iommu"));
	CHECK(!glob_list_match("pci.*,nvme.read.*", "iommu.fault"));
	CHECK(list_contains("cpu.fault,runner.hang", "runner.hang"));
	CHECK(!list_contains("cpu.*", "cpu.fault"));
	CHECK(!list_contains("cpu.faults", "cpu.fault"));
	CHECK(!list_contains("", "cpu.fault"));
}

UNIT_TEST(options_end_action)
{
	struct options o;

	options_defaults(&o);
	CHECK_EQ(o.end, END_AUTO);
	CHECK(options_parse(&o, "end=poweroff"));
	CHECK_EQ(o.end, END_POWEROFF);
	CHECK_STR(options_end_name(o.end), "poweroff");
	CHECK(!options_parse(&o, "end=explode"));
	CHECK_STR(o.errors[0].reason, "end-must-be-auto-halt-reboot-or-poweroff");
	CHECK_EQ(o.end, END_POWEROFF);
}

UNIT_TEST(options_write_target_is_exact)
{
	struct options o;

	options_defaults(&o);
	CHECK(!options_write_allowed(&o, "", 0)); /* read-only by default */
	CHECK(!options_write_allowed(&o, "pb0", 1));
	CHECK(options_parse(&o, "write=vol0123456789abcdef0:1"));
	CHECK(options_write_allowed(&o, "vol0123456789abcdef0", 1));
	CHECK(!options_write_allowed(&o, "vol0123456789abcdef0", 2));
	CHECK(!options_write_allowed(&o, "vol0123456789abcdef", 1));
	CHECK(!options_parse(&o, "write=pb0 write=:1 write=pb0: write=pb0:0 write=pb0:x "
				 "write=123456789012345678901:1 write=pb0:4294967295"));
	CHECK_EQ(o.error_count, 7);
	CHECK_STR(o.errors[6].reason, "write-must-be-serial:nsid");
	/* A rejected write= leaves the earlier target, never widens it. */
	CHECK(options_write_allowed(&o, "vol0123456789abcdef0", 1));
}

UNIT_TEST(options_bench_bytes_with_suffixes)
{
	struct options o;

	options_defaults(&o);
	CHECK_EQ(o.bench_bytes, OPTIONS_BENCH_BYTES_DEFAULT);
	CHECK_EQ(o.bench_bytes, 64ull << 20);
	CHECK(options_parse(&o, "bench_bytes=4096"));
	CHECK_EQ(o.bench_bytes, 4096);
	CHECK(options_parse(&o, "bench_bytes=512K"));
	CHECK_EQ(o.bench_bytes, 512ull << 10);
	CHECK(options_parse(&o, "bench_bytes=3M"));
	CHECK_EQ(o.bench_bytes, 3ull << 20);
	CHECK(options_parse(&o, "bench_bytes=64G"));
	CHECK_EQ(o.bench_bytes, OPTIONS_BENCH_BYTES_MAX);
	CHECK_EQ(o.error_count, 0);
}

UNIT_TEST(options_bench_bytes_rejects_bad_values)
{
	struct options o;

	options_defaults(&o);
	CHECK(!options_parse(&o, "bench_bytes=0 bench_bytes=65G bench_bytes=68719476737 "
				 "bench_bytes=K bench_bytes=1T bench_bytes=1k bench_bytes= bench_bytes=-1"));
	CHECK_EQ(o.error_count, 8);
	CHECK_STR(o.errors[0].token, "bench_bytes=0");
	CHECK_STR(o.errors[0].reason, "bench_bytes-must-be-1-to-64G-with-optional-K-M-G");
	CHECK_STR(o.errors[7].token, "bench_bytes=-1");
	/* Rejected values leave the default in place. */
	CHECK_EQ(o.bench_bytes, OPTIONS_BENCH_BYTES_DEFAULT);
}

UNIT_TEST(options_order_values)
{
	struct options o;
	char name[OPTIONS_ORDER_NAME_MAX];

	options_defaults(&o);
	CHECK_EQ(o.order, RUN_ORDER_TABLE);
	CHECK_STR(options_order_name(&o, name), "table");
	CHECK(options_parse(&o, "order=reverse"));
	CHECK_EQ(o.order, RUN_ORDER_REVERSE);
	CHECK_STR(options_order_name(&o, name), "reverse");
	CHECK(options_parse(&o, "order=shuffle:4294967295"));
	CHECK_EQ(o.order, RUN_ORDER_SHUFFLE);
	CHECK_EQ(o.order_seed, 4294967295u);
	CHECK_STR(options_order_name(&o, name), "shuffle:4294967295");
	CHECK(options_parse(&o, "order=shuffle:7 order=table"));
	CHECK_EQ(o.order, RUN_ORDER_TABLE);
	CHECK_EQ(o.order_seed, 0);
}

UNIT_TEST(options_order_rejects_bad_values)
{
	struct options o;

	options_defaults(&o);
	CHECK(!options_parse(&o, "order= order=random order=shuffle order=shuffle: "
				 "order=shuffle:0 order=shuffle:4294967296 order=reverse:3 "
				 "order=shuffle:x"));
	CHECK_EQ(o.error_count, 8);
	CHECK_STR(o.errors[0].reason, "order-must-be-table-reverse-or-shuffle:seed");
	CHECK_STR(o.errors[6].token, "order=reverse:3");
	CHECK_EQ(o.order, RUN_ORDER_TABLE);
}

UNIT_TEST(options_test_glob_matching_no_test_is_an_error)
{
	static const char *const names[] = { "boot.options", "nvme.read.bounce", "cpu.fault" };
	struct options o;

	options_defaults(&o);
	CHECK_EQ(options_check_test_globs(&o, names, 3), 0); /* empty list: the default set */
	CHECK(options_parse(&o, "tests=nvme.*,cpu.fault,boot.opt?ons"));
	CHECK_EQ(options_check_test_globs(&o, names, 3), 0);
	CHECK_EQ(o.error_count, 0);

	CHECK(options_parse(&o, "tests=nvme.raed.*,boot.*,xyz"));
	CHECK_EQ(options_check_test_globs(&o, names, 3), 2);
	CHECK_EQ(o.error_count, 2);
	CHECK_STR(o.errors[0].token, "nvme.raed.*");
	CHECK_STR(o.errors[0].reason, OPTIONS_GLOB_MATCHES_NO_TEST);
	CHECK_STR(o.errors[1].token, "xyz");

	options_defaults(&o);
	CHECK(options_parse(&o, "tests=nvme.read"));   /* a prefix is not a match */
	CHECK_EQ(options_check_test_globs(&o, names, 3), 1);
	CHECK_EQ(options_check_test_globs(&o, names, 0), 1); /* an empty table matches nothing */
}

UNIT_TEST(options_nul_byte_is_an_error_with_its_offset)
{
	static const char text[] = "dma=bounce\0tests=nosuch.* bogus=1";
	struct options o;

	options_defaults(&o);
	CHECK(!options_parse_n(&o, text, sizeof(text) - 1));
	/* The word holding the NUL is rejected whole; the word after it is still judged. */
	CHECK_EQ(o.error_count, 2);
	CHECK_STR(o.errors[0].reason, "control-byte-in-option-text");
	CHECK_EQ(o.errors[0].offset, 10);
	CHECK_EQ(o.errors[0].byte, 0);
	CHECK_STR(o.errors[0].token, "dma=bounce?tests=nosuch.*");
	CHECK_STR(o.errors[1].reason, "unknown-option");
	CHECK_EQ(o.errors[1].offset, OPTION_ERROR_NO_OFFSET);
	/* Nothing from the rejected word was applied. */
	CHECK_EQ(o.dma, DMA_AUTO);
	CHECK_STR(o.tests, "");
}

UNIT_TEST(options_control_bytes_rejected_separators_allowed)
{
	struct options o;

	options_defaults(&o);
	CHECK(options_parse_n(&o, "dma=bounce\ttimeout=7\r\n", 22));
	CHECK_EQ(o.timeout_s, 7);
	CHECK_EQ(o.error_count, 0);
	CHECK(!options_parse(&o, "timeout=5 end=\x1bhalt dma=\x7f"));
	CHECK_EQ(o.error_count, 2);
	CHECK_EQ(o.errors[0].offset, 14);
	CHECK_EQ(o.errors[0].byte, 0x1b);
	CHECK_STR(o.errors[0].token, "end=?halt");
	CHECK_EQ(o.errors[1].offset, 24);
	CHECK_EQ(o.errors[1].byte, 0x7f);
	CHECK_EQ(o.end, END_AUTO);
	CHECK(options_is_control_byte(0));
	CHECK(options_is_control_byte(0x1f));
	CHECK(!options_is_control_byte(' '));
	CHECK(!options_is_control_byte('\n'));
	CHECK(!options_is_control_byte(0x80));
}
