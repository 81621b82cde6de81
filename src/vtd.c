/* The VT-d unit driver; see vtd.h.  Register facts: src/lib/vtd_regs.h. */
#include "vtd.h"

#include "acpi.h"
#include "dmar_report.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"
#include "pci.h"
#include "pmem.h"
#include "proof.h"
#include "timer.h"
#include "vtd_ir.h"
#include "vtd_regs.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE 64u
#define HEX_ADDR_DIGITS 8
#define HEX_REG64_DIGITS 16
#define HEX_REG32_DIGITS 8
#define FIRST_DOMAIN_ID 1 /* domain 0 is reserved when caching mode is on: never use it */
/* Status bits settle at once on QEMU and within microseconds on hardware. */
#define VTD_WAIT_US 100000u
#define VTD_REG_SPAN 0x1000u /* one register page per unit */

struct vtd_unit {
	struct remap_unit common; /* index: DRHD index in the DMAR table */
	uint64_t base;
	bool include_all;
	unsigned scope_count;
	uint32_t ver;
	uint64_t cap;
	uint64_t ecap;
	uint64_t *root;     /* root table (NULL until a device is attached) */
	uint64_t root_phys;
	uint64_t *context[VTD_ROOT_ENTRIES]; /* per-bus context tables */
	bool root_set;      /* RTADDR latched with SRTP */
	bool translating;   /* we enabled TE */
	uint16_t next_domain_id;
	uint16_t bypass_domain_id; /* DID of pass-through entries (0: none allocated yet) */
	uint64_t faults_recorded; /* fault records read and cleared so far */
};

struct vtd_domain {
	struct remap_domain common;
	struct vtd_unit *vu;
	struct vtd_pt pt;
};


static struct dmar_info dmar;
static struct vtd_unit units[DMAR_MAX_UNITS];
static unsigned unit_count;
static struct remap_discovery discovery;

/* ---------------------------------------------------------------- registers */

static uint32_t reg_read32(const struct vtd_unit *u, unsigned off)
{
	return mmio_read32(u->base + off);
}

static uint64_t reg_read64(const struct vtd_unit *u, unsigned off)
{
	return mmio_read64(u->base + off);
}

static void reg_write32(const struct vtd_unit *u, unsigned off, uint32_t v)
{
	mmio_write32(u->base + off, v);
}

static void reg_write64(const struct vtd_unit *u, unsigned off, uint64_t v)
{
	mmio_write64(u->base + off, v);
}

/* Waits until (read & mask) == want; bounded by VTD_WAIT_US. */
static bool wait_gsts(const struct vtd_unit *u, uint32_t mask, uint32_t want)
{
	uint64_t deadline = deadline_after_us(VTD_WAIT_US);

	while ((reg_read32(u, VTD_REG_GSTS) & mask) != want) {
		if (deadline_passed(deadline))
			return false;
		cpu_pause();
	}
	return true;
}

static bool wait_reg64_clear(const struct vtd_unit *u, unsigned off, uint64_t bit,
			     uint64_t *last)
{
	uint64_t deadline = deadline_after_us(VTD_WAIT_US);

	while ((*last = reg_read64(u, off)) & bit) {
		if (deadline_passed(deadline))
			return false;
		cpu_pause();
	}
	return true;
}

/*
 * Issues one GCMD command.  GCMD reads back 0, so the write repeats the
 * enables GSTS reports (minus one-shot bits), plus or minus the one bit.
 */
static bool gcmd_set(const struct vtd_unit *u, uint32_t bit, bool on, uint32_t status_bit,
		     bool status_want_set)
{
	uint32_t gsts = reg_read32(u, VTD_REG_GSTS);
	uint32_t value = vtd_gcmd_value(gsts, on ? bit : 0);

	if (!on)
		value &= ~bit;
	reg_write32(u, VTD_REG_GCMD, value);
	return wait_gsts(u, status_bit, status_want_set ? status_bit : 0);
}

/* Some units need their write buffer flushed before tables changes are seen. */
static bool write_buffer_flush(const struct vtd_unit *u)
{
	if (!(u->cap & VTD_CAP_RWBF))
		return true;
	uint32_t gsts = reg_read32(u, VTD_REG_GSTS);

	reg_write32(u, VTD_REG_GCMD, vtd_gcmd_value(gsts, VTD_GCMD_WBF));
	return wait_gsts(u, VTD_GSTS_WBFS, 0);
}

static bool context_cache_flush_global(const struct vtd_unit *u, char *reason, size_t cap)
{
	uint64_t last;

	reg_write64(u, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL);
	if (!wait_reg64_clear(u, VTD_REG_CCMD, VTD_CCMD_ICC, &last)) {
		remap_reason(reason, cap, "context-cache-invalidation-timeout ccmd=0x%016llx",
			   (unsigned long long)last);
		return false;
	}
	return true;
}

/* One IOTLB invalidation through the register at ECAP.IRO (+ IVA for page-selective). */
static bool iotlb_flush(const struct vtd_unit *u, uint64_t granularity, uint16_t did,
			uint64_t iva, char *reason, size_t cap)
{
	uint64_t drain = ((u->cap & VTD_CAP_DRD) ? VTD_IOTLB_DR : 0) |
			 ((u->cap & VTD_CAP_DWD) ? VTD_IOTLB_DW : 0);
	uint64_t last;

	if (granularity == VTD_IOTLB_IIRG_PAGE)
		reg_write64(u, vtd_iva_offset(u->ecap), iva);
	reg_write64(u, vtd_iotlb_offset(u->ecap),
		    VTD_IOTLB_IVT | granularity | drain | VTD_IOTLB_DID(did));
	if (!wait_reg64_clear(u, vtd_iotlb_offset(u->ecap), VTD_IOTLB_IVT, &last)) {
		remap_reason(reason, cap, "iotlb-invalidation-timeout iotlb=0x%016llx",
			   (unsigned long long)last);
		return false;
	}
	if (VTD_IOTLB_IAIG(last) == 0) {
		remap_reason(reason, cap, "iotlb-invalidation-refused iotlb=0x%016llx",
			   (unsigned long long)last);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ table memory */

/* A non-coherent walker (ECAP.C = 0) reads memory, not the CPU cache. */
static void flush_lines(const void *p, size_t len)
{
	uintptr_t line = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1);

	for (; line < (uintptr_t)p + len; line += CACHE_LINE)
		__asm__ volatile("clflush (%0)" : : "r"(line) : "memory");
	mb();
}

static void flush_for_unit(const struct vtd_unit *u, const void *p, size_t len)
{
	if (!(u->ecap & VTD_ECAP_C))
		flush_lines(p, len);
}

/* Table pages live below the DMA address width the DMAR reports. */
static uint64_t table_memory_limit(void)
{
	return dmar.host_addr_width >= 64 ? UINT64_MAX : 1ull << dmar.host_addr_width;
}

static void *alloc_table_page(uint64_t *phys)
{
	void *page = pmem_alloc(PAGE_SIZE, PAGE_SIZE, table_memory_limit());

	if (page)
		*phys = virt_to_phys(page);
	return page;
}

static void *pt_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	return alloc_table_page(phys);
}

static void *pt_page_ptr(void *ctx, uint64_t phys)
{
	(void)ctx;
	return phys_to_virt(phys);
}

static void pt_flush(void *ctx, const void *p, size_t len)
{
	flush_for_unit(ctx, p, len);
}

/* ---------------------------------------------------------------- discovery */

static void report_dmar(void)
{
	struct proof p;

	proof_begin(&p, "iommu", "dmar");
	proof_u64(&p, "haw", dmar.host_addr_width);
	proof_hex(&p, "flags", dmar.flags, 2);
	proof_u64(&p, "units", dmar.drhd_count);
	proof_u64(&p, "rmrrs", dmar.rmrr_count);
	proof_u64(&p, "skipped", dmar.skipped_structs);
	proof_emit(&p);
}

static void report_unit(const struct vtd_unit *u, bool responds)
{
	struct proof p;
	char ver[8];

	snprintf(ver, sizeof(ver), "%u.%u", VTD_VER_MAJOR(u->ver), VTD_VER_MINOR(u->ver));
	proof_begin(&p, "iommu", "drhd");
	proof_u64(&p, "index", u->common.index);
	proof_u64(&p, "segment", u->common.segment);
	proof_hex(&p, "base", u->base, HEX_ADDR_DIGITS);
	proof_bool(&p, "include_all", u->include_all);
	proof_u64(&p, "scopes", u->scope_count);
	proof_bool(&p, "responds", responds);
	if (responds) {
		proof_str(&p, "ver", ver);
		proof_hex(&p, "cap", u->cap, HEX_REG64_DIGITS);
		proof_hex(&p, "ecap", u->ecap, HEX_REG64_DIGITS);
		proof_hex(&p, "sagaw", VTD_CAP_SAGAW(u->cap), 2);
		proof_u64(&p, "mgaw", VTD_CAP_MGAW(u->cap));
		proof_u64(&p, "nfr", VTD_CAP_NFR(u->cap));
		proof_hex(&p, "gsts", reg_read32(u, VTD_REG_GSTS), HEX_REG32_DIGITS);
	}
	proof_emit(&p);
}

/* Reads one DRHD's registers; a unit reading all ones is not there. */
static bool probe_unit(struct vtd_unit *u, unsigned index)
{
	const struct dmar_drhd *h = &dmar.drhd[index];

	memset(u, 0, sizeof(*u));
	u->common.ops = &vtd_unit_ops;
	u->common.index = index;
	u->common.segment = h->segment;
	u->base = h->reg_base;
	u->include_all = h->flags & DMAR_DRHD_FLAG_INCLUDE_PCI_ALL;
	u->scope_count = h->scope_count;
	u->next_domain_id = FIRST_DOMAIN_ID;
	if (!paging_map_mmio(u->base, VTD_REG_SPAN))
		return false;
	u->ver = reg_read32(u, VTD_REG_VER);
	u->cap = reg_read64(u, VTD_REG_CAP);
	u->ecap = reg_read64(u, VTD_REG_ECAP);
	return u->ver != UINT32_MAX && u->cap != UINT64_MAX;
}

static bool discover(char *reason, size_t cap)
{
	size_t len;
	const void *table = acpi_find_table("DMAR", 0, &len);

	if (!table) {
		remap_reason(reason, cap, "no-valid-dmar-table");
		return false;
	}
	enum dmar_status status = dmar_parse(table, len, &dmar);

	if (status != DMAR_OK) {
		remap_reason(reason, cap, "dmar-%s:%s", dmar_status_str(status), dmar.reason);
		return false;
	}
	report_dmar();
	dmar_report_warnings(&dmar);
	for (unsigned i = 0; i < dmar.drhd_count; i++) {
		bool responds = probe_unit(&units[unit_count], i);

		report_unit(&units[unit_count], responds);
		if (responds)
			unit_count++;
	}
	if (unit_count == 0) {
		remap_reason(reason, cap, "no-remapping-unit-responds");
		return false;
	}
	return true;
}

static bool vtd_discover(char *reason, size_t cap)
{
	return remap_discover_once(&discovery, discover, reason, cap);
}

static unsigned vtd_unit_count(void)
{
	return unit_count;
}

static struct remap_unit *vtd_unit_get(unsigned index)
{
	return index < unit_count ? &units[index].common : NULL;
}

const struct dmar_info *vtd_dmar(void)
{
	return &dmar;
}

static struct vtd_unit *vtd_of(const struct remap_unit *u)
{
	return (struct vtd_unit *)((const char *)u - offsetof(struct vtd_unit, common));
}

static struct vtd_domain *domain_of(const struct remap_domain *d)
{
	return (struct vtd_domain *)((const char *)d - offsetof(struct vtd_domain, common));
}

/* Bridge bus numbers from the PCI enumeration, for walking DMAR scope paths. */
static bool bridge_from_pci(void *ctx, struct dmar_bdf b, uint8_t *secondary,
			    uint8_t *subordinate)
{
	size_t count;
	const struct pci_device *devs = pci_devices(&count);

	(void)ctx;
	for (size_t i = 0; i < count; i++) {
		const struct pci_device *d = &devs[i];

		if (d->bdf.segment == b.segment && d->bdf.bus == b.bus && d->bdf.dev == b.device &&
		    d->bdf.fn == b.function && d->header_type == PCI_HEADER_TYPE_BRIDGE) {
			*secondary = d->secondary_bus;
			*subordinate = d->subordinate_bus;
			return true;
		}
	}
	return false;
}

static struct dmar_bdf to_dmar_bdf(struct pci_bdf b)
{
	return (struct dmar_bdf){ b.segment, b.bus, b.dev, b.fn };
}

static struct remap_unit *vtd_unit_for_device(struct pci_bdf bdf, char *reason, size_t cap)
{
	char name[PCI_BDF_STR_LEN];

	if (!vtd_discover(reason, cap))
		return NULL;
	int index = dmar_find_unit(&dmar, to_dmar_bdf(bdf), bridge_from_pci, NULL, NULL);

	pci_bdf_format(bdf, name);
	if (index < 0) {
		remap_reason(reason, cap, "no-drhd-covers-%s", name);
		return NULL;
	}
	for (unsigned i = 0; i < unit_count; i++)
		if (units[i].common.index == (unsigned)index)
			return &units[i].common;
	remap_reason(reason, cap, "drhd-%d-covering-%s-does-not-respond", index, name);
	return NULL;
}

static bool vtd_supports(const struct remap_unit *ru, unsigned levels, unsigned iova_bits)
{
	const struct vtd_unit *u = vtd_of(ru);

	return (VTD_CAP_SAGAW(u->cap) & vtd_sagaw_bit_for_levels(levels)) &&
	       iova_bits <= VTD_CAP_MGAW(u->cap) && iova_bits <= vtd_pt_address_width(levels);
}

/* ------------------------------------------------------------------ domains */

static bool take_domain_id(struct vtd_unit *u, uint16_t *id, char *reason, size_t cap)
{
	if (u->next_domain_id >= vtd_cap_domains(u->cap)) {
		remap_reason(reason, cap, "no-free-domain-id");
		return false;
	}
	*id = u->next_domain_id++;
	return true;
}

static struct remap_domain *vtd_domain_create(struct remap_unit *ru, unsigned levels, char *reason,
					      size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);
	const struct vtd_pt_ops ops = { pt_alloc, pt_page_ptr, NULL, pt_flush, u };
	struct vtd_domain *d = calloc(1, sizeof(*d));

	if (!d) {
		remap_reason(reason, cap, "no-memory-for-domain");
		return NULL;
	}
	enum vtd_pt_status status = vtd_pt_init(&d->pt, levels, VTD_CAP_SLLPS(u->cap), &ops);

	if (status != VTD_PT_OK) {
		remap_reason(reason, cap, "page-table-%s", vtd_pt_status_str(status));
		free(d);
		return NULL;
	}
	if (!take_domain_id(u, &d->common.id, reason, cap)) {
		free(d);
		return NULL;
	}
	d->vu = u;
	d->common.unit = ru;
	d->common.levels = levels;
	flush_for_unit(u, d->pt.root, PAGE_SIZE);
	return &d->common;
}

/* The bus's context table, created (and linked from the root table) on first use. */
static uint64_t *context_table(struct vtd_unit *u, uint8_t bus)
{
	if (!u->root) {
		u->root = alloc_table_page(&u->root_phys);
		if (!u->root)
			return NULL;
		flush_for_unit(u, u->root, PAGE_SIZE);
	}
	if (!u->context[bus]) {
		uint64_t phys;
		uint64_t *table = alloc_table_page(&phys);

		if (!table)
			return NULL;
		flush_for_unit(u, table, PAGE_SIZE);
		struct vtd_entry128 root = vtd_root_entry(phys);
		uint64_t *slot = &u->root[bus * 2];

		slot[1] = root.hi;
		slot[0] = root.lo;
		flush_for_unit(u, slot, VTD_ENTRY128_SIZE);
		u->context[bus] = table;
	}
	return u->context[bus];
}

static bool vtd_map_range(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size,
			  unsigned perms, char *reason, size_t cap);

/* Reserved regions a device keeps using (RMRRs) stay reachable at their own address. */
static bool map_rmrrs(struct vtd_domain *d, struct pci_bdf bdf, char *reason, size_t cap)
{
	for (unsigned r = 0; r < dmar.rmrr_count; r++) {
		const struct dmar_rmrr *rm = &dmar.rmrr[r];

		for (unsigned s = 0; s < rm->scope_count; s++) {
			struct dmar_bdf end;

			if (rm->segment != bdf.segment ||
			    !dmar_scope_resolve(&dmar.scopes[rm->scope_first + s], rm->segment,
						bridge_from_pci, NULL, &end) ||
			    end.bus != bdf.bus || end.device != bdf.dev || end.function != bdf.fn)
				continue;
			uint64_t size = rm->limit - rm->base + 1;
			struct vtd_translation tr;

			/* An identity domain (see dma_remap.c) maps it already. */
			if (vtd_pt_lookup(&d->pt, rm->base, &tr) == VTD_PT_OK && tr.phys == rm->base)
				continue;
			if (!vtd_map_range(d, rm->base, rm->base, size, VTD_PERM_RW, reason, cap))
				return false;
			remap_report_mapping(&d->common, "map", rm->base, rm->base, size, REMAP_PERM_RW);
		}
	}
	return true;
}

static void report_context(const struct vtd_unit *u, struct pci_bdf rid, uint16_t did,
			   unsigned levels, uint64_t slptptr, struct vtd_entry128 e)
{
	struct proof p;
	char name[PCI_BDF_STR_LEN];

	pci_bdf_format(rid, name);
	proof_begin(&p, "iommu", "context");
	proof_u64(&p, "unit", u->common.index);
	proof_str(&p, "sid", name);
	proof_u64(&p, "domain", did);
	proof_u64(&p, "levels", levels);
	proof_u64(&p, "aw", vtd_aw_for_levels(levels));
	proof_hex(&p, "slptptr", slptptr, HEX_ADDR_DIGITS);
	proof_hex(&p, "lo", e.lo, HEX_REG64_DIGITS);
	proof_hex(&p, "hi", e.hi, HEX_REG64_DIGITS);
	proof_emit(&p);
}

/*
 * Writes rid's context entry and makes the unit forget what it cached for
 * it (context cache and IOTLB, globally: this is rare).
 */
static bool write_context(struct vtd_unit *u, struct pci_bdf rid, struct vtd_entry128 e,
			  char *reason, size_t cap)
{
	uint64_t *table = context_table(u, rid.bus);

	if (!table) {
		remap_reason(reason, cap, "no-memory-for-root-or-context-table");
		return false;
	}
	uint64_t *slot = &table[((rid.dev << 3) | rid.fn) * 2];

	/*
	 * A present entry is replaced in two steps, as the spec's programming
	 * guidance has it: not present and invalidated first, so the unit never
	 * walks half an old and half a new 128-bit entry, nor a cached old one.
	 */
	if (slot[0] & VTD_CTX_LO_P) {
		slot[0] = 0;
		flush_for_unit(u, slot, VTD_ENTRY128_SIZE);
		if (!write_buffer_flush(u) || !context_cache_flush_global(u, reason, cap) ||
		    !iotlb_flush(u, VTD_IOTLB_IIRG_GLOBAL, 0, 0, reason, cap))
			return false;
	}
	slot[1] = e.hi;
	slot[0] = e.lo;
	flush_for_unit(u, slot, VTD_ENTRY128_SIZE);
	return write_buffer_flush(u) && context_cache_flush_global(u, reason, cap) &&
	       iotlb_flush(u, VTD_IOTLB_IIRG_GLOBAL, 0, 0, reason, cap);
}

static const uint64_t *context_slot(const struct vtd_unit *u, struct pci_bdf rid)
{
	return u->context[rid.bus] ? &u->context[rid.bus][((rid.dev << 3) | rid.fn) * 2] : NULL;
}

static bool vtd_attach(struct remap_domain *rd, struct pci_bdf rid, struct pci_bdf device,
		       char *reason, size_t cap)
{
	struct vtd_domain *d = domain_of(rd);
	struct vtd_unit *u = d->vu;
	const struct vtd_context_fields f = {
		.present = true,
		.fault_disable = false, /* faults must be recorded: the isolation proofs read them */
		.translation_type = VTD_TT_PAGE_WALK,
		.slpt_phys = d->pt.root_phys,
		.address_width = vtd_aw_for_levels(rd->levels),
		.domain_id = rd->id,
	};
	struct vtd_entry128 e = vtd_context_entry(&f);

	/* Whatever rid had (pass-through, another domain) is replaced: the core owns who gets what. */
	if (!write_context(u, rid, e, reason, cap))
		return false;
	report_context(u, rid, rd->id, rd->levels, d->pt.root_phys, e);
	bool own = rid.bus == device.bus && rid.dev == device.dev && rid.fn == device.fn;

	return !own || map_rmrrs(d, device, reason, cap);
}

/* Largest table depth the unit walks: a pass-through entry's AW must name one it supports. */
static unsigned deepest_levels(const struct vtd_unit *u)
{
	static const unsigned depths[] = { 5, 4, 3 };

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
		if (VTD_CAP_SAGAW(u->cap) & vtd_sagaw_bit_for_levels(depths[i]))
			return depths[i];
	return 0;
}

/*
 * A pass-through entry (TT=10b): untranslated requests from rid reach
 * memory at their own address while the unit translates for others.
 * Needs ECAP.PT; its DID is one id reserved per unit for all such entries.
 */
static bool vtd_bypass(struct remap_unit *ru, struct pci_bdf rid, char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);
	unsigned levels = deepest_levels(u);

	if (!(u->ecap & VTD_ECAP_PT) || levels == 0) {
		remap_reason(reason, cap, "unit-%u-has-no-pass-through-ecap-0x%016llx", ru->index,
			   (unsigned long long)u->ecap);
		return false;
	}
	if (!u->bypass_domain_id && !take_domain_id(u, &u->bypass_domain_id, reason, cap))
		return false;
	const struct vtd_context_fields f = {
		.present = true,
		.fault_disable = false,
		.translation_type = VTD_TT_PASS_THROUGH,
		.address_width = vtd_aw_for_levels(levels),
		.domain_id = u->bypass_domain_id,
	};
	struct vtd_entry128 e = vtd_context_entry(&f);
	const uint64_t *old = context_slot(u, rid);

	if (old && old[0] == e.lo && old[1] == e.hi)
		return true;
	if (!write_context(u, rid, e, reason, cap))
		return false;
	report_context(u, rid, u->bypass_domain_id, levels, 0, e);
	return true;
}

/* A cleared (not present) entry: requests from rid fault while translation is on. */
static bool vtd_detach(struct remap_unit *ru, struct pci_bdf rid, char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);
	const uint64_t *old = context_slot(u, rid);

	if (!old || !(old[0] & VTD_CTX_LO_P))
		return true;
	return write_context(u, rid, (struct vtd_entry128){ 0, 0 }, reason, cap);
}

/* -------------------------------------------------------------- enable/disable */

/* Queued invalidation makes the registers used here inert: switch it off first. */
static bool ensure_register_invalidation(struct vtd_unit *u, char *reason, size_t cap)
{
	if (!(reg_read32(u, VTD_REG_GSTS) & VTD_GSTS_QIES))
		return true;
	if (!gcmd_set(u, VTD_GCMD_QIE, false, VTD_GSTS_QIES, false)) {
		remap_reason(reason, cap, "queued-invalidation-would-not-turn-off");
		return false;
	}
	return true;
}

static void report_enable(const struct vtd_unit *u, const char *event)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", u->common.index);
	proof_hex(&p, "root", u->root_phys, HEX_ADDR_DIGITS);
	proof_hex(&p, "gsts", reg_read32(u, VTD_REG_GSTS), HEX_REG32_DIGITS);
	proof_emit(&p);
}

static bool vtd_enable(struct remap_unit *ru, char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);

	if (u->translating)
		return true;
	if (!u->root && !context_table(u, 0)) {
		remap_reason(reason, cap, "no-memory-for-root-table");
		return false;
	}
	if (!ensure_register_invalidation(u, reason, cap))
		return false;
	reg_write64(u, VTD_REG_RTADDR, u->root_phys | VTD_RTADDR_TTM_LEGACY);
	if (!gcmd_set(u, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true)) {
		remap_reason(reason, cap, "root-table-pointer-not-latched gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->root_set = true;
	/* Whatever was cached for an earlier root table must go before translating. */
	if (!write_buffer_flush(u) || !context_cache_flush_global(u, reason, cap) ||
	    !iotlb_flush(u, VTD_IOTLB_IIRG_GLOBAL, 0, 0, reason, cap))
		return false;
	if (!gcmd_set(u, VTD_GCMD_TE, true, VTD_GSTS_TES, true)) {
		remap_reason(reason, cap, "translation-did-not-enable gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->translating = true;
	report_enable(u, "enabled");
	return true;
}

static bool vtd_disable(struct remap_unit *ru, char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);

	if (!gcmd_set(u, VTD_GCMD_TE, false, VTD_GSTS_TES, false)) {
		remap_reason(reason, cap, "translation-did-not-disable gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->translating = false;
	report_enable(u, "disabled");
	return true;
}

static bool vtd_translating(const struct remap_unit *ru)
{
	return vtd_of(ru)->translating;
}

/* ------------------------------------------------------------- map / unmap */

/* Smallest page-selective invalidation covering the range, or domain-wide. */
static bool invalidate_range(struct vtd_domain *d, uint64_t iova, uint64_t size, char *reason,
			     size_t cap)
{
	const struct vtd_unit *u = d->vu;
	struct vtd_psi_range psi;

	if (!(u->cap & VTD_CAP_PSI) || !vtd_psi_cover(iova, size, VTD_CAP_MAMV(u->cap), &psi))
		return iotlb_flush(u, VTD_IOTLB_IIRG_DOMAIN, d->common.id, 0, reason, cap);
	return iotlb_flush(u, VTD_IOTLB_IIRG_PAGE, d->common.id,
			   (psi.base & VTD_IVA_ADDR_MASK) | VTD_IVA_AM(psi.am), reason, cap);
}

static unsigned vtd_perms(unsigned remap_perms)
{
	return ((remap_perms & REMAP_PERM_READ) ? VTD_PERM_READ : 0) |
	       ((remap_perms & REMAP_PERM_WRITE) ? VTD_PERM_WRITE : 0);
}

static bool vtd_map_range(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size,
			  unsigned perms, char *reason, size_t cap)
{
	enum vtd_pt_status status = vtd_pt_map(&d->pt, iova, phys, size, perms);

	if (status != VTD_PT_OK) {
		remap_reason(reason, cap, "map-%s iova=0x%llx size=0x%llx", vtd_pt_status_str(status),
			   (unsigned long long)iova, (unsigned long long)size);
		return false;
	}
	/* Caching mode may cache not-present entries: new mappings need a flush too. */
	return write_buffer_flush(d->vu) &&
	       (!(d->vu->cap & VTD_CAP_CM) || invalidate_range(d, iova, size, reason, cap));
}

static bool vtd_map(struct remap_domain *rd, uint64_t iova, uint64_t phys, uint64_t size,
		    unsigned perms, char *reason, size_t cap)
{
	return vtd_map_range(domain_of(rd), iova, phys, size, vtd_perms(perms), reason, cap);
}

/* Clears the range's entries; the IOTLB may still hold them (see vtd_invalidate). */
static bool vtd_clear(struct remap_domain *rd, uint64_t iova, uint64_t size, char *reason,
		      size_t cap)
{
	struct vtd_domain *d = domain_of(rd);
	enum vtd_pt_status status = vtd_pt_unmap(&d->pt, iova, size);

	if (status != VTD_PT_OK) {
		remap_reason(reason, cap, "unmap-%s iova=0x%llx size=0x%llx",
			   vtd_pt_status_str(status), (unsigned long long)iova,
			   (unsigned long long)size);
		return false;
	}
	return true;
}

/* Cleared entries stay live in the IOTLB until invalidated. */
static bool vtd_invalidate(struct remap_domain *rd, uint64_t iova, uint64_t size, char *reason,
			   size_t cap)
{
	struct vtd_domain *d = domain_of(rd);

	return write_buffer_flush(d->vu) && invalidate_range(d, iova, size, reason, cap);
}

/* 2 MiB leaves where CAP.SLLPS has them (1 GiB leaves only ever serve the identity domain). */
static uint64_t vtd_large_page(const struct remap_unit *ru)
{
	return (VTD_CAP_SLLPS(vtd_of(ru)->cap) & VTD_SLLPS_2M) ? VTD_PAGE_2M : VTD_PAGE_4K;
}

static bool vtd_flush_domain(struct remap_domain *rd, char *reason, size_t cap)
{
	return iotlb_flush(domain_of(rd)->vu, VTD_IOTLB_IIRG_DOMAIN, rd->id, 0, reason, cap);
}

static bool vtd_lookup(const struct remap_domain *rd, uint64_t iova, uint64_t *phys,
		       unsigned *perms)
{
	struct vtd_translation tr;

	if (vtd_pt_lookup(&domain_of(rd)->pt, iova, &tr) != VTD_PT_OK)
		return false;
	*phys = tr.phys;
	*perms = ((tr.perms & VTD_PERM_READ) ? REMAP_PERM_READ : 0) |
		 ((tr.perms & VTD_PERM_WRITE) ? REMAP_PERM_WRITE : 0);
	return true;
}

/* ------------------------------------------------------------------- faults */

static struct iommu_fault fault_from_record(const struct vtd_unit *u, unsigned index,
					    uint64_t hi)
{
	uint8_t reason = (uint8_t)VTD_FRCD_HI_REASON(hi);

	return (struct iommu_fault){
		.unit = u->common.index,
		.record = index,
		.sid = VTD_FRCD_HI_SID(hi),
		.addr = reg_read64(u, vtd_frcd_offset(u->cap, index) + VTD_FRCD_LO) &
			VTD_FRCD_LO_ADDR_MASK,
		.access = (hi & VTD_FRCD_HI_TYPE_READ) ? REMAP_ACCESS_READ : REMAP_ACCESS_WRITE,
		/* Reasons 5 and 6 cover "not present" as well as "not permitted". */
		.page_denied = reason == VTD_FR_WRITE_NOT_PERMITTED ||
			       reason == VTD_FR_READ_NOT_PERMITTED,
		.reason = reason,
		.reason_name = vtd_fault_reason_name(reason),
	};
}

/* Reads every valid fault record; clears each (F, then FSTS) when `clear`. */
static unsigned read_records(const struct vtd_unit *u, struct iommu_fault *out, unsigned max,
			     bool clear)
{
	unsigned found = 0;

	for (unsigned i = 0; i < VTD_CAP_NFR(u->cap); i++) {
		unsigned off = vtd_frcd_offset(u->cap, i);
		uint64_t hi = reg_read64(u, off + VTD_FRCD_HI);

		if (!(hi & VTD_FRCD_HI_F))
			continue;
		if (out && found < max)
			out[found] = fault_from_record(u, i, hi);
		if (clear)
			reg_write64(u, off + VTD_FRCD_HI, VTD_FRCD_HI_F); /* write 1 to clear */
		found++;
	}
	uint32_t fsts = reg_read32(u, VTD_REG_FSTS);

	if (clear && (fsts & VTD_FSTS_WRITE1_CLEAR))
		reg_write32(u, VTD_REG_FSTS, fsts & VTD_FSTS_WRITE1_CLEAR);
	return found;
}

static unsigned vtd_faults_collect(struct remap_unit *ru, struct iommu_fault *out, unsigned max)
{
	struct vtd_unit *u = vtd_of(ru);
	unsigned found = read_records(u, out, max, true);

	u->faults_recorded += found;
	return found;
}

static unsigned vtd_faults_read(const struct remap_unit *ru, struct iommu_fault *out,
				unsigned max)
{
	return read_records(vtd_of(ru), out, max, false);
}

static void report_fault_irq(const struct vtd_unit *u)
{
	struct proof p;
	uint32_t fedata = reg_read32(u, VTD_REG_FEDATA);

	proof_begin(&p, "iommu", "fault interrupt");
	proof_u64(&p, "unit", u->common.index);
	proof_hex(&p, "vector", VTD_FEDATA_VECTOR(fedata), 2);
	proof_hex(&p, "feaddr", reg_read32(u, VTD_REG_FEADDR), HEX_REG32_DIGITS);
	proof_hex(&p, "feuaddr", reg_read32(u, VTD_REG_FEUADDR), HEX_REG32_DIGITS);
	proof_hex(&p, "fedata", fedata, HEX_REG32_DIGITS);
	proof_hex(&p, "fectl", reg_read32(u, VTD_REG_FECTL), HEX_REG32_DIGITS);
	proof_emit(&p);
}

/*
 * The fault event is an MSI the unit sends itself (never remapped): data
 * and address first, then IM cleared.  A fault recorded while masked (IP
 * set) is delivered as soon as IM clears.
 */
static bool vtd_fault_irq_route(struct remap_unit *ru, uint64_t msi_addr, uint32_t msi_data,
				char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);

	reg_write32(u, VTD_REG_FEDATA, msi_data);
	reg_write32(u, VTD_REG_FEADDR, (uint32_t)msi_addr);
	reg_write32(u, VTD_REG_FEUADDR, (uint32_t)(msi_addr >> 32));
	reg_write32(u, VTD_REG_FECTL, 0);
	if (reg_read32(u, VTD_REG_FECTL) & VTD_FECTL_IM) {
		remap_reason(reason, cap, "fault-event-stays-masked");
		return false;
	}
	report_fault_irq(u);
	return true;
}

static void report_ir(const struct vtd_unit *u, const char *event)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", u->common.index);
	proof_hex(&p, "irta", reg_read64(u, VTD_REG_IRTA), HEX_REG64_DIGITS);
	proof_hex(&p, "gsts", reg_read32(u, VTD_REG_GSTS), HEX_REG32_DIGITS);
	proof_emit(&p);
}

/*
 * IRTA latched with SIRTP, then IRE: remappable-format MSIs go through the
 * table.  Compatibility-format MSIs are blocked while remapping is on (CFI
 * left clear, as Linux does): with EIM they always are, and unblocked they
 * would let any device bypass the table.  No proof needs them: the
 * controller's proofs use remappable messages only, the unit's own fault
 * event is never remapped.  Register-based invalidation has no
 * interrupt-entry-cache flush (that needs queued invalidation, which this
 * driver keeps off), so the caller must not change an entry while IRE is
 * set.
 */
static bool vtd_ir_capable(const struct remap_unit *ru, bool *extended)
{
	const struct vtd_unit *u = vtd_of(ru);

	*extended = u->ecap & VTD_ECAP_EIM;
	return u->ecap & VTD_ECAP_IR;
}

/*
 * Firmware before us may have left CFI set (GCMD repeats GSTS's enables, so
 * it would stay set).  Only a unit that reports CFIS is asked to clear it:
 * waiting for a status bit the unit never reports (QEMU 7.2 does not
 * implement CFI at all) would only burn the whole VTD_WAIT_US.
 */
static bool cfi_clear(const struct vtd_unit *u)
{
	if (!(reg_read32(u, VTD_REG_GSTS) & VTD_GSTS_CFIS))
		return true;
	return gcmd_set(u, VTD_GCMD_CFI, false, VTD_GSTS_CFIS, false);
}

static bool vtd_ir_enable(struct remap_unit *ru, uint64_t table_phys, unsigned entries,
			  char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);
	bool extended;
	uint64_t irta;

	if (!vtd_ir_capable(ru, &extended)) {
		remap_reason(reason, cap, "unit-has-no-interrupt-remapping");
		return false;
	}
	if (!vtd_irta_value(table_phys, entries, extended, &irta)) {
		remap_reason(reason, cap, "bad-interrupt-table-0x%llx-%u-entries",
			     (unsigned long long)table_phys, entries);
		return false;
	}
	reg_write64(u, VTD_REG_IRTA, irta);
	if (!cfi_clear(u)) {
		remap_reason(reason, cap, "compatibility-format-interrupts-stay-allowed gsts=0x%08x",
			     (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	if (!gcmd_set(u, VTD_GCMD_SIRTP, true, VTD_GSTS_IRTPS, true) ||
	    !gcmd_set(u, VTD_GCMD_IRE, true, VTD_GSTS_IRES, true)) {
		remap_reason(reason, cap, "interrupt-remapping-did-not-enable gsts=0x%08x",
			     (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	report_ir(u, "ir enabled");
	return true;
}

static bool vtd_ir_disable(struct remap_unit *ru, char *reason, size_t cap)
{
	struct vtd_unit *u = vtd_of(ru);

	if (!gcmd_set(u, VTD_GCMD_IRE, false, VTD_GSTS_IRES, false)) {
		remap_reason(reason, cap, "interrupt-remapping-did-not-disable gsts=0x%08x",
			     (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	report_ir(u, "ir disabled");
	return true;
}

static bool vtd_fault_pending(const struct remap_unit *ru)
{
	return (reg_read32(vtd_of(ru), VTD_REG_FSTS) & (VTD_FSTS_PPF | VTD_FSTS_PFO)) != 0;
}

const struct remap_unit_ops vtd_unit_ops = {
	.name = "vtd",
	.acpi_table = "DMAR",
	.discover = vtd_discover,
	.unit_count = vtd_unit_count,
	.unit_get = vtd_unit_get,
	.unit_for_device = vtd_unit_for_device,
	.supports = vtd_supports,
	.domain_create = vtd_domain_create,
	.attach = vtd_attach,
	.bypass = vtd_bypass,
	.detach = vtd_detach,
	.map = vtd_map,
	.clear = vtd_clear,
	.invalidate = vtd_invalidate,
	.large_page = vtd_large_page,
	.flush = vtd_flush_domain,
	.lookup = vtd_lookup,
	.enable = vtd_enable,
	.disable = vtd_disable,
	.translating = vtd_translating,
	.faults_collect = vtd_faults_collect,
	.faults_read = vtd_faults_read,
	.fault_pending = vtd_fault_pending,
	.fault_irq_route = vtd_fault_irq_route,
	.ir_capable = vtd_ir_capable,
	.ir_enable = vtd_ir_enable,
	.ir_disable = vtd_ir_disable,
};
