/*
 * ACPI discovery (src/lib/acpi.c): RSDP, RSDT/XSDT walk, lookup by
 * signature, MCFG; then, as the firmware chains them, the DMAR parser on
 * the DMAR the walk finds and the FADT parser (src/lib/acpi_fadt.c) on the
 * FACP, with the \_S5 scan over the DSDT the FADT points to.
 *
 * Input: byte 0 = flags, the rest = fake physical memory from address 0,
 * whose first bytes are also the RSDP copy (as the multiboot2 tag gives
 * it).  Flag bit 0: repair the checksums of the RSDP and of every table
 * the roots reach, so mutations get past the checksum test; bit 1: a small
 * max_len (36 + 8 * (flags >> 2)) instead of 1 MiB.
 *
 * Every map request returns a fresh, exactly-sized heap copy: reading a
 * byte beyond what was mapped is an AddressSanitizer report.
 */
#include "fuzz.h"

#include "acpi.h"
#include "acpi_fadt.h"
#include "acpi_power_plan.h"
#include "dmar.h"

#define FLAG_REPAIR 1u
#define FLAG_SMALL_MAX 2u
#define LARGE_MAX_LEN (1u << 20)
#define REPAIR_MAX_ENTRIES 4096u
#define RSDP_COPY_MAX 64u
#define FIND_MAX_INDEX 8u

struct fake_mem {
	const uint8_t *mem;
	size_t len;
	uint32_t max_len;
	void **blocks;
	size_t nblocks, cap;
};

static const void *map(void *ctx, uint64_t phys, size_t len)
{
	struct fake_mem *m = ctx;

	/* The walk only asks for a header or a length it already bounded. */
	FUZZ_CHECK(len == ACPI_HEADER_LEN || len <= m->max_len);
	if (phys > m->len || len > m->len - phys)
		return NULL;
	if (m->nblocks == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->blocks = realloc(m->blocks, m->cap * sizeof(*m->blocks));
		if (!m->blocks)
			abort();
	}
	uint8_t *copy = fuzz_dup(m->mem + phys, len);
	m->blocks[m->nblocks++] = copy;
	return copy;
}

static void release(struct fake_mem *m)
{
	for (size_t i = 0; i < m->nblocks; i++)
		free(m->blocks[i]);
	free(m->blocks);
}

/* ------------------------------------------------------------ checksum repair */

static void fix_sum(uint8_t *mem, size_t len, uint64_t at, uint64_t n, size_t sum_pos)
{
	if (at > len || n > len - at || n <= sum_pos)
		return;
	uint8_t sum = 0;

	mem[at + sum_pos] = 0;
	for (uint64_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + mem[at + i]);
	mem[at + sum_pos] = (uint8_t)-sum;
}

static uint32_t table_len(const uint8_t *mem, size_t len, uint64_t at)
{
	if (at > len || len - at < ACPI_HEADER_LEN)
		return 0;
	return fuzz_le32(mem + at + ACPI_HDR_OFF_LENGTH);
}

static uint64_t read_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = width; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void repair_root(uint8_t *mem, size_t len, uint64_t at, unsigned width)
{
	uint32_t n = table_len(mem, len, at);

	if (n < ACPI_HEADER_LEN || n > len - at)
		return;
	for (uint32_t i = 0; i < REPAIR_MAX_ENTRIES && ACPI_HEADER_LEN + (i + 1) * width <= n; i++) {
		uint64_t leaf = read_le(mem + at + ACPI_HEADER_LEN + i * width, width);
		uint32_t leaf_len = table_len(mem, len, leaf);

		if (leaf_len > len - leaf)
			continue;
		if (leaf_len >= FADT_MIN_LEN && memcmp(mem + leaf, "FACP", 4) == 0) {
			struct acpi_fadt_info f;
			acpi_fadt_parse(mem + leaf, leaf_len, &f);
			fix_sum(mem, len, f.dsdt, table_len(mem, len, f.dsdt), ACPI_HDR_OFF_CHECKSUM);
		}
		fix_sum(mem, len, leaf, leaf_len, ACPI_HDR_OFF_CHECKSUM);
	}
	fix_sum(mem, len, at, n, ACPI_HDR_OFF_CHECKSUM);
}

static void repair(uint8_t *mem, size_t len)
{
	if (len < ACPI_RSDP_V1_LEN)
		return;
	repair_root(mem, len, fuzz_le32(mem + ACPI_RSDP_OFF_RSDT), ACPI_RSDT_ENTRY_SIZE);
	bool v2 = mem[ACPI_RSDP_OFF_REVISION] >= ACPI_RSDP_FIRST_V2_REVISION && len >= ACPI_RSDP_V2_LEN;
	if (v2)
		repair_root(mem, len, read_le(mem + ACPI_RSDP_OFF_XSDT, 8), ACPI_XSDT_ENTRY_SIZE);
	fix_sum(mem, len, 0, ACPI_RSDP_V1_LEN, 8);
	if (v2) {
		uint32_t n = fuzz_le32(mem + ACPI_RSDP_OFF_LENGTH);
		fix_sum(mem, len, 0, n < RSDP_COPY_MAX ? n : RSDP_COPY_MAX, 32);
	}
}

/* ------------------------------------------------------------ invariants */

static void check_ref(const struct acpi_tables *t, const struct acpi_table_ref *ref,
		      enum acpi_status st)
{
	FUZZ_CHECK(st == ref->status);
	if (st != ACPI_OK)
		return;
	FUZZ_CHECK(ref->table != NULL);
	FUZZ_CHECK(ref->header.length >= ACPI_HEADER_LEN && ref->header.length <= t->max_len);
	FUZZ_CHECK(acpi_checksum_ok(ref->table, ref->header.length));
	FUZZ_CHECK(memcmp(ref->table, ref->header.sig, ACPI_SIG_LEN) == 0);
	FUZZ_CHECK(fuzz_terminated(ref->header.oem_id, sizeof(ref->header.oem_id)));
	FUZZ_CHECK(fuzz_terminated(ref->header.oem_table_id, sizeof(ref->header.oem_table_id)));
}

static void check_root(const struct acpi_tables *t, enum acpi_status st, const uint8_t *mem)
{
	if (st != ACPI_OK)
		return;
	FUZZ_CHECK(t->root != NULL);
	FUZZ_CHECK(t->entry_size == ACPI_RSDT_ENTRY_SIZE || t->entry_size == ACPI_XSDT_ENTRY_SIZE);
	FUZZ_CHECK(t->root_len >= ACPI_HEADER_LEN && t->root_len <= t->max_len);
	FUZZ_CHECK((t->root_len - ACPI_HEADER_LEN) % t->entry_size == 0);
	FUZZ_CHECK(t->entry_count == (t->root_len - ACPI_HEADER_LEN) / t->entry_size);
	FUZZ_CHECK(acpi_checksum_ok(t->root, t->root_len));
	FUZZ_CHECK(memcmp(t->root, t->entry_size == ACPI_XSDT_ENTRY_SIZE ? "XSDT" : "RSDT", 4) == 0);
	FUZZ_CHECK(memcmp(t->root, mem + t->root_addr, t->root_len) == 0);
	/* The XSDT is used whenever the RSDP names one that is valid. */
	if (t->entry_size == ACPI_RSDT_ENTRY_SIZE)
		FUZZ_CHECK((t->rsdp.xsdt_addr == 0 || t->xsdt_fallback) &&
			   t->root_addr == t->rsdp.rsdt_addr);
	else
		FUZZ_CHECK(!t->xsdt_fallback && t->root_addr == t->rsdp.xsdt_addr);
	FUZZ_CHECK(!t->xsdt_fallback || t->xsdt_status != ACPI_OK);
}

static void check_mcfg(const struct acpi_table_ref *ref)
{
	unsigned count;
	struct acpi_mcfg_entry e;
	uint32_t len = ref->header.length;
	enum acpi_status st = acpi_mcfg_count(ref->table, len, &count);

	if (st != ACPI_OK) {
		FUZZ_CHECK(count == 0);
		FUZZ_CHECK(acpi_mcfg_get(ref->table, len, 0, &e) == st);
		return;
	}
	FUZZ_CHECK(len >= ACPI_MCFG_ENTRIES_OFF);
	FUZZ_CHECK(count == (len - ACPI_MCFG_ENTRIES_OFF) / ACPI_MCFG_ENTRY_LEN);
	for (unsigned i = 0; i <= count; i++) {
		st = acpi_mcfg_get(ref->table, len, i, &e);
		if (i == count)
			FUZZ_CHECK(st == ACPI_ERR_NOT_FOUND);
		else if (st == ACPI_OK)
			FUZZ_CHECK(e.base != 0 && e.bus_end >= e.bus_start);
		else
			FUZZ_CHECK(st == ACPI_ERR_VALUE);
	}
}

static void check_dmar(const struct acpi_table_ref *ref)
{
	struct dmar_info *info = malloc(sizeof(*info));

	if (!info)
		abort();
	enum dmar_status st = dmar_parse(ref->table, ref->header.length, info);
	FUZZ_CHECK(fuzz_terminated(info->reason, sizeof(info->reason)));
	FUZZ_CHECK((st == DMAR_OK) == (info->reason[0] == '\0'));
	FUZZ_CHECK(info->drhd_count <= DMAR_MAX_UNITS && info->scope_count <= DMAR_MAX_SCOPES);
	free(info);
}

static bool contains_s5_package(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "_S5_\x12", 5) == 0)
			return true;
	return false;
}

/* The end= decisions on whatever the FADT holds: only I/O or memory registers, values as specified. */
static void check_power_plans(const struct acpi_fadt_info *f, const uint8_t *p)
{
	struct acpi_s5 s5 = { true, false, 0, p[FADT_OFF_PM1A_CNT_BLK] & 7, p[FADT_OFF_DSDT] };
	struct acpi_poweroff_plan off;
	struct acpi_reset_plan reset;

	acpi_poweroff_plan(f, &s5, &off);
	FUZZ_CHECK((off.method == ACPI_POWEROFF_NONE) == (off.reason[0] != '\0'));
	FUZZ_CHECK(fuzz_terminated(off.reason, sizeof(off.reason)));
	if (off.method == ACPI_POWEROFF_PM1) {
		FUZZ_CHECK(!(f->flags & FADT_FLAG_HW_REDUCED_ACPI) && off.pm1a.present);
		FUZZ_CHECK(off.pm1a.address != 0);
		FUZZ_CHECK(off.pm1a.space == GAS_SPACE_IO || off.pm1a.space == GAS_SPACE_MEMORY);
		FUZZ_CHECK(off.pm1a.space != GAS_SPACE_IO || off.pm1a.address <= ACPI_IO_PORT_MAX);
		FUZZ_CHECK(off.pm1a_value == ((s5.slp_typ_a & 7) << 10 | PM1_CNT_SLP_EN));
		FUZZ_CHECK(off.pm1a.from_x == (f->has_x_pm1 && f->x_pm1a_cnt.address != 0));
	}
	if (off.method == ACPI_POWEROFF_SLEEP_CONTROL) {
		FUZZ_CHECK((f->flags & FADT_FLAG_HW_REDUCED_ACPI) && f->has_sleep_regs);
		FUZZ_CHECK(off.sleep_control.address == f->sleep_control.address);
		FUZZ_CHECK(off.sleep_control_value == ((s5.slp_typ_a & 7) << 2 | SLEEP_CONTROL_SLP_EN));
	}
	acpi_reset_plan(f, &reset);
	FUZZ_CHECK(reset.usable == (reset.reason[0] == '\0'));
	if (reset.usable) {
		FUZZ_CHECK(f->length > FADT_OFF_RESET_VALUE && f->reset_reg.address != 0);
		FUZZ_CHECK(fuzz_le32(p + FADT_OFF_FLAGS) & FADT_FLAG_RESET_REG_SUP);
		FUZZ_CHECK(reset.reg.space == GAS_SPACE_IO || reset.reg.space == GAS_SPACE_MEMORY);
		FUZZ_CHECK(reset.value == p[FADT_OFF_RESET_VALUE] && reset.reg.access_bits == 8);
	}
}

/* acpi_s5_search: a hit names the DSDT or an SSDT that is valid and really holds the package. */
static void check_s5_search(const struct acpi_tables *t, const struct acpi_fadt_info *f)
{
	struct acpi_s5 s5;
	struct acpi_table_ref ref;
	uint8_t a, b;

	acpi_s5_search(t, f->dsdt, &s5);
	if (!s5.found)
		return;
	if (s5.in_ssdt)
		FUZZ_CHECK(acpi_tables_find(t, "SSDT", s5.ssdt_index, &ref) == ACPI_OK);
	else
		FUZZ_CHECK(acpi_tables_map(t, f->dsdt, &ref) == ACPI_OK);
	FUZZ_CHECK(acpi_find_s5(ref.table, ref.header.length, &a, &b));
	FUZZ_CHECK(a == s5.slp_typ_a && b == s5.slp_typ_b);
	FUZZ_CHECK(contains_s5_package(ref.table, ref.header.length));
}

/* FADT fields, then the DSDT it names, mapped and checked like src/acpi_power.c does. */
static void check_fadt(const struct acpi_tables *t, const struct acpi_table_ref *ref,
		       const uint8_t *mem)
{
	struct acpi_fadt_info f;
	const uint8_t *p = ref->table;
	uint32_t len = ref->header.length;
	bool ok = acpi_fadt_parse(p, len, &f);

	FUZZ_CHECK(ok == (len >= FADT_MIN_LEN));
	if (!ok)
		return;
	FUZZ_CHECK(f.pm1a_cnt_blk == fuzz_le32(p + FADT_OFF_PM1A_CNT_BLK));
	FUZZ_CHECK(f.dsdt == fuzz_le32(p + FADT_OFF_DSDT) ||
		   (len >= FADT_OFF_X_DSDT + 8 && f.dsdt == read_le(p + FADT_OFF_X_DSDT, 8)));
	FUZZ_CHECK(f.length <= len);
	FUZZ_CHECK(!f.has_x_pm1 || f.length >= FADT_X_PM1B_END);
	FUZZ_CHECK(!f.has_sleep_regs || f.length >= FADT_SLEEP_REGS_END);
	check_power_plans(&f, p);
	check_s5_search(t, &f);
	struct acpi_table_ref dsdt;
	uint8_t a, b;

	if (f.dsdt == 0 || f.dsdt > UINT64_MAX - ACPI_HEADER_LEN)
		return;
	const uint8_t *head = t->map(t->map_ctx, f.dsdt, ACPI_HEADER_LEN);
	if (!head || acpi_header_parse(head, ACPI_HEADER_LEN, &dsdt.header) != ACPI_OK ||
	    dsdt.header.length > t->max_len)
		return;
	const uint8_t *aml = t->map(t->map_ctx, f.dsdt, dsdt.header.length);
	if (!aml || acpi_table_check(aml, dsdt.header.length, &dsdt.header) != ACPI_OK)
		return;
	if (acpi_find_s5(aml, dsdt.header.length, &a, &b))
		FUZZ_CHECK(contains_s5_package(aml, dsdt.header.length));
	FUZZ_CHECK(memcmp(aml, mem + f.dsdt, dsdt.header.length) == 0);
}

static void walk(const struct acpi_tables *t, const uint8_t *mem)
{
	struct acpi_table_ref ref;
	static const char *const sigs[] = { "MCFG", "DMAR", "FACP", "APIC" };

	for (unsigned i = 0; i <= t->entry_count; i++) {
		enum acpi_status st = acpi_tables_entry(t, i, &ref);
		if (i == t->entry_count) {
			FUZZ_CHECK(st == ACPI_ERR_NOT_FOUND);
			break;
		}
		check_ref(t, &ref, st);
		const uint8_t *slot = t->root + ACPI_HEADER_LEN + (size_t)i * t->entry_size;
		FUZZ_CHECK(ref.addr == read_le(slot, t->entry_size));
		if (st == ACPI_OK)
			FUZZ_CHECK(memcmp(ref.table, mem + ref.addr, ref.header.length) == 0);
	}
	for (size_t s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++) {
		unsigned found = 0;

		/* Bounded: each lookup rescans the root, and real tables repeat rarely. */
		for (unsigned index = 0; index < FIND_MAX_INDEX; index++) {
			enum acpi_status st = acpi_tables_find(t, sigs[s], index, &ref);
			if (st == ACPI_ERR_NOT_FOUND)
				break;
			found++;
			FUZZ_CHECK(found <= t->entry_count);
			FUZZ_CHECK(memcmp(ref.header.sig, sigs[s], ACPI_SIG_LEN) == 0);
			check_ref(t, &ref, st);
			if (st == ACPI_OK && s == 0)
				check_mcfg(&ref);
			if (st == ACPI_OK && s == 1)
				check_dmar(&ref);
			if (st == ACPI_OK && s == 2)
				check_fadt(t, &ref, mem);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t len = size - 1;
	uint8_t *mem = fuzz_dup(data + 1, len);

	if (flags & FLAG_REPAIR)
		repair(mem, len);
	struct fake_mem m = { mem, len, LARGE_MAX_LEN, NULL, 0, 0 };
	if (flags & FLAG_SMALL_MAX)
		m.max_len = ACPI_HEADER_LEN + 8u * (flags >> 2);
	size_t rsdp_len = len < RSDP_COPY_MAX ? len : RSDP_COPY_MAX;
	uint8_t *rsdp = fuzz_dup(mem, rsdp_len);
	struct acpi_tables t;
	struct acpi_header h;

	enum acpi_status st = acpi_tables_open(&t, rsdp, rsdp_len, map, &m, m.max_len);
	check_root(&t, st, mem);
	if (st == ACPI_OK)
		walk(&t, mem);

	/* The whole memory as one table: length and checksum rules. */
	if (acpi_table_check(mem, len, &h) == ACPI_OK)
		FUZZ_CHECK(h.length >= ACPI_HEADER_LEN && h.length <= len &&
			   acpi_checksum_ok(mem, h.length));
	release(&m);
	free(rsdp);
	free(mem);
	return 0;
}
