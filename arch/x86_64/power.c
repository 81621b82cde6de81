/*
 * After the verdict.  auto: under QEMU write the verdict code to
 * isa-debug-exit, otherwise halt with the verdict on screen (the safe lab
 * default).  reboot: the ACPI reset register when the FADT has one, then
 * the PCI reset-control port and the keyboard controller.  poweroff: ACPI S5
 * when the tables allow it; otherwise halt, and say so.
 */
#include "power.h"

#include "acpi_power.h"
#include "cpu.h"
#include "io.h"
#include "qemu.h"

#include <stdio.h>

#define RESET_CONTROL_PORT 0xcf9
#define RESET_CONTROL_FULL_RESET 0x06
#define KBC_COMMAND_PORT 0x64
#define KBC_PULSE_RESET_LINE 0xfe
#define RESET_SETTLE_SPINS 1000000

static void spin_briefly(void)
{
	for (unsigned i = 0; i < RESET_SETTLE_SPINS; i++)
		cpu_pause();
}

/* Each step says what it tries (plain text: after the verdict) before it tries it. */
static void try_reset(void)
{
	acpi_reset();
	spin_briefly();
	printf("reset: port 0x%x <- 0x%02x (PCI reset control)\n", RESET_CONTROL_PORT,
	       RESET_CONTROL_FULL_RESET);
	outb(RESET_CONTROL_PORT, RESET_CONTROL_FULL_RESET);
	spin_briefly();
	printf("reset: port 0x%x <- 0x%02x (keyboard controller reset line)\n", KBC_COMMAND_PORT,
	       KBC_PULSE_RESET_LINE);
	outb(KBC_COMMAND_PORT, KBC_PULSE_RESET_LINE);
	spin_briefly();
}

void platform_end(enum end_action end, unsigned qemu_code)
{
	switch (end) {
	case END_AUTO:
		qemu_debug_exit(qemu_code);
		break;
	case END_REBOOT:
		try_reset();
		printf("proofboot could not reset this machine; halting\n");
		break;
	case END_POWEROFF:
		acpi_poweroff();
		printf("proofboot could not power off this machine (no usable ACPI S5); halting\n");
		break;
	case END_HALT:
		break;
	}
	cpu_halt_forever();
	__builtin_unreachable();
}
