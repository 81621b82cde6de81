/*
 * Negative NVMe device tests: the error paths proven against the device
 * itself, not a mock.  Each case hands the controller one deliberately
 * wrong request through the driver's raw hooks (nvme_raw_enable,
 * nvme_raw_command), compares the device's answer with what the
 * specification requires, and then proves the controller still works with
 * a one-block read of the last LBA (an `nvme: read` line with
 * purpose=negative-check, whose CRC the host checks).  One `nvme: negative`
 * line per controller and case (docs/proof-lines.md).
 *
 * Everything the device is pointed at is a mapping large enough for what
 * a device that wrongly accepted the request would transfer, so a failed
 * test never lets the device write outside memory handed to it.
 */
#include "tests_negative.h"

#include "dma.h"
#include "nvme_read.h"
#include "pmem.h"
#include "proof.h"
#include "tests_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 128-byte SQEs: a value the field can hold that QEMU (SQES min = max = 6) refuses. */
#define NEGATIVE_WRONG_IOSQES   (NVME_SQE_SIZE_LOG2 + 1u)
/* The misaligned read: two pages of data, PRP2 this far into the second page ... */
#define NEGATIVE_PRP_PAGES      2u
#define NEGATIVE_PRP2_OFFSET    0x200u
/* ... from a mapping one page longer, so even an accepted PRP2 stays inside it. */
#define NEGATIVE_PRP_MAP_PAGES  (NEGATIVE_PRP_PAGES + 1u)
#define NEGATIVE_LIST_PAGES_MAX 4u

typedef enum test_status (*negative_case_fn)(struct nvme_ctrl *c, const struct nvme_namespace *ns,
					     char *why, size_t cap);

/* The controller still works: a one-block read of the namespace's last LBA succeeds. */
static bool still_usable(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	struct nvme_read_stats st;
	uint64_t last;
	uint8_t *buf = malloc(nvme_io_block_bytes(ns));
	bool ok = buf && nvme_last_lba(ns->id.nsze, &last) &&
		  nvme_read(c, ns, last, 1, buf, "negative-check", &st);

	free(buf);
	return ok;
}

/* A negative case: what it does to one controller, and what a PASS says. */
struct nvme_negative_case {
	negative_case_fn fn;
	const char *done;
};

struct negative_job {
	const struct dma_backend_ops *ops;
	const struct nvme_negative_case *nc;
};

/* Brings the controller up on the bounce backend and runs the case on it. */
static enum test_status negative_one(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	const struct negative_job *j = job;
	const struct nvme_namespace *ns;

	if (!nvme_bring_up(c, j->ops, NVME_STAGE_IO_READY))
		return test_outcome(TEST_FAIL, why, cap, "bring-up: %s", c->failure);
	/* The cases build PRPs from page offsets and set no MPTR. */
	if (!(ns = test_first_plain_namespace(c, PAGE_SIZE)))
		return test_outcome(TEST_SKIP, why, cap, "no namespace without metadata and with blocks "
				    "of at most one page (raw commands carry PRPs only)");
	return j->nc->fn(c, ns, why, cap);
}

/* The row's parameter (ctx->arg) is the case. */
enum test_status test_nvme_negative(struct test_ctx *ctx)
{
	struct negative_job job = { .nc = ctx->arg };
	enum test_status status;

	if (!test_nvme_prologue(ctx, &test_backend_bounce, &job.ops, &status))
		return status;
	return test_each_controller(ctx, negative_one, &job, job.nc->done);
}

/* ================================================================ wrong IOSQES */

static const char *enable_observed(const struct nvme_raw_enable *en)
{
	return en->cfs ? "cfs" : en->ready ? "ready" : "timeout";
}

static enum test_status case_iosqes(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				    char *why, size_t cap)
{
	struct nvme_raw_enable en;
	uint32_t csts_after_reset = 0;
	struct proof p;

	(void)ns; /* the namespace table is identified again by the re-bind */
	if (!nvme_raw_enable(c, NVME_CC_IOSQES_MASK, NEGATIVE_WRONG_IOSQES << NVME_CC_IOSQES_SHIFT,
			     &en))
		return test_outcome(TEST_FAIL, why, cap, "raw enable: %s", c->failure);
	/* A refused enable leaves CC.EN=1: clearing it is the reset, then a normal bind. */
	bool reset = nvme_raw_disable(c, &csts_after_reset);
	bool recovered = reset && nvme_bring_up(c, &dma_bounce_ops, NVME_STAGE_IO_READY);
	const struct nvme_namespace *again = recovered ? test_first_plain_namespace(c, PAGE_SIZE) : NULL;
	bool usable = again && still_usable(c, again);
	bool ok = en.cfs && !en.ready && recovered && usable;

	proof_begin(&p, "nvme", "negative");
	proof_str(&p, "bdf", c->bdf);
	proof_str(&p, "case", "iosqes");
	proof_u64(&p, "iosqes", NEGATIVE_WRONG_IOSQES);
	proof_hex(&p, "cc", en.cc, 8);
	proof_str(&p, "expected", "cfs");
	proof_str(&p, "observed", enable_observed(&en));
	proof_hex(&p, "csts", en.csts, 8);
	proof_u64(&p, "waited_us", en.waited_us);
	proof_bool(&p, "reset", reset);
	proof_hex(&p, "csts_after_reset", csts_after_reset, 8);
	proof_bool(&p, "recovered", recovered);
	proof_bool(&p, "usable_after", usable);
	proof_bool(&p, "ok", ok);
	proof_emit(&p);
	if (!en.cfs)
		return test_outcome(TEST_FAIL, why, cap, "CC.EN with IOSQES=%u: expected CSTS.CFS, observed %s "
			       "(csts 0x%08" PRIx32 ")", NEGATIVE_WRONG_IOSQES, enable_observed(&en), en.csts);
	if (!recovered)
		return test_outcome(TEST_FAIL, why, cap, "CFS seen but no recovery: %s", c->failure);
	if (!usable)
		return test_outcome(TEST_FAIL, why, cap, "re-bound but the read after failed: %s", c->failure);
	return TEST_PASS;
}

const struct nvme_negative_case nvme_negative_iosqes = {
	case_iosqes,
	"refused the wrong IOSQES with CSTS.CFS, then reset, re-bound and read"
};

/* ================================================================ refused commands */

/* One deliberately wrong command and what the device must answer. */
struct bad_command {
	const char *name;          /* case= */
	uint16_t qid;
	uint16_t expected;         /* SCT << 8 | SC */
	struct nvme_sqe sqe;
	struct dma_mapping map;    /* what the PRPs point into; the queue unmaps it */
	void *buffer;              /* malloc'd memory behind map */
	void *engine_data;         /* instead of map: the I/O engine maps this and builds the PRPs */
	uint64_t bytes;            /* data length the command asks for */
	const char *limit_key;     /* optional: the limit the command breaks ... */
	uint64_t limit;            /* ... and its value */
	bool completed;            /* a completion came back (the mapping is gone) */
};

static void report_bad_command(const struct nvme_ctrl *c, const struct bad_command *b,
			       const struct nvme_status_info *got, bool usable, bool ok)
{
	struct proof p;

	proof_begin(&p, "nvme", "negative");
	proof_str(&p, "bdf", c->bdf);
	proof_str(&p, "case", b->name);
	proof_u64(&p, "qid", b->qid);
	proof_hex(&p, "opcode", b->sqe.opcode, 2);
	proof_u64(&p, "nsid", b->sqe.nsid);
	proof_u64(&p, "bytes", b->bytes);
	proof_hex(&p, "prp1", b->sqe.prp1, 16);
	proof_hex(&p, "prp2", b->sqe.prp2, 16);
	if (b->limit_key)
		proof_u64(&p, b->limit_key, b->limit);
	proof_hex(&p, "expected_status", b->expected, 3);
	proof_hex(&p, "observed_status", got->code, 3);
	proof_str(&p, "status_name", got->name);
	proof_str(&p, "sct", got->sct_name);
	proof_bool(&p, "dnr", got->dnr);
	proof_bool(&p, "usable_after", usable);
	proof_bool(&p, "ok", ok);
	proof_emit(&p);
}

/* A well-formed command goes out through the engine (it builds the PRPs), a malformed one raw. */
static bool send_bad_command(struct nvme_ctrl *c, struct bad_command *b, uint16_t *status)
{
	if (!b->engine_data)
		return nvme_raw_command(c, b->qid, &b->sqe, &b->map, status);
	struct nvme_io_cmd cmd = { .sqe = b->sqe, .data = b->engine_data, .bytes = (size_t)b->bytes,
				   .dir = DMA_DIR_FROM_DEVICE };
	bool completed = nvme_raw_command_built(c, b->qid, &cmd, status);

	b->sqe = cmd.sqe; /* with the addresses the engine wrote */
	return completed;
}

/*
 * Sends the command, decodes the answer, checks the controller afterwards.
 * PASS when the status is the expected one and the controller still reads.
 */
static enum test_status judge(struct nvme_ctrl *c, const struct nvme_namespace *ns,
			      struct bad_command *b, char *why, size_t cap)
{
	struct nvme_status_info got;
	uint16_t status;

	b->completed = send_bad_command(c, b, &status);
	if (!b->completed)
		return test_outcome(TEST_FAIL, why, cap, "%s: no completion: %s", b->name, c->failure);
	nvme_status_decode(status, &got);
	bool usable = still_usable(c, ns);
	bool ok = got.code == b->expected && usable;

	report_bad_command(c, b, &got, usable, ok);
	if (got.code != b->expected)
		return test_outcome(TEST_FAIL, why, cap, "%s: expected status 0x%03x %s, got 0x%03x %s",
			       b->name, b->expected, nvme_status_name(b->expected), got.code, got.name);
	if (!usable)
		return test_outcome(TEST_FAIL, why, cap, "%s: refused as expected, but the read after failed: %s",
			       b->name, c->failure);
	return TEST_PASS;
}

/* Maps a page-aligned buffer of map_bytes for the device to write into; NULL reason on success. */
static const char *map_target(struct nvme_ctrl *c, size_t map_bytes, struct bad_command *b)
{
	uint8_t *buf = test_alloc_buffer(map_bytes, 0, &b->buffer);

	if (!buf)
		return "no memory for the target buffer";
	if (!dma_map(&c->dma, buf, map_bytes, DMA_DIR_FROM_DEVICE, &b->map))
		return "dma map of the target buffer failed";
	if (b->map.dev & (PAGE_SIZE - 1)) {
		dma_unmap(&c->dma, &b->map);
		return "the target's device address is not page aligned";
	}
	return NULL;
}

/* A device that never completed the command may still write into the buffer: keep it then. */
static void release_target(struct bad_command *b)
{
	if (b->completed)
		free(b->buffer);
}

/* ---------------------------------------------------------------- misaligned PRP2 */

static enum test_status case_prp_misaligned(struct nvme_ctrl *c, const struct nvme_namespace *ns,
					    char *why, size_t cap)
{
	struct bad_command b = { .name = "prp-misaligned", .qid = NVME_IO_QID,
				 .expected = NVME_SC_INVALID_PRP_OFFSET,
				 .bytes = NEGATIVE_PRP_PAGES * PAGE_SIZE };
	uint64_t blocks = b.bytes / nvme_io_block_bytes(ns);
	const char *problem;

	if (blocks == 0 || blocks > ns->id.nsze)
		return test_outcome(TEST_SKIP, why, cap, "nsid %" PRIu32 " smaller than %u pages",
			       ns->nsid, NEGATIVE_PRP_PAGES);
	problem = map_target(c, NEGATIVE_PRP_MAP_PAGES * PAGE_SIZE, &b);
	if (problem) {
		free(b.buffer);
		return test_outcome(TEST_FAIL, why, cap, "%s: %s", b.name, problem);
	}
	/* Two pages: PRP2 is a direct data pointer, which must have offset 0. */
	struct nvme_prp prp = { .prp1 = b.map.dev,
				.prp2 = b.map.dev + PAGE_SIZE + NEGATIVE_PRP2_OFFSET };

	nvme_cmd_read(&b.sqe, ns->nsid, 0, (uint32_t)blocks, &prp);
	enum test_status s = judge(c, ns, &b, why, cap);

	release_target(&b);
	return s;
}

const struct nvme_negative_case nvme_negative_prp_misaligned = {
	case_prp_misaligned,
	"refused a misaligned PRP2 with Invalid PRP Offset"
};

/* ---------------------------------------------------------------- above MDTS */

/* PRP list pages for the oversized read, as the PRP builder wants them. */
static bool alloc_lists(struct nvme_ctrl *c, size_t count, struct dma_buffer *mem,
			struct nvme_prp_list_page *pages)
{
	if (count && !dma_alloc_coherent(&c->dma, count * PAGE_SIZE, mem))
		return false;
	for (size_t i = 0; i < count; i++) {
		pages[i].cpu = (uint64_t *)((uint8_t *)mem->cpu + i * PAGE_SIZE);
		pages[i].dev = mem->dev + i * PAGE_SIZE;
	}
	return true;
}

static enum test_status case_mdts(struct nvme_ctrl *c, const struct nvme_namespace *ns, char *why,
				  size_t cap)
{
	struct bad_command b = { .name = "mdts", .qid = NVME_IO_QID,
				 .expected = NVME_SC_INVALID_FIELD, .limit_key = "mdts_bytes" };
	struct nvme_prp_list_page pages[NEGATIVE_LIST_PAGES_MAX];
	struct dma_buffer lists = { 0 };
	struct nvme_prp prp;

	if (c->id.mdts == 0)
		return test_outcome(TEST_SKIP, why, cap, "MDTS 0: the controller sets no transfer limit");
	b.limit = nvme_mdts_bytes(c->id.mdts, c->mps_min_bytes);
	uint64_t blocks = b.limit / nvme_io_block_bytes(ns) + 1; /* one block too many */
	size_t list_count;

	b.bytes = blocks * nvme_io_block_bytes(ns);
	list_count = (size_t)nvme_prp_list_pages_needed(0, b.bytes, c->page_size);
	if (blocks > NVME_MAX_BLOCKS_PER_RW || blocks > ns->id.nsze ||
	    list_count > NEGATIVE_LIST_PAGES_MAX)
		return test_outcome(TEST_SKIP, why, cap, "%" PRIu64 " blocks (one above MDTS) do not fit "
			       "nsid %" PRIu32 " or one command", blocks, ns->nsid);
	if (!alloc_lists(c, list_count, &lists, pages))
		return test_outcome(TEST_FAIL, why, cap, "mdts: no PRP list pages");
	const char *problem = map_target(c, (size_t)b.bytes, &b);
	/* Valid PRPs for the whole length: only the size is wrong. */
	enum nvme_prp_error e = problem ? NVME_PRP_OK :
		nvme_prp_build(b.map.dev, b.bytes, c->page_size, pages, list_count, &prp, NULL);

	if (problem || e != NVME_PRP_OK) {
		if (!problem)
			dma_unmap(&c->dma, &b.map);
		free(b.buffer);
		dma_free_coherent(&c->dma, &lists);
		return test_outcome(TEST_FAIL, why, cap, "mdts: %s", problem ? problem : nvme_prp_error_name(e));
	}
	nvme_cmd_read(&b.sqe, ns->nsid, 0, (uint32_t)blocks, &prp);
	enum test_status s = judge(c, ns, &b, why, cap);

	release_target(&b);
	if (b.completed) /* otherwise the device may still fetch the list */
		dma_free_coherent(&c->dma, &lists);
	return s;
}

const struct nvme_negative_case nvme_negative_mdts = {
	case_mdts,
	"refused a read one block above MDTS with Invalid Field"
};

/* ---------------------------------------------------------------- invalid NSID */

static enum test_status case_bad_nsid(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				      char *why, size_t cap)
{
	struct bad_command b = { .name = "bad-nsid", .qid = NVME_ADMIN_QID,
				 .expected = NVME_SC_INVALID_NAMESPACE,
				 .bytes = NVME_IDENTIFY_DATA_SIZE, .limit_key = "nn", .limit = c->id.nn };
	/* Valid NSIDs are 1..NN; NN + 1 never is (0 if that would be the broadcast NSID). */
	uint32_t nsid = c->id.nn < NVME_NSID_BROADCAST - 1 ? c->id.nn + 1 : 0;
	struct nvme_prp none = { 0 };

	b.engine_data = test_alloc_buffer(NVME_IDENTIFY_DATA_SIZE, 0, &b.buffer);
	if (!b.engine_data)
		return test_outcome(TEST_FAIL, why, cap, "%s: no memory for the target buffer", b.name);
	nvme_cmd_identify(&b.sqe, NVME_CNS_NAMESPACE, nsid, &none);
	enum test_status s = judge(c, ns, &b, why, cap);

	release_target(&b);
	return s;
}

const struct nvme_negative_case nvme_negative_bad_nsid = {
	case_bad_nsid,
	"refused Identify Namespace for NSID NN+1 with Invalid Namespace or Format"
};
