/* Firmware side of ACPI: identity-mapped table access and proof lines; see acpi.h. */
#include "acpi.h"

#include "acpi_power.h"
#include "lib/acpi.h"
#include "paging.h"
#include "pci.h"
#include "proof.h"

#include <stdint.h>

/* The boot page tables identity-map this much; above it, map on demand. */
#define ACPI_BOOT_MAPPED_LIMIT (4ull << 30)
#define ACPI_HEX_ADDR_DIGITS 8
#define ACPI_HEX_ECAM_DIGITS 16

static struct acpi_tables tables;
static bool tables_ok;

/* Physical memory is identity-mapped; tables above 4 GiB get mapped first. */
static const void *map_identity(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	if (len == 0 || phys + len < phys)
		return NULL;
	if (phys + len > ACPI_BOOT_MAPPED_LIMIT && !paging_map_mmio(phys, len))
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void report_rsdp(void)
{
	struct proof p;

	proof_begin(&p, "acpi", "rsdp found");
	proof_u64(&p, "revision", tables.rsdp.revision);
	proof_str(&p, "oem", tables.rsdp.oem_id);
	proof_hex(&p, "rsdt", tables.rsdp.rsdt_addr, ACPI_HEX_ADDR_DIGITS);
	proof_hex(&p, "xsdt", tables.rsdp.xsdt_addr, ACPI_HEX_ADDR_DIGITS);
	proof_emit(&p);
}

static void report_problem(const char *event, uint64_t addr, enum acpi_status status)
{
	struct proof p;

	proof_begin(&p, "acpi", event);
	proof_hex(&p, "addr", addr, ACPI_HEX_ADDR_DIGITS);
	proof_str(&p, "reason", acpi_status_str(status));
	proof_emit(&p);
}

static void report_root(void)
{
	struct proof p;

	proof_begin(&p, "acpi", "root");
	proof_str(&p, "sig", tables.entry_size == ACPI_XSDT_ENTRY_SIZE ? "XSDT" : "RSDT");
	proof_hex(&p, "addr", tables.root_addr, ACPI_HEX_ADDR_DIGITS);
	proof_u64(&p, "length", tables.root_len);
	proof_u64(&p, "entries", tables.entry_count);
	proof_emit(&p);
}

/* checksum=ok|bad when the bytes could be summed; unchecked (with why) when not. */
static void report_table(const struct acpi_table_ref *ref)
{
	struct proof p;
	bool summed = ref->status == ACPI_OK || ref->status == ACPI_ERR_CHECKSUM;

	proof_begin(&p, "acpi", "table");
	proof_strn(&p, "sig", ref->header.sig, ACPI_SIG_LEN);
	proof_hex(&p, "addr", ref->addr, ACPI_HEX_ADDR_DIGITS);
	proof_u64(&p, "length", ref->header.length);
	proof_str(&p, "checksum", !summed ? "unchecked" : ref->status == ACPI_OK ? "ok" : "bad");
	if (!summed)
		proof_str(&p, "reason", acpi_status_str(ref->status));
	proof_emit(&p);
}

static unsigned walk_tables(void)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < tables.entry_count; i++) {
		struct acpi_table_ref ref;

		if (acpi_tables_entry(&tables, i, &ref) != ACPI_OK)
			bad++;
		report_table(&ref);
	}
	return bad;
}

static void report_mcfg_entry(const struct acpi_mcfg_entry *e)
{
	struct proof p;

	proof_begin(&p, "acpi", "mcfg entry");
	proof_hex(&p, "base", e->base, ACPI_HEX_ECAM_DIGITS);
	proof_u64(&p, "segment", e->segment);
	proof_u64(&p, "bus_start", e->bus_start);
	proof_u64(&p, "bus_end", e->bus_end);
	proof_emit(&p);
}

/* Hands every valid MCFG allocation to PCI so config space goes through ECAM. */
static void register_ecam(void)
{
	size_t len;
	const void *mcfg = acpi_find_table("MCFG", 0, &len);
	unsigned count;
	enum acpi_status status;

	if (!mcfg) {
		struct proof p;

		proof_begin(&p, "acpi", "mcfg missing");
		proof_emit(&p);
		return;
	}
	status = acpi_mcfg_count(mcfg, len, &count);
	for (unsigned i = 0; status == ACPI_OK && i < count; i++) {
		struct acpi_mcfg_entry e;
		enum acpi_status entry_status = acpi_mcfg_get(mcfg, len, i, &e);

		if (entry_status != ACPI_OK) {
			report_problem("mcfg entry invalid", e.base, entry_status);
			continue;
		}
		report_mcfg_entry(&e);
		pci_set_ecam(e.base, e.segment, e.bus_start, e.bus_end);
	}
	if (status != ACPI_OK)
		report_problem("mcfg invalid", (uint64_t)(uintptr_t)mcfg, status);
}

static void open_tables(const void *rsdp_copy, size_t len)
{
	struct proof p;

	tables_ok = false;
	if (!rsdp_copy || len == 0) {
		proof_begin(&p, "acpi", "rsdp missing");
		proof_emit(&p);
		return;
	}
	enum acpi_status status = acpi_tables_open(&tables, rsdp_copy, len, map_identity, NULL,
						   ACPI_FW_MAX_TABLE_LEN);

	if (!tables.rsdp_valid) {
		proof_begin(&p, "acpi", "rsdp invalid");
		proof_str(&p, "reason", acpi_status_str(status));
		proof_emit(&p);
		return;
	}
	report_rsdp();
	if (tables.xsdt_fallback)
		report_problem("xsdt unusable", tables.rsdp.xsdt_addr, tables.xsdt_status);
	if (status != ACPI_OK) {
		report_problem("root invalid", tables.xsdt_fallback || !tables.rsdp.xsdt_addr
						       ? tables.rsdp.rsdt_addr : tables.rsdp.xsdt_addr,
			       status);
		return;
	}
	tables_ok = true;
	report_root();
	unsigned bad = walk_tables();

	proof_begin(&p, "acpi", "tables");
	proof_u64(&p, "count", tables.entry_count);
	proof_u64(&p, "bad", bad);
	proof_emit(&p);
	register_ecam();
}

void acpi_init(const void *rsdp_copy, size_t len)
{
	open_tables(rsdp_copy, len);
	/* The end= plans are printed on every run, with or without usable tables. */
	acpi_power_init();
}

bool acpi_available(void)
{
	return tables_ok;
}

const struct acpi_tables *acpi_tables_get(void)
{
	return tables_ok ? &tables : NULL;
}

const void *acpi_find_table(const char sig[4], unsigned index, size_t *len)
{
	struct acpi_table_ref ref;

	if (!tables_ok || acpi_tables_find(&tables, sig, index, &ref) != ACPI_OK)
		return NULL;
	if (len)
		*len = ref.header.length;
	return ref.table;
}
