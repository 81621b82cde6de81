/* Backend selection and device attachment; see dma.h. */
#include "dma.h"

#include "proof.h"

#include <stdint.h>
#include <stdio.h>

static const struct dma_backend_ops *remapping_ops;
static dma_verified_fn remapping_verified;
static dma_iommu_name_fn remapping_iommu;
static bool selection_reported;

void dma_register_remapping_backend(const struct dma_backend_ops *ops, dma_verified_fn verified,
				    dma_iommu_name_fn iommu_name)
{
	remapping_ops = ops;
	remapping_verified = verified;
	remapping_iommu = iommu_name;
}

/* Which IOMMU remaps for the selected backend: none unless it is the remapping one. */
static const char *selected_iommu(const struct dma_selection *sel)
{
	return sel->ops && sel->ops == remapping_ops && remapping_iommu ? remapping_iommu()
									 : "none";
}

const struct dma_backend_ops *dma_remapping_backend(const char **why)
{
	*why = "no-remapping-backend";
	if (!remapping_ops || !remapping_verified)
		return NULL;
	return remapping_verified(why) ? remapping_ops : NULL;
}

/* The policy: remapping when it is registered and verified, unless dma=bounce forces bounce. */
static void apply_policy(enum dma_mode mode, struct dma_selection *out)
{
	const char *why_not = "no-remapping-backend";

	if (mode == DMA_BOUNCE) {
		*out = (struct dma_selection){ &dma_bounce_ops, "forced-by-option-dma=bounce" };
		return;
	}
	if (remapping_ops && remapping_verified && remapping_verified(&why_not)) {
		*out = (struct dma_selection){ remapping_ops, mode == DMA_IOMMU ?
						"forced-by-option-dma=iommu" : "remapping-verified" };
		return;
	}
	if (mode == DMA_IOMMU) {
		/* Forced remapping that cannot be had: no backend, the caller fails. */
		*out = (struct dma_selection){ NULL, why_not };
		return;
	}
	*out = (struct dma_selection){ &dma_bounce_ops, why_not };
}

void dma_select_backend(enum dma_mode mode, struct dma_selection *out)
{
	apply_policy(mode, out);
	if (selection_reported)
		return;
	selection_reported = true;

	struct proof p;

	proof_begin(&p, "dma", "backend selection");
	proof_str(&p, "backend", out->ops ? out->ops->name : "none");
	proof_str(&p, "reason", out->reason);
	proof_str(&p, "policy", DMA_POLICY);
	proof_str(&p, "option", options_dma_name(mode));
	proof_str(&p, "iommu", selected_iommu(out));
	proof_emit(&p);
}

/* Parks the current backend's state and takes back what `ops` parked earlier (or none). */
static void switch_state(struct dma_device *d, const struct dma_backend_ops *ops)
{
	void *mine = NULL;

	for (size_t i = 0; i < DMA_MAX_BACKENDS; i++) {
		if (d->parked[i].owner == ops) {
			mine = d->parked[i].state;
			d->parked[i].owner = NULL;
		}
	}
	for (size_t i = 0; d->state_owner && d->backend_state && i < DMA_MAX_BACKENDS; i++) {
		if (!d->parked[i].owner) {
			d->parked[i].owner = d->state_owner;
			d->parked[i].state = d->backend_state;
			break;
		}
	}
	d->backend_state = mine; /* state of another backend is not ours to reuse */
	d->state_owner = NULL;
}

bool dma_attach(struct dma_device *d, const struct dma_backend_ops *ops, struct pci_bdf bdf,
		uint64_t max_address, char *reason, size_t cap)
{
	d->bdf = bdf;
	d->max_address = max_address;
	if (ops != remapping_ops && remapping_ops && remapping_ops->detach &&
	    !remapping_ops->detach(d, reason, cap))
		return false;
	if (d->state_owner != ops)
		switch_state(d, ops);
	d->ops = ops;
	if (!ops->attach(d, reason, cap))
		return false;
	d->state_owner = ops;
	return true;
}

void dma_audit_judge(struct dma_audit_report *out, const struct dma_ledger *ledger,
		     const char *canary_reason, const char *first_check_failure)
{
	out->ok = out->ledger.ok && out->canaries_intact && out->check_failures == 0;
	if (!out->canaries_intact)
		snprintf(out->reason, sizeof(out->reason), "%s", canary_reason);
	else if (out->check_failures)
		snprintf(out->reason, sizeof(out->reason), "%s", first_check_failure);
	else if (!out->ledger.ok)
		snprintf(out->reason, sizeof(out->reason), "ledger:%s",
			 out->ledger.refused ? dma_ledger_error_name(ledger->first_refusal) :
					       "stored-entry-failed-recheck");
}

/* ------------------------------------------------ transfers into device buffers */

char dma_in_buffer_mark;

/* Distinct from the backends' own tags: a transfer into a device buffer. */
#define DMA_TAG_IN_BUFFER 3u

static struct dma_ledger *ledger_of(struct dma_device *d)
{
	return d->ops && d->ops->ledger ? d->ops->ledger(d) : NULL;
}

bool dma_buffer_part(const struct dma_buffer *buf, size_t offset, size_t size,
		     struct dma_buffer *out)
{
	if (size == 0 || offset > buf->size || size > buf->size - offset)
		return false;
	*out = (struct dma_buffer){ (uint8_t *)buf->cpu + offset, buf->dev + offset, size };
	return true;
}

bool dma_map_buffer(struct dma_device *d, const struct dma_buffer *buf, size_t len,
		    enum dma_dir dir, struct dma_mapping *out)
{
	struct dma_ledger *l = ledger_of(d);

	if (!l || len == 0 || len > buf->size ||
	    dma_ledger_record_within(l, buf->dev, len, dir, DMA_TAG_IN_BUFFER) != DMA_LEDGER_OK)
		return false;
	*out = (struct dma_mapping){ buf->cpu, buf->dev, len, dir, &dma_in_buffer_mark };
	return true;
}

void dma_unmap_buffer(struct dma_device *d, struct dma_mapping *m)
{
	struct dma_ledger *l = ledger_of(d);

	if (l)
		dma_ledger_release_within(l, m->dev, m->len);
	m->len = 0;
	m->backend = NULL;
}

uint64_t dma_ledger_ranges(struct dma_device *d)
{
	struct dma_ledger *l = ledger_of(d);

	return l ? l->recorded : 0;
}
