/* Constants shared by boot.S and the C side of the x86_64 port. */
#ifndef PROOFBOOT_BOOT_DEFS_H
#define PROOFBOOT_BOOT_DEFS_H

/* Multiboot2 header (spec section 3.1). */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_HEADER_TAG_END 0
#define MB2_HEADER_TAG_INFO_REQUEST 1
#define MB2_HEADER_TAG_FRAMEBUFFER 5
#define MB2_HEADER_TAG_OPTIONAL 1
/* Magic GRUB leaves in EAX. */
#define MB2_BOOTLOADER_MAGIC 0x36d76289

/* Information tag types we ask for (also parsed in src/lib/mb2.h). */
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12
#define LARGE_PAGE_SHIFT 21
#define PT_ENTRIES 512
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_LARGE 0x80

/* Boot identity-maps this many GiB; the rest is mapped on demand. */
#define BOOT_IDENTITY_GIB 4
#define BOOT_STACK_SIZE (64 * 1024)

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define CPUID_EXT_MAX 0x80000000
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_EDX_LM (1 << 29)

/* Boot GDT: flat 64-bit code and data. */
#define GDT_CODE64 0x00af9a000000ffff
#define GDT_DATA 0x00cf92000000ffff
#define BOOT_CODE64_SEL 0x08
#define BOOT_DATA_SEL 0x10

#define COM1_PORT 0x3f8

#endif
