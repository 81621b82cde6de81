/* The AMD-Vi unit driver; see amdvi.h.  Register facts: src/lib/amdvi_regs.h. */
#include "amdvi.h"

#include "acpi.h"
#include "amdvi_cmd.h"
#include "amdvi_pt.h"
#include "amdvi_regs.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"
#include "pmem.h"
#include "proof.h"
#include "timer.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_ADDR_DIGITS 8
#define HEX_REG64_DIGITS 16
#define HEX_DEVID_DIGITS 4
/* Commands complete at once on QEMU and within microseconds on hardware. */
#define AMDVI_WAIT_US 100000u
#define RING_LOG2 AMDVI_RING_MIN_LOG2               /* 256 entries, one 4 KiB page each */
#define RING_ENTRIES (1u << RING_LOG2)
#define RING_BYTES (RING_ENTRIES * AMDVI_RING_ENTRY_BYTES)
#define DEV_TABLE_BYTES (AMDVI_DEV_TABLE_ENTRIES * AMDVI_DTE_BYTES)
#define BLOCKED_DOMAIN_ID 0 /* every requester id nobody attached: no access */
#define FIRST_DOMAIN_ID 1
#define DOMAIN_ID_LAST 0xffffu
#define MAX_TRACKED_RIDS 64 /* rids with a written DTE, re-invalidated on enable */
#define PHYS_BITS_DEFAULT AMDVI_PHYS_ADDR_BITS

struct amdvi_unit {
	struct remap_unit common; /* index: IVHD block index in the IVRS table */
	uint64_t base;
	uint16_t devid;           /* the IOMMU's own requester id */
	uint8_t ivhd_type;
	uint64_t efr;             /* EFR register */
	unsigned max_levels;      /* from EFR.HATS */
	struct amdvi_dte *dev_table; /* NULL until first needed */
	uint64_t dev_table_phys;
	struct amdvi_ring_entry *cmd;
	uint64_t cmd_phys;
	uint32_t cmd_tail;        /* byte offset of the next command */
	struct amdvi_ring_entry *events;
	uint64_t events_phys;
	uint32_t event_head;      /* byte offset of the next unread event */
	volatile uint64_t *wait_slot; /* COMPLETION_WAIT store target */
	uint64_t wait_phys;
	uint64_t wait_seq;
	bool translating;
	uint16_t next_domain_id;
	unsigned rid_count;
	uint16_t rids[MAX_TRACKED_RIDS];
	uint64_t events_read;
};

struct amdvi_domain {
	struct remap_domain common;
	struct amdvi_unit *au;
	struct amdvi_pt pt;
};

static struct ivrs_info ivrs;
static struct amdvi_unit units[IVRS_MAX_UNITS];
static unsigned unit_count;
static struct remap_discovery discovery;

static struct amdvi_unit *amdvi_of(const struct remap_unit *u)
{
	return (struct amdvi_unit *)((const char *)u - offsetof(struct amdvi_unit, common));
}

static struct amdvi_domain *domain_of(const struct remap_domain *d)
{
	return (struct amdvi_domain *)((const char *)d - offsetof(struct amdvi_domain, common));
}

static uint16_t rid_of(struct pci_bdf b)
{
	return IVRS_DEVID(b.bus, b.dev, b.fn);
}

/* ---------------------------------------------------------------- registers */

static uint64_t reg_read(const struct amdvi_unit *u, unsigned off)
{
	return mmio_read64(u->base + off);
}

/* Whole 64-bit writes: QEMU 7.2 reads a base register's size byte as the write lands. */
static void reg_write(const struct amdvi_unit *u, unsigned off, uint64_t v)
{
	mmio_write64(u->base + off, v);
}

/* ------------------------------------------------------------ table memory */

/* Tables live below the physical address size the IVRS reports. */
static uint64_t table_memory_limit(void)
{
	unsigned bits = ivrs.pa_bits ? ivrs.pa_bits : PHYS_BITS_DEFAULT;

	return bits >= 64 ? UINT64_MAX : 1ull << bits;
}

static void *alloc_pages(size_t bytes, uint64_t *phys)
{
	void *p = pmem_alloc(bytes, PAGE_SIZE, table_memory_limit());

	if (p)
		*phys = virt_to_phys(p);
	return p;
}

static void *pt_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	return alloc_pages(PAGE_SIZE, phys);
}

static void *pt_page_ptr(void *ctx, uint64_t phys)
{
	(void)ctx;
	return phys_to_virt(phys);
}

/*
 * The device table (every requester id blocked: the same deny-by-default a
 * VT-d unit gives devices without a context entry), the command buffer,
 * the event log and the completion-wait store slot.
 */
static bool ensure_tables(struct amdvi_unit *u, char *reason, size_t cap)
{
	if (u->dev_table)
		return true;
	uint64_t wait_phys = 0, dt_phys = 0, cmd_phys = 0, ev_phys = 0;
	struct amdvi_dte *dt = alloc_pages(DEV_TABLE_BYTES, &dt_phys);
	struct amdvi_ring_entry *cmd = alloc_pages(RING_BYTES, &cmd_phys);
	struct amdvi_ring_entry *ev = alloc_pages(RING_BYTES, &ev_phys);
	uint64_t *slot = alloc_pages(PAGE_SIZE, &wait_phys);

	if (!dt || !cmd || !ev || !slot) {
		remap_reason(reason, cap, "no-memory-for-device-table-or-rings");
		return false;
	}
	struct amdvi_dte blocked = amdvi_dte_blocked(BLOCKED_DOMAIN_ID);

	for (unsigned i = 0; i < AMDVI_DEV_TABLE_ENTRIES; i++)
		dt[i] = blocked;
	mb();
	u->dev_table = dt;
	u->dev_table_phys = dt_phys;
	u->cmd = cmd;
	u->cmd_phys = cmd_phys;
	u->events = ev;
	u->events_phys = ev_phys;
	u->wait_slot = slot;
	u->wait_phys = wait_phys;
	return true;
}

/* ---------------------------------------------------------------- commands */

static bool wait_ring_room(const struct amdvi_unit *u, uint32_t next_tail)
{
	uint64_t deadline = deadline_after_us(AMDVI_WAIT_US);

	while ((reg_read(u, AMDVI_REG_CMD_BUF_HEAD) & AMDVI_RING_PTR_MASK) == next_tail) {
		if (deadline_passed(deadline))
			return false;
		cpu_pause();
	}
	return true;
}

/* Queues one command; the unit starts on it when the tail register moves. */
static bool queue_command(struct amdvi_unit *u, struct amdvi_ring_entry c, char *reason,
			  size_t cap)
{
	uint32_t next = (u->cmd_tail + AMDVI_RING_ENTRY_BYTES) % RING_BYTES;

	if (!wait_ring_room(u, next)) {
		remap_reason(reason, cap, "command-buffer-full head=0x%llx tail=0x%x",
			     (unsigned long long)reg_read(u, AMDVI_REG_CMD_BUF_HEAD), u->cmd_tail);
		return false;
	}
	u->cmd[u->cmd_tail / AMDVI_RING_ENTRY_BYTES] = c;
	mb(); /* the entry is in memory before the tail says so */
	u->cmd_tail = next;
	reg_write(u, AMDVI_REG_CMD_BUF_TAIL, u->cmd_tail);
	return true;
}

/*
 * COMPLETION_WAIT: the unit stores a fresh sequence number once every
 * earlier command has completed; the store is polled, bounded.
 */
static bool completion_wait(struct amdvi_unit *u, char *reason, size_t cap)
{
	uint64_t seq = ++u->wait_seq;

	if (!queue_command(u, amdvi_cmd_completion_wait(u->wait_phys, seq), reason, cap))
		return false;
	uint64_t deadline = deadline_after_us(AMDVI_WAIT_US);

	while (*u->wait_slot != seq) {
		if (deadline_passed(deadline)) {
			remap_reason(reason, cap,
				     "completion-wait-timeout seq=%llu head=0x%llx tail=0x%x "
				     "status=0x%llx",
				     (unsigned long long)seq,
				     (unsigned long long)reg_read(u, AMDVI_REG_CMD_BUF_HEAD), u->cmd_tail,
				     (unsigned long long)reg_read(u, AMDVI_REG_STATUS));
			return false;
		}
		cpu_pause();
	}
	return true;
}

/*
 * Runs commands then waits for them.  While translation is off the unit
 * caches nothing (and QEMU 7.2 runs no commands): enabling invalidates all.
 */
static bool run_commands(struct amdvi_unit *u, const struct amdvi_ring_entry *c, unsigned n,
			 char *reason, size_t cap)
{
	if (!u->translating)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (!queue_command(u, c[i], reason, cap))
			return false;
	return completion_wait(u, reason, cap);
}

/* ---------------------------------------------------------------- discovery */

static void report_ivrs(void)
{
	struct proof p;

	proof_begin(&p, "iommu", "ivrs");
	proof_hex(&p, "ivinfo", ivrs.ivinfo, HEX_ADDR_DIGITS);
	proof_u64(&p, "pa_bits", ivrs.pa_bits);
	proof_u64(&p, "blocks", ivrs.unit_count);
	proof_hex(&p, "used_type", ivrs.used_type, 2);
	proof_u64(&p, "units", ivrs_used_unit_count(&ivrs));
	proof_u64(&p, "ranges", ivrs.range_count);
	proof_u64(&p, "specials", ivrs.special_count);
	proof_u64(&p, "ivmd", ivrs.ivmd_count);
	proof_emit(&p);
}

static void report_unit(const struct amdvi_unit *u, const struct ivrs_unit *h, bool responds)
{
	struct proof p;
	char devid[PCI_BDF_STR_LEN];

	pci_bdf_format((struct pci_bdf){ h->segment, IVRS_DEVID_BUS(h->devid),
					 IVRS_DEVID_DEV(h->devid), IVRS_DEVID_FN(h->devid) },
		       devid);
	proof_begin(&p, "iommu", "ivhd");
	proof_u64(&p, "index", u->common.index);
	proof_hex(&p, "type", h->type, 2);
	proof_u64(&p, "segment", h->segment);
	proof_hex(&p, "base", h->base, HEX_ADDR_DIGITS);
	proof_str(&p, "devid", devid);
	proof_u64(&p, "ranges", h->range_count);
	proof_bool(&p, "responds", responds);
	if (responds) {
		proof_hex(&p, "efr", u->efr, HEX_REG64_DIGITS);
		proof_u64(&p, "max_levels", u->max_levels);
		proof_hex(&p, "control", reg_read(u, AMDVI_REG_CONTROL), HEX_REG64_DIGITS);
		proof_hex(&p, "status", reg_read(u, AMDVI_REG_STATUS), HEX_REG64_DIGITS);
	}
	proof_emit(&p);
}

/* Reads one IVHD's registers; a unit reading all ones is not there. */
static bool probe_unit(struct amdvi_unit *u, unsigned index)
{
	const struct ivrs_unit *h = &ivrs.units[index];

	memset(u, 0, sizeof(*u));
	u->common.ops = &amdvi_unit_ops;
	u->common.index = index;
	u->common.segment = h->segment;
	u->base = h->base;
	u->devid = h->devid;
	u->ivhd_type = h->type;
	u->next_domain_id = FIRST_DOMAIN_ID;
	if (!paging_map_mmio(u->base, AMDVI_MMIO_BYTES))
		return false;
	u->efr = reg_read(u, AMDVI_REG_EXT_FEATURE);
	u->max_levels = amdvi_hats_max_levels(AMDVI_EFR_HATS(u->efr));
	return u->efr != UINT64_MAX && reg_read(u, AMDVI_REG_CONTROL) != UINT64_MAX &&
	       u->max_levels > 0;
}

static bool discover(char *reason, size_t cap)
{
	size_t len;
	const void *table = acpi_find_table("IVRS", 0, &len);

	if (!table) {
		remap_reason(reason, cap, "no-valid-ivrs-table");
		return false;
	}
	enum ivrs_status status = ivrs_parse(table, len, &ivrs);

	if (status != IVRS_OK) {
		remap_reason(reason, cap, "ivrs-%s:%s", ivrs_status_str(status), ivrs.reason);
		return false;
	}
	report_ivrs();
	for (unsigned i = 0; i < ivrs.unit_count; i++) {
		if (ivrs.units[i].type != ivrs.used_type)
			continue; /* the same IOMMU described again by an older block type */
		bool responds = probe_unit(&units[unit_count], i);

		report_unit(&units[unit_count], &ivrs.units[i], responds);
		if (responds)
			unit_count++;
	}
	if (unit_count == 0) {
		remap_reason(reason, cap, "no-amd-vi-unit-responds");
		return false;
	}
	return true;
}

static bool amdvi_discover(char *reason, size_t cap)
{
	return remap_discover_once(&discovery, discover, reason, cap);
}

static unsigned amdvi_unit_count(void)
{
	return unit_count;
}

static struct remap_unit *amdvi_unit_get(unsigned index)
{
	return index < unit_count ? &units[index].common : NULL;
}

const struct ivrs_info *amdvi_ivrs(void)
{
	return &ivrs;
}

static struct remap_unit *amdvi_unit_for_device(struct pci_bdf bdf, char *reason, size_t cap)
{
	char name[PCI_BDF_STR_LEN];
	struct ivrs_match m;

	if (!amdvi_discover(reason, cap))
		return NULL;
	int index = ivrs_find_unit(&ivrs, bdf.segment, rid_of(bdf), &m);

	pci_bdf_format(bdf, name);
	if (index < 0) {
		remap_reason(reason, cap, "no-ivhd-covers-%s", name);
		return NULL;
	}
	for (unsigned i = 0; i < unit_count; i++)
		if (units[i].common.index == (unsigned)index)
			return &units[i].common;
	remap_reason(reason, cap, "ivhd-%d-covering-%s-does-not-respond", index, name);
	return NULL;
}

static bool amdvi_supports(const struct remap_unit *ru, unsigned levels, unsigned iova_bits)
{
	const struct amdvi_unit *u = amdvi_of(ru);

	return levels <= u->max_levels && iova_bits <= amdvi_pt_address_width(levels) &&
	       (ivrs.va_bits == 0 || iova_bits <= ivrs.va_bits);
}

/* ------------------------------------------------------------------ domains */

static struct remap_domain *amdvi_domain_create(struct remap_unit *ru, unsigned levels,
						char *reason, size_t cap)
{
	struct amdvi_unit *u = amdvi_of(ru);
	const struct amdvi_pt_ops ops = { pt_alloc, pt_page_ptr, NULL, u };
	struct amdvi_domain *d;

	if (u->next_domain_id == DOMAIN_ID_LAST) {
		remap_reason(reason, cap, "no-free-domain-id");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		remap_reason(reason, cap, "no-memory-for-domain");
		return NULL;
	}
	enum amdvi_pt_status status = amdvi_pt_init(&d->pt, levels, &ops);

	if (status != AMDVI_PT_OK) {
		remap_reason(reason, cap, "page-table-%s", amdvi_pt_status_str(status));
		free(d);
		return NULL;
	}
	d->common.id = u->next_domain_id++;
	d->au = u;
	d->common.unit = ru;
	d->common.levels = levels;
	return &d->common;
}

static void report_dte(const struct amdvi_unit *u, struct pci_bdf rid, const char *kind,
		       const struct amdvi_dte *e)
{
	struct proof p;
	char name[PCI_BDF_STR_LEN];
	struct amdvi_dte_fields f;

	amdvi_dte_decode(e, &f);
	pci_bdf_format(rid, name);
	proof_begin(&p, "iommu", "dte");
	proof_u64(&p, "unit", u->common.index);
	proof_str(&p, "sid", name);
	proof_str(&p, "kind", kind);
	proof_u64(&p, "domain", f.domain_id);
	proof_u64(&p, "mode", f.mode);
	proof_hex(&p, "root", f.root_phys, HEX_ADDR_DIGITS);
	proof_hex(&p, "q0", e->q[0], HEX_REG64_DIGITS);
	proof_hex(&p, "q1", e->q[1], HEX_REG64_DIGITS);
	proof_emit(&p);
}

static void track_rid(struct amdvi_unit *u, uint16_t rid)
{
	for (unsigned i = 0; i < u->rid_count; i++)
		if (u->rids[i] == rid)
			return;
	if (u->rid_count < MAX_TRACKED_RIDS)
		u->rids[u->rid_count++] = rid;
}

/*
 * Writes rid's DTE and makes the unit forget what it cached for it: the
 * entry itself and the pages of both the old and the new domain.
 */
static bool write_dte(struct amdvi_unit *u, struct pci_bdf rid, struct amdvi_dte e,
		      const char *kind, char *reason, size_t cap)
{
	if (!ensure_tables(u, reason, cap))
		return false;
	struct amdvi_dte *slot = &u->dev_table[rid_of(rid)];
	struct amdvi_dte_fields old;

	amdvi_dte_decode(slot, &old);
	/* The fields first, then quad 0 (V, TV, mode, root) last. */
	slot->q[3] = e.q[3];
	slot->q[2] = e.q[2];
	slot->q[1] = e.q[1];
	mb();
	slot->q[0] = e.q[0];
	mb();
	track_rid(u, rid_of(rid));
	report_dte(u, rid, kind, &e);
	const struct amdvi_ring_entry cmds[] = {
		amdvi_cmd_invalidate_devtab_entry(rid_of(rid)),
		amdvi_cmd_invalidate_pages(old.domain_id, 0, 0),
		amdvi_cmd_invalidate_pages((uint16_t)(e.q[1] & AMDVI_DTE_DOMAIN_MASK), 0, 0),
	};
	return run_commands(u, cmds, sizeof(cmds) / sizeof(cmds[0]), reason, cap);
}

static bool amdvi_attach(struct remap_domain *rd, struct pci_bdf rid, struct pci_bdf device,
			 char *reason, size_t cap)
{
	struct amdvi_domain *d = domain_of(rd);
	struct amdvi_unit *u = d->au;
	struct amdvi_dte e = amdvi_dte_translate(&d->pt, rd->id);

	(void)device;
	if (!ensure_tables(u, reason, cap))
		return false;
	const struct amdvi_dte *old = &u->dev_table[rid_of(rid)];
	struct amdvi_dte_fields f;

	amdvi_dte_decode(old, &f);
	if (f.translation_valid && f.mode != 0 && f.root_phys != d->pt.root_phys) {
		remap_reason(reason, cap, "device-table-entry-already-translates-for-another-domain");
		return false;
	}
	return write_dte(u, rid, e, "translate", reason, cap);
}

/* Mode 0 with IR and IW: untranslated DMA from rid reaches memory (Linux's identity entry). */
static bool amdvi_bypass(struct remap_unit *ru, struct pci_bdf rid, char *reason, size_t cap)
{
	struct amdvi_unit *u = amdvi_of(ru);
	struct amdvi_dte_fields f = { .valid = true, .translation_valid = true, .mode = 0,
				      .perms = AMDVI_PERM_RW, .domain_id = BLOCKED_DOMAIN_ID };
	struct amdvi_dte e = amdvi_dte_encode(&f);

	if (!ensure_tables(u, reason, cap))
		return false;
	if (memcmp(&u->dev_table[rid_of(rid)], &e, sizeof(e)) == 0)
		return true;
	return write_dte(u, rid, e, "pass-through", reason, cap);
}

/* Back to the blocked entry: requests from rid are refused while translation is on. */
static bool amdvi_detach(struct remap_unit *ru, struct pci_bdf rid, char *reason, size_t cap)
{
	struct amdvi_unit *u = amdvi_of(ru);
	struct amdvi_dte e = amdvi_dte_blocked(BLOCKED_DOMAIN_ID);

	if (!u->dev_table || memcmp(&u->dev_table[rid_of(rid)], &e, sizeof(e)) == 0)
		return true;
	return write_dte(u, rid, e, "blocked", reason, cap);
}

/* -------------------------------------------------------------- enable/disable */

static void report_enable(const struct amdvi_unit *u, const char *event)
{
	struct proof p;

	proof_begin(&p, "iommu", event);
	proof_u64(&p, "unit", u->common.index);
	proof_hex(&p, "devtab", u->dev_table_phys, HEX_ADDR_DIGITS);
	proof_hex(&p, "control", reg_read(u, AMDVI_REG_CONTROL), HEX_REG64_DIGITS);
	proof_hex(&p, "status", reg_read(u, AMDVI_REG_STATUS), HEX_REG64_DIGITS);
	proof_emit(&p);
}

static bool wait_status(const struct amdvi_unit *u, uint64_t mask, uint64_t want)
{
	uint64_t deadline = deadline_after_us(AMDVI_WAIT_US);

	while ((reg_read(u, AMDVI_REG_STATUS) & mask) != want) {
		if (deadline_passed(deadline))
			return false;
		cpu_pause();
	}
	return true;
}

/* Base registers are written only while their enables are off (spec 3.4). */
static void program_bases(struct amdvi_unit *u)
{
	reg_write(u, AMDVI_REG_CONTROL, 0);
	reg_write(u, AMDVI_REG_DEV_TABLE_BASE, (u->dev_table_phys & AMDVI_DEV_TABLE_ADDR_MASK) |
						       (AMDVI_DEV_TABLE_MAX_PAGES - 1));
	reg_write(u, AMDVI_REG_CMD_BUF_BASE, (u->cmd_phys & AMDVI_RING_ADDR_MASK) |
						     ((uint64_t)RING_LOG2 << AMDVI_RING_LEN_SHIFT));
	reg_write(u, AMDVI_REG_EVENT_LOG_BASE, (u->events_phys & AMDVI_RING_ADDR_MASK) |
						       ((uint64_t)RING_LOG2 << AMDVI_RING_LEN_SHIFT));
	reg_write(u, AMDVI_REG_CMD_BUF_HEAD, 0);
	reg_write(u, AMDVI_REG_CMD_BUF_TAIL, 0);
	reg_write(u, AMDVI_REG_EVENT_LOG_HEAD, 0);
	reg_write(u, AMDVI_REG_EVENT_LOG_TAIL, 0);
	reg_write(u, AMDVI_REG_STATUS, AMDVI_STATUS_EVENT_OVERFLOW | AMDVI_STATUS_EVENT_LOG_INT |
					       AMDVI_STATUS_COM_WAIT_INT);
	u->cmd_tail = 0;
	u->event_head = 0;
}

/* Whatever the unit cached before (an earlier enable, firmware) goes. */
static bool invalidate_everything(struct amdvi_unit *u, char *reason, size_t cap)
{
	if (u->efr & AMDVI_EFR_IA_SUP) {
		const struct amdvi_ring_entry all = amdvi_cmd_invalidate_all();

		return run_commands(u, &all, 1, reason, cap);
	}
	for (unsigned i = 0; i < u->rid_count; i++) {
		const struct amdvi_ring_entry c = amdvi_cmd_invalidate_devtab_entry(u->rids[i]);

		if (!run_commands(u, &c, 1, reason, cap))
			return false;
	}
	for (unsigned id = BLOCKED_DOMAIN_ID; id < u->next_domain_id; id++) {
		const struct amdvi_ring_entry c = amdvi_cmd_invalidate_pages((uint16_t)id, 0, 0);

		if (!run_commands(u, &c, 1, reason, cap))
			return false;
	}
	return true;
}

static bool amdvi_enable(struct remap_unit *ru, char *reason, size_t cap)
{
	struct amdvi_unit *u = amdvi_of(ru);
	const uint64_t run = AMDVI_STATUS_CMD_BUF_RUN | AMDVI_STATUS_EVENT_LOG_RUN;

	if (u->translating)
		return true;
	if (!ensure_tables(u, reason, cap))
		return false;
	program_bases(u);
	reg_write(u, AMDVI_REG_CONTROL,
		  AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVENT_LOG_EN);
	if (!wait_status(u, run, run)) {
		remap_reason(reason, cap, "command-buffer-or-event-log-not-running status=0x%llx",
			     (unsigned long long)reg_read(u, AMDVI_REG_STATUS));
		reg_write(u, AMDVI_REG_CONTROL, 0);
		return false;
	}
	u->translating = true;
	if (!invalidate_everything(u, reason, cap)) {
		reg_write(u, AMDVI_REG_CONTROL, 0);
		u->translating = false;
		return false;
	}
	report_enable(u, "amd-vi enabled");
	return true;
}

static bool amdvi_disable(struct remap_unit *ru, char *reason, size_t cap)
{
	struct amdvi_unit *u = amdvi_of(ru);

	reg_write(u, AMDVI_REG_CONTROL, 0);
	if (!wait_status(u, AMDVI_STATUS_CMD_BUF_RUN | AMDVI_STATUS_EVENT_LOG_RUN, 0)) {
		remap_reason(reason, cap, "command-buffer-or-event-log-still-running status=0x%llx",
			     (unsigned long long)reg_read(u, AMDVI_REG_STATUS));
		return false;
	}
	u->translating = false;
	report_enable(u, "amd-vi disabled");
	return true;
}

static bool amdvi_translating(const struct remap_unit *ru)
{
	return amdvi_of(ru)->translating;
}

/* ------------------------------------------------------------- map / unmap */

static unsigned pt_perms(unsigned remap_perms)
{
	return ((remap_perms & REMAP_PERM_READ) ? AMDVI_PERM_READ : 0) |
	       ((remap_perms & REMAP_PERM_WRITE) ? AMDVI_PERM_WRITE : 0);
}

/* The page-table builder refused a change: always false, the reason says what. */
static bool table_refused(char *reason, size_t cap, const char *what,
			  enum amdvi_pt_status status, uint64_t iova, uint64_t size)
{
	remap_reason(reason, cap, "%s-%s iova=0x%llx size=0x%llx", what, amdvi_pt_status_str(status),
		     (unsigned long long)iova, (unsigned long long)size);
	return false;
}

static bool invalidate_range(struct amdvi_domain *d, uint64_t iova, uint64_t size, char *reason,
			     size_t cap)
{
	const struct amdvi_ring_entry c = amdvi_cmd_invalidate_pages(d->common.id, iova, size);

	return run_commands(d->au, &c, 1, reason, cap);
}

static bool amdvi_map(struct remap_domain *rd, uint64_t iova, uint64_t phys, uint64_t size,
		      unsigned perms, char *reason, size_t cap)
{
	struct amdvi_domain *d = domain_of(rd);
	enum amdvi_pt_status status = amdvi_pt_map(&d->pt, iova, phys, size, pt_perms(perms));

	if (status != AMDVI_PT_OK)
		return table_refused(reason, cap, "map", status, iova, size);
	mb();
	/* QEMU's AMD-Vi says NpCache (not-present entries may be cached): flush new maps too. */
	return invalidate_range(d, iova, size, reason, cap);
}

/* Clears the range's entries; the IOTLB may still hold them (see amdvi_invalidate). */
static bool amdvi_clear(struct remap_domain *rd, uint64_t iova, uint64_t size, char *reason,
			size_t cap)
{
	enum amdvi_pt_status status = amdvi_pt_unmap(&domain_of(rd)->pt, iova, size);

	if (status != AMDVI_PT_OK)
		return table_refused(reason, cap, "unmap", status, iova, size);
	mb();
	return true;
}

/* Cleared entries stay live in the IOTLB until invalidated (one INVALIDATE_IOMMU_PAGES). */
static bool amdvi_invalidate(struct remap_domain *rd, uint64_t iova, uint64_t size, char *reason,
			     size_t cap)
{
	return invalidate_range(domain_of(rd), iova, size, reason, cap);
}

/* The page tables here are built with 4 KiB leaves only (src/lib/amdvi_pt.h). */
static uint64_t amdvi_large_page(const struct remap_unit *ru)
{
	(void)ru;
	return PAGE_SIZE;
}

static bool amdvi_flush_domain(struct remap_domain *rd, char *reason, size_t cap)
{
	return invalidate_range(domain_of(rd), 0, 0, reason, cap);
}

static bool amdvi_lookup(const struct remap_domain *rd, uint64_t iova, uint64_t *phys,
			 unsigned *perms)
{
	struct amdvi_translation tr;

	if (amdvi_pt_lookup(&domain_of(rd)->pt, iova, &tr) != AMDVI_PT_OK)
		return false;
	*phys = tr.phys;
	*perms = ((tr.perms & AMDVI_PERM_READ) ? REMAP_PERM_READ : 0) |
		 ((tr.perms & AMDVI_PERM_WRITE) ? REMAP_PERM_WRITE : 0);
	return true;
}

/* ------------------------------------------------------------------- faults */

static const char *event_reason_name(unsigned code)
{
	switch (code) {
	case AMDVI_EVENT_ILLEGAL_DEV_TABLE_ENTRY: return "illegal-dev-table-entry";
	case AMDVI_EVENT_IO_PAGE_FAULT: return "io-page-fault";
	case AMDVI_EVENT_DEV_TAB_HARDWARE_ERROR: return "dev-tab-hardware-error";
	case AMDVI_EVENT_PAGE_TAB_HARDWARE_ERROR: return "page-tab-hardware-error";
	case AMDVI_EVENT_ILLEGAL_COMMAND_ERROR: return "illegal-command-error";
	case AMDVI_EVENT_COMMAND_HARDWARE_ERROR: return "command-hardware-error";
	case AMDVI_EVENT_IOTLB_INV_TIMEOUT: return "iotlb-inv-timeout";
	case AMDVI_EVENT_INVALID_DEVICE_REQUEST: return "invalid-device-request";
	}
	return "other-event";
}

static struct iommu_fault fault_from_event(const struct amdvi_unit *u, unsigned record,
					   const struct amdvi_event *ev)
{
	return (struct iommu_fault){
		.unit = u->common.index,
		.record = record,
		.sid = ev->devid,
		.addr = ev->address & ~(AMDVI_PAGE_4K - 1),
		.access = amdvi_event_is_write(ev) ? REMAP_ACCESS_WRITE : REMAP_ACCESS_READ,
		/* Only an IO_PAGE_FAULT says the page tables refused the request. */
		.page_denied = ev->code == AMDVI_EVENT_IO_PAGE_FAULT,
		.reason = (uint8_t)ev->code,
		.reason_name = event_reason_name(ev->code),
	};
}

/*
 * Restarts the event log at offset 0 after events were read or it
 * overflowed (spec: logging stops on overflow until software clears it).
 * QEMU 7.2 needs this after every read: it never updates the tail register
 * and counts its tail in bytes against the length in entries, so only the
 * first 16 entries of the log are ever written before it overflows.
 */
static bool restart_event_log(struct amdvi_unit *u)
{
	uint64_t control = reg_read(u, AMDVI_REG_CONTROL);

	reg_write(u, AMDVI_REG_CONTROL, control & ~AMDVI_CTRL_EVENT_LOG_EN);
	if (!wait_status(u, AMDVI_STATUS_EVENT_LOG_RUN, 0))
		return false;
	memset(u->events, 0, RING_BYTES);
	mb();
	reg_write(u, AMDVI_REG_EVENT_LOG_HEAD, 0);
	reg_write(u, AMDVI_REG_EVENT_LOG_TAIL, 0);
	reg_write(u, AMDVI_REG_STATUS, AMDVI_STATUS_EVENT_OVERFLOW | AMDVI_STATUS_EVENT_LOG_INT);
	u->event_head = 0;
	reg_write(u, AMDVI_REG_CONTROL, control);
	return wait_status(u, AMDVI_STATUS_EVENT_LOG_RUN, AMDVI_STATUS_EVENT_LOG_RUN);
}

static unsigned amdvi_faults_collect(struct remap_unit *ru, struct iommu_fault *out, unsigned max)
{
	struct amdvi_unit *u = amdvi_of(ru);
	unsigned found = 0;

	if (!u->dev_table || !u->translating)
		return 0;
	unsigned slot = u->event_head / AMDVI_RING_ENTRY_BYTES;
	struct amdvi_event ev;

	/* By content, not by the tail register (see amdvi_event_ring_take). */
	while (found < RING_ENTRIES) {
		unsigned at = slot;

		if (!amdvi_event_ring_take(u->events, RING_ENTRIES, &slot, &ev))
			break;
		if (out && found < max)
			out[found] = fault_from_event(u, at, &ev);
		found++;
	}
	u->event_head = slot * AMDVI_RING_ENTRY_BYTES;
	reg_write(u, AMDVI_REG_EVENT_LOG_HEAD, u->event_head);
	if (found || (reg_read(u, AMDVI_REG_STATUS) & AMDVI_STATUS_EVENT_OVERFLOW))
		restart_event_log(u);
	u->events_read += found;
	return found;
}

static bool amdvi_fault_pending(const struct remap_unit *ru)
{
	const struct amdvi_unit *u = amdvi_of(ru);

	if (!u->dev_table || !u->translating)
		return false;
	const struct amdvi_ring_entry *next = &u->events[u->event_head / AMDVI_RING_ENTRY_BYTES];

	return next->q[0] != 0 || next->q[1] != 0 ||
	       (reg_read(u, AMDVI_REG_STATUS) & AMDVI_STATUS_EVENT_OVERFLOW) != 0;
}

const struct remap_unit_ops amdvi_unit_ops = {
	.name = "amd-vi",
	.acpi_table = "IVRS",
	.discover = amdvi_discover,
	.unit_count = amdvi_unit_count,
	.unit_get = amdvi_unit_get,
	.unit_for_device = amdvi_unit_for_device,
	.supports = amdvi_supports,
	.domain_create = amdvi_domain_create,
	.attach = amdvi_attach,
	.bypass = amdvi_bypass,
	.detach = amdvi_detach,
	.map = amdvi_map,
	.clear = amdvi_clear,
	.invalidate = amdvi_invalidate,
	.large_page = amdvi_large_page,
	.flush = amdvi_flush_domain,
	.lookup = amdvi_lookup,
	.enable = amdvi_enable,
	.disable = amdvi_disable,
	.translating = amdvi_translating,
	.faults_collect = amdvi_faults_collect,
	.fault_pending = amdvi_fault_pending,
};
