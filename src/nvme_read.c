/*
 * NVMe reads on the I/O engine (nvme_io.h): the lifecycle reads, the
 * benchmark's streaming reads and the interrupt proof.  None of them
 * builds an address: each fills an nvme_io_cmd and lets the engine map the
 * buffer and write the PRPs.
 */
#include "nvme_read.h"

#include "crc32.h"
#include "mmio.h"
#include "proof.h"
#include "timer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A read of `nblocks` from `slba` into `buf` (and, for separate metadata,
 * `md`: MS bytes per block) as an engine command with the namespace's
 * PRINFO; the engine adds every address.
 */
static bool read_command(const struct nvme_namespace *ns, uint64_t slba, uint32_t nblocks,
			 void *buf, void *md, uint64_t cookie, struct nvme_io_cmd *cmd)
{
	*cmd = (struct nvme_io_cmd){ .data = buf, .dir = DMA_DIR_FROM_DEVICE, .ns = ns,
				     .cookie = cookie, .md = md,
				     .md_bytes = md ? (size_t)nblocks * ns->fmt.md_bytes : 0,
				     .bytes = (size_t)nblocks * nvme_io_block_bytes(ns) };
	return nvme_cmd_read_format(&cmd->sqe, ns->nsid, slba, nblocks, &ns->fmt);
}

/*
 * Queues one read into `buf`, or into device memory `dev_buf` when that is
 * given; the engine's verdict as the run loop's answer.
 */
static enum nvme_io_more submit_read(struct nvme_ctrl *c, const char *step,
				     const struct nvme_namespace *ns, uint64_t slba,
				     uint32_t nblocks, void *buf, const struct dma_buffer *dev_buf,
				     void *md, uint64_t cookie)
{
	struct nvme_io_cmd cmd;
	uint32_t cid;

	if (!read_command(ns, slba, nblocks, buf, md, cookie, &cmd)) {
		nvme_step_failed(c, step, "%" PRIu32 "-blocks-outside-the-nlb-field", nblocks);
		return NVME_IO_MORE_FAILED;
	}
	cmd.dev_buf = dev_buf;
	switch (nvme_io_submit(c, &c->io, step, &cmd, &cid)) {
	case NVME_IO_QUEUED:
		return NVME_IO_MORE_QUEUED;
	case NVME_IO_NO_ROOM:
		return NVME_IO_MORE_NO_ROOM;
	case NVME_IO_REFUSED:
		break;
	}
	return NVME_IO_MORE_FAILED;
}

/* ================================================================ lifecycle reads */

struct read_job {
	struct nvme_ctrl *c;
	const struct nvme_namespace *ns;
	uint8_t *buf;
	uint8_t *md;            /* separate metadata, MS bytes per block; NULL when none */
	struct nvme_split split;
	struct nvme_chunk pending;
	bool have_pending;
	struct nvme_read_stats *st;
};

static enum nvme_io_more read_submit(void *job)
{
	struct read_job *j = job;

	if (!j->have_pending)
		j->have_pending = nvme_split_next(&j->split, &j->pending);
	if (!j->have_pending)
		return NVME_IO_MORE_DONE;
	const struct nvme_chunk *ch = &j->pending;
	enum nvme_io_more more = submit_read(j->c, "read", j->ns, ch->slba, ch->nblocks,
					     j->buf + ch->block_offset * nvme_io_block_bytes(j->ns), NULL,
					     j->md ? j->md + ch->block_offset * j->ns->fmt.md_bytes : NULL,
					     ch->block_offset);

	if (more == NVME_IO_MORE_QUEUED) {
		j->have_pending = false;
		j->st->commands++;
	}
	return more;
}

/* Records the first error status. */
static void read_complete(void *job, uint64_t cookie, uint16_t status)
{
	struct read_job *j = job;

	(void)cookie;
	if (status && !j->st->status)
		j->st->status = status;
}

static void report_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
			uint64_t nblocks, const char *purpose, const struct nvme_read_stats *st)
{
	struct proof p;
	uint64_t bytes = 0;

	nvme_blocks_to_bytes(nblocks, ns->id.lba_size, &bytes);
	nvme_line_begin(&p, c, "read");
	proof_str(&p, "serial", c->id.sn);
	proof_u64(&p, "nsid", ns->nsid);
	proof_u64(&p, "slba", slba);
	proof_u64(&p, "blocks", nblocks);
	proof_u64(&p, "lba_size", ns->id.lba_size);
	proof_u64(&p, "bytes", bytes);
	proof_hex(&p, "crc32", st->crc32, 8);
	proof_hex(&p, "status", nvme_status_code(st->status), 3);
	/*
	 * The CRC is of the buffer; it is the device's data only when every
	 * command succeeded and no transfer was blocked (a blocked transfer
	 * still completes with success in QEMU 7.2).
	 */
	proof_bool(&p, "data_valid", st->status == 0 && !st->timed_out && !st->dma_check_failed &&
					     st->dma_faults == 0 &&
					     (ns->fmt.layout == NVME_MD_NONE || st->md_checked));
	proof_u64(&p, "dma_faults", st->dma_faults);
	proof_str(&p, "backend", c->dma.ops->name);
	proof_str(&p, "purpose", purpose);
	proof_u64(&p, "commands", st->commands);
	proof_u64(&p, "blocks_per_command", st->blocks_per_command);
	proof_u64(&p, "max_in_flight", st->max_in_flight);
	proof_str(&p, "mode", c->io.irq_enabled ? "msix" : "poll");
	proof_u64(&p, "irq_count", st->irq_count);
	proof_u64(&p, "duration_us", st->duration_us);
	if (st->status)
		proof_str(&p, "status_name", nvme_status_name(st->status));
	/* crc32 covers exactly the LBA data; the metadata the read moved has its own CRC. */
	proof_u64(&p, "metadata_size", ns->fmt.md_bytes);
	proof_str(&p, "md_layout", nvme_md_layout_name(ns->fmt.layout));
	if (st->md_checked)
		proof_hex(&p, "md_crc32", st->md_crc32, 8);
	if (ns->csi == NVME_CSI_ZONED)
		proof_u64(&p, "zone_blocks", ns->zns.zone_blocks);
	proof_emit(&p);
}

bool nvme_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
	       uint64_t nblocks, void *buf, const char *purpose, struct nvme_read_stats *st)
{
	return nvme_read_chunked(c, ns, slba, nblocks, buf, 0, purpose, st);
}

/*
 * The CRCs of a finished read: crc32 over exactly the LBA data (an
 * extended-LBA buffer is compacted in place: data first, each block's
 * metadata taken out), md_crc32 over the metadata in LBA order.
 */
static void checksum_read(const struct nvme_namespace *ns, uint8_t *buf, const uint8_t *md,
			  uint64_t nblocks, struct nvme_read_stats *st)
{
	size_t data = (size_t)nblocks * ns->fmt.data_bytes;
	size_t meta = (size_t)nblocks * ns->fmt.md_bytes;

	st->md_crc32 = 0;
	st->md_checked = false;
	if (ns->fmt.layout == NVME_MD_EXTENDED) {
		uint8_t *taken = malloc(meta);

		nvme_format_split_extended(&ns->fmt, buf, nblocks, buf, taken);
		st->md_crc32 = taken ? crc32_update(0, taken, meta) : 0;
		st->md_checked = taken != NULL;
		free(taken);
	} else if (ns->fmt.layout == NVME_MD_SEPARATE) {
		st->md_crc32 = crc32_update(0, md, meta);
		st->md_checked = true;
	}
	st->crc32 = crc32_update(0, buf, data);
}

/* Blocks per command: MDTS over real bytes per block, our transfer cap, the caller's chunk size. */
uint32_t nvme_read_max_blocks(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
			      uint32_t chunk_blocks)
{
	uint32_t max_blocks = nvme_format_max_blocks(&ns->fmt, c->id.mdts, c->mps_min_bytes,
						     c->max_transfer_bytes);

	return chunk_blocks && chunk_blocks < max_blocks ? chunk_blocks : max_blocks;
}

bool nvme_read_chunked(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
		       uint64_t nblocks, void *buf, uint32_t chunk_blocks, const char *purpose,
		       struct nvme_read_stats *st)
{
	uint64_t bytes, md_bytes;
	uint32_t max_blocks = nvme_read_max_blocks(c, ns, chunk_blocks);
	struct read_job j = { .c = c, .ns = ns, .buf = buf, .st = st };
	struct nvme_io_run run = { .c = c, .step = "read", .job = &j, .submit = read_submit,
				   .complete = read_complete };

	memset(st, 0, sizeof(*st));
	if (c->stage < NVME_STAGE_IO_READY)
		return nvme_step_failed(c, "read", "io-queues-not-ready");
	if (!nvme_lba_range_ok(slba, nblocks, ns->id.nsze) ||
	    !nvme_blocks_to_bytes(nblocks, nvme_io_block_bytes(ns), &bytes) || bytes > SIZE_MAX)
		return nvme_step_failed(c, "read", "range-slba-%" PRIu64 "-blocks-%" PRIu64 "-invalid",
					slba, nblocks);
	if (max_blocks == 0)
		return nvme_step_failed(c, "read", "block-larger-than-max-transfer");
	if (!nvme_format_md_bytes(&ns->fmt, nblocks, &md_bytes) || md_bytes > SIZE_MAX)
		return nvme_step_failed(c, "read", "metadata-of-%" PRIu64 "-blocks-overflows", nblocks);
	j.md = md_bytes ? malloc((size_t)md_bytes) : NULL;
	if (md_bytes && !j.md)
		return nvme_step_failed(c, "read", "no-memory-for-%" PRIu64 "-metadata-bytes", md_bytes);

	uint64_t irq_before = c->io.irq_count, start = time_now_us();
	uint64_t blocked_before = c->dma.blocked_transfers;

	c->in_operation = true;
	c->io.max_in_flight = 0;
	st->blocks_per_command = max_blocks;
	nvme_split_init(&j.split, slba, nblocks, max_blocks);
	/* A zoned read may not cross a zone boundary (0x1b8 Zone Boundary Error). */
	if (ns->csi == NVME_CSI_ZONED)
		nvme_split_set_boundary(&j.split, ns->zns.zone_blocks);
	/* Metadata in whole sectors per command (QEMU 7.2 truncates it otherwise, nvme_format.c). */
	nvme_split_set_granule(&j.split, ns->fmt.md_granule);
	bool ok = nvme_io_run_loop(&run);

	st->timed_out = run.timed_out;
	st->dma_check_failed = run.dma_check_failed;
	c->in_operation = !ok && (st->timed_out || st->dma_check_failed);
	st->duration_us = time_now_us() - start;
	st->max_in_flight = c->io.max_in_flight;
	st->irq_count = c->io.irq_count - irq_before;
	st->dma_faults = c->dma.blocked_transfers - blocked_before;
	checksum_read(ns, buf, j.md, nblocks, st);
	if (!c->in_operation)
		free(j.md); /* otherwise a late completion may still write into it */
	report_read(c, ns, slba, nblocks, purpose, st);
	if (ok && st->status) {
		nvme_io_status_failed(c, "read", st->status);
		return false;
	}
	return ok;
}

/* ================================================================ interrupt proof */

struct irq_proof {
	uint64_t before, after, waited_us;
	bool posted, cid_matches, proven;
	uint16_t status;
	uint32_t crc32;          /* of the probe's LBA data */
	bool data_checked;       /* compared with an ordinary read of the same block */
	bool data_matches;
};

static void report_irq_proof(const struct nvme_ctrl *c, const struct irq_proof *r)
{
	struct proof p;

	nvme_line_begin(&p, c, "interrupt proof");
	proof_str(&p, "mode", "msix");
	proof_hex(&p, "vector", c->io.vector, 2);
	proof_u64(&p, "msix_entry", c->io.msix_entry);
	proof_u64(&p, "irq_count_before", r->before);
	proof_u64(&p, "irq_count_after", r->after);
	proof_bool(&p, "completion_posted", r->posted);
	proof_bool(&p, "cid_matches", r->cid_matches);
	proof_hex(&p, "status", nvme_status_code(r->status), 3);
	proof_u64(&p, "waited_us", r->waited_us);
	proof_hex(&p, "crc32", r->crc32, 8);
	proof_bool(&p, "data_checked", r->data_checked);
	proof_bool(&p, "data_matches", r->data_matches);
	proof_bool(&p, "proven", r->proven);
	proof_emit(&p);
}

/* Queues a one-block read of LBA 0 on the idle I/O queue; false (reported) when it cannot. */
static bool submit_probe_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, void *buf,
			      void *md, uint32_t *cid)
{
	struct nvme_queue *q = &c->io;
	struct nvme_io_cmd cmd;

	if (q->in_flight != 0 || !q->irq_enabled)
		return nvme_step_failed(c, "irq-proof", q->irq_enabled ? "io-queue-busy" :
									 "io-queue-polled");
	read_command(ns, 0, 1, buf, md, 0, &cmd);
	/* The engine builds (and checks) every address, or refuses the read unsent. */
	return nvme_io_submit(c, q, "irq-proof", &cmd, cid) == NVME_IO_QUEUED;
}

/*
 * The probe's data against an ordinary read of the same block (itself an
 * `nvme: read` line that tools/check-log compares with the disk image).
 */
static void check_probe_data(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint8_t *buf,
			     const uint8_t *md, struct irq_proof *r)
{
	struct nvme_read_stats probe = { 0 }, ref;
	uint8_t *again = malloc(nvme_io_block_bytes(ns));

	checksum_read(ns, buf, md, 1, &probe);
	r->crc32 = probe.crc32;
	if (!again)
		return;
	r->data_checked = nvme_read(c, ns, 0, 1, again, "irq-proof-reference", &ref) &&
			  ref.dma_faults == 0;
	r->data_matches = r->data_checked && ref.crc32 == probe.crc32 &&
			  ref.md_crc32 == probe.md_crc32;
	if (!c->in_operation)
		free(again);
}

bool nvme_prove_interrupt(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	struct nvme_queue *q = &c->io;
	struct irq_proof r = { .before = q->irq_count };
	uint8_t *buf = malloc(nvme_io_block_bytes(ns));
	uint8_t *md = ns->fmt.layout == NVME_MD_SEPARATE ? malloc(ns->fmt.md_bytes) : NULL;
	uint32_t cid;

	if (!buf || (ns->fmt.layout == NVME_MD_SEPARATE && !md)) {
		free(buf);
		free(md);
		return nvme_step_failed(c, "irq-proof", "no-buffer");
	}
	if (!submit_probe_read(c, ns, buf, md, &cid)) {
		free(buf);
		free(md);
		return false;
	}
	c->in_operation = true;
	uint64_t start = time_now_us(), deadline = deadline_after_us(NVME_IO_COMMAND_TIMEOUT_US);

	nvme_io_ring(q);
	/* Only the interrupt counter is watched: the CQ is not looked at until it moves. */
	while (q->irq_count == r.before && !deadline_passed(deadline))
		__asm__ volatile("sti; hlt" ::: "memory");
	r.waited_us = time_now_us() - start;
	r.after = q->irq_count;
	r.posted = nvme_io_cqe_pending(q);
	r.cid_matches = r.posted && q->cq[q->cq_head].cid == (uint16_t)cid;
	bool settled = nvme_io_wait(c, q, cid, NVME_IO_COMMAND_TIMEOUT_US);

	r.status = q->slots[cid].status;
	if (settled)
		nvme_io_release(c, &q->slots[cid]);
	c->in_operation = !settled;
	/* Proven: the interrupt came for this command, it succeeded, and its data is the block's. */
	if (settled && r.status == 0)
		check_probe_data(c, ns, buf, md, &r);
	if (settled) {
		free(buf); /* otherwise the device may still write into it */
		free(md);
	}
	r.proven = r.after > r.before && r.posted && r.cid_matches && r.status == 0 &&
		   r.data_matches;
	report_irq_proof(c, &r);
	if (!r.proven)
		return nvme_step_failed(c, "irq-proof", r.after == r.before ?
					"no-interrupt-within-timeout" :
					!r.posted || !r.cid_matches ?
					"interrupt-without-matching-completion" :
					r.status ? "probe-read-failed" : "probe-data-not-confirmed");
	return true;
}

/* ================================================================ streaming reads (benchmark) */

struct stream_job {
	struct nvme_ctrl *c;
	const struct nvme_namespace *ns;
	const struct nvme_stream_params *p;
	struct nvme_stream_result *r;
	size_t command_bytes;
	uint32_t depth;           /* p->depth, at most the buffers given */
	uint32_t *free_buffers;   /* stack of buffer indices not in flight */
	uint32_t free_count;
	uint64_t next_lba;
	uint64_t submitted_bytes;
	uint64_t stop_tsc;        /* no submission at or after this TSC */
	bool stopped;             /* no more submissions */
	uint32_t sample_buffer;   /* the last command submitted */
	uint64_t *held_lba;       /* per region: the first LBA it was last given, or NO_LBA */
};

#define NO_LBA UINT64_MAX

/* The CPU's view of region `index` (caller buffer or device memory). */
static uint8_t *stream_buffer(const struct stream_job *j, uint32_t index)
{
	if (j->p->device_regions)
		return j->p->device_regions[index].cpu;
	return j->p->buffers + (size_t)index * j->command_bytes;
}

/* Device memory given: the engine reads into it as it is; NULL for caller buffers. */
static const struct dma_buffer *stream_device_region(const struct stream_job *j, uint32_t index)
{
	return j->p->device_regions ? &j->p->device_regions[index] : NULL;
}

/*
 * A region about to receive the LBAs it already holds (only after the
 * stream wrapped) is poisoned first, so what it holds afterwards is what the
 * device wrote.  Every region was poisoned before the first submission.
 */
static void stream_prepare_region(struct stream_job *j, uint32_t index, uint64_t lba)
{
	if (j->held_lba[index] == lba)
		memset(stream_buffer(j, index), NVME_STREAM_POISON, j->command_bytes);
}

/* Next command's LBA: sequential, back to 0 where a whole command no longer fits. */
static uint64_t stream_next_lba(const struct stream_job *j)
{
	return j->next_lba + j->p->blocks_per_command > j->ns->id.nsze ? 0 : j->next_lba;
}

static bool stream_should_stop(struct stream_job *j)
{
	if (j->stopped)
		return true;
	if (j->submitted_bytes >= j->p->max_bytes)
		j->r->stopped_by = "bytes";
	else if (time_tsc() >= j->stop_tsc)
		j->r->stopped_by = "time";
	j->stopped = j->r->stopped_by != NULL;
	return j->stopped;
}

/* What limits the depth when there are fewer regions than commands asked for. */
static const char *stream_regions_name(const struct nvme_stream_params *p)
{
	return p->device_regions ? "device-memory" : "buffers";
}

/* Queues one command up to the depth; limited_by says why the depth was not reached. */
static enum nvme_io_more stream_submit(void *job)
{
	struct stream_job *j = job;
	struct nvme_queue *q = &j->c->io;

	if (q->in_flight >= j->depth)
		return NVME_IO_MORE_NO_ROOM; /* the depth is reached: wait for a completion */
	if (stream_should_stop(j))
		return NVME_IO_MORE_DONE;
	if (j->free_count == 0) {
		j->r->limited_by = stream_regions_name(j->p);
		return NVME_IO_MORE_NO_ROOM;
	}
	uint32_t buffer = j->free_buffers[j->free_count - 1];
	uint64_t lba = stream_next_lba(j);

	stream_prepare_region(j, buffer, lba);
	/* No metadata buffer: a separate-metadata namespace is refused by the engine, named. */
	enum nvme_io_more more = submit_read(j->c, "stream", j->ns, lba, j->p->blocks_per_command,
					     j->p->device_regions ? NULL : stream_buffer(j, buffer),
					     stream_device_region(j, buffer), NULL, buffer);

	if (more == NVME_IO_MORE_NO_ROOM)
		j->r->limited_by = q->in_flight + 1 >= q->entries ? "queue-entries" : "dma-backend";
	if (more != NVME_IO_MORE_QUEUED)
		return more;
	j->next_lba = lba + j->p->blocks_per_command;
	j->held_lba[buffer] = lba;
	j->free_count--;
	j->submitted_bytes += j->command_bytes;
	j->sample_buffer = buffer;
	j->r->sample_lba = lba;
	if (q->in_flight > j->r->max_in_flight)
		j->r->max_in_flight = q->in_flight;
	return more;
}

/* Counts a finished command and gives its buffer back; an error status stops submission. */
static void stream_complete(void *job, uint64_t cookie, uint16_t status)
{
	struct stream_job *j = job;

	if (status && !j->r->status)
		j->r->status = status;
	if (status) {
		j->stopped = true;
		j->r->stopped_by = "error";
	} else {
		j->r->bytes += j->command_bytes;
	}
	j->r->commands++;
	j->free_buffers[j->free_count++] = (uint32_t)cookie;
}

static bool stream_check_params(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				const struct nvme_stream_params *p)
{
	uint32_t max_blocks = nvme_read_max_blocks(c, ns, 0);

	if (c->stage < NVME_STAGE_IO_READY)
		return nvme_step_failed(c, "stream", "io-queues-not-ready");
	if (p->blocks_per_command == 0 || p->blocks_per_command > max_blocks)
		return nvme_step_failed(c, "stream", "%" PRIu32 "-blocks-per-command-outside-1-to-%" PRIu32,
					p->blocks_per_command, max_blocks);
	if (p->blocks_per_command > ns->id.nsze)
		return nvme_step_failed(c, "stream", "namespace-smaller-than-one-command");
	if (p->depth == 0 || p->buffer_count == 0 || !p->buffers == !p->device_regions)
		return nvme_step_failed(c, "stream", "no-depth-or-not-one-kind-of-buffers");
	for (uint32_t i = 0; p->device_regions && i < p->buffer_count; i++)
		if (p->device_regions[i].size < (size_t)p->blocks_per_command * nvme_io_block_bytes(ns))
			return nvme_step_failed(c, "stream", "device-region-%" PRIu32 "-smaller-than-a-command", i);
	return true;
}

/* Every region starts out poisoned and holding no LBA (before the measured time). */
static bool stream_poison_regions(struct stream_job *j)
{
	j->held_lba = malloc(j->depth * sizeof(*j->held_lba));
	if (!j->held_lba)
		return false;
	for (uint32_t i = 0; i < j->depth; i++) {
		j->held_lba[i] = NO_LBA;
		memset(stream_buffer(j, i), NVME_STREAM_POISON, j->command_bytes);
	}
	return true;
}

/* Copies the run loop's counters into the result and finds out what limited the depth. */
static void stream_summarise(const struct stream_job *j, const struct nvme_io_run *run)
{
	struct nvme_stream_result *r = j->r;

	r->sq_doorbells = run->sq_doorbells;
	r->cq_doorbells = run->cq_doorbells;
	r->waits = run->waits;
	r->wait_us = time_tsc_to_us(run->wait_ticks);
	r->timed_out = run->timed_out;
	r->dma_check_failed = run->dma_check_failed;
	if (r->commands) {
		r->sample_blocks = j->p->blocks_per_command;
		r->sample_crc32 = crc32_update(0, stream_buffer(j, j->sample_buffer), j->command_bytes);
	}
	if (r->max_in_flight >= j->p->depth)
		r->limited_by = NULL;
	else if (!r->limited_by)
		r->limited_by = r->stopped_by; /* the budget ran out before the queue filled */
}

bool nvme_stream_read(struct nvme_ctrl *c, const struct nvme_namespace *ns,
		      const struct nvme_stream_params *p, struct nvme_stream_result *r)
{
	struct stream_job j = { .c = c, .ns = ns, .p = p, .r = r };
	struct nvme_io_run run = { .c = c, .step = "stream", .job = &j, .submit = stream_submit,
				   .complete = stream_complete };

	memset(r, 0, sizeof(*r));
	if (!stream_check_params(c, ns, p))
		return false;
	j.command_bytes = (size_t)p->blocks_per_command * nvme_io_block_bytes(ns);
	j.depth = p->depth < p->buffer_count ? p->depth : p->buffer_count;
	j.free_buffers = malloc(j.depth * sizeof(*j.free_buffers));
	if (!j.free_buffers || !stream_poison_regions(&j)) {
		free(j.free_buffers);
		return nvme_step_failed(c, "stream", "no-memory");
	}
	for (uint32_t i = 0; i < j.depth; i++)
		j.free_buffers[j.free_count++] = j.depth - 1 - i;
	if (p->depth > j.depth)
		r->limited_by = stream_regions_name(p);

	uint64_t irq_before = c->io.irq_count, blocked_before = c->dma.blocked_transfers;
	uint64_t mmio_before = mmio_access_count, start = time_tsc();

	j.stop_tsc = start + p->max_us * time_tsc_hz() / US_PER_S;
	c->in_operation = true;
	bool ok = nvme_io_run_loop(&run);

	r->duration_us = time_tsc_to_us(time_tsc() - start);
	r->mmio_accesses = mmio_access_count - mmio_before;
	c->in_operation = !ok && (run.timed_out || run.dma_check_failed);
	r->irq_count = c->io.irq_count - irq_before;
	r->dma_faults = c->dma.blocked_transfers - blocked_before;
	stream_summarise(&j, &run);
	free(j.free_buffers);
	free(j.held_lba);
	if (ok && r->status) {
		nvme_io_status_failed(c, "stream", r->status);
		return false;
	}
	return ok && r->dma_faults == 0;
}
