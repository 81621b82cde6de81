/*
 * NVMe driver: one controller at a time, admin queue plus one I/O queue
 * pair, MSI-X completions with a polling fallback.  Named register fields
 * live in src/lib/nvme_defs.h, command encoding in src/lib/nvme_cmd.c.
 *
 * Order of bring-up (each step one proof line, see docs/proof-lines.md):
 *   PCI (memory space + bus master, BAR0 sane) -> CAP/VS checks ->
 *   reset if enabled (SeaBIOS leaves CC.EN=1) -> MSI-X before CC.EN ->
 *   AQA/ASQ/ACQ -> CC.EN, wait RDY or CFS within CAP.TO ->
 *   Identify Controller -> active NSID list -> Identify Namespace each ->
 *   Create I/O CQ then I/O SQ.
 */
#include "nvme.h"

#include "crc32.h"
#include "io.h"
#include "irq.h"
#include "mmio.h"
#include "paging.h"
#include "pmem.h"
#include "proof.h"
#include "timer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVME_ADMIN_ENTRIES       32u
#define NVME_IO_QUEUE_ENTRIES    128u   /* capped further by CAP.MQES */
#define NVME_MAX_TRANSFER_BYTES  (1u << 20) /* per command, when MDTS allows more */
#define NVME_MSIX_ADMIN_ENTRY    0u
#define NVME_MSIX_IO_ENTRY       1u
#define NVME_MSIX_ENTRIES_NEEDED 2u
#define NVME_COMMAND_TIMEOUT_US  UINT64_C(10000000)
#define NVME_SHUTDOWN_TIMEOUT_US UINT64_C(10000000)
#define NVME_POLL_DELAY_US       10u
#define NVME_VS_1_1              0x00010100u /* CNS 02h (active NSID list) exists from 1.1 */
#define NVME_WORST_PRP1_OFFSET   (PAGE_SIZE - 4u) /* PRP1 offsets are dword aligned */
#define US_PER_MS                1000u
#define NVME_PRP_LIST_PAGES_MAX  4u

static struct nvme_ctrl controllers[NVME_MAX_CONTROLLERS];
static size_t controller_count;
static bool probed;
/* TSC at the first successful completion on an I/O queue (only reads go there). */
static uint64_t first_read_tsc;

/* ================================================================ lines */

static void line_begin(struct proof *p, const struct nvme_ctrl *c, const char *event)
{
	proof_begin(p, "nvme", event);
	proof_str(p, "bdf", c->bdf);
}

static void add_status(struct proof *p, uint16_t status_field)
{
	struct nvme_status_info info;

	nvme_status_decode(status_field, &info);
	proof_hex(p, "status", info.code, 3);
	proof_str(p, "status_name", info.name);
	proof_str(p, "sct", info.sct_name);
	proof_bool(p, "dnr", info.dnr);
	proof_bool(p, "more", info.more);
}

/* Every failed step ends here: one clear line, the controller marked failed. */
static bool step_failed(struct nvme_ctrl *c, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool step_failed(struct nvme_ctrl *c, const char *step, const char *fmt, ...)
{
	struct proof p;
	va_list ap;
	char reason[NVME_FAILURE_MAX];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(c->failure, sizeof(c->failure), "%s: %s", step, reason);
	c->failed = true;
	line_begin(&p, c, "step failed");
	proof_str(&p, "step", step);
	proof_str(&p, "reason", reason);
	proof_emit(&p);
	return false;
}

static bool command_failed(struct nvme_ctrl *c, const char *step, uint8_t opcode, uint16_t qid,
			   uint16_t status_field)
{
	struct proof p;

	snprintf(c->failure, sizeof(c->failure), "%s: status 0x%03x %s", step,
		 nvme_status_code(status_field), nvme_status_name(status_field));
	c->failed = true;
	line_begin(&p, c, "command failed");
	proof_str(&p, "step", step);
	proof_hex(&p, "opcode", opcode, 2);
	proof_u64(&p, "qid", qid);
	add_status(&p, status_field);
	proof_emit(&p);
	return false;
}

/* ================================================================ registers */

static uint32_t reg_read32(const struct nvme_ctrl *c, uint32_t off)
{
	return mmio_read32(c->bar0 + off);
}

static void reg_write32(const struct nvme_ctrl *c, uint32_t off, uint32_t value)
{
	mmio_write32(c->bar0 + off, value);
}

static uint64_t reg_read64(const struct nvme_ctrl *c, uint32_t off)
{
	/* Two dword reads: not every controller accepts 64-bit MMIO. */
	uint64_t lo = mmio_read32(c->bar0 + off);
	uint64_t hi = mmio_read32(c->bar0 + off + 4);

	return lo | (hi << 32);
}

static void reg_write64(const struct nvme_ctrl *c, uint32_t off, uint64_t value)
{
	mmio_write32(c->bar0 + off, (uint32_t)value);
	mmio_write32(c->bar0 + off + 4, (uint32_t)(value >> 32));
}

/* Waits until (CSTS & mask) == want, CFS or the deadline; returns the last CSTS. */
static bool wait_csts(struct nvme_ctrl *c, uint32_t mask, uint32_t want, uint64_t timeout_us,
		      bool stop_on_cfs, uint32_t *csts, uint64_t *waited_us)
{
	uint64_t start = time_now_us(), deadline = start + timeout_us;

	for (;;) {
		*csts = reg_read32(c, NVME_REG_CSTS);
		*waited_us = time_now_us() - start;
		if (*csts == NVME_REG_READ_FAILED)
			return false;
		if ((*csts & mask) == want)
			return true;
		if (stop_on_cfs && (*csts & NVME_CSTS_CFS))
			return false;
		if (deadline_passed(deadline))
			return false;
		time_delay_us(NVME_POLL_DELAY_US);
	}
}

/* ================================================================ probe */

size_t nvme_probe(void)
{
	size_t count;
	const struct pci_device *devs;

	if (probed)
		return controller_count;
	pci_enumerate();
	devs = pci_devices(&count);
	for (size_t i = 0; i < count && controller_count < NVME_MAX_CONTROLLERS; i++) {
		if (!cloud_pci_is_nvme(devs[i].class_code, devs[i].subclass, devs[i].prog_if))
			continue;
		struct nvme_ctrl *c = &controllers[controller_count++];

		memset(c, 0, sizeof(*c));
		c->pci = &devs[i];
		pci_bdf_format(devs[i].bdf, c->bdf);
		/* The ids describe, never select: classification only sets the DMA limit here. */
		cloud_shape_classify(devs[i].vendor, devs[i].device, NULL, &c->shape);
	}
	probed = true;
	return controller_count;
}

struct nvme_ctrl *nvme_controller(size_t index)
{
	return index < controller_count ? &controllers[index] : NULL;
}

/* ================================================================ PCI + CAP */

static bool check_pci(struct nvme_ctrl *c)
{
	const struct pci_bar *bar = pci_find_bar(c->pci, 0);
	struct proof p;

	if (!bar)
		return step_failed(c, "pci", "bar0-not-implemented");
	if (bar->kind == PCI_BAR_KIND_IO)
		return step_failed(c, "pci", "bar0-is-io-space");
	if (bar->state != PCI_BAR_OK)
		return step_failed(c, "pci", "bar0-%s", pci_bar_state_name(bar->state));
	if (bar->size < NVME_BAR0_MIN_SIZE)
		return step_failed(c, "pci", "bar0-size-0x%" PRIx64 "-too-small", bar->size);
	if (!pci_enable_command(c->pci->bdf, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return step_failed(c, "pci", "memory-space-or-bus-master-did-not-stick");
	if (!paging_map_mmio(bar->address, bar->size))
		return step_failed(c, "pci", "bar0-could-not-be-mapped");
	c->bar0 = bar->address;
	c->bar0_size = bar->size;

	line_begin(&p, c, "controller");
	proof_hex(&p, "vendor", c->pci->vendor, 4);
	proof_hex(&p, "device", c->pci->device, 4);
	proof_str(&p, "selected_by", "pci-class");
	proof_hex(&p, "bar0", c->bar0, 1);
	proof_hex(&p, "bar0_size", c->bar0_size, 1);
	proof_str(&p, "bar0_kind", pci_bar_kind_name(bar->kind));
	proof_hex(&p, "command", pci_read16(c->pci->bdf, PCI_COMMAND), 4);
	proof_bool(&p, "memory_space", true);
	proof_bool(&p, "bus_master", true);
	proof_emit(&p);
	return true;
}

static bool check_cap(struct nvme_ctrl *c)
{
	struct proof p;
	uint64_t cap = reg_read64(c, NVME_REG_CAP);
	uint32_t mpsmin = NVME_MPS_SHIFT_BASE + NVME_CAP_MPSMIN(cap);
	uint32_t mpsmax = NVME_MPS_SHIFT_BASE + NVME_CAP_MPSMAX(cap);
	const char *problem = NULL;

	c->cap = cap;
	c->vs = reg_read32(c, NVME_REG_VS);
	c->dstrd = NVME_CAP_DSTRD(cap);
	c->mps_min_bytes = 1u << mpsmin;
	c->page_size = PAGE_SIZE;
	c->ready_timeout_us = (uint64_t)NVME_CAP_TO(cap) * NVME_CAP_TO_UNIT_MS * US_PER_MS;

	if (cap == UINT64_MAX)
		problem = "cap-reads-all-ones";
	else if (!(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM))
		problem = "nvm-command-set-not-supported";
	else if ((1u << mpsmin) > PAGE_SIZE || (1ull << mpsmax) < PAGE_SIZE)
		problem = "4KiB-pages-outside-mpsmin-mpsmax";
	else if (NVME_CAP_MQES(cap) < 1)
		problem = "mqes-below-2-entries";
	else if (NVME_CAP_TO(cap) == 0)
		problem = "ready-timeout-zero";

	line_begin(&p, c, "cap");
	proof_hex(&p, "cap", cap, 16);
	proof_u64(&p, "mqes", NVME_CAP_MQES(cap));
	proof_bool(&p, "cqr", NVME_CAP_CQR(cap));
	proof_u64(&p, "dstrd", c->dstrd);
	proof_u64(&p, "doorbell_stride", NVME_DOORBELL_STRIDE(c->dstrd));
	proof_u64(&p, "timeout_ms", c->ready_timeout_us / US_PER_MS);
	proof_bool(&p, "css_nvm", NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM);
	proof_u64(&p, "mpsmin", 1ull << mpsmin);
	proof_u64(&p, "mpsmax", 1ull << mpsmax);
	proof_u64(&p, "page_size", c->page_size);
	proof_hex(&p, "vs", c->vs, 8);
	proof_u64(&p, "vs_major", NVME_VS_MAJOR(c->vs));
	proof_u64(&p, "vs_minor", NVME_VS_MINOR(c->vs));
	proof_bool(&p, "ok", problem == NULL);
	proof_emit(&p);
	return problem ? step_failed(c, "cap", "%s", problem) : true;
}

/* ================================================================ reset / enable */

static bool reset_controller(struct nvme_ctrl *c)
{
	uint32_t cc = reg_read32(c, NVME_REG_CC);
	uint32_t csts = reg_read32(c, NVME_REG_CSTS);
	bool was_enabled = (cc & NVME_CC_EN) || (csts & NVME_CSTS_RDY);
	uint64_t waited = 0;
	bool ok = true;
	struct proof p;

	if (was_enabled) {
		reg_write32(c, NVME_REG_CC, cc & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
		ok = wait_csts(c, NVME_CSTS_RDY, 0, c->ready_timeout_us, false, &csts, &waited);
	}
	line_begin(&p, c, "reset");
	proof_bool(&p, "was_enabled", was_enabled);
	proof_hex(&p, "cc_before", cc, 8);
	proof_hex(&p, "csts", csts, 8);
	proof_u64(&p, "waited_us", waited);
	proof_bool(&p, "ok", ok);
	proof_emit(&p);
	if (!ok)
		return step_failed(c, "reset", "csts.rdy-still-1-after-%" PRIu64 "-us", waited);
	return true;
}

static void nvme_irq_handler(uint8_t vector, void *ctx)
{
	struct nvme_queue *q = ctx;

	(void)vector;
	q->irq_count++;
}

static void program_msix_entry(struct nvme_ctrl *c, uint16_t entry, uint8_t vector)
{
	uint64_t e = c->msix_table + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE;
	uint64_t addr = irq_msi_address();

	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	mmio_write32(e + PCI_MSIX_ENTRY_DATA, irq_msi_data(vector));
	mmio_write32(e + PCI_MSIX_ENTRY_CTRL, 0); /* unmasked */
}

/* Finds MSI-X and its table; returns a reason string when polling must be used. */
static const char *locate_msix(struct nvme_ctrl *c)
{
	const struct pci_cap *cap = pci_cap_find(c->pci->caps, c->pci->cap_count, PCI_CAP_ID_MSIX, false);

	if (!cap)
		return "no-msix-capability";
	c->msix_cap = cap->offset;
	uint8_t img[PCI_CFG_SIZE];

	for (unsigned off = 0; off < PCI_CFG_SIZE; off += 4) {
		uint32_t v = pci_read32(c->pci->bdf, (uint16_t)off);

		memcpy(img + off, &v, sizeof(v));
	}
	pci_msix_decode(img, sizeof(img), cap->offset, &c->msix);
	if (c->msix.table_size < NVME_MSIX_ENTRIES_NEEDED)
		return "msix-table-too-small";
	const struct pci_bar *bar = pci_find_bar(c->pci, c->msix.table_bir);

	if (!bar || bar->kind == PCI_BAR_KIND_IO || bar->state != PCI_BAR_OK)
		return "msix-table-bar-unusable";
	if (c->msix.table_offset + (uint64_t)c->msix.table_size * PCI_MSIX_ENTRY_SIZE > bar->size)
		return "msix-table-outside-bar";
	if (!paging_map_mmio(bar->address, bar->size))
		return "msix-table-bar-unmapped";
	c->msix_table = bar->address + c->msix.table_offset;
	return NULL;
}

static bool allocate_vector(struct nvme_queue *q)
{
	if (q->vector == 0)
		q->vector = irq_alloc_vector(nvme_irq_handler, q);
	return q->vector != 0;
}

/* MSI-X must be on before CC.EN (admin CQ vector) and before Create I/O CQ. */
static void setup_interrupts(struct nvme_ctrl *c)
{
	const char *why_poll = locate_msix(c);
	struct proof p;

	if (!why_poll && (!allocate_vector(&c->admin) || !allocate_vector(&c->io)))
		why_poll = "no-free-cpu-vector";
	if (!why_poll) {
		program_msix_entry(c, NVME_MSIX_ADMIN_ENTRY, c->admin.vector);
		program_msix_entry(c, NVME_MSIX_IO_ENTRY, c->io.vector);
		uint16_t flags = pci_read16(c->pci->bdf, c->msix_cap + PCI_MSIX_FLAGS);

		flags = (uint16_t)((flags | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
		pci_write16(c->pci->bdf, c->msix_cap + PCI_MSIX_FLAGS, flags);
		if (!(pci_read16(c->pci->bdf, c->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE))
			why_poll = "msix-enable-did-not-stick";
	}
	pci_enable_command(c->pci->bdf, PCI_COMMAND_INTX_DISABLE);
	c->irq_mode = why_poll ? NVME_IRQ_POLL : NVME_IRQ_MSIX;
	c->irq_reason = why_poll ? why_poll : "msix-enabled-before-cc.en";
	c->admin.msix_entry = NVME_MSIX_ADMIN_ENTRY;
	c->io.msix_entry = NVME_MSIX_IO_ENTRY;

	line_begin(&p, c, "interrupts");
	proof_str(&p, "mode", c->irq_mode == NVME_IRQ_MSIX ? "msix" : "poll");
	proof_str(&p, "reason", c->irq_reason);
	if (c->msix_cap) {
		proof_u64(&p, "msix_table_size", c->msix.table_size);
		proof_u64(&p, "table_bir", c->msix.table_bir);
		proof_hex(&p, "table_offset", c->msix.table_offset, 1);
	}
	if (c->irq_mode == NVME_IRQ_MSIX) {
		proof_hex(&p, "admin_vector", c->admin.vector, 2);
		proof_hex(&p, "io_vector", c->io.vector, 2);
	}
	proof_emit(&p);
}

/* ================================================================ queues */

/* Ends a slot's data mapping (data reaches the caller's buffer) and frees it for reuse. */
static void slot_release(struct nvme_ctrl *c, struct nvme_slot *s)
{
	if (s->map.len)
		dma_unmap(&c->dma, &s->map);
	s->map.len = 0;
	s->busy = false;
	s->done = false;
}

static void queue_free(struct nvme_ctrl *c, struct nvme_queue *q)
{
	if (q->slots) {
		/* Called with the controller disabled: no command can still move data. */
		for (uint32_t i = 0; i < q->entries; i++) {
			slot_release(c, &q->slots[i]);
			dma_free_coherent(&c->dma, &q->slots[i].prp_lists);
		}
		free(q->slots);
	}
	dma_free_coherent(&c->dma, &q->sq_mem);
	dma_free_coherent(&c->dma, &q->cq_mem);
	uint8_t vector = q->vector;
	uint16_t msix_entry = q->msix_entry;
	uint64_t irqs = q->irq_count;

	memset(q, 0, sizeof(*q));
	q->vector = vector; /* vectors stay allocated to this queue across bring-ups */
	q->msix_entry = msix_entry;
	q->irq_count = irqs;
}

static bool queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid, uint32_t entries,
			size_t prp_list_pages)
{
	uint8_t vector = q->vector;
	uint16_t msix_entry = q->msix_entry;
	uint64_t irqs = q->irq_count;

	memset(q, 0, sizeof(*q));
	q->vector = vector; /* interrupt routing is set up before the queues exist */
	q->msix_entry = msix_entry;
	q->irq_count = irqs;
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
static int queue_free_slot(const struct nvme_queue *q)
{
	if (q->in_flight + 1 >= q->entries)
		return -1; /* a full queue keeps one entry empty */
	uint32_t cid = q->next_slot;

	while (q->slots[cid].busy)
		cid = (cid + 1) % q->entries;
	return (int)cid;
}

/*
 * Copies an SQE into the next SQ entry as command `cid` (from
 * queue_free_slot); the doorbell is rung separately so batches ring once.
 * The slot owns `map` from here on.
 */
static void queue_submit(struct nvme_queue *q, uint32_t cid, struct nvme_sqe *sqe,
			 const struct dma_mapping *map, uint64_t cookie)
{
	struct nvme_slot *s = &q->slots[cid];

	q->next_slot = (cid + 1) % q->entries;

	s->busy = true;
	s->done = false;
	s->status = 0;
	s->cookie = cookie;
	s->map = map ? *map : (struct dma_mapping){ 0 };
	sqe->cid = (uint16_t)cid;
	memcpy(&q->sq[q->sq_tail], sqe, sizeof(*sqe));
	q->sq_tail = (q->sq_tail + 1) % q->entries;
	if (++q->in_flight > q->max_in_flight)
		q->max_in_flight = q->in_flight;
}

static void queue_ring(struct nvme_queue *q)
{
	wmb(); /* SQEs (and PRP lists, bounce data) before the doorbell */
	mmio_write32(q->sq_doorbell, q->sq_tail);
}

static bool cqe_pending(const struct nvme_queue *q)
{
	return (q->cq[q->cq_head].status & NVME_CQE_PHASE) == q->phase;
}

/*
 * Consumes every posted CQE; each completion is followed by the DMA
 * backend's check.  Returns false on a protocol error (unknown CID) or a
 * failed DMA check.
 */
static bool queue_reap(struct nvme_ctrl *c, struct nvme_queue *q, unsigned *reaped)
{
	bool ok = true;
	char why[DMA_REASON_MAX];

	*reaped = 0;
	while (cqe_pending(q)) {
		rmb(); /* the phase bit before the rest of the entry */
		struct nvme_cqe cqe = *(const struct nvme_cqe *)&q->cq[q->cq_head];

		if (++q->cq_head == q->entries) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		if (cqe.cid >= q->entries || !q->slots[cqe.cid].busy || q->slots[cqe.cid].done) {
			ok = step_failed(c, "completion", "qid-%u-unexpected-cid-%u", q->qid, cqe.cid);
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
		mmio_write32(q->cq_doorbell, q->cq_head);
		if (!dma_check(&c->dma, why, sizeof(why)))
			ok = step_failed(c, "dma-check", "%s", why);
	}
	return ok;
}

/* Sleeps until an interrupt (ours or the runner's tick) unless a CQE is already there. */
static void wait_for_event(const struct nvme_queue *q)
{
	if (!q->irq_enabled) {
		time_delay_us(NVME_POLL_DELAY_US);
		return;
	}
	irq_disable();
	if (cqe_pending(q)) {
		irq_enable();
		return;
	}
	__asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow makes the pair atomic */
}


static bool wait_slot(struct nvme_ctrl *c, struct nvme_queue *q, uint32_t cid, uint64_t timeout_us)
{
	uint64_t deadline = deadline_after_us(timeout_us);
	unsigned reaped;

	while (!q->slots[cid].done) {
		if (!queue_reap(c, q, &reaped))
			return false;
		if (q->slots[cid].done)
			break;
		if (deadline_passed(deadline))
			return step_failed(c, "completion", "qid-%u-cid-%u-timeout-after-%" PRIu64 "-us",
					   q->qid, cid, timeout_us);
		uint32_t csts = reg_read32(c, NVME_REG_CSTS);

		if (csts & NVME_CSTS_CFS)
			return step_failed(c, "completion", "controller-fatal-status-csts-0x%08x", csts);
		wait_for_event(q);
	}
	return true;
}

/*
 * Submits one command on `q` and waits for its completion.  The
 * slot owns `map` (may be NULL) from here: it is unmapped when the command
 * completes, or now when the queue is full.  *status receives the status
 * field; true when a completion arrived, whatever its status.
 */
static bool submit_and_wait(struct nvme_ctrl *c, struct nvme_queue *q, const char *step,
			    struct nvme_sqe *sqe, struct dma_mapping *map, uint16_t *status)
{
	int cid = queue_free_slot(q);

	*status = 0;
	if (cid < 0) {
		if (map)
			dma_unmap(&c->dma, map);
		return step_failed(c, step, q->qid == NVME_ADMIN_QID ? "admin-queue-full" :
								 "io-queue-full");
	}
	queue_submit(q, (uint32_t)cid, sqe, map, 0);
	queue_ring(q);
	if (!wait_slot(c, q, (uint32_t)cid, NVME_COMMAND_TIMEOUT_US))
		return false; /* the slot keeps its mapping: the device may still write into it */
	*status = q->slots[cid].status;
	slot_release(c, &q->slots[cid]);
	return true;
}

/*
 * One admin command, optionally with a data buffer of up to one page pair.
 * *status receives the status field (0 on success).  `quiet_status` leaves
 * reporting a failed status to the caller (for commands allowed to fail).
 */
static bool admin_command(struct nvme_ctrl *c, const char *step, struct nvme_sqe *sqe, void *buf,
			  size_t len, enum dma_dir dir, bool quiet_status, uint16_t *status)
{
	struct dma_mapping map = { 0 };
	struct nvme_prp prp = { 0 };

	*status = 0;
	if (buf) {
		if (!dma_map(&c->dma, buf, len, dir, &map))
			return step_failed(c, step, "dma-map-of-%lu-bytes-failed", (unsigned long)len);
		enum nvme_prp_error e = nvme_prp_build(map.dev, len, c->page_size, NULL, 0, &prp, NULL);

		if (e != NVME_PRP_OK) {
			dma_unmap(&c->dma, &map);
			return step_failed(c, step, "prp-%s", nvme_prp_error_name(e));
		}
		sqe->prp1 = prp.prp1;
		sqe->prp2 = prp.prp2;
	}
	if (!submit_and_wait(c, &c->admin, step, sqe, buf ? &map : NULL, status))
		return false;
	if (*status && !quiet_status)
		return command_failed(c, step, sqe->opcode, NVME_ADMIN_QID, *status);
	return *status == 0;
}

/* ================================================================ bind */

static bool setup_admin_queue(struct nvme_ctrl *c)
{
	if (!queue_alloc(c, &c->admin, NVME_ADMIN_QID, NVME_ADMIN_ENTRIES, 0))
		return step_failed(c, "admin-queue", "dma-allocation-failed");
	c->admin.irq_enabled = c->irq_mode == NVME_IRQ_MSIX;
	reg_write32(c, NVME_REG_AQA, ((NVME_ADMIN_ENTRIES - 1) << NVME_AQA_ACQS_SHIFT) |
				     ((NVME_ADMIN_ENTRIES - 1) << NVME_AQA_ASQS_SHIFT));
	reg_write64(c, NVME_REG_ASQ, c->admin.sq_mem.dev);
	reg_write64(c, NVME_REG_ACQ, c->admin.cq_mem.dev);
	return true;
}

/* CC as bring-up writes it, without EN: NVM command set, our page size, round robin, 64/16-byte entries. */
static uint32_t controller_cc(const struct nvme_ctrl *c)
{
	uint32_t mps = (uint32_t)__builtin_ctz(c->page_size) - NVME_MPS_SHIFT_BASE;

	return NVME_CC_CSS_NVM | (mps << NVME_CC_MPS_SHIFT) | NVME_CC_AMS_RR |
	       (NVME_SQE_SIZE_LOG2 << NVME_CC_IOSQES_SHIFT) |
	       (NVME_CQE_SIZE_LOG2 << NVME_CC_IOCQES_SHIFT);
}

static bool enable_controller(struct nvme_ctrl *c)
{
	uint32_t csts;
	uint64_t waited;
	struct proof p;
	uint32_t cc = controller_cc(c);

	if (c->irq_mode == NVME_IRQ_POLL)
		reg_write32(c, NVME_REG_INTMS, NVME_INTMS_ALL); /* pin interrupts: mask every vector */
	reg_write32(c, NVME_REG_CC, cc);
	reg_write32(c, NVME_REG_CC, cc | NVME_CC_EN);
	bool ready = wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY, c->ready_timeout_us, true, &csts,
			       &waited);

	line_begin(&p, c, "enable");
	proof_hex(&p, "cc", cc | NVME_CC_EN, 8);
	proof_hex(&p, "csts", csts, 8);
	proof_bool(&p, "ready", ready);
	proof_bool(&p, "cfs", (csts & NVME_CSTS_CFS) != 0);
	proof_u64(&p, "waited_us", waited);
	proof_u64(&p, "timeout_ms", c->ready_timeout_us / US_PER_MS);
	proof_u64(&p, "admin_entries", NVME_ADMIN_ENTRIES);
	proof_emit(&p);
	if (ready)
		return true;
	if (csts == NVME_REG_READ_FAILED)
		return step_failed(c, "enable", "csts-reads-all-ones");
	if (csts & NVME_CSTS_CFS)
		return step_failed(c, "enable", "controller-fatal-status-csts-0x%08x", csts);
	return step_failed(c, "enable", "not-ready-after-%" PRIu64 "-us", waited);
}

static void report_dma_attach(struct nvme_ctrl *c)
{
	uint64_t base, size, canary;
	struct proof p;

	proof_begin(&p, "dma", "attach");
	proof_str(&p, "bdf", c->bdf);
	proof_str(&p, "backend", c->dma.ops->name);
	proof_hex(&p, "device_max", c->dma.max_address, 16);
	proof_u64(&p, "device_dma_bits", c->shape.dma_addr_bits);
	if (dma_bounce_pool_info(&c->dma, &base, &size, &canary)) {
		proof_hex(&p, "pool_base", base, 1);
		proof_u64(&p, "pool_bytes", size);
		proof_u64(&p, "canary_bytes_each_side", canary);
	}
	proof_emit(&p);
}

/* Frees what an earlier bring-up left (queues, buffers); the device is reset next. */
static void forget_queues(struct nvme_ctrl *c)
{
	if (c->dma.ops) {
		queue_free(c, &c->io);
		queue_free(c, &c->admin);
	}
}

static bool bind_controller(struct nvme_ctrl *c, const struct dma_backend_ops *ops)
{
	char why[DMA_REASON_MAX];

	/* Stop the device from using old queues before their memory is reused. */
	if (c->bar0 && c->stage != NVME_STAGE_NONE) {
		reg_write32(c, NVME_REG_CC, reg_read32(c, NVME_REG_CC) & ~NVME_CC_EN);
		uint32_t csts;
		uint64_t waited;

		wait_csts(c, NVME_CSTS_RDY, 0, c->ready_timeout_us, false, &csts, &waited);
	}
	forget_queues(c);
	c->stage = NVME_STAGE_NONE;
	c->failed = false;
	c->failure[0] = '\0';
	if (!check_pci(c) || !check_cap(c) || !reset_controller(c))
		return false;
	if (!dma_attach(&c->dma, ops, c->pci->bdf, c->shape.dma_max_address, why, sizeof(why)))
		return step_failed(c, "dma-attach", "%s", why);
	report_dma_attach(c);
	setup_interrupts(c);
	if (!setup_admin_queue(c) || !enable_controller(c))
		return false;
	c->stage = NVME_STAGE_BOUND;
	return true;
}

/* ================================================================ identify */

static void report_id_ctrl(struct nvme_ctrl *c)
{
	struct proof p;

	line_begin(&p, c, "identify controller");
	proof_hex(&p, "vid", c->id.vid, 4);
	proof_hex(&p, "ssvid", c->id.ssvid, 4);
	proof_str(&p, "sn", c->id.sn);
	proof_str(&p, "mn", c->id.mn);
	proof_str(&p, "fr", c->id.fr);
	proof_u64(&p, "mdts", c->id.mdts);
	proof_u64(&p, "max_transfer", c->max_transfer_bytes);
	proof_u64(&p, "nn", c->id.nn);
	proof_hex(&p, "ver", c->id.ver, 8);
	proof_hex(&p, "cntlid", c->id.cntlid, 4);
	proof_hex(&p, "status", 0, 3);
	proof_emit(&p);
}

static bool identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t *page,
		     const char *step, bool quiet_status, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_prp none = { 0 };

	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	nvme_cmd_identify(&sqe, cns, nsid, &none);
	return admin_command(c, step, &sqe, page, NVME_IDENTIFY_DATA_SIZE, DMA_DIR_FROM_DEVICE,
			     quiet_status, status);
}

static bool identify_controller(struct nvme_ctrl *c, uint8_t *page)
{
	struct nvme_parse_status st;
	uint16_t status;

	if (!identify(c, NVME_CNS_CONTROLLER, 0, page, "identify-controller", false, &status))
		return false;
	if (!nvme_parse_id_ctrl(page, NVME_IDENTIFY_DATA_SIZE, &c->id, &st))
		return step_failed(c, "identify-controller", "%s:%s",
				   nvme_parse_error_name(st.error), st.reason);
	uint64_t mdts = nvme_mdts_bytes(c->id.mdts, c->mps_min_bytes);

	c->max_transfer_bytes = mdts < NVME_MAX_TRANSFER_BYTES ? (uint32_t)mdts : NVME_MAX_TRANSFER_BYTES;
	cloud_shape_classify(c->pci->vendor, c->pci->device, c->id.mn, &c->shape);
	report_id_ctrl(c);
	return true;
}

static void add_namespace(struct nvme_ctrl *c, uint32_t nsid)
{
	c->ns_active_total++;
	if (c->ns_count < NVME_MAX_NAMESPACES)
		c->ns[c->ns_count++] = (struct nvme_namespace){ .nsid = nsid };
}

enum list_result { LIST_OK, LIST_UNSUPPORTED, LIST_FAILED };

/* CNS 02h pages until the list ends (a full page continues from its last NSID). */
static enum list_result list_active_namespaces(struct nvme_ctrl *c, uint8_t *page)
{
	static uint32_t ids[NVME_NSID_LIST_MAX];
	uint32_t start = 0;

	for (;;) {
		struct nvme_parse_status st;
		uint16_t status;
		size_t n;
		bool more;

		if (!identify(c, NVME_CNS_ACTIVE_NSID_LIST, start, page, "active-nsid-list", true,
			      &status)) {
			/* Only a controller that rejects the CNS value gets the fallback. */
			if (nvme_status_code(status) == NVME_SC_INVALID_FIELD)
				return LIST_UNSUPPORTED;
			if (status)
				command_failed(c, "active-nsid-list", NVME_ADMIN_IDENTIFY, 0, status);
			return LIST_FAILED;
		}
		bool ok = nvme_parse_nsid_list(page, NVME_IDENTIFY_DATA_SIZE, start, ids,
					       NVME_NSID_LIST_MAX, &n, &more, &st);

		if (!ok) {
			step_failed(c, "active-nsid-list", "%s:%s", nvme_parse_error_name(st.error),
				    st.reason);
			return LIST_FAILED;
		}
		for (size_t i = 0; i < n; i++)
			add_namespace(c, ids[i]);
		if (!more || n == 0)
			return LIST_OK;
		start = ids[n - 1];
	}
}

/* NVMe 1.0 controllers (no CNS 02h): probe NSIDs 1..NN, keep those that are active. */
static bool probe_each_namespace(struct nvme_ctrl *c, uint8_t *page)
{
	for (uint32_t nsid = 1; nsid <= c->id.nn && c->ns_count < NVME_MAX_NAMESPACES; nsid++) {
		struct nvme_id_ns_info info;
		struct nvme_parse_status st;
		uint16_t status;

		if (!identify(c, NVME_CNS_NAMESPACE, nsid, page, "identify-namespace", true, &status)) {
			if (!status)
				return false; /* timeout or DMA failure: already reported */
			continue;         /* an NSID the controller refuses is not active */
		}
		if (nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &info, &st) ||
		    st.error != NVME_PARSE_INACTIVE_NS)
			add_namespace(c, nsid);
	}
	return true;
}

static void report_namespaces(struct nvme_ctrl *c, const char *method)
{
	char list[PROOF_LINE_MAX / 2] = "";
	size_t used = 0;
	struct proof p;

	for (size_t i = 0; i < c->ns_count && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%" PRIu32, i ? "," : "",
				 c->ns[i].nsid);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	line_begin(&p, c, "namespaces");
	proof_str(&p, "method", method);
	proof_u64(&p, "active", c->ns_active_total);
	proof_u64(&p, "tracked", c->ns_count);
	proof_str(&p, "nsids", list);
	proof_emit(&p);
}

static bool identify_namespace(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_parse_status st;
	struct proof p;
	uint64_t last = 0;
	uint16_t status;

	if (!identify(c, NVME_CNS_NAMESPACE, ns->nsid, page, "identify-namespace", false, &status))
		return false;
	ns->usable = nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &ns->id, &st);
	if (!ns->usable) {
		line_begin(&p, c, "identify namespace failed");
		proof_u64(&p, "nsid", ns->nsid);
		proof_str(&p, "error", nvme_parse_error_name(st.error));
		proof_str(&p, "reason", st.reason);
		proof_emit(&p);
		c->ns_unusable++;
		return false;
	}
	nvme_last_lba(ns->id.nsze, &last);
	line_begin(&p, c, "identify namespace");
	proof_u64(&p, "nsid", ns->nsid);
	proof_u64(&p, "nsze", ns->id.nsze);
	proof_u64(&p, "ncap", ns->id.ncap);
	proof_u64(&p, "nuse", ns->id.nuse);
	proof_u64(&p, "flbas_index", ns->id.flbas_index);
	proof_u64(&p, "lbaf_count", ns->id.nlbaf_count);
	proof_u64(&p, "lba_size", ns->id.lba_size);
	proof_u64(&p, "metadata_size", ns->id.metadata_size);
	proof_bool(&p, "metadata_extended", ns->id.metadata_extended);
	proof_u64(&p, "capacity_bytes", ns->id.capacity_bytes);
	proof_u64(&p, "last_lba", last);
	proof_emit(&p);
	return true;
}

static bool find_namespaces(struct nvme_ctrl *c, uint8_t *page)
{
	enum list_result r = LIST_UNSUPPORTED;

	c->ns_count = 0;
	c->ns_active_total = 0;
	if (c->id.ver >= NVME_VS_1_1)
		r = list_active_namespaces(c, page);
	if (r == LIST_FAILED)
		return false;
	if (r == LIST_OK) {
		report_namespaces(c, "active-nsid-list");
		return true;
	}
	c->ns_count = 0;
	c->ns_active_total = 0;
	if (!probe_each_namespace(c, page))
		return false;
	report_namespaces(c, "identify-each-nsid");
	return true;
}

static bool identify_all(struct nvme_ctrl *c)
{
	uint8_t *page = malloc(NVME_IDENTIFY_DATA_SIZE);
	bool ok;

	if (!page)
		return step_failed(c, "identify", "no-memory");
	c->ns_unusable = 0;
	ok = identify_controller(c, page) && find_namespaces(c, page);
	/* A malformed namespace is reported and skipped; the others stay usable. */
	for (size_t i = 0; ok && !c->failed && i < c->ns_count; i++)
		identify_namespace(c, &c->ns[i], page);
	free(page);
	if (ok && !c->failed)
		c->stage = NVME_STAGE_IDENTIFIED;
	return ok && !c->failed;
}

/* ================================================================ I/O queues */

static bool create_io_queues(struct nvme_ctrl *c)
{
	uint32_t entries = NVME_CAP_MQES(c->cap) + 1;
	struct nvme_sqe sqe;
	uint16_t status;
	struct proof p;

	if (entries > NVME_IO_QUEUE_ENTRIES)
		entries = NVME_IO_QUEUE_ENTRIES;
	size_t lists = (size_t)nvme_prp_list_pages_needed(NVME_WORST_PRP1_OFFSET, c->max_transfer_bytes,
							  c->page_size);

	if (lists > NVME_PRP_LIST_PAGES_MAX)
		return step_failed(c, "io-queues", "max-transfer-needs-%lu-prp-list-pages",
				   (unsigned long)lists);

	if (!queue_alloc(c, &c->io, NVME_IO_QID, entries, lists))
		return step_failed(c, "io-queues", "dma-allocation-failed");
	c->io.irq_enabled = c->irq_mode == NVME_IRQ_MSIX;
	nvme_cmd_create_io_cq(&sqe, NVME_IO_QID, entries, c->io.cq_mem.dev, c->io.irq_enabled,
			      c->io.msix_entry);
	if (!admin_command(c, "create-io-cq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;
	nvme_cmd_create_io_sq(&sqe, NVME_IO_QID, entries, c->io.sq_mem.dev, NVME_IO_QID);
	if (!admin_command(c, "create-io-sq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;

	line_begin(&p, c, "io queues");
	proof_u64(&p, "cqid", NVME_IO_QID);
	proof_u64(&p, "sqid", NVME_IO_QID);
	proof_u64(&p, "entries", entries);
	proof_u64(&p, "depth", entries - 1);
	proof_u64(&p, "mqes", NVME_CAP_MQES(c->cap));
	proof_str(&p, "mode", c->io.irq_enabled ? "msix" : "poll");
	proof_u64(&p, "msix_entry", c->io.msix_entry);
	proof_u64(&p, "prp_list_pages_per_command", lists);
	proof_u64(&p, "max_transfer", c->max_transfer_bytes);
	proof_emit(&p);
	c->stage = NVME_STAGE_IO_READY;
	return true;
}

/* ================================================================ bring-up */

bool nvme_bring_up(struct nvme_ctrl *c, const struct dma_backend_ops *ops, enum nvme_stage stage)
{
	bool restart = c->failed || c->in_operation || c->dma.ops != ops || c->stage == NVME_STAGE_NONE;

	c->bring_up_attempted = true;
	c->in_operation = true;
	if (restart && !bind_controller(c, ops)) {
		c->in_operation = false;
		return false;
	}
	bool ok = true;

	if (ok && stage >= NVME_STAGE_IDENTIFIED && c->stage < NVME_STAGE_IDENTIFIED)
		ok = identify_all(c);
	if (ok && stage >= NVME_STAGE_IO_READY && c->stage < NVME_STAGE_IO_READY)
		ok = create_io_queues(c);
	c->in_operation = false;
	return ok;
}

/* ================================================================ classification */

void nvme_report_classification(struct nvme_ctrl *c)
{
	struct proof p;
	bool have_model = c->stage >= NVME_STAGE_IDENTIFIED;

	cloud_shape_classify(c->pci->vendor, c->pci->device, have_model ? c->id.mn : NULL, &c->shape);
	line_begin(&p, c, "cloud shape classification");
	proof_str(&p, "cloud_shape", c->shape.shape);
	proof_hex(&p, "pci_vendor", c->pci->vendor, 4);
	proof_hex(&p, "pci_device_id", c->pci->device, 4);
	proof_hex(&p, "class", c->pci->class_code, 2);
	proof_hex(&p, "subclass", c->pci->subclass, 2);
	proof_hex(&p, "prog_if", c->pci->prog_if, 2);
	proof_hex(&p, "aws_nitro_ebs_vendor", CLOUD_VENDOR_AMAZON, 4);
	proof_bool(&p, "local_qemu_precursor", cloud_shape_is_qemu(&c->shape));
	/* Claimed only when the ids really are Amazon's, never from the model string. */
	proof_str(&p, "real_aws_enumeration", cloud_shape_is_aws(&c->shape) ? "claimed" : "not-claimed");
	proof_str(&p, "ena", "separate-nic-driver-out-of-scope");
	/* Nitro exposes no guest IOMMU: bounce buffers are the labelled backend there. */
	proof_str(&p, "aws_labeled_dma_backend", "bounce-buffer");
	proof_str(&p, "dma_backend_policy", DMA_POLICY);
	proof_str(&p, "selected_by", "pci-class");
	proof_bool(&p, "known", c->shape.known);
	proof_str(&p, "provider", c->shape.provider);
	proof_str(&p, "model", have_model ? c->id.mn : "");
	proof_str(&p, "disk_kind", c->shape.disk_kind);
	proof_bool(&p, "model_consistent", c->shape.model_consistent);
	proof_u64(&p, "dma_addr_bits", c->shape.dma_addr_bits);
	proof_hex(&p, "dma_max", c->shape.dma_max_address, 16);
	proof_emit(&p);

	if (!cloud_shape_is_aws_ebs(&c->shape) || !have_model)
		return;
	char vol[AWS_EBS_VOLUME_ID_MAX], bdev[AWS_EBS_BDEV_FIELD_LEN + 1];
	bool vol_ok = aws_ebs_volume_id(c->id.sn, vol, sizeof(vol));
	bool bdev_ok = aws_ebs_block_device(c->id.vendor_specific, sizeof(c->id.vendor_specific),
					    bdev, sizeof(bdev));

	line_begin(&p, c, "aws ebs");
	proof_str(&p, "volume_id", vol);
	proof_bool(&p, "volume_id_ok", vol_ok);
	proof_str(&p, "block_device", bdev);
	proof_bool(&p, "block_device_ok", bdev_ok);
	proof_emit(&p);
}

/* ================================================================ reads */

struct read_job {
	struct nvme_ctrl *c;
	const struct nvme_namespace *ns;
	uint8_t *buf;
	struct nvme_split split;
	struct nvme_chunk pending;
	bool have_pending;
	struct nvme_read_stats *st;
	bool failed;
};

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
 * Maps one chunk, builds its PRPs in the slot's list pages and queues the
 * read.  *no_room: queue or DMA pool full, retry after completions.
 */
static bool submit_chunk(struct read_job *j, const struct nvme_chunk *ch, bool *no_room)
{
	struct nvme_ctrl *c = j->c;
	struct nvme_queue *q = &c->io;
	uint32_t lba = j->ns->id.lba_size;
	size_t len = (size_t)ch->nblocks * lba;
	struct nvme_prp_list_page pages[NVME_PRP_LIST_PAGES_MAX];
	struct dma_mapping map;
	struct nvme_prp prp;
	struct nvme_sqe sqe;
	int cid = queue_free_slot(q);

	*no_room = cid < 0;
	if (*no_room)
		return true;
	if (!dma_map(&c->dma, j->buf + ch->block_offset * lba, len, DMA_DIR_FROM_DEVICE, &map)) {
		*no_room = q->in_flight > 0; /* pool busy: completions will free it */
		return *no_room ? true : step_failed(c, "read", "dma-map-of-%lu-bytes-failed",
							  (unsigned long)len);
	}
	size_t n = slot_list_pages(c, q, &q->slots[cid], pages);
	enum nvme_prp_error e = nvme_prp_build(map.dev, len, c->page_size, pages, n, &prp, NULL);

	if (e != NVME_PRP_OK) {
		dma_unmap(&c->dma, &map);
		return step_failed(c, "read", "prp-%s", nvme_prp_error_name(e));
	}
	nvme_cmd_read(&sqe, j->ns->nsid, ch->slba, ch->nblocks, &prp);
	queue_submit(q, (uint32_t)cid, &sqe, &map, ch->block_offset);
	j->st->commands++;
	return true;
}

/* Submits chunks while the queue and the DMA pool have room; rings once. */
static bool submit_more(struct read_job *j)
{
	unsigned submitted = 0;
	bool no_room = false;

	while (!j->failed) {
		if (!j->have_pending)
			j->have_pending = nvme_split_next(&j->split, &j->pending);
		if (!j->have_pending)
			break;
		if (!submit_chunk(j, &j->pending, &no_room))
			j->failed = true;
		else if (no_room)
			break;
		else {
			j->have_pending = false;
			submitted++;
		}
	}
	if (submitted)
		queue_ring(&j->c->io);
	return !j->failed;
}

/* Finishes completed slots: copies data out (unmap) and records the first error status. */
static void finish_completed(struct read_job *j)
{
	struct nvme_queue *q = &j->c->io;

	for (uint32_t i = 0; i < q->entries; i++) {
		struct nvme_slot *s = &q->slots[i];

		if (!s->busy || !s->done)
			continue;
		if (s->status && !j->st->status)
			j->st->status = s->status;
		slot_release(j->c, s);
	}
}

static bool run_read(struct read_job *j)
{
	struct nvme_ctrl *c = j->c;
	struct nvme_queue *q = &c->io;
	uint64_t deadline = deadline_after_us(NVME_COMMAND_TIMEOUT_US);
	unsigned reaped;

	while (submit_more(j) && (q->in_flight > 0 || j->have_pending)) {
		if (!queue_reap(c, q, &reaped)) {
			j->st->dma_check_failed = true;
			j->failed = true;
			break;
		}
		if (reaped) {
			finish_completed(j);
			deadline = deadline_after_us(NVME_COMMAND_TIMEOUT_US);
			continue;
		}
		if (deadline_passed(deadline)) {
			j->st->timed_out = true;
			return step_failed(c, "read", "no-completion-for-%" PRIu64 "-us-with-%u-in-flight",
					   NVME_COMMAND_TIMEOUT_US, q->in_flight);
		}
		wait_for_event(q);
	}
	return !j->failed;
}

static void report_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
			uint64_t nblocks, const char *purpose, const struct nvme_read_stats *st)
{
	struct proof p;
	uint64_t bytes = 0;

	nvme_blocks_to_bytes(nblocks, ns->id.lba_size, &bytes);
	line_begin(&p, c, "read");
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
					     st->dma_faults == 0);
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
	proof_emit(&p);
}

bool nvme_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
	       uint64_t nblocks, void *buf, const char *purpose, struct nvme_read_stats *st)
{
	return nvme_read_chunked(c, ns, slba, nblocks, buf, 0, purpose, st);
}

bool nvme_read_chunked(struct nvme_ctrl *c, const struct nvme_namespace *ns, uint64_t slba,
		       uint64_t nblocks, void *buf, uint32_t chunk_blocks, const char *purpose,
		       struct nvme_read_stats *st)
{
	uint64_t bytes;
	uint32_t max_blocks = nvme_max_blocks_per_cmd(c->id.mdts, c->mps_min_bytes, ns->id.lba_size,
						      c->max_transfer_bytes);

	if (chunk_blocks && chunk_blocks < max_blocks)
		max_blocks = chunk_blocks;
	struct read_job j = { .c = c, .ns = ns, .buf = buf, .st = st };

	memset(st, 0, sizeof(*st));
	if (c->stage < NVME_STAGE_IO_READY)
		return step_failed(c, "read", "io-queues-not-ready");
	if (!nvme_lba_range_ok(slba, nblocks, ns->id.nsze) ||
	    !nvme_blocks_to_bytes(nblocks, ns->id.lba_size, &bytes) || bytes > SIZE_MAX)
		return step_failed(c, "read", "range-slba-%" PRIu64 "-blocks-%" PRIu64 "-invalid",
				   slba, nblocks);
	if (max_blocks == 0)
		return step_failed(c, "read", "block-larger-than-max-transfer");

	uint64_t irq_before = c->io.irq_count, start = time_now_us();
	uint64_t blocked_before = c->dma.blocked_transfers;

	c->in_operation = true;
	c->io.max_in_flight = 0;
	st->blocks_per_command = max_blocks;
	nvme_split_init(&j.split, slba, nblocks, max_blocks);
	bool ok = run_read(&j);

	c->in_operation = !ok && (st->timed_out || st->dma_check_failed);
	st->duration_us = time_now_us() - start;
	st->max_in_flight = c->io.max_in_flight;
	st->irq_count = c->io.irq_count - irq_before;
	st->dma_faults = c->dma.blocked_transfers - blocked_before;
	st->crc32 = crc32_update(0, buf, (size_t)bytes);
	report_read(c, ns, slba, nblocks, purpose, st);
	if (ok && st->status) {
		/* A media error is the device's answer, not a broken controller: no re-bind. */
		command_failed(c, "read", NVME_IO_READ, NVME_IO_QID, st->status);
		c->failed = false;
		return false;
	}
	return ok;
}

/* ================================================================ interrupt proof */

struct irq_proof {
	uint64_t before, after, waited_us;
	bool posted, cid_matches, proven;
	uint16_t status;
};

static void report_irq_proof(const struct nvme_ctrl *c, const struct irq_proof *r)
{
	struct proof p;

	line_begin(&p, c, "interrupt proof");
	proof_str(&p, "mode", "msix");
	proof_hex(&p, "vector", c->io.vector, 2);
	proof_u64(&p, "msix_entry", c->io.msix_entry);
	proof_u64(&p, "irq_count_before", r->before);
	proof_u64(&p, "irq_count_after", r->after);
	proof_bool(&p, "completion_posted", r->posted);
	proof_bool(&p, "cid_matches", r->cid_matches);
	proof_hex(&p, "status", nvme_status_code(r->status), 3);
	proof_u64(&p, "waited_us", r->waited_us);
	proof_bool(&p, "proven", r->proven);
	proof_emit(&p);
}

/* Queues a one-block read of LBA 0 on the idle I/O queue; returns its CID or -1. */
static int submit_probe_read(struct nvme_ctrl *c, const struct nvme_namespace *ns, void *buf)
{
	struct nvme_queue *q = &c->io;
	int cid = queue_free_slot(q);
	struct dma_mapping map;
	struct nvme_prp prp;
	struct nvme_sqe sqe;

	if (cid < 0 || q->in_flight != 0 || !q->irq_enabled) {
		step_failed(c, "irq-proof", q->irq_enabled ? "io-queue-busy" : "io-queue-polled");
		return -1;
	}
	if (!dma_map(&c->dma, buf, ns->id.lba_size, DMA_DIR_FROM_DEVICE, &map)) {
		step_failed(c, "irq-proof", "dma-map-failed");
		return -1;
	}
	nvme_prp_build(map.dev, ns->id.lba_size, c->page_size, NULL, 0, &prp, NULL);
	nvme_cmd_read(&sqe, ns->nsid, 0, 1, &prp);
	queue_submit(q, (uint32_t)cid, &sqe, &map, 0);
	return cid;
}

bool nvme_prove_interrupt(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	struct nvme_queue *q = &c->io;
	struct irq_proof r = { .before = q->irq_count };
	uint8_t *buf = malloc(ns->id.lba_size);
	int cid = buf ? submit_probe_read(c, ns, buf) : -1;

	if (cid < 0) {
		free(buf);
		return buf ? false : step_failed(c, "irq-proof", "no-buffer");
	}
	c->in_operation = true;
	uint64_t start = time_now_us(), deadline = deadline_after_us(NVME_COMMAND_TIMEOUT_US);

	queue_ring(q);
	/* Only the interrupt counter is watched: the CQ is not looked at until it moves. */
	while (q->irq_count == r.before && !deadline_passed(deadline))
		__asm__ volatile("sti; hlt" ::: "memory");
	r.waited_us = time_now_us() - start;
	r.after = q->irq_count;
	r.posted = cqe_pending(q);
	r.cid_matches = r.posted && q->cq[q->cq_head].cid == (uint16_t)cid;
	bool settled = wait_slot(c, q, (uint32_t)cid, NVME_COMMAND_TIMEOUT_US);

	r.status = q->slots[cid].status;
	if (settled)
		slot_release(c, &q->slots[cid]);
	c->in_operation = !settled;
	free(buf);
	/* Delivery is what is proven; the read's own status (e.g. a media error) is reported only. */
	r.proven = r.after > r.before && r.posted && r.cid_matches;
	report_irq_proof(c, &r);
	if (!r.proven)
		return step_failed(c, "irq-proof", r.after == r.before ? "no-interrupt-within-timeout" :
				   "interrupt-without-matching-completion");
	return true;
}

/* ================================================================ shutdown */

static bool delete_io_queues(struct nvme_ctrl *c)
{
	struct nvme_sqe sqe;
	uint16_t status;

	nvme_cmd_delete_io_sq(&sqe, NVME_IO_QID);
	if (!admin_command(c, "delete-io-sq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;
	nvme_cmd_delete_io_cq(&sqe, NVME_IO_QID);
	return admin_command(c, "delete-io-cq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status);
}

bool nvme_shutdown(struct nvme_ctrl *c)
{
	bool deleted = false;
	uint32_t csts = 0;
	uint64_t waited = 0;
	struct proof p;

	if (c->stage == NVME_STAGE_NONE)
		return step_failed(c, "shutdown", "controller-not-bound");
	c->in_operation = true;
	if (c->stage >= NVME_STAGE_IO_READY)
		deleted = delete_io_queues(c);
	uint32_t cc = reg_read32(c, NVME_REG_CC);

	reg_write32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	bool ok = wait_csts(c, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, NVME_SHUTDOWN_TIMEOUT_US,
			    false, &csts, &waited);

	line_begin(&p, c, "shutdown");
	proof_bool(&p, "io_queues_deleted", deleted);
	proof_hex(&p, "csts", csts, 8);
	proof_str(&p, "shst", (csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_COMPLETE ? "complete" :
			      (csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_OCCURRING ? "occurring" :
											"normal");
	proof_u64(&p, "waited_us", waited);
	proof_bool(&p, "ok", ok);
	proof_emit(&p);
	/* After CC.SHN the controller needs a reset before it is used again. */
	c->stage = NVME_STAGE_NONE;
	c->in_operation = false;
	if (!ok)
		return step_failed(c, "shutdown", "shst-not-complete-after-%" PRIu64 "-us", waited);
	return true;
}

/* ================================================================ raw hooks (negative tests) */

bool nvme_raw_disable(struct nvme_ctrl *c, uint32_t *csts)
{
	uint64_t waited;

	reg_write32(c, NVME_REG_CC, reg_read32(c, NVME_REG_CC) & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
	return wait_csts(c, NVME_CSTS_RDY, 0, c->ready_timeout_us, false, csts, &waited);
}

bool nvme_raw_enable(struct nvme_ctrl *c, uint32_t cc_clear, uint32_t cc_set,
		     struct nvme_raw_enable *r)
{
	uint32_t csts;

	memset(r, 0, sizeof(*r));
	if (c->stage < NVME_STAGE_BOUND)
		return step_failed(c, "raw-enable", "controller-not-bound");
	c->in_operation = true;
	/* The queues the driver knew die with this reset: the next bring-up binds from scratch. */
	c->stage = NVME_STAGE_NONE;
	if (!nvme_raw_disable(c, &csts))
		return step_failed(c, "raw-enable", "csts.rdy-still-1-csts-0x%08" PRIx32, csts);
	r->cc = (controller_cc(c) & ~cc_clear) | cc_set;
	reg_write32(c, NVME_REG_CC, r->cc);
	r->cc |= NVME_CC_EN;
	reg_write32(c, NVME_REG_CC, r->cc);
	r->ready = wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY, c->ready_timeout_us, true, &r->csts,
			     &r->waited_us);
	r->cfs = r->csts != NVME_REG_READ_FAILED && (r->csts & NVME_CSTS_CFS);
	c->in_operation = false;
	return true;
}

bool nvme_raw_command(struct nvme_ctrl *c, uint16_t qid, struct nvme_sqe *sqe,
		      struct dma_mapping *map, uint16_t *status)
{
	struct nvme_queue *q = qid == NVME_ADMIN_QID ? &c->admin : &c->io;
	enum nvme_stage needed = qid == NVME_ADMIN_QID ? NVME_STAGE_BOUND : NVME_STAGE_IO_READY;
	const char *problem = NULL;

	*status = 0;
	if (qid != NVME_ADMIN_QID && qid != NVME_IO_QID)
		problem = "no-such-queue";
	else if (c->stage < needed)
		problem = "queue-not-created";
	else if (q->in_flight)
		problem = "queue-busy";
	if (problem) {
		if (map)
			dma_unmap(&c->dma, map);
		return step_failed(c, "raw-command", "qid-%u-%s", qid, problem);
	}
	c->in_operation = true;
	bool ok = submit_and_wait(c, q, "raw-command", sqe, map, status);

	c->in_operation = !ok;
	return ok;
}

/* ================================================================ streaming reads (benchmark) */

#define STREAM_US_PER_S UINT64_C(1000000)

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
	bool failed;
	uint32_t sample_buffer;   /* the last command submitted */
	uint64_t wait_ticks;      /* TSC ticks spent asleep waiting for completions */
};

static uint8_t *stream_buffer(const struct stream_job *j, uint32_t index)
{
	return j->p->buffers + (size_t)index * j->command_bytes;
}

/* Next command's LBA: sequential, back to 0 where a whole command no longer fits. */
static uint64_t stream_take_lba(struct stream_job *j)
{
	uint32_t blocks = j->p->blocks_per_command;

	if (j->next_lba + blocks > j->ns->id.nsze)
		j->next_lba = 0;
	uint64_t lba = j->next_lba;

	j->next_lba += blocks;
	return lba;
}

static bool stream_should_stop(struct stream_job *j)
{
	if (j->stopped || j->failed)
		return true;
	if (j->submitted_bytes >= j->p->max_bytes)
		j->r->stopped_by = "bytes";
	else if (time_tsc() >= j->stop_tsc)
		j->r->stopped_by = "time";
	j->stopped = j->r->stopped_by != NULL;
	return j->stopped;
}

/* Queues one command; false when it could not (limited_by says why, or the job failed). */
static bool stream_submit_one(struct stream_job *j)
{
	struct nvme_ctrl *c = j->c;
	struct nvme_queue *q = &c->io;
	struct nvme_prp_list_page pages[NVME_PRP_LIST_PAGES_MAX];
	struct dma_mapping map;
	struct nvme_prp prp;
	struct nvme_sqe sqe;
	int cid = queue_free_slot(q);

	if (cid < 0 || j->free_count == 0) {
		j->r->limited_by = cid < 0 ? "queue-entries" : "buffers";
		return false;
	}
	uint32_t buffer = j->free_buffers[j->free_count - 1];

	if (!dma_map(&c->dma, stream_buffer(j, buffer), j->command_bytes, DMA_DIR_FROM_DEVICE, &map)) {
		/* With commands in flight the backend is full: their completions make room. */
		j->r->limited_by = "dma-backend";
		if (q->in_flight == 0) {
			step_failed(c, "stream", "dma-map-of-%lu-bytes-failed-with-none-in-flight",
				    (unsigned long)j->command_bytes);
			j->failed = true;
		}
		return false;
	}
	size_t n = slot_list_pages(c, q, &q->slots[cid], pages);
	enum nvme_prp_error e = nvme_prp_build(map.dev, j->command_bytes, c->page_size, pages, n, &prp,
					       NULL);

	if (e != NVME_PRP_OK) {
		dma_unmap(&c->dma, &map);
		j->failed = !step_failed(c, "stream", "prp-%s", nvme_prp_error_name(e));
		return false;
	}
	uint64_t lba = stream_take_lba(j);

	nvme_cmd_read(&sqe, j->ns->nsid, lba, j->p->blocks_per_command, &prp);
	queue_submit(q, (uint32_t)cid, &sqe, &map, buffer);
	j->free_count--;
	j->submitted_bytes += j->command_bytes;
	j->sample_buffer = buffer;
	j->r->sample_lba = lba;
	return true;
}

/* Fills the queue up to the depth, then rings the SQ doorbell once for the batch. */
static void stream_submit_batch(struct stream_job *j)
{
	struct nvme_queue *q = &j->c->io;
	unsigned submitted = 0;

	while (q->in_flight < j->depth && !stream_should_stop(j) && stream_submit_one(j))
		submitted++;
	if (!submitted)
		return;
	queue_ring(q);
	j->r->sq_doorbells++;
	if (q->in_flight > j->r->max_in_flight)
		j->r->max_in_flight = q->in_flight;
}

/* Unmaps completed commands (the bounce copy-out happens here) and frees their buffers. */
static void stream_finish_completed(struct stream_job *j)
{
	struct nvme_queue *q = &j->c->io;

	for (uint32_t i = 0; i < q->entries; i++) {
		struct nvme_slot *s = &q->slots[i];

		if (!s->busy || !s->done)
			continue;
		if (s->status && !j->r->status)
			j->r->status = s->status;
		if (s->status) {
			j->stopped = true;
			j->r->stopped_by = "error";
		}
		else
			j->r->bytes += j->command_bytes;
		j->r->commands++;
		j->free_buffers[j->free_count++] = (uint32_t)s->cookie;
		slot_release(j->c, s);
	}
}

static bool stream_run(struct stream_job *j)
{
	struct nvme_ctrl *c = j->c;
	struct nvme_queue *q = &c->io;
	uint64_t deadline = deadline_after_us(NVME_COMMAND_TIMEOUT_US);
	unsigned reaped;

	for (stream_submit_batch(j); q->in_flight > 0; stream_submit_batch(j)) {
		if (!queue_reap(c, q, &reaped)) {
			j->r->dma_check_failed = true;
			return false;
		}
		if (reaped) {
			j->r->cq_doorbells++;
			stream_finish_completed(j);
			deadline = deadline_after_us(NVME_COMMAND_TIMEOUT_US);
			continue;
		}
		if (deadline_passed(deadline)) {
			j->r->timed_out = true;
			return step_failed(c, "stream", "no-completion-for-%" PRIu64 "-us-with-%u-in-flight",
					   NVME_COMMAND_TIMEOUT_US, q->in_flight);
		}
		uint64_t before = time_tsc();

		wait_for_event(q);
		j->wait_ticks += time_tsc() - before;
		j->r->waits++;
	}
	return !j->failed;
}

static bool stream_check_params(struct nvme_ctrl *c, const struct nvme_namespace *ns,
				const struct nvme_stream_params *p)
{
	uint32_t max_blocks = nvme_max_blocks_per_cmd(c->id.mdts, c->mps_min_bytes, ns->id.lba_size,
						      c->max_transfer_bytes);

	if (c->stage < NVME_STAGE_IO_READY)
		return step_failed(c, "stream", "io-queues-not-ready");
	if (p->blocks_per_command == 0 || p->blocks_per_command > max_blocks)
		return step_failed(c, "stream", "%" PRIu32 "-blocks-per-command-outside-1-to-%" PRIu32,
				   p->blocks_per_command, max_blocks);
	if (p->blocks_per_command > ns->id.nsze)
		return step_failed(c, "stream", "namespace-smaller-than-one-command");
	if (p->depth == 0 || p->buffer_count == 0 || !p->buffers)
		return step_failed(c, "stream", "no-depth-or-no-buffers");
	return true;
}

bool nvme_stream_read(struct nvme_ctrl *c, const struct nvme_namespace *ns,
		      const struct nvme_stream_params *p, struct nvme_stream_result *r)
{
	struct stream_job j = { .c = c, .ns = ns, .p = p, .r = r };

	memset(r, 0, sizeof(*r));
	if (!stream_check_params(c, ns, p))
		return false;
	j.command_bytes = (size_t)p->blocks_per_command * ns->id.lba_size;
	j.depth = p->depth < p->buffer_count ? p->depth : p->buffer_count;
	j.free_buffers = malloc(j.depth * sizeof(*j.free_buffers));
	if (!j.free_buffers)
		return step_failed(c, "stream", "no-memory");
	for (uint32_t i = 0; i < j.depth; i++)
		j.free_buffers[j.free_count++] = j.depth - 1 - i;
	if (p->depth > j.depth)
		r->limited_by = "buffers";

	uint64_t irq_before = c->io.irq_count, blocked_before = c->dma.blocked_transfers;
	uint64_t mmio_before = mmio_access_count, start = time_tsc();

	j.stop_tsc = start + p->max_us * time_tsc_hz() / STREAM_US_PER_S;
	c->in_operation = true;
	bool ok = stream_run(&j);

	r->duration_us = time_tsc_to_us(time_tsc() - start);
	r->mmio_accesses = mmio_access_count - mmio_before;
	r->wait_us = time_tsc_to_us(j.wait_ticks);
	c->in_operation = !ok && (r->timed_out || r->dma_check_failed);
	r->irq_count = c->io.irq_count - irq_before;
	r->dma_faults = c->dma.blocked_transfers - blocked_before;
	if (r->commands) {
		r->sample_blocks = p->blocks_per_command;
		r->sample_crc32 = crc32_update(0, stream_buffer(&j, j.sample_buffer), j.command_bytes);
	}
	free(j.free_buffers);
	if (r->max_in_flight >= p->depth)
		r->limited_by = NULL;
	else if (!r->limited_by)
		r->limited_by = r->stopped_by; /* the budget ran out before the queue filled */
	if (ok && r->status) {
		/* A media error is the device's answer, not a broken controller: no re-bind. */
		command_failed(c, "stream", NVME_IO_READ, NVME_IO_QID, r->status);
		c->failed = false;
		return false;
	}
	return ok && r->dma_faults == 0;
}

bool nvme_first_read_tsc(uint64_t *tsc)
{
	*tsc = first_read_tsc;
	return first_read_tsc != 0;
}
