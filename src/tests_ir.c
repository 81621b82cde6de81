/* Interrupt-remapping proofs on every controller; see tests_ir.h. */
#include "tests_ir.h"

#include "dma_remap.h"
#include "irq.h"
#include "lapic.h"
#include "nvme.h"
#include "nvme_read.h"
#include "pmem.h"
#include "proof.h"
#include "tests_common.h"
#include "tests_isolation.h"
#include "vtd_ir.h"
#include "vtd_regs.h"

#include <string.h>

#define IR_TABLE_ENTRIES (PAGE_SIZE / VTD_IRTE_BYTES)
#define IR_GOOD 0u        /* present, checks the controller's requester id */
#define IR_NOT_PRESENT 1u
#define IR_WRONG_SID 2u   /* present, checks another requester id */
/* Another device number on the same bus: what the wrong-SID entry checks. */
#define IR_OTHER_DEVICE (1u << 3)
#define HEX_MSI 8
#define HEX_VECTOR 2
#define HEX_REASON 2
/* VT-d puts the IRT index of an interrupt-remapping fault where a page address would be. */
#define IR_FAULT_INDEX_SHIFT 48

static uint64_t *ir_table;
static uint8_t ir_vector;
static volatile uint64_t ir_hits; /* interrupts that arrived with the table's vector */
static uint8_t *ir_buffer;

static void ir_interrupt(uint8_t vector, void *ctx)
{
	(void)vector;
	(void)ctx;
	ir_hits++;
}

struct ir_ctrl {
	struct nvme_ctrl *ctrl;
	const struct nvme_namespace *ns;
	struct dma_remap_info info;
	bool extended;
};

/* What one read through a given table entry showed. */
struct ir_try {
	uint32_t index;
	uint32_t msi_addr, msi_data;
	uint64_t irte_hits;   /* interrupts on the table's vector during the read */
	uint64_t queue_hits;  /* interrupts on the queue's own (compatibility) vector */
	bool read_ok;
};

typedef enum test_status (*ir_proof_fn)(struct ir_ctrl *r, char *why, size_t cap);

/* A row's proof, handed through tests_proof_everywhere() as its argument. */
struct ir_proof {
	ir_proof_fn fn;
};

/* ---------------------------------------------------------------- table */

static const char *put_entry(const struct ir_ctrl *r, uint32_t index, bool present, uint16_t sid)
{
	struct vtd_irte e = { .present = present, .delivery_mode = VTD_IR_DLM_FIXED,
			      .vector = ir_vector, .dest = lapic_id(), .sid = sid,
			      .sq = VTD_SQ_ALL_BITS, .svt = VTD_SVT_SID };

	return vtd_irte_encode(&e, r->extended, &ir_table[index * 2]);
}

static const char *build_table(const struct ir_ctrl *r)
{
	const char *problem;

	memset(ir_table, 0, PAGE_SIZE);
	if ((problem = put_entry(r, IR_GOOD, true, r->info.sid)) ||
	    (problem = put_entry(r, IR_NOT_PRESENT, false, r->info.sid)) ||
	    (problem = put_entry(r, IR_WRONG_SID, true, r->info.sid ^ IR_OTHER_DEVICE)))
		return problem;
	return NULL;
}

/* ---------------------------------------------------------------- per controller */

static enum test_status prepare(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
				struct ir_ctrl *r, char *why, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->ctrl = c;
	if (!ir_table)
		ir_table = pmem_alloc(PAGE_SIZE, PAGE_SIZE, UINT64_MAX);
	if (!ir_buffer)
		ir_buffer = pmem_alloc(PAGE_SIZE, PAGE_SIZE, UINT64_MAX);
	if (!ir_vector)
		ir_vector = irq_alloc_vector(ir_interrupt, NULL);
	if (!ir_table || !ir_buffer || !ir_vector)
		return test_outcome(TEST_FAIL, why, cap, "no memory or vector for the proof");
	if (!nvme_bring_up(c, ops, NVME_STAGE_IO_READY))
		return test_outcome(TEST_FAIL, why, cap, "bring-up through remapping failed: %s",
				    c->failure);
	r->ns = test_first_namespace(c);
	if (!r->ns || !dma_remap_info(&c->dma, &r->info))
		return test_outcome(TEST_SKIP, why, cap, "no usable namespace on remapping");
	if (!r->info.driver->ir_capable || !r->info.driver->ir_enable ||
	    !r->info.driver->ir_disable ||
	    !r->info.driver->ir_capable(r->info.unit, &r->extended))
		return test_outcome(TEST_SKIP, why, cap, "the %s unit does not remap interrupts",
				    r->info.driver->name);
	if (c->irq_mode != NVME_IRQ_MSIX || !c->io.irq_enabled)
		return test_outcome(TEST_SKIP, why, cap, "the I/O queue does not use MSI-X");
	if (r->info.rid_count > 1)
		return test_outcome(TEST_SKIP, why, cap,
				    "behind a bridge: its MSI may carry an alias requester id");
	return TEST_PASS;
}

/* Points the I/O queue's MSI-X entry at table entry `index` and reads one block. */
static void read_through(struct ir_ctrl *r, uint32_t index, const char *purpose, struct ir_try *t)
{
	struct vtd_ir_msi m = { .handle = 0, .shv = true, .subhandle = (uint16_t)index };
	struct nvme_read_stats st;

	memset(t, 0, sizeof(*t));
	t->index = index;
	t->msi_addr = vtd_ir_msi_address(&m);
	t->msi_data = vtd_ir_msi_data(&m);
	nvme_msix_message(r->ctrl, t->msi_addr, t->msi_data);
	uint64_t hits = ir_hits, queue = r->ctrl->io.irq_count;

	t->read_ok = nvme_read(r->ctrl, r->ns, 0, 1, ir_buffer, purpose, &st);
	t->irte_hits = ir_hits - hits;
	t->queue_hits = r->ctrl->io.irq_count - queue;
}

static void report_try(const struct ir_ctrl *r, const char *event, const char *kase,
		       const struct ir_try *t, const struct ir_try *restored, bool fault_seen,
		       const struct iommu_fault *f)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_str(&p, "sid", r->ctrl->bdf);
	if (kase)
		proof_str(&p, "case", kase);
	proof_u64(&p, "unit", r->info.unit->index);
	proof_bool(&p, "extended", r->extended);
	proof_u64(&p, "index", t->index);
	proof_hex(&p, "msi_addr", t->msi_addr, HEX_MSI);
	proof_hex(&p, "msi_data", t->msi_data, HEX_MSI);
	proof_hex(&p, "irte_vector", ir_vector, HEX_VECTOR);
	proof_hex(&p, "data_vector", t->msi_data & VTD_FEDATA_VECTOR(~0u), HEX_VECTOR);
	proof_u64(&p, "irte_hits", t->irte_hits);
	proof_u64(&p, "queue_vector_hits", t->queue_hits);
	proof_bool(&p, "read_ok", t->read_ok);
	if (kase) {
		proof_bool(&p, "fault", fault_seen);
		if (fault_seen) {
			proof_hex(&p, "fault_reason", f->reason, HEX_REASON);
			proof_hex(&p, "fault_source", f->sid, 4);
		}
		proof_u64(&p, "restored_irte_hits", restored->irte_hits);
	}
	proof_emit(&p);
}

static enum test_status with_remapping(struct ir_ctrl *r, ir_proof_fn fn, char *why, size_t cap)
{
	const char *problem = build_table(r);

	if (problem)
		return test_outcome(TEST_FAIL, why, cap, "table entry not built: %s", problem);
	if (!r->info.driver->ir_enable(r->info.unit, virt_to_phys(ir_table), IR_TABLE_ENTRIES, why,
				       cap))
		return TEST_FAIL;
	enum test_status s = fn(r, why, cap);
	char off[TEST_REASON_MAX];

	/* The driver's own message back before remapping goes off: nothing is lost. */
	nvme_msix_restore(r->ctrl);
	if (!r->info.driver->ir_disable(r->info.unit, off, sizeof(off)))
		return test_outcome(TEST_FAIL, why, cap, "%s", off);
	return s;
}

static enum test_status ir_on(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
			      const void *arg, char *why, size_t cap)
{
	struct ir_ctrl r;
	enum test_status s = prepare(c, ops, &r, why, cap);

	if (s != TEST_PASS)
		return s;
	why[0] = '\0';
	return with_remapping(&r, ((const struct ir_proof *)arg)->fn, why, cap);
}

static enum test_status run_everywhere(struct test_ctx *ctx, const char *proof, ir_proof_fn fn,
				       const char *done)
{
	const struct ir_proof p = { fn };

	return tests_proof_everywhere(ctx, proof, ir_on, &p, done);
}

/* ---------------------------------------------------------------- remapped */

static enum test_status proof_remapped(struct ir_ctrl *r, char *why, size_t cap)
{
	struct ir_try t;

	read_through(r, IR_GOOD, "iommu-ir-remapped", &t);
	report_try(r, "ir remapped", NULL, &t, NULL, false, NULL);
	if (!t.read_ok)
		return test_outcome(TEST_FAIL, why, cap, "read failed: %s", r->ctrl->failure);
	if (t.irte_hits == 0)
		return test_outcome(TEST_FAIL, why, cap, "no interrupt arrived with vector 0x%02x",
				    ir_vector);
	if (t.queue_hits != 0 || (t.msi_data & VTD_FEDATA_VECTOR(~0u)) == ir_vector)
		return test_outcome(TEST_FAIL, why, cap,
				    "the interrupt is not proven remapped (queue vector hits %llu)",
				    (unsigned long long)t.queue_hits);
	return test_outcome(TEST_PASS, why, cap, "%llu interrupt(s) on the entry's vector 0x%02x",
			    (unsigned long long)t.irte_hits, ir_vector);
}

enum test_status test_ir_remapped(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.ir.remapped", proof_remapped,
			      "completion interrupts arrived with the remapping entry's vector");
}

/* ---------------------------------------------------------------- blocked */

static enum test_status blocked_case(struct ir_ctrl *r, uint32_t index, const char *kase,
				     uint8_t want_reason, char *why, size_t cap)
{
	struct ir_try t, restored;
	struct iommu_fault f;
	char ignored[DMA_REASON_MAX];

	/* A unit that records interrupt-remapping faults puts the index where the page goes. */
	dma_remap_expect_fault(&r->ctrl->dma, (uint64_t)index << IR_FAULT_INDEX_SHIFT);
	r->ctrl->io.spin_wait = true;
	read_through(r, index, kase[0] == 'n' ? "iommu-ir-not-present" : "iommu-ir-sid-mismatch",
		     &t);
	r->ctrl->io.spin_wait = false;
	dma_remap_collect_faults(&r->ctrl->dma, ignored, sizeof(ignored));
	bool fault_seen = dma_remap_take_expected_fault(&r->ctrl->dma, &f);

	read_through(r, IR_GOOD, "iommu-ir-restored", &restored);
	report_try(r, "ir blocked", kase, &t, &restored, fault_seen, &f);
	if (!t.read_ok || !restored.read_ok)
		return test_outcome(TEST_FAIL, why, cap, "%s: read failed: %s", kase, r->ctrl->failure);
	if (t.irte_hits || t.queue_hits)
		return test_outcome(TEST_FAIL, why, cap, "%s: an interrupt was delivered", kase);
	if (fault_seen && (f.reason != want_reason || !dma_remap_owns_sid(&r->ctrl->dma, f.sid)))
		return test_outcome(TEST_FAIL, why, cap, "%s: fault reason 0x%02x sid 0x%04x", kase,
				    f.reason, f.sid);
	if (restored.irte_hits == 0)
		return test_outcome(TEST_FAIL, why, cap, "%s: no interrupt after restoring", kase);
	return TEST_PASS;
}

static enum test_status proof_blocked(struct ir_ctrl *r, char *why, size_t cap)
{
	enum test_status s = blocked_case(r, IR_NOT_PRESENT, "not-present",
					  VTD_FR_IR_ENTRY_NOT_PRESENT, why, cap);

	if (s == TEST_PASS)
		s = blocked_case(r, IR_WRONG_SID, "sid-mismatch", VTD_FR_IR_SID_MISMATCH, why, cap);
	if (s == TEST_PASS)
		return test_outcome(TEST_PASS, why, cap,
				    "not-present and sid-mismatch entries delivered nothing");
	return s;
}

enum test_status test_ir_blocked(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.ir.blocked", proof_blocked,
			      "blocked interrupts were not delivered, restored ones were");
}
