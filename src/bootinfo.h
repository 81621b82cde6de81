/* The parsed multiboot2 information, for code that needs it after boot. */
#ifndef PROOFBOOT_BOOTINFO_H
#define PROOFBOOT_BOOTINFO_H

#include "mb2.h"

#include <stdbool.h>

const struct mb2_info *boot_information(void);
/* GRUB handed over with the multiboot2 magic (else the info is not trusted). */
bool boot_was_multiboot2(void);

#endif
