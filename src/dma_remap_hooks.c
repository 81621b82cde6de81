/*
 * What tests reach into on the remapping backend (declared in dma_remap.h):
 * facts about a device's domain, the canary, deliberate redirections and
 * permissions, and the expected-fault bookkeeping.
 */
#include "dma_remap_internal.h"

#include <string.h>

static struct remap_state *domain_state(struct dma_device *d)
{
	struct remap_state *s = remap_state_of(d);

	return s && s->domain ? s : NULL;
}

static void fill_info(const struct remap_state *s, struct dma_remap_info *out)
{
	*out = (struct dma_remap_info){
		.driver = s->drv,
		.unit = s->unit,
		.domain = s->domain,
		.sid = s->sid,
		.rid_count = s->rid_count,
		.window_base = s->window_base,
		.window_size = DMA_REMAP_WINDOW_BYTES,
		.canary_phys = virt_to_phys(s->canary),
		.last_map_iova = s->last_map_iova,
		.last_map_phys = s->last_map_phys,
		.maps = s->maps,
		.unmaps = s->unmaps,
		.invalidations = s->invalidations,
		.stray_faults = s->stray_faults,
	};
	memcpy(out->rids, s->rids, sizeof(out->rids));
}

bool dma_remap_info(struct dma_device *d, struct dma_remap_info *out)
{
	struct remap_state *s = domain_state(d);

	if (s)
		fill_info(s, out);
	return s != NULL;
}

bool dma_remap_record(struct pci_bdf bdf, struct dma_remap_info *out, bool *attached)
{
	struct remap_state *s = remap_state_for(bdf);

	if (!s || !s->domain)
		return false;
	fill_info(s, out);
	*attached = s->remapped;
	return true;
}

bool dma_remap_owns_sid(struct dma_device *d, uint16_t sid)
{
	struct remap_state *s = domain_state(d);

	return s && remap_owns_sid(s, sid);
}

bool dma_remap_canary_intact(struct dma_device *d)
{
	struct remap_state *s = domain_state(d);
	char why[DMA_REASON_MAX];

	return s && remap_canary_ok(s, why, sizeof(why));
}

bool dma_remap_lookup(struct dma_device *d, uint64_t iova, uint64_t *phys, unsigned *perms)
{
	struct remap_state *s = domain_state(d);

	return s && s->drv->lookup(s->domain, iova, phys, perms);
}

void dma_remap_redirect_next_map(struct dma_device *d, uint64_t iova)
{
	struct remap_state *s = domain_state(d);

	if (!s)
		return;
	s->redirect_pending = true;
	s->redirect_iova = iova & PAGE_MASK_4K;
}

void dma_remap_force_next_map_perms(struct dma_device *d, unsigned perms)
{
	struct remap_state *s = domain_state(d);

	if (s)
		s->forced_perms = perms & REMAP_PERM_RW;
}

void dma_remap_expect_fault(struct dma_device *d, uint64_t iova)
{
	struct remap_state *s = domain_state(d);

	if (!s)
		return;
	s->expect_pending = true;
	s->expect_iova = iova & PAGE_MASK_4K;
	s->expected_arrived = false;
}

bool dma_remap_take_expected_fault(struct dma_device *d, struct iommu_fault *out)
{
	struct remap_state *s = domain_state(d);

	if (!s || !s->expected_arrived)
		return false;
	*out = s->expected;
	s->expected_arrived = false;
	s->expect_pending = false;
	return true;
}

bool dma_remap_collect_faults(struct dma_device *d, char *reason, size_t cap)
{
	struct remap_state *s = domain_state(d);

	if (!s) {
		remap_reason(reason, cap, "not-attached-to-remapping-backend");
		return false;
	}
	if (remap_absorb_faults(s, reason, cap))
		return true;
	remap_note_failure(s, reason);
	return false;
}
