/*
 * AMD I/O Virtualization Technology (AMD-Vi) IOMMU registers (AMD IOMMU
 * specification 48882, section 3.4), named once.  Offsets are from the MMIO
 * base the IVRS table's IVHD block gives; every register is 64-bit.
 */
#ifndef PROOFBOOT_LIB_AMDVI_REGS_H
#define PROOFBOOT_LIB_AMDVI_REGS_H

#include <stdint.h>

/* ---- register offsets ---- */
#define AMDVI_REG_DEV_TABLE_BASE 0x0000
#define AMDVI_REG_CMD_BUF_BASE 0x0008
#define AMDVI_REG_EVENT_LOG_BASE 0x0010
#define AMDVI_REG_CONTROL 0x0018
#define AMDVI_REG_EXCL_BASE 0x0020
#define AMDVI_REG_EXCL_LIMIT 0x0028
#define AMDVI_REG_EXT_FEATURE 0x0030   /* EFR, read-only */
#define AMDVI_REG_CMD_BUF_HEAD 0x2000
#define AMDVI_REG_CMD_BUF_TAIL 0x2008
#define AMDVI_REG_EVENT_LOG_HEAD 0x2010
#define AMDVI_REG_EVENT_LOG_TAIL 0x2018
#define AMDVI_REG_STATUS 0x2020
#define AMDVI_MMIO_BYTES 0x4000         /* the register block QEMU and the spec map */

/* ---- device table base: bits 51:12 address, 8:0 size in 4 KiB pages minus one ---- */
#define AMDVI_DEV_TABLE_ADDR_MASK 0x000ffffffffff000ull
#define AMDVI_DEV_TABLE_SIZE_MASK 0x1ffull
#define AMDVI_DEV_TABLE_MAX_PAGES 512u  /* 65536 entries of 32 bytes */

/* ---- command buffer / event log base: 51:12 address, 59:56 log2(entries) ---- */
#define AMDVI_RING_ADDR_MASK 0x000ffffffffff000ull
#define AMDVI_RING_LEN_SHIFT 56
#define AMDVI_RING_LEN_MASK (0xfull << AMDVI_RING_LEN_SHIFT)
#define AMDVI_RING_MIN_LOG2 8u          /* 256 entries: the smallest legal ring */
#define AMDVI_RING_MAX_LOG2 15u
/* Head and tail registers hold a byte offset into the ring, bits 18:4. */
#define AMDVI_RING_PTR_MASK 0x7fff0ull

/* ---- control register ---- */
#define AMDVI_CTRL_IOMMU_EN (1ull << 0)
#define AMDVI_CTRL_HT_TUN_EN (1ull << 1)
#define AMDVI_CTRL_EVENT_LOG_EN (1ull << 2)
#define AMDVI_CTRL_EVENT_INT_EN (1ull << 3)
#define AMDVI_CTRL_COM_WAIT_INT_EN (1ull << 4)
#define AMDVI_CTRL_INV_TIMEOUT_SHIFT 5  /* 7:5 */
#define AMDVI_CTRL_INV_TIMEOUT_MASK (7ull << AMDVI_CTRL_INV_TIMEOUT_SHIFT)
#define AMDVI_CTRL_PASS_PW (1ull << 8)
#define AMDVI_CTRL_RES_PASS_PW (1ull << 9)
#define AMDVI_CTRL_COHERENT (1ull << 10)
#define AMDVI_CTRL_ISOC (1ull << 11)
#define AMDVI_CTRL_CMD_BUF_EN (1ull << 12)
#define AMDVI_CTRL_PPR_LOG_EN (1ull << 13)
#define AMDVI_CTRL_PPR_INT_EN (1ull << 14)
#define AMDVI_CTRL_PPR_EN (1ull << 15)
#define AMDVI_CTRL_GT_EN (1ull << 16)
#define AMDVI_CTRL_GA_EN (1ull << 17)
#define AMDVI_CTRL_XT_EN (1ull << 22)

/* ---- status register (write 1 to clear the event bits) ---- */
#define AMDVI_STATUS_EVENT_OVERFLOW (1ull << 0)
#define AMDVI_STATUS_EVENT_LOG_INT (1ull << 1)
#define AMDVI_STATUS_COM_WAIT_INT (1ull << 2)
#define AMDVI_STATUS_EVENT_LOG_RUN (1ull << 3)
#define AMDVI_STATUS_CMD_BUF_RUN (1ull << 4)

/* ---- extended feature register (EFR; also the IVHD 11h/40h EFR image) ---- */
#define AMDVI_EFR_PREF_SUP (1ull << 0)
#define AMDVI_EFR_PPR_SUP (1ull << 1)
#define AMDVI_EFR_XT_SUP (1ull << 2)
#define AMDVI_EFR_NX_SUP (1ull << 3)
#define AMDVI_EFR_GT_SUP (1ull << 4)
#define AMDVI_EFR_IA_SUP (1ull << 6)   /* INVALIDATE_IOMMU_ALL */
#define AMDVI_EFR_GA_SUP (1ull << 7)
#define AMDVI_EFR_HE_SUP (1ull << 8)
#define AMDVI_EFR_PC_SUP (1ull << 9)
/* Host address translation size: the deepest host page table the unit walks. */
#define AMDVI_EFR_HATS(efr) ((unsigned)(((efr) >> 10) & 0x3u))
#define AMDVI_EFR_GATS(efr) ((unsigned)(((efr) >> 12) & 0x3u))
#define AMDVI_HATS_4_LEVELS 0u
#define AMDVI_HATS_5_LEVELS 1u
#define AMDVI_HATS_6_LEVELS 2u
#define AMDVI_HATS_RESERVED 3u

/* Deepest host page table (DTE Mode) a HATS value allows; 0 for the reserved value. */
static inline unsigned amdvi_hats_max_levels(unsigned hats)
{
	return hats == AMDVI_HATS_RESERVED ? 0u : 4u + hats;
}

#endif
