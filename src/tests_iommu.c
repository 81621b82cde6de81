/* Remapping tests and the remapping verifier; see tests_iommu.h. */
#include "tests_iommu.h"

#include "dma_remap.h"
#include "nvme.h"
#include "nvme_read.h"
#include "pmem.h"
#include "proof.h"
#include "runner.h"
#include "tests_common.h"

#include <stdio.h>
#include <string.h>

/* Fill for buffers the device must not write: a blocked write must leave it. */
#define IOMMU_TEST_POISON 0x5a
#define IOMMU_TEST_LBA 0
#define HEX64 16

/* One page-aligned scratch page pair, allocated once (pmem never frees). */
static uint8_t *scratch_a, *scratch_b;

struct remapped {
	struct nvme_ctrl *ctrl;
	const struct nvme_namespace *ns;
	struct dma_remap_info info;
};

/* SKIP or FAIL for "remapping is not available here", depending on dma=. */
static enum test_status unavailable(struct test_ctx *ctx, const char *why)
{
	enum dma_mode mode = runner_options()->dma;

	if (mode == DMA_IOMMU)
		return test_fail(ctx, "dma=iommu but remapping is unavailable: %s", why);
	return test_skip(ctx, "remapping unavailable: %s", why);
}

/* The first controller at io-ready on the remapping backend, or a non-PASS status. */
static enum test_status get_remapped(struct test_ctx *ctx, struct remapped *r)
{
	const char *why;

	memset(r, 0, sizeof(*r));
	if (runner_options()->dma == DMA_BOUNCE)
		return test_skip(ctx, "dma=bounce: remapping not in use");
	const struct dma_backend_ops *remapping = dma_remapping_backend(&why);

	if (!remapping)
		return unavailable(ctx, why);
	r->ctrl = nvme_controller(0);
	if (!nvme_bring_up(r->ctrl, remapping, NVME_STAGE_IO_READY))
		return test_fail(ctx, "%s: bring-up through remapping failed: %s", r->ctrl->bdf,
				 r->ctrl->failure);
	r->ns = test_first_plain_namespace(r->ctrl, PAGE_SIZE); /* raw commands: PRPs only */
	if (!r->ns)
		return test_skip(ctx, "%s: no namespace with blocks of at most one page", r->ctrl->bdf);
	if (!scratch_a)
		scratch_a = pmem_alloc(PAGE_SIZE, PAGE_SIZE, UINT64_MAX);
	if (!scratch_b)
		scratch_b = pmem_alloc(PAGE_SIZE, PAGE_SIZE, UINT64_MAX);
	if (!scratch_a || !scratch_b)
		return test_fail(ctx, "no memory for scratch pages");
	dma_remap_info(&r->ctrl->dma, &r->info);
	return TEST_PASS;
}

static bool page_is_poison(const uint8_t *p)
{
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i] != IOMMU_TEST_POISON)
			return false;
	return true;
}

static bool read_block(struct remapped *r, void *buf, const char *purpose, uint16_t *status)
{
	struct nvme_read_stats st;
	bool ok = nvme_read(r->ctrl, r->ns, IOMMU_TEST_LBA, 1, buf, purpose, &st);

	*status = st.status;
	return ok;
}

/* ---------------------------------------------------------------- verifier */

/* Every NVMe controller must be behind a unit: the policy is one choice for all. */
static bool controllers_covered(char *why, size_t cap)
{
	size_t count = nvme_probe();
	const struct remap_unit_ops *driver = dma_remap_driver();

	if (count == 0) {
		snprintf(why, cap, "no-nvme-controller-for-the-remapping-self-test");
		return false;
	}
	for (size_t i = 0; i < count; i++)
		if (!driver->unit_for_device(nvme_controller(i)->pci->bdf, why, cap))
			return false;
	return true;
}

/*
 * The self-test DMA: bring the first controller up through remapped IOVAs
 * (queues and the Identify buffer all in the window) and check the data
 * came through: Identify's vendor ids must equal the PCI config space's.
 */
static bool self_test_dma(const struct dma_backend_ops *ops, char *why, size_t cap)
{
	struct nvme_ctrl *c = nvme_controller(0);
	struct dma_remap_info info;

	if (!nvme_bring_up(c, ops, NVME_STAGE_IDENTIFIED)) {
		snprintf(why, cap, "self-test-bring-up-failed:%s", c->failure);
		return false;
	}
	if (c->id.vid != c->pci->vendor || c->id.ssvid != c->pci->subsys_vendor) {
		snprintf(why, cap, "self-test-identify-vid-0x%04x-ssvid-0x%04x-not-pci-0x%04x-0x%04x",
			 c->id.vid, c->id.ssvid, c->pci->vendor, c->pci->subsys_vendor);
		return false;
	}
	if (!dma_remap_collect_faults(&c->dma, why, cap))
		return false;
	if (!dma_remap_info(&c->dma, &info) || info.stray_faults) {
		snprintf(why, cap, "self-test-saw-%llu-iommu-faults",
			 (unsigned long long)info.stray_faults);
		return false;
	}
	return true;
}

static void report_self_test(bool ok, const char *reason)
{
	struct proof p;
	struct dma_remap_info info;
	struct nvme_ctrl *c = nvme_probe() ? nvme_controller(0) : NULL;

	proof_begin(&p, "iommu", ok ? "self-test passed" : "self-test failed");
	if (ok && c && dma_remap_info(&c->dma, &info)) {
		proof_str(&p, "sid", c->bdf);
		proof_hex(&p, "vid", c->id.vid, 4);
		proof_hex(&p, "window_base", info.window_base, HEX64);
		proof_u64(&p, "maps", info.maps);
		proof_u64(&p, "faults", info.stray_faults);
	} else {
		proof_str(&p, "reason", reason);
	}
	proof_emit(&p);
}

bool tests_iommu_verify(const struct dma_backend_ops *ops, char *why, size_t cap)
{
	bool ok = dma_remap_driver()->discover(why, cap) && controllers_covered(why, cap) &&
		  self_test_dma(ops, why, cap);

	report_self_test(ok, why);
	/*
	 * The controller is shut down so its next bring-up starts from a reset
	 * on whichever backend that test wants (binding it to another backend
	 * detaches it from remapping, see dma_remap.h).
	 */
	if (nvme_probe() && nvme_controller(0)->stage != NVME_STAGE_NONE)
		nvme_shutdown(nvme_controller(0));
	return ok;
}

/* ------------------------------------------------------------------ units */

enum test_status test_iommu_units(struct test_ctx *ctx)
{
	char why[REMAP_REASON_MAX];
	bool table_present;
	const struct remap_unit_ops *driver = dma_remap_discover(why, sizeof(why), &table_present);

	if (!driver) {
		/* A table that is there but unusable is a finding; no table is a platform fact. */
		if (table_present)
			return test_fail(ctx, "remapping table present but unusable: %s", why);
		return unavailable(ctx, why);
	}
	return test_pass(ctx, "%u remapping unit(s) through the %s driver", driver->unit_count(),
			 driver->name);
}

/* --------------------------------------------------------------- self-test */

enum test_status test_iommu_selftest(struct test_ctx *ctx)
{
	const char *why;

	if (runner_options()->dma == DMA_BOUNCE)
		return test_skip(ctx, "dma=bounce: remapping not in use");
	if (!dma_remapping_backend(&why))
		return unavailable(ctx, why);
	return test_pass(ctx, "remapped bring-up and Identify through IOVAs, no fault");
}

/* --------------------------------------------------------------- translate */

static void report_translation(const struct remapped *r, uint64_t iova, uint64_t phys,
			       bool phys_is_iova)
{
	struct proof p;

	proof_begin(&p, "iommu", "translation");
	proof_str(&p, "sid", r->ctrl->bdf);
	proof_u64(&p, "domain", r->info.domain->id);
	proof_u64(&p, "levels", r->info.domain->levels);
	proof_hex(&p, "iova", iova, HEX64);
	proof_hex(&p, "phys", phys, HEX64);
	proof_bool(&p, "identity", iova == phys);
	proof_bool(&p, "phys_mapped_as_iova", phys_is_iova);
	proof_emit(&p);
}

enum test_status test_iommu_translate(struct test_ctx *ctx)
{
	struct remapped r;
	enum test_status s = get_remapped(ctx, &r);
	uint16_t status;
	uint64_t phys_of_phys;
	unsigned perms;

	if (s != TEST_PASS)
		return s;
	memset(scratch_a, IOMMU_TEST_POISON, PAGE_SIZE);
	if (!read_block(&r, scratch_a, "iommu-translate", &status))
		return test_fail(ctx, "read through remapping failed (status 0x%03x): %s",
				 nvme_status_code(status), r.ctrl->failure);
	dma_remap_info(&r.ctrl->dma, &r.info);
	uint64_t iova = r.info.last_map_iova, phys = r.info.last_map_phys;
	/* After the read the mapping is gone: look the physical address up as an IOVA instead. */
	bool phys_is_iova = dma_remap_lookup(&r.ctrl->dma, phys, &phys_of_phys, &perms);

	report_translation(&r, iova, phys, phys_is_iova);
	if (phys != virt_to_phys(scratch_a))
		return test_fail(ctx, "last mapping 0x%llx is not the read buffer 0x%llx",
				 (unsigned long long)phys,
				 (unsigned long long)virt_to_phys(scratch_a));
	if (iova == phys || iova < r.info.window_base ||
	    iova >= r.info.window_base + r.info.window_size)
		return test_fail(ctx, "IOVA 0x%llx is not in the window at 0x%llx",
				 (unsigned long long)iova, (unsigned long long)r.info.window_base);
	if (phys_is_iova)
		return test_fail(ctx, "physical address 0x%llx is mapped as an IOVA",
				 (unsigned long long)phys);
	if (page_is_poison(scratch_a))
		return test_fail(ctx, "read reported success but the buffer was not written");
	return test_pass(ctx, "iova 0x%llx -> phys 0x%llx, %u-level, not identity",
			 (unsigned long long)iova, (unsigned long long)phys, r.info.domain->levels);
}

/* ---------------------------------------------------------- blocked / revoke */

struct blocked_result {
	bool fault_seen;
	struct iommu_fault fault;
	bool fault_cleared;
	bool target_untouched;   /* the memory the blocked IOVA names (or named) */
	bool buffer_untouched;   /* the caller's buffer the data would have gone to */
	uint16_t nvme_status;
	bool read_ok;
};

/*
 * Reads one block with the data IOVA redirected to `iova` (not mapped) and
 * collects what happened.  target_page is checked afterwards by the caller.
 */
static void blocked_read(struct remapped *r, uint64_t iova, const char *purpose,
			 struct blocked_result *out)
{
	memset(out, 0, sizeof(*out));
	memset(scratch_b, IOMMU_TEST_POISON, PAGE_SIZE);
	dma_remap_expect_fault(&r->ctrl->dma, iova);
	dma_remap_redirect_next_map(&r->ctrl->dma, iova);
	out->read_ok = read_block(r, scratch_b, purpose, &out->nvme_status);
	/* The driver's per-command check collected the fault; make sure nothing is left. */
	char why[DMA_REASON_MAX];

	dma_remap_collect_faults(&r->ctrl->dma, why, sizeof(why));
	out->fault_seen = dma_remap_take_expected_fault(&r->ctrl->dma, &out->fault);
	out->fault_cleared = !r->info.driver->fault_pending(r->info.unit);
	out->buffer_untouched = page_is_poison(scratch_b);
}

static void report_blocked(const char *event, const struct remapped *r, uint64_t iova,
			   uint64_t target, const struct blocked_result *b)
{
	struct proof p;
	char sid[PCI_BDF_STR_LEN];
	struct pci_bdf fault_bdf = { r->ctrl->pci->bdf.segment, (uint8_t)(b->fault.sid >> 8),
				     (uint8_t)((b->fault.sid >> 3) & 0x1f),
				     (uint8_t)(b->fault.sid & 0x7) };

	pci_bdf_format(fault_bdf, sid);
	proof_begin(&p, "iommu", event);
	proof_str(&p, "sid", r->ctrl->bdf);
	proof_hex(&p, "iova", iova, HEX64);
	proof_hex(&p, "target", target, HEX64);
	proof_bool(&p, "fault", b->fault_seen);
	if (b->fault_seen) {
		proof_hex(&p, "fault_reason", b->fault.reason, 2);
		proof_str(&p, "fault_type", b->fault.access == REMAP_ACCESS_READ ? "read" : "write");
		proof_str(&p, "fault_sid", sid);
		proof_hex(&p, "fault_addr", b->fault.addr, HEX64);
	}
	proof_bool(&p, "fault_cleared", b->fault_cleared);
	proof_bool(&p, "target_untouched", b->target_untouched);
	proof_bool(&p, "buffer_untouched", b->buffer_untouched);
	proof_hex(&p, "nvme_status", nvme_status_code(b->nvme_status), 3);
	proof_emit(&p);
}

/* The checks shared by both isolation proofs. */
static enum test_status judge_blocked(struct test_ctx *ctx, const struct remapped *r,
				      uint64_t iova, const struct blocked_result *b)
{
	/* A read command makes the device write memory: a page-table denial of a write. */
	if (!b->fault_seen)
		return test_fail(ctx, "no fault recorded for the DMA to unmapped IOVA 0x%llx",
				 (unsigned long long)iova);
	if (!b->fault.page_denied || b->fault.access != REMAP_ACCESS_WRITE)
		return test_fail(ctx, "fault reason 0x%02x (%s) type %s, expected a denied write",
				 b->fault.reason, b->fault.reason_name,
				 b->fault.access == REMAP_ACCESS_READ ? "read" : "write");
	if (!dma_remap_owns_sid(&r->ctrl->dma, b->fault.sid))
		return test_fail(ctx, "fault sid 0x%04x is none of the controller's requester ids (own 0x%04x)",
				 b->fault.sid, r->info.sid);
	if (!b->target_untouched)
		return test_fail(ctx, "memory at 0x%llx changed although the DMA was blocked",
				 (unsigned long long)iova);
	if (!b->buffer_untouched)
		return test_fail(ctx, "the read buffer changed although its IOVA was not mapped");
	if (!b->fault_cleared)
		return test_fail(ctx, "fault status still pending after clearing the record");
	return TEST_PASS;
}

enum test_status test_iommu_blocked(struct test_ctx *ctx)
{
	struct remapped r;
	struct blocked_result b;
	enum test_status s = get_remapped(ctx, &r);

	if (s != TEST_PASS)
		return s;
	/* The canary's physical address, used as an IOVA: without remapping it would land. */
	uint64_t iova = r.info.canary_phys;

	blocked_read(&r, iova, "iommu-blocked", &b);
	b.target_untouched = dma_remap_canary_intact(&r.ctrl->dma);
	report_blocked("blocked dma", &r, iova, r.info.canary_phys, &b);
	s = judge_blocked(ctx, &r, iova, &b);
	if (s != TEST_PASS)
		return s;
	return test_pass(ctx, "DMA to 0x%llx blocked: fault 0x%02x write recorded and cleared, canary intact (NVMe status 0x%03x)",
			 (unsigned long long)iova, b.fault.reason, nvme_status_code(b.nvme_status));
}

enum test_status test_iommu_revoke(struct test_ctx *ctx)
{
	struct remapped r;
	struct blocked_result b;
	enum test_status s = get_remapped(ctx, &r);
	uint16_t status;

	if (s != TEST_PASS)
		return s;
	/* 1: a normal read maps scratch_a at some IOVA and unmaps it at the end. */
	memset(scratch_a, IOMMU_TEST_POISON, PAGE_SIZE);
	if (!read_block(&r, scratch_a, "iommu-revoke-mapped", &status))
		return test_fail(ctx, "read through remapping failed (status 0x%03x): %s",
				 nvme_status_code(status), r.ctrl->failure);
	dma_remap_info(&r.ctrl->dma, &r.info);
	uint64_t old_iova = r.info.last_map_iova;

	if (r.info.last_map_phys != virt_to_phys(scratch_a))
		return test_fail(ctx, "last mapping was not the read buffer");
	/* 2: the device is sent to the revoked IOVA; a stale IOTLB entry would hit scratch_a. */
	memset(scratch_a, IOMMU_TEST_POISON, PAGE_SIZE);
	blocked_read(&r, old_iova, "iommu-revoke-unmapped", &b);
	b.target_untouched = page_is_poison(scratch_a);
	report_blocked("revoked dma", &r, old_iova, virt_to_phys(scratch_a), &b);
	s = judge_blocked(ctx, &r, old_iova, &b);
	if (s != TEST_PASS)
		return s;
	return test_pass(ctx, "IOVA 0x%llx faulted after unmap; its old page 0x%llx untouched",
			 (unsigned long long)old_iova,
			 (unsigned long long)virt_to_phys(scratch_a));
}

/* ------------------------------------------------------------- stray faults */

static void report_summary(const struct nvme_ctrl *c, const struct dma_remap_info *info)
{
	struct proof p;

	proof_begin(&p, "iommu", "summary");
	proof_str(&p, "sid", c->bdf);
	proof_u64(&p, "domain", info->domain->id);
	proof_u64(&p, "maps", info->maps);
	proof_u64(&p, "unmaps", info->unmaps);
	proof_u64(&p, "stray_faults", info->stray_faults);
	proof_emit(&p);
}

enum test_status test_iommu_no_stray_faults(struct test_ctx *ctx)
{
	const char *why;
	char reason[DMA_REASON_MAX];
	uint64_t stray = 0;
	size_t checked = 0;

	if (runner_options()->dma == DMA_BOUNCE)
		return test_skip(ctx, "dma=bounce: remapping not in use");
	if (!dma_remapping_backend(&why))
		return unavailable(ctx, why);
	for (size_t i = 0; i < nvme_probe(); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		struct dma_remap_info info;

		if (!dma_remap_info(&c->dma, &info))
			continue;
		if (!dma_remap_collect_faults(&c->dma, reason, sizeof(reason)))
			return test_fail(ctx, "%s: %s", c->bdf, reason);
		dma_remap_info(&c->dma, &info);
		report_summary(c, &info);
		stray += info.stray_faults;
		checked++;
	}
	unsigned unit;

	if (dma_remap_fault_pending(&unit))
		return test_fail(ctx, "unit %u still reports a pending fault", unit);
	if (stray)
		return test_fail(ctx, "%llu fault(s) no test caused", (unsigned long long)stray);
	return test_pass(ctx, "%lu device(s) on remapping, no unexpected fault",
			 (unsigned long)checked);
}
