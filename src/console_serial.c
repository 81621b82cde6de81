/* Serial console selection: see console_serial.h. */
#include "console_serial.h"

#include "acpi.h"
#include "proof.h"
#include "serial.h"
#include "spcr.h"

#include <stdio.h>
#include <string.h>

#define PORTS_TEXT_MAX 160
#define UART_NAME_MAX 32

struct spcr_outcome {
	const char *state;   /* "none", "used", "unused" or "rejected" */
	const char *reason;  /* why not used (NULL when used or absent) */
	char uart[UART_NAME_MAX];
};

static void add_or_note(const struct uart_desc *u, bool from_spcr, const char *what)
{
	const char *reason = NULL;
	char name[UART_NAME_MAX];

	if (serial_add(u, from_spcr, &reason))
		return;
	uart_desc_name(u, name, sizeof(name));
	struct proof p;
	proof_begin(&p, "console", "problem");
	proof_str(&p, "port", what);
	proof_str(&p, "uart", name);
	proof_str(&p, "reason", reason);
	proof_emit(&p);
}

static void use_spcr(const struct console_spec *spec, struct spcr_outcome *out)
{
	size_t len = 0;
	const void *table = acpi_find_table("SPCR", 0, &len);
	struct spcr_info info;

	*out = (struct spcr_outcome){ .state = "none" };
	if (!table)
		return;
	enum spcr_status status = spcr_parse(table, len, &info);
	if (status != SPCR_OK) {
		out->state = "rejected";
		out->reason = spcr_status_str(status);
		return;
	}
	uart_desc_name(&info.uart, out->uart, sizeof(out->uart));
	if (!spec->all && !spec->spcr) {
		out->state = "unused";
		out->reason = "not-selected-by-console-option";
		return;
	}
	add_or_note(&info.uart, true, "spcr");
	out->state = "used";
}

static bool selected(const struct serial_port *p, const struct console_spec *spec)
{
	if (spec->all)
		return true;
	if (p->com && (spec->com_mask & (1u << (p->com - 1))))
		return true;
	if (p->from_spcr && spec->spcr)
		return true;
	for (unsigned i = 0; i < spec->mmio_count; i++)
		if (uart_desc_same(&p->uart, &spec->mmio[i]))
			return true;
	return false;
}

/* Explicitly named legacy ports that did not answer at boot get one more try. */
static void add_named_com_ports(const struct console_spec *spec)
{
	for (unsigned i = 0; i < CONSOLE_COM_PORTS; i++) {
		if (!(spec->com_mask & (1u << i)))
			continue;
		struct uart_desc u;
		serial_com_uart(i, &u);
		char what[] = "comN";
		what[3] = (char)('1' + i);
		add_or_note(&u, false, what);
	}
}

/*
 * Narrows the active set to the selection; when nothing selected answers,
 * every port stays on, since a log nobody can read proves nothing.
 */
static bool apply_selection(const struct console_spec *spec)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < serial_port_count(); i++)
		kept += serial_port_get(i)->active && selected(serial_port_get(i), spec);
	if (kept == 0)
		return false;
	for (unsigned i = 0; i < serial_port_count(); i++) {
		struct serial_port *p = serial_port_get(i);
		p->active = p->active && selected(p, spec);
	}
	return true;
}

void console_serial_describe(char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < serial_port_count() && used < cap; i++) {
		const struct serial_port *p = serial_port_get(i);
		if (!p->active)
			continue;
		int n = snprintf(buf + used, cap - used, "%s%s%s", used ? "," : "", p->label,
				 p->from_spcr && p->com ? "(spcr)" : "");
		if (n > 0)
			used += (size_t)n;
	}
}

void console_serial_configure(const struct console_spec *spec, const char *selection)
{
	struct spcr_outcome spcr;
	char ports_text[PORTS_TEXT_MAX];

	use_spcr(spec, &spcr);
	add_named_com_ports(spec);
	for (unsigned i = 0; i < spec->mmio_count; i++)
		add_or_note(&spec->mmio[i], false, "mmio");
	bool narrowed = apply_selection(spec);
	serial_transcript_end();

	console_serial_describe(ports_text, sizeof(ports_text));
	struct proof p;
	proof_begin(&p, "console", "serial");
	proof_str(&p, "ports", ports_text);
	proof_str(&p, "selection", selection);
	proof_bool(&p, "selection_applied", narrowed);
	proof_str(&p, "spcr", spcr.state);
	if (spcr.uart[0])
		proof_str(&p, "spcr_uart", spcr.uart);
	if (spcr.reason)
		proof_str(&p, "spcr_reason", spcr.reason);
	proof_emit(&p);
}
