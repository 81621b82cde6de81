/*
 * One entry stub per IDT vector.  Vectors without a CPU error code push a
 * zero so every frame has the same shape (struct isr_frame in cpu.h).  The
 * common path saves all general registers and the FPU/SSE state, so C
 * handlers may use newlib freely and interrupted code never sees a change.
 */
#define FXSAVE_AREA 512

	.text
	.code64

/* Vectors for which the CPU pushes an error code. */
.macro isr_entry vec
	.balign 16
isr_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

.altmacro
.set vec, 0
.rept 256
	isr_entry %vec
	.set vec, vec + 1
.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rbx
	subq $FXSAVE_AREA, %rsp
	andq $-16, %rsp
	fxsave (%rsp)
	movq %rbx, %rdi
	call isr_dispatch
	fxrstor (%rsp)
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* Table of stub addresses for cpu.c to build the IDT from. */
.macro stub_addr vec
	.quad isr_stub_\vec
.endm
	.section .rodata
	.balign 8
	.global isr_stub_table
isr_stub_table:
.set vec, 0
.rept 256
	stub_addr %vec
	.set vec, vec + 1
.endr
