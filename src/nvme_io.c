/*
 * The NVMe I/O engine (API summary in nvme_io.h): queue memory, slots,
 * the address builder, submission, completion reaping and the run loop.
 */
#include "nvme.h"

#include "io.h"
#include "irq.h"
#include "mmio.h"
#include "timer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVME_IO_POLL_DELAY_US 10u
/*
 * How long a waiter spins on the CQ phase bit before it halts for the
 * interrupt.  A completion that lands within it is taken without the
 * wake-up latency of the halted vCPU thread (QEMU TCG: the MSI-X kick of a
 * sleeping vCPU costs tens of microseconds on an idle host); a longer wait
 * halts, so a spinning vCPU never holds a host core for long.
 */
#define NVME_IO_SPIN_BEFORE_HALT_US 100u
#define NVME_IO_REASON_MAX    80u

/* TSC at the first successful completion on an I/O queue (only reads go there). */
static uint64_t first_read_tsc;

/* ================================================================ queue memory */

/* Ends a slot's data mapping (data reaches the caller's buffer) and frees it for reuse. */
void nvme_io_release(struct nvme_ctrl *c, struct nvme_slot *s)
{
	if (s->map.len)
		dma_unmap(&c->dma, &s->map);
	if (s->md_map.len)
		dma_unmap(&c->dma, &s->md_map);
	s->map.len = 0;
	s->md_map.len = 0;
	s->busy = false;
	s->done = false;
}

/* Clears a queue but keeps its interrupt routing, set up before the queues exist. */
static void queue_clear(struct nvme_queue *q)
{
	uint8_t vector = q->vector;
	uint16_t msix_entry = q->msix_entry;
	uint64_t irqs = q->irq_count;

	memset(q, 0, sizeof(*q));
	q->vector = vector;
	q->msix_entry = msix_entry;
	q->irq_count = irqs;
}

void nvme_io_queue_free(struct nvme_ctrl *c, struct nvme_queue *q)
{
	if (q->slots) {
		/* Called with the controller disabled: no command can still move data. */
		for (uint32_t i = 0; i < q->entries; i++) {
			nvme_io_release(c, &q->slots[i]);
			dma_free_coherent(&c->dma, &q->slots[i].prp_lists);
		}
		free(q->slots);
	}
	dma_free_coherent(&c->dma, &q->sq_mem);
	dma_free_coherent(&c->dma, &q->cq_mem);
	queue_clear(q);
}

bool nvme_io_queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid,
			 uint32_t entries, size_t prp_list_pages)
{
	queue_clear(q);
	q->qid = qid;
	q->entries = entries;
	q->phase = 1;
	q->sq_doorbell = c->bar0 + NVME_SQ_TAIL_DOORBELL(qid, c->dstrd);
	q->cq_doorbell = c->bar0 + NVME_CQ_HEAD_DOORBELL(qid, c->dstrd);
	q->prp_list_pages = prp_list_pages;
	q->slots = calloc(entries, sizeof(*q->slots));
	if (!q->slots || !dma_alloc_coherent(&c->dma, entries * sizeof(struct nvme_sqe), &q->sq_mem) ||
	    !dma_alloc_coherent(&c->dma, entries * sizeof(struct nvme_cqe), &q->cq_mem))
		return false;
	for (uint32_t i = 0; i < entries && prp_list_pages; i++)
		if (!dma_alloc_coherent(&c->dma, prp_list_pages * c->page_size, &q->slots[i].prp_lists))
			return false;
	q->sq = q->sq_mem.cpu;
	q->cq = q->cq_mem.cpu;
	return true;
}

/* The CID the next submission will use, or -1 when the queue is full. */
static int free_slot(const struct nvme_queue *q)
{
	if (q->in_flight + 1 >= q->entries)
		return -1; /* a full queue keeps one entry empty */
	uint32_t cid = q->next_slot;

	while (q->slots[cid].busy)
		cid = (cid + 1) % q->entries;
	return (int)cid;
}

/* ================================================================ addresses */

uint32_t nvme_io_block_bytes(const struct nvme_namespace *ns)
{
	/* Extended LBAs interleave each block's metadata with its data (and MDTS counts both). */
	return ns->fmt.buffer_bytes;
}

/* The slot's PRP list pages as the PRP builder wants them. */
static size_t slot_list_pages(const struct nvme_ctrl *c, const struct nvme_queue *q,
			      const struct nvme_slot *s, struct nvme_prp_list_page *pages)
{
	for (size_t i = 0; i < q->prp_list_pages; i++) {
		pages[i].cpu = (uint64_t *)((uint8_t *)s->prp_lists.cpu + i * c->page_size);
		pages[i].dev = s->prp_lists.dev + i * c->page_size;
	}
	return q->prp_list_pages;
}

/*
 * Every address field of a command is written here, from backend
 * mappings only: PRP1, PRP2 and the PRP-list entries (in the slot's list
 * pages) from `map`, MPTR from `md_map`.  Returns NULL, or the reason the
 * command cannot be fully populated (it must then not be submitted).
 */
static const char *build_addresses(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_slot *s,
				   const struct nvme_io_cmd *cmd, const struct dma_mapping *map,
				   const struct dma_mapping *md_map, struct nvme_sqe *sqe,
				   char *why, size_t cap)
{
	struct nvme_prp_list_page pages[NVME_PRP_LIST_PAGES_MAX];
	struct nvme_io_addrs a = { 0 };

	if (q->prp_list_pages > NVME_PRP_LIST_PAGES_MAX)
		return "prp-list-pages-beyond-the-builder";
	size_t n = slot_list_pages(c, q, s, pages);
	enum nvme_prp_error e = nvme_prp_build(map->dev, cmd->bytes, c->page_size, pages, n, &a.prp,
					       NULL);

	if (e != NVME_PRP_OK) {
		snprintf(why, cap, "prp-%s", nvme_prp_error_name(e));
		return why;
	}
	a.prp_set = true;
	a.mptr_set = md_map->len != 0;
	a.mptr = md_map->dev;
	/* The namespace format says which pointers a transfer needs; none may be missing. */
	const char *missing = cmd->ns ? nvme_format_missing_address(&cmd->ns->fmt, &a) : NULL;

	if (!cmd->ns && a.mptr_set)
		missing = "metadata-pointer-without-a-namespace";
	if (missing)
		return missing;
	sqe->prp1 = a.prp.prp1;
	sqe->prp2 = a.prp.prp2;
	sqe->mptr = a.mptr_set ? a.mptr : 0;
	return NULL;
}

static bool has_data(const struct nvme_io_cmd *cmd)
{
	return cmd->data || cmd->dev_buf;
}

/* The data's mapping: device memory as it is, caller memory for this one transfer. */
static bool map_data(struct nvme_ctrl *c, const struct nvme_io_cmd *cmd, struct dma_mapping *map)
{
	if (cmd->dev_buf)
		return dma_map_buffer(&c->dma, cmd->dev_buf, cmd->bytes, cmd->dir, map);
	return dma_map(&c->dma, cmd->data, cmd->bytes, cmd->dir, map);
}

/* Maps the command's data and metadata; NO_ROOM when the backend is full but will drain. */
static enum nvme_io_verdict map_buffers(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
					const struct nvme_io_cmd *cmd, struct dma_mapping *map,
					struct dma_mapping *md_map)
{
	bool data_ok = map_data(c, cmd, map);
	bool md_ok = data_ok && (!cmd->md || dma_map(&c->dma, cmd->md, cmd->md_bytes, cmd->dir,
						     md_map));

	if (md_ok)
		return NVME_IO_QUEUED;
	if (data_ok)
		dma_unmap(&c->dma, map);
	*map = (struct dma_mapping){ 0 };
	if (q->in_flight > 0)
		return NVME_IO_NO_ROOM; /* the backend is full: completions make room */
	nvme_step_failed(c, step, "dma-map-of-%lu-bytes-failed",
			 (unsigned long)(cmd->bytes + (cmd->md ? cmd->md_bytes : 0)));
	return NVME_IO_REFUSED;
}

/* ================================================================ submission */

void nvme_io_cq_tell(struct nvme_queue *q)
{
	if (!q->cq_unacked)
		return;
	mmio_write32(q->cq_doorbell, q->cq_head);
	q->cq_unacked = 0;
	q->cq_doorbell_writes++;
}

/*
 * The CQ head doorbell is deferred until the device could run out of CQ
 * room (nvme_cq_head_due()): at queue depth 1 one MMIO write per
 * entries - 2 commands instead of one per command, each a trap into QEMU
 * under its global lock.
 */
static void cq_make_room(struct nvme_queue *q, uint32_t in_flight_after)
{
	if (nvme_cq_head_due(q->cq_unacked, in_flight_after, q->entries))
		nvme_io_cq_tell(q);
}

/* Copies the SQE into the SQ as command `cid`; the slot owns `map` and `md_map` from here. */
static void queue_command(struct nvme_queue *q, uint32_t cid, struct nvme_sqe *sqe,
			  const struct dma_mapping *map, const struct dma_mapping *md_map,
			  uint64_t cookie)
{
	struct nvme_slot *s = &q->slots[cid];

	cq_make_room(q, q->in_flight + 1);
	q->next_slot = (cid + 1) % q->entries;
	s->busy = true;
	s->done = false;
	s->status = 0;
	s->cookie = cookie;
	s->map = map ? *map : (struct dma_mapping){ 0 };
	s->md_map = md_map ? *md_map : (struct dma_mapping){ 0 };
	sqe->cid = (uint16_t)cid;
	memcpy(&q->sq[q->sq_tail], sqe, sizeof(*sqe));
	q->sq_tail = (q->sq_tail + 1) % q->entries;
	if (++q->in_flight > q->max_in_flight)
		q->max_in_flight = q->in_flight;
}

enum nvme_io_verdict nvme_io_submit(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
				    struct nvme_io_cmd *cmd, uint32_t *cid)
{
	char why[NVME_IO_REASON_MAX];
	struct dma_mapping map = { 0 }, md_map = { 0 };
	int slot = free_slot(q);

	if (slot < 0)
		return NVME_IO_NO_ROOM;
	if (cmd->md && !has_data(cmd)) {
		nvme_step_failed(c, step, "metadata-without-data");
		return NVME_IO_REFUSED;
	}
	if (cmd->data && cmd->dev_buf) {
		nvme_step_failed(c, step, "data-in-caller-and-device-memory");
		return NVME_IO_REFUSED;
	}
	if (has_data(cmd)) {
		enum nvme_io_verdict mapped = map_buffers(c, q, step, cmd, &map, &md_map);

		if (mapped != NVME_IO_QUEUED)
			return mapped;
		const char *refused = build_addresses(c, q, &q->slots[slot], cmd, &map, &md_map,
						      &cmd->sqe, why, sizeof(why));

		if (refused) {
			dma_unmap(&c->dma, &map);
			if (md_map.len)
				dma_unmap(&c->dma, &md_map);
			nvme_step_failed(c, step, "%s", refused);
			return NVME_IO_REFUSED;
		}
	}
	queue_command(q, (uint32_t)slot, &cmd->sqe, has_data(cmd) ? &map : NULL,
		      cmd->md ? &md_map : NULL, cmd->cookie);
	*cid = (uint32_t)slot;
	return NVME_IO_QUEUED;
}

/*
 * Always the MMIO doorbell, never Doorbell Buffer Config (shadow doorbells,
 * admin 7Ch, offered by QEMU 7.2 in OACS bit 8): QEMU sets the SQ event
 * index to the tail it has just consumed, so a tail written after the
 * device caught up still needs the MMIO write.  Measured with a prototype
 * (all grid points, both backends, two runs): at 4K qd1 every submission
 * still rang (10,814 of 10,814), at 4K qd32 0-12 of 514-582 were saved
 * (~1%), and on the CQ side nothing the deferred CQ head does not save.
 * It would also rely on the guest's mfence, which QEMU 7.2 drops under TCG
 * with -smp 1 (docs/benchmark.md).
 */
void nvme_io_ring(struct nvme_queue *q)
{
	wmb(); /* SQEs (and PRP lists, bounce data) before the doorbell */
	mmio_write32(q->sq_doorbell, q->sq_tail);
	q->sq_doorbell_writes++;
}

/* ================================================================ completions */

bool nvme_io_cqe_pending(const struct nvme_queue *q)
{
	return (q->cq[q->cq_head].status & NVME_CQE_PHASE) == q->phase;
}

bool nvme_io_reap(struct nvme_ctrl *c, struct nvme_queue *q, unsigned *reaped)
{
	bool ok = true;
	char why[DMA_REASON_MAX];

	*reaped = 0;
	while (nvme_io_cqe_pending(q)) {
		rmb(); /* the phase bit before the rest of the entry */
		struct nvme_cqe cqe = *(const struct nvme_cqe *)&q->cq[q->cq_head];

		if (++q->cq_head == q->entries) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		q->cq_unacked++;
		if (cqe.cid >= q->entries || !q->slots[cqe.cid].busy || q->slots[cqe.cid].done) {
			ok = nvme_step_failed(c, "completion", "qid-%u-unexpected-cid-%u", q->qid, cqe.cid);
			continue;
		}
		q->slots[cqe.cid].done = true;
		q->slots[cqe.cid].status = nvme_cqe_status_field(cqe.status);
		if (!first_read_tsc && q->qid == NVME_IO_QID && !q->slots[cqe.cid].status)
			first_read_tsc = time_tsc();
		q->in_flight--;
		(*reaped)++;
	}
	if (*reaped) {
		if (!dma_check(&c->dma, why, sizeof(why)))
			ok = nvme_step_failed(c, "dma-check", "%s", why);
	}
	return ok;
}

/*
 * Spins on the phase bit in RAM (no MMIO in the loop) for at most
 * NVME_IO_SPIN_BEFORE_HALT_US, then sleeps (sti; hlt) until the
 * completion's MSI-X interrupt.  Spinning without a limit was measured
 * slower under QEMU TCG on this 2-core host when it was loaded: the
 * spinning vCPU thread takes a host core from QEMU's main loop and I/O
 * threads, which run the device model (4K qd1, 4 alternated pairs at load
 * 4-5: 92 -> 33 MB/s bounce, 114 -> 47 remapped).  Halting at once was
 * measured slower on a quiet host, where each wake-up of the halted vCPU
 * is slow (4K qd1, 2 runs each, load ~1: bounce 41-44 MB/s halting at once,
 * 50-55 spinning 20 us, 64-69 spinning 60 us, 62-70 spinning 200 us);
 * with two CPU hogs on the host a 100 us spin was no slower than none.
 */
static bool spin_briefly(const struct nvme_queue *q)
{
	uint64_t deadline = deadline_after_us(NVME_IO_SPIN_BEFORE_HALT_US);

	while (!deadline_passed(deadline))
		if (nvme_io_cqe_pending(q))
			return true;
	return false;
}

void nvme_io_wait_event(const struct nvme_queue *q)
{
	if (!q->irq_enabled) {
		time_delay_us(NVME_IO_POLL_DELAY_US);
		return;
	}
	if (q->spin_wait) {
		cpu_pause();
		return;
	}
	if (spin_briefly(q))
		return;
	irq_disable();
	if (nvme_io_cqe_pending(q)) {
		irq_enable();
		return;
	}
	__asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow makes the pair atomic */
}

bool nvme_io_wait(struct nvme_ctrl *c, struct nvme_queue *q, uint32_t cid, uint64_t timeout_us)
{
	uint64_t deadline = deadline_after_us(timeout_us);
	unsigned reaped;

	while (!q->slots[cid].done) {
		if (!nvme_io_reap(c, q, &reaped))
			return false;
		if (q->slots[cid].done)
			break;
		if (deadline_passed(deadline))
			return nvme_step_failed(c, "completion", "qid-%u-cid-%u-timeout-after-%" PRIu64 "-us",
						q->qid, cid, timeout_us);
		uint32_t csts = mmio_read32(c->bar0 + NVME_REG_CSTS);

		if (csts & NVME_CSTS_CFS)
			return nvme_step_failed(c, "completion", "controller-fatal-status-csts-0x%08x", csts);
		nvme_io_wait_event(q);
	}
	return true;
}

/* Rings for the one queued command `cid`, waits, hands back its status and frees the slot. */
static bool finish_one(struct nvme_ctrl *c, struct nvme_queue *q, uint32_t cid, uint16_t *status)
{
	nvme_io_ring(q);
	if (!nvme_io_wait(c, q, cid, NVME_IO_COMMAND_TIMEOUT_US))
		return false; /* the slot keeps its mapping: the device may still write into it */
	*status = q->slots[cid].status;
	nvme_io_release(c, &q->slots[cid]);
	return true;
}

static bool queue_full(struct nvme_ctrl *c, struct nvme_queue *q, const char *step)
{
	return nvme_step_failed(c, step, q->qid == NVME_ADMIN_QID ? "admin-queue-full" :
								    "io-queue-full");
}

bool nvme_io_exec(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
		  struct nvme_io_cmd *cmd, uint16_t *status)
{
	uint32_t cid;

	*status = 0;
	switch (nvme_io_submit(c, q, step, cmd, &cid)) {
	case NVME_IO_QUEUED:
		return finish_one(c, q, cid, status);
	case NVME_IO_NO_ROOM:
		return queue_full(c, q, step);
	case NVME_IO_REFUSED:
		break;
	}
	return false;
}

bool nvme_io_exec_raw(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
		      struct nvme_sqe *sqe, struct dma_mapping *map, uint16_t *status)
{
	int cid = free_slot(q);

	*status = 0;
	if (cid < 0) {
		if (map)
			dma_unmap(&c->dma, map);
		return queue_full(c, q, step);
	}
	queue_command(q, (uint32_t)cid, sqe, map, NULL, 0);
	return finish_one(c, q, (uint32_t)cid, status);
}

/* ================================================================ run loop */

/* Queues commands until submit() stops; one doorbell for the batch. */
static enum nvme_io_more submit_batch(struct nvme_io_run *r)
{
	struct nvme_queue *q = &r->c->io;
	enum nvme_io_more more;
	unsigned submitted = 0;

	while ((more = r->submit(r->job)) == NVME_IO_MORE_QUEUED)
		submitted++;
	if (submitted)
		nvme_io_ring(q);
	return more;
}

/*
 * Hands every completed command to complete(), then frees its slot (bounce
 * copy-out).  The slots' unmaps form one batch: the remapping backend
 * invalidates once for all of them before this returns.
 */
static void finish_completed(struct nvme_io_run *r)
{
	struct nvme_queue *q = &r->c->io;

	dma_unmap_batch_begin(&r->c->dma);
	for (uint32_t i = 0; i < q->entries; i++) {
		struct nvme_slot *s = &q->slots[i];

		if (!s->busy || !s->done)
			continue;
		r->complete(r->job, s->cookie, s->status);
		nvme_io_release(r->c, s);
	}
	dma_unmap_batch_end(&r->c->dma);
}

/* The loop itself: submit, reap, complete, sleep until nothing is in flight. */
static bool run_until_done(struct nvme_io_run *r)
{
	struct nvme_ctrl *c = r->c;
	struct nvme_queue *q = &c->io;
	uint64_t deadline = deadline_after_us(NVME_IO_COMMAND_TIMEOUT_US);
	unsigned reaped;

	for (;;) {
		enum nvme_io_more more = r->failed ? NVME_IO_MORE_FAILED : submit_batch(r);

		r->failed = more == NVME_IO_MORE_FAILED;
		if (q->in_flight == 0 && more == NVME_IO_MORE_NO_ROOM)
			return nvme_step_failed(c, r->step, "no-room-with-nothing-in-flight");
		if (q->in_flight == 0)
			return !r->failed;
		if (!nvme_io_reap(c, q, &reaped)) {
			r->dma_check_failed = true;
			return false;
		}
		if (reaped) {
			finish_completed(r);
			deadline = deadline_after_us(NVME_IO_COMMAND_TIMEOUT_US);
			continue;
		}
		if (deadline_passed(deadline)) {
			r->timed_out = true;
			return nvme_step_failed(c, r->step, "no-completion-for-%" PRIu64 "-us-with-%u-in-flight",
						NVME_IO_COMMAND_TIMEOUT_US, q->in_flight);
		}
		uint64_t before = time_tsc();

		nvme_io_wait_event(q);
		r->wait_ticks += time_tsc() - before;
		r->waits++;
	}
}

bool nvme_io_run_loop(struct nvme_io_run *r)
{
	struct nvme_queue *q = &r->c->io;
	uint64_t sq_before = q->sq_doorbell_writes, cq_before = q->cq_doorbell_writes;
	bool ok = run_until_done(r);

	/* Whenever a run ends the device knows every consumed CQ entry (one write, if any). */
	nvme_io_cq_tell(q);
	r->sq_doorbells = q->sq_doorbell_writes - sq_before;
	r->cq_doorbells = q->cq_doorbell_writes - cq_before;
	return ok;
}

/* ================================================================ status */

void nvme_io_status_failed(struct nvme_ctrl *c, const char *step, uint16_t status)
{
	/* A media error is the device's answer, not a broken controller: no re-bind. */
	nvme_command_failed(c, step, NVME_IO_READ, NVME_IO_QID, status);
	c->failed = false;
}

bool nvme_first_read_tsc(uint64_t *tsc)
{
	*tsc = first_read_tsc;
	return first_read_tsc != 0;
}
