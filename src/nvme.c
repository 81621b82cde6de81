/*
 * NVMe driver: one controller at a time, admin queue plus one I/O queue
 * pair, MSI-X completions with a polling fallback.  Named register fields
 * live in src/lib/nvme_defs.h, command encoding in src/lib/nvme_cmd.c.
 *
 * This file is the lifecycle; Identify is src/nvme_identify.c, every queue
 * operation the I/O engine (src/nvme_io.c), reads src/nvme_read.c.
 *
 * Order of bring-up (each step one proof line, see docs/proof-lines.md):
 *   PCI (memory space + bus master, BAR0 sane) -> CAP/VS checks ->
 *   reset if enabled (SeaBIOS leaves CC.EN=1) -> MSI-X before CC.EN ->
 *   AQA/ASQ/ACQ -> CC.EN, wait RDY or CFS within CAP.TO ->
 *   Identify Controller -> active NSID list -> Identify Namespace each ->
 *   Create I/O CQ then I/O SQ.
 */
#include "nvme.h"

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
#define NVME_MSIX_ADMIN_ENTRY    0u
#define NVME_MSIX_IO_ENTRY       1u
#define NVME_MSIX_ENTRIES_NEEDED 2u
#define NVME_SHUTDOWN_TIMEOUT_US UINT64_C(10000000)
#define NVME_POLL_DELAY_US       10u
#define NVME_WORST_PRP1_OFFSET   (PAGE_SIZE - 4u) /* PRP1 offsets are dword aligned */

static struct nvme_ctrl controllers[NVME_MAX_CONTROLLERS];
static size_t controller_count;
static bool probed;

/* ================================================================ lines */

void nvme_line_begin(struct proof *p, const struct nvme_ctrl *c, const char *event)
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

bool nvme_step_failed(struct nvme_ctrl *c, const char *step, const char *fmt, ...)
{
	struct proof p;
	va_list ap;
	char reason[NVME_FAILURE_MAX];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(c->failure, sizeof(c->failure), "%s: %s", step, reason);
	c->failed = true;
	nvme_line_begin(&p, c, "step failed");
	proof_str(&p, "step", step);
	proof_str(&p, "reason", reason);
	proof_emit(&p);
	return false;
}

bool nvme_command_failed(struct nvme_ctrl *c, const char *step, uint8_t opcode, uint16_t qid,
			   uint16_t status_field)
{
	struct proof p;

	snprintf(c->failure, sizeof(c->failure), "%s: status 0x%03x %s", step,
		 nvme_status_code(status_field), nvme_status_name(status_field));
	c->failed = true;
	nvme_line_begin(&p, c, "command failed");
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
		return nvme_step_failed(c, "pci", "bar0-not-implemented");
	if (bar->kind == PCI_BAR_KIND_IO)
		return nvme_step_failed(c, "pci", "bar0-is-io-space");
	if (bar->state != PCI_BAR_OK)
		return nvme_step_failed(c, "pci", "bar0-%s", pci_bar_state_name(bar->state));
	if (bar->size < NVME_BAR0_MIN_SIZE)
		return nvme_step_failed(c, "pci", "bar0-size-0x%" PRIx64 "-too-small", bar->size);
	if (!pci_enable_command(c->pci->bdf, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return nvme_step_failed(c, "pci", "memory-space-or-bus-master-did-not-stick");
	if (!paging_map_mmio(bar->address, bar->size))
		return nvme_step_failed(c, "pci", "bar0-could-not-be-mapped");
	c->bar0 = bar->address;
	c->bar0_size = bar->size;

	nvme_line_begin(&p, c, "controller");
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

/*
 * The controller memory buffer, reported only (proofboot never places
 * queues or data there).  NVMe 1.4 controllers such as QEMU 7.2 read
 * CMBLOC/CMBSZ as 0 until CMBMSC.CRE is set; setting it only exposes the
 * two registers (CMSE, the memory space enable, stays clear).
 */
static void report_cmb(struct nvme_ctrl *c)
{
	struct proof p;

	if (NVME_CAP_CMBS(c->cap))
		reg_write32(c, NVME_REG_CMBMSC, NVME_CMBMSC_CRE);
	uint32_t cmbloc = reg_read32(c, NVME_REG_CMBLOC), cmbsz = reg_read32(c, NVME_REG_CMBSZ);

	nvme_decode_cmb(c->cap, cmbloc, cmbsz, &c->cmb);
	if (!c->cmb.supported)
		return;
	nvme_line_begin(&p, c, "cmb");
	proof_hex(&p, "cmbloc", cmbloc, 8);
	proof_hex(&p, "cmbsz", cmbsz, 8);
	proof_bool(&p, "valid", c->cmb.valid);
	proof_u64(&p, "bir", c->cmb.bir);
	proof_hex(&p, "offset", c->cmb.offset, 1);
	proof_u64(&p, "size", c->cmb.size);
	proof_bool(&p, "sqs", c->cmb.sqs);
	proof_bool(&p, "cqs", c->cmb.cqs);
	proof_bool(&p, "lists", c->cmb.lists);
	proof_bool(&p, "rds", c->cmb.rds);
	proof_bool(&p, "wds", c->cmb.wds);
	proof_str(&p, "used", "never");
	proof_emit(&p);
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

	nvme_line_begin(&p, c, "cap");
	proof_hex(&p, "cap", cap, 16);
	proof_u64(&p, "mqes", NVME_CAP_MQES(cap));
	proof_bool(&p, "cqr", NVME_CAP_CQR(cap));
	proof_u64(&p, "dstrd", c->dstrd);
	proof_u64(&p, "doorbell_stride", NVME_DOORBELL_STRIDE(c->dstrd));
	proof_u64(&p, "timeout_ms", c->ready_timeout_us / US_PER_MS);
	proof_bool(&p, "css_nvm", NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM);
	proof_hex(&p, "css", NVME_CAP_CSS(cap), 2);
	proof_bool(&p, "css_iocs", NVME_CAP_CSS(cap) & NVME_CAP_CSS_IOCS);
	proof_bool(&p, "css_admin_only", NVME_CAP_CSS(cap) & NVME_CAP_CSS_NOIO);
	proof_bool(&p, "cmbs", NVME_CAP_CMBS(cap));
	proof_u64(&p, "mpsmin", 1ull << mpsmin);
	proof_u64(&p, "mpsmax", 1ull << mpsmax);
	proof_u64(&p, "page_size", c->page_size);
	proof_hex(&p, "vs", c->vs, 8);
	proof_u64(&p, "vs_major", NVME_VS_MAJOR(c->vs));
	proof_u64(&p, "vs_minor", NVME_VS_MINOR(c->vs));
	proof_bool(&p, "ok", problem == NULL);
	proof_emit(&p);
	if (!problem)
		report_cmb(c);
	return problem ? nvme_step_failed(c, "cap", "%s", problem) : true;
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
	nvme_line_begin(&p, c, "reset");
	proof_bool(&p, "was_enabled", was_enabled);
	proof_hex(&p, "cc_before", cc, 8);
	proof_hex(&p, "csts", csts, 8);
	proof_u64(&p, "waited_us", waited);
	proof_bool(&p, "ok", ok);
	proof_emit(&p);
	if (!ok)
		return nvme_step_failed(c, "reset", "csts.rdy-still-1-after-%" PRIu64 "-us", waited);
	return true;
}

static void nvme_irq_handler(uint8_t vector, void *ctx)
{
	struct nvme_queue *q = ctx;

	(void)vector;
	q->irq_count++;
}

static void write_msix_entry(struct nvme_ctrl *c, uint16_t entry, uint64_t addr, uint32_t data)
{
	uint64_t e = c->msix_table + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE;

	/* Masked while the message changes, so the device never sends half of one. */
	mmio_write32(e + PCI_MSIX_ENTRY_CTRL, PCI_MSIX_ENTRY_CTRL_MASKED);
	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	mmio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
	mmio_write32(e + PCI_MSIX_ENTRY_DATA, data);
	mmio_write32(e + PCI_MSIX_ENTRY_CTRL, 0); /* unmasked */
}

static void program_msix_entry(struct nvme_ctrl *c, uint16_t entry, uint8_t vector)
{
	write_msix_entry(c, entry, irq_msi_address(), irq_msi_data(vector));
}

bool nvme_msix_message(struct nvme_ctrl *c, uint64_t addr, uint32_t data)
{
	if (c->irq_mode != NVME_IRQ_MSIX || !c->io.irq_enabled)
		return false;
	write_msix_entry(c, c->io.msix_entry, addr, data);
	return true;
}

void nvme_msix_restore(struct nvme_ctrl *c)
{
	if (c->irq_mode == NVME_IRQ_MSIX && c->io.irq_enabled)
		program_msix_entry(c, c->io.msix_entry, c->io.vector);
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

	nvme_line_begin(&p, c, "interrupts");
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

/* ================================================================ admin commands */

/* One admin command through the I/O engine (see nvme.h). */
bool nvme_admin_command(struct nvme_ctrl *c, const char *step, struct nvme_sqe *sqe, void *buf,
			  size_t len, enum dma_dir dir, bool quiet_status, uint16_t *status)
{
	struct nvme_io_cmd cmd = { .sqe = *sqe, .data = buf, .bytes = len, .dir = dir };

	if (!nvme_io_exec(c, &c->admin, step, &cmd, status))
		return false;
	if (*status && !quiet_status)
		return nvme_command_failed(c, step, sqe->opcode, NVME_ADMIN_QID, *status);
	return *status == 0;
}

/* ================================================================ bind */

static bool setup_admin_queue(struct nvme_ctrl *c)
{
	if (!nvme_io_queue_alloc(c, &c->admin, NVME_ADMIN_QID, NVME_ADMIN_ENTRIES, 0))
		return nvme_step_failed(c, "admin-queue", "dma-allocation-failed");
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

	nvme_line_begin(&p, c, "enable");
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
		return nvme_step_failed(c, "enable", "csts-reads-all-ones");
	if (csts & NVME_CSTS_CFS)
		return nvme_step_failed(c, "enable", "controller-fatal-status-csts-0x%08x", csts);
	return nvme_step_failed(c, "enable", "not-ready-after-%" PRIu64 "-us", waited);
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
		nvme_io_queue_free(c, &c->io);
		nvme_io_queue_free(c, &c->admin);
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
		return nvme_step_failed(c, "dma-attach", "%s", why);
	report_dma_attach(c);
	setup_interrupts(c);
	if (!setup_admin_queue(c) || !enable_controller(c))
		return false;
	c->stage = NVME_STAGE_BOUND;
	return true;
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
		return nvme_step_failed(c, "io-queues", "max-transfer-needs-%lu-prp-list-pages",
				   (unsigned long)lists);

	if (!nvme_io_queue_alloc(c, &c->io, NVME_IO_QID, entries, lists))
		return nvme_step_failed(c, "io-queues", "dma-allocation-failed");
	c->io.irq_enabled = c->irq_mode == NVME_IRQ_MSIX;
	nvme_cmd_create_io_cq(&sqe, NVME_IO_QID, entries, c->io.cq_mem.dev, c->io.irq_enabled,
			      c->io.msix_entry);
	if (!nvme_admin_command(c, "create-io-cq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;
	nvme_cmd_create_io_sq(&sqe, NVME_IO_QID, entries, c->io.sq_mem.dev, NVME_IO_QID);
	if (!nvme_admin_command(c, "create-io-sq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;

	nvme_line_begin(&p, c, "io queues");
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
		ok = nvme_identify_all(c);
	if (ok && stage >= NVME_STAGE_IO_READY && c->stage < NVME_STAGE_IO_READY)
		ok = create_io_queues(c);
	c->in_operation = false;
	return ok;
}

/* ================================================================ shutdown */

static bool delete_io_queues(struct nvme_ctrl *c)
{
	struct nvme_sqe sqe;
	uint16_t status;

	nvme_cmd_delete_io_sq(&sqe, NVME_IO_QID);
	if (!nvme_admin_command(c, "delete-io-sq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;
	nvme_cmd_delete_io_cq(&sqe, NVME_IO_QID);
	return nvme_admin_command(c, "delete-io-cq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status);
}

bool nvme_shutdown(struct nvme_ctrl *c)
{
	bool deleted = false;
	uint32_t csts = 0;
	uint64_t waited = 0;
	struct proof p;

	if (c->stage == NVME_STAGE_NONE)
		return nvme_step_failed(c, "shutdown", "controller-not-bound");
	c->in_operation = true;
	if (c->stage >= NVME_STAGE_IO_READY)
		deleted = delete_io_queues(c);
	uint32_t cc = reg_read32(c, NVME_REG_CC);

	reg_write32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	bool ok = wait_csts(c, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, NVME_SHUTDOWN_TIMEOUT_US,
			    false, &csts, &waited);

	nvme_line_begin(&p, c, "shutdown");
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
		return nvme_step_failed(c, "shutdown", "shst-not-complete-after-%" PRIu64 "-us", waited);
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
		return nvme_step_failed(c, "raw-enable", "controller-not-bound");
	c->in_operation = true;
	/* The queues the driver knew die with this reset: the next bring-up binds from scratch. */
	c->stage = NVME_STAGE_NONE;
	if (!nvme_raw_disable(c, &csts))
		return nvme_step_failed(c, "raw-enable", "csts.rdy-still-1-csts-0x%08" PRIx32, csts);
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

/* The queue a raw command goes to, or NULL (reported) when it cannot take one now. */
static struct nvme_queue *raw_queue(struct nvme_ctrl *c, uint16_t qid)
{
	struct nvme_queue *q = qid == NVME_ADMIN_QID ? &c->admin : &c->io;
	enum nvme_stage needed = qid == NVME_ADMIN_QID ? NVME_STAGE_BOUND : NVME_STAGE_IO_READY;
	const char *problem = NULL;

	if (qid != NVME_ADMIN_QID && qid != NVME_IO_QID)
		problem = "no-such-queue";
	else if (c->stage < needed)
		problem = "queue-not-created";
	else if (q->in_flight)
		problem = "queue-busy";
	if (!problem)
		return q;
	nvme_step_failed(c, "raw-command", "qid-%u-%s", qid, problem);
	return NULL;
}

bool nvme_raw_command(struct nvme_ctrl *c, uint16_t qid, struct nvme_sqe *sqe,
		      struct dma_mapping *map, uint16_t *status)
{
	struct nvme_queue *q = raw_queue(c, qid);

	*status = 0;
	if (!q) {
		if (map)
			dma_unmap(&c->dma, map);
		return false;
	}
	c->in_operation = true;
	bool ok = nvme_io_exec_raw(c, q, "raw-command", sqe, map, status);

	c->in_operation = !ok;
	return ok;
}

bool nvme_raw_command_built(struct nvme_ctrl *c, uint16_t qid, struct nvme_io_cmd *cmd,
			    uint16_t *status)
{
	struct nvme_queue *q = raw_queue(c, qid);

	*status = 0;
	if (!q)
		return false;
	c->in_operation = true;
	bool ok = nvme_io_exec(c, q, "raw-command", cmd, status);

	c->in_operation = !ok;
	return ok;
}
