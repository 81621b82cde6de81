/* x86_64 CPU set-up: GDT/TSS, IDT, exceptions, interrupt dispatch. */
#ifndef PROOFBOOT_CPU_H
#define PROOFBOOT_CPU_H

#include <stdint.h>

/* What isr.S pushes, lowest address first. */
struct isr_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define CPU_EXCEPTION_VECTORS 32
#define IDT_VECTORS 256
#define VECTOR_SPURIOUS 0xff

void cpu_init(void);
void isr_dispatch(struct isr_frame *frame);

/* Called for a vector >= 32 (see irq.c); returns after EOI. */
void irq_dispatch(uint8_t vector);

/* Exception path: prints the proof line and ends the run (exceptions.c). */
void exception_report(const struct isr_frame *frame) __attribute__((noreturn));

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
