/* VGA text-mode screen: see vga.h. */
#include "vga.h"

#include "io.h"
#include "mmio.h"
#include "screen_text.h"

/* Attribute byte: background colour in bits 4-6, foreground in bits 0-3. */
#define VGA_ATTR_LIGHT_GREY_ON_BLACK 0x07
#define VGA_ATTR_LIGHT_GREEN_ON_BLACK 0x0a
#define VGA_ATTR_LIGHT_RED_ON_BLACK 0x0c
#define VGA_ATTR_YELLOW_ON_BLACK 0x0e
#define VGA_ATTR_WHITE_ON_BLACK 0x0f
#define VGA_ATTR_BLACK_ON_LIGHT_GREY 0x70
#define VGA_ATTR_BLACK_ON_GREEN 0x20
#define VGA_ATTR_BLACK_ON_RED 0x40
#define VGA_ATTR_BLACK_ON_BROWN 0x60
#define VGA_ATTR_SHIFT 8

/* Text colours, and the status row's (colour as background: readable from across the lab). */
static const uint8_t text_attr[SCREEN_ATTR_COUNT] = {
	[SCREEN_ATTR_PLAIN] = VGA_ATTR_LIGHT_GREY_ON_BLACK,
	[SCREEN_ATTR_PASS] = VGA_ATTR_LIGHT_GREEN_ON_BLACK,
	[SCREEN_ATTR_FAIL] = VGA_ATTR_LIGHT_RED_ON_BLACK,
	[SCREEN_ATTR_SKIP] = VGA_ATTR_YELLOW_ON_BLACK,
	[SCREEN_ATTR_HEADING] = VGA_ATTR_WHITE_ON_BLACK,
};
static const uint8_t status_attr[SCREEN_ATTR_COUNT] = {
	[SCREEN_ATTR_PLAIN] = VGA_ATTR_BLACK_ON_LIGHT_GREY,
	[SCREEN_ATTR_PASS] = VGA_ATTR_BLACK_ON_GREEN,
	[SCREEN_ATTR_FAIL] = VGA_ATTR_BLACK_ON_RED,
	[SCREEN_ATTR_SKIP] = VGA_ATTR_BLACK_ON_BROWN,
	[SCREEN_ATTR_HEADING] = VGA_ATTR_BLACK_ON_LIGHT_GREY,
};

/* CRT controller of a colour adapter: index register, then data register. */
#define VGA_CRTC_INDEX 0x3d4
#define VGA_CRTC_DATA 0x3d5
#define VGA_CRTC_CURSOR_HIGH 0x0e
#define VGA_CRTC_CURSOR_LOW 0x0f
#define BYTE_BITS 8
#define BYTE_MASK 0xff

static uint64_t vga_base;
static uint32_t vga_pitch;
static unsigned vga_cols;

void vga_text_init(uint64_t addr, uint32_t pitch, unsigned cols)
{
	vga_base = addr;
	vga_pitch = pitch;
	vga_cols = cols;
}

void vga_text_draw(unsigned col, unsigned row, char c, unsigned char screen_attr, bool status)
{
	unsigned a = screen_attr < SCREEN_ATTR_COUNT ? screen_attr : SCREEN_ATTR_PLAIN;
	uint16_t attr = status ? status_attr[a] : text_attr[a];
	uint64_t at = vga_base + (uint64_t)row * vga_pitch + (uint64_t)col * VGA_TEXT_CELL_BYTES;

	mmio_write16(at, (uint16_t)(attr << VGA_ATTR_SHIFT | (uint8_t)c));
}

/* The cursor register counts cells from the start of the screen. */
void vga_text_cursor(unsigned col, unsigned row)
{
	unsigned cell = row * vga_cols + col;

	outb(VGA_CRTC_INDEX, VGA_CRTC_CURSOR_HIGH);
	outb(VGA_CRTC_DATA, (uint8_t)((cell >> BYTE_BITS) & BYTE_MASK));
	outb(VGA_CRTC_INDEX, VGA_CRTC_CURSOR_LOW);
	outb(VGA_CRTC_DATA, (uint8_t)(cell & BYTE_MASK));
}
