/* CPU exceptions: one proof line with the machine state, then the run ends FAIL. */
#include "cpu.h"

#include "console.h"
#include "proof.h"
#include "qemu.h"
#include "runner.h"

#include <stdio.h>

#define VECTOR_PAGE_FAULT 14

static const char *const exception_names[CPU_EXCEPTION_VECTORS] = {
	"divide-error", "debug", "nmi", "breakpoint", "overflow", "bound-range",
	"invalid-opcode", "device-not-available", "double-fault", "coprocessor-overrun",
	"invalid-tss", "segment-not-present", "stack-fault", "general-protection",
	"page-fault", "reserved-15", "x87-fp", "alignment-check", "machine-check",
	"simd-fp", "virtualization", "control-protection", "reserved-22", "reserved-23",
	"reserved-24", "reserved-25", "reserved-26", "reserved-27", "hypervisor-injection",
	"vmm-communication", "security", "reserved-31",
};

static unsigned exception_depth;

void exception_report(const struct isr_frame *frame)
{
	static char reason[64];
	struct proof p;

	if (exception_depth++) {
		/* Faulting while reporting a fault: no library calls, just say so. */
		static const char line[] = "\ncpu: exception nested=true\n";
		console_write(line, sizeof(line) - 1);
		runner_fatal("nested-cpu-exception");
	}
	proof_begin(&p, "cpu", "exception");
	proof_u64(&p, "vector", frame->vector);
	proof_str(&p, "name", exception_names[frame->vector]);
	proof_hex(&p, "error_code", frame->error_code, 1);
	proof_hex(&p, "rip", frame->rip, 16);
	proof_hex(&p, "rsp", frame->rsp, 16);
	if (frame->vector == VECTOR_PAGE_FAULT)
		proof_hex(&p, "cr2", read_cr2(), 16);
	proof_emit(&p);
	snprintf(reason, sizeof(reason), "cpu-exception-%s", exception_names[frame->vector]);
	runner_fatal(reason);
}
