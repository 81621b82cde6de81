/*
 * The DMA backend interface.  A driver obtains EVERY address it hands to a
 * device (queues, PRP lists, data buffers) through these calls; it never
 * passes virt_to_phys() of its own memory to a device.
 *
 * Backends:
 *  - "bounce-buffer" (dma_bounce.c): a pool below 4 GiB with canary pages
 *    around it; data is copied in/out; a ledger records every range handed
 *    to the device.
 *  - "direct-remapping" (dma_remap.c): the remapping core, which drives
 *    IOMMU units through their drivers (src/remap_unit.h; VT-d, AMD-Vi).  It
 *    registers itself with dma_register_remapping_backend() and is chosen
 *    by the policy "direct-remapping-if-verified-else-bounce-buffer".
 *
 * A device can change backend at any time between transfers (dma_attach):
 * the remapping backend's detach op makes sure its untranslated DMA then
 * reaches memory again, so no test depends on the order it runs in.
 *
 * A dma_device is one device's view: its requester id, its DMA address
 * limit and the backend state that belongs to it.
 */
#ifndef PROOFBOOT_DMA_H
#define PROOFBOOT_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma_ledger.h"
#include "options.h"
#include "pci_cfg.h"

#define DMA_REASON_MAX 120
#define DMA_MAX_BACKENDS 4
/* Every address the bounce-buffer backend hands out is below this (32-bit devices). */
#define DMA_BOUNCE_MEMORY_LIMIT (4ull << 30)

struct dma_device;

/*
 * Memory both the CPU and the device use for the device's lifetime
 * (queues, PRP lists, data buffers a driver reads into directly): from
 * dma_alloc_coherent(), or a part of such a buffer (dma_buffer_part()).
 */
struct dma_buffer {
	void *cpu;
	uint64_t dev;
	size_t size;
};

/*
 * One transfer's data, as the device sees it: a caller buffer made visible
 * for the transfer (dma_map), or a part of a device buffer (dma_map_buffer).
 */
struct dma_mapping {
	void *cpu;         /* the caller's buffer, or the device buffer's bytes */
	uint64_t dev;      /* what the device is given (keeps cpu's offset within a page) */
	size_t len;
	enum dma_dir dir;
	void *backend;     /* backend-private (e.g. the bounce copy); &dma_in_buffer_mark: dma_map_buffer */
};

/* The `backend` of a transfer into a device buffer: nothing to copy or unmap, only the ledger. */
extern char dma_in_buffer_mark;

struct dma_audit_report {
	const char *backend;
	struct dma_ledger_audit ledger;
	uint64_t checks;          /* post-command checks run so far */
	uint64_t check_failures;
	bool canaries_intact;
	bool ok;
	char reason[DMA_REASON_MAX];
};

/*
 * The part of an audit every backend shares: with ledger, checks,
 * check_failures and canaries_intact filled in, sets ok and the first reason
 * (canaries, then post-command checks, then the ledger).
 */
void dma_audit_judge(struct dma_audit_report *out, const struct dma_ledger *ledger,
		     const char *canary_reason, const char *first_check_failure);

struct dma_backend_ops {
	const char *name;
	/* Prepares per-device state; false with a reason when the device cannot be served. */
	bool (*attach)(struct dma_device *d, char *reason, size_t cap);
	/*
	 * Optional.  The device is being bound to ANOTHER backend (whether or
	 * not it ever used this one): afterwards its untranslated DMA must
	 * reach memory (the remapping backend bypasses or stops translating
	 * it).  The device is quiesced (reset) when this is called.  Per-device
	 * state is kept for a later return.
	 */
	bool (*detach)(struct dma_device *d, char *reason, size_t cap);
	/* Zeroed, page-aligned memory visible to the device. */
	bool (*alloc_coherent)(struct dma_device *d, size_t size, struct dma_buffer *out);
	void (*free_coherent)(struct dma_device *d, struct dma_buffer *buf);
	/* Makes [cpu, cpu + len) visible for one transfer in `dir`. */
	bool (*map)(struct dma_device *d, void *cpu, size_t len, enum dma_dir dir,
		    struct dma_mapping *out);
	/* Ends the transfer; data the device wrote is in the caller's buffer afterwards. */
	void (*unmap)(struct dma_device *d, struct dma_mapping *m);
	/*
	 * Optional, both or neither.  The unmaps between begin and end may
	 * share what makes an unmap final (the remapping backend: one IOTLB
	 * invalidation for all of them); end returns only once every one of
	 * them is final, and no device address they gave up is handed out
	 * again before.  The caller ends the batch before it reports the
	 * transfers done.
	 */
	void (*unmap_batch_begin)(struct dma_device *d);
	void (*unmap_batch_end)(struct dma_device *d);
	/* Run after every command: true when nothing outside the handed-out ranges changed. */
	bool (*check)(struct dma_device *d, char *reason, size_t cap);
	void (*audit)(struct dma_device *d, struct dma_audit_report *out);
	/*
	 * Optional.  The ledger of every range this device holds (coherent
	 * buffers and transfers); dma_map_buffer() records its transfers there
	 * as sub-ranges.  NULL (op or result): transfers into device buffers
	 * are refused.
	 */
	struct dma_ledger *(*ledger)(struct dma_device *d);
};

struct dma_device {
	struct pci_bdf bdf;
	uint64_t max_address;   /* highest address this device may be given (inclusive) */
	const struct dma_backend_ops *ops;
	void *backend_state;    /* owned by ops; kept across re-attach to the same backend */
	const struct dma_backend_ops *state_owner;
	/*
	 * The state of backends the device left, kept for its return: pools
	 * and domains come from memory that is never freed, so a device moving
	 * back and forth must not get a new one each time.
	 */
	struct {
		const struct dma_backend_ops *owner;
		void *state;
	} parked[DMA_MAX_BACKENDS];
	/*
	 * Transfers of this device the backend knows were blocked, ever: IOMMU
	 * faults seen, and at least the transfers it deliberately handed an
	 * IOVA that maps nothing (a test hook), fault recorded or not.
	 */
	uint64_t blocked_transfers;
};

extern const struct dma_backend_ops dma_bounce_ops;

/* Bounce pool facts for proof lines; false when `d` is not on the bounce backend. */
bool dma_bounce_pool_info(struct dma_device *d, uint64_t *base, uint64_t *size,
			  uint64_t *canary_bytes);

#define DMA_POLICY "direct-remapping-if-verified-else-bounce-buffer"

/*
 * The remapping backend registers itself; `verified` says whether it proved
 * itself on this machine (and why not).  Until then selection falls back.
 */
typedef bool (*dma_verified_fn)(const char **reason);
/* The IOMMU kind the verified remapping backend drives ("vtd", "amd-vi"), or "none". */
typedef const char *(*dma_iommu_name_fn)(void);
void dma_register_remapping_backend(const struct dma_backend_ops *ops, dma_verified_fn verified,
				    dma_iommu_name_fn iommu_name);

/*
 * The remapping backend, when one is registered and verified on this
 * machine (verification runs on the first call); else NULL and *why says
 * why not.  Tests that want "the remapping backend" ask this, never name it.
 */
const struct dma_backend_ops *dma_remapping_backend(const char **why);

struct dma_selection {
	const struct dma_backend_ops *ops;
	const char *reason;
};

/* Applies the policy to the dma= option; prints `dma: backend selection` the first time. */
void dma_select_backend(enum dma_mode mode, struct dma_selection *out);

/*
 * Binds a device to a backend (re-using its earlier state when the backend
 * is the same); binding to any other backend first detaches it from the
 * remapping backend.
 */
bool dma_attach(struct dma_device *d, const struct dma_backend_ops *ops, struct pci_bdf bdf,
		uint64_t max_address, char *reason, size_t cap);

static inline bool dma_alloc_coherent(struct dma_device *d, size_t size, struct dma_buffer *out)
{
	return d->ops->alloc_coherent(d, size, out);
}

static inline void dma_free_coherent(struct dma_device *d, struct dma_buffer *buf)
{
	d->ops->free_coherent(d, buf);
}

static inline bool dma_map(struct dma_device *d, void *cpu, size_t len, enum dma_dir dir,
			   struct dma_mapping *out)
{
	return d->ops->map(d, cpu, len, dir, out);
}

/*
 * Transfers straight into device memory.  A buffer from dma_alloc_coherent()
 * already belongs to the device for its lifetime: bounce pool pages, or
 * pages the remapping backend mapped once (read and write) into the IOVA
 * window.  A driver that reads into such a buffer needs no per-transfer map:
 * no bounce copy or poison, no page-table write, no IOTLB invalidation.
 *
 *   dma_buffer_part()  [offset, offset + size) of a buffer as a buffer of its
 *                      own (e.g. one region per command in flight); false
 *                      when it does not fit.
 *   dma_map_buffer()   makes the first `len` bytes of `buf` the target of one
 *                      transfer in `dir`.  The address is the backend's (buf
 *                      ->dev), never virt_to_phys() of anything; the
 *                      backend's ledger records the range as a sub-range
 *                      (src/lib/dma_ledger.h): refused unless it lies inside
 *                      a live buffer of this device whose direction covers
 *                      `dir`, and unless no other transfer in flight touches
 *                      those bytes.  So the audit sees every transfer.
 *   dma_unmap()        ends it as any mapping: for these only the ledger entry
 *                      is released.
 *
 * What the caller gives up: the data lands in buf->cpu directly, and nothing
 * is poisoned first, so bytes the device did not write keep their earlier
 * contents (a caller that checks data poisons the bytes itself).  The
 * device's permission is the buffer's (read and write for coherent memory),
 * not narrowed to `dir`.
 */
bool dma_buffer_part(const struct dma_buffer *buf, size_t offset, size_t size,
		     struct dma_buffer *out);
bool dma_map_buffer(struct dma_device *d, const struct dma_buffer *buf, size_t len,
		    enum dma_dir dir, struct dma_mapping *out);
void dma_unmap_buffer(struct dma_device *d, struct dma_mapping *m);

/* Whether the device's backend takes transfers into its buffers (it has a ledger). */
static inline bool dma_buffers_mappable(struct dma_device *d)
{
	return d->ops && d->ops->ledger && d->ops->ledger(d);
}

/* Ranges the device's ledger has accepted so far (transfers included); 0 without a ledger. */
uint64_t dma_ledger_ranges(struct dma_device *d);

static inline void dma_unmap(struct dma_device *d, struct dma_mapping *m)
{
	if (m->backend == &dma_in_buffer_mark)
		dma_unmap_buffer(d, m);
	else
		d->ops->unmap(d, m);
}

static inline bool dma_check(struct dma_device *d, char *reason, size_t cap)
{
	return d->ops->check(d, reason, cap);
}

static inline void dma_audit(struct dma_device *d, struct dma_audit_report *out)
{
	d->ops->audit(d, out);
}

/* Brackets unmaps that may share what makes them final (see unmap_batch_begin). */
static inline void dma_unmap_batch_begin(struct dma_device *d)
{
	if (d->ops->unmap_batch_begin)
		d->ops->unmap_batch_begin(d);
}

static inline void dma_unmap_batch_end(struct dma_device *d)
{
	if (d->ops->unmap_batch_end)
		d->ops->unmap_batch_end(d);
}

#endif
