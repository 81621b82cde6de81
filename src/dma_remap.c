/*
 * The remapping DMA backend: the device-neutral core; see dma_remap.h.
 *
 *   IOVA window (per device, far from RAM)      physical memory
 *   [ window_base ... window_base + 64 MiB )  -> queues, PRP lists, data pages
 *
 * IOVA pages come from a bitmap over the window; every range handed to the
 * device is recorded in the ledger (src/lib/dma_ledger.c) like the bounce
 * backend does.  A canary page that is never mapped sits beside the
 * device's memory: the isolation tests aim DMA at its physical address.
 * The hardware is reached only through the unit driver's ops.  Which
 * driver is in use: dma_remap_select.c; what tests reach into:
 * dma_remap_hooks.c.
 */
#include "dma_remap_internal.h"

#include "pci.h"
#include "pmem.h"
#include "proof.h"
#include "remap_faults.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A streaming mapping's private record (m->backend). */
struct remap_mapping {
	uint64_t iova_page;
	size_t pages;
	bool redirected; /* handed out without a mapping (test) */
};

static struct remap_state *states[REMAP_MAX_DEVICES];

void remap_reason(char *reason, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!reason || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, cap, fmt, ap);
	va_end(ap);
}

struct remap_state *remap_state_of(struct dma_device *d)
{
	return d->state_owner == &dma_remap_ops || d->ops == &dma_remap_ops ? d->backend_state
									       : NULL;
}

static size_t pages_for(size_t offset, size_t len)
{
	return (offset + len + PAGE_SIZE - 1) / PAGE_SIZE;
}

static unsigned perms_for(enum dma_dir dir)
{
	/* The device reads memory for TO_DEVICE and writes it for FROM_DEVICE: nothing more. */
	return ((dir & DMA_DIR_TO_DEVICE) ? REMAP_PERM_READ : 0) |
	       ((dir & DMA_DIR_FROM_DEVICE) ? REMAP_PERM_WRITE : 0);
}

static struct pci_bdf rid_bdf(uint16_t segment, uint16_t rid)
{
	return (struct pci_bdf){ segment, RID_BUS(rid), RID_DEV(rid), RID_FN(rid) };
}

bool remap_owns_sid(const struct remap_state *s, uint16_t sid)
{
	for (unsigned i = 0; i < s->rid_count; i++)
		if (s->rids[i] == sid)
			return true;
	return false;
}

/* ------------------------------------------------------------- aliases */

static const struct pci_device *bridge_above(uint16_t segment, uint8_t bus)
{
	size_t count;
	const struct pci_device *devs = pci_devices(&count);

	for (size_t i = 0; i < count; i++)
		if (devs[i].bdf.segment == segment && devs[i].header_type == PCI_HEADER_TYPE_BRIDGE &&
		    devs[i].secondary_bus == bus && devs[i].bdf.bus != bus)
			return &devs[i];
	return NULL;
}

static enum dma_alias_bridge bridge_kind(const struct pci_device *b)
{
	const struct pci_cap *pcie = pci_cap_find(b->caps, b->cap_count, PCI_CAP_ID_PCIE, false);

	if (!pcie)
		return dma_alias_bridge_kind(0, 0);
	uint16_t flags = pci_read16(b->bdf, pcie->offset + PCI_EXP_FLAGS);

	return dma_alias_bridge_kind(1, (flags >> PCI_EXP_FLAGS_TYPE_SHIFT) & PCI_EXP_FLAGS_TYPE_MASK);
}

static void report_alias(const struct remap_state *s, uint16_t rid, const struct pci_device *via,
			 enum dma_alias_bridge kind)
{
	struct proof p;
	char alias[PCI_BDF_STR_LEN], bridge[PCI_BDF_STR_LEN];

	pci_bdf_format(rid_bdf(s->bdf.segment, rid), alias);
	pci_bdf_format(via->bdf, bridge);
	proof_begin(&p, "iommu", "alias");
	proof_str(&p, "sid", s->name);
	proof_str(&p, "alias", alias);
	proof_str(&p, "via", bridge);
	proof_str(&p, "bridge", dma_alias_bridge_name(kind));
	proof_emit(&p);
}

/* The device's requester ids: its own, then one per aliasing bridge above it. */
static void find_requester_ids(struct remap_state *s, bool report)
{
	if (s->rid_count && (!report || s->aliases_reported))
		return;
	report = report && !s->aliases_reported;
	s->aliases_reported = s->aliases_reported || report;
	struct dma_alias_hop hops[REMAP_MAX_HOPS];
	const struct pci_device *bridges[REMAP_MAX_HOPS];
	int via[DMA_ALIAS_MAX];
	unsigned n = 0;
	uint8_t bus = s->bdf.bus;
	const struct pci_device *b;

	while (n < REMAP_MAX_HOPS && (b = bridge_above(s->bdf.segment, bus))) {
		hops[n] = (struct dma_alias_hop){ dma_alias_rid(b->bdf.bus, b->bdf.dev, b->bdf.fn),
						  b->secondary_bus, bridge_kind(b) };
		bridges[n++] = b;
		bus = b->bdf.bus;
	}
	s->rid_count = dma_alias_list(s->sid, hops, n, s->rids, via, DMA_ALIAS_MAX);
	for (unsigned i = 1; report && i < s->rid_count; i++)
		report_alias(s, s->rids[i], bridges[via[i]], hops[via[i]].kind);
}

/* ---------------------------------------------------------- device records */

static struct remap_state *find_state(struct pci_bdf bdf)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && memcmp(&states[i]->bdf, &bdf, sizeof(bdf)) == 0)
			return states[i];
	return NULL;
}

struct remap_state *remap_state_for(struct pci_bdf bdf)
{
	return find_state(bdf);
}

/* A record for a device under the current driver's unit; NULL + reason. */
static struct remap_state *new_state(struct pci_bdf bdf, char *reason, size_t cap)
{
	size_t slot = 0;

	while (slot < REMAP_MAX_DEVICES && states[slot])
		slot++;
	if (slot == REMAP_MAX_DEVICES) {
		remap_reason(reason, cap, "more-than-%d-devices-on-the-remapping-backend",
			   REMAP_MAX_DEVICES);
		return NULL;
	}
	struct remap_state *s = calloc(1, sizeof(*s));

	if (!s) {
		remap_reason(reason, cap, "no-memory-for-remapping-state");
		return NULL;
	}
	s->drv = dma_remap_driver();
	s->bdf = bdf;
	pci_bdf_format(bdf, s->name);
	s->sid = dma_alias_rid(bdf.bus, bdf.dev, bdf.fn);
	s->unit = s->drv->unit_for_device(bdf, reason, cap);
	if (!s->unit) {
		free(s);
		return NULL;
	}
	states[slot] = s;
	return s;
}

/* Another device whose requester ids include one of s's (two devices behind one bridge). */
static const struct remap_state *alias_owner(const struct remap_state *s)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++) {
		const struct remap_state *o = states[i];

		if (!o || o == s || o->unit != s->unit || !o->domain)
			continue;
		for (unsigned r = 0; r < s->rid_count; r++)
			if (remap_owns_sid(o, s->rids[r]))
				return o;
	}
	return NULL;
}

static bool other_remapped_on_unit(const struct remap_state *s)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && states[i] != s && states[i]->unit == s->unit && states[i]->remapped)
			return true;
	return false;
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
static bool choose_window(const struct remap_state *s, uint64_t device_max, uint64_t *base,
			  unsigned *levels)
{
	static const struct {
		uint64_t base;
		unsigned levels;
	} options[] = {
		{ DMA_REMAP_WINDOW_4LEVEL, 4 },
		{ DMA_REMAP_WINDOW_3LEVEL, 3 },
		{ DMA_REMAP_WINDOW_3LEVEL, 4 },
		{ REMAP_FALLBACK_WINDOW, 3 },
		{ REMAP_FALLBACK_WINDOW, 4 },
	};

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		uint64_t last = options[i].base + DMA_REMAP_WINDOW_BYTES - 1;

		if (last <= device_max && s->drv->supports(s->unit, options[i].levels, bits_for(last))) {
			*base = options[i].base;
			*levels = options[i].levels;
			return true;
		}
	}
	return false;
}

static void report_attach(const struct remap_state *s)
{
	struct proof p;

	proof_begin(&p, "iommu", "attach");
	proof_str(&p, "sid", s->name);
	proof_u64(&p, "unit", s->unit->index);
	proof_u64(&p, "domain", s->domain->id);
	proof_u64(&p, "levels", s->domain->levels);
	proof_hex(&p, "window_base", s->window_base, HEX64);
	proof_u64(&p, "window_bytes", DMA_REMAP_WINDOW_BYTES);
	proof_hex(&p, "canary", virt_to_phys(s->canary), HEX64);
	proof_emit(&p);
}

static bool window_taken(const struct remap_domain *d, uint64_t base)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && states[i]->domain == d && states[i]->window_base == base)
			return true;
	return false;
}

/* A window of its own in `d`, the domain of a device it shares a requester id with. */
static bool join_window(struct remap_state *s, struct remap_domain *d, uint64_t device_max,
			char *reason, size_t cap)
{
	uint64_t first = UINT64_MAX;

	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && states[i]->domain == d && states[i]->window_base < first)
			first = states[i]->window_base;
	for (unsigned k = 1; k < REMAP_MAX_DEVICES; k++) {
		uint64_t base = first + (uint64_t)k * DMA_REMAP_WINDOW_BYTES;
		uint64_t last = base + DMA_REMAP_WINDOW_BYTES - 1;

		if (window_taken(d, base))
			continue;
		if (last > device_max || !s->drv->supports(s->unit, d->levels, bits_for(last)))
			break;
		s->window_base = base;
		s->domain = d;
		return true;
	}
	remap_reason(reason, cap, "no-iova-window-left-in-shared-domain-%u", d->id);
	return false;
}

/* The device's own domain (or its alias group's), IOVA window and canary (first attach only). */
static bool create_domain(struct remap_state *s, uint64_t device_max, char *reason, size_t cap)
{
	unsigned levels;
	const struct remap_state *owner;

	find_requester_ids(s, true);
	s->canary = s->canary ? s->canary : pmem_alloc(PAGE_SIZE, PAGE_SIZE, REMAP_MEMORY_LIMIT);
	if (!s->canary) {
		remap_reason(reason, cap, "no-memory-for-canary-page");
		return false;
	}
	if ((owner = alias_owner(s))) {
		/*
		 * A requester id cannot point at two domains (the unit could not
		 * tell the devices apart): devices sharing one share the domain,
		 * each with its own IOVA window in it.
		 */
		if (!join_window(s, owner->domain, device_max, reason, cap))
			return false;
	} else if (!choose_window(s, device_max, &s->window_base, &levels)) {
		remap_reason(reason, cap, "no-iova-window-fits-unit-%u-and-device-max-0x%llx",
			   s->unit->index, (unsigned long long)device_max);
		return false;
	} else if (!(s->domain = s->drv->domain_create(s->unit, levels, reason, cap))) {
		return false;
	}
	dma_canary_fill(s->canary, PAGE_SIZE, REMAP_CANARY_SEED);
	page_bitmap_init(&s->bitmap, s->window_base, PAGE_SIZE, REMAP_WINDOW_PAGES, s->bitmap_words);
	return true;
}

/* Points every requester id of the device at its domain. */
static bool attach_requester_ids(struct remap_state *s, char *reason, size_t cap)
{
	for (unsigned i = 0; i < s->rid_count; i++)
		if (!s->drv->attach(s->domain, rid_bdf(s->bdf.segment, s->rids[i]), s->bdf, reason,
				    cap))
			return false;
	s->remapped = true;
	return true;
}

/* Per unit, for units without pass-through: one domain mapping bounce memory 1:1. */
static struct {
	const struct remap_unit *unit;
	struct remap_domain *domain;
} identities[REMAP_MAX_DEVICES];

/* The smallest table depth the unit walks that covers 32-bit addresses. */
static unsigned identity_levels(const struct remap_state *s)
{
	static const unsigned depths[] = { 3, 4, 5 };

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
		if (s->drv->supports(s->unit, depths[i], bits_for(DMA_BOUNCE_MEMORY_LIMIT - 1)))
			return depths[i];
	return 0;
}

/*
 * The unit's identity domain: [0, DMA_BOUNCE_MEMORY_LIMIT) mapped to
 * itself, read and write, so a device on the bounce-buffer backend reaches
 * its pool while the unit translates.  Created on first use.
 */
static struct remap_domain *identity_domain(const struct remap_state *s, char *reason, size_t cap)
{
	size_t i = 0;

	while (i < REMAP_MAX_DEVICES && identities[i].unit && identities[i].unit != s->unit)
		i++;
	if (i == REMAP_MAX_DEVICES) {
		remap_reason(reason, cap, "no-slot-for-an-identity-domain");
		return NULL;
	}
	if (identities[i].domain)
		return identities[i].domain;
	unsigned levels = identity_levels(s);
	struct remap_domain *d = levels ? s->drv->domain_create(s->unit, levels, reason, cap) : NULL;

	if (!levels)
		remap_reason(reason, cap, "unit-%u-cannot-map-32-bit-addresses", s->unit->index);
	if (!d || !s->drv->map(d, 0, 0, DMA_BOUNCE_MEMORY_LIMIT, REMAP_PERM_RW, reason, cap))
		return NULL;
	remap_report_mapping(d, "map", 0, 0, DMA_BOUNCE_MEMORY_LIMIT, REMAP_PERM_RW);
	identities[i].unit = s->unit;
	identities[i].domain = d;
	return d;
}

/* Another device, remapped now, that has `rid` among its requester ids (one bridge's alias). */
static const struct remap_state *remapped_sharer(const struct remap_state *o, uint16_t rid)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && states[i] != o && states[i]->unit == o->unit && states[i]->remapped &&
		    remap_owns_sid(states[i], rid))
			return states[i];
	return NULL;
}

/*
 * Lets a device that is not remapped reach bounce memory while its unit
 * translates: a pass-through entry per requester id where the unit has
 * pass-through, else the unit's identity domain.
 */
static bool let_through(struct remap_state *o, bool needed_now, char *reason, size_t cap)
{
	for (unsigned r = 0; r < o->rid_count; r++) {
		struct pci_bdf rid = rid_bdf(o->bdf.segment, o->rids[r]);
		const struct remap_state *sharer = remapped_sharer(o, o->rids[r]);
		struct remap_domain *identity;

		if (sharer && !needed_now)
			continue; /* stays translated for the sharer; o is idle on its other backend */
		if (sharer) {
			char name[PCI_BDF_STR_LEN];

			pci_bdf_format(rid, name);
			remap_reason(reason, cap,
				     "requester-id-%s-shared-with-remapped-%s-they-change-backend-together",
				     name, sharer->name);
			return false;
		}
		if (o->drv->bypass(o->unit, rid, reason, cap))
			continue;
		if (!(identity = identity_domain(o, reason, cap)) ||
		    !o->drv->attach(identity, rid, o->bdf, reason, cap))
			return false;
	}
	return true;
}

/* Turns translation on, after letting every device on another backend through. */
static bool translate_on(struct remap_state *s, char *reason, size_t cap)
{
	if (s->drv->translating(s->unit))
		return true;
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++) {
		struct remap_state *o = states[i];

		if (o && !o->remapped && o->unit == s->unit && !let_through(o, false, reason, cap))
			return false;
	}
	if (!s->drv->enable(s->unit, reason, cap))
		return false;
	remap_faults_route(s->drv, s->unit);
	return true;
}

static bool remap_attach(struct dma_device *d, char *reason, size_t cap)
{
	if (!dma_remap_driver()) {
		remap_reason(reason, cap, "no-remapping-unit-driver-in-use");
		return false;
	}
	if (!d->backend_state)
		d->backend_state = find_state(d->bdf);
	if (!d->backend_state)
		d->backend_state = new_state(d->bdf, reason, cap);
	struct remap_state *s = d->backend_state;

	if (!s)
		return false;
	bool fresh = !s->domain;

	if (fresh && !create_domain(s, d->max_address, reason, cap))
		return false;
	if (s->window_base + DMA_REMAP_WINDOW_BYTES - 1 > d->max_address) {
		remap_reason(reason, cap, "iova-window-above-device-dma-limit");
		return false;
	}
	if (!s->remapped && !attach_requester_ids(s, reason, cap))
		return false;
	if (fresh)
		report_attach(s);
	if (!translate_on(s, reason, cap))
		return false;
	if (s->bitmap.used == 0)
		dma_ledger_init(&s->ledger, s->window_base, DMA_REMAP_WINDOW_BYTES, d->max_address,
				s->entries, REMAP_LEDGER_ENTRIES);
	else
		s->ledger.device_max = d->max_address;
	return true;
}

/* ------------------------------------------------------------------ detach */

/*
 * The device now uses another backend (or was bound to one for the first
 * time): make its untranslated DMA reach memory.  See dma_remap.h.
 */
static bool remap_detach(struct dma_device *d, char *reason, size_t cap)
{
	struct remap_state *s = find_state(d->bdf);

	if (!dma_remap_driver() && !s)
		return true; /* no unit was ever used: nothing translates */
	if (!s && !(s = new_state(d->bdf, NULL, 0)))
		return true; /* no unit covers the device: its DMA is not translated */
	if (s->rid_count == 0)
		find_requester_ids(s, false);
	bool was_remapped = s->remapped;

	s->remapped = false;
	if (s->drv->translating(s->unit) && other_remapped_on_unit(s))
		return let_through(s, true, reason, cap);
	for (unsigned r = 0; was_remapped && r < s->rid_count; r++)
		if (!s->drv->detach(s->unit, rid_bdf(s->bdf.segment, s->rids[r]), reason, cap))
			return false;
	return !s->drv->translating(s->unit) || s->drv->disable(s->unit, reason, cap);
}

/* ------------------------------------------------------------ IOVA handout */

void remap_report_mapping(const struct remap_domain *d, const char *event, uint64_t iova,
			  uint64_t phys, uint64_t size, unsigned perms)
{
	static const char *const names[] = { "none", "r", "w", "rw" };
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", d->unit->index);
	proof_u64(&p, "domain", d->id);
	proof_hex(&p, "iova", iova, HEX64);
	if (perms) {
		proof_hex(&p, "phys", phys, HEX64);
		proof_str(&p, "perms", names[perms & REMAP_PERM_RW]);
	}
	proof_u64(&p, "size", size);
	proof_emit(&p);
}

void remap_note_failure(struct remap_state *s, const char *reason)
{
	if (s->check_failures++ == 0)
		snprintf(s->first_failure, sizeof(s->first_failure), "%s", reason);
}

/* The permissions a test forced on the next streaming map (0: none forced), cleared. */
static unsigned take_forced_perms(struct remap_state *s)
{
	unsigned perms = s->forced_perms;

	s->forced_perms = 0;
	return perms;
}

/* The unit's large leaf page when it helps a mapping of `pages` (else one 4 KiB page). */
static uint64_t large_page_for(const struct remap_state *s, size_t pages)
{
	uint64_t large = s->drv->large_page ? s->drv->large_page(s->unit) : PAGE_SIZE;

	return large > PAGE_SIZE && pages * PAGE_SIZE >= large ? large : PAGE_SIZE;
}

/*
 * IOVA alignment, in pages, for a mapping of `pages` at phys_page: the
 * large leaf page when the physical address is aligned to it (so map can
 * use large leaves for every whole large page of the range), else none.
 */
static size_t iova_align_pages(const struct remap_state *s, uint64_t phys_page, size_t pages)
{
	uint64_t large = large_page_for(s, pages);

	return (phys_page & (large - 1)) == 0 ? (size_t)(large / PAGE_SIZE) : 1;
}

/* Unmaps one range on its own: entries cleared, then the IOTLB invalidated for it. */
static bool unit_unmap(struct remap_state *s, uint64_t iova, uint64_t size, char *why, size_t cap)
{
	return s->drv->clear(s->domain, iova, size, why, cap) &&
	       s->drv->invalidate(s->domain, iova, size, why, cap);
}

/*
 * Allocates IOVA pages, maps them to phys_page.. with the permissions the
 * direction needs (or `perms` when a test forced them), records the range.
 */
static bool hand_out(struct remap_state *s, uint64_t phys_page, size_t offset, size_t len,
		     enum dma_dir dir, enum remap_tag tag, bool report, unsigned perms,
		     uint64_t *iova_page)
{
	size_t pages = pages_for(offset, len);
	char why[DMA_REASON_MAX];

	perms = perms ? perms : perms_for(dir);
	/* Aligned where that allows large leaves; a window too fragmented for it takes any run. */
	if (!page_bitmap_alloc(&s->bitmap, pages, iova_align_pages(s, phys_page, pages), iova_page) &&
	    !page_bitmap_alloc(&s->bitmap, pages, 1, iova_page))
		return false;
	if (!s->drv->map(s->domain, *iova_page, phys_page, pages * PAGE_SIZE, perms, why,
			 sizeof(why))) {
		page_bitmap_free(&s->bitmap, *iova_page, pages);
		return false;
	}
	if (report)
		remap_report_mapping(s->domain, "map", *iova_page, phys_page, pages * PAGE_SIZE,
				     perms);
	if (dma_ledger_record(&s->ledger, *iova_page + offset, len, dir, tag) != DMA_LEDGER_OK) {
		unit_unmap(s, *iova_page, pages * PAGE_SIZE, why, sizeof(why));
		page_bitmap_free(&s->bitmap, *iova_page, pages);
		return false;
	}
	s->maps++;
	return true;
}

/* The unmap is final (its IOTLB invalidation completed): the IOVA pages may be reused. */
static void release_iova(struct remap_state *s, uint64_t iova_page, size_t offset, size_t len)
{
	dma_ledger_release(&s->ledger, iova_page + offset, len);
	page_bitmap_free(&s->bitmap, iova_page, pages_for(offset, len));
	s->unmaps++;
}

/* Unmaps (IOTLB invalidated before this returns) and releases the IOVA pages. */
static void take_back(struct remap_state *s, uint64_t iova_page, size_t offset, size_t len)
{
	char why[DMA_REASON_MAX];

	if (!unit_unmap(s, iova_page, pages_for(offset, len) * PAGE_SIZE, why, sizeof(why)))
		remap_note_failure(s, why);
	s->invalidations++;
	release_iova(s, iova_page, offset, len);
}

/*
 * Ends the open batch's deferred unmaps: one invalidation covering them
 * all, then their IOVA pages go back.  If the unit refuses it, the pages
 * are never reused (the IOTLB may still translate them) and the check fails.
 */
static void finish_batch(struct remap_state *s)
{
	struct remap_batch *b = &s->batch;
	char why[DMA_REASON_MAX];

	if (b->count == 0)
		return;
	bool invalidated = s->drv->invalidate(s->domain, b->lo, b->hi - b->lo, why, sizeof(why));

	if (!invalidated)
		remap_note_failure(s, why);
	s->invalidations++;
	for (unsigned i = 0; i < b->count; i++) {
		const struct remap_deferred *u = &b->items[i];

		if (invalidated)
			release_iova(s, u->iova_page, u->offset, u->len);
		else
			dma_ledger_release(&s->ledger, u->iova_page + u->offset, u->len);
	}
	b->count = 0;
}

/* A streaming unmap inside a batch: entries cleared now, invalidated by finish_batch(). */
static void defer_take_back(struct remap_state *s, uint64_t iova_page, size_t offset, size_t len)
{
	struct remap_batch *b = &s->batch;
	uint64_t end = iova_page + pages_for(offset, len) * PAGE_SIZE;
	char why[DMA_REASON_MAX];

	if (b->count == REMAP_BATCH_MAX)
		finish_batch(s);
	if (!s->drv->clear(s->domain, iova_page, end - iova_page, why, sizeof(why)))
		remap_note_failure(s, why);
	b->lo = b->count == 0 || iova_page < b->lo ? iova_page : b->lo;
	b->hi = b->count == 0 || end > b->hi ? end : b->hi;
	b->items[b->count++] = (struct remap_deferred){ iova_page, offset, len };
}

static void remap_unmap_batch_begin(struct dma_device *d)
{
	struct remap_state *s = remap_state_of(d);

	if (s && s->domain)
		s->batch.open = true;
}

static void remap_unmap_batch_end(struct dma_device *d)
{
	struct remap_state *s = remap_state_of(d);

	if (!s || !s->batch.open)
		return;
	finish_batch(s);
	s->batch.open = false;
}

static void *coherent_backing(struct remap_state *s, size_t pages)
{
	for (size_t i = 0; i < REMAP_COHERENT_CACHE; i++) {
		if (s->spares[i].cpu && s->spares[i].pages == pages) {
			void *cpu = s->spares[i].cpu;

			s->spares[i].cpu = NULL;
			memset(cpu, 0, pages * PAGE_SIZE);
			return cpu;
		}
	}
	/*
	 * Device-lifetime memory of a large page or more starts on a large
	 * page, so its IOVA can too and the unit walks large leaves (fewer
	 * IOTLB entries and misses); if none is left so aligned, any page does.
	 */
	uint64_t align = large_page_for(s, pages);
	void *cpu = pmem_alloc(pages * PAGE_SIZE, align, REMAP_MEMORY_LIMIT);

	return cpu || align == PAGE_SIZE ? cpu : pmem_alloc(pages * PAGE_SIZE, PAGE_SIZE,
							    REMAP_MEMORY_LIMIT);
}

static void coherent_spare(struct remap_state *s, void *cpu, size_t pages)
{
	for (size_t i = 0; i < REMAP_COHERENT_CACHE; i++) {
		if (!s->spares[i].cpu) {
			s->spares[i] = (struct coherent_spare){ cpu, pages };
			return;
		}
	}
	/* Cache full: the pages stay unused (pmem never frees), but are never mapped again. */
}

static bool remap_alloc_coherent(struct dma_device *d, size_t size, struct dma_buffer *out)
{
	struct remap_state *s = remap_state_of(d);
	size_t pages = pages_for(0, size);
	uint64_t iova;
	void *cpu;

	if (!s || !s->domain || size == 0 || !(cpu = coherent_backing(s, pages)))
		return false;
	/* Large buffers are few and use large leaves: always listed, so the witness sees them. */
	bool large = large_page_for(s, pages) > PAGE_SIZE;
	bool report = large || s->map_lines < REMAP_MAP_LINES_MAX;

	if (!hand_out(s, virt_to_phys(cpu), 0, size, DMA_DIR_BIDIRECTIONAL, REMAP_TAG_COHERENT,
		      report, 0, &iova)) {
		coherent_spare(s, cpu, pages);
		return false;
	}
	s->map_lines += report && !large;
	*out = (struct dma_buffer){ cpu, iova, size };
	return true;
}

static void remap_free_coherent(struct dma_device *d, struct dma_buffer *buf)
{
	struct remap_state *s = remap_state_of(d);

	if (!s || !s->domain || buf->size == 0)
		return;
	take_back(s, buf->dev, 0, buf->size);
	coherent_spare(s, buf->cpu, pages_for(0, buf->size));
	*buf = (struct dma_buffer){ 0 };
}

static bool remap_map(struct dma_device *d, void *cpu, size_t len, enum dma_dir dir,
		      struct dma_mapping *out)
{
	struct remap_state *s = remap_state_of(d);
	size_t offset = (uintptr_t)cpu & (PAGE_SIZE - 1);
	struct remap_mapping *m = calloc(1, sizeof(*m));
	uint64_t phys_page = virt_to_phys(cpu) - offset;

	if (!s || !s->domain || !m || len == 0) {
		free(m);
		return false;
	}
	m->pages = pages_for(offset, len);
	if (s->redirect_pending) {
		/* Test hook: the device gets an address nothing is mapped at. */
		s->redirect_pending = false;
		m->iova_page = s->redirect_iova;
		m->redirected = true;
		s->unmapped_handouts++;
	} else if (!hand_out(s, phys_page, offset, len, dir, REMAP_TAG_STREAMING, false,
			     take_forced_perms(s), &m->iova_page)) {
		free(m);
		return false;
	} else {
		s->last_map_iova = m->iova_page;
		s->last_map_phys = phys_page;
	}
	*out = (struct dma_mapping){ cpu, m->iova_page + offset, len, dir, m };
	return true;
}

static void remap_unmap(struct dma_device *d, struct dma_mapping *mapping)
{
	struct remap_state *s = remap_state_of(d);
	struct remap_mapping *m = mapping->backend;
	size_t offset = (uintptr_t)mapping->cpu & (PAGE_SIZE - 1);

	if (s && s->domain && m && !m->redirected) {
		if (s->batch.open)
			defer_take_back(s, m->iova_page, offset, mapping->len);
		else
			take_back(s, m->iova_page, offset, mapping->len);
	}
	free(m);
	mapping->backend = NULL;
	mapping->len = 0;
}

/* ------------------------------------------------------------------ faults */

/*
 * The device a fault belongs to: of those whose requester ids include its
 * sid (several behind one bridge), the one expecting it, else the one
 * whose IOVA window holds the address, else the first.
 */
static struct remap_state *fault_owner(const struct remap_unit *u, const struct iommu_fault *f)
{
	struct remap_state *first = NULL, *by_window = NULL;

	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++) {
		struct remap_state *o = states[i];

		if (!o || o->unit != u || !remap_owns_sid(o, f->sid))
			continue;
		if (o->expect_pending && f->addr == o->expect_iova)
			return o;
		if (o->domain && f->addr - o->window_base < DMA_REMAP_WINDOW_BYTES)
			by_window = by_window ? by_window : o;
		first = first ? first : o;
	}
	return by_window ? by_window : first;
}

static void report_fault(const struct remap_unit *u, const struct iommu_fault *f,
			 const struct remap_state *owner)
{
	struct proof p;
	char sid[PCI_BDF_STR_LEN];

	pci_bdf_format(rid_bdf(u->segment, f->sid), sid);
	proof_begin(&p, "iommu", "fault recorded");
	proof_u64(&p, "unit", u->index);
	proof_u64(&p, "record", f->record);
	proof_hex(&p, "reason", f->reason, 2);
	proof_str(&p, "type", f->access == REMAP_ACCESS_READ ? "read" : "write");
	proof_str(&p, "sid", sid);
	proof_hex(&p, "addr", f->addr, HEX64);
	/* A request that arrived with a DMA alias: name the device it belongs to. */
	if (owner && f->sid != owner->sid)
		proof_str(&p, "device", owner->name);
	proof_str(&p, "seen_by", f->path == REMAP_FAULT_INTERRUPT ? "interrupt" : "poll");
	proof_emit(&p);
}

/*
 * Collects the unit's faults and sorts each to the device it belongs to:
 * the fault that device's test expects, or a stray one.  Any stray fault
 * fails the collecting device's check too (nothing may fault unnoticed).
 */
bool remap_absorb_faults(struct remap_state *s, char *reason, size_t cap)
{
	struct iommu_fault faults[REMAP_FAULT_BATCH];
	unsigned n = remap_faults_take(s->drv, s->unit, faults, REMAP_FAULT_BATCH);
	bool ok = true;

	for (unsigned i = 0; i < n && i < REMAP_FAULT_BATCH; i++) {
		const struct iommu_fault *f = &faults[i];
		struct remap_state *owner = fault_owner(s->unit, f);

		report_fault(s->unit, f, owner);
		if (owner)
			owner->faults_seen++;
		if (owner && owner->expect_pending && f->addr == owner->expect_iova) {
			owner->expect_pending = false;
			owner->expected_arrived = true;
			owner->expected = *f;
			continue;
		}
		(owner ? owner : s)->stray_faults++;
		remap_reason(reason, cap, "unexpected-iommu-fault-reason-0x%02x-sid-0x%04x-addr-0x%llx",
			   f->reason, f->sid, (unsigned long long)f->addr);
		ok = false;
	}
	if (n > REMAP_FAULT_BATCH) {
		s->stray_faults += n - REMAP_FAULT_BATCH;
		remap_reason(reason, cap, "%u-iommu-faults-at-once", n);
		ok = false;
	}
	return ok;
}

/* ------------------------------------------------------------ check / audit */

bool remap_canary_ok(struct remap_state *s, char *reason, size_t cap)
{
	size_t bad;

	if (dma_canary_check(s->canary, PAGE_SIZE, REMAP_CANARY_SEED, &bad))
		return true;
	remap_reason(reason, cap, "iommu-canary-page-changed-at-offset-%zu", bad);
	return false;
}

static bool remap_check(struct dma_device *d, char *reason, size_t cap)
{
	struct remap_state *s = remap_state_of(d);

	if (!s || !s->domain) {
		remap_reason(reason, cap, "not-attached-to-remapping-backend");
		return false;
	}
	s->checks++;
	bool faults_ok = remap_absorb_faults(s, reason, cap);

	/*
	 * A transfer handed an IOVA that maps nothing cannot have delivered its
	 * data, whether or not the unit recorded the fault (QEMU 7.2's AMD-Vi
	 * never writes its event log): at least that many transfers were blocked.
	 */
	d->blocked_transfers = s->faults_seen > s->unmapped_handouts ? s->faults_seen
								      : s->unmapped_handouts;
	if (faults_ok && remap_canary_ok(s, reason, cap))
		return true;
	remap_note_failure(s, reason);
	return false;
}

static void remap_audit(struct dma_device *d, struct dma_audit_report *out)
{
	struct remap_state *s = remap_state_of(d);
	char now[DMA_REASON_MAX] = "";

	memset(out, 0, sizeof(*out));
	out->backend = dma_remap_ops.name;
	if (!s || !s->domain) {
		snprintf(out->reason, sizeof(out->reason), "not-attached");
		return;
	}
	if (!remap_absorb_faults(s, now, sizeof(now)))
		remap_note_failure(s, now);
	dma_ledger_audit(&s->ledger, &out->ledger);
	out->checks = s->checks;
	out->check_failures = s->check_failures;
	out->canaries_intact = remap_canary_ok(s, now, sizeof(now));
	dma_audit_judge(out, &s->ledger, now, s->first_failure);
	out->ok = out->ok && s->stray_faults == 0;
}

/* Transfers into coherent buffers (dma_map_buffer) are recorded here, beside the mappings. */
static struct dma_ledger *remap_ledger(struct dma_device *d)
{
	struct remap_state *s = remap_state_of(d);

	return s && s->domain ? &s->ledger : NULL;
}

const struct dma_backend_ops dma_remap_ops = {
	.name = "direct-remapping",
	.attach = remap_attach,
	.detach = remap_detach,
	.alloc_coherent = remap_alloc_coherent,
	.free_coherent = remap_free_coherent,
	.map = remap_map,
	.unmap = remap_unmap,
	.unmap_batch_begin = remap_unmap_batch_begin,
	.unmap_batch_end = remap_unmap_batch_end,
	.check = remap_check,
	.audit = remap_audit,
	.ledger = remap_ledger,
};

void remap_forget_remapped(const struct remap_unit_ops *drv)
{
	for (size_t i = 0; i < REMAP_MAX_DEVICES; i++)
		if (states[i] && states[i]->drv == drv)
			states[i]->remapped = false;
}
