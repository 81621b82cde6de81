/*
 * Intel VT-d interrupt remapping, pure encoding (VT-d spec, chapter 5 and
 * 9.10): interrupt remapping table entries (IRTEs), the IRTA register, the
 * remappable-format MSI address and data a device is programmed with, the
 * source-id check the unit applies, and the names of every fault reason
 * (DMA 0x1-0x7 as used here, interrupt remapping 0x20-0x26).
 *
 * How an interrupt is remapped: the device writes its MSI (address in
 * 0xFEExxxxx) as usual; with IR on and the address in remappable format
 * (bit 4 set), the unit takes the handle from the address (plus the
 * subhandle from the data when SHV is set) as an index into the IRT, checks
 * the IRTE (present, reserved bits, source id), and delivers the IRTE's
 * vector to the IRTE's destination.  Nothing of the device's MSI data
 * except the subhandle reaches the CPU.
 *
 * Destination ids: in xAPIC mode (IRTA.EIME clear) the 8-bit APIC id sits
 * in bits 15:8 of the IRTE's 32-bit destination field; in x2APIC mode
 * (EIME set) the field is the whole 32-bit x2APIC id.
 */
#ifndef PROOFBOOT_LIB_VTD_IR_H
#define PROOFBOOT_LIB_VTD_IR_H

#include <stdbool.h>
#include <stdint.h>

#define VTD_IRTE_BYTES 16u
#define VTD_IRT_MIN_ENTRIES 2u
#define VTD_IRT_MAX_ENTRIES 65536u
/* Vectors 0-15 are reserved by the architecture; an IRTE must not use them. */
#define VTD_IR_MIN_VECTOR 16u

/* ---- IRTE low qword ---- */
#define VTD_IRTE_P (1ull << 0)    /* present */
#define VTD_IRTE_FPD (1ull << 1)  /* fault processing disable: faults are not recorded */
#define VTD_IRTE_DM (1ull << 2)   /* destination mode: 1 logical, 0 physical */
#define VTD_IRTE_RH (1ull << 3)   /* redirection hint (lowest-priority style) */
#define VTD_IRTE_TM (1ull << 4)   /* trigger mode: 1 level, 0 edge */
#define VTD_IRTE_DLM_SHIFT 5      /* delivery mode, 3 bits */
#define VTD_IRTE_DLM_MASK (7ull << VTD_IRTE_DLM_SHIFT)
#define VTD_IRTE_AVAIL_MASK (0xfull << 8) /* software-available */
#define VTD_IRTE_IM (1ull << 15)  /* IRTE mode: 1 = posted (not used here) */
#define VTD_IRTE_VECTOR_SHIFT 16
#define VTD_IRTE_VECTOR_MASK (0xffull << VTD_IRTE_VECTOR_SHIFT)
#define VTD_IRTE_DST_SHIFT 32
#define VTD_IRTE_XAPIC_DEST_SHIFT 8 /* inside the 32-bit destination field */
#define VTD_IRTE_XAPIC_DEST_MASK 0xff00u
/* Bits 14:12 and 31:24 are reserved in the remapped (IM = 0) format. */
#define VTD_IRTE_LO_RESERVED ((7ull << 12) | (0xffull << 24))
/* In xAPIC mode only bits 15:8 of the destination field are defined. */
#define VTD_IRTE_LO_XAPIC_DST_RESERVED (0xffff00ffull << VTD_IRTE_DST_SHIFT)

/* ---- IRTE high qword ---- */
#define VTD_IRTE_SID_MASK 0xffffull
#define VTD_IRTE_SQ_SHIFT 16 /* source-id qualifier, 2 bits */
#define VTD_IRTE_SVT_SHIFT 18 /* source validation type, 2 bits */
#define VTD_IRTE_HI_RESERVED (~0xfffffull)

/* Delivery modes (same encoding as the MSI data register). */
#define VTD_IR_DLM_FIXED 0u
#define VTD_IR_DLM_LOWEST 1u
#define VTD_IR_DLM_SMI 2u
#define VTD_IR_DLM_NMI 4u
#define VTD_IR_DLM_INIT 5u
#define VTD_IR_DLM_EXTINT 7u

/* Source validation types. */
enum vtd_irte_svt {
	VTD_SVT_NONE = 0, /* no check */
	VTD_SVT_SID = 1,  /* requester id must equal SID, with the SQ mask */
	VTD_SVT_BUS = 2,  /* requester bus within [SID 15:8, SID 7:0] */
};

/* SQ: which function-number bits the SVT_SID comparison ignores. */
enum vtd_irte_sq {
	VTD_SQ_ALL_BITS = 0,   /* compare all 16 bits */
	VTD_SQ_IGNORE_2 = 1,   /* ignore bit 2 */
	VTD_SQ_IGNORE_2_1 = 2, /* ignore bits 2:1 */
	VTD_SQ_IGNORE_2_0 = 3, /* ignore bits 2:0 */
};

struct vtd_irte {
	bool present;
	bool fault_disable;      /* FPD */
	bool logical_dest;       /* DM */
	bool redirection_hint;   /* RH */
	bool level_triggered;    /* TM */
	uint8_t delivery_mode;   /* VTD_IR_DLM_* */
	uint8_t vector;
	uint32_t dest;           /* APIC id: 8 bits (xAPIC) or 32 bits (x2APIC) */
	uint16_t sid;
	enum vtd_irte_sq sq;
	enum vtd_irte_svt svt;
};

/*
 * Encodes e into the two little-endian qwords of an IRTE.  x2apic says
 * whether the table is used with IRTA.EIME set.  NULL on success, else the
 * first problem ("vector-reserved", "delivery-mode-invalid",
 * "xapic-dest-above-255", "sq-invalid", "svt-invalid").
 */
const char *vtd_irte_encode(const struct vtd_irte *e, bool x2apic, uint64_t out[2]);

/* Decodes an IRTE; NULL, or the problem ("reserved-bits-set", "posted-mode", "svt-reserved"). */
const char *vtd_irte_decode(const uint64_t in[2], bool x2apic, struct vtd_irte *e);

/* Whether the unit would accept an interrupt request from requester id `rid` (spec 9.10). */
bool vtd_irte_sid_accepts(const struct vtd_irte *e, uint16_t rid);

/* IRTA value for a table at `phys` with `entries` entries (power of two, 2..65536). */
bool vtd_irta_value(uint64_t phys, uint32_t entries, bool eime, uint64_t *out);
void vtd_irta_decode(uint64_t irta, uint64_t *phys, uint32_t *entries, bool *eime);

/* ---- remappable-format MSI ---- */
#define VTD_IR_MSI_ADDR_BASE 0xfee00000u
#define VTD_IR_MSI_ADDR_HEAD_MASK 0xfff00000u
#define VTD_IR_MSI_ADDR_FORMAT (1u << 4) /* 1 = remappable format */
#define VTD_IR_MSI_ADDR_SHV (1u << 3)    /* subhandle valid: data 15:0 added to the handle */
#define VTD_IR_MSI_ADDR_HANDLE15 (1u << 2)
#define VTD_IR_MSI_ADDR_HANDLE_LO_SHIFT 5
#define VTD_IR_MSI_ADDR_HANDLE_LO_MASK (0x7fffu << VTD_IR_MSI_ADDR_HANDLE_LO_SHIFT)
#define VTD_IR_MSI_DATA_SUBHANDLE_MASK 0xffffu
#define VTD_IR_MSI_DATA_RESERVED_MASK 0xffff0000u

struct vtd_ir_msi {
	uint16_t handle;
	bool shv;
	uint16_t subhandle;     /* meaningful only with shv */
};

/* The 32-bit MSI address (upper half 0) and data for a remappable interrupt. */
uint32_t vtd_ir_msi_address(const struct vtd_ir_msi *m);
uint32_t vtd_ir_msi_data(const struct vtd_ir_msi *m);

/*
 * Decodes an MSI as the unit would: false for a compatibility-format
 * message (*problem NULL) or a malformed one (*problem names the fault
 * reason it would raise, e.g. "interrupt-request-reserved-field").  On true,
 * *index is the IRT index the unit looks up (handle + subhandle).
 */
bool vtd_ir_msi_decode(uint64_t address, uint32_t data, struct vtd_ir_msi *m, uint32_t *index,
		       const char **problem);

/* ---- fault reasons ---- */
/* Lower-case-dashed name of any VT-d fault reason ("unknown-fault-reason" otherwise). */
const char *vtd_fault_reason_name(uint8_t reason);
/* Whether the reason is an interrupt-remapping fault (0x20-0x26). */
bool vtd_fault_reason_is_ir(uint8_t reason);

#endif
