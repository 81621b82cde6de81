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

/* One page-aligned scratch page, allocated once (pmem never frees). */
static uint8_t *scratch_a;

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
	if (!scratch_a)
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

/* ------------------------------------------------------------- stray faults */

static void report_summary(const struct nvme_ctrl *c, const struct dma_remap_info *info)
{
	struct proof p;

	proof_begin(&p, "iommu", "summary");
	proof_str(&p, "sid", c->bdf);
	proof_u64(&p, "domain", info->domain->id);
	proof_u64(&p, "maps", info->maps);
	proof_u64(&p, "unmaps", info->unmaps);
	proof_u64(&p, "invalidations", info->invalidations);
	proof_u64(&p, "stray_faults", info->stray_faults);
	proof_emit(&p);
}

/*
 * Every controller that ever had a domain, whether it is still remapped or
 * went back to bounce buffers (this row runs last: TEST_FLAG_RUNS_LAST).
 * Faults still in the unit's records are collected first (through an
 * attached device), then no unit may report one pending.
 */
enum test_status test_iommu_no_stray_faults(struct test_ctx *ctx)
{
	const char *why;
	char reason[DMA_REASON_MAX];
	uint64_t stray = 0;
	size_t covered = 0, count = nvme_probe();

	if (runner_options()->dma == DMA_BOUNCE)
		return test_skip(ctx, "dma=bounce: remapping not in use");
	if (!dma_remapping_backend(&why))
		return unavailable(ctx, why);
	for (size_t i = 0; i < count; i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		struct dma_remap_info info;
		bool attached;

		if (!dma_remap_record(c->pci->bdf, &info, &attached))
			continue;
		if (attached && !dma_remap_collect_faults(&c->dma, reason, sizeof(reason)))
			return test_fail(ctx, "%s: %s", c->bdf, reason);
		dma_remap_record(c->pci->bdf, &info, &attached);
		report_summary(c, &info);
		stray += info.stray_faults;
		covered++;
	}
	unsigned unit;

	if (dma_remap_fault_pending(&unit))
		return test_fail(ctx, "unit %u still reports a pending fault", unit);
	if (stray)
		return test_fail(ctx, "%llu fault(s) no test caused", (unsigned long long)stray);
	return test_pass(ctx, "%lu of %lu controller(s) had a remapping domain, no unexpected fault",
			 (unsigned long)covered, (unsigned long)count);
}
