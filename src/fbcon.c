/* Framebuffer console: see fbcon.h. */
#include "fbcon.h"

#include "font8x16.h"
#include "mmio.h"
#include "paging.h"

#define BITS_PER_BYTE 8
#define GLYPH_LEFTMOST_BIT 0x80
#define GLYPH_ALL_BITS 0xff
#define BPP_16 16
#define BPP_24 24
#define BPP_32 32

static struct mb2_framebuffer fbcon;
static unsigned bytes_per_pixel;
static uint32_t white; /* every bit of a pixel set: white in any RGB layout */

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

void fbcon_draw(unsigned col, unsigned row, char c, bool inverse)
{
	const uint8_t *glyph = glyph_for(c);
	uint8_t flip = inverse ? GLYPH_ALL_BITS : 0;
	uint64_t origin = fbcon.addr + (uint64_t)row * FONT8X16_HEIGHT * fbcon.pitch +
			  (uint64_t)col * FONT8X16_WIDTH * bytes_per_pixel;

	for (unsigned y = 0; y < FONT8X16_HEIGHT; y++) {
		uint8_t bits = glyph[y] ^ flip;
		uint64_t at = origin + (uint64_t)y * fbcon.pitch;
		for (unsigned x = 0; x < FONT8X16_WIDTH; x++, at += bytes_per_pixel)
			put_pixel(at, (bits & (GLYPH_LEFTMOST_BIT >> x)) ? white : 0);
	}
}
