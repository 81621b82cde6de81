/* VT-d remapping units; see vtd.h.  Register facts: src/lib/vtd_regs.h. */
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
#include "vtd_regs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CACHE_LINE 64u
#define HEX_ADDR_DIGITS 8
#define HEX_REG64_DIGITS 16
#define HEX_REG32_DIGITS 8
#define FIRST_DOMAIN_ID 1 /* domain 0 is reserved when caching mode is on: never use it */

static struct dmar_info dmar;
static struct vtd_unit units[DMAR_MAX_UNITS];
static unsigned unit_count;
static bool init_done;
static bool init_ok;
static char init_reason[VTD_REASON_MAX];

static void set_reason(char *reason, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!reason || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, cap, fmt, ap);
	va_end(ap);
}

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
		set_reason(reason, cap, "context-cache-invalidation-timeout ccmd=0x%016llx",
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
		set_reason(reason, cap, "iotlb-invalidation-timeout iotlb=0x%016llx",
			   (unsigned long long)last);
		return false;
	}
	if (VTD_IOTLB_IAIG(last) == 0) {
		set_reason(reason, cap, "iotlb-invalidation-refused iotlb=0x%016llx",
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
	proof_u64(&p, "index", u->index);
	proof_u64(&p, "segment", u->segment);
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
	u->index = index;
	u->segment = h->segment;
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
		set_reason(reason, cap, "no-valid-dmar-table");
		return false;
	}
	enum dmar_status status = dmar_parse(table, len, &dmar);

	if (status != DMAR_OK) {
		set_reason(reason, cap, "dmar-%s:%s", dmar_status_str(status), dmar.reason);
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
		set_reason(reason, cap, "no-remapping-unit-responds");
		return false;
	}
	return true;
}

bool vtd_init(char *reason, size_t cap)
{
	if (!init_done) {
		init_done = true;
		init_ok = discover(init_reason, sizeof(init_reason));
		if (!init_ok) {
			struct proof p;

			proof_begin(&p, "iommu", "unavailable");
			proof_str(&p, "reason", init_reason);
			proof_emit(&p);
		}
	}
	if (!init_ok)
		set_reason(reason, cap, "%s", init_reason);
	return init_ok;
}

unsigned vtd_unit_count(void)
{
	return unit_count;
}

struct vtd_unit *vtd_unit_get(unsigned index)
{
	return index < unit_count ? &units[index] : NULL;
}

const struct dmar_info *vtd_dmar(void)
{
	return &dmar;
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

struct vtd_unit *vtd_unit_for_device(struct pci_bdf bdf, char *reason, size_t cap)
{
	char name[PCI_BDF_STR_LEN];

	if (!vtd_init(reason, cap))
		return NULL;
	int index = dmar_find_unit(&dmar, to_dmar_bdf(bdf), bridge_from_pci, NULL, NULL);

	pci_bdf_format(bdf, name);
	if (index < 0) {
		set_reason(reason, cap, "no-drhd-covers-%s", name);
		return NULL;
	}
	for (unsigned i = 0; i < unit_count; i++)
		if (units[i].index == (unsigned)index)
			return &units[i];
	set_reason(reason, cap, "drhd-%d-covering-%s-does-not-respond", index, name);
	return NULL;
}

bool vtd_unit_supports(const struct vtd_unit *u, unsigned levels, unsigned iova_bits)
{
	return (VTD_CAP_SAGAW(u->cap) & vtd_sagaw_bit_for_levels(levels)) &&
	       iova_bits <= VTD_CAP_MGAW(u->cap) && iova_bits <= vtd_pt_address_width(levels);
}

/* ------------------------------------------------------------------ domains */

bool vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, unsigned levels, char *reason,
		     size_t cap)
{
	const struct vtd_pt_ops ops = { pt_alloc, pt_page_ptr, NULL, pt_flush, u };

	memset(d, 0, sizeof(*d));
	if (u->next_domain_id >= vtd_cap_domains(u->cap)) {
		set_reason(reason, cap, "no-free-domain-id");
		return false;
	}
	enum vtd_pt_status status = vtd_pt_init(&d->pt, levels, VTD_CAP_SLLPS(u->cap), &ops);

	if (status != VTD_PT_OK) {
		set_reason(reason, cap, "page-table-%s", vtd_pt_status_str(status));
		return false;
	}
	d->unit = u;
	d->levels = levels;
	d->id = u->next_domain_id++;
	flush_for_unit(u, d->pt.root, PAGE_SIZE);
	return true;
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
			if (!vtd_map(d, rm->base, rm->base, rm->limit - rm->base + 1, VTD_PERM_RW, true,
				     reason, cap))
				return false;
		}
	}
	return true;
}

static void report_context(const struct vtd_domain *d, struct pci_bdf bdf,
			   struct vtd_entry128 e)
{
	struct proof p;
	char name[PCI_BDF_STR_LEN];

	pci_bdf_format(bdf, name);
	proof_begin(&p, "iommu", "context");
	proof_u64(&p, "unit", d->unit->index);
	proof_str(&p, "sid", name);
	proof_u64(&p, "domain", d->id);
	proof_u64(&p, "levels", d->levels);
	proof_u64(&p, "aw", vtd_aw_for_levels(d->levels));
	proof_hex(&p, "slptptr", d->pt.root_phys, HEX_ADDR_DIGITS);
	proof_hex(&p, "lo", e.lo, HEX_REG64_DIGITS);
	proof_hex(&p, "hi", e.hi, HEX_REG64_DIGITS);
	proof_emit(&p);
}

bool vtd_domain_attach(struct vtd_domain *d, struct pci_bdf bdf, char *reason, size_t cap)
{
	struct vtd_unit *u = d->unit;
	uint64_t *table = context_table(u, bdf.bus);

	if (!table) {
		set_reason(reason, cap, "no-memory-for-root-or-context-table");
		return false;
	}
	uint64_t *slot = &table[((bdf.dev << 3) | bdf.fn) * 2];
	const struct vtd_context_fields f = {
		.present = true,
		.fault_disable = false, /* faults must be recorded: the isolation proofs read them */
		.translation_type = VTD_TT_PAGE_WALK,
		.slpt_phys = d->pt.root_phys,
		.address_width = vtd_aw_for_levels(d->levels),
		.domain_id = d->id,
	};
	struct vtd_entry128 e = vtd_context_entry(&f);

	if ((slot[0] & VTD_CTX_LO_P) && slot[0] != e.lo) {
		set_reason(reason, cap, "context-entry-already-present-for-another-domain");
		return false;
	}
	/* High half first: the entry becomes live with the P bit in the low half. */
	slot[1] = e.hi;
	slot[0] = e.lo;
	flush_for_unit(u, slot, VTD_ENTRY128_SIZE);
	if (!write_buffer_flush(u) || !context_cache_flush_global(u, reason, cap) ||
	    !iotlb_flush(u, VTD_IOTLB_IIRG_GLOBAL, 0, 0, reason, cap))
		return false;
	report_context(d, bdf, e);
	return map_rmrrs(d, bdf, reason, cap);
}

/* -------------------------------------------------------------- enable/disable */

/* Queued invalidation makes the registers used here inert: switch it off first. */
static bool ensure_register_invalidation(struct vtd_unit *u, char *reason, size_t cap)
{
	if (!(reg_read32(u, VTD_REG_GSTS) & VTD_GSTS_QIES))
		return true;
	if (!gcmd_set(u, VTD_GCMD_QIE, false, VTD_GSTS_QIES, false)) {
		set_reason(reason, cap, "queued-invalidation-would-not-turn-off");
		return false;
	}
	return true;
}

static void report_enable(const struct vtd_unit *u, const char *event)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", u->index);
	proof_hex(&p, "root", u->root_phys, HEX_ADDR_DIGITS);
	proof_hex(&p, "gsts", reg_read32(u, VTD_REG_GSTS), HEX_REG32_DIGITS);
	proof_emit(&p);
}

bool vtd_enable(struct vtd_unit *u, char *reason, size_t cap)
{
	if (u->translating)
		return true;
	if (!u->root && !context_table(u, 0)) {
		set_reason(reason, cap, "no-memory-for-root-table");
		return false;
	}
	if (!ensure_register_invalidation(u, reason, cap))
		return false;
	reg_write64(u, VTD_REG_RTADDR, u->root_phys | VTD_RTADDR_TTM_LEGACY);
	if (!gcmd_set(u, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true)) {
		set_reason(reason, cap, "root-table-pointer-not-latched gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->root_set = true;
	/* Whatever was cached for an earlier root table must go before translating. */
	if (!write_buffer_flush(u) || !context_cache_flush_global(u, reason, cap) ||
	    !iotlb_flush(u, VTD_IOTLB_IIRG_GLOBAL, 0, 0, reason, cap))
		return false;
	if (!gcmd_set(u, VTD_GCMD_TE, true, VTD_GSTS_TES, true)) {
		set_reason(reason, cap, "translation-did-not-enable gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->translating = true;
	report_enable(u, "enabled");
	return true;
}

bool vtd_disable(struct vtd_unit *u, char *reason, size_t cap)
{
	if (!gcmd_set(u, VTD_GCMD_TE, false, VTD_GSTS_TES, false)) {
		set_reason(reason, cap, "translation-did-not-disable gsts=0x%08x",
			   (unsigned)reg_read32(u, VTD_REG_GSTS));
		return false;
	}
	u->translating = false;
	report_enable(u, "disabled");
	return true;
}

/* ------------------------------------------------------------- map / unmap */

static const char *perms_name(unsigned perms)
{
	switch (perms & VTD_PERM_RW) {
	case VTD_PERM_READ: return "r";
	case VTD_PERM_WRITE: return "w";
	case VTD_PERM_RW: return "rw";
	}
	return "none";
}

static void report_mapping(const struct vtd_domain *d, const char *event, uint64_t iova,
			   uint64_t phys, uint64_t size, unsigned perms)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", d->unit->index);
	proof_u64(&p, "domain", d->id);
	proof_hex(&p, "iova", iova, HEX_REG64_DIGITS);
	if (perms) {
		proof_hex(&p, "phys", phys, HEX_REG64_DIGITS);
		proof_str(&p, "perms", perms_name(perms));
	}
	proof_u64(&p, "size", size);
	proof_emit(&p);
}

/* Smallest page-selective invalidation covering the range, or domain-wide. */
static bool invalidate_range(struct vtd_domain *d, uint64_t iova, uint64_t size, char *reason,
			     size_t cap)
{
	const struct vtd_unit *u = d->unit;
	uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	unsigned am = 0;

	while ((1ull << am) < pages)
		am++;
	uint64_t span = (1ull << am) * PAGE_SIZE;
	uint64_t base = iova & ~(span - 1);

	/* The aligned block may not cover the end: widen until it does. */
	while (base + span < iova + size) {
		am++;
		span <<= 1;
		base = iova & ~(span - 1);
	}
	if (!(u->cap & VTD_CAP_PSI) || am > VTD_CAP_MAMV(u->cap))
		return iotlb_flush(u, VTD_IOTLB_IIRG_DOMAIN, d->id, 0, reason, cap);
	return iotlb_flush(u, VTD_IOTLB_IIRG_PAGE, d->id, (base & VTD_IVA_ADDR_MASK) | VTD_IVA_AM(am),
			   reason, cap);
}

bool vtd_map(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size, unsigned perms,
	     bool report, char *reason, size_t cap)
{
	enum vtd_pt_status status = vtd_pt_map(&d->pt, iova, phys, size, perms);

	if (status != VTD_PT_OK) {
		set_reason(reason, cap, "map-%s iova=0x%llx size=0x%llx", vtd_pt_status_str(status),
			   (unsigned long long)iova, (unsigned long long)size);
		return false;
	}
	/* Caching mode may cache not-present entries: new mappings need a flush too. */
	if (!write_buffer_flush(d->unit) ||
	    ((d->unit->cap & VTD_CAP_CM) && !invalidate_range(d, iova, size, reason, cap)))
		return false;
	if (report)
		report_mapping(d, "map", iova, phys, size, perms);
	return true;
}

bool vtd_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, bool report, char *reason,
	       size_t cap)
{
	enum vtd_pt_status status = vtd_pt_unmap(&d->pt, iova, size);

	if (status != VTD_PT_OK) {
		set_reason(reason, cap, "unmap-%s iova=0x%llx size=0x%llx",
			   vtd_pt_status_str(status), (unsigned long long)iova,
			   (unsigned long long)size);
		return false;
	}
	/* Cleared entries stay live in the IOTLB until invalidated. */
	if (!write_buffer_flush(d->unit) || !invalidate_range(d, iova, size, reason, cap))
		return false;
	if (report)
		report_mapping(d, "unmap", iova, 0, size, 0);
	return true;
}

bool vtd_flush_domain(struct vtd_domain *d, char *reason, size_t cap)
{
	return iotlb_flush(d->unit, VTD_IOTLB_IIRG_DOMAIN, d->id, 0, reason, cap);
}

/* ------------------------------------------------------------------- faults */

static void report_fault(const struct vtd_unit *u, const struct vtd_fault *f)
{
	struct proof p;
	char sid[PCI_BDF_STR_LEN];
	struct pci_bdf bdf = { u->segment, (uint8_t)(f->sid >> 8), (uint8_t)((f->sid >> 3) & 0x1f),
			       (uint8_t)(f->sid & 0x7) };

	pci_bdf_format(bdf, sid);
	proof_begin(&p, "iommu", "fault recorded");
	proof_u64(&p, "unit", u->index);
	proof_u64(&p, "record", f->record);
	proof_hex(&p, "reason", f->reason, 2);
	proof_str(&p, "type", f->read ? "read" : "write");
	proof_str(&p, "sid", sid);
	proof_hex(&p, "addr", f->addr, HEX_REG64_DIGITS);
	proof_emit(&p);
}

unsigned vtd_faults_collect(struct vtd_unit *u, struct vtd_fault *out, unsigned max)
{
	unsigned found = 0;

	for (unsigned i = 0; i < VTD_CAP_NFR(u->cap); i++) {
		unsigned off = vtd_frcd_offset(u->cap, i);
		uint64_t hi = reg_read64(u, off + VTD_FRCD_HI);

		if (!(hi & VTD_FRCD_HI_F))
			continue;
		struct vtd_fault f = {
			.unit = (unsigned)(u - units),
			.record = i,
			.reason = (uint8_t)VTD_FRCD_HI_REASON(hi),
			.read = (hi & VTD_FRCD_HI_TYPE_READ) != 0,
			.sid = VTD_FRCD_HI_SID(hi),
			.addr = reg_read64(u, off + VTD_FRCD_LO) & VTD_FRCD_LO_ADDR_MASK,
		};

		report_fault(u, &f);
		reg_write64(u, off + VTD_FRCD_HI, VTD_FRCD_HI_F); /* write 1 to clear */
		if (out && found < max)
			out[found] = f;
		found++;
	}
	uint32_t fsts = reg_read32(u, VTD_REG_FSTS);

	if (fsts & VTD_FSTS_WRITE1_CLEAR)
		reg_write32(u, VTD_REG_FSTS, fsts & VTD_FSTS_WRITE1_CLEAR);
	u->faults_recorded += found;
	return found;
}

bool vtd_fault_pending(const struct vtd_unit *u)
{
	return (reg_read32(u, VTD_REG_FSTS) & (VTD_FSTS_PPF | VTD_FSTS_PFO)) != 0;
}
