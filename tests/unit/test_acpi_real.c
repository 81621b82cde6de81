/*
 * The parsers on the ACPI tables of 45 real machines (tests/unit/data/acpi-real,
 * CC BY 4.0, see its README.md), compared with what iasl -d decodes
 * (expected.tsv, written by gen_expected.py from iasl's output).
 *
 * Each machine's tables are laid out in a fake physical memory behind an
 * RSDP and an XSDT (FACP, the SSDTs in dump order, then the others), the
 * DSDT at the address its FADT names, and the firmware's own walk runs on
 * it: table checks, MCFG, FADT, \_S5 from the DSDT or the SSDTs, the
 * power-off and reset decisions, DMAR with its tolerance warnings; APIC
 * and HPET are only checked (length, checksum).  Every fact is formatted
 * as in expected.tsv and the lines must be equal.
 */
#define _POSIX_C_SOURCE 200809L /* opendir, strdup */

#include "unit.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "acpi.h"
#include "acpi_fadt.h"
#include "acpi_power_plan.h"
#include "dmar.h"
#include "le.h"

#define REAL_DIR_DEFAULT "tests/unit/data/acpi-real"
#define MAX_TABLES 64
#define MAX_FACTS 128
#define FACT_LEN 256
#define NAME_LEN 16
#define FAKE_TABLE_BASE 0x100000000000ull /* above any address in the dumps */
#define FAKE_TABLE_STRIDE 0x100000ull
#define XSDT_ADDR 0xf0000ull
#define RSDP_OFF_CHECKSUM 8          /* over the first 20 bytes */
#define RSDP_OFF_EXT_CHECKSUM 32     /* over Length bytes (revision 2) */

struct region {
	char name[NAME_LEN]; /* file name without .dat */
	uint64_t addr;
	uint8_t *bytes;
	size_t len;
};

struct machine {
	char id[NAME_LEN];
	struct region r[MAX_TABLES];
	unsigned count;
	unsigned ssdt_first, ssdt_count; /* the SSDT regions, in XSDT order */
	uint8_t rsdp[ACPI_RSDP_V2_LEN];
	uint8_t xsdt[ACPI_HEADER_LEN + 8 * MAX_TABLES];
};

struct facts {
	unsigned count;
	char line[MAX_FACTS][FACT_LEN]; /* "key\tvalue" */
};

static const char *real_dir(void)
{
	const char *dir = getenv("PROOFBOOT_ACPI_REAL");

	return dir ? dir : REAL_DIR_DEFAULT;
}

static void fact(struct facts *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fact(struct facts *f, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->count == MAX_FACTS) {
		unit_fail(__FILE__, __LINE__, "more than %d facts", MAX_FACTS);
		return;
	}
	n = snprintf(f->line[f->count], FACT_LEN, "%s\t", key);
	va_start(ap, fmt);
	vsnprintf(f->line[f->count] + n, (size_t)(FACT_LEN - n), fmt, ap);
	va_end(ap);
	f->count++;
}

/* ------------------------------------------------------------ loading */

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool load_file(const char *path, uint8_t **bytes, size_t *len)
{
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return false;
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);

	fseek(fp, 0, SEEK_SET);
	*bytes = malloc(size > 0 ? (size_t)size : 1);
	*len = size > 0 && fread(*bytes, 1, (size_t)size, fp) == (size_t)size ? (size_t)size : 0;
	fclose(fp);
	return *len > 0;
}

static struct region *add_region(struct machine *m, const char *name)
{
	char path[512];
	struct region *r = &m->r[m->count];

	snprintf(path, sizeof(path), "%s/%s/%s.dat", real_dir(), m->id, name);
	if (m->count == MAX_TABLES || !load_file(path, &r->bytes, &r->len))
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->addr = FAKE_TABLE_BASE + FAKE_TABLE_STRIDE * m->count;
	m->count++;
	return r;
}

/* SSDT file numbers in dump order: ssdt.dat is 0, ssdtN.dat is N. */
static int ssdt_number(const char *file)
{
	size_t n = strlen(file);

	if (strncmp(file, "ssdt", 4) != 0 || n < 8 || strcmp(file + n - 4, ".dat") != 0)
		return -1;
	return n == 8 ? 0 : atoi(file + 4);
}

static int by_number(const void *a, const void *b)
{
	return ssdt_number(*(const char *const *)a) - ssdt_number(*(const char *const *)b);
}

static void add_ssdts(struct machine *m)
{
	char dir[512], *names[MAX_TABLES];
	unsigned n = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/%s", real_dir(), m->id);
	d = opendir(dir);
	while (d && (e = readdir(d)) != NULL && n < MAX_TABLES)
		if (ssdt_number(e->d_name) >= 0)
			names[n++] = strdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), by_number);
	m->ssdt_first = m->count;
	for (unsigned i = 0; i < n; i++) {
		names[i][strlen(names[i]) - 4] = '\0';
		add_region(m, names[i]);
		free(names[i]);
	}
	m->ssdt_count = m->count - m->ssdt_first;
}

static struct region *find_region(struct machine *m, const char *name)
{
	for (unsigned i = 0; i < m->count; i++)
		if (strcmp(m->r[i].name, name) == 0)
			return &m->r[i];
	return NULL;
}

/* RSDP (revision 2) and XSDT listing every table but the DSDT. */
static void build_root(struct machine *m)
{
	unsigned entries = 0;

	for (unsigned i = 0; i < m->count; i++)
		if (strcmp(m->r[i].name, "dsdt") != 0)
			put_le(m->xsdt + ACPI_HEADER_LEN + 8 * entries++, m->r[i].addr, 8);
	uint32_t xlen = ACPI_HEADER_LEN + 8 * entries;

	memcpy(m->xsdt, "XSDT", 4);
	put_le(m->xsdt + ACPI_HDR_OFF_LENGTH, xlen, 4);
	m->xsdt[ACPI_HDR_OFF_REVISION] = 1;
	m->xsdt[ACPI_HDR_OFF_CHECKSUM] = 0;
	uint8_t sum = 0;

	for (uint32_t i = 0; i < xlen; i++)
		sum = (uint8_t)(sum + m->xsdt[i]);
	m->xsdt[ACPI_HDR_OFF_CHECKSUM] = (uint8_t)-sum;

	memset(m->rsdp, 0, sizeof(m->rsdp));
	memcpy(m->rsdp, ACPI_RSDP_SIGNATURE, ACPI_RSDP_SIGNATURE_LEN);
	m->rsdp[ACPI_RSDP_OFF_REVISION] = ACPI_RSDP_FIRST_V2_REVISION;
	put_le(m->rsdp + ACPI_RSDP_OFF_LENGTH, ACPI_RSDP_V2_LEN, 4);
	put_le(m->rsdp + ACPI_RSDP_OFF_XSDT, XSDT_ADDR, 8);
	sum = 0;
	for (unsigned i = 0; i < ACPI_RSDP_V1_LEN; i++)
		sum = (uint8_t)(sum + m->rsdp[i]);
	m->rsdp[RSDP_OFF_CHECKSUM] = (uint8_t)-sum;
	sum = 0;
	for (unsigned i = 0; i < ACPI_RSDP_V2_LEN; i++)
		sum = (uint8_t)(sum + m->rsdp[i]);
	m->rsdp[RSDP_OFF_EXT_CHECKSUM] = (uint8_t)-sum;
}

/* Map callback: a request must fall inside one table (or the XSDT). */
static const void *map_real(void *ctx, uint64_t phys, size_t len)
{
	struct machine *m = ctx;
	uint32_t xlen = le_get32(m->xsdt + ACPI_HDR_OFF_LENGTH);

	if (phys == XSDT_ADDR && len <= xlen)
		return m->xsdt;
	for (unsigned i = 0; i < m->count; i++)
		if (phys >= m->r[i].addr && phys - m->r[i].addr + len <= m->r[i].len)
			return m->r[i].bytes + (phys - m->r[i].addr);
	return NULL;
}

static bool load_machine(struct machine *m, const char *id)
{
	static const char *const others[] = { "dmar", "mcfg", "apic", "hpet" };

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	if (!add_region(m, "facp"))
		return false;
	add_ssdts(m);
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		add_region(m, others[i]);
	struct region *dsdt = add_region(m, "dsdt");
	struct acpi_fadt_info f;

	/* The DSDT sits where the FADT says, as on the machine. */
	if (dsdt && acpi_fadt_parse(m->r[0].bytes, m->r[0].len, &f))
		dsdt->addr = f.dsdt;
	build_root(m);
	return true;
}

static void free_machine(struct machine *m)
{
	for (unsigned i = 0; i < m->count; i++)
		free(m->r[i].bytes);
}

/* ------------------------------------------------------------ facts */

static void table_facts(struct machine *m, struct facts *out)
{
	static const char *const order[] = { "facp", "dmar", "mcfg", "apic", "hpet", "dsdt" };

	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]) + m->ssdt_count; k++) {
		const unsigned named = sizeof(order) / sizeof(order[0]);
		const struct region *r = k < named ? find_region(m, order[k])
						   : &m->r[m->ssdt_first + k - named];
		struct acpi_header h;
		char key[32];

		if (!r)
			continue;
		enum acpi_status st = acpi_table_check(r->bytes, r->len, &h);

		snprintf(key, sizeof(key), "table.%s", r->name);
		fact(out, key, "len=%" PRIu32 " checksum=%s", h.length, st == ACPI_OK ? "ok" : "bad");
	}
}

static void gas_fact(struct facts *out, const char *key, bool present, const struct acpi_gas *g,
		     const char *suffix)
{
	if (!present) {
		fact(out, key, "absent");
		return;
	}
	fact(out, key, "space=%u width=%u offset=%u access=%u addr=0x%" PRIx64 "%s", g->space,
	     g->bit_width, g->bit_offset, g->access_size, g->address, suffix);
}

static void fadt_facts(const struct acpi_fadt_info *f, struct facts *out)
{
	char value[16];

	fact(out, "fadt",
	     "rev=%u len=%" PRIu32 " flags=0x%08" PRIx32 " hw_reduced=%d reset_reg_sup=%d dsdt=0x%" PRIx64
	     " pm1a_cnt_blk=0x%" PRIx32 " pm1b_cnt_blk=0x%" PRIx32,
	     f->revision, f->length, f->flags, !!(f->flags & FADT_FLAG_HW_REDUCED_ACPI),
	     !!(f->flags & FADT_FLAG_RESET_REG_SUP), f->dsdt, f->pm1a_cnt_blk, f->pm1b_cnt_blk);
	gas_fact(out, "fadt.x_pm1a", f->has_x_pm1, &f->x_pm1a_cnt, "");
	gas_fact(out, "fadt.x_pm1b", f->has_x_pm1, &f->x_pm1b_cnt, "");
	snprintf(value, sizeof(value), " value=0x%02x", f->reset_value);
	gas_fact(out, "fadt.reset", f->has_reset, &f->reset_reg, value);
	gas_fact(out, "fadt.sleep_control", f->has_sleep_regs, &f->sleep_control, "");
	gas_fact(out, "fadt.sleep_status", f->has_sleep_regs, &f->sleep_status, "");
}

static int reg_text(char *buf, size_t cap, const char *key, const struct acpi_power_reg *r,
		    bool with_from)
{
	return snprintf(buf, cap, " %s=%s:0x%" PRIx64 "%s/%u/%u", key,
			r->space == GAS_SPACE_IO ? "io" : "mem", r->address,
			with_from ? (r->from_x ? "/x" : "/legacy") : "", r->bits, r->access_bits);
}

static void poweroff_fact(const struct acpi_poweroff_plan *p, struct facts *out)
{
	char buf[FACT_LEN];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "method=%s hw_reduced=%d",
				    acpi_poweroff_method_str(p->method), p->hw_reduced);

	if (p->pm1a.present) {
		n += (size_t)reg_text(buf + n, sizeof(buf) - n, "pm1a", &p->pm1a, true);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " pm1a_value=0x%04x", p->pm1a_value);
	}
	if (p->pm1b.present) {
		n += (size_t)reg_text(buf + n, sizeof(buf) - n, "pm1b", &p->pm1b, true);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " pm1b_value=0x%04x", p->pm1b_value);
	}
	if (p->sleep_control.present) {
		n += (size_t)reg_text(buf + n, sizeof(buf) - n, "sleep_control", &p->sleep_control, false);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " sleep_control_value=0x%02x",
				      p->sleep_control_value);
		if (p->sleep_status.present)
			n += (size_t)reg_text(buf + n, sizeof(buf) - n, "sleep_status", &p->sleep_status,
					      false);
	}
	if (p->method == ACPI_POWEROFF_NONE)
		snprintf(buf + n, sizeof(buf) - n, " reason=%s", p->reason);
	fact(out, "poweroff", "%s", buf);
}

static void reset_fact(const struct acpi_reset_plan *p, struct facts *out)
{
	char reg[64];

	if (!p->usable) {
		fact(out, "reset", "method=none reason=%s", p->reason);
		return;
	}
	reg_text(reg, sizeof(reg), "register", &p->reg, false);
	fact(out, "reset", "method=register%s value=0x%02x", reg, p->value);
}

static void s5_fact(struct machine *m, const struct acpi_s5 *s5, struct facts *out)
{
	if (!s5->found) {
		fact(out, "s5", "missing");
		return;
	}
	const char *table = s5->in_ssdt ? m->r[m->ssdt_first + s5->ssdt_index].name : "dsdt";

	fact(out, "s5", "table=%s slp_typ_a=%u slp_typ_b=%u", table, s5->slp_typ_a, s5->slp_typ_b);
}

static void mcfg_facts(const struct acpi_tables *t, struct facts *out)
{
	struct acpi_table_ref ref;
	unsigned count;

	if (acpi_tables_find(t, "MCFG", 0, &ref) != ACPI_OK) {
		fact(out, "mcfg", "absent");
		return;
	}
	CHECK_EQ(acpi_mcfg_count(ref.table, ref.header.length, &count), ACPI_OK);
	fact(out, "mcfg", "entries=%u", count);
	for (unsigned i = 0; i < count; i++) {
		struct acpi_mcfg_entry e;
		char key[16];

		CHECK_EQ(acpi_mcfg_get(ref.table, ref.header.length, i, &e), ACPI_OK);
		snprintf(key, sizeof(key), "mcfg.%u", i);
		fact(out, key, "base=0x%016" PRIx64 " seg=%u bus=%u-%u", e.base, e.segment, e.bus_start,
		     e.bus_end);
	}
}

static void drhd_facts(const struct dmar_drhd *units, unsigned count, const char *prefix,
		       struct facts *out)
{
	for (unsigned i = 0; i < count; i++) {
		const struct dmar_drhd *u = &units[i];
		char key[32];

		snprintf(key, sizeof(key), "%s.%u", prefix, i);
		fact(out, key, "offset=0x%" PRIx32 " flags=0x%02x seg=%u base=0x%" PRIx64 " scopes=%u",
		     u->offset, u->flags, u->segment, u->reg_base, u->scope_count);
	}
}

static void dmar_facts(const struct acpi_tables *t, struct facts *out)
{
	struct acpi_table_ref ref;
	static struct dmar_info info;

	if (acpi_tables_find(t, "DMAR", 0, &ref) != ACPI_OK) {
		fact(out, "dmar", "absent");
		return;
	}
	CHECK_EQ(dmar_parse(ref.table, ref.header.length, &info), DMAR_OK);
	fact(out, "dmar",
	     "haw=%u flags=0x%02x units=%u disabled=%u rmrrs=%u scopes=%u skipped=%u incomplete=%d "
	     "warnings=%u", info.host_addr_width, info.flags, info.drhd_count, info.disabled_count,
	     info.rmrr_count, info.scope_count, info.skipped_structs, info.incomplete,
	     info.warning_count);
	drhd_facts(info.drhd, info.drhd_count, "dmar.unit", out);
	drhd_facts(info.disabled, info.disabled_count, "dmar.disabled", out);
	for (unsigned i = 0; i < info.rmrr_count; i++) {
		const struct dmar_rmrr *r = &info.rmrr[i];
		char key[32];

		snprintf(key, sizeof(key), "dmar.rmrr.%u", i);
		fact(out, key, "seg=%u base=0x%" PRIx64 " limit=0x%" PRIx64 " scopes=%u", r->segment,
		     r->base, r->limit, r->scope_count);
	}
	for (unsigned i = 0; i < info.warning_count && i < DMAR_MAX_WARNINGS; i++) {
		const struct dmar_warning *w = &info.warnings[i];
		char key[32], name[16];

		snprintf(key, sizeof(key), "dmar.warning.%u", i);
		fact(out, key, "kind=%s structure=%s offset=0x%" PRIx32, dmar_warning_kind_str(w->kind),
		     dmar_struct_type_str(w->struct_type, name, sizeof(name)), w->offset);
	}
}

/* Everything the firmware decides from one machine's tables, as expected.tsv lines. */
static void machine_facts(struct machine *m, struct facts *out)
{
	struct acpi_tables t;
	struct acpi_fadt_info f;
	struct acpi_table_ref fadt;
	struct acpi_s5 s5;
	struct acpi_poweroff_plan off;
	struct acpi_reset_plan reset;

	table_facts(m, out);
	CHECK_EQ(acpi_tables_open(&t, m->rsdp, sizeof(m->rsdp), map_real, m, 1u << 20), ACPI_OK);
	CHECK_EQ(acpi_tables_find(&t, "FACP", 0, &fadt), ACPI_OK);
	CHECK(acpi_fadt_parse(fadt.table, fadt.header.length, &f));
	acpi_s5_search(&t, f.dsdt, &s5);
	s5_fact(m, &s5, out);
	fadt_facts(&f, out);
	acpi_poweroff_plan(&f, &s5, &off);
	poweroff_fact(&off, out);
	acpi_reset_plan(&f, &reset);
	reset_fact(&reset, out);
	mcfg_facts(&t, out);
	dmar_facts(&t, out);
}

/* ------------------------------------------------------------ expected.tsv */

struct expected {
	unsigned machines;
	char (*id)[NAME_LEN];
	struct facts *facts;
};

static bool load_expected(struct expected *e)
{
	char path[512], line[FACT_LEN + NAME_LEN + 4];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/expected.tsv", real_dir());
	fp = fopen(path, "r");
	memset(e, 0, sizeof(*e));
	if (!fp)
		return false;
	e->id = calloc(MAX_TABLES, sizeof(*e->id));
	e->facts = calloc(MAX_TABLES, sizeof(*e->facts));
	while (fgets(line, sizeof(line), fp)) {
		char *tab = strchr(line, '\t');

		if (line[0] == '#' || !tab)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*tab = '\0';
		if (e->machines == 0 || strcmp(e->id[e->machines - 1], line) != 0) {
			if (e->machines == MAX_TABLES)
				break;
			snprintf(e->id[e->machines++], NAME_LEN, "%.15s", line);
		}
		struct facts *f = &e->facts[e->machines - 1];

		if (f->count < MAX_FACTS)
			snprintf(f->line[f->count++], FACT_LEN, "%s", tab + 1);
	}
	fclose(fp);
	return true;
}

static void compare(const char *id, const struct facts *want, const struct facts *got)
{
	unsigned n = want->count > got->count ? want->count : got->count;

	for (unsigned i = 0; i < n; i++) {
		const char *w = i < want->count ? want->line[i] : "(none)";
		const char *g = i < got->count ? got->line[i] : "(none)";

		if (strcmp(w, g) != 0) {
			unit_fail(__FILE__, __LINE__, "%s line %u:\n    iasl:   %s\n    parser: %s", id,
				  i, w, g);
			return; /* the first difference says it; later lines shift */
		}
	}
}

UNIT_TEST(acpi_real_machines_match_iasl)
{
	static struct expected e;
	static struct machine m;
	static struct facts got;

	if (!load_expected(&e)) {
		unit_fail(__FILE__, __LINE__, "cannot read %s/expected.tsv (run from the repository "
			  "root or set PROOFBOOT_ACPI_REAL)", real_dir());
		return;
	}
	CHECK_EQ(e.machines, 45);
	for (unsigned i = 0; i < e.machines; i++) {
		if (!load_machine(&m, e.id[i])) {
			unit_fail(__FILE__, __LINE__, "%s: no facp.dat", e.id[i]);
			continue;
		}
		memset(&got, 0, sizeof(got));
		machine_facts(&m, &got);
		compare(e.id[i], &e.facts[i], &got);
		free_machine(&m);
	}
	free(e.id);
	free(e.facts);
}
