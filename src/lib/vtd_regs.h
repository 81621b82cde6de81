/*
 * Intel VT-d remapping-unit registers (VT-d specification, chapter 11), and
 * extractors for the capability fields the driver uses.  Offsets are from
 * the unit's register base (found in the DMAR table's DRHD).
 */
#ifndef PROOFBOOT_LIB_VTD_REGS_H
#define PROOFBOOT_LIB_VTD_REGS_H

#include <stdint.h>

/* ---- register offsets ---- */
#define VTD_REG_VER 0x00    /* 32-bit */
#define VTD_REG_CAP 0x08    /* 64-bit */
#define VTD_REG_ECAP 0x10   /* 64-bit */
#define VTD_REG_GCMD 0x18   /* 32-bit, write-only in practice: reads back 0 on QEMU */
#define VTD_REG_GSTS 0x1c   /* 32-bit */
#define VTD_REG_RTADDR 0x20 /* 64-bit root table address */
#define VTD_REG_CCMD 0x28   /* 64-bit context command */
#define VTD_REG_FSTS 0x34   /* 32-bit fault status */
#define VTD_REG_FECTL 0x38  /* 32-bit fault event control */
#define VTD_REG_FEDATA 0x3c
#define VTD_REG_FEADDR 0x40
#define VTD_REG_FEUADDR 0x44
#define VTD_REG_PMEN 0x64   /* protected memory enable */
#define VTD_REG_IQH 0x80
#define VTD_REG_IQT 0x88
#define VTD_REG_IQA 0x90
#define VTD_REG_IRTA 0xb8

/* ---- VER ---- */
#define VTD_VER_MAJOR(ver) (((ver) >> 4) & 0xfu)
#define VTD_VER_MINOR(ver) ((ver) & 0xfu)

/* ---- CAP ---- */
#define VTD_CAP_ND(cap) ((unsigned)((cap) & 0x7u))  /* domains = 2^(4 + 2*ND) */
#define VTD_CAP_RWBF (1ull << 4)                      /* write-buffer flush required */
#define VTD_CAP_CM (1ull << 7)                        /* caching mode */
#define VTD_CAP_SAGAW(cap) ((unsigned)(((cap) >> 8) & 0x1fu))
#define VTD_CAP_MGAW(cap) ((unsigned)(((cap) >> 16) & 0x3fu) + 1u) /* in bits */
#define VTD_CAP_FRO(cap) ((unsigned)(((cap) >> 24) & 0x3ffu) * 16u) /* byte offset */
#define VTD_CAP_SLLPS(cap) ((unsigned)(((cap) >> 34) & 0xfu))
#define VTD_CAP_PSI (1ull << 39)                      /* page-selective IOTLB invalidation */
#define VTD_CAP_NFR(cap) ((unsigned)(((cap) >> 40) & 0xffu) + 1u) /* fault-recording regs */
#define VTD_CAP_MAMV(cap) ((unsigned)(((cap) >> 48) & 0x3fu))
#define VTD_CAP_DWD (1ull << 54)
#define VTD_CAP_DRD (1ull << 55)

/* SAGAW bits: which page-table depths the unit walks. */
#define VTD_SAGAW_3LEVEL (1u << 1) /* 39-bit */
#define VTD_SAGAW_4LEVEL (1u << 2) /* 48-bit */
#define VTD_SAGAW_5LEVEL (1u << 3) /* 57-bit */
/* SLLPS bits: which large pages second-level tables may use. */
#define VTD_SLLPS_2M (1u << 0)
#define VTD_SLLPS_1G (1u << 1)

static inline uint32_t vtd_cap_domains(uint64_t cap)
{
	return 1u << (4 + 2 * VTD_CAP_ND(cap));
}

/* ---- ECAP ---- */
#define VTD_ECAP_C (1ull << 0)  /* page walks are coherent */
#define VTD_ECAP_QI (1ull << 1) /* queued invalidation */
#define VTD_ECAP_DT (1ull << 2)
#define VTD_ECAP_IR (1ull << 3) /* interrupt remapping */
#define VTD_ECAP_EIM (1ull << 4)
#define VTD_ECAP_PT (1ull << 6) /* pass-through */
#define VTD_ECAP_SC (1ull << 7)
#define VTD_ECAP_IRO(ecap) ((unsigned)(((ecap) >> 8) & 0x3ffu) * 16u) /* byte offset */
#define VTD_ECAP_SMTS (1ull << 43)

/* The IOTLB registers sit at ECAP.IRO: IVA first, the command 8 bytes later. */
static inline unsigned vtd_iva_offset(uint64_t ecap)
{
	return VTD_ECAP_IRO(ecap);
}

static inline unsigned vtd_iotlb_offset(uint64_t ecap)
{
	return VTD_ECAP_IRO(ecap) + 8u;
}

/* ---- GCMD / GSTS: same bit positions; GSTS reports, GCMD requests ---- */
#define VTD_GCMD_TE (1u << 31)    /* translation enable */
#define VTD_GCMD_SRTP (1u << 30)  /* set root table pointer (one-shot) */
#define VTD_GCMD_SFL (1u << 29)   /* set fault log (one-shot) */
#define VTD_GCMD_EAFL (1u << 28)  /* enable advanced fault logging */
#define VTD_GCMD_WBF (1u << 27)   /* write-buffer flush (one-shot) */
#define VTD_GCMD_QIE (1u << 26)   /* queued invalidation enable */
#define VTD_GCMD_IRE (1u << 25)   /* interrupt remapping enable */
#define VTD_GCMD_SIRTP (1u << 24) /* set interrupt remap table pointer (one-shot) */
#define VTD_GCMD_CFI (1u << 23)   /* compatibility format interrupts */

#define VTD_GSTS_TES VTD_GCMD_TE
#define VTD_GSTS_RTPS VTD_GCMD_SRTP
#define VTD_GSTS_FLS VTD_GCMD_SFL
#define VTD_GSTS_WBFS VTD_GCMD_WBF
#define VTD_GSTS_QIES VTD_GCMD_QIE
#define VTD_GSTS_IRES VTD_GCMD_IRE

/*
 * GCMD reads back 0, and every write sets all enables at once: a write must
 * repeat the current enables from GSTS, minus the one-shot command bits
 * (whose status bits mean "done", not "keep doing").
 */
#define VTD_GCMD_ONE_SHOT_MASK (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)
#define VTD_GSTS_PERSISTENT_MASK (~(uint32_t)VTD_GCMD_ONE_SHOT_MASK) /* 0x96ffffff */

static inline uint32_t vtd_gcmd_value(uint32_t gsts, uint32_t command_bit)
{
	return (gsts & VTD_GSTS_PERSISTENT_MASK) | command_bit;
}

/* ---- RTADDR ---- */
#define VTD_RTADDR_TTM_LEGACY (0ull << 10) /* legacy root/context format */

/* ---- CCMD (context-cache invalidation) ---- */
#define VTD_CCMD_ICC (1ull << 63) /* set to start; hardware clears when done */
#define VTD_CCMD_CIRG_SHIFT 61
#define VTD_CCMD_CIRG_GLOBAL (1ull << VTD_CCMD_CIRG_SHIFT)
#define VTD_CCMD_CIRG_DOMAIN (2ull << VTD_CCMD_CIRG_SHIFT)
#define VTD_CCMD_CIRG_DEVICE (3ull << VTD_CCMD_CIRG_SHIFT)
#define VTD_CCMD_CAIG(ccmd) ((unsigned)(((ccmd) >> 59) & 0x3u)) /* granularity done */
#define VTD_CCMD_SID(sid) ((uint64_t)(sid) << 16)
#define VTD_CCMD_DID(did) ((uint64_t)(did))

/* ---- IOTLB invalidation register (at vtd_iotlb_offset) ---- */
#define VTD_IOTLB_IVT (1ull << 63) /* set to start; hardware clears when done */
#define VTD_IOTLB_IIRG_SHIFT 60
#define VTD_IOTLB_IIRG_GLOBAL (1ull << VTD_IOTLB_IIRG_SHIFT)
#define VTD_IOTLB_IIRG_DOMAIN (2ull << VTD_IOTLB_IIRG_SHIFT)
#define VTD_IOTLB_IIRG_PAGE (3ull << VTD_IOTLB_IIRG_SHIFT)
#define VTD_IOTLB_IAIG(v) ((unsigned)(((v) >> 57) & 0x3u)) /* 0 = request refused */
#define VTD_IOTLB_DR (1ull << 49) /* drain reads */
#define VTD_IOTLB_DW (1ull << 48) /* drain writes */
#define VTD_IOTLB_DID(did) ((uint64_t)(did) << 32)
/* IVA register: page address plus address mask (2^AM pages). */
#define VTD_IVA_ADDR_MASK 0xfffffffffffff000ull
#define VTD_IVA_AM(am) ((uint64_t)(am) & 0x3fu)

/* ---- FSTS ---- */
#define VTD_FSTS_PFO (1u << 0) /* primary fault overflow (write 1 to clear) */
#define VTD_FSTS_PPF (1u << 1) /* a fault record is pending (read-only summary) */
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_FRI(fsts) ((unsigned)(((fsts) >> 8) & 0xffu))
#define VTD_FSTS_WRITE1_CLEAR (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* ---- FECTL ---- */
#define VTD_FECTL_IM (1u << 31) /* interrupt mask: resets set, so no fault interrupt until cleared */
#define VTD_FECTL_IP (1u << 30) /* interrupt pending: a fault event was held back by IM (read-only) */

/*
 * ---- FEDATA / FEADDR / FEUADDR: the fault event is an MSI the unit sends
 * itself. FEDATA holds the MSI data (vector in bits 7:0, delivery mode in
 * 10:8 (0 = fixed), extended interrupt message data in 31:16 must be 0),
 * FEADDR the MSI address (0xFEE in bits 31:20, the xAPIC destination id in
 * 19:12; bits 1:0 reserved), FEUADDR the upper 32 bits of an x2APIC
 * destination.  The unit's own message is never remapped.
 */
#define VTD_FEDATA_VECTOR(v) ((uint32_t)(v) & 0xffu)
#define VTD_FEADDR_BASE 0xfee00000u
#define VTD_FEADDR_DEST_SHIFT 12
#define VTD_FEADDR_DEST_MASK 0x000ff000u
#define VTD_FEADDR_RESERVED_MASK 0x3u

static inline uint32_t vtd_feaddr_value(uint8_t xapic_dest)
{
	return VTD_FEADDR_BASE | ((uint32_t)xapic_dest << VTD_FEADDR_DEST_SHIFT);
}

/* ---- fault recording registers: 16 bytes each at CAP.FRO ---- */
#define VTD_FRCD_SIZE 16u
#define VTD_FRCD_LO 0u /* faulting page address, bits 63:12 */
#define VTD_FRCD_HI 8u
#define VTD_FRCD_LO_ADDR_MASK 0xfffffffffffff000ull
#define VTD_FRCD_HI_SID(hi) ((uint16_t)((hi) & 0xffffu))
#define VTD_FRCD_HI_REASON(hi) ((unsigned)(((hi) >> 32) & 0xffu))
#define VTD_FRCD_HI_TYPE_READ (1ull << 62) /* 1 = read request, 0 = write */
#define VTD_FRCD_HI_F (1ull << 63)         /* record valid; write 1 to clear */

static inline unsigned vtd_frcd_offset(uint64_t cap, unsigned index)
{
	return VTD_CAP_FRO(cap) + index * VTD_FRCD_SIZE;
}

/* Fault reasons (VT-d spec, appendix A) the tests look for. */
#define VTD_FR_ROOT_NOT_PRESENT 0x1
#define VTD_FR_CONTEXT_NOT_PRESENT 0x2
#define VTD_FR_CONTEXT_INVALID 0x3
#define VTD_FR_ADDR_BEYOND_AW 0x4
#define VTD_FR_WRITE_NOT_PERMITTED 0x5 /* also: write through a not-present PTE */
#define VTD_FR_READ_NOT_PERMITTED 0x6  /* also: read through a not-present PTE */
#define VTD_FR_PTE_FETCH 0x7

/* Interrupt-remapping fault reasons (VT-d spec, section 7.1, "Interrupt Remapping Fault Conditions"). */
#define VTD_FR_IR_REQ_RESERVED 0x20   /* reserved field set in the remappable request */
#define VTD_FR_IR_INDEX_OVER 0x21     /* interrupt index beyond the IRTA size */
#define VTD_FR_IR_ENTRY_NOT_PRESENT 0x22 /* the IRTE's P bit is clear */
#define VTD_FR_IR_TABLE_ACCESS 0x23   /* the IRT named by IRTA could not be read */
#define VTD_FR_IR_ENTRY_RESERVED 0x24 /* reserved field set in the IRTE */
#define VTD_FR_IR_COMPAT_BLOCKED 0x25 /* compatibility-format interrupt while CFI is clear */
#define VTD_FR_IR_SID_MISMATCH 0x26   /* source-id verification (IRTE SVT/SQ/SID) failed */
#define VTD_FR_IR_FIRST VTD_FR_IR_REQ_RESERVED
#define VTD_FR_IR_LAST VTD_FR_IR_SID_MISMATCH

/*
 * An interrupt-remapping fault record carries the interrupt index in bits
 * 63:48 of the low qword instead of a page address (T is reserved there).
 */
#define VTD_FRCD_LO_IR_INDEX(lo) ((uint16_t)((lo) >> 48))

/* ---- IRTA: interrupt remapping table address ---- */
#define VTD_IRTA_ADDR_MASK 0xfffffffffffff000ull /* 4 KiB aligned table */
#define VTD_IRTA_EIME (1ull << 11) /* extended (x2APIC) interrupt mode: 32-bit destinations */
#define VTD_IRTA_SIZE_MASK 0xfull  /* table holds 2^(S + 1) entries */
#define VTD_IRTA_MAX_SIZE_FIELD 15u /* 65536 entries */

/* GSTS bits for interrupt remapping (the GCMD bits are above). */
#define VTD_GSTS_IRTPS VTD_GCMD_SIRTP /* interrupt remap table pointer latched */
#define VTD_GSTS_CFIS VTD_GCMD_CFI    /* compatibility-format interrupts pass */

/* Source id of a PCI requester: bus in 15:8, device 7:3, function 2:0. */
static inline uint16_t vtd_source_id(uint8_t bus, uint8_t device, uint8_t function)
{
	return (uint16_t)((bus << 8) | ((device & 0x1fu) << 3) | (function & 0x7u));
}

#endif
