/*
 * Console fan-out: the COM1 serial port, and the screen (VGA text cells or a
 * framebuffer) through a character grid that the backend redraws only where
 * it changed.
 */
#include "console.h"

#include "fbcon.h"
#include "io.h"
#include "proof.h"
#include "screen_text.h"
#include "serial.h"
#include "textgrid.h"
#include "timer.h"
#include "vga.h"

#include <stdlib.h>
#include <string.h>

/* Output before the screen starts (the start banner, multiboot2 problems). */
#define EARLY_LOG_SIZE 4096
#define EARLY_LOG_TRUNCATED "[screen: early output truncated; see the serial log]\n"
/* The line pinned in the status row so the verdict stays visible. */
#define STATUS_WAITING "[waiting for the verdict; full log on serial COM1]"
/*
 * Framebuffer redraws are slow (under QEMU's TCG and through uncached
 * memory on real machines): scroll by a quarter screen at a time.
 */
#define FB_SCROLL_FRACTION 4
#define BITS_PER_BYTE 8
/* Never equal to a grid character, so the first flush draws every cell. */
#define CELL_NEVER_DRAWN '\0'
/* The screen is drawn a line at a time (a result line is rewritten for people). */
#define SCREEN_LINE_MAX 512
/*
 * The screen is redrawn at most once a frame (60 Hz): every cell drawn is
 * an emulated device write under QEMU's TCG, and a scrolled screen changes
 * nearly all of them, so redrawing after each line cost 50 ms of a 0.2 s
 * default run (VGA text, 250 lines).  Nobody reads faster than that; the
 * serial port still gets every line at once.  A redraw held back is done
 * by the next line after the frame or by the runner's tick (console_tick),
 * and from the verdict on every line is drawn at once.
 */
#define SCREEN_FRAME_US 16000u
/* Failed tests repeated above the verdict so they stay on screen. */
#define FAILURES_KEPT 6
#define FAILURE_TEXT_MAX 160

enum screen_kind { SCREEN_NONE, SCREEN_VGA_TEXT, SCREEN_FRAMEBUFFER };

static const char *const screen_kind_names[] = {
	[SCREEN_NONE] = "none",
	[SCREEN_VGA_TEXT] = "vga-text",
	[SCREEN_FRAMEBUFFER] = "framebuffer",
};

struct screen_mode {
	enum screen_kind kind;
	const char *source; /* "multiboot2", "bios-default" or "none" */
	const char *reason; /* why there is no screen console (kind none) */
	struct mb2_framebuffer fb;
	unsigned cols, screen_rows;
};

static struct {
	bool active;
	enum screen_kind kind;
	struct textgrid grid;
	char *shown; /* what the backend has drawn, per cell */
	unsigned char *shown_attrs;
	char pending[SCREEN_LINE_MAX]; /* the line being assembled */
	size_t pending_len;
	char failures[FAILURES_KEPT][FAILURE_TEXT_MAX]; /* the last failed results, rendered */
	unsigned failures_total;
	bool verdict_shown;   /* from then on no redraw waits */
	bool redraw_pending;  /* the grid changed since the last redraw */
	uint64_t last_redraw_us;
	bool busy;            /* a screen write is in progress (re-entry gives the screen up) */
} screen;

static char early_log[EARLY_LOG_SIZE];
static size_t early_len;
static bool early_truncated;
static bool screen_decided;

static void draw_cell(unsigned col, unsigned row, char c, unsigned char attr, bool status)
{
	if (screen.kind == SCREEN_VGA_TEXT)
		vga_text_draw(col, row, c, attr, status);
	else
		fbcon_draw(col, row, c, attr, status);
}

static void screen_flush(void)
{
	struct textgrid *g = &screen.grid;
	size_t first, end;

	if (!textgrid_take_dirty(g, &first, &end))
		return;
	for (size_t i = first; i < end; i++) {
		if (screen.shown[i] == g->cells[i] && screen.shown_attrs[i] == g->attrs[i])
			continue;
		unsigned row = (unsigned)(i / g->cols);
		draw_cell((unsigned)(i % g->cols), row, g->cells[i], g->attrs[i], row == g->rows);
		screen.shown[i] = g->cells[i];
		screen.shown_attrs[i] = g->attrs[i];
	}
	if (screen.kind == SCREEN_VGA_TEXT)
		vga_text_cursor(g->col < g->cols ? g->col : g->cols - 1, g->row);
}

static void keep_early(const char *buf, size_t len)
{
	size_t room = sizeof(early_log) - early_len;

	if (len > room) {
		len = room;
		early_truncated = true;
	}
	memcpy(early_log + early_len, buf, len);
	early_len += len;
}

void console_init(void)
{
	serial_init();
}

/*
 * Interrupts stay off while the grid changes, so the watchdog cannot longjmp
 * out halfway.  Re-entry can then only come from a fault in the screen code
 * itself (its report is printed through here): the screen is given up and
 * the serial port carries on alone.
 */
static void grid_put(const char *text, size_t len, enum screen_attr attr)
{
	textgrid_set_attr(&screen.grid, (unsigned char)attr);
	textgrid_write(&screen.grid, text, len);
	textgrid_write(&screen.grid, "\n", 1);
}

static void remember_failure(const char *text, size_t len)
{
	char *slot = screen.failures[screen.failures_total++ % FAILURES_KEPT];
	size_t n = len < FAILURE_TEXT_MAX - 1 ? len : FAILURE_TEXT_MAX - 1;

	memcpy(slot, text, n);
	slot[n] = '\0';
}

/* The failed tests again, right above the verdict, so they are on screen at the end. */
static void show_failures(void)
{
	unsigned shown = screen.failures_total < FAILURES_KEPT ? screen.failures_total : FAILURES_KEPT;
	char title[FAILURE_TEXT_MAX];

	screen_text_failures_title(screen.failures_total, shown, title, sizeof(title));
	grid_put(title, strlen(title), SCREEN_ATTR_HEADING);
	for (unsigned i = screen.failures_total - shown; i < screen.failures_total; i++) {
		const char *text = screen.failures[i % FAILURES_KEPT];
		grid_put(text, strlen(text), SCREEN_ATTR_FAIL);
	}
}

static void screen_line_done(void)
{
	char text[SCREEN_LINE_MAX];
	struct screen_line info;

	screen_text_render(screen.pending, screen.pending_len, text, sizeof(text), &info);
	screen.pending_len = 0;
	if (info.failed)
		remember_failure(text, info.len);
	if (info.is_verdict) {
		screen.verdict_shown = true;
		if (screen.failures_total)
			show_failures();
		textgrid_set_status_attr(&screen.grid, (unsigned char)info.attr);
	}
	grid_put(text, info.len, info.attr);
}

/* Whole lines are rendered; a line longer than the buffer is shown as it comes. */
static void screen_feed(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			screen_line_done();
			continue;
		}
		if (screen.pending_len == sizeof(screen.pending)) {
			textgrid_set_attr(&screen.grid, SCREEN_ATTR_PLAIN);
			textgrid_write(&screen.grid, screen.pending, screen.pending_len);
			screen.pending_len = 0;
		}
		screen.pending[screen.pending_len++] = buf[i];
	}
}

static void screen_redraw_now(uint64_t now)
{
	screen_flush();
	screen.redraw_pending = false;
	screen.last_redraw_us = now;
}

/* Redraws when a frame has passed since the last redraw (or after the verdict). */
static void screen_redraw_if_due(void)
{
	uint64_t now = time_now_us();

	screen.redraw_pending = true;
	/* Unsigned: a clock that restarted (calibration) counts as a frame passed. */
	if (!screen.verdict_shown && now - screen.last_redraw_us < SCREEN_FRAME_US)
		return;
	screen_redraw_now(now);
}

static void screen_write(const char *buf, size_t len)
{
	if (screen.busy) {
		screen.active = false;
		return;
	}
	uint64_t flags = irq_save();
	screen.busy = true;
	screen_feed(buf, len);
	screen_redraw_if_due();
	screen.busy = false;
	irq_restore(flags);
}

static volatile unsigned writes_in_progress;
static volatile char last_written = '\n';

void console_write(const char *buf, size_t len)
{
	writes_in_progress++;
	serial_write(buf, len);
	if (screen.active)
		screen_write(buf, len);
	else if (!screen_decided)
		keep_early(buf, len);
	if (len)
		last_written = buf[len - 1];
	writes_in_progress--;
}

bool console_busy(void)
{
	return writes_in_progress != 0;
}

/* Draws a held-back redraw when no console write is under way: when due, or now. */
static void redraw_held_back(bool only_when_due)
{
	if (!screen.active || !screen.redraw_pending || screen.busy || console_busy())
		return;
	screen.busy = true;
	if (only_when_due)
		screen_redraw_if_due();
	else
		screen_redraw_now(time_now_us());
	screen.busy = false;
}

void console_tick(void)
{
	redraw_held_back(true);
}

void console_flush(void)
{
	uint64_t flags = irq_save();

	redraw_held_back(false);
	irq_restore(flags);
}

void console_end_line(void)
{
	if (last_written != '\n')
		console_write("\n", 1);
}

static struct screen_mode no_screen(const char *reason)
{
	return (struct screen_mode){ .kind = SCREEN_NONE, .source = "none", .reason = reason };
}

static struct screen_mode vga_text_mode(const char *source, const struct mb2_framebuffer *fb)
{
	struct screen_mode m = { .kind = SCREEN_VGA_TEXT, .source = source, .fb = *fb };

	vga_text_init(fb->addr, fb->pitch, fb->width);
	m.cols = fb->width;
	m.screen_rows = fb->height;
	return m;
}

/* GRUB's tag says what the screen is; without one a BIOS boot is still in VGA text mode. */
static struct screen_mode choose_mode(const struct mb2_info *info)
{
	static const struct mb2_framebuffer bios_text = {
		.addr = VGA_TEXT_DEFAULT_ADDR,
		.pitch = VGA_TEXT_DEFAULT_COLS * VGA_TEXT_CELL_BYTES,
		.width = VGA_TEXT_DEFAULT_COLS,
		.height = VGA_TEXT_DEFAULT_ROWS,
		.bpp = VGA_TEXT_CELL_BYTES * BITS_PER_BYTE,
		.type = MB2_FB_TYPE_EGA_TEXT,
	};

	if (!info)
		return no_screen("no-boot-information");
	if (!info->has_framebuffer)
		return info->efi ? no_screen("no-framebuffer") : vga_text_mode("bios-default", &bios_text);
	if (info->fb.type == MB2_FB_TYPE_EGA_TEXT)
		return vga_text_mode("multiboot2", &info->fb);
	const char *why_not = fbcon_init(&info->fb);
	struct screen_mode m = why_not ? no_screen(why_not) : (struct screen_mode){
		.kind = SCREEN_FRAMEBUFFER, .source = "multiboot2",
		.cols = fbcon_cols(), .screen_rows = fbcon_rows(),
	};
	m.fb = info->fb;
	return m;
}

static bool setup_grid(struct screen_mode *m)
{
	size_t cells = textgrid_cells_size(m->cols, m->screen_rows);
	char *grid_cells = malloc(cells);
	char *shown = malloc(cells);
	char *line = malloc(m->cols);
	unsigned char *attrs = malloc(cells);
	unsigned char *shown_attrs = malloc(cells);

	if (!grid_cells || !shown || !line || !attrs || !shown_attrs) {
		free(grid_cells);
		free(shown);
		free(line);
		free(attrs);
		free(shown_attrs);
		return false;
	}
	unsigned scroll = m->kind == SCREEN_FRAMEBUFFER ? m->screen_rows / FB_SCROLL_FRACTION : 1;
	if (!textgrid_init(&screen.grid, grid_cells, line, m->cols, m->screen_rows, scroll, SCREEN_VERDICT_PREFIX)) {
		free(grid_cells);
		free(shown);
		free(line);
		free(attrs);
		free(shown_attrs);
		return false;
	}
	textgrid_use_attrs(&screen.grid, attrs);
	memset(shown, CELL_NEVER_DRAWN, cells);
	memset(shown_attrs, 0, cells);
	screen.shown = shown;
	screen.shown_attrs = shown_attrs;
	screen.kind = m->kind;
	textgrid_set_status(&screen.grid, STATUS_WAITING, strlen(STATUS_WAITING));
	return true;
}

static void report_screen(const struct screen_mode *m)
{
	struct proof p;

	proof_begin(&p, "console", "screen");
	proof_str(&p, "kind", screen_kind_names[m->kind]);
	proof_str(&p, "source", m->source);
	proof_u64(&p, "width", m->fb.width);
	proof_u64(&p, "height", m->fb.height);
	proof_u64(&p, "bpp", m->fb.bpp);
	proof_u64(&p, "pitch", m->fb.pitch);
	proof_hex(&p, "addr", m->fb.addr, 16);
	proof_u64(&p, "cols", m->kind == SCREEN_NONE ? 0 : screen.grid.cols);
	proof_u64(&p, "rows", m->kind == SCREEN_NONE ? 0 : screen.grid.rows);
	proof_bool(&p, "status_row", m->kind != SCREEN_NONE && screen.grid.has_status);
	if (m->reason)
		proof_str(&p, "reason", m->reason);
	proof_emit(&p);
}

void console_start_screen(const struct mb2_info *info)
{
	struct screen_mode m = choose_mode(info);

	if (m.kind != SCREEN_NONE && !setup_grid(&m)) {
		struct mb2_framebuffer fb = m.fb;
		m = no_screen("out-of-memory");
		m.fb = fb;
	}
	report_screen(&m); /* still kept in the early log: it is replayed below */
	screen_decided = true;
	if (m.kind == SCREEN_NONE)
		return;
	screen.active = true;
	screen_write(early_log, early_len);
	if (early_truncated)
		screen_write(EARLY_LOG_TRUNCATED, strlen(EARLY_LOG_TRUNCATED));
}
