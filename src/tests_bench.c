/*
 * The read benchmark.  For each controller's first usable namespace: one
 * ordinary checked read of the first blocks (its `nvme: read` line carries
 * a CRC the host checks), the boot-to-first-I/O line once per boot, then
 * every grid point (src/lib/bench_grid.h) through nvme_stream_read().
 *
 * Every point stops submitting after bench_bytes= bytes (default 64 MiB)
 * or BENCH_POINT_MAX_US, whichever comes first, and reports what completed.
 * Nothing here asserts a speed: a point fails only when a read fails.
 */
#include "tests_bench.h"

#include "bench_grid.h"
#include "dma.h"
#include "nvme_read.h"
#include "pmem.h"
#include "proof.h"
#include "runner.h"
#include "tests_common.h"
#include "timer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_POINT_MAX_US      UINT64_C(1000000)
/* Buffers for the deepest point of the largest commands (127 x 512 KiB under QEMU). */
#define BENCH_AREA_MAX_BYTES    (64u << 20)
#define BENCH_AREA_MIN_BYTES    (1u << 20)
#define BENCH_MEMORY_LIMIT      (4ull << 30) /* the identity map's end */
#define BENCH_FIRST_READ_BLOCKS 8u

struct bench_area {
	uint8_t *base;
	size_t bytes;
};

/* One area for every point of every row: pmem never frees, so it is taken once. */
static const struct bench_area *bench_area(void)
{
	static struct bench_area area;

	for (size_t size = BENCH_AREA_MAX_BYTES; !area.base && size >= BENCH_AREA_MIN_BYTES; size /= 2) {
		area.base = pmem_alloc(size, PAGE_SIZE, BENCH_MEMORY_LIMIT);
		area.bytes = area.base ? size : 0;
	}
	return area.base ? &area : NULL;
}

/*
 * Printed once, after the first read of the boot completed: from the TSC
 * at the boot loader's hand-off to that completion.  entry_tsc_us is how
 * long the TSC had counted before the hand-off (firmware and boot loader
 * time, when nothing reset or wrote the TSC in between).
 */
static void report_first_io(void)
{
	static bool reported;
	uint64_t first, entry = time_entry_tsc();
	struct proof p;

	if (reported || !nvme_first_read_tsc(&first))
		return;
	reported = true;
	proof_begin(&p, "bench", "first-io");
	proof_u64(&p, "first_io_us", first > entry ? time_tsc_to_us(first - entry) : 0);
	proof_u64(&p, "entry_tsc_us", time_tsc_to_us(entry));
	proof_u64(&p, "first_io_tsc_us", time_tsc_to_us(first));
	proof_u64(&p, "tsc_hz", time_tsc_hz());
	proof_bool(&p, "calibrated", time_calibrated());
	proof_bool(&p, "tsc_monotonic", first > entry);
	proof_emit(&p);
}

static bool first_read(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	uint64_t blocks = ns->id.nsze < BENCH_FIRST_READ_BLOCKS ? ns->id.nsze : BENCH_FIRST_READ_BLOCKS;
	uint8_t *buf = malloc((size_t)blocks * nvme_io_block_bytes(ns));
	struct nvme_read_stats st;
	bool ok = buf && nvme_read(c, ns, 0, blocks, buf, "bench-first-read", &st);

	free(buf);
	report_first_io();
	return ok;
}

static void line_point(struct proof *p, const char *event, const struct nvme_ctrl *c,
		       const struct nvme_namespace *ns, const struct bench_point *pt)
{
	proof_begin(p, "bench", event);
	proof_str(p, "bdf", c->bdf);
	proof_str(p, "serial", c->id.sn);
	proof_u64(p, "nsid", ns->nsid);
	proof_str(p, "backend", c->dma.ops->name);
	proof_u64(p, "bs", pt->bs);
}

static void report_point(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
			 const struct bench_point *pt, const struct nvme_stream_result *r)
{
	struct proof p;

	line_point(&p, "read", c, ns, pt);
	proof_u64(&p, "qd", r->max_in_flight);
	proof_u64(&p, "qd_requested", pt->qd);
	proof_str(&p, "qd_label", pt->qd_label);
	proof_u64(&p, "bytes", r->bytes);
	proof_u64(&p, "us", r->duration_us);
	proof_u64(&p, "mbps", bench_mbps(r->bytes, r->duration_us));
	proof_u64(&p, "iops", bench_iops(r->bytes, pt->bs, r->duration_us));
	proof_hex(&p, "crc32", r->sample_crc32, 8);
	proof_u64(&p, "sample_lba", r->sample_lba);
	proof_u64(&p, "sample_blocks", r->sample_blocks);
	proof_u64(&p, "lba_size", ns->id.lba_size);
	proof_u64(&p, "commands", r->commands);
	proof_str(&p, "stopped_by", r->stopped_by ? r->stopped_by : "none");
	if (r->limited_by)
		proof_str(&p, "limited_by", r->limited_by);
	proof_bool(&p, "cpu_copy", c->dma.ops == &dma_bounce_ops);
	proof_str(&p, "mode", c->io.irq_enabled ? "msix" : "poll");
	proof_u64(&p, "sq_doorbells", r->sq_doorbells);
	proof_u64(&p, "cq_doorbells", r->cq_doorbells);
	proof_u64(&p, "irq_count", r->irq_count);
	proof_u64(&p, "waits", r->waits);
	proof_u64(&p, "wait_us", r->wait_us);
	proof_u64(&p, "mmio_accesses", r->mmio_accesses);
	proof_emit(&p);
}

static void report_point_failed(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
				const struct bench_point *pt, const struct nvme_stream_result *r)
{
	struct proof p;

	line_point(&p, "point failed", c, ns, pt);
	proof_u64(&p, "qd_requested", pt->qd);
	proof_hex(&p, "status", nvme_status_code(r->status), 3);
	proof_bool(&p, "timed_out", r->timed_out);
	proof_bool(&p, "dma_check_failed", r->dma_check_failed);
	proof_u64(&p, "dma_faults", r->dma_faults);
	proof_str(&p, "reason", c->failure);
	proof_emit(&p);
}

static bool run_point(struct nvme_ctrl *c, const struct nvme_namespace *ns,
		      const struct bench_point *pt, const struct bench_area *area)
{
	size_t buffers = area->bytes / pt->bs;
	struct nvme_stream_params params = {
		.blocks_per_command = pt->bs / nvme_io_block_bytes(ns),
		.depth = pt->qd,
		.max_bytes = runner_options()->bench_bytes,
		.max_us = BENCH_POINT_MAX_US,
		.buffers = area->base,
		.buffer_count = buffers < pt->qd ? (uint32_t)buffers : pt->qd,
	};
	struct nvme_stream_result r;
	bool ok = nvme_stream_read(c, ns, &params, &r);

	if (ok)
		report_point(c, ns, pt, &r);
	else
		report_point_failed(c, ns, pt, &r);
	return ok;
}

struct bench_job {
	const struct dma_backend_ops *ops;
	unsigned points;
};

/* Benchmarks one controller's first usable namespace; not PASS with `why`. */
static enum test_status bench_controller(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	struct bench_job *j = job;
	const struct bench_area *area;
	const struct nvme_namespace *ns;
	struct bench_point grid[BENCH_GRID_MAX];

	if (!nvme_bring_up(c, j->ops, NVME_STAGE_IO_READY))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	/* The streaming reads give no metadata buffer. */
	if (!(ns = test_first_plain_namespace(c, 0)))
		return test_outcome(TEST_SKIP, why, cap, "has no usable namespace without metadata");
	if (!first_read(c, ns))
		return test_outcome(TEST_FAIL, why, cap, "first read: %s", c->failure);
	/* Taken after the first read: zeroing it must not delay boot-to-first-I/O. */
	area = bench_area();
	if (!area)
		return test_outcome(TEST_FAIL, why, cap, "no memory for benchmark buffers");
	size_t n = bench_grid(c->max_transfer_bytes, nvme_io_block_bytes(ns), c->io.entries - 1, grid,
			      BENCH_GRID_MAX);

	for (size_t i = 0; i < n; i++, j->points++) {
		if (!run_point(c, ns, &grid[i], area))
			return test_outcome(TEST_FAIL, why, cap, "bs=%" PRIu32 " qd=%" PRIu32 ": %s",
					    grid[i].bs, grid[i].qd, c->failure);
	}
	return TEST_PASS;
}

/* The row's parameter (ctx->arg) is the backend. */
enum test_status test_bench_read(struct test_ctx *ctx)
{
	struct bench_job job = { 0 };
	struct test_tally t = { 0 };
	enum test_status status;
	char done[TEST_REASON_MAX];

	if (!test_nvme_prologue(ctx, ctx->arg, &job.ops, &status))
		return status;
	test_each_controller_tally(bench_controller, &job, &t);
	snprintf(done, sizeof(done), "benchmarked: %u points (bench: read lines)", job.points);
	return test_tally_result(ctx, &t, done);
}
