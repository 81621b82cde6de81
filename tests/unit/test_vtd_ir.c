/* VT-d interrupt remapping encoding tests (IRTE, IRTA, remappable MSI, fault names). */
#include "unit.h"

#include "vtd_ir.h"
#include "vtd_regs.h"

static struct vtd_irte fixed_entry(uint8_t vector, uint32_t dest, uint16_t sid)
{
	struct vtd_irte e = { .present = true, .delivery_mode = VTD_IR_DLM_FIXED,
			      .vector = vector, .dest = dest, .sid = sid,
			      .sq = VTD_SQ_ALL_BITS, .svt = VTD_SVT_SID };
	return e;
}

UNIT_TEST(irte_xapic_layout)
{
	struct vtd_irte e = fixed_entry(0x41, 0x03, 0x0010);
	uint64_t q[2];

	CHECK(vtd_irte_encode(&e, false, q) == NULL);
	/* P, vector 0x41 in 23:16, APIC id 3 in bits 47:40, SID 00:02.0, SVT=01 (bit 82). */
	CHECK_EQ(q[0], 0x0000030000410001ull);
	CHECK_EQ(q[1], 0x0000000000040010ull);
}

UNIT_TEST(irte_x2apic_layout_and_flags)
{
	struct vtd_irte e = fixed_entry(0xfe, 0x12345678, 0xff07);
	uint64_t q[2];

	e.fault_disable = e.logical_dest = e.redirection_hint = e.level_triggered = true;
	e.delivery_mode = VTD_IR_DLM_LOWEST;
	e.sq = VTD_SQ_IGNORE_2_0;
	e.svt = VTD_SVT_BUS;
	CHECK(vtd_irte_encode(&e, true, q) == NULL);
	CHECK_EQ(q[0], 0x1234567800fe003full);
	CHECK_EQ(q[1], 0x00000000000bff07ull);
}

UNIT_TEST(irte_roundtrip)
{
	struct vtd_irte e = fixed_entry(0x30, 0xff, 0x0108), d;
	uint64_t q[2];

	e.sq = VTD_SQ_IGNORE_2;
	CHECK(vtd_irte_encode(&e, false, q) == NULL);
	CHECK(vtd_irte_decode(q, false, &d) == NULL);
	CHECK(d.present);
	CHECK(!d.fault_disable);
	CHECK_EQ(d.vector, 0x30);
	CHECK_EQ(d.dest, 0xff);
	CHECK_EQ(d.sid, 0x0108);
	CHECK_EQ(d.sq, VTD_SQ_IGNORE_2);
	CHECK_EQ(d.svt, VTD_SVT_SID);
	CHECK_EQ(d.delivery_mode, VTD_IR_DLM_FIXED);
}

UNIT_TEST(irte_encode_refuses)
{
	struct vtd_irte e = fixed_entry(0x0f, 0, 0);
	uint64_t q[2];

	CHECK_STR(vtd_irte_encode(&e, false, q), "vector-reserved");
	e.vector = 0x40;
	e.dest = 0x100;
	CHECK_STR(vtd_irte_encode(&e, false, q), "xapic-dest-above-255");
	CHECK(vtd_irte_encode(&e, true, q) == NULL);
	e.delivery_mode = 3;
	CHECK_STR(vtd_irte_encode(&e, true, q), "delivery-mode-invalid");
	e.delivery_mode = VTD_IR_DLM_NMI;
	e.vector = 0; /* NMI carries no vector */
	CHECK(vtd_irte_encode(&e, true, q) == NULL);
	e.svt = (enum vtd_irte_svt)3;
	CHECK_STR(vtd_irte_encode(&e, true, q), "svt-invalid");
}

UNIT_TEST(irte_decode_problems)
{
	struct vtd_irte d;
	uint64_t q[2] = { VTD_IRTE_P | (1ull << 12), 0 };

	CHECK_STR(vtd_irte_decode(q, false, &d), "reserved-bits-set");
	q[0] = VTD_IRTE_P | VTD_IRTE_IM;
	CHECK_STR(vtd_irte_decode(q, false, &d), "posted-mode");
	q[0] = VTD_IRTE_P | (0x01ull << 32); /* low destination byte: reserved in xAPIC mode */
	CHECK_STR(vtd_irte_decode(q, false, &d), "reserved-bits-set");
	CHECK(vtd_irte_decode(q, true, &d) == NULL);
	q[0] = VTD_IRTE_P;
	q[1] = 3ull << VTD_IRTE_SVT_SHIFT;
	CHECK_STR(vtd_irte_decode(q, false, &d), "svt-reserved");
	q[1] = 1ull << 20;
	CHECK_STR(vtd_irte_decode(q, false, &d), "reserved-bits-set");
}

UNIT_TEST(irte_source_validation)
{
	struct vtd_irte e = fixed_entry(0x40, 0, 0x0210); /* 02:02.0 */

	CHECK(vtd_irte_sid_accepts(&e, 0x0210));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0310));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0214)); /* function 4 */
	e.sq = VTD_SQ_IGNORE_2;
	CHECK(vtd_irte_sid_accepts(&e, 0x0214));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0212));
	e.sq = VTD_SQ_IGNORE_2_1;
	CHECK(vtd_irte_sid_accepts(&e, 0x0216));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0217));
	e.sq = VTD_SQ_IGNORE_2_0;
	CHECK(vtd_irte_sid_accepts(&e, 0x0217));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0218));
	e.svt = VTD_SVT_BUS;
	e.sid = 0x0305; /* buses 3..5 */
	CHECK(!vtd_irte_sid_accepts(&e, 0x0200));
	CHECK(vtd_irte_sid_accepts(&e, 0x0300));
	CHECK(vtd_irte_sid_accepts(&e, 0x05ff));
	CHECK(!vtd_irte_sid_accepts(&e, 0x0600));
	e.svt = VTD_SVT_NONE;
	CHECK(vtd_irte_sid_accepts(&e, 0xffff));
}

UNIT_TEST(irta_encoding)
{
	uint64_t v, phys;
	uint32_t entries;
	bool eime;

	CHECK(vtd_irta_value(0x12345000, 256, true, &v));
	CHECK_EQ(v, 0x12345000ull | VTD_IRTA_EIME | 7);
	vtd_irta_decode(v, &phys, &entries, &eime);
	CHECK_EQ(phys, 0x12345000);
	CHECK_EQ(entries, 256);
	CHECK(eime);
	CHECK(vtd_irta_value(0x1000, 2, false, &v));
	CHECK_EQ(v, 0x1000);
	CHECK(vtd_irta_value(0x1000, 65536, false, &v));
	CHECK_EQ(v & VTD_IRTA_SIZE_MASK, 15);
	CHECK(!vtd_irta_value(0x1800, 256, false, &v));  /* not 4 KiB aligned */
	CHECK(!vtd_irta_value(0x1000, 3, false, &v));    /* not a power of two */
	CHECK(!vtd_irta_value(0x1000, 1, false, &v));
	CHECK(!vtd_irta_value(0x1000, 131072, false, &v));
}

UNIT_TEST(ir_msi_format)
{
	struct vtd_ir_msi m = { .handle = 0x8005, .shv = true, .subhandle = 2 }, d;
	uint32_t index;
	const char *problem;

	/* 0xFEE, handle 14:0 = 5 in bits 19:5, format bit 4, SHV bit 3, handle bit 15 in bit 2. */
	CHECK_EQ(vtd_ir_msi_address(&m), 0xfee000bcu);
	CHECK_EQ(vtd_ir_msi_data(&m), 2);
	CHECK(vtd_ir_msi_decode(0xfee000bcu, 2, &d, &index, &problem));
	CHECK_EQ(d.handle, 0x8005);
	CHECK(d.shv);
	CHECK_EQ(index, 0x8007);
	m.shv = false;
	CHECK_EQ(vtd_ir_msi_data(&m), 0);
	CHECK(vtd_ir_msi_decode(vtd_ir_msi_address(&m), 0x41, &d, &index, &problem));
	CHECK_EQ(index, 0x8005); /* without SHV the data is not part of the index */
}

UNIT_TEST(ir_msi_decode_rejects)
{
	struct vtd_ir_msi d;
	uint32_t index;
	const char *problem;

	CHECK(!vtd_ir_msi_decode(0xfee00000u, 0x41, &d, &index, &problem));
	CHECK(problem == NULL); /* compatibility format */
	CHECK(!vtd_ir_msi_decode(0xfee00018u, 0x10000, &d, &index, &problem));
	CHECK_STR(problem, "interrupt-request-reserved-field");
	CHECK(!vtd_ir_msi_decode(0x1fee00010ull, 0, &d, &index, &problem));
	CHECK_STR(problem, "interrupt-request-reserved-field");
	CHECK(!vtd_ir_msi_decode(0xfed00010u, 0, &d, &index, &problem));
	CHECK_STR(problem, "interrupt-request-reserved-field");
}

UNIT_TEST(fault_reason_names)
{
	CHECK_STR(vtd_fault_reason_name(0x05), "write-not-permitted");
	CHECK_STR(vtd_fault_reason_name(0x06), "read-not-permitted");
	CHECK_STR(vtd_fault_reason_name(0x20), "interrupt-request-reserved-field");
	CHECK_STR(vtd_fault_reason_name(0x21), "interrupt-index-beyond-table");
	CHECK_STR(vtd_fault_reason_name(0x22), "irte-not-present");
	CHECK_STR(vtd_fault_reason_name(0x23), "interrupt-table-access-error");
	CHECK_STR(vtd_fault_reason_name(0x24), "irte-reserved-field");
	CHECK_STR(vtd_fault_reason_name(0x25), "compatibility-interrupt-blocked");
	CHECK_STR(vtd_fault_reason_name(0x26), "interrupt-source-id-mismatch");
	CHECK_STR(vtd_fault_reason_name(0x27), "unknown-fault-reason");
	CHECK(!vtd_fault_reason_is_ir(0x1f));
	CHECK(vtd_fault_reason_is_ir(0x20));
	CHECK(vtd_fault_reason_is_ir(0x26));
	CHECK(!vtd_fault_reason_is_ir(0x27));
}

UNIT_TEST(fault_event_registers)
{
	CHECK_EQ(vtd_feaddr_value(0), 0xfee00000u);
	CHECK_EQ(vtd_feaddr_value(0x12), 0xfee12000u);
	CHECK_EQ(VTD_FEDATA_VECTOR(0x1f3), 0xf3);
	CHECK_EQ(VTD_FECTL_IM, 0x80000000u);
	CHECK_EQ(VTD_FECTL_IP, 0x40000000u);
	CHECK_EQ(VTD_FRCD_LO_IR_INDEX(0x0007000000000000ull), 7);
}
