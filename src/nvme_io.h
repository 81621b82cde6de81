/*
 * The NVMe I/O engine: the one place that puts commands on a queue and
 * takes completions off it.  Every path that talks to a queue (admin
 * commands, the lifecycle reads, the benchmark stream, the interrupt proof,
 * the negative tests' raw commands) goes through it.
 *
 * API summary (callers: src/nvme.c and nvme_identify.c through
 * nvme_admin_command(), src/nvme_read.c, and src/tests_negative.c through
 * nvme_raw_command() / nvme_raw_command_built() in nvme.h)
 *
 *   Commands with data
 *     struct nvme_io_cmd   the caller fills sqe (opcode, NSID, command
 *                          dwords: nvme_cmd_*() with a zero PRP), data
 *                          (or dev_buf), bytes, dir, ns (NULL for admin
 *                          data) and cookie.
 *                          The engine owns every address field: it maps
 *                          `data` through the controller's DMA backend for
 *                          the one transfer (dma_map: bounce copy, or page
 *                          tables and an invalidation on unmap), or takes
 *                          `dev_buf`, device memory from dma_alloc_coherent
 *                          or a part of it, as it is (dma_map_buffer: no
 *                          map, no copy; the backend's ledger records the
 *                          transfer), and
 *                          builds PRP1, PRP2 and the PRP-list entries in
 *                          the slot's own list pages, and MPTR from a
 *                          mapping of `md` (separate metadata), all in
 *                          build_addresses() (nvme_io.c).  A command whose
 *                          namespace format needs a pointer the caller gave
 *                          no buffer for (nvme_format_missing_address) or
 *                          whose PRPs cannot be built is REFUSED before it
 *                          reaches the queue, with a named reason
 *                          (c->failure, `nvme: step failed` line).
 *     nvme_io_block_bytes(ns)  bytes one logical block takes in a buffer:
 *                          the unit for buffers, PRPs and the MDTS split.
 *     nvme_io_submit()     queues one command without ringing: QUEUED,
 *                          NO_ROOM (queue or DMA backend full while commands
 *                          are in flight: retry after completions) or
 *                          REFUSED.
 *     nvme_io_ring()       one SQ doorbell for everything queued.
 *     nvme_io_exec()       submit + ring + wait for that one completion.
 *
 *   Raw commands (negative tests: the SQE goes out exactly as built)
 *     nvme_io_exec_raw()   caller's PRPs and caller's mapping (the slot
 *                          owns and unmaps it on completion).
 *
 *   Completions
 *     nvme_io_reap()       consumes every posted CQE, then the DMA
 *                          backend's check; false on an unknown CID or a
 *                          failed check.  The CQ head doorbell is written
 *                          only when the device could otherwise run out of
 *                          CQ room: before a submission that would let the
 *                          consumed-but-untold entries plus the commands in
 *                          flight exceed entries - 1, and when a run loop
 *                          ends (nvme_io_cq_tell()).
 *     nvme_io_wait()       waits for one command (CSTS.CFS and a timeout
 *                          end it); nvme_io_release() unmaps and frees its
 *                          slot.
 *     nvme_io_wait_event() sleeps until an interrupt unless a CQE is there.
 *
 *   Run loop (depth and streaming)
 *     struct nvme_io_run + nvme_io_run_loop(): the caller's submit()
 *     queues commands until the queue, the backend or the work runs out
 *     (one SQ doorbell per batch); complete() sees each finished command
 *     (cookie, status), then its slot is released (the unmap copies bounce
 *     data out, so the buffer holds the data once the loop returns).
 *     Stops on a timeout without progress, a failed DMA check or a refused
 *     command (after draining what is in flight).
 *
 *   Status
 *     nvme_io_status_failed(): a command that completed with an error
 *     status (e.g. a media error) prints `nvme: command failed` but leaves
 *     the controller usable (no re-bind).
 */
#ifndef PROOFBOOT_NVME_IO_H
#define PROOFBOOT_NVME_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma.h"
#include "nvme_cmd.h"

struct nvme_ctrl;
struct nvme_namespace;

#define NVME_IO_QID 1u /* the one I/O queue pair (admin is NVME_ADMIN_QID) */
#define NVME_IO_COMMAND_TIMEOUT_US UINT64_C(10000000)
#define NVME_PRP_LIST_PAGES_MAX 4u /* per command: the builder's bound */

struct nvme_slot {
	bool busy;              /* submitted, completion not yet consumed */
	bool done;              /* completion arrived */
	uint16_t status;        /* status field (CQE status >> 1) */
	struct dma_mapping map; /* data mapping, len 0 when none */
	struct dma_mapping md_map; /* separate metadata mapping (MPTR), len 0 when none */
	struct dma_buffer prp_lists; /* this slot's PRP list pages */
	uint64_t cookie;        /* caller's tag */
};

struct nvme_queue {
	uint16_t qid;
	uint32_t entries;
	struct dma_buffer sq_mem;
	struct dma_buffer cq_mem;
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint32_t sq_tail;
	uint32_t cq_head;
	uint32_t cq_unacked;    /* CQEs consumed since the CQ head doorbell was last written */
	uint8_t phase;
	uint64_t sq_doorbell;   /* MMIO addresses */
	uint64_t cq_doorbell;
	uint64_t sq_doorbell_writes; /* MMIO doorbell writes since the queue was set up */
	uint64_t cq_doorbell_writes;
	uint32_t in_flight;
	uint32_t max_in_flight;
	uint32_t next_slot;
	struct nvme_slot *slots; /* `entries` slots, index = CID */
	size_t prp_list_pages;   /* per slot */
	bool irq_enabled;
	/*
	 * Set by a proof that expects this queue's interrupt NOT to arrive
	 * (interrupt remapping blocks it): waits spin on the CQ with interrupts
	 * on instead of halting, since only the 10 ms watchdog tick would end a
	 * halt.  Interrupts stay enabled, so a delivery is still counted.
	 */
	bool spin_wait;
	uint16_t msix_entry;
	uint8_t vector;
	volatile uint64_t irq_count;
};

/* Queue memory (SQ, CQ, per-slot PRP list pages) from the DMA backend; false when it ran out. */
bool nvme_io_queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid,
			 uint32_t entries, size_t prp_list_pages);
/* Frees it again; only with the controller disabled.  Interrupt routing survives. */
void nvme_io_queue_free(struct nvme_ctrl *c, struct nvme_queue *q);

/* One command and its data buffer; the engine fills the SQE's address fields. */
struct nvme_io_cmd {
	struct nvme_sqe sqe;
	void *data;                      /* caller memory, mapped per transfer; NULL: see dev_buf */
	/*
	 * Device memory (dma_alloc_coherent or dma_buffer_part of it) the
	 * data goes to or comes from instead of `data`: NULL when none.
	 */
	const struct dma_buffer *dev_buf;
	size_t bytes;
	enum dma_dir dir;
	void *md;                        /* separate metadata buffer (MPTR), NULL: none */
	size_t md_bytes;
	const struct nvme_namespace *ns; /* the format of an I/O transfer; NULL for admin data */
	uint64_t cookie;                 /* handed back at completion */
};

enum nvme_io_verdict {
	NVME_IO_QUEUED,
	NVME_IO_NO_ROOM,  /* retry after completions */
	NVME_IO_REFUSED,  /* reported with its reason; the controller is marked failed */
};

uint32_t nvme_io_block_bytes(const struct nvme_namespace *ns);

/* `step` names the failure line of a refusal ("read", "stream", ...). */
enum nvme_io_verdict nvme_io_submit(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
				    struct nvme_io_cmd *cmd, uint32_t *cid);
void nvme_io_ring(struct nvme_queue *q);
/* True when a completion arrived, whatever its status field (*status). */
bool nvme_io_exec(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
		  struct nvme_io_cmd *cmd, uint16_t *status);
/* `map` (may be NULL) is what the caller's PRPs point into; the queue owns it from here. */
bool nvme_io_exec_raw(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
		      struct nvme_sqe *sqe, struct dma_mapping *map, uint16_t *status);

bool nvme_io_cqe_pending(const struct nvme_queue *q);
bool nvme_io_reap(struct nvme_ctrl *c, struct nvme_queue *q, unsigned *reaped);
/* Writes the CQ head doorbell if any consumed entry is still untold. */
void nvme_io_cq_tell(struct nvme_queue *q);
bool nvme_io_wait(struct nvme_ctrl *c, struct nvme_queue *q, uint32_t cid, uint64_t timeout_us);
void nvme_io_wait_event(const struct nvme_queue *q);
void nvme_io_release(struct nvme_ctrl *c, struct nvme_slot *s);

enum nvme_io_more {
	NVME_IO_MORE_QUEUED,   /* one more command queued */
	NVME_IO_MORE_NO_ROOM,  /* try again after completions */
	NVME_IO_MORE_DONE,     /* nothing left to submit */
	NVME_IO_MORE_FAILED,   /* refused (already reported): drain and stop */
};

struct nvme_io_run {
	struct nvme_ctrl *c;
	const char *step;
	void *job;
	enum nvme_io_more (*submit)(void *job);
	void (*complete)(void *job, uint64_t cookie, uint16_t status);
	/* filled in by the loop */
	uint64_t sq_doorbells;   /* SQ tail MMIO writes during the run: one per submitted batch */
	uint64_t cq_doorbells;   /* CQ head MMIO writes during the run: when CQ room needs it, and at the end */
	uint64_t waits;          /* times the CPU slept for a completion ... */
	uint64_t wait_ticks;     /* ... and for how many TSC ticks */
	bool timed_out;
	bool dma_check_failed;
	bool failed;
};

/* Runs the I/O queue until submit() is DONE and nothing is in flight; false on any failure. */
bool nvme_io_run_loop(struct nvme_io_run *r);

/* `nvme: command failed` for an error status on the I/O queue; the controller stays usable. */
void nvme_io_status_failed(struct nvme_ctrl *c, const char *step, uint16_t status);

/* TSC when the first I/O command of this boot completed successfully; false if none yet. */
bool nvme_first_read_tsc(uint64_t *tsc);

#endif
