/* Framebuffer console: see fbcon.h. */
#include "fbcon.h"

#include "font8x16.h"
#include "mmio.h"
#include "paging.h"
#include "screen_text.h"

#define BITS_PER_BYTE 8
#define GLYPH_LEFTMOST_BIT 0x80
#define BPP_16 16
#define BPP_24 24
#define BPP_32 32

#define RGB_RED_SHIFT 16
#define RGB_GREEN_SHIFT 8
#define RGB_CHANNEL_MASK 0xff
#define RGB_CHANNEL_BITS 8

/* Colours as 0xRRGGBB; turned into the framebuffer's pixel layout at init. */
#define RGB_BLACK 0x000000u
#define RGB_WHITE 0xffffffu
#define RGB_LIGHT_GREEN 0x55ff55u
#define RGB_LIGHT_RED 0xff5555u
#define RGB_YELLOW 0xffff55u
#define RGB_GREEN 0x00aa00u
#define RGB_RED 0xaa0000u
#define RGB_BROWN 0xaa5500u

struct cell_colours {
	uint32_t ink, paper;
};

/* As in VGA text mode: coloured text; the status row's colour is its background. */
static const uint32_t text_rgb[SCREEN_ATTR_COUNT] = {
	[SCREEN_ATTR_PLAIN] = RGB_WHITE, [SCREEN_ATTR_PASS] = RGB_LIGHT_GREEN,
	[SCREEN_ATTR_FAIL] = RGB_LIGHT_RED, [SCREEN_ATTR_SKIP] = RGB_YELLOW,
	[SCREEN_ATTR_HEADING] = RGB_WHITE,
};
static const uint32_t status_rgb[SCREEN_ATTR_COUNT] = {
	[SCREEN_ATTR_PLAIN] = RGB_WHITE, [SCREEN_ATTR_PASS] = RGB_GREEN,
	[SCREEN_ATTR_FAIL] = RGB_RED, [SCREEN_ATTR_SKIP] = RGB_BROWN,
	[SCREEN_ATTR_HEADING] = RGB_WHITE,
};

static struct mb2_framebuffer fbcon;
static unsigned bytes_per_pixel;
static uint32_t white; /* every bit of a pixel set: white in any RGB layout */
static struct cell_colours text_colours[SCREEN_ATTR_COUNT], status_colours[SCREEN_ATTR_COUNT];

static bool bpp_supported(uint8_t bpp)
{
	return bpp == BPP_16 || bpp == BPP_24 || bpp == BPP_32;
}

static void put_pixel(uint64_t at, uint32_t value)
{
	switch (bytes_per_pixel) {
	case BPP_32 / BITS_PER_BYTE:
		mmio_write32(at, value);
		break;
	case BPP_24 / BITS_PER_BYTE:
		for (unsigned i = 0; i < bytes_per_pixel; i++)
			mmio_write8(at + i, (uint8_t)(value >> (i * BITS_PER_BYTE)));
		break;
	default:
		mmio_write16(at, (uint16_t)value);
		break;
	}
}

/* Black everywhere, including the margins the character grid does not cover. */
static void clear_screen(void)
{
	for (uint32_t y = 0; y < fbcon.height; y++) {
		uint64_t line = fbcon.addr + (uint64_t)y * fbcon.pitch;
		for (uint32_t x = 0; x < fbcon.width; x++)
			put_pixel(line + (uint64_t)x * bytes_per_pixel, 0);
	}
}

/* One 8-bit channel scaled to a field of `size` bits at `pos`. */
static uint32_t channel(uint32_t rgb, unsigned shift, uint8_t pos, uint8_t size)
{
	uint32_t value = (rgb >> shift) & RGB_CHANNEL_MASK;

	if (size == 0 || size > RGB_CHANNEL_BITS || pos >= BPP_32)
		return 0;
	return (value >> (RGB_CHANNEL_BITS - size)) << pos;
}

static uint32_t pixel_of(uint32_t rgb)
{
	const struct mb2_rgb_layout *l = &fbcon.rgb;

	return channel(rgb, RGB_RED_SHIFT, l->red_pos, l->red_size) |
	       channel(rgb, RGB_GREEN_SHIFT, l->green_pos, l->green_size) |
	       channel(rgb, 0, l->blue_pos, l->blue_size);
}

/*
 * Without the tag's colour layout every attribute is white on black (the
 * status row black on white): the bracketed status in the text still tells
 * PASS from FAIL.
 */
static void make_colours(void)
{
	for (unsigned a = 0; a < SCREEN_ATTR_COUNT; a++) {
		if (fbcon.has_rgb_layout) {
			text_colours[a] = (struct cell_colours){ pixel_of(text_rgb[a]), pixel_of(RGB_BLACK) };
			status_colours[a] = (struct cell_colours){ pixel_of(RGB_BLACK), pixel_of(status_rgb[a]) };
		} else {
			text_colours[a] = (struct cell_colours){ white, 0 };
			status_colours[a] = (struct cell_colours){ 0, white };
		}
	}
}

const char *fbcon_init(const struct mb2_framebuffer *fb)
{
	if (fb->type != MB2_FB_TYPE_RGB)
		return "framebuffer-not-direct-rgb";
	if (!bpp_supported(fb->bpp))
		return "framebuffer-bpp-unsupported";
	if (fb->addr == 0 || fb->width < FONT8X16_WIDTH || fb->height < FONT8X16_HEIGHT ||
	    fb->pitch < (uint64_t)fb->width * (fb->bpp / BITS_PER_BYTE))
		return "framebuffer-geometry-invalid";
	if (!paging_map_mmio(fb->addr, (uint64_t)fb->pitch * fb->height))
		return "framebuffer-map-failed";
	fbcon = *fb;
	bytes_per_pixel = fb->bpp / BITS_PER_BYTE;
	white = fb->bpp == BPP_32 ? UINT32_MAX : (1u << fb->bpp) - 1;
	make_colours();
	clear_screen();
	return NULL;
}

unsigned fbcon_cols(void)
{
	return fbcon.width / FONT8X16_WIDTH;
}

unsigned fbcon_rows(void)
{
	return fbcon.height / FONT8X16_HEIGHT;
}

static const uint8_t *glyph_for(char c)
{
	unsigned char code = (unsigned char)c;

	if (code < FONT8X16_FIRST || code > FONT8X16_LAST)
		code = FONT8X16_FALLBACK;
	return font8x16_glyphs[code - FONT8X16_FIRST];
}

void fbcon_draw(unsigned col, unsigned row, char c, unsigned char attr, bool status)
{
	const uint8_t *glyph = glyph_for(c);
	unsigned a = attr < SCREEN_ATTR_COUNT ? attr : SCREEN_ATTR_PLAIN;
	struct cell_colours colours = status ? status_colours[a] : text_colours[a];
	uint64_t origin = fbcon.addr + (uint64_t)row * FONT8X16_HEIGHT * fbcon.pitch +
			  (uint64_t)col * FONT8X16_WIDTH * bytes_per_pixel;

	for (unsigned y = 0; y < FONT8X16_HEIGHT; y++) {
		uint8_t bits = glyph[y];
		uint64_t at = origin + (uint64_t)y * fbcon.pitch;
		for (unsigned x = 0; x < FONT8X16_WIDTH; x++, at += bytes_per_pixel)
			put_pixel(at, (bits & (GLYPH_LEFTMOST_BIT >> x)) ? colours.ink : colours.paper);
	}
}
