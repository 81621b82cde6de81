/*
 * Multiboot2 header and the 32-bit entry: GRUB hands over in protected mode
 * with paging off (EAX = magic, EBX = boot information).  We check for long
 * mode, identity-map the first 4 GiB with 2 MiB pages, enter long mode,
 * enable SSE (newlib's printf needs it) and call kmain(magic, info).
 */
#include "boot_defs.h"

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Information request: optional, so GRUB still boots without any of them. */
	.balign 8
mb2_info_request:
	.word MB2_HEADER_TAG_INFO_REQUEST, MB2_HEADER_TAG_OPTIONAL
	.long mb2_info_request_end - mb2_info_request
	.long MB2_TAG_CMDLINE
	.long MB2_TAG_MMAP
	.long MB2_TAG_ACPI_OLD
	.long MB2_TAG_ACPI_NEW
	.long MB2_TAG_FRAMEBUFFER
	.long MB2_TAG_EFI_MMAP
mb2_info_request_end:

	/*
	 * A linear framebuffer for the screen console under UEFI, where there is
	 * no VGA text mode.  No preferred size: iso/grub.cfg keeps the firmware's
	 * mode (gfxpayload=keep) under UEFI and text mode under BIOS.
	 */
	.balign 8
mb2_framebuffer_request:
	.word MB2_HEADER_TAG_FRAMEBUFFER, MB2_HEADER_TAG_OPTIONAL
	.long mb2_framebuffer_request_end - mb2_framebuffer_request
	.long 0, 0, 0 /* width, height, depth: no preference */
mb2_framebuffer_request_end:

	.balign 8
	.word MB2_HEADER_TAG_END, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, boot_magic
	movl %ebx, boot_info_addr
	/* The earliest timestamp we can have: boot-to-first-I/O counts from here. */
	rdtsc
	movl %eax, boot_entry_tsc
	movl %edx, boot_entry_tsc + 4

	call require_long_mode
	call build_identity_map

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $BOOT_CODE64_SEL, $long_mode_entry

/* No long mode: say so on COM1 (already set up by GRUB's serial terminal) and stop. */
require_long_mode:
	movl $CPUID_EXT_MAX, %eax
	cpuid
	cmpl $CPUID_EXT_FEATURES, %eax
	jb no_long_mode
	movl $CPUID_EXT_FEATURES, %eax
	cpuid
	testl $CPUID_EXT_EDX_LM, %edx
	jz no_long_mode
	ret
no_long_mode:
	movl $no_long_mode_msg, %esi
1:	lodsb
	testb %al, %al
	jz 2f
	movw $COM1_PORT, %dx
	outb %al, %dx
	jmp 1b
2:	hlt
	jmp 2b

/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
build_identity_map:
	movl $boot_page_tables_start, %edi
	movl $((boot_page_tables_end - boot_page_tables_start) / 4), %ecx
	xorl %eax, %eax
	rep stosl

	movl $boot_pdpt, %eax
	orl $(PTE_PRESENT | PTE_WRITE), %eax
	movl %eax, boot_pml4

	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $PAGE_SHIFT, %eax
	addl $boot_pd, %eax
	orl $(PTE_PRESENT | PTE_WRITE), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $BOOT_IDENTITY_GIB, %ecx
	jb 1b

	/* Entry i of the contiguous directories maps i * 2 MiB (high dword 0 below 4 GiB). */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $LARGE_PAGE_SHIFT, %eax
	orl $(PTE_PRESENT | PTE_WRITE | PTE_LARGE), %eax
	movl %eax, boot_pd(, %ecx, 8)
	incl %ecx
	cmpl $(BOOT_IDENTITY_GIB * PT_ENTRIES), %ecx
	jb 2b
	ret

	.code64
long_mode_entry:
	movw $BOOT_DATA_SEL, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp

	/* SSE: CR0.EM=0, CR0.MP=1, CR4.OSFXSR=1, CR4.OSXMMEXCPT=1. */
	movq %cr0, %rax
	andq $~CR0_EM, %rax
	orq $CR0_MP, %rax
	movq %rax, %cr0
	movq %cr4, %rax
	orq $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
	movq %rax, %cr4

	movl boot_magic, %edi
	movl boot_info_addr, %esi
	xorl %ebp, %ebp
	call kmain
3:	cli
	hlt
	jmp 3b

	.section .rodata
no_long_mode_msg:
	.asciz "proofboot: fatal reason=cpu-lacks-long-mode\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad GDT_CODE64
	.quad GDT_DATA
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .data
	.balign 4
boot_magic:
	.long 0
boot_info_addr:
	.long 0
	.balign 8
	.global boot_entry_tsc
boot_entry_tsc:
	.quad 0

	.section .bss
	.balign PAGE_SIZE
	.global boot_pml4, boot_pdpt, boot_pd
boot_page_tables_start:
boot_pml4:
	.skip PAGE_SIZE
boot_pdpt:
	.skip PAGE_SIZE
boot_pd:
	.skip PAGE_SIZE * BOOT_IDENTITY_GIB
boot_page_tables_end:

	.balign 16
	.global boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
