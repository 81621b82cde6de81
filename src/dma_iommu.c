/*
 * The VT-d remapping DMA backend; see dma_iommu.h.
 *
 *   IOVA window (per device, far from RAM)      physical memory
 *   [ window_base ... window_base + 64 MiB )  -> queues, PRP lists, data pages
 *
 * IOVA pages come from a bitmap over the window; every range handed to the
 * device is recorded in the ledger (src/lib/dma_ledger.c) like the bounce
 * backend does.  A canary page that is never mapped sits beside the
 * device's memory: the isolation tests aim DMA at its physical address.
 */
#include "dma_iommu.h"

#include "nvme.h"
#include "pmem.h"
#include "proof.h"
#include "vtd_regs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IOMMU_WINDOW_PAGES (DMA_IOMMU_WINDOW_BYTES / PAGE_SIZE)
#define IOMMU_LEDGER_ENTRIES 1024
#define IOMMU_COHERENT_CACHE 32
#define IOMMU_FAULT_BATCH 8
/* Canary and coherent memory sit below 4 GiB: inside every table depth's IOVA range. */
#define IOMMU_MEMORY_LIMIT (4ull << 30)
#define IOMMU_CANARY_SEED 0x696f6d6du
#define IOMMU_FALLBACK_WINDOW (4ull << 30) /* for devices that cannot reach the usual windows */
#define HEX64 16
/* Coherent buffers (queues, PRP-list pages) listed per device; the rest are counted. */
#define IOMMU_MAP_LINES_MAX 8

enum iommu_tag { IOMMU_TAG_COHERENT = 1, IOMMU_TAG_STREAMING = 2 };

/* Backing pages of freed coherent buffers, kept for reuse (pmem never frees). */
struct coherent_spare {
	void *cpu;
	size_t pages;
};

struct iommu_state {
	struct vtd_unit *unit;
	struct vtd_domain domain;
	uint16_t sid;
	char bdf[PCI_BDF_STR_LEN];
	uint64_t window_base;
	struct page_bitmap bitmap;
	uint32_t bitmap_words[PAGE_BITMAP_WORDS(IOMMU_WINDOW_PAGES)];
	struct dma_ledger ledger;
	struct dma_ledger_entry entries[IOMMU_LEDGER_ENTRIES];
	uint8_t *canary;
	struct coherent_spare spares[IOMMU_COHERENT_CACHE];
	uint64_t maps, unmaps;
	unsigned map_lines; /* `iommu: map` lines printed for this device */
	uint64_t last_map_iova, last_map_phys;
	uint64_t checks, check_failures, stray_faults;
	uint64_t faults_seen; /* every fault from this device, expected or not */
	char first_failure[DMA_REASON_MAX];
	/* test hooks */
	bool redirect_pending;
	uint64_t redirect_iova;
	bool expect_pending;
	uint64_t expect_iova;
	bool expected_arrived;
	struct vtd_fault expected;
};

/* A streaming mapping's private record (m->backend). */
struct iommu_mapping {
	uint64_t iova_page;
	size_t pages;
	bool redirected; /* handed out without a mapping (test) */
};

static void set_reason(char *reason, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, cap, fmt, ap);
	va_end(ap);
}

static struct iommu_state *state_of(struct dma_device *d)
{
	return d->state_owner == &dma_iommu_ops || d->ops == &dma_iommu_ops ? d->backend_state
									       : NULL;
}

static size_t pages_for(size_t offset, size_t len)
{
	return (offset + len + PAGE_SIZE - 1) / PAGE_SIZE;
}

static unsigned perms_for(enum dma_dir dir)
{
	/* The device reads memory for TO_DEVICE and writes it for FROM_DEVICE: nothing more. */
	return ((dir & DMA_DIR_TO_DEVICE) ? VTD_PERM_READ : 0) |
	       ((dir & DMA_DIR_FROM_DEVICE) ? VTD_PERM_WRITE : 0);
}

/* ------------------------------------------------------------------ attach */

static unsigned bits_for(uint64_t last)
{
	unsigned bits = 1;

	while (bits < 64 && (last >> bits) != 0)
		bits++;
	return bits;
}

/*
 * Picks the IOVA window and table depth: 1 TiB with 4 levels, else 256 GiB
 * with 3, else 4 GiB; the window must fit the unit's width and the device's
 * DMA address limit.
 */
static bool choose_window(struct vtd_unit *u, uint64_t device_max, uint64_t *base,
			  unsigned *levels)
{
	static const struct {
		uint64_t base;
		unsigned levels;
	} options[] = {
		{ DMA_IOMMU_WINDOW_4LEVEL, 4 },
		{ DMA_IOMMU_WINDOW_3LEVEL, 3 },
		{ DMA_IOMMU_WINDOW_3LEVEL, 4 },
		{ IOMMU_FALLBACK_WINDOW, 3 },
		{ IOMMU_FALLBACK_WINDOW, 4 },
	};

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		uint64_t last = options[i].base + DMA_IOMMU_WINDOW_BYTES - 1;

		if (last <= device_max && vtd_unit_supports(u, options[i].levels, bits_for(last))) {
			*base = options[i].base;
			*levels = options[i].levels;
			return true;
		}
	}
	return false;
}

static void report_attach(const struct iommu_state *s)
{
	struct proof p;

	proof_begin(&p, "iommu", "attach");
	proof_str(&p, "sid", s->bdf);
	proof_u64(&p, "unit", s->unit->index);
	proof_u64(&p, "domain", s->domain.id);
	proof_u64(&p, "levels", s->domain.levels);
	proof_hex(&p, "window_base", s->window_base, HEX64);
	proof_u64(&p, "window_bytes", DMA_IOMMU_WINDOW_BYTES);
	proof_hex(&p, "canary", virt_to_phys(s->canary), HEX64);
	proof_emit(&p);
}

static struct iommu_state *create_state(struct dma_device *d, char *reason, size_t cap)
{
	struct iommu_state *s = calloc(1, sizeof(*s));
	unsigned levels;

	if (!s) {
		set_reason(reason, cap, "no-memory-for-iommu-state");
		return NULL;
	}
	pci_bdf_format(d->bdf, s->bdf);
	s->sid = vtd_source_id(d->bdf.bus, d->bdf.dev, d->bdf.fn);
	s->unit = vtd_unit_for_device(d->bdf, reason, cap);
	s->canary = pmem_alloc(PAGE_SIZE, PAGE_SIZE, IOMMU_MEMORY_LIMIT);
	if (!s->unit || !s->canary) {
		if (s->unit)
			set_reason(reason, cap, "no-memory-for-canary-page");
		free(s);
		return NULL;
	}
	if (!choose_window(s->unit, d->max_address, &s->window_base, &levels)) {
		set_reason(reason, cap, "no-iova-window-fits-unit-sagaw-0x%x-mgaw-%u-and-device-max-0x%llx",
			   VTD_CAP_SAGAW(s->unit->cap), VTD_CAP_MGAW(s->unit->cap),
			   (unsigned long long)d->max_address);
		free(s);
		return NULL;
	}
	if (!vtd_domain_init(&s->domain, s->unit, levels, reason, cap) ||
	    !vtd_domain_attach(&s->domain, d->bdf, reason, cap)) {
		free(s);
		return NULL;
	}
	dma_canary_fill(s->canary, PAGE_SIZE, IOMMU_CANARY_SEED);
	page_bitmap_init(&s->bitmap, s->window_base, PAGE_SIZE, IOMMU_WINDOW_PAGES, s->bitmap_words);
	report_attach(s);
	return s;
}

/*
 * States by device, so a device that went to another backend and comes back
 * finds its domain again (its context entry still points there).
 */
#define IOMMU_MAX_DEVICES 16
static struct iommu_state *known_states[IOMMU_MAX_DEVICES];

static struct iommu_state *known_state(struct dma_device *d)
{
	char bdf[PCI_BDF_STR_LEN];

	pci_bdf_format(d->bdf, bdf);
	for (size_t i = 0; i < IOMMU_MAX_DEVICES; i++)
		if (known_states[i] && strcmp(known_states[i]->bdf, bdf) == 0)
			return known_states[i];
	return NULL;
}

static struct iommu_state *remember_state(struct iommu_state *s, char *reason, size_t cap)
{
	for (size_t i = 0; s && i < IOMMU_MAX_DEVICES; i++) {
		if (!known_states[i]) {
			known_states[i] = s;
			return s;
		}
	}
	if (s)
		set_reason(reason, cap, "more-than-%d-devices-on-the-iommu-backend",
			   IOMMU_MAX_DEVICES);
	return NULL;
}

static bool iommu_attach(struct dma_device *d, char *reason, size_t cap)
{
	if (!d->backend_state)
		d->backend_state = known_state(d);
	if (!d->backend_state)
		d->backend_state = remember_state(create_state(d, reason, cap), reason, cap);
	struct iommu_state *s = d->backend_state;

	if (!s)
		return false;
	if (s->window_base + DMA_IOMMU_WINDOW_BYTES - 1 > d->max_address) {
		set_reason(reason, cap, "iova-window-above-device-dma-limit");
		return false;
	}
	/* Translation may have been turned off since (self-test failure, shutdown). */
	if (!vtd_enable(s->unit, reason, cap))
		return false;
	if (s->bitmap.used == 0)
		dma_ledger_init(&s->ledger, s->window_base, DMA_IOMMU_WINDOW_BYTES, d->max_address,
				s->entries, IOMMU_LEDGER_ENTRIES);
	else
		s->ledger.device_max = d->max_address;
	return true;
}

/* ------------------------------------------------------------ IOVA handout */

/* Allocates IOVA pages, maps them to phys_page.., records the range. */
static bool hand_out(struct iommu_state *s, uint64_t phys_page, size_t offset, size_t len,
		     enum dma_dir dir, enum iommu_tag tag, bool report, uint64_t *iova_page)
{
	size_t pages = pages_for(offset, len);
	char why[DMA_REASON_MAX];

	if (!page_bitmap_alloc(&s->bitmap, pages, 1, iova_page))
		return false;
	if (!vtd_map(&s->domain, *iova_page, phys_page, pages * PAGE_SIZE, perms_for(dir), report,
		     why, sizeof(why))) {
		page_bitmap_free(&s->bitmap, *iova_page, pages);
		return false;
	}
	if (dma_ledger_record(&s->ledger, *iova_page + offset, len, dir, tag) != DMA_LEDGER_OK) {
		vtd_unmap(&s->domain, *iova_page, pages * PAGE_SIZE, false, why, sizeof(why));
		page_bitmap_free(&s->bitmap, *iova_page, pages);
		return false;
	}
	s->maps++;
	return true;
}

/* Unmaps (IOTLB invalidated before this returns) and releases the IOVA pages. */
static void take_back(struct iommu_state *s, uint64_t iova_page, size_t offset, size_t len,
		      bool report)
{
	size_t pages = pages_for(offset, len);
	char why[DMA_REASON_MAX];

	if (!vtd_unmap(&s->domain, iova_page, pages * PAGE_SIZE, report, why, sizeof(why)) &&
	    s->check_failures++ == 0)
		snprintf(s->first_failure, sizeof(s->first_failure), "%s", why);
	dma_ledger_release(&s->ledger, iova_page + offset, len);
	page_bitmap_free(&s->bitmap, iova_page, pages);
	s->unmaps++;
}

static void *coherent_backing(struct iommu_state *s, size_t pages)
{
	for (size_t i = 0; i < IOMMU_COHERENT_CACHE; i++) {
		if (s->spares[i].cpu && s->spares[i].pages == pages) {
			void *cpu = s->spares[i].cpu;

			s->spares[i].cpu = NULL;
			memset(cpu, 0, pages * PAGE_SIZE);
			return cpu;
		}
	}
	return pmem_alloc(pages * PAGE_SIZE, PAGE_SIZE, IOMMU_MEMORY_LIMIT);
}

static void coherent_spare(struct iommu_state *s, void *cpu, size_t pages)
{
	for (size_t i = 0; i < IOMMU_COHERENT_CACHE; i++) {
		if (!s->spares[i].cpu) {
			s->spares[i] = (struct coherent_spare){ cpu, pages };
			return;
		}
	}
	/* Cache full: the pages stay unused (pmem never frees), but are never mapped again. */
}

static bool iommu_alloc_coherent(struct dma_device *d, size_t size, struct dma_buffer *out)
{
	struct iommu_state *s = state_of(d);
	size_t pages = pages_for(0, size);
	uint64_t iova;
	void *cpu;

	if (!s || size == 0 || !(cpu = coherent_backing(s, pages)))
		return false;
	bool report = s->map_lines < IOMMU_MAP_LINES_MAX;

	if (!hand_out(s, virt_to_phys(cpu), 0, size, DMA_DIR_BIDIRECTIONAL, IOMMU_TAG_COHERENT,
		      report, &iova)) {
		coherent_spare(s, cpu, pages);
		return false;
	}
	s->map_lines += report;
	*out = (struct dma_buffer){ cpu, iova, size };
	return true;
}

static void iommu_free_coherent(struct dma_device *d, struct dma_buffer *buf)
{
	struct iommu_state *s = state_of(d);

	if (!s || buf->size == 0)
		return;
	take_back(s, buf->dev, 0, buf->size, false);
	coherent_spare(s, buf->cpu, pages_for(0, buf->size));
	*buf = (struct dma_buffer){ 0 };
}

static bool iommu_map(struct dma_device *d, void *cpu, size_t len, enum dma_dir dir,
		      struct dma_mapping *out)
{
	struct iommu_state *s = state_of(d);
	size_t offset = (uintptr_t)cpu & (PAGE_SIZE - 1);
	struct iommu_mapping *m = calloc(1, sizeof(*m));
	uint64_t phys_page = virt_to_phys(cpu) - offset;

	if (!s || !m || len == 0) {
		free(m);
		return false;
	}
	m->pages = pages_for(offset, len);
	if (s->redirect_pending) {
		/* Test hook: the device gets an address nothing is mapped at. */
		s->redirect_pending = false;
		m->iova_page = s->redirect_iova;
		m->redirected = true;
	} else if (!hand_out(s, phys_page, offset, len, dir, IOMMU_TAG_STREAMING, false,
			     &m->iova_page)) {
		free(m);
		return false;
	} else {
		s->last_map_iova = m->iova_page;
		s->last_map_phys = phys_page;
	}
	*out = (struct dma_mapping){ cpu, m->iova_page + offset, len, dir, m };
	return true;
}

static void iommu_unmap(struct dma_device *d, struct dma_mapping *mapping)
{
	struct iommu_state *s = state_of(d);
	struct iommu_mapping *m = mapping->backend;
	size_t offset = (uintptr_t)mapping->cpu & (PAGE_SIZE - 1);

	if (s && m && !m->redirected)
		take_back(s, m->iova_page, offset, mapping->len, false);
	free(m);
	mapping->backend = NULL;
	mapping->len = 0;
}

/* ------------------------------------------------------------ check / audit */

static void note_failure(struct iommu_state *s, const char *reason)
{
	if (s->check_failures++ == 0)
		snprintf(s->first_failure, sizeof(s->first_failure), "%s", reason);
}

/* Sorts collected faults into the one a test expects and stray ones. */
static bool absorb_faults(struct iommu_state *s, char *reason, size_t cap)
{
	struct vtd_fault faults[IOMMU_FAULT_BATCH];
	unsigned n = vtd_faults_collect(s->unit, faults, IOMMU_FAULT_BATCH);
	bool ok = true;

	for (unsigned i = 0; i < n && i < IOMMU_FAULT_BATCH; i++) {
		const struct vtd_fault *f = &faults[i];

		s->faults_seen += f->sid == s->sid;
		if (s->expect_pending && f->sid == s->sid && f->addr == s->expect_iova) {
			s->expect_pending = false;
			s->expected_arrived = true;
			s->expected = *f;
			continue;
		}
		s->stray_faults++;
		set_reason(reason, cap, "unexpected-iommu-fault-reason-0x%02x-sid-0x%04x-addr-0x%llx",
			   f->reason, f->sid, (unsigned long long)f->addr);
		ok = false;
	}
	if (n > IOMMU_FAULT_BATCH) {
		s->stray_faults += n - IOMMU_FAULT_BATCH;
		set_reason(reason, cap, "%u-iommu-faults-at-once", n);
		ok = false;
	}
	return ok;
}

static bool canary_ok(struct iommu_state *s, char *reason, size_t cap)
{
	size_t bad;

	if (dma_canary_check(s->canary, PAGE_SIZE, IOMMU_CANARY_SEED, &bad))
		return true;
	set_reason(reason, cap, "iommu-canary-page-changed-at-offset-%zu", bad);
	return false;
}

static bool iommu_check(struct dma_device *d, char *reason, size_t cap)
{
	struct iommu_state *s = state_of(d);

	if (!s) {
		set_reason(reason, cap, "not-attached-to-iommu-backend");
		return false;
	}
	s->checks++;
	bool faults_ok = absorb_faults(s, reason, cap);

	d->blocked_transfers = s->faults_seen;
	if (faults_ok && canary_ok(s, reason, cap))
		return true;
	note_failure(s, reason);
	return false;
}

static void iommu_audit(struct dma_device *d, struct dma_audit_report *out)
{
	struct iommu_state *s = state_of(d);
	char now[DMA_REASON_MAX] = "";

	memset(out, 0, sizeof(*out));
	out->backend = dma_iommu_ops.name;
	if (!s) {
		snprintf(out->reason, sizeof(out->reason), "not-attached");
		return;
	}
	bool faults_ok = absorb_faults(s, now, sizeof(now));

	if (!faults_ok)
		note_failure(s, now);
	dma_ledger_audit(&s->ledger, &out->ledger);
	out->checks = s->checks;
	out->check_failures = s->check_failures;
	out->canaries_intact = canary_ok(s, now, sizeof(now));
	dma_audit_judge(out, &s->ledger, now, s->first_failure);
	out->ok = out->ok && s->stray_faults == 0;
}

const struct dma_backend_ops dma_iommu_ops = {
	.name = "direct-remapping",
	.attach = iommu_attach,
	.alloc_coherent = iommu_alloc_coherent,
	.free_coherent = iommu_free_coherent,
	.map = iommu_map,
	.unmap = iommu_unmap,
	.check = iommu_check,
	.audit = iommu_audit,
};

/* ---------------------------------------------------------------- test hooks */

bool dma_iommu_info(struct dma_device *d, struct dma_iommu_info *out)
{
	struct iommu_state *s = state_of(d);

	if (!s)
		return false;
	*out = (struct dma_iommu_info){
		.unit = s->unit,
		.domain_id = s->domain.id,
		.levels = s->domain.levels,
		.sid = s->sid,
		.window_base = s->window_base,
		.window_size = DMA_IOMMU_WINDOW_BYTES,
		.canary_phys = virt_to_phys(s->canary),
		.last_map_iova = s->last_map_iova,
		.last_map_phys = s->last_map_phys,
		.maps = s->maps,
		.unmaps = s->unmaps,
		.stray_faults = s->stray_faults,
	};
	return true;
}

const struct vtd_domain *dma_iommu_domain(struct dma_device *d)
{
	struct iommu_state *s = state_of(d);

	return s ? &s->domain : NULL;
}

bool dma_iommu_canary_intact(struct dma_device *d)
{
	struct iommu_state *s = state_of(d);
	char why[DMA_REASON_MAX];

	return s && canary_ok(s, why, sizeof(why));
}

void dma_iommu_redirect_next_map(struct dma_device *d, uint64_t iova)
{
	struct iommu_state *s = state_of(d);

	if (!s)
		return;
	s->redirect_pending = true;
	s->redirect_iova = iova & ~(uint64_t)(PAGE_SIZE - 1);
}

void dma_iommu_expect_fault(struct dma_device *d, uint64_t iova)
{
	struct iommu_state *s = state_of(d);

	if (!s)
		return;
	s->expect_pending = true;
	s->expect_iova = iova & VTD_FRCD_LO_ADDR_MASK;
	s->expected_arrived = false;
}

bool dma_iommu_take_expected_fault(struct dma_device *d, struct vtd_fault *out)
{
	struct iommu_state *s = state_of(d);

	if (!s || !s->expected_arrived)
		return false;
	*out = s->expected;
	s->expected_arrived = false;
	s->expect_pending = false;
	return true;
}

bool dma_iommu_collect_faults(struct dma_device *d, char *reason, size_t cap)
{
	struct iommu_state *s = state_of(d);

	if (!s) {
		set_reason(reason, cap, "not-attached-to-iommu-backend");
		return false;
	}
	if (absorb_faults(s, reason, cap))
		return true;
	note_failure(s, reason);
	return false;
}

/* ----------------------------------------------------------------- self-test */

void dma_iommu_stand_down(void)
{
	char why[VTD_REASON_MAX];

	for (unsigned i = 0; i < vtd_unit_count(); i++) {
		struct vtd_unit *u = vtd_unit_get(i);

		if (u->translating)
			vtd_disable(u, why, sizeof(why));
	}
}

/* Every NVMe controller must be behind a unit: the policy is one choice for all. */
static bool controllers_covered(char *why, size_t cap)
{
	size_t count = nvme_probe();

	if (count == 0) {
		set_reason(why, cap, "no-nvme-controller-for-the-remapping-self-test");
		return false;
	}
	for (size_t i = 0; i < count; i++)
		if (!vtd_unit_for_device(nvme_controller(i)->pci->bdf, why, cap))
			return false;
	return true;
}

/*
 * The self-test DMA: bring the first controller up through remapped IOVAs
 * (queues and the Identify buffer all in the window) and check the data
 * came through: Identify's vendor ids must equal the PCI config space's.
 */
static bool self_test_dma(char *why, size_t cap)
{
	struct nvme_ctrl *c = nvme_controller(0);
	struct dma_iommu_info info;

	if (!nvme_bring_up(c, &dma_iommu_ops, NVME_STAGE_IDENTIFIED)) {
		set_reason(why, cap, "self-test-bring-up-failed:%s", c->failure);
		return false;
	}
	if (c->id.vid != c->pci->vendor || c->id.ssvid != c->pci->subsys_vendor) {
		set_reason(why, cap, "self-test-identify-vid-0x%04x-ssvid-0x%04x-not-pci-0x%04x-0x%04x",
			   c->id.vid, c->id.ssvid, c->pci->vendor, c->pci->subsys_vendor);
		return false;
	}
	if (!dma_iommu_collect_faults(&c->dma, why, cap))
		return false;
	if (!dma_iommu_info(&c->dma, &info) || info.stray_faults) {
		set_reason(why, cap, "self-test-saw-%llu-iommu-faults",
			   (unsigned long long)info.stray_faults);
		return false;
	}
	return true;
}

static void report_self_test(bool ok, const char *reason)
{
	struct proof p;
	struct dma_iommu_info info;
	struct nvme_ctrl *c = nvme_probe() ? nvme_controller(0) : NULL;

	proof_begin(&p, "iommu", ok ? "self-test passed" : "self-test failed");
	if (ok && c && dma_iommu_info(&c->dma, &info)) {
		proof_str(&p, "sid", c->bdf);
		proof_hex(&p, "vid", c->id.vid, 4);
		proof_hex(&p, "window_base", info.window_base, HEX64);
		proof_u64(&p, "maps", info.maps);
		proof_u64(&p, "faults", info.stray_faults);
	} else {
		proof_str(&p, "reason", reason);
	}
	proof_emit(&p);
}

bool dma_iommu_verified(const char **reason)
{
	static bool done, ok;
	static char why[DMA_REASON_MAX];

	if (!done) {
		done = true;
		ok = vtd_init(why, sizeof(why)) && controllers_covered(why, sizeof(why)) &&
		     self_test_dma(why, sizeof(why));
		report_self_test(ok, why);
		/*
		 * Leave no translation behind: other tests may hand the controller
		 * bounce buffers next.  The controller is shut down so its next
		 * bring-up re-attaches, which turns translation on again.
		 */
		if (nvme_probe() && nvme_controller(0)->stage != NVME_STAGE_NONE)
			nvme_shutdown(nvme_controller(0));
		dma_iommu_stand_down();
	}
	if (reason)
		*reason = ok ? "remapping-verified" : why;
	return ok;
}

void dma_iommu_register(void)
{
	dma_register_remapping_backend(&dma_iommu_ops, dma_iommu_verified);
}
