/* DMA isolation proofs on every controller; see tests_isolation.h. */
#include "tests_isolation.h"

#include "dma_remap.h"
#include "nvme.h"
#include "nvme_cmd.h"
#include "nvme_io.h"
#include "nvme_read.h"
#include "pmem.h"
#include "proof.h"
#include "tests_common.h"

#include <stdio.h>
#include <string.h>

/* Fill for memory the device must not write: a blocked write must leave it. */
#define ISO_POISON 0x5a
#define ISO_LBA 0
#define HEX64 16
#define HEX_STATUS 3
#define HEX_REASON 2
/* Pages the proofs work in, allocated once (pmem never frees). */
#define ISO_BUF_PAGE 0     /* 2 pages: the read's own buffer */
#define ISO_TARGET_PAGE 2  /* 2 pages: the page a blocked access aims at, and a guard page after it */
#define ISO_REF_PAGE 4     /* 2 pages: reference data from an ordinary read */
#define ISO_LIST_PAGE 6    /* 1 page: a PRP list */
#define ISO_DATA_PAGE 8    /* 3 pages: the PRP-list read's data */
#define ISO_DATA_PAGES 3   /* PRP1 + two list entries: the list must be fetched */
#define ISO_ARENA_PAGES 12
/* Mappings tried in the owner's domain before giving up on an IOVA the other domain lacks. */
#define ISO_CROSS_TRIES 8

static uint8_t *arena;

static uint8_t *arena_page(unsigned index)
{
	return arena + (size_t)index * PAGE_SIZE;
}

/* One controller prepared for a proof: bound to remapping, a namespace to read. */
struct iso_ctrl {
	struct nvme_ctrl *ctrl;
	const struct nvme_namespace *ns;
	struct dma_remap_info info;
	const struct dma_backend_ops *ops;
};

typedef enum test_status (*iso_proof_fn)(struct iso_ctrl *r, char *why, size_t cap);

/* A row's proof, handed through tests_proof_everywhere() as its argument. */
struct iso_proof {
	iso_proof_fn fn;
};

/* What one blocked access left behind. */
struct iso_outcome {
	const char *event;      /* `iommu: <event>` */
	uint64_t iova;          /* the IOVA that must fault */
	uint64_t target;        /* the physical page the access would have reached */
	const char *owner;      /* cross-device: whose domain the IOVA is valid in */
	bool fault_seen;
	struct iommu_fault fault;
	bool fault_cleared;
	bool target_untouched;
	bool buffer_untouched;
	int first_page_arrived; /* boundary: 1/0; -1 when not part of the proof */
	uint16_t nvme_status;
};

/* ---------------------------------------------------------------- memory */

static bool is_poison(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ISO_POISON)
			return false;
	return true;
}

static void poison(uint8_t *p, size_t len)
{
	memset(p, ISO_POISON, len);
}

/* ---------------------------------------------------------------- per controller */

static const struct nvme_namespace *page_sized_namespace(const struct nvme_ctrl *c)
{
	for (size_t i = 0; i < c->ns_count; i++)
		if (c->ns[i].usable && c->ns[i].id.lba_size <= PAGE_SIZE &&
		    c->ns[i].id.metadata_size == 0 &&
		    c->ns[i].id.nsze * c->ns[i].id.lba_size >= ISO_DATA_PAGES * PAGE_SIZE)
			return &c->ns[i];
	return NULL;
}

static enum test_status prepare(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
				struct iso_ctrl *r, char *why, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->ctrl = c;
	r->ops = ops;
	if (!arena)
		arena = pmem_alloc(ISO_ARENA_PAGES * PAGE_SIZE, PAGE_SIZE, UINT64_MAX);
	if (!arena)
		return test_outcome(TEST_FAIL, why, cap, "no memory for the proof pages");
	if (!nvme_bring_up(c, ops, NVME_STAGE_IO_READY))
		return test_outcome(TEST_FAIL, why, cap, "bring-up through remapping failed: %s",
				    c->failure);
	r->ns = page_sized_namespace(c);
	if (!r->ns)
		return test_outcome(TEST_SKIP, why, cap,
				    "no namespace without metadata, with blocks of at most one page and %u pages",
				    ISO_DATA_PAGES);
	if (!dma_remap_info(&c->dma, &r->info))
		return test_outcome(TEST_FAIL, why, cap, "not attached to the remapping backend");
	return TEST_PASS;
}

void tests_isolation_report(const char *proof, const struct nvme_ctrl *c,
			    enum test_status status, const char *why)
{
	static const char *const names[] = { [TEST_PASS] = "PASS", [TEST_FAIL] = "FAIL",
					     [TEST_SKIP] = "SKIP" };
	struct proof p;

	proof_begin(&p, "iommu", "isolation");
	proof_str(&p, "proof", proof);
	proof_str(&p, "sid", c->bdf);
	proof_str(&p, "status", names[status]);
	proof_str(&p, "reason", why[0] ? why : "-");
	proof_emit(&p);
}

struct proof_job {
	const char *proof;   /* the row name, as in the `iommu: isolation` line */
	const struct dma_backend_ops *ops;
	tests_proof_fn fn;
	const void *arg;
};

static enum test_status proof_on_controller(struct nvme_ctrl *c, void *jobp, char *why,
					    size_t cap)
{
	const struct proof_job *job = jobp;
	enum test_status s;

	why[0] = '\0';
	s = job->fn(c, job->ops, job->arg, why, cap);
	tests_isolation_report(job->proof, c, s, why);
	return s;
}

enum test_status tests_proof_everywhere(struct test_ctx *ctx, const char *proof, tests_proof_fn fn,
					const void *arg, const char *done)
{
	const struct dma_backend_ops *ops;
	enum test_status status;

	if (!test_nvme_prologue(ctx, &test_backend_remapped, &ops, &status))
		return status;
	struct proof_job job = { proof, ops, fn, arg };

	return test_each_controller(ctx, proof_on_controller, &job, done);
}

static enum test_status isolation_on(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
				     const void *arg, char *why, size_t cap)
{
	struct iso_ctrl r;
	enum test_status s = prepare(c, ops, &r, why, cap);

	if (s != TEST_PASS)
		return s;
	why[0] = '\0';
	return ((const struct iso_proof *)arg)->fn(&r, why, cap);
}

static enum test_status run_everywhere(struct test_ctx *ctx, const char *proof, iso_proof_fn fn,
				       const char *done)
{
	const struct iso_proof p = { fn };

	return tests_proof_everywhere(ctx, proof, isolation_on, &p, done);
}

/* ---------------------------------------------------------------- reading and faults */

static bool read_pages(struct iso_ctrl *r, void *buf, size_t bytes, const char *purpose,
		       uint16_t *status)
{
	struct nvme_read_stats st;
	bool ok = nvme_read(r->ctrl, r->ns, ISO_LBA, bytes / nvme_io_block_bytes(r->ns), buf, purpose,
			    &st);

	*status = st.status;
	return ok;
}

/* Collects what the unit recorded for the expected fault, and whether anything is left. */
static void collect_expected(struct iso_ctrl *r, struct iso_outcome *o)
{
	char why[DMA_REASON_MAX];

	dma_remap_collect_faults(&r->ctrl->dma, why, sizeof(why));
	o->fault_seen = dma_remap_take_expected_fault(&r->ctrl->dma, &o->fault);
	o->fault_cleared = !r->info.driver->fault_pending(r->info.unit);
}

/* A read of `bytes` whose buffer mapping is replaced by `iova` (nothing mapped for it). */
static void redirected_read(struct iso_ctrl *r, uint64_t iova, uint64_t fault_iova, size_t bytes,
			    const char *purpose, struct iso_outcome *o)
{
	uint8_t *buf = arena_page(ISO_BUF_PAGE);

	poison(buf, bytes);
	dma_remap_expect_fault(&r->ctrl->dma, fault_iova);
	dma_remap_redirect_next_map(&r->ctrl->dma, iova);
	read_pages(r, buf, bytes, purpose, &o->nvme_status);
	collect_expected(r, o);
	o->buffer_untouched = is_poison(buf, bytes);
}

static void fault_sid_text(const struct iso_ctrl *r, uint16_t sid, char out[PCI_BDF_STR_LEN])
{
	struct pci_bdf b = { r->ctrl->pci->bdf.segment, (uint8_t)(sid >> 8),
			     (uint8_t)((sid >> 3) & 0x1f), (uint8_t)(sid & 0x7) };

	pci_bdf_format(b, out);
}

static void report_outcome(const struct iso_ctrl *r, const struct iso_outcome *o)
{
	struct proof p;
	char sid[PCI_BDF_STR_LEN];

	proof_begin(&p, "iommu", o->event);
	proof_str(&p, "sid", r->ctrl->bdf);
	proof_hex(&p, "iova", o->iova, HEX64);
	proof_hex(&p, "target", o->target, HEX64);
	if (o->owner)
		proof_str(&p, "owner", o->owner);
	proof_bool(&p, "fault", o->fault_seen);
	if (o->fault_seen) {
		fault_sid_text(r, o->fault.sid, sid);
		proof_hex(&p, "fault_reason", o->fault.reason, HEX_REASON);
		proof_str(&p, "fault_type", o->fault.access == REMAP_ACCESS_READ ? "read" : "write");
		proof_str(&p, "fault_sid", sid);
		proof_hex(&p, "fault_addr", o->fault.addr, HEX64);
	}
	proof_bool(&p, "fault_cleared", o->fault_cleared);
	proof_bool(&p, "target_untouched", o->target_untouched);
	proof_bool(&p, "buffer_untouched", o->buffer_untouched);
	if (o->first_page_arrived >= 0)
		proof_bool(&p, "first_page_arrived", o->first_page_arrived);
	proof_hex(&p, "nvme_status", nvme_status_code(o->nvme_status), HEX_STATUS);
	proof_emit(&p);
}

/*
 * The claim every proof shares: the unit recorded a page-table denial of
 * `access` at the expected IOVA from one of the controller's requester ids,
 * cleared it, and the memory the access aimed at is unchanged.
 */
static enum test_status judge(const struct iso_ctrl *r, const struct iso_outcome *o,
			      enum remap_access access, char *why, size_t cap)
{
	const char *want = access == REMAP_ACCESS_READ ? "read" : "write";

	report_outcome(r, o);
	if (!o->fault_seen)
		return test_outcome(TEST_FAIL, why, cap, "no fault recorded at IOVA 0x%llx",
				    (unsigned long long)o->iova);
	if (!o->fault.page_denied || o->fault.access != access)
		return test_outcome(TEST_FAIL, why, cap,
				    "fault reason 0x%02x (%s) type %s, expected a denied %s",
				    o->fault.reason, o->fault.reason_name,
				    o->fault.access == REMAP_ACCESS_READ ? "read" : "write", want);
	if (!dma_remap_owns_sid(&r->ctrl->dma, o->fault.sid))
		return test_outcome(TEST_FAIL, why, cap,
				    "fault sid 0x%04x is none of the controller's requester ids",
				    o->fault.sid);
	if (!o->target_untouched)
		return test_outcome(TEST_FAIL, why, cap,
				    "page 0x%llx changed although the access was blocked",
				    (unsigned long long)o->target);
	if (!o->buffer_untouched)
		return test_outcome(TEST_FAIL, why, cap, "the read's own buffer changed");
	if (!o->fault_cleared)
		return test_outcome(TEST_FAIL, why, cap, "a fault is still pending after clearing");
	return test_outcome(TEST_PASS, why, cap, "%s 0x%02x at 0x%llx, memory intact", want,
			    o->fault.reason, (unsigned long long)o->fault.addr);
}

/* ---------------------------------------------------------------- blocked */

static enum test_status proof_blocked(struct iso_ctrl *r, char *why, size_t cap)
{
	/* The canary's physical address used as an IOVA: without remapping it would land. */
	struct iso_outcome o = { .event = "blocked dma", .iova = r->info.canary_phys,
				 .target = r->info.canary_phys, .first_page_arrived = -1 };

	redirected_read(r, o.iova, o.iova, nvme_io_block_bytes(r->ns), "iommu-blocked", &o);
	o.target_untouched = dma_remap_canary_intact(&r->ctrl->dma);
	return judge(r, &o, REMAP_ACCESS_WRITE, why, cap);
}

enum test_status test_isolation_blocked(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.isolation.blocked", proof_blocked,
			      "blocked DMA to the canary's address, fault recorded, canary intact");
}

/* ---------------------------------------------------------------- revoke */

static enum test_status proof_revoke(struct iso_ctrl *r, char *why, size_t cap)
{
	uint8_t *page = arena_page(ISO_TARGET_PAGE);
	uint16_t status;

	/* 1: an ordinary read maps the page at some IOVA and unmaps it at the end. */
	poison(page, PAGE_SIZE);
	if (!read_pages(r, page, nvme_io_block_bytes(r->ns), "iommu-revoke-mapped", &status))
		return test_outcome(TEST_FAIL, why, cap, "read through remapping failed (0x%03x): %s",
				    nvme_status_code(status), r->ctrl->failure);
	dma_remap_info(&r->ctrl->dma, &r->info);
	if (r->info.last_map_phys != virt_to_phys(page))
		return test_outcome(TEST_FAIL, why, cap, "the last mapping was not the read buffer");
	/* 2: the device is sent to the revoked IOVA; a stale IOTLB entry would reach the page. */
	struct iso_outcome o = { .event = "revoked dma", .iova = r->info.last_map_iova,
				 .target = virt_to_phys(page), .first_page_arrived = -1 };

	poison(page, PAGE_SIZE);
	redirected_read(r, o.iova, o.iova, nvme_io_block_bytes(r->ns), "iommu-revoke-unmapped", &o);
	o.target_untouched = is_poison(page, PAGE_SIZE);
	return judge(r, &o, REMAP_ACCESS_WRITE, why, cap);
}

enum test_status test_isolation_revoke(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.isolation.revoke", proof_revoke,
			      "faulted at an unmapped IOVA, the page it mapped untouched");
}

/* ---------------------------------------------------------------- read-only */

static enum test_status proof_read_only(struct iso_ctrl *r, char *why, size_t cap)
{
	uint8_t *page = arena_page(ISO_TARGET_PAGE);
	struct dma_mapping m;

	poison(page, PAGE_SIZE);
	/* The device may read this page, not write it: a READ command makes it write. */
	dma_remap_force_next_map_perms(&r->ctrl->dma, REMAP_PERM_READ);
	if (!dma_map(&r->ctrl->dma, page, PAGE_SIZE, DMA_DIR_FROM_DEVICE, &m))
		return test_outcome(TEST_FAIL, why, cap, "could not map the read-only page");
	struct iso_outcome o = { .event = "read-only dma", .iova = m.dev, .target = virt_to_phys(page),
				 .first_page_arrived = -1 };
	uint64_t phys;
	unsigned perms = 0;

	if (!dma_remap_lookup(&r->ctrl->dma, m.dev, &phys, &perms) || perms != REMAP_PERM_READ) {
		dma_unmap(&r->ctrl->dma, &m);
		return test_outcome(TEST_FAIL, why, cap, "the page is not mapped read-only (perms %u)",
				    perms);
	}
	redirected_read(r, m.dev, m.dev, nvme_io_block_bytes(r->ns), "iommu-read-only", &o);
	o.target_untouched = is_poison(page, PAGE_SIZE);
	dma_unmap(&r->ctrl->dma, &m);
	return judge(r, &o, REMAP_ACCESS_WRITE, why, cap);
}

enum test_status test_isolation_read_only(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.isolation.read-only", proof_read_only,
			      "write into a read-only mapping faulted, the page unchanged");
}

/* ---------------------------------------------------------------- boundary */

static enum test_status proof_boundary(struct iso_ctrl *r, char *why, size_t cap)
{
	uint8_t *ref = arena_page(ISO_REF_PAGE), *target = arena_page(ISO_TARGET_PAGE);
	uint8_t *guard = target + PAGE_SIZE;
	struct dma_mapping m;
	uint16_t status;
	uint64_t phys;
	unsigned perms;

	/* What the two pages hold on the disk, read the ordinary way. */
	poison(ref, 2 * PAGE_SIZE);
	if (!read_pages(r, ref, 2 * PAGE_SIZE, "iommu-boundary-reference", &status))
		return test_outcome(TEST_FAIL, why, cap, "reference read failed (0x%03x): %s",
				    nvme_status_code(status), r->ctrl->failure);
	if (is_poison(ref, PAGE_SIZE))
		return test_outcome(TEST_SKIP, why, cap, "the first page on disk equals the poison fill");
	poison(target, 2 * PAGE_SIZE);
	if (!dma_map(&r->ctrl->dma, target, PAGE_SIZE, DMA_DIR_FROM_DEVICE, &m))
		return test_outcome(TEST_FAIL, why, cap, "could not map the one-page target");
	struct iso_outcome o = { .event = "boundary dma", .iova = m.dev + PAGE_SIZE,
				 .target = virt_to_phys(guard) };

	if (dma_remap_lookup(&r->ctrl->dma, o.iova, &phys, &perms)) {
		dma_unmap(&r->ctrl->dma, &m);
		return test_outcome(TEST_FAIL, why, cap, "IOVA 0x%llx after the mapping is mapped too",
				    (unsigned long long)o.iova);
	}
	/* The device gets the one-page mapping's IOVA for a two-page transfer. */
	redirected_read(r, m.dev, o.iova, 2 * PAGE_SIZE, "iommu-boundary", &o);
	o.first_page_arrived = memcmp(target, ref, PAGE_SIZE) == 0;
	o.target_untouched = is_poison(guard, PAGE_SIZE);
	dma_unmap(&r->ctrl->dma, &m);
	enum test_status s = judge(r, &o, REMAP_ACCESS_WRITE, why, cap);

	if (s == TEST_PASS && !o.first_page_arrived)
		return test_outcome(TEST_FAIL, why, cap, "the mapped first page did not get its data");
	return s;
}

enum test_status test_isolation_boundary(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.isolation.boundary", proof_boundary,
			      "first page arrived, the page past the mapping faulted");
}

/* ---------------------------------------------------------------- no-read */

/* A read of ISO_DATA_PAGES whose PRP list sits in a page the device may only write. */
static enum test_status proof_no_read(struct iso_ctrl *r, char *why, size_t cap)
{
	uint8_t *data = arena_page(ISO_DATA_PAGE), *list = arena_page(ISO_LIST_PAGE);
	struct dma_mapping data_map, list_map;
	struct nvme_prp prp;
	struct nvme_sqe sqe;
	size_t bytes = ISO_DATA_PAGES * PAGE_SIZE;

	poison(data, bytes);
	memset(list, 0, PAGE_SIZE);
	if (!dma_map(&r->ctrl->dma, data, bytes, DMA_DIR_FROM_DEVICE, &data_map))
		return test_outcome(TEST_FAIL, why, cap, "could not map the data pages");
	dma_remap_force_next_map_perms(&r->ctrl->dma, REMAP_PERM_WRITE);
	if (!dma_map(&r->ctrl->dma, list, PAGE_SIZE, DMA_DIR_TO_DEVICE, &list_map)) {
		dma_unmap(&r->ctrl->dma, &data_map);
		return test_outcome(TEST_FAIL, why, cap, "could not map the PRP list page");
	}
	struct nvme_prp_list_page lp = { (uint64_t *)list, list_map.dev };
	enum nvme_prp_error e = nvme_prp_build(data_map.dev, bytes, r->ctrl->page_size, &lp, 1, &prp,
					       NULL);

	if (e != NVME_PRP_OK || prp.prp2 != list_map.dev) {
		dma_unmap(&r->ctrl->dma, &list_map);
		dma_unmap(&r->ctrl->dma, &data_map);
		return test_outcome(TEST_FAIL, why, cap, "PRP list not built: %s",
				    nvme_prp_error_name(e));
	}
	struct iso_outcome o = { .event = "no-read dma", .iova = list_map.dev,
				 .target = virt_to_phys(list), .first_page_arrived = -1 };

	if (!nvme_cmd_read(&sqe, r->ns->nsid, ISO_LBA, (uint32_t)(bytes / nvme_io_block_bytes(r->ns)),
			   &prp)) {
		dma_unmap(&r->ctrl->dma, &list_map);
		dma_unmap(&r->ctrl->dma, &data_map);
		return test_outcome(TEST_FAIL, why, cap, "read command not built");
	}
	dma_remap_expect_fault(&r->ctrl->dma, list_map.dev);
	/* The queue owns data_map from here and unmaps it when the command completes. */
	bool completed = nvme_raw_command(r->ctrl, NVME_IO_QID, &sqe, &data_map, &o.nvme_status);

	collect_expected(r, &o);
	dma_unmap(&r->ctrl->dma, &list_map);
	if (!completed)
		return test_outcome(TEST_FAIL, why, cap, "no completion: %s", r->ctrl->failure);
	/* "No data arrives": none of the data pages changed; the list page itself was only read. */
	o.buffer_untouched = is_poison(data, bytes);
	o.target_untouched = true;
	return judge(r, &o, REMAP_ACCESS_READ, why, cap);
}

enum test_status test_isolation_no_read(struct test_ctx *ctx)
{
	return run_everywhere(ctx, "iommu.isolation.no-read", proof_no_read,
			      "PRP list fetch from a write-only page faulted as a read, no data");
}

/* ---------------------------------------------------------------- cross-device */

/* The next controller after c that is on remapping, or NULL. */
static struct nvme_ctrl *other_remapped(const struct nvme_ctrl *c)
{
	size_t n = nvme_probe(), self = 0;

	for (size_t i = 0; i < n; i++)
		if (nvme_controller(i) == c)
			self = i;
	for (size_t k = 1; k < n; k++) {
		struct nvme_ctrl *o = nvme_controller((self + k) % n);
		struct dma_remap_info info;

		if (o->stage >= NVME_STAGE_IO_READY && dma_remap_info(&o->dma, &info) &&
		    o->dma.ops == c->dma.ops)
			return o;
	}
	return NULL;
}

/* Maps pages in owner's domain until one's IOVA is not valid in victim's; NULL reason on success. */
static const char *owner_only_iova(struct nvme_ctrl *owner, struct nvme_ctrl *victim,
				   struct dma_mapping *maps, unsigned *count, unsigned *chosen)
{
	uint8_t *page = arena_page(ISO_TARGET_PAGE);
	uint64_t phys;
	unsigned perms;

	for (*count = 0; *count < ISO_CROSS_TRIES; (*count)++) {
		if (!dma_map(&owner->dma, page, PAGE_SIZE, DMA_DIR_FROM_DEVICE, &maps[*count]))
			return "could not map the owner's page";
		if (!dma_remap_lookup(&victim->dma, maps[*count].dev, &phys, &perms)) {
			*chosen = (*count)++;
			return NULL;
		}
	}
	return "every IOVA tried in the owner's domain is also mapped in this one";
}

static enum test_status proof_cross_device(struct iso_ctrl *r, char *why, size_t cap)
{
	struct nvme_ctrl *owner = other_remapped(r->ctrl);
	struct dma_mapping maps[ISO_CROSS_TRIES];
	unsigned count = 0, chosen = 0;
	uint8_t *page = arena_page(ISO_TARGET_PAGE);

	if (!owner) {
		/* Bring the others up first: a later controller may not have been bound yet. */
		for (size_t i = 0; i < nvme_probe() && !owner; i++) {
			struct nvme_ctrl *o = nvme_controller(i);

			if (o != r->ctrl && nvme_bring_up(o, r->ops, NVME_STAGE_IO_READY))
				owner = o;
		}
		if (!owner)
			return test_outcome(TEST_SKIP, why, cap,
					    "no second controller on remapping to own the IOVA");
		/* Bringing another controller up may rebind this one's unit state: refresh. */
		dma_remap_info(&r->ctrl->dma, &r->info);
	}
	struct dma_remap_info owner_info;

	if (dma_remap_info(&owner->dma, &owner_info) && owner_info.domain == r->info.domain)
		return test_outcome(TEST_SKIP, why, cap,
				    "shares its domain with %s (one requester id for both)",
				    owner->bdf);
	poison(page, PAGE_SIZE);
	const char *problem = owner_only_iova(owner, r->ctrl, maps, &count, &chosen);
	struct iso_outcome o = { .event = "cross-device dma", .owner = owner->bdf,
				 .target = virt_to_phys(page), .first_page_arrived = -1 };
	uint64_t phys = 0;
	unsigned perms;

	if (!problem) {
		o.iova = maps[chosen].dev;
		if (!dma_remap_lookup(&owner->dma, o.iova, &phys, &perms) ||
		    phys != virt_to_phys(page))
			problem = "the IOVA does not map the owner's page";
	}
	if (!problem)
		redirected_read(r, o.iova, o.iova, nvme_io_block_bytes(r->ns), "iommu-cross-device", &o);
	o.target_untouched = is_poison(page, PAGE_SIZE);
	for (unsigned i = 0; i < count; i++)
		dma_unmap(&owner->dma, &maps[i]);
	if (problem)
		return test_outcome(TEST_FAIL, why, cap, "%s", problem);
	return judge(r, &o, REMAP_ACCESS_WRITE, why, cap);
}

enum test_status test_isolation_cross_device(struct test_ctx *ctx)
{
	enum test_status status;

	if (!test_controllers_present(ctx, &status))
		return status;
	if (nvme_probe() < 2)
		return test_skip(ctx, "fewer than two NVMe controllers (%lu)",
				 (unsigned long)nvme_probe());
	return run_everywhere(ctx, "iommu.isolation.cross-device", proof_cross_device,
			      "wrote to an IOVA valid only in another controller's domain: fault, page intact");
}
