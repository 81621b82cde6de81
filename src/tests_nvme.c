/*
 * PCI, NVMe and bounce-DMA tests.  Each NVMe test brings every controller
 * to the stage it needs (nvme_bring_up does only the missing steps, so in
 * table order each step's proof lines appear under the test that needs it)
 * and keeps going after a controller fails, so one bad controller does not
 * hide the others.
 */
#include "tests_nvme.h"

#include "dma.h"
#include "dma_iommu.h"
#include "nvme_classify.h"
#include "nvme_read.h"
#include "pci.h"
#include "pmem.h"
#include "proof.h"
#include "runner.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_FIRST_BLOCKS     8u
#define READ_LIST_DATA_PAGES  4u   /* pages beyond PRP1's, so PRP2 must point to a list */
#define READ_LIST_OFFSET      512u /* PRP1 offset of the PRP-list read's buffer */
#define READ_LIST_SLBA        1u   /* a non-zero starting LBA */
#define READ_MDTS_MULTIPLE    2u   /* the MDTS read spans this many full commands ... */
#define READ_MDTS_EXTRA       3u   /* ... plus a few blocks, so the last one is short */
#define READ_MDTS_SLBA        2u

struct tally {
	unsigned controllers;
	unsigned failed;
	unsigned skipped;
	char first_failure[TEST_REASON_MAX];
};

static void tally_fail(struct tally *t, const char *bdf, const char *what)
{
	if (t->failed++ == 0)
		snprintf(t->first_failure, sizeof(t->first_failure), "%s %s", bdf, what);
}

static enum test_status tally_result(struct test_ctx *ctx, const struct tally *t, const char *done)
{
	if (t->failed)
		return test_fail(ctx, "%u of %u controllers failed; first: %s", t->failed,
				 t->controllers, t->first_failure);
	if (t->skipped == t->controllers)
		return test_skip(ctx, "%s", t->first_failure[0] ? t->first_failure : "nothing to test");
	return test_pass(ctx, "%u controllers %s", t->controllers - t->skipped, done);
}

static bool controllers_present(struct test_ctx *ctx, enum test_status *status)
{
	if (nvme_probe() > 0)
		return true;
	*status = test_skip(ctx, "no NVMe controller (PCI class 01/08/02) found");
	return false;
}

/*
 * Whether the lifecycle runs on `backend` under the dma= option; *ops gets
 * the backend.  Bounce runs unless dma=iommu; remapping runs unless
 * dma=bounce, and only once verified (dma=iommu makes "unavailable" a FAIL).
 */
static bool backend_usable(struct test_ctx *ctx, enum nvme_test_backend backend,
			   const struct dma_backend_ops **ops, enum test_status *status)
{
	struct dma_selection sel;
	enum dma_mode mode = runner_options()->dma;
	const char *why;

	dma_select_backend(mode, &sel);
	if (backend == NVME_TEST_BOUNCE) {
		*ops = &dma_bounce_ops;
		if (mode != DMA_IOMMU)
			return true;
		*status = test_skip(ctx, "dma=iommu selects the remapping backend only");
		return false;
	}
	*ops = &dma_iommu_ops;
	if (mode == DMA_BOUNCE) {
		*status = test_skip(ctx, "dma=bounce forces the bounce-buffer backend");
		return false;
	}
	if (dma_iommu_verified(&why))
		return true;
	*status = mode == DMA_IOMMU ? test_fail(ctx, "dma=iommu but remapping is unavailable: %s", why)
				    : test_skip(ctx, "remapping unavailable: %s", why);
	return false;
}

/* Common prologue of the lifecycle tests; false with *status set when the test cannot run. */
static bool lifecycle_prologue(struct test_ctx *ctx, enum nvme_test_backend backend,
			       const struct dma_backend_ops **ops, enum test_status *status)
{
	return controllers_present(ctx, status) && backend_usable(ctx, backend, ops, status);
}

bool nvme_test_prologue(struct test_ctx *ctx, enum nvme_test_backend backend,
			const struct dma_backend_ops **ops, enum test_status *status)
{
	return lifecycle_prologue(ctx, backend, ops, status);
}

static const struct nvme_namespace *first_usable(const struct nvme_ctrl *c)
{
	for (size_t i = 0; i < c->ns_count; i++)
		if (c->ns[i].usable)
			return &c->ns[i];
	return NULL;
}

/* ================================================================ pci */

enum test_status test_pci_enumerate(struct test_ctx *ctx)
{
	size_t count = pci_enumerate();
	const struct pci_device *devs = pci_devices(&count);
	unsigned bridges = 0, nvme = 0, bad_caps = 0;

	for (size_t i = 0; i < count; i++) {
		bridges += devs[i].header_type == PCI_HEADER_TYPE_BRIDGE;
		nvme += cloud_pci_is_nvme(devs[i].class_code, devs[i].subclass, devs[i].prog_if);
		bad_caps += devs[i].cap_result != PCI_CAPS_OK;
	}
	if (count == 0)
		return test_fail(ctx, "no PCI function answered (access %s)", pci_access_name());
	if (count == PCI_MAX_ENUMERATED)
		return test_fail(ctx, "function table full at %u: some functions not enumerated",
				 PCI_MAX_ENUMERATED);
	return test_pass(ctx, "%lu functions, %u bridges, %u NVMe, %u broken capability lists, via %s",
			 (unsigned long)count, bridges, nvme, bad_caps, pci_access_name());
}

/* ================================================================ bring-up tests */

static enum test_status bring_all_up(struct test_ctx *ctx, const struct dma_backend_ops *ops,
				     enum nvme_stage stage, const char *done)
{
	struct tally t = { 0 };

	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);

		t.controllers++;
		if (!nvme_bring_up(c, ops, stage))
			tally_fail(&t, c->bdf, c->failure);
	}
	return tally_result(ctx, &t, done);
}

enum test_status test_nvme_bind(struct test_ctx *ctx, enum nvme_test_backend backend)
{
	const struct dma_backend_ops *ops;
	enum test_status status;

	if (!lifecycle_prologue(ctx, backend, &ops, &status))
		return status;
	return bring_all_up(ctx, ops, NVME_STAGE_BOUND, "reset, enabled and ready");
}

enum test_status test_nvme_identify(struct test_ctx *ctx, enum nvme_test_backend backend)
{
	const struct dma_backend_ops *ops;
	enum test_status status;
	struct tally t = { 0 };

	if (!lifecycle_prologue(ctx, backend, &ops, &status))
		return status;
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		char why[TEST_REASON_MAX];

		t.controllers++;
		if (!nvme_bring_up(c, ops, NVME_STAGE_IDENTIFIED)) {
			tally_fail(&t, c->bdf, c->failure);
		} else if (c->ns_unusable) {
			snprintf(why, sizeof(why), "%" PRIu32 " namespaces with malformed identify data",
				 c->ns_unusable);
			tally_fail(&t, c->bdf, why);
		}
	}
	return tally_result(ctx, &t, "identified (controller, active namespaces, each namespace)");
}

/* Classification is backend-neutral: it uses whatever the dma= policy selects. */
enum test_status test_nvme_classify(struct test_ctx *ctx)
{
	enum test_status status;
	struct dma_selection sel;
	struct tally t = { 0 };

	if (!controllers_present(ctx, &status))
		return status;
	dma_select_backend(runner_options()->dma, &sel);
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		const struct dma_backend_ops *ops = c->dma.ops ? c->dma.ops : sel.ops;

		t.controllers++;
		/* Without any usable backend the ids alone are classified (no model number). */
		if (ops && !nvme_bring_up(c, ops, NVME_STAGE_IDENTIFIED))
			tally_fail(&t, c->bdf, c->failure);
		nvme_report_classification(c);
	}
	return tally_result(ctx, &t, "classified by PCI class, described by ids and model");
}

/* ================================================================ reads */

/* A buffer of `bytes` whose start sits `offset` bytes into a page. */
static uint8_t *alloc_offset_buffer(size_t bytes, size_t offset, void **to_free)
{
	uint8_t *raw = malloc(bytes + PAGE_SIZE + offset);

	*to_free = raw;
	if (!raw)
		return NULL;
	uintptr_t aligned = ((uintptr_t)raw + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);

	return (uint8_t *)(aligned + offset);
}

static bool read_range(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
		       uint64_t blocks, size_t offset, uint32_t chunk, const char *purpose,
		       struct nvme_read_stats *st)
{
	void *to_free;
	/* Real bytes per block: extended LBAs carry their metadata in the data buffer. */
	uint8_t *buf = alloc_offset_buffer((size_t)(blocks * nvme_io_block_bytes(ns)), offset,
					   &to_free);
	bool ok = buf && nvme_read_chunked(c, ns, slba, blocks, buf, chunk, purpose, st);

	if (!c->in_operation)
		free(to_free); /* otherwise a late completion may still write into it */
	return ok;
}

static uint64_t clamp_blocks(const struct nvme_namespace *ns, uint64_t slba, uint64_t want)
{
	if (slba >= ns->id.nsze)
		return 0;
	return want < ns->id.nsze - slba ? want : ns->id.nsze - slba;
}

enum read_outcome { READ_DONE, READ_SKIPPED, READ_FAILED };

/* Records why a read check failed. */
static enum read_outcome read_failed(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum read_outcome read_failed(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return READ_FAILED;
}

/* A sub-read the namespace's shape does not allow: printed, and the rest goes on. */
static void read_skipped(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
			 const char *purpose, const char *reason, uint64_t need_blocks)
{
	struct proof p;

	nvme_line_begin(&p, c, "read skipped");
	proof_str(&p, "serial", c->id.sn);
	proof_u64(&p, "nsid", ns->nsid);
	proof_str(&p, "purpose", purpose);
	proof_str(&p, "reason", reason);
	proof_u64(&p, "need_blocks", need_blocks);
	proof_u64(&p, "nsze", ns->id.nsze);
	proof_u64(&p, "block_buffer_bytes", nvme_io_block_bytes(ns));
	proof_u64(&p, "max_blocks_per_command", nvme_read_max_blocks(c, ns, 0));
	proof_emit(&p);
}

/* Start and last LBA: the first blocks, and the very last block (64-bit LBAs). */
static enum read_outcome read_edges(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				    char *why, size_t cap)
{
	struct nvme_read_stats st;
	uint64_t last;

	if (!read_range(c, ns, 0, clamp_blocks(ns, 0, READ_FIRST_BLOCKS), 0, 0, "first-blocks", &st))
		return read_failed(why, cap, "nsid %" PRIu32 " first blocks: %s", ns->nsid, c->failure);
	nvme_last_lba(ns->id.nsze, &last);
	if (!read_range(c, ns, last, 1, 0, 0, "last-lba", &st))
		return read_failed(why, cap, "nsid %" PRIu32 " last LBA: %s", ns->nsid, c->failure);
	return READ_DONE;
}

/* Several pages at a non-zero LBA from a buffer with a PRP1 offset: PRP2 points to a list. */
static enum read_outcome read_prp_list(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				       char *why, size_t cap)
{
	uint32_t block = nvme_io_block_bytes(ns);
	uint64_t want = (READ_LIST_DATA_PAGES * PAGE_SIZE + block - 1) / block + 1;
	uint64_t blocks = clamp_blocks(ns, READ_LIST_SLBA, want);
	struct nvme_read_stats st;

	if (blocks < want) {
		read_skipped(c, ns, "prp-list", "namespace-too-small", READ_LIST_SLBA + want);
		return READ_SKIPPED;
	}
	if (!read_range(c, ns, READ_LIST_SLBA, blocks, READ_LIST_OFFSET, 0, "prp-list", &st))
		return read_failed(why, cap, "nsid %" PRIu32 " PRP-list read: %s", ns->nsid, c->failure);
	return READ_DONE;
}

/*
 * Commands a read of [slba, slba + blocks) takes: MDTS chunks, never across
 * a zone boundary, metadata in whole sectors (the driver's rules, nvme_split).
 */
static uint32_t commands_for(const struct nvme_namespace *ns, uint64_t slba, uint64_t blocks,
			     uint32_t max)
{
	struct nvme_split split;
	struct nvme_chunk chunk;
	uint32_t n = 0;

	nvme_split_init(&split, slba, blocks, max);
	if (ns->csi == NVME_CSI_ZONED)
		nvme_split_set_boundary(&split, ns->zns.zone_blocks);
	nvme_split_set_granule(&split, ns->fmt.md_granule);
	while (nvme_split_next(&split, &chunk))
		n++;
	return n;
}

/*
 * A read larger than MDTS, split into full commands plus a short one, then
 * the same range again in page-sized commands (many in flight): both must
 * give the same CRC.
 */
static enum read_outcome read_split(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				    char *why, size_t cap)
{
	uint32_t block = nvme_io_block_bytes(ns);
	uint32_t max = nvme_read_max_blocks(c, ns, 0);
	uint64_t want = (uint64_t)READ_MDTS_MULTIPLE * max + READ_MDTS_EXTRA;
	uint64_t blocks = clamp_blocks(ns, READ_MDTS_SLBA, want);
	uint32_t page_blocks = block >= PAGE_SIZE ? 1 : PAGE_SIZE / block;
	struct nvme_read_stats big, small;

	if (blocks < want) {
		read_skipped(c, ns, "mdts-split", "namespace-too-small", READ_MDTS_SLBA + want);
		return READ_SKIPPED;
	}
	if (!read_range(c, ns, READ_MDTS_SLBA, blocks, 0, 0, "mdts-split", &big))
		return read_failed(why, cap, "nsid %" PRIu32 " MDTS split read: %s", ns->nsid,
				c->failure);
	uint32_t expected = commands_for(ns, READ_MDTS_SLBA, blocks, max);

	if (big.commands != expected)
		return read_failed(why, cap, "nsid %" PRIu32 " split into %" PRIu32 " commands, expected %"
				PRIu32, ns->nsid, big.commands, expected);
	if (!read_range(c, ns, READ_MDTS_SLBA, blocks, 0, page_blocks, "queue-depth", &small))
		return read_failed(why, cap, "nsid %" PRIu32 " queue-depth read: %s", ns->nsid,
				c->failure);
	if (small.crc32 != big.crc32 || small.md_crc32 != big.md_crc32)
		return read_failed(why, cap, "nsid %" PRIu32 " crc32 0x%08" PRIx32 " vs 0x%08" PRIx32
				" for the same range", ns->nsid, big.crc32, small.crc32);
	if (small.max_in_flight < 2)
		return read_failed(why, cap, "nsid %" PRIu32 " never had two commands in flight",
				ns->nsid);
	return READ_DONE;
}

/* Every sub-read that fits; SKIPPED when none could run at all. */
static enum read_outcome read_namespace(struct nvme_ctrl *c, const struct nvme_namespace *ns,
					char *why, size_t cap)
{
	enum read_outcome list, split;

	if (nvme_read_max_blocks(c, ns, 0) == 0) {
		/* MDTS (or the firmware's transfer cap) is smaller than one block. */
		read_skipped(c, ns, "all", "one-block-exceeds-max-transfer", 1);
		snprintf(why, cap, "nsid %" PRIu32 ": one %" PRIu32 "-byte block exceeds the %" PRIu32
			 "-byte transfer limit", ns->nsid, nvme_io_block_bytes(ns), c->max_transfer_bytes);
		return READ_SKIPPED;
	}
	if (read_edges(c, ns, why, cap) == READ_FAILED)
		return READ_FAILED;
	if ((list = read_prp_list(c, ns, why, cap)) == READ_FAILED)
		return READ_FAILED;
	if ((split = read_split(c, ns, why, cap)) == READ_FAILED)
		return READ_FAILED;
	return READ_DONE;
}

/* Why a namespace the controller reported is not read at all (NULL: it is). */
static const char *namespace_not_read(const struct nvme_namespace *ns)
{
	if (ns->skip_reason)
		return ns->skip_reason;
	return ns->usable ? NULL : "malformed-identify-data";
}

enum test_status test_nvme_read(struct test_ctx *ctx, enum nvme_test_backend backend)
{
	const struct dma_backend_ops *ops;
	enum test_status status;
	struct tally t = { 0 };
	unsigned namespaces = 0, skipped = 0;
	char first_skip[TEST_REASON_MAX] = "";

	if (!lifecycle_prologue(ctx, backend, &ops, &status))
		return status;
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		char why[TEST_REASON_MAX] = "";

		t.controllers++;
		if (!nvme_bring_up(c, ops, NVME_STAGE_IO_READY)) {
			tally_fail(&t, c->bdf, c->failure);
			continue;
		}
		for (size_t n = 0; n < c->ns_count; n++) {
			const char *not_read = namespace_not_read(&c->ns[n]);
			enum read_outcome r;

			if (not_read) {
				if (skipped++ == 0)
					snprintf(first_skip, sizeof(first_skip), "%s nsid %" PRIu32 " csi %s: %s",
						 c->bdf, c->ns[n].nsid, nvme_csi_name(c->ns[n].csi), not_read);
				continue;
			}
			r = read_namespace(c, &c->ns[n], why, sizeof(why));
			if (r == READ_FAILED) {
				tally_fail(&t, c->bdf, why);
				break;
			}
			if (r == READ_SKIPPED && skipped++ == 0)
				snprintf(first_skip, sizeof(first_skip), "%s %s", c->bdf, why);
			namespaces += r == READ_DONE;
		}
	}
	if (!t.failed && namespaces == 0)
		return test_skip(ctx, "no namespace readable on %u controllers; first: %s",
				 t.controllers, first_skip[0] ? first_skip : "no usable namespace");
	if (!t.failed && skipped)
		return test_pass(ctx, "%u namespaces read (first blocks, last LBA, and the PRP-list, MDTS "
				 "split and queue-depth reads that fit); %u not read, first: %s",
				 namespaces, skipped, first_skip);
	return tally_result(ctx, &t, "read (first blocks, last LBA, PRP list, MDTS split, queue depth)");
}

/* ================================================================ interrupts */

enum test_status test_nvme_irq(struct test_ctx *ctx, enum nvme_test_backend backend)
{
	const struct dma_backend_ops *ops;
	enum test_status status;
	struct tally t = { 0 };

	if (!lifecycle_prologue(ctx, backend, &ops, &status))
		return status;
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		const struct nvme_namespace *ns;

		t.controllers++;
		if (!nvme_bring_up(c, ops, NVME_STAGE_IO_READY)) {
			tally_fail(&t, c->bdf, c->failure);
			continue;
		}
		ns = first_usable(c);
		if (ns && nvme_read_max_blocks(c, ns, 0) == 0)
			ns = NULL; /* one block exceeds the transfer limit: nothing to probe with */
		if (c->irq_mode != NVME_IRQ_MSIX || !ns) {
			t.skipped++;
			snprintf(t.first_failure, sizeof(t.first_failure), "%s: %s", c->bdf,
				 ns ? c->irq_reason : "no usable namespace to read from");
			continue;
		}
		if (!nvme_prove_interrupt(c, ns))
			tally_fail(&t, c->bdf, c->failure);
	}
	return tally_result(ctx, &t, "delivered an MSI-X interrupt for a completion");
}

/* ================================================================ DMA audit */

static void report_audit(const struct nvme_ctrl *c, const struct dma_audit_report *a)
{
	struct proof p;

	proof_begin(&p, "dma", "audit");
	proof_str(&p, "bdf", c->bdf);
	proof_str(&p, "backend", a->backend);
	proof_u64(&p, "entries", a->ledger.checked);
	proof_u64(&p, "live", a->ledger.live);
	proof_u64(&p, "outside_pool", a->ledger.outside_pool);
	proof_u64(&p, "over_limit", a->ledger.over_limit);
	proof_u64(&p, "aliased", a->ledger.aliased);
	proof_u64(&p, "refused", a->ledger.refused);
	proof_u64(&p, "checks", a->checks);
	proof_u64(&p, "check_failures", a->check_failures);
	proof_bool(&p, "canaries_intact", a->canaries_intact);
	proof_bool(&p, "ok", a->ok);
	proof_str(&p, "reason", a->reason);
	proof_emit(&p);
}

/* A controller that has not moved data through the bounce backend yet reads a little first. */
static bool exercise_bounce(struct nvme_ctrl *c)
{
	const struct nvme_namespace *ns;
	struct nvme_read_stats st;

	if (c->dma.ops == &dma_bounce_ops && c->stage >= NVME_STAGE_IO_READY)
		return true;
	if (!nvme_bring_up(c, &dma_bounce_ops, NVME_STAGE_IO_READY))
		return false;
	ns = first_usable(c);
	return !ns || read_range(c, ns, 0, clamp_blocks(ns, 0, READ_FIRST_BLOCKS), 0, 0,
				 "audit-exercise", &st);
}

enum test_status test_dma_audit_bounce(struct test_ctx *ctx)
{
	enum test_status status;
	struct tally t = { 0 };

	const struct dma_backend_ops *ops;

	if (!lifecycle_prologue(ctx, NVME_TEST_BOUNCE, &ops, &status))
		return status;
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);
		struct dma_audit_report a;
		char why[TEST_REASON_MAX];

		t.controllers++;
		if (!exercise_bounce(c)) {
			tally_fail(&t, c->bdf, c->failure);
			continue;
		}
		dma_audit(&c->dma, &a);
		report_audit(c, &a);
		if (!a.ok) {
			snprintf(why, sizeof(why), "audit: %s", a.reason);
			tally_fail(&t, c->bdf, why);
		} else if (a.checks == 0) {
			tally_fail(&t, c->bdf, "audit: no post-command check ever ran");
		}
	}
	return tally_result(ctx, &t, "audited: every address in the pool, none aliased, canaries intact");
}

/* ================================================================ shutdown */

enum test_status test_nvme_shutdown(struct test_ctx *ctx, enum nvme_test_backend backend)
{
	const struct dma_backend_ops *ops;
	enum test_status status;
	struct tally t = { 0 };

	if (!lifecycle_prologue(ctx, backend, &ops, &status))
		return status;
	for (size_t i = 0; nvme_controller(i); i++) {
		struct nvme_ctrl *c = nvme_controller(i);

		t.controllers++;
		if (!nvme_bring_up(c, ops, NVME_STAGE_IO_READY) || !nvme_shutdown(c))
			tally_fail(&t, c->bdf, c->failure);
	}
	return tally_result(ctx, &t, "shut down normally (CC.SHN, SHST complete)");
}
