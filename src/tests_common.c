/* What the device tests share; see tests_common.h. */
#include "tests_common.h"

#include "dma.h"
#include "pmem.h"
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const struct test_backend test_backend_bounce = { TEST_BACKEND_BOUNCE };
const struct test_backend test_backend_remapped = { TEST_BACKEND_REMAPPED };

enum test_status test_outcome(enum test_status status, char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return status;
}

/* ================================================================ backends */

bool test_controllers_present(struct test_ctx *ctx, enum test_status *status)
{
	if (nvme_probe() > 0)
		return true;
	*status = test_skip(ctx, "no NVMe controller (PCI class 01/08/02) found");
	return false;
}

/*
 * Whether a row may run on `backend` under the dma= option.  Bounce runs
 * unless dma=iommu; remapping runs unless dma=bounce, and only once
 * verified (dma=iommu makes "unavailable" a FAIL).
 */
static bool backend_usable(struct test_ctx *ctx, const struct test_backend *backend,
			   const struct dma_backend_ops **ops, enum test_status *status)
{
	struct dma_selection sel;
	enum dma_mode mode = runner_options()->dma;
	const char *why;

	if (backend->kind == TEST_BACKEND_BOUNCE) {
		*ops = &dma_bounce_ops;
		if (mode != DMA_IOMMU)
			return true;
		*status = test_skip(ctx, "dma=iommu selects the remapping backend only");
		return false;
	}
	/*
	 * Only a row that may remap needs the policy's verdict, and with
	 * dma=auto reaching it runs the remapping self-test (a bring-up through
	 * the IOMMU): a bounce row never waits for it.
	 */
	dma_select_backend(mode, &sel);
	if (mode == DMA_BOUNCE) {
		*status = test_skip(ctx, "dma=bounce forces the bounce-buffer backend");
		return false;
	}
	*ops = dma_remapping_backend(&why);
	if (*ops)
		return true;
	*status = mode == DMA_IOMMU ? test_fail(ctx, "dma=iommu but remapping is unavailable: %s", why)
				    : test_skip(ctx, "remapping unavailable: %s", why);
	return false;
}

bool test_nvme_prologue(struct test_ctx *ctx, const struct test_backend *backend,
			const struct dma_backend_ops **ops, enum test_status *status)
{
	return test_controllers_present(ctx, status) && backend_usable(ctx, backend, ops, status);
}

/* ================================================================ per controller */

void test_tally_add(struct test_tally *t, const char *bdf, enum test_status status, const char *why)
{
	t->controllers++;
	if (status == TEST_FAIL && t->failed++ == 0)
		snprintf(t->first_failure, sizeof(t->first_failure), "%s %s", bdf, why);
	if (status == TEST_SKIP && t->skipped++ == 0)
		snprintf(t->first_skip, sizeof(t->first_skip), "%s %s", bdf, why);
}

enum test_status test_tally_result(struct test_ctx *ctx, const struct test_tally *t, const char *done)
{
	if (t->failed)
		return test_fail(ctx, "%u of %u controllers failed; first: %s", t->failed,
				 t->controllers, t->first_failure);
	if (t->skipped == t->controllers)
		return test_skip(ctx, "%s", t->controllers ? t->first_skip : "no controller to test");
	return test_pass(ctx, "%u controllers %s", t->controllers - t->skipped, done);
}

void test_each_controller_tally(test_controller_fn fn, void *job, struct test_tally *t)
{
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		char why[TEST_REASON_MAX] = "";

		test_tally_add(t, c->bdf, fn(c, job, why, sizeof(why)), why);
	}
}

enum test_status test_each_controller(struct test_ctx *ctx, test_controller_fn fn, void *job,
				      const char *done)
{
	struct test_tally t = { 0 };

	test_each_controller_tally(fn, job, &t);
	return test_tally_result(ctx, &t, done);
}

/* ================================================================ namespaces and buffers */

const struct nvme_namespace *test_first_namespace(const struct nvme_ctrl *c)
{
	for (size_t i = 0; i < c->ns_count; i++)
		if (c->ns[i].usable)
			return &c->ns[i];
	return NULL;
}

const struct nvme_namespace *test_first_plain_namespace(const struct nvme_ctrl *c,
							 uint32_t max_block)
{
	for (size_t i = 0; i < c->ns_count; i++) {
		const struct nvme_namespace *ns = &c->ns[i];

		if (ns->usable && ns->fmt.layout == NVME_MD_NONE &&
		    (max_block == 0 || ns->id.lba_size <= max_block))
			return ns;
	}
	return NULL;
}

uint8_t *test_alloc_buffer(size_t bytes, size_t page_offset, void **to_free)
{
	uint8_t *raw = malloc(bytes + PAGE_SIZE + page_offset);

	*to_free = raw;
	if (!raw)
		return NULL;
	uintptr_t aligned = ((uintptr_t)raw + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);

	return (uint8_t *)(aligned + page_offset);
}
