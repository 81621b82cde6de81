/* VT-d interrupt remapping encoding; see vtd_ir.h. */
#include "vtd_ir.h"

#include <stddef.h>

#include "vtd_regs.h"

#define BYTE_MASK 0xffu
#define BUS_SHIFT 8
#define SQ_FIELD_MASK 3u
#define SVT_FIELD_MASK 3u
#define HANDLE_LO_BITS 15

static bool delivery_mode_valid(uint8_t mode)
{
	switch (mode) {
	case VTD_IR_DLM_FIXED:
	case VTD_IR_DLM_LOWEST:
	case VTD_IR_DLM_SMI:
	case VTD_IR_DLM_NMI:
	case VTD_IR_DLM_INIT:
	case VTD_IR_DLM_EXTINT:
		return true;
	default:
		return false;
	}
}

/* Vectors only matter for fixed and lowest-priority delivery. */
static bool vector_required(uint8_t mode)
{
	return mode == VTD_IR_DLM_FIXED || mode == VTD_IR_DLM_LOWEST;
}

static uint64_t dest_field(uint32_t dest, bool x2apic)
{
	uint32_t field = x2apic ? dest : (dest << VTD_IRTE_XAPIC_DEST_SHIFT);

	return (uint64_t)field << VTD_IRTE_DST_SHIFT;
}

const char *vtd_irte_encode(const struct vtd_irte *e, bool x2apic, uint64_t out[2])
{
	if (!delivery_mode_valid(e->delivery_mode))
		return "delivery-mode-invalid";
	if (vector_required(e->delivery_mode) && e->vector < VTD_IR_MIN_VECTOR)
		return "vector-reserved";
	if (!x2apic && e->dest > BYTE_MASK)
		return "xapic-dest-above-255";
	if ((unsigned)e->sq > SQ_FIELD_MASK)
		return "sq-invalid";
	if (e->svt != VTD_SVT_NONE && e->svt != VTD_SVT_SID && e->svt != VTD_SVT_BUS)
		return "svt-invalid";
	uint64_t lo = dest_field(e->dest, x2apic) | ((uint64_t)e->vector << VTD_IRTE_VECTOR_SHIFT) |
		      ((uint64_t)e->delivery_mode << VTD_IRTE_DLM_SHIFT);

	lo |= e->present ? VTD_IRTE_P : 0;
	lo |= e->fault_disable ? VTD_IRTE_FPD : 0;
	lo |= e->logical_dest ? VTD_IRTE_DM : 0;
	lo |= e->redirection_hint ? VTD_IRTE_RH : 0;
	lo |= e->level_triggered ? VTD_IRTE_TM : 0;
	out[0] = lo;
	out[1] = (uint64_t)e->sid | ((uint64_t)e->sq << VTD_IRTE_SQ_SHIFT) |
		 ((uint64_t)e->svt << VTD_IRTE_SVT_SHIFT);
	return NULL;
}

const char *vtd_irte_decode(const uint64_t in[2], bool x2apic, struct vtd_irte *e)
{
	uint64_t lo = in[0], hi = in[1];
	uint32_t dest = (uint32_t)(lo >> VTD_IRTE_DST_SHIFT);

	e->present = lo & VTD_IRTE_P;
	e->fault_disable = lo & VTD_IRTE_FPD;
	e->logical_dest = lo & VTD_IRTE_DM;
	e->redirection_hint = lo & VTD_IRTE_RH;
	e->level_triggered = lo & VTD_IRTE_TM;
	e->delivery_mode = (uint8_t)((lo & VTD_IRTE_DLM_MASK) >> VTD_IRTE_DLM_SHIFT);
	e->vector = (uint8_t)((lo & VTD_IRTE_VECTOR_MASK) >> VTD_IRTE_VECTOR_SHIFT);
	e->dest = x2apic ? dest : (dest & VTD_IRTE_XAPIC_DEST_MASK) >> VTD_IRTE_XAPIC_DEST_SHIFT;
	e->sid = (uint16_t)(hi & VTD_IRTE_SID_MASK);
	e->sq = (enum vtd_irte_sq)((hi >> VTD_IRTE_SQ_SHIFT) & SQ_FIELD_MASK);
	e->svt = (enum vtd_irte_svt)((hi >> VTD_IRTE_SVT_SHIFT) & SVT_FIELD_MASK);
	if (lo & VTD_IRTE_IM)
		return "posted-mode";
	if ((lo & VTD_IRTE_LO_RESERVED) || (hi & VTD_IRTE_HI_RESERVED) ||
	    (!x2apic && (lo & VTD_IRTE_LO_XAPIC_DST_RESERVED)))
		return "reserved-bits-set";
	if (e->svt != VTD_SVT_NONE && e->svt != VTD_SVT_SID && e->svt != VTD_SVT_BUS)
		return "svt-reserved";
	return NULL;
}

static uint16_t sq_mask(enum vtd_irte_sq sq)
{
	/* The qualifier drops low function-number bits from the comparison. */
	static const uint16_t masks[] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

	return masks[(unsigned)sq & SQ_FIELD_MASK];
}

bool vtd_irte_sid_accepts(const struct vtd_irte *e, uint16_t rid)
{
	switch (e->svt) {
	case VTD_SVT_NONE:
		return true;
	case VTD_SVT_SID:
		return (rid & sq_mask(e->sq)) == (e->sid & sq_mask(e->sq));
	case VTD_SVT_BUS: {
		/* Spec 9.10: start bus in SID 15:8, end bus in SID 7:0. */
		unsigned bus = rid >> BUS_SHIFT, start = e->sid >> BUS_SHIFT,
			 end = e->sid & BYTE_MASK;

		return bus >= start && bus <= end;
	}
	default:
		return false;
	}
}

bool vtd_irta_value(uint64_t phys, uint32_t entries, bool eime, uint64_t *out)
{
	if (phys & ~VTD_IRTA_ADDR_MASK)
		return false;
	if (entries < VTD_IRT_MIN_ENTRIES || entries > VTD_IRT_MAX_ENTRIES ||
	    (entries & (entries - 1)))
		return false;
	/* S encodes 2^(S + 1) entries. */
	unsigned s = 0;

	while ((2u << s) < entries)
		s++;
	*out = phys | (eime ? VTD_IRTA_EIME : 0) | s;
	return true;
}

void vtd_irta_decode(uint64_t irta, uint64_t *phys, uint32_t *entries, bool *eime)
{
	*phys = irta & VTD_IRTA_ADDR_MASK;
	*entries = 2u << (irta & VTD_IRTA_SIZE_MASK);
	*eime = irta & VTD_IRTA_EIME;
}

uint32_t vtd_ir_msi_address(const struct vtd_ir_msi *m)
{
	uint32_t a = VTD_IR_MSI_ADDR_BASE | VTD_IR_MSI_ADDR_FORMAT;

	a |= ((uint32_t)m->handle << VTD_IR_MSI_ADDR_HANDLE_LO_SHIFT) & VTD_IR_MSI_ADDR_HANDLE_LO_MASK;
	a |= (m->handle >> HANDLE_LO_BITS) ? VTD_IR_MSI_ADDR_HANDLE15 : 0;
	a |= m->shv ? VTD_IR_MSI_ADDR_SHV : 0;
	return a;
}

uint32_t vtd_ir_msi_data(const struct vtd_ir_msi *m)
{
	return m->shv ? m->subhandle : 0;
}

bool vtd_ir_msi_decode(uint64_t address, uint32_t data, struct vtd_ir_msi *m, uint32_t *index,
		       const char **problem)
{
	uint32_t lo = (uint32_t)address;

	*problem = NULL;
	if ((address >> 32) || (lo & VTD_IR_MSI_ADDR_HEAD_MASK) != VTD_IR_MSI_ADDR_BASE) {
		*problem = vtd_fault_reason_name(VTD_FR_IR_REQ_RESERVED);
		return false;
	}
	if (!(lo & VTD_IR_MSI_ADDR_FORMAT))
		return false; /* compatibility format */
	m->handle = (uint16_t)(((lo & VTD_IR_MSI_ADDR_HANDLE_LO_MASK) >>
				VTD_IR_MSI_ADDR_HANDLE_LO_SHIFT) |
			       ((lo & VTD_IR_MSI_ADDR_HANDLE15) ? 1u << HANDLE_LO_BITS : 0));
	m->shv = lo & VTD_IR_MSI_ADDR_SHV;
	m->subhandle = m->shv ? (uint16_t)(data & VTD_IR_MSI_DATA_SUBHANDLE_MASK) : 0;
	if (m->shv && (data & VTD_IR_MSI_DATA_RESERVED_MASK)) {
		*problem = vtd_fault_reason_name(VTD_FR_IR_REQ_RESERVED);
		return false;
	}
	*index = (uint32_t)m->handle + m->subhandle;
	return true;
}

const char *vtd_fault_reason_name(uint8_t reason)
{
	switch (reason) {
	case VTD_FR_ROOT_NOT_PRESENT: return "root-entry-not-present";
	case VTD_FR_CONTEXT_NOT_PRESENT: return "context-entry-not-present";
	case VTD_FR_CONTEXT_INVALID: return "context-entry-invalid";
	case VTD_FR_ADDR_BEYOND_AW: return "address-beyond-address-width";
	case VTD_FR_WRITE_NOT_PERMITTED: return "write-not-permitted";
	case VTD_FR_READ_NOT_PERMITTED: return "read-not-permitted";
	case VTD_FR_PTE_FETCH: return "page-table-entry-fetch";
	case VTD_FR_IR_REQ_RESERVED: return "interrupt-request-reserved-field";
	case VTD_FR_IR_INDEX_OVER: return "interrupt-index-beyond-table";
	case VTD_FR_IR_ENTRY_NOT_PRESENT: return "irte-not-present";
	case VTD_FR_IR_TABLE_ACCESS: return "interrupt-table-access-error";
	case VTD_FR_IR_ENTRY_RESERVED: return "irte-reserved-field";
	case VTD_FR_IR_COMPAT_BLOCKED: return "compatibility-interrupt-blocked";
	case VTD_FR_IR_SID_MISMATCH: return "interrupt-source-id-mismatch";
	default: return "unknown-fault-reason";
	}
}

bool vtd_fault_reason_is_ir(uint8_t reason)
{
	return reason >= VTD_FR_IR_FIRST && reason <= VTD_FR_IR_LAST;
}
