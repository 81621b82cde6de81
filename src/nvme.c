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
#define NVME_SHUTDOWN_TIMEOUT_US UINT64_C(10000000)
#define NVME_POLL_DELAY_US       10u
#define NVME_VS_1_1              0x00010100u /* CNS 02h (active NSID list) exists from 1.1 */
#define NVME_VS_1_3              0x00010300u /* CNS 03h (namespace descriptors) exists from 1.3 */
#define LBAF_TABLE_MAX           (NVME_IDNS_LBAF_MAX * 12u) /* "*DD:MMMMM:R," per format */
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

/*
 * One admin command, optionally with a data buffer (the I/O engine maps it
 * and builds its PRPs).  *status receives the status field (0 on success).
 * `quiet_status` leaves reporting a failed status to the caller (for
 * commands allowed to fail).
 */
static bool admin_command(struct nvme_ctrl *c, const char *step, struct nvme_sqe *sqe, void *buf,
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

/* ================================================================ identify */

static void report_id_ctrl(struct nvme_ctrl *c)
{
	struct proof p;

	nvme_line_begin(&p, c, "identify controller");
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
	/* SN/MN/FR bytes outside printable ASCII are escaped by the emitter and flagged here. */
	proof_bool(&p, "ascii", c->id.strings_ascii);
	proof_hex(&p, "oacs", c->id.oacs, 4);
	proof_hex(&p, "oncs", c->id.oncs, 4);
	proof_hex(&p, "cmic", c->id.cmic, 2);
	proof_bool(&p, "multi_controller", c->id.cmic & NVME_CMIC_MULTI_CTRL);
	proof_str(&p, "subnqn", c->id.subnqn);
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
		return nvme_step_failed(c, "identify-controller", "%s:%s",
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
				nvme_command_failed(c, "active-nsid-list", NVME_ADMIN_IDENTIFY, 0, status);
			return LIST_FAILED;
		}
		bool ok = nvme_parse_nsid_list(page, NVME_IDENTIFY_DATA_SIZE, start, ids,
					       NVME_NSID_LIST_MAX, &n, &more, &st);

		if (!ok) {
			nvme_step_failed(c, "active-nsid-list", "%s:%s", nvme_parse_error_name(st.error),
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
	nvme_line_begin(&p, c, "namespaces");
	proof_str(&p, "method", method);
	proof_u64(&p, "active", c->ns_active_total);
	proof_u64(&p, "tracked", c->ns_count);
	proof_str(&p, "nsids", list);
	proof_emit(&p);
}

static void report_ns_failed(struct nvme_ctrl *c, const struct nvme_namespace *ns,
			     const char *step, const struct nvme_parse_status *st)
{
	struct proof p;

	nvme_line_begin(&p, c, "identify namespace failed");
	proof_u64(&p, "nsid", ns->nsid);
	proof_str(&p, "step", step);
	proof_str(&p, "error", nvme_parse_error_name(st->error));
	proof_str(&p, "reason", st->reason);
	proof_emit(&p);
	c->ns_unusable++;
}

/* Identify with a command set identifier (CNS 05h/06h carry it in CDW11). */
static bool identify_csi(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t csi,
			 uint8_t *page, const char *step, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_prp none = { 0 };

	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	nvme_cmd_identify(&sqe, cns, nsid, &none);
	sqe.cdw11 = (uint32_t)csi << NVME_IDENTIFY_CDW11_CSI_SHIFT;
	return admin_command(c, step, &sqe, page, NVME_IDENTIFY_DATA_SIZE, DMA_DIR_FROM_DEVICE,
			     false, status);
}

/*
 * The namespace's command set from its descriptor list (CNS 03h, NVMe >=
 * 1.3); without a CSI descriptor (or on an older controller) it is NVM.
 * Zoned namespaces also get their zone size (CNS 05h, CSI 02h).  False
 * when the device's answer is malformed (reported).
 */
static bool identify_command_set(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_ns_descriptors d;
	struct nvme_parse_status st;
	uint16_t status;

	ns->csi = NVME_CSI_NVM;
	if (c->id.ver >= NVME_VS_1_3) {
		if (!identify(c, NVME_CNS_NS_DESCRIPTORS, ns->nsid, page, "ns-descriptors", true,
			      &status) && !status)
			return false; /* timeout or DMA failure: already reported */
		if (!status && !nvme_parse_ns_descriptors(page, NVME_IDENTIFY_DATA_SIZE, &d, &st)) {
			report_ns_failed(c, ns, "ns-descriptors", &st);
			return false;
		}
		ns->csi_reported = !status && d.has_csi;
		if (ns->csi_reported)
			ns->csi = d.csi;
	}
	if (ns->csi != NVME_CSI_ZONED)
		return true;
	if (!identify_csi(c, NVME_CNS_NAMESPACE_IOCS, ns->nsid, NVME_CSI_ZONED, page,
			  "identify-zoned-namespace", &status))
		return false;
	if (!nvme_parse_zns_id_ns(page, NVME_IDENTIFY_DATA_SIZE, ns->id.flbas_index, ns->id.nsze,
				  &ns->zns, &st)) {
		report_ns_failed(c, ns, "identify-zoned-namespace", &st);
		return false;
	}
	return true;
}

/* Why a well-formed namespace is not read (NULL: it is): its format or its command set. */
static const char *namespace_skip_reason(struct nvme_namespace *ns)
{
	const char *unserved;

	if (!nvme_format_from_id(&ns->id, &ns->fmt, &unserved))
		return unserved;
	if (ns->csi != NVME_CSI_NVM && ns->csi != NVME_CSI_ZONED)
		return "command-set-not-handled";
	return NULL;
}

static void report_namespace(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	char lbafs[LBAF_TABLE_MAX];
	struct proof p;
	uint64_t last = 0;

	nvme_last_lba(ns->id.nsze, &last);
	nvme_format_lbaf_table(&ns->id, lbafs, sizeof(lbafs));
	nvme_line_begin(&p, c, "identify namespace");
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
	proof_str(&p, "lbafs", lbafs);
	proof_hex(&p, "mc", ns->id.mc, 2);
	proof_hex(&p, "dpc", ns->id.dpc, 2);
	proof_hex(&p, "dps", ns->id.dps, 2);
	proof_hex(&p, "nmic", ns->id.nmic, 2);
	proof_bool(&p, "shared", ns->id.nmic & NVME_NMIC_SHARED);
	proof_hex(&p, "csi", ns->csi, 2);
	proof_str(&p, "csi_name", nvme_csi_name(ns->csi));
	proof_bool(&p, "csi_reported", ns->csi_reported);
	if (ns->csi == NVME_CSI_ZONED) {
		proof_u64(&p, "zone_blocks", ns->zns.zone_blocks);
		proof_u64(&p, "zones", ns->zns.zones);
	}
	proof_bool(&p, "served", ns->skip_reason == NULL);
	if (ns->skip_reason) {
		proof_str(&p, "skip_reason", ns->skip_reason);
	} else {
		proof_str(&p, "md_layout", nvme_md_layout_name(ns->fmt.layout));
		proof_u64(&p, "block_buffer_bytes", ns->fmt.buffer_bytes);
		proof_u64(&p, "pi_type", ns->fmt.pi_type);
		/* Reads leave PI to the image check: nothing stripped, nothing checked by the device. */
		proof_bool(&p, "pract", ns->fmt.prinfo.pract);
		proof_str(&p, "prchk", nvme_prchk_name(&ns->fmt.prinfo));
	}
	proof_emit(&p);
}

static bool identify_namespace(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_parse_status st;
	uint16_t status;

	ns->usable = false;
	ns->skip_reason = NULL;
	if (!identify(c, NVME_CNS_NAMESPACE, ns->nsid, page, "identify-namespace", false, &status))
		return false;
	if (!nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &ns->id, &st)) {
		report_ns_failed(c, ns, "identify-namespace", &st);
		return false;
	}
	if (!identify_command_set(c, ns, page))
		return false;
	ns->skip_reason = namespace_skip_reason(ns);
	ns->usable = ns->skip_reason == NULL;
	c->ns_skipped += !ns->usable;
	report_namespace(c, ns);
	return ns->usable;
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
		return nvme_step_failed(c, "identify", "no-memory");
	c->ns_unusable = 0;
	c->ns_skipped = 0;
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
		return nvme_step_failed(c, "io-queues", "max-transfer-needs-%lu-prp-list-pages",
				   (unsigned long)lists);

	if (!nvme_io_queue_alloc(c, &c->io, NVME_IO_QID, entries, lists))
		return nvme_step_failed(c, "io-queues", "dma-allocation-failed");
	c->io.irq_enabled = c->irq_mode == NVME_IRQ_MSIX;
	nvme_cmd_create_io_cq(&sqe, NVME_IO_QID, entries, c->io.cq_mem.dev, c->io.irq_enabled,
			      c->io.msix_entry);
	if (!admin_command(c, "create-io-cq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
		return false;
	nvme_cmd_create_io_sq(&sqe, NVME_IO_QID, entries, c->io.sq_mem.dev, NVME_IO_QID);
	if (!admin_command(c, "create-io-sq", &sqe, NULL, 0, DMA_DIR_TO_DEVICE, false, &status))
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
