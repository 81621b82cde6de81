/*
 * The read benchmark.  For each controller's first usable namespace: one
 * ordinary checked read of the first blocks (its `nvme: read` line carries
 * a CRC the host checks), the boot-to-first-I/O line once per boot, then
 * every grid point (src/lib/bench_grid.h) through nvme_stream_read().
 *
 * Every point stops submitting after bench_bytes= bytes (default 64 MiB)
 * or BENCH_POINT_MAX_US, whichever comes first, and reports what completed.
 * Nothing here asserts a speed: a point fails only when a read fails.
 *
 * The data goes straight into device memory (`buffer=device`): 2 MiB
 * chunks from the backend's dma_alloc_coherent (bounce pool pages, or pages
 * the remapping backend mapped once), as many as it gives up to 64 MiB,
 * carved into one region per command in flight, so no read pays a
 * per-transfer map, copy or invalidation.  A backend that cannot take
 * transfers into its buffers, or gives none, gets the reads into ordinary
 * memory mapped per transfer (`buffer=caller`).  After the points the
 * chunks go back and the backend's audit must hold.
 */
#include "tests_bench.h"

#include "bench_grid.h"
#include "console.h"
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
/* One 2 MiB IOMMU page on the remapping backend; holds whole commands of every grid size. */
#define BENCH_CHUNK_BYTES       (2u << 20)
#define BENCH_CHUNKS_MAX        (BENCH_AREA_MAX_BYTES / BENCH_CHUNK_BYTES)

struct bench_area {
	uint8_t *base;
	size_t bytes;
};

/* Device memory for the data: chunks from dma_alloc_coherent, held for the controller's points. */
struct bench_device_memory {
	struct dma_buffer chunks[BENCH_CHUNKS_MAX];
	uint32_t count;
};

/* Where a controller's points read into: device memory when the backend gave some, else the area. */
struct bench_buffers {
	struct bench_device_memory device;
	const struct bench_area *area;
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

/* As much device memory as the backend gives, up to the area's size; none without a ledger. */
static void device_memory_take(struct nvme_ctrl *c, struct bench_device_memory *m)
{
	m->count = 0;
	if (!dma_buffers_mappable(&c->dma))
		return;
	while (m->count < BENCH_CHUNKS_MAX &&
	       dma_alloc_coherent(&c->dma, BENCH_CHUNK_BYTES, &m->chunks[m->count]))
		m->count++;
}

static void device_memory_give_back(struct nvme_ctrl *c, struct bench_device_memory *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		dma_free_coherent(&c->dma, &m->chunks[i]);
	m->count = 0;
}

/* Up to `want` distinct regions of bs bytes, whole ones from each chunk; the count. */
static uint32_t device_regions(const struct bench_device_memory *m, uint32_t bs, uint32_t want,
			       struct dma_buffer *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->count && n < want; i++)
		for (size_t off = 0; n < want && dma_buffer_part(&m->chunks[i], off, bs, &out[n]);
		     off += bs)
			n++;
	return n;
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

/* What a point ran on, besides the stream's own figures. */
struct bench_point_run {
	bool device;          /* read into device memory (buffer=device) */
	uint32_t regions;     /* distinct regions for commands in flight */
	uint64_t ledger_ranges; /* ranges the backend's ledger accepted during the point */
};

static void report_point(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
			 const struct bench_point *pt, const struct nvme_stream_result *r,
			 const struct bench_point_run *run)
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
	proof_str(&p, "buffer", run->device ? "device" : "caller");
	proof_u64(&p, "regions", run->regions);
	proof_u64(&p, "ledger_ranges", run->ledger_ranges);
	proof_bool(&p, "cpu_copy", c->dma.ops == &dma_bounce_ops && !run->device);
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
		      const struct bench_point *pt, const struct bench_buffers *b)
{
	struct dma_buffer *regions = calloc(pt->qd, sizeof(*regions));
	size_t area_buffers = b->area ? b->area->bytes / pt->bs : 0;
	struct bench_point_run run = { .device = b->device.count > 0 };
	struct nvme_stream_params params = {
		.blocks_per_command = pt->bs / nvme_io_block_bytes(ns),
		.depth = pt->qd,
		.max_bytes = runner_options()->bench_bytes,
		.max_us = BENCH_POINT_MAX_US,
	};
	struct nvme_stream_result r;

	if (!regions)
		return nvme_step_failed(c, "stream", "no-memory");
	if (run.device) {
		params.device_regions = regions;
		run.regions = device_regions(&b->device, pt->bs, pt->qd, regions);
	} else {
		params.buffers = b->area->base;
		run.regions = area_buffers < pt->qd ? (uint32_t)area_buffers : pt->qd;
	}
	params.buffer_count = run.regions;
	run.ledger_ranges = dma_ledger_ranges(&c->dma);
	console_flush();
	bool ok = nvme_stream_read(c, ns, &params, &r);

	run.ledger_ranges = dma_ledger_ranges(&c->dma) - run.ledger_ranges;
	free(regions);
	if (ok)
		report_point(c, ns, pt, &r, &run);
	else
		report_point_failed(c, ns, pt, &r);
	return ok;
}

struct bench_job {
	const struct dma_backend_ops *ops;
	unsigned points;
};

/* Every grid point on `ns`; not PASS with `why` at the first failed point. */
static enum test_status run_grid(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				 const struct bench_buffers *b, unsigned *points, char *why,
				 size_t cap)
{
	struct bench_point grid[BENCH_GRID_MAX];
	size_t n = bench_grid(c->max_transfer_bytes, nvme_io_block_bytes(ns), c->io.entries - 1, grid,
			      BENCH_GRID_MAX);

	for (size_t i = 0; i < n; i++, (*points)++) {
		if (!run_point(c, ns, &grid[i], b))
			return test_outcome(TEST_FAIL, why, cap, "bs=%" PRIu32 " qd=%" PRIu32 ": %s",
					    grid[i].bs, grid[i].qd, c->failure);
	}
	return TEST_PASS;
}

/* The backend's audit once the points' memory went back: every transfer's range held. */
static enum test_status audit_after_points(struct nvme_ctrl *c, char *why, size_t cap)
{
	struct dma_audit_report a;

	dma_audit(&c->dma, &a);
	if (!a.ok)
		return test_outcome(TEST_FAIL, why, cap, "dma audit after the points: %s", a.reason);
	return TEST_PASS;
}

/* Benchmarks one controller's first usable namespace; not PASS with `why`. */
static enum test_status bench_controller(struct nvme_ctrl *c, void *job, char *why, size_t cap)
{
	struct bench_job *j = job;
	const struct nvme_namespace *ns;
	struct bench_buffers b = { 0 };

	if (!nvme_bring_up(c, j->ops, NVME_STAGE_IO_READY))
		return test_outcome(TEST_FAIL, why, cap, "%s", c->failure);
	/* The streaming reads give no metadata buffer. */
	if (!(ns = test_first_plain_namespace(c, 0)))
		return test_outcome(TEST_SKIP, why, cap, "has no usable namespace without metadata");
	if (!first_read(c, ns))
		return test_outcome(TEST_FAIL, why, cap, "first read: %s", c->failure);
	/* Taken after the first read: zeroing it must not delay boot-to-first-I/O. */
	device_memory_take(c, &b.device);
	if (!b.device.count && !(b.area = bench_area()))
		return test_outcome(TEST_FAIL, why, cap, "no memory for benchmark buffers");
	enum test_status status = run_grid(c, ns, &b, &j->points, why, cap);

	/* A point that failed may leave commands in flight: their memory stays the device's. */
	if (c->in_operation)
		return status;
	device_memory_give_back(c, &b.device);
	return status == TEST_PASS ? audit_after_points(c, why, cap) : status;
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
