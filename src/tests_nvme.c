/*
 * PCI, NVMe and bounce-DMA tests.  Each NVMe test brings every controller
 * to the stage it needs (nvme_bring_up does only the missing steps, so in
 * table order each step's proof lines appear under the test that needs it)
 * and keeps going after a controller fails, so one bad controller does not
 * hide the others.
 */
#include "tests_nvme.h"

#include "dma.h"
#include "nvme_classify.h"
#include "nvme_read.h"
#include "pci.h"
#include "pmem.h"
#include "proof.h"
#include "runner.h"
#include "tests_common.h"

#include <inttypes.h>
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

/* ================================================================ lifecycle rows */

/* What a lifecycle row hands each controller: the backend it runs on. */
struct lifecycle_job {
	const struct dma_backend_ops *ops;
};

/* Runs `fn` on every controller with the row's backend (ctx->arg), after the common checks. */
static enum test_status lifecycle_row(struct test_ctx *ctx, const struct test_backend *backend,
				      test_controller_fn fn, const char *done)
{
	struct lifecycle_job job;
	enum test_status status;

	if (!test_nvme_prologue(ctx, backend, &job.ops, &status))
		return status;
	return test_each_controller(ctx, fn, &job, done);
}

static enum test_status bring_up(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
				 enum nvme_stage stage, char *why, size_t cap)
{
	if (!nvme_bring_up(c, ops, stage))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	return TEST_PASS;
}

/* ================================================================ bring-up tests */

static enum test_status bind_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;

	return bring_up(c, j->ops, NVME_STAGE_BOUND, why, cap);
}

enum test_status test_nvme_bind(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, ctx->arg, bind_one, "reset, enabled and ready");
}

static enum test_status identify_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;

	if (bring_up(c, j->ops, NVME_STAGE_IDENTIFIED, why, cap) != TEST_PASS)
		return TEST_FAIL;
	if (c->ns_unusable)
		return test_outcome(TEST_FAIL, why, cap, "%" PRIu32 " namespaces with malformed identify data",
				    c->ns_unusable);
	return TEST_PASS;
}

enum test_status test_nvme_identify(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, ctx->arg, identify_one,
			     "identified (controller, active namespaces, each namespace)");
}

/* Without any usable backend the ids alone are classified (no model number). */
static enum test_status classify_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;
	const struct dma_backend_ops *ops = c->dma.ops ? c->dma.ops : j->ops;
	enum test_status status = ops ? bring_up(c, ops, NVME_STAGE_IDENTIFIED, why, cap) : TEST_PASS;

	nvme_report_classification(c);
	return status;
}

/* Classification is backend-neutral: it uses whatever the dma= policy selects. */
enum test_status test_nvme_classify(struct test_ctx *ctx)
{
	enum test_status status;
	struct dma_selection sel;
	struct lifecycle_job job;

	if (!test_controllers_present(ctx, &status))
		return status;
	dma_select_backend(runner_options()->dma, &sel);
	job.ops = sel.ops;
	return test_each_controller(ctx, classify_one, &job,
				    "classified by PCI class, described by ids and model");
}

/* ================================================================ reads */

static bool read_range(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
		       uint64_t blocks, size_t offset, uint32_t chunk, const char *purpose,
		       struct nvme_read_stats *st)
{
	void *to_free;
	/* Real bytes per block: extended LBAs carry their metadata in the data buffer. */
	uint8_t *buf = test_alloc_buffer((size_t)(blocks * nvme_io_block_bytes(ns)), offset, &to_free);
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

/* Start and last LBA: the first blocks, and the very last block (64-bit LBAs). */
static enum test_status read_edges(struct nvme_ctrl *c, const struct nvme_namespace *ns, char *why,
				   size_t cap)
{
	struct nvme_read_stats st;
	uint64_t last;

	if (!read_range(c, ns, 0, clamp_blocks(ns, 0, READ_FIRST_BLOCKS), 0, 0, "first-blocks", &st))
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " first blocks: %s", ns->nsid,
				    c->failure);
	nvme_last_lba(ns->id.nsze, &last);
	if (!read_range(c, ns, last, 1, 0, 0, "last-lba", &st))
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " last LBA: %s", ns->nsid,
				    c->failure);
	return TEST_PASS;
}

/* Several pages at a non-zero LBA from a buffer with a PRP1 offset: PRP2 points to a list. */
static enum test_status read_prp_list(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				      char *why, size_t cap)
{
	uint32_t block = nvme_io_block_bytes(ns);
	uint64_t want = (READ_LIST_DATA_PAGES * PAGE_SIZE + block - 1) / block + 1;
	uint64_t blocks = clamp_blocks(ns, READ_LIST_SLBA, want);
	struct nvme_read_stats st;

	if (blocks < want) {
		read_skipped(c, ns, "prp-list", "namespace-too-small", READ_LIST_SLBA + want);
		return TEST_SKIP;
	}
	if (!read_range(c, ns, READ_LIST_SLBA, blocks, READ_LIST_OFFSET, 0, "prp-list", &st))
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " PRP-list read: %s", ns->nsid,
				    c->failure);
	return TEST_PASS;
}

/*
 * A read larger than MDTS, split into full commands plus a short one, then
 * the same range again in page-sized commands (many in flight): both must
 * give the same CRC.
 */
static enum test_status read_split(struct nvme_ctrl *c, const struct nvme_namespace *ns, char *why,
				   size_t cap)
{
	uint32_t block = nvme_io_block_bytes(ns);
	uint32_t max = nvme_read_max_blocks(c, ns, 0);
	uint64_t want = (uint64_t)READ_MDTS_MULTIPLE * max + READ_MDTS_EXTRA;
	uint64_t blocks = clamp_blocks(ns, READ_MDTS_SLBA, want);
	uint32_t page_blocks = block >= PAGE_SIZE ? 1 : PAGE_SIZE / block;
	struct nvme_read_stats big, small;

	if (blocks < want) {
		read_skipped(c, ns, "mdts-split", "namespace-too-small", READ_MDTS_SLBA + want);
		return TEST_SKIP;
	}
	if (!read_range(c, ns, READ_MDTS_SLBA, blocks, 0, 0, "mdts-split", &big))
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " MDTS split read: %s", ns->nsid,
				    c->failure);
	uint32_t expected = commands_for(ns, READ_MDTS_SLBA, blocks, max);

	if (big.commands != expected)
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " split into %" PRIu32
				    " commands, expected %" PRIu32, ns->nsid, big.commands, expected);
	if (!read_range(c, ns, READ_MDTS_SLBA, blocks, 0, page_blocks, "queue-depth", &small))
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " queue-depth read: %s", ns->nsid,
				    c->failure);
	if (small.crc32 != big.crc32 || small.md_crc32 != big.md_crc32)
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " crc32 0x%08" PRIx32 " vs 0x%08"
				    PRIx32 " for the same range", ns->nsid, big.crc32, small.crc32);
	if (small.max_in_flight < 2)
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 " never had two commands in flight",
				    ns->nsid);
	return TEST_PASS;
}

#define MISSING_MPTR_REASON "metadata-pointer-not-set"

/*
 * Separate metadata needs MPTR: a read of such a namespace handed to the
 * engine without a metadata buffer must be refused unsent (QEMU 7.2 would
 * DMA the metadata to address 0 with PI, or skip it without).  The refusal
 * marks the controller failed, so it is brought up again and must read.
 */
static enum test_status prove_missing_mptr_refused(struct nvme_ctrl *c,
						   const struct nvme_namespace *ns, char *why,
						   size_t cap)
{
	const struct dma_backend_ops *ops = c->dma.ops;
	uint8_t *buf = malloc(nvme_io_block_bytes(ns));
	struct nvme_io_cmd cmd = { .data = buf, .bytes = nvme_io_block_bytes(ns),
				   .dir = DMA_DIR_FROM_DEVICE, .ns = ns };
	uint32_t tail_before = c->io.sq_tail;
	char reason[NVME_FAILURE_MAX];
	struct nvme_read_stats st;
	uint16_t status;
	struct proof p;

	if (!buf || !nvme_cmd_read_format(&cmd.sqe, ns->nsid, 0, 1, &ns->fmt)) {
		free(buf);
		return test_outcome(TEST_FAIL, why, cap, "no buffer for one block");
	}
	bool sent = nvme_raw_command_built(c, NVME_IO_QID, &cmd, &status);
	bool submitted = sent || c->io.sq_tail != tail_before;

	snprintf(reason, sizeof(reason), "%s", sent ? "" : c->failure);
	bool named = strstr(reason, MISSING_MPTR_REASON) != NULL;
	bool usable = nvme_bring_up(c, ops, NVME_STAGE_IO_READY) &&
		      read_range(c, ns, 0, 1, 0, 0, "refusal-check", &st);

	free(buf); /* unmapped by the engine when it refused; completed when (wrongly) sent */
	nvme_line_begin(&p, c, "refusal");
	proof_u64(&p, "nsid", ns->nsid);
	proof_str(&p, "case", "missing-mptr");
	proof_str(&p, "md_layout", nvme_md_layout_name(ns->fmt.layout));
	proof_bool(&p, "submitted", submitted);
	proof_str(&p, "reason", reason);
	proof_bool(&p, "usable_after", usable);
	proof_bool(&p, "ok", !submitted && named && usable);
	proof_emit(&p);
	if (submitted || !named || !usable)
		return test_outcome(TEST_FAIL, why, cap, "nsid %" PRIu32 ": %s", ns->nsid,
				    submitted ? "a read without MPTR was sent" :
				    !named ? "refused without the metadata-pointer reason" :
				    "not usable after the refusal");
	return TEST_PASS;
}

/* Every sub-read that fits (a sub-read the shape does not allow is skipped, printed). */
static enum test_status read_namespace(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				       char *why, size_t cap)
{
	if (nvme_read_max_blocks(c, ns, 0) == 0) {
		/* MDTS (or the firmware's transfer cap) is smaller than one block. */
		read_skipped(c, ns, "all", "one-block-exceeds-max-transfer", 1);
		return test_outcome(TEST_SKIP, why, cap, "nsid %" PRIu32 ": one %" PRIu32 "-byte block "
				    "exceeds the %" PRIu32 "-byte transfer limit", ns->nsid,
				    nvme_io_block_bytes(ns), c->max_transfer_bytes);
	}
	if (ns->fmt.layout == NVME_MD_SEPARATE &&
	    prove_missing_mptr_refused(c, ns, why, cap) == TEST_FAIL)
		return TEST_FAIL;
	if (read_edges(c, ns, why, cap) == TEST_FAIL || read_prp_list(c, ns, why, cap) == TEST_FAIL ||
	    read_split(c, ns, why, cap) == TEST_FAIL)
		return TEST_FAIL;
	return TEST_PASS;
}

static enum test_status read_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;
	unsigned namespaces = 0;
	char first_skip[TEST_REASON_MAX] = "";

	if (bring_up(c, j->ops, NVME_STAGE_IO_READY, why, cap) != TEST_PASS)
		return TEST_FAIL;
	for (size_t n = 0; n < c->ns_count; n++) {
		const struct nvme_namespace *ns = &c->ns[n];
		enum test_status r;

		if (!ns->usable) {
			/* A shape the firmware does not read (format, command set): named, not failed. */
			if (ns->skip_reason && !first_skip[0])
				snprintf(first_skip, sizeof(first_skip), "nsid %" PRIu32 " csi %s: %s",
					 ns->nsid, nvme_csi_name(ns->csi), ns->skip_reason);
			continue;
		}
		r = read_namespace(c, ns, why, cap);
		if (r == TEST_FAIL)
			return TEST_FAIL;
		if (r == TEST_SKIP && !first_skip[0])
			snprintf(first_skip, sizeof(first_skip), "%s", why);
		namespaces += r == TEST_PASS;
	}
	if (namespaces == 0)
		return test_outcome(TEST_SKIP, why, cap, "no readable namespace%s%s",
				    first_skip[0] ? "; first: " : "", first_skip);
	return TEST_PASS;
}

enum test_status test_nvme_read(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, ctx->arg, read_one,
			     "read (first blocks, last LBA, PRP list, MDTS split, queue depth)");
}

/* ================================================================ interrupts */

static enum test_status irq_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;
	const struct nvme_namespace *ns;

	if (bring_up(c, j->ops, NVME_STAGE_IO_READY, why, cap) != TEST_PASS)
		return TEST_FAIL;
	ns = test_first_namespace(c);
	if (!ns)
		return test_outcome(TEST_SKIP, why, cap, "no usable namespace to read from");
	if (nvme_read_max_blocks(c, ns, 0) == 0)
		return test_outcome(TEST_SKIP, why, cap, "nsid %" PRIu32 ": one block exceeds the transfer "
				    "limit, nothing to probe with", ns->nsid);
	if (c->irq_mode != NVME_IRQ_MSIX)
		return test_outcome(TEST_SKIP, why, cap, "%s", c->irq_reason);
	if (!nvme_prove_interrupt(c, ns))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	return TEST_PASS;
}

enum test_status test_nvme_irq(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, ctx->arg, irq_one, "delivered an MSI-X interrupt for a completion");
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
	ns = test_first_namespace(c);
	return !ns || read_range(c, ns, 0, clamp_blocks(ns, 0, READ_FIRST_BLOCKS), 0, 0,
				 "audit-exercise", &st);
}

static enum test_status audit_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	struct dma_audit_report a;

	(void)job;
	if (!exercise_bounce(c))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	dma_audit(&c->dma, &a);
	report_audit(c, &a);
	if (!a.ok)
		return test_outcome(TEST_FAIL, why, cap, "audit: %s", a.reason);
	if (a.checks == 0)
		return test_outcome(TEST_FAIL, why, cap, "audit: no post-command check ever ran");
	return TEST_PASS;
}

enum test_status test_dma_audit_bounce(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, &test_backend_bounce, audit_one,
			     "audited: every address in the pool, none aliased, canaries intact");
}

/* ================================================================ shutdown */

static enum test_status shutdown_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct lifecycle_job *j = job;

	if (bring_up(c, j->ops, NVME_STAGE_IO_READY, why, cap) != TEST_PASS)
		return TEST_FAIL;
	if (!nvme_shutdown(c))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	return TEST_PASS;
}

enum test_status test_nvme_shutdown(struct test_ctx *ctx)
{
	return lifecycle_row(ctx, ctx->arg, shutdown_one, "shut down normally (CC.SHN, SHST complete)");
}
