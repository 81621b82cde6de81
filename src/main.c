/*
 * kmain: from GRUB's hand-off to the test runner.  Order matters: the CPU
 * tables first (so any fault is reported), then the console, the boot
 * information, memory, ACPI, time, options, and finally the test table.
 */
#include "acpi.h"
#include "boot_defs.h"
#include "dma_remap.h"
#include "console.h"
#include "console_serial.h"
#include "cpu.h"
#include "lapic.h"
#include "mb2.h"
#include "options.h"
#include "pmem.h"
#include "pmem_init.h"
#include "proof.h"
#include "qemu.h"
#include "runner.h"
#include "syscalls.h"
#include "tests_iommu.h"
#include "amdvi.h"
#include "vtd.h"
#include "bootinfo.h"
#include "timer.h"

#include <stdio.h>
#include <string.h>

#ifndef PROOFBOOT_VERSION
#define PROOFBOOT_VERSION "unknown"
#endif

#define FW_CFG_OPTIONS_FILE "opt/proofboot/cmdline"
#define HEAP_SIZE_MAX (32u << 20)
#define HEAP_SIZE_MIN (1u << 20)
#define HEAP_LIMIT (4ull << 30)
/* Lets the firmware still report when the memory map is unusable. */
#define EMERGENCY_HEAP_SIZE (256u << 10)
/* The console= ports list in the environment line. */
#define PORTS_TEXT_MAX 160

extern char __image_start[], __image_end[];

static struct mb2_info boot_info;
static bool boot_magic_ok;
static struct options opts;
static uint8_t emergency_heap[EMERGENCY_HEAP_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void console_sink(const char *line, void *ctx)
{
	(void)ctx;
	fputs(line, stdout);
	fputc('\n', stdout);
}

static void report_start(uint32_t magic)
{
	struct proof p;

	proof_begin(&p, "proofboot", "start");
	proof_str(&p, "version", PROOFBOOT_VERSION);
	proof_u64(&p, "schema", PROOF_SCHEMA_VERSION);
	proof_bool(&p, "multiboot2", magic == MB2_BOOTLOADER_MAGIC);
	proof_emit(&p);
}

static void report_mb2_problems(void)
{
	for (unsigned i = 0; i < boot_info.problem_count; i++) {
		const struct mb2_problem *pr = &boot_info.problems[i];
		struct proof p;
		proof_begin(&p, "mb2", "problem");
		proof_str(&p, "reason", pr->reason);
		proof_u64(&p, "tag", pr->tag_type);
		proof_u64(&p, "offset", pr->offset);
		proof_bool(&p, "fatal", boot_info.fatal && i + 1 == boot_info.problem_count);
		proof_emit(&p);
	}
}

/*
 * The heap comes from the memory map; a small static one keeps reporting
 * alive without it.  Not zeroed: malloc's memory is undefined and calloc
 * zeroes what it hands out, while zeroing 32 MiB here cost 26 ms before
 * the first line (TCG, and a host page fault per 4 KiB first touched).
 */
static uint64_t setup_heap(void)
{
	pmem_init(&boot_info, (uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__image_end);
	for (size_t size = HEAP_SIZE_MAX; size >= HEAP_SIZE_MIN; size /= 2) {
		void *heap = pmem_alloc_unzeroed(size, PAGE_SIZE, HEAP_LIMIT);
		if (heap) {
			heap_init((uint64_t)(uintptr_t)heap, size);
			return size;
		}
	}
	heap_init((uint64_t)(uintptr_t)emergency_heap, sizeof(emergency_heap));
	return 0;
}

/* len bytes of text: a fw_cfg file may hold NULs, which must be seen, not cut at. */
static void apply_options(const char *source, const char *text, size_t len)
{
	struct proof p;
	unsigned errors_before = opts.error_count;

	options_parse_n(&opts, text, len);
	for (unsigned i = errors_before; i < opts.error_count && i < OPTIONS_MAX_ERRORS; i++)
		opts.errors[i].source = source;
	proof_begin(&p, "opt", "source");
	proof_str(&p, "name", source);
	proof_bytes(&p, "text", text, len);
	proof_bool(&p, "ok", opts.error_count == errors_before);
	proof_emit(&p);
}

static void load_options(void)
{
	static char fw_cfg_text[OPTIONS_TESTS_MAX + 128];

	options_defaults(&opts);
	if (boot_info.has_cmdline)
		apply_options("cmdline", boot_info.cmdline, strlen(boot_info.cmdline));
	long size = fw_cfg_read_file(FW_CFG_OPTIONS_FILE, fw_cfg_text, sizeof(fw_cfg_text));
	if (size >= (long)sizeof(fw_cfg_text))
		options_add_error(&opts, FW_CFG_OPTIONS_FILE, "options-text-too-long");
	else if (size >= 0)
		apply_options("fw_cfg", fw_cfg_text, (size_t)size);
	runner_check_test_globs(&opts); /* a mistyped glob would otherwise run nothing */
	for (unsigned i = 0; i < opts.error_count && i < OPTIONS_MAX_ERRORS; i++) {
		struct proof p;
		proof_begin(&p, "opt", "error");
		proof_str(&p, "token", opts.errors[i].token);
		proof_str(&p, "reason", opts.errors[i].reason);
		if (opts.errors[i].offset != OPTION_ERROR_NO_OFFSET) {
			proof_str(&p, "source", opts.errors[i].source ? opts.errors[i].source : "unknown");
			proof_u64(&p, "offset", (uint64_t)opts.errors[i].offset);
			proof_hex(&p, "byte", opts.errors[i].byte, 2);
		}
		proof_emit(&p);
	}
}

static void report_environment(uint64_t heap_size)
{
	struct proof p;
	char order[OPTIONS_ORDER_NAME_MAX];

	proof_begin(&p, "proofboot", "environment");
	proof_str(&p, "boot", boot_info.efi ? "uefi" : "bios");
	proof_str(&p, "bootloader", boot_info.bootloader);
	proof_u64(&p, "memory_regions", boot_info.region_count);
	proof_u64(&p, "memory_usable_bytes", mb2_usable_bytes(&boot_info));
	proof_u64(&p, "heap_bytes", heap_size);
	proof_str(&p, "rsdp", boot_info.rsdp_tag == MB2_INFO_TAG_ACPI_NEW ? "acpi2" :
			      boot_info.rsdp_tag == MB2_INFO_TAG_ACPI_OLD ? "acpi1" : "missing");
	proof_bool(&p, "framebuffer", boot_info.has_framebuffer);
	proof_bool(&p, "qemu_fw_cfg", fw_cfg_present());
	proof_str(&p, "dma", options_dma_name(opts.dma));
	proof_str(&p, "tests", opts.tests[0] ? opts.tests : "default");
	proof_u64(&p, "timeout_s", opts.timeout_s);
	proof_str(&p, "end", options_end_name(opts.end));
	proof_str(&p, "order", options_order_name(&opts, order));
	proof_u64(&p, "option_errors", opts.error_count);
	char ports[PORTS_TEXT_MAX];
	console_serial_describe(ports, sizeof(ports));
	proof_str(&p, "console", ports);
	proof_emit(&p);
}

/* Real disks: say up front whether anything may be written, and to what. */
static void report_safety(void)
{
	struct proof p;

	proof_begin(&p, "proofboot", "safety");
	if (opts.write_nsid == 0) {
		proof_str(&p, "mode", "read-only");
	} else {
		proof_str(&p, "mode", "write-target");
		proof_str(&p, "serial", opts.write_serial);
		proof_u64(&p, "nsid", opts.write_nsid);
	}
	proof_emit(&p);
}

const struct mb2_info *boot_information(void)
{
	return &boot_info;
}

bool boot_was_multiboot2(void)
{
	return boot_magic_ok;
}

void kmain(uint32_t magic, uint32_t info_addr)
{
	cpu_init();
	console_init();
	boot_magic_ok = magic == MB2_BOOTLOADER_MAGIC;
	if (boot_magic_ok)
		mb2_parse((const void *)(uintptr_t)info_addr, MB2_INFO_MAX_SIZE, &boot_info);
	uint64_t heap_size = setup_heap();
	setvbuf(stdout, NULL, _IONBF, 0);
	proof_set_sink(console_sink, NULL);

	report_start(magic);
	report_mb2_problems();
	console_start_screen(boot_magic_ok ? &boot_info : NULL);
	/* ACPI first: the HPET and the PM timer, time references, are found from its tables. */
	acpi_init(boot_info.rsdp_len ? boot_info.rsdp : NULL, boot_info.rsdp_len);
	time_init();
	lapic_init();
	load_options();
	/* ACPI (above) before this: SPCR may name the port the lab listens on. */
	console_serial_configure(&opts.console, opts.console_text);
	report_environment(heap_size);
	report_safety();
	/* Remapping unit drivers in the order they are tried (the first verified wins). */
	remap_register_driver(&vtd_unit_ops);
	remap_register_driver(&amdvi_unit_ops);
	remap_set_verifier(tests_iommu_verify);
	dma_remap_register();
	runner_run(&opts);
}
