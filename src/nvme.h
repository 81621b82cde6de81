/*
 * NVMe controller driver (PCIe transport, NVM command set, reads only).
 *
 * Bring-up is staged so each test can ask for what it needs and every step
 * prints its proof line exactly once per bring-up:
 *
 *   bound      PCI checks, CAP checks, reset, MSI-X, admin queues, CC.EN
 *   identified Identify Controller, active NSID list, Identify Namespace
 *   io-ready   I/O CQ then I/O SQ, sized from CAP.MQES
 *
 * Every device-visible address comes from the DMA backend (dma.h).
 */
#ifndef PROOFBOOT_NVME_H
#define PROOFBOOT_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud_shape.h"
#include "dma.h"
#include "nvme_cmd.h"
#include "pci.h"

#define NVME_MAX_CONTROLLERS 8
#define NVME_MAX_NAMESPACES 16
#define NVME_FAILURE_MAX 160
#define NVME_IO_QID 1u /* the one I/O queue pair (admin is NVME_ADMIN_QID) */

enum nvme_stage {
	NVME_STAGE_NONE = 0,
	NVME_STAGE_BOUND,
	NVME_STAGE_IDENTIFIED,
	NVME_STAGE_IO_READY,
};

enum nvme_irq_mode {
	NVME_IRQ_POLL = 0,
	NVME_IRQ_MSIX,
};

struct nvme_slot {
	bool busy;              /* submitted, completion not yet consumed */
	bool done;              /* completion arrived */
	uint16_t status;        /* status field (CQE status >> 1) */
	struct dma_mapping map; /* data mapping, len 0 when none */
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
	uint8_t phase;
	uint64_t sq_doorbell;   /* MMIO addresses */
	uint64_t cq_doorbell;
	uint32_t in_flight;
	uint32_t max_in_flight;
	uint32_t next_slot;
	struct nvme_slot *slots; /* `entries` slots, index = CID */
	size_t prp_list_pages;   /* per slot */
	bool irq_enabled;
	uint16_t msix_entry;
	uint8_t vector;
	volatile uint64_t irq_count;
};

struct nvme_namespace {
	uint32_t nsid;
	bool usable;            /* identify parsed and validated */
	struct nvme_id_ns_info id;
};

struct nvme_ctrl {
	const struct pci_device *pci;
	char bdf[PCI_BDF_STR_LEN];
	uint64_t bar0;
	uint64_t bar0_size;
	uint64_t cap;
	uint32_t vs;
	uint32_t dstrd;
	uint32_t mps_min_bytes;
	uint32_t page_size;
	uint64_t ready_timeout_us;
	struct dma_device dma;
	struct cloud_shape shape;
	enum nvme_irq_mode irq_mode;
	const char *irq_reason;
	uint16_t msix_cap;
	struct pci_msix_info msix;
	uint64_t msix_table;
	struct nvme_queue admin;
	struct nvme_queue io;
	struct nvme_id_ctrl_info id;
	uint32_t max_transfer_bytes;
	struct nvme_namespace ns[NVME_MAX_NAMESPACES];
	size_t ns_count;
	uint32_t ns_active_total; /* active NSIDs reported, even beyond NVME_MAX_NAMESPACES */
	uint32_t ns_unusable;     /* namespaces whose identify data failed validation */
	enum nvme_stage stage;
	bool failed;              /* a step failed: stays failed until the next bring-up */
	bool in_operation;        /* set while talking to the device: true at entry = interrupted */
	bool bring_up_attempted;  /* some test asked for this controller (see nvme_coverage.c) */
	char failure[NVME_FAILURE_MAX];
};

/* Finds NVMe controllers by PCI class 01/08/02 (enumerating PCI if needed). */
size_t nvme_probe(void);
struct nvme_ctrl *nvme_controller(size_t index);

/*
 * Brings the controller to `stage` with backend `ops`, doing only the
 * missing steps (a different backend, an earlier failure, an interrupted
 * operation or a shutdown restart from the reset).  False with c->failure.
 */
bool nvme_bring_up(struct nvme_ctrl *c, const struct dma_backend_ops *ops, enum nvme_stage stage);

/* Prints `nvme: cloud shape classification` (and the EBS line on EBS volumes). */
void nvme_report_classification(struct nvme_ctrl *c);

struct nvme_read_stats {
	uint16_t status;          /* first non-success status field, else 0 */
	uint32_t commands;
	uint32_t blocks_per_command;
	uint32_t max_in_flight;
	uint64_t irq_count;       /* interrupts on the I/O queue during the read */
	uint64_t duration_us;
	uint32_t crc32;
	bool timed_out;
	bool dma_check_failed;
	uint64_t dma_faults;      /* transfers the DMA backend saw blocked during the read */
};

/*
 * Reads nblocks from slba into buf (nblocks * lba_size bytes), split by
 * MDTS, with up to the queue depth of commands in flight, and prints the
 * `nvme: read` line.  True when every command succeeded and the DMA checks
 * held.
 */
bool nvme_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
	       uint64_t nblocks, void *buf, const char *purpose, struct nvme_read_stats *st);
/* The same with commands of at most chunk_blocks blocks (0 = as large as allowed). */
bool nvme_read_chunked(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
		       uint64_t nblocks, void *buf, uint32_t chunk_blocks, const char *purpose,
		       struct nvme_read_stats *st);

/*
 * Streaming reads (the benchmark): sequential commands of one size from
 * LBA 0, wrapping at the end of the namespace, with up to `depth` of them
 * kept in flight and the SQ doorbell rung once per batch.  Each command
 * reads into one of the caller's buffers, reused as soon as its command
 * completes; data still goes through the DMA backend (and its per-reap
 * check).  Submission stops after max_bytes or max_us, whichever comes
 * first; what is in flight then completes.  No per-command proof line.
 */
struct nvme_stream_params {
	uint32_t blocks_per_command;
	uint32_t depth;
	uint64_t max_bytes;
	uint64_t max_us;
	uint8_t *buffers;       /* buffer_count page-aligned buffers of one command each */
	uint32_t buffer_count;
};

struct nvme_stream_result {
	uint64_t bytes;            /* read by successful commands */
	uint64_t commands;
	uint64_t duration_us;      /* first submission to last completion (calibrated TSC) */
	uint32_t max_in_flight;
	const char *stopped_by;    /* "bytes" (max_bytes) or "time" (max_us) */
	const char *limited_by;    /* why the depth was never reached, NULL when it was */
	uint64_t sq_doorbells;     /* MMIO writes: one per submitted batch ... */
	uint64_t cq_doorbells;     /* ... and one per reaped batch */
	uint64_t irq_count;
	uint64_t waits;            /* times the CPU slept for a completion ... */
	uint64_t wait_us;          /* ... and for how long in all */
	uint64_t mmio_accesses;    /* every register access (doorbells, IOMMU, ...) */
	uint16_t status;           /* first non-success status field, else 0 */
	bool timed_out;
	bool dma_check_failed;
	uint64_t dma_faults;
	/* The last command submitted: its LBAs and the CRC-32 of what it read. */
	uint64_t sample_lba;
	uint32_t sample_blocks;
	uint32_t sample_crc32;
};

/* True when every command succeeded, no transfer was blocked and the DMA checks held. */
bool nvme_stream_read(struct nvme_ctrl *c, const struct nvme_namespace *ns,
		      const struct nvme_stream_params *p, struct nvme_stream_result *r);

/* TSC when the first read command of this boot completed successfully; false if none yet. */
bool nvme_first_read_tsc(uint64_t *tsc);

/*
 * Submits one single-block read and waits for the I/O queue's interrupt
 * alone (the CQ is not polled until it arrives), then checks the CQE.
 */
bool nvme_prove_interrupt(struct nvme_ctrl *c, const struct nvme_namespace *ns);

/*
 * Raw hooks for the negative tests (src/tests_negative.c): they send the
 * device exactly what the caller built, print nothing, and leave judging
 * the outcome to the caller.  Queue handling stays the driver's.
 */
struct nvme_raw_enable {
	uint32_t cc;         /* the value written with EN=1 */
	uint32_t csts;       /* the last CSTS read */
	bool ready;          /* CSTS.RDY=1 within CAP.TO */
	bool cfs;            /* CSTS.CFS=1 (the device refused the configuration) */
	uint64_t waited_us;
};

/*
 * Disables the bound controller, writes the bring-up's CC value with
 * `cc_clear` bits cleared and `cc_set` bits set (e.g. a wrong IOSQES), sets
 * EN and waits for RDY or CFS within CAP.TO.  The driver's queues are
 * forgotten: the next nvme_bring_up binds again from the reset.
 */
bool nvme_raw_enable(struct nvme_ctrl *c, uint32_t cc_clear, uint32_t cc_set,
		     struct nvme_raw_enable *r);

/* Clears CC.EN and waits for CSTS.RDY=0 within CAP.TO; *csts gets the last CSTS. */
bool nvme_raw_disable(struct nvme_ctrl *c, uint32_t *csts);

/*
 * Submits `sqe` as built (opcode, NSID, PRPs, command dwords; only the CID
 * is filled in) on the idle queue `qid` (0 admin, 1 I/O) and waits for its
 * completion.  `map` (may be NULL) is the mapping the PRPs point into; the
 * queue owns it from here and unmaps it when the command completes.  True
 * when a completion arrived, whatever its status field (*status).
 */
bool nvme_raw_command(struct nvme_ctrl *c, uint16_t qid, struct nvme_sqe *sqe,
		      struct dma_mapping *map, uint16_t *status);

/* Deletes the I/O queues and performs a normal shutdown (CC.SHN). */
bool nvme_shutdown(struct nvme_ctrl *c);

#endif
