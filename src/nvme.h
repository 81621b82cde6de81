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
#include "proof.h"
#include "dma.h"
#include "nvme_cmd.h"
#include "nvme_format.h"
#include "nvme_ident.h"
#include "nvme_io.h"
#include "pci.h"

#define NVME_MAX_CONTROLLERS 8
#define NVME_MAX_NAMESPACES 16
#define NVME_FAILURE_MAX 160

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

struct nvme_namespace {
	uint32_t nsid;
	bool usable;            /* identify parsed and validated, and a shape the firmware reads */
	struct nvme_id_ns_info id;
	struct nvme_ns_format fmt; /* how a read moves its blocks (metadata, PRINFO) */
	uint8_t csi;            /* command set (CNS 03h; NVM when no descriptor says otherwise) */
	bool csi_reported;      /* a CSI descriptor was returned */
	struct nvme_zns_info zns; /* zone size and count when csi is zoned */
	const char *skip_reason; /* well-formed but not read (format or command set), else NULL */
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
	struct nvme_nsid_ranges ns_active; /* every active NSID, as ranges (printed) */
	uint32_t ns_unusable;     /* namespaces whose identify data failed validation */
	uint32_t ns_skipped;      /* well-formed namespaces of a shape the firmware does not read */
	struct nvme_cmb_info cmb; /* controller memory buffer (reported, never used) */
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
/*
 * The same for a well-formed command whose addresses the I/O engine builds
 * (cmd->data mapped, PRPs written into cmd->sqe, where the caller can
 * print them afterwards).  A command the engine refuses is not sent.
 */
bool nvme_raw_command_built(struct nvme_ctrl *c, uint16_t qid, struct nvme_io_cmd *cmd,
			    uint16_t *status);

/*
 * The I/O queue's MSI-X entry gets this message instead of the driver's
 * (an interrupt-remapping proof: a remappable-format address and data);
 * false when the queue does not use MSI-X.  nvme_msix_restore puts the
 * driver's compatibility-format message back.
 */
bool nvme_msix_message(struct nvme_ctrl *c, uint64_t addr, uint32_t data);
void nvme_msix_restore(struct nvme_ctrl *c);

/* Deletes the I/O queues and performs a normal shutdown (CC.SHN). */
bool nvme_shutdown(struct nvme_ctrl *c);

/* For the driver's own files (nvme_identify.c, nvme_io.c, nvme_read.c, nvme_classify.c). */
void nvme_line_begin(struct proof *p, const struct nvme_ctrl *c, const char *event);
/* Every failed step ends here: one `nvme: step failed` line, the controller marked failed. */
bool nvme_step_failed(struct nvme_ctrl *c, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* `nvme: command failed` for an error status; marks the controller failed. */
bool nvme_command_failed(struct nvme_ctrl *c, const char *step, uint8_t opcode, uint16_t qid,
			 uint16_t status_field);
/*
 * One admin command, optionally with a data buffer (the I/O engine maps it
 * and builds its PRPs).  *status receives the status field (0 on success).
 * `quiet_status` leaves reporting a failed status to the caller.
 */
bool nvme_admin_command(struct nvme_ctrl *c, const char *step, struct nvme_sqe *sqe, void *buf,
			size_t len, enum dma_dir dir, bool quiet_status, uint16_t *status);
/* Identify Controller, the active namespaces and each namespace (stage identified). */
bool nvme_identify_all(struct nvme_ctrl *c);

#endif
