/*
 * NVMe reads on top of the I/O engine (nvme_io.h): the lifecycle reads
 * (split by MDTS, up to the queue depth in flight, one `nvme: read` line),
 * the benchmark's streaming reads and the interrupt proof.
 */
#ifndef PROOFBOOT_NVME_READ_H
#define PROOFBOOT_NVME_READ_H

#include "nvme.h"

struct nvme_read_stats {
	uint16_t status;          /* first non-success status field, else 0 */
	uint32_t commands;
	uint32_t blocks_per_command;
	uint32_t max_in_flight;
	uint64_t irq_count;       /* interrupts on the I/O queue during the read */
	uint64_t duration_us;
	uint32_t crc32;           /* of the LBA data only */
	uint32_t md_crc32;        /* of the metadata (extended or separate), in LBA order */
	bool md_checked;          /* md_crc32 was computed */
	bool timed_out;
	bool dma_check_failed;
	uint64_t dma_faults;      /* transfers the DMA backend saw blocked during the read */
};

/* Blocks per read command for ns (MDTS over real bytes per block); 0: not even one fits. */
uint32_t nvme_read_max_blocks(const struct nvme_ctrl *c, const struct nvme_namespace *ns,
			      uint32_t chunk_blocks);

/*
 * Reads nblocks from slba into buf (nblocks * nvme_io_block_bytes() bytes;
 * afterwards its first nblocks * lba_size bytes hold the LBA data), split by
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
 * reads into one region, reused as soon as its command completes: a caller
 * buffer (mapped per transfer by the DMA backend), or a region of device
 * memory (dma_map_buffer: no map, no copy); the backend's per-reap check
 * runs either way.  Submission stops after max_bytes or max_us, whichever
 * comes first; what is in flight then completes.  No per-command proof line.
 *
 * The sample (the last command's data, CRC'd afterwards) is data the
 * device wrote: every region is filled with NVME_STREAM_POISON before the
 * first submission (outside the measured time), and a region about to
 * receive the LBAs it already holds (only after the stream wrapped) is
 * filled again first.
 */
/* tools/mkdisk blocks begin with a tag naming their LBA: neither this nor another LBA's data passes */
#define NVME_STREAM_POISON 0xa5

struct nvme_stream_params {
	uint32_t blocks_per_command;
	uint32_t depth;
	uint64_t max_bytes;
	uint64_t max_us;
	uint8_t *buffers;       /* caller memory: buffer_count page-aligned buffers of one command each */
	/* or device memory: buffer_count regions of at least one command each (then buffers is NULL) */
	const struct dma_buffer *device_regions;
	uint32_t buffer_count;
};

struct nvme_stream_result {
	uint64_t bytes;            /* read by successful commands */
	uint64_t commands;
	uint64_t duration_us;      /* first submission to last completion (calibrated TSC) */
	uint32_t max_in_flight;
	const char *stopped_by;    /* "bytes" (max_bytes) or "time" (max_us) */
	const char *limited_by;    /* why the depth was never reached, NULL when it was:
				    * "buffers" / "device-memory" (fewer regions than the depth) ... */
	uint64_t sq_doorbells;     /* MMIO writes: one per submitted batch ... */
	uint64_t cq_doorbells;     /* ... and CQ head writes when CQ room needs one, and at the end */
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

/*
 * Submits one single-block read through the I/O engine (a read it cannot
 * build is refused, never sent) and waits for the I/O queue's interrupt
 * alone (the CQ is not polled until it arrives), then checks the CQE.
 */
bool nvme_prove_interrupt(struct nvme_ctrl *c, const struct nvme_namespace *ns);

#endif
