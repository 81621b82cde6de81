#!/usr/bin/python3
"""Derive the firmware's 8x16 console font from a GRUB PF2 font file.

The screen console's bitmap font is not drawn by hand: it is converted from
GRUB's /usr/share/grub/unicode.pf2 (package grub-common), which holds GNU
Unifont at 16 pixels.  Run at development time; the generated C is committed.

    /usr/bin/python3 tools/pf2font.py /usr/share/grub/unicode.pf2 \\
        --out-c src/font8x16.c --out-h src/font8x16.h

`--check` compares instead of writing (exit 1 when the files are stale).

PF2 layout (GRUB's font loader is the reference): a sequence of sections,
each a 4-byte name, a 4-byte big-endian length and the body.  "FILE" holds
"PFF2"; "ASCE"/"DESC" the ascent/descent in pixels; "CHIX" the character
index, 9-byte entries (code point u32, storage flags u8, glyph offset u32 from
the start of the file), sorted by code point; "DATA" (length 0xffffffff) runs
to the end of the file.  A glyph is width, height (u16), x offset, y offset,
device width (s16), then width*height bits, row-major, most significant bit
first, rows not padded.  The bitmap is cropped to the glyph's ink: its top
row sits (y offset + height) pixels above the baseline.

Standard library only.
"""
import argparse
import os
import struct
import sys
from dataclasses import dataclass

CELL_WIDTH = 8
CELL_HEIGHT = 16
FIRST_CHAR = 0x20
LAST_CHAR = 0x7E

SECTION_HEADER = struct.Struct(">4sI")
CHIX_ENTRY = struct.Struct(">IBI")
GLYPH_HEADER = struct.Struct(">HHhhh")
DATA_RUNS_TO_EOF = 0xFFFFFFFF
PF2_MAGIC = b"PFF2"
# Storage flags: the low bits select compression; only 0 (none) exists in practice.
STORAGE_COMPRESSION_MASK = 0x07

REGENERATE_COMMAND = ("/usr/bin/python3 tools/pf2font.py /usr/share/grub/unicode.pf2 "
                      "--out-c src/font8x16.c --out-h src/font8x16.h")
LICENSE_NOTE = (
    "The glyphs are GNU Unifont's (https://unifoundry.com/unifont/), as shipped\n"
    " * by GRUB.  GNU Unifont is licensed under the GNU GPL version 2 or later with\n"
    " * the GNU Font Embedding Exception; since Unifont 13.0.04 it is also available\n"
    " * under the SIL Open Font License 1.1.")


class Pf2Error(ValueError):
    """The file is not a usable PF2 font."""


@dataclass
class Glyph:
    width: int
    height: int
    x_offset: int
    y_offset: int
    device_width: int
    bits: bytes  # packed bitmap as stored in the file

    def pixel(self, x, y):
        index = y * self.width + x
        return (self.bits[index // 8] >> (7 - index % 8)) & 1


@dataclass
class Pf2Font:
    name: str
    ascent: int
    descent: int
    data: bytes
    index: dict  # code point -> (storage flags, offset)

    def glyph(self, code_point):
        if code_point not in self.index:
            raise Pf2Error(f"no glyph for U+{code_point:04X}")
        flags, offset = self.index[code_point]
        if flags & STORAGE_COMPRESSION_MASK:
            raise Pf2Error(f"U+{code_point:04X}: compressed glyph (flags {flags:#x})")
        if offset + GLYPH_HEADER.size > len(self.data):
            raise Pf2Error(f"U+{code_point:04X}: glyph offset {offset} beyond the file")
        width, height, x_off, y_off, dwidth = GLYPH_HEADER.unpack_from(self.data, offset)
        start = offset + GLYPH_HEADER.size
        nbytes = (width * height + 7) // 8
        if start + nbytes > len(self.data):
            raise Pf2Error(f"U+{code_point:04X}: bitmap runs past the end of the file")
        return Glyph(width, height, x_off, y_off, dwidth, self.data[start:start + nbytes])


def _sections(data):
    """Yields (name, body offset, body length) for each section."""
    pos = 0
    while pos < len(data):
        if pos + SECTION_HEADER.size > len(data):
            raise Pf2Error(f"truncated section header at offset {pos}")
        name, length = SECTION_HEADER.unpack_from(data, pos)
        body = pos + SECTION_HEADER.size
        if length == DATA_RUNS_TO_EOF:
            yield name, body, len(data) - body
            return
        if body + length > len(data):
            raise Pf2Error(f"section {name!r} overruns the file")
        yield name, body, length
        pos = body + length


def _u16(data, body, length, name):
    if length != 2:
        raise Pf2Error(f"section {name} must be 2 bytes, is {length}")
    return struct.unpack_from(">H", data, body)[0]


def parse_pf2(data):
    """Parses the bytes of a PF2 file into a Pf2Font (glyphs are decoded lazily)."""
    sections = list(_sections(data))
    if not sections or sections[0][0] != b"FILE" or \
            data[sections[0][1]:sections[0][1] + sections[0][2]] != PF2_MAGIC:
        raise Pf2Error("not a PF2 file (no FILE section with PFF2)")
    found = {name: (body, length) for name, body, length in sections}
    for required in (b"ASCE", b"DESC", b"CHIX"):
        if required not in found:
            raise Pf2Error(f"missing section {required.decode()}")
    ascent = _u16(data, *found[b"ASCE"], "ASCE")
    descent = _u16(data, *found[b"DESC"], "DESC")
    name = ""
    if b"NAME" in found:
        body, length = found[b"NAME"]
        name = data[body:body + length].split(b"\0")[0].decode("ascii", "replace")
    body, length = found[b"CHIX"]
    if length % CHIX_ENTRY.size:
        raise Pf2Error(f"CHIX length {length} is not a multiple of {CHIX_ENTRY.size}")
    index = {}
    for pos in range(body, body + length, CHIX_ENTRY.size):
        code, flags, offset = CHIX_ENTRY.unpack_from(data, pos)
        index[code] = (flags, offset)
    return Pf2Font(name, ascent, descent, data, index)


def cell_rows(glyph, ascent, cell_width=CELL_WIDTH, cell_height=CELL_HEIGHT):
    """Places a cropped glyph in a cell whose baseline is `ascent` rows from the top.

    Returns cell_height row bytes, bit 7 = leftmost pixel.  Raises Pf2Error
    when the glyph does not fit the cell (it would be clipped silently
    otherwise)."""
    top = ascent - (glyph.y_offset + glyph.height)
    left = glyph.x_offset
    if glyph.width and glyph.height and (
            top < 0 or left < 0 or top + glyph.height > cell_height or
            left + glyph.width > cell_width):
        raise Pf2Error(f"glyph {glyph.width}x{glyph.height} at ({left},{top}) "
                       f"does not fit an {cell_width}x{cell_height} cell")
    rows = [0] * cell_height
    for y in range(glyph.height):
        for x in range(glyph.width):
            if glyph.pixel(x, y):
                rows[top + y] |= 0x80 >> (left + x)
    return rows


def font_cells(font, first=FIRST_CHAR, last=LAST_CHAR):
    """{code point: 16 row bytes} for the printable ASCII range."""
    cells = {}
    for code in range(first, last + 1):
        glyph = font.glyph(code)
        if glyph.device_width != CELL_WIDTH:
            raise Pf2Error(f"U+{code:04X} advances {glyph.device_width} pixels, not {CELL_WIDTH}")
        cells[code] = cell_rows(glyph, font.ascent)
    return cells


def _char_comment(code):
    if chr(code) in "\\'":
        return f"'\\{chr(code)}'"
    if chr(code) in "*/":  # keeps "/*" and "*/" out of comments
        return f"U+{code:04X}"
    return f"'{chr(code)}'"


def _banner(font_name, source):
    return (f"/*\n"
            f" * GENERATED by tools/pf2font.py from {source}\n"
            f" * (\"{font_name}\", GRUB PF2); do not edit.  Regenerate with:\n"
            f" *     {REGENERATE_COMMAND}\n"
            f" *\n"
            f" * {LICENSE_NOTE}\n"
            f" */\n")


def render_c(cells, font_name, source):
    lines = [_banner(font_name, source) + '#include "font8x16.h"', "",
             "const uint8_t font8x16_glyphs[FONT8X16_COUNT][FONT8X16_HEIGHT] = {"]
    for code in sorted(cells):
        rows = ", ".join(f"0x{r:02x}" for r in cells[code])
        lines.append(f"\t/* {_char_comment(code)} */ {{ {rows} }},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def render_h(font_name, source):
    return _banner(font_name, source) + f"""#ifndef PROOFBOOT_FONT8X16_H
#define PROOFBOOT_FONT8X16_H

#include <stdint.h>

#define FONT8X16_WIDTH {CELL_WIDTH}
#define FONT8X16_HEIGHT {CELL_HEIGHT}
/* Printable ASCII only: other bytes are drawn as FONT8X16_FALLBACK. */
#define FONT8X16_FIRST 0x{FIRST_CHAR:02x}
#define FONT8X16_LAST 0x{LAST_CHAR:02x}
#define FONT8X16_COUNT (FONT8X16_LAST - FONT8X16_FIRST + 1)
#define FONT8X16_FALLBACK '?'

/* One byte per pixel row, top row first; bit 7 is the leftmost pixel. */
extern const uint8_t font8x16_glyphs[FONT8X16_COUNT][FONT8X16_HEIGHT];

#endif
"""


def load_generated_c(text):
    """Reads a file written by render_c back into {code point: row bytes}."""
    cells = {}
    code = FIRST_CHAR
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("/*") or "{" not in line:
            continue
        values = line[line.index("*/") + 2:].strip()  # the comment may be '{' or '}'
        body = values[values.index("{") + 1:values.rindex("}")]
        rows = [int(v, 16) for v in body.split(",") if v.strip()]
        if len(rows) != CELL_HEIGHT:
            raise Pf2Error(f"glyph for U+{code:04X} has {len(rows)} rows")
        cells[code] = rows
        code += 1
    if code != LAST_CHAR + 1:
        raise Pf2Error(f"expected glyphs up to U+{LAST_CHAR:04X}, found up to U+{code - 1:04X}")
    return cells


def generate(pf2_path):
    """(C text, header text) for the font in pf2_path."""
    with open(pf2_path, "rb") as f:
        font = parse_pf2(f.read())
    cells = font_cells(font)
    return render_c(cells, font.name, pf2_path), render_h(font.name, pf2_path)


def _write_or_check(path, text, check):
    if check:
        try:
            with open(path, encoding="ascii") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{path}: out of date; regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
            return False
        return True
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pf2", help="GRUB PF2 font, e.g. /usr/share/grub/unicode.pf2")
    parser.add_argument("--out-c", required=True, help="generated C source")
    parser.add_argument("--out-h", required=True, help="generated header")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    try:
        c_text, h_text = generate(args.pf2)
    except (OSError, Pf2Error) as exc:
        print(f"pf2font: {exc}", file=sys.stderr)
        return 2
    ok = _write_or_check(args.out_c, c_text, args.check)
    ok = _write_or_check(args.out_h, h_text, args.check) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
