/* GDT with a TSS (for the double-fault stack), IDT, legacy PIC masking. */
#include "cpu.h"

#include "boot_defs.h"
#include "io.h"

#include <string.h>

#define GDT_CODE_SEL 0x08
#define GDT_DATA_SEL 0x10
#define GDT_TSS_SEL 0x18
#define GDT_TSS_TYPE_AVAILABLE 0x89ull /* present, 64-bit TSS available */

#define IDT_INTERRUPT_GATE 0x8e /* present, DPL0, 64-bit interrupt gate */
#define VECTOR_DOUBLE_FAULT 8
#define VECTOR_NMI 2
#define VECTOR_MACHINE_CHECK 18
#define IST_EMERGENCY 1 /* TSS IST slot for faults that must not reuse a bad stack */
#define EMERGENCY_STACK_SIZE (16 * 1024)

/* Legacy 8259 PICs: moved off the exception vectors, then fully masked. */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC1_VECTOR_BASE 0x20
#define PIC2_VECTOR_BASE 0x28
#define PIC_ICW3_MASTER_HAS_SLAVE_ON_IRQ2 0x04
#define PIC_ICW3_SLAVE_ID 0x02
#define PIC_ICW4_8086 0x01
#define PIC_MASK_ALL 0xff

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

struct __attribute__((packed)) descriptor_ptr {
	uint16_t limit;
	uint64_t base;
};

extern const uint64_t isr_stub_table[IDT_VECTORS];

static struct tss64 tss;
static uint64_t gdt[5];
static struct idt_gate idt[IDT_VECTORS];
static uint8_t emergency_stack[EMERGENCY_STACK_SIZE] __attribute__((aligned(16)));

static void load_gdt_with_tss(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.ist[IST_EMERGENCY - 1] = (uint64_t)(uintptr_t)(emergency_stack + sizeof(emergency_stack));
	tss.iomap_base = sizeof(tss);

	gdt[0] = 0;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (GDT_TSS_TYPE_AVAILABLE << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct descriptor_ptr ptr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(GDT_CODE_SEL), "r"(GDT_DATA_SEL), "r"(GDT_TSS_SEL)
			 : "rax", "memory");
}

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
	idt[vector] = (struct idt_gate){
		.offset_low = handler & 0xffff,
		.selector = GDT_CODE_SEL,
		.ist = ist,
		.type_attr = IDT_INTERRUPT_GATE,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_high = handler >> 32,
	};
}

static void load_idt(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++)
		set_gate(v, isr_stub_table[v], 0);
	set_gate(VECTOR_DOUBLE_FAULT, isr_stub_table[VECTOR_DOUBLE_FAULT], IST_EMERGENCY);
	set_gate(VECTOR_NMI, isr_stub_table[VECTOR_NMI], IST_EMERGENCY);
	set_gate(VECTOR_MACHINE_CHECK, isr_stub_table[VECTOR_MACHINE_CHECK], IST_EMERGENCY);

	struct descriptor_ptr ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/*
 * The BIOS leaves the PIC delivering IRQ0 at vector 8, which would look like
 * a double fault once interrupts are on: move it, then mask every line.
 */
static void mask_legacy_pic(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC1_VECTOR_BASE);
	outb(PIC2_DATA, PIC2_VECTOR_BASE);
	outb(PIC1_DATA, PIC_ICW3_MASTER_HAS_SLAVE_ON_IRQ2);
	outb(PIC2_DATA, PIC_ICW3_SLAVE_ID);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}

void cpu_init(void)
{
	load_gdt_with_tss();
	load_idt();
	mask_legacy_pic();
}

void isr_dispatch(struct isr_frame *frame)
{
	if (frame->vector < CPU_EXCEPTION_VECTORS)
		exception_report(frame);
	irq_dispatch((uint8_t)frame->vector);
}
