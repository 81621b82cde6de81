"""tools/pf2font.py: PF2 parsing, glyph placement, the generated C, and that the committed font is current."""
import os
import struct

import pytest

import pf2font

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SYSTEM_PF2 = "/usr/share/grub/unicode.pf2"
COMMITTED_C = os.path.join(REPO, "src", "font8x16.c")
COMMITTED_H = os.path.join(REPO, "src", "font8x16.h")


def pack_bits(rows):
    """rows: strings of '#'/'.' of equal width -> PF2 packed bitmap (rows not padded)."""
    bits = "".join(r.replace("#", "1").replace(".", "0") for r in rows)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def section(name, body):
    return struct.pack(">4sI", name, len(body)) + body


def make_pf2(glyphs, ascent=14, descent=2, compressed=()):
    """A minimal PF2 file.  glyphs: {code: (x_off, y_off, dwidth, rows)}."""
    head = section(b"FILE", b"PFF2") + section(b"NAME", b"Test Font 16\0")
    head += section(b"ASCE", struct.pack(">H", ascent)) + section(b"DESC", struct.pack(">H", descent))
    chix_len = 9 * len(glyphs)
    data_start = len(head) + 8 + chix_len + 8
    chix, data = b"", b""
    for code in sorted(glyphs):
        x_off, y_off, dwidth, rows = glyphs[code]
        width = len(rows[0]) if rows else 0
        flags = 1 if code in compressed else 0
        chix += struct.pack(">IBI", code, flags, data_start + len(data))
        data += struct.pack(">HHhhh", width, len(rows), x_off, y_off, dwidth) + pack_bits(rows)
    return head + section(b"CHIX", chix) + struct.pack(">4sI", b"DATA", 0xFFFFFFFF) + data


def ascii_font(overrides=None):
    """Every printable ASCII glyph as a 1x1 dot at a code-dependent place, plus overrides."""
    glyphs = {c: (c % 8, (c // 8) % 12 - 2, 8, ["#"]) for c in range(0x21, 0x7F)}
    glyphs[0x20] = (8, -2, 8, [])
    glyphs.update(overrides or {})
    return glyphs


def test_parses_header_sections():
    font = pf2font.parse_pf2(make_pf2({0x41: (0, 0, 8, ["#"])}, ascent=13, descent=3))
    assert (font.name, font.ascent, font.descent) == ("Test Font 16", 13, 3)
    assert list(font.index) == [0x41]


def test_cropped_glyph_is_placed_by_baseline_and_offsets():
    # A 3x2 glyph, 1 pixel right of the origin, its bottom 2 pixels above the baseline.
    rows = ["#.#", ".#."]
    font = pf2font.parse_pf2(make_pf2({0x41: (1, 2, 8, rows)}))
    cell = pf2font.cell_rows(font.glyph(0x41), font.ascent)
    top = 14 - (2 + 2)  # ascent - (y_offset + height)
    assert cell[top] == 0b01010000
    assert cell[top + 1] == 0b00100000
    assert sum(1 for r in cell if r) == 2


def test_descender_goes_below_the_baseline():
    font = pf2font.parse_pf2(make_pf2({0x67: (0, -2, 8, ["#", "#", "#"])}))
    cell = pf2font.cell_rows(font.glyph(0x67), font.ascent)
    assert [i for i, r in enumerate(cell) if r] == [13, 14, 15]


def test_bits_run_across_row_boundaries_without_padding():
    # 5x3 = 15 bits: row 2 starts in the middle of the first byte's neighbour.
    rows = ["#...#", ".#.#.", "..#.."]
    font = pf2font.parse_pf2(make_pf2({0x58: (0, 0, 8, rows)}))
    glyph = font.glyph(0x58)
    assert len(glyph.bits) == 2
    assert [[glyph.pixel(x, y) for x in range(5)] for y in range(3)] == \
        [[1, 0, 0, 0, 1], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0]]


def test_glyph_that_does_not_fit_the_cell_is_rejected():
    font = pf2font.parse_pf2(make_pf2({0x57: (0, 0, 8, ["#########"])}))  # 9 wide
    with pytest.raises(pf2font.Pf2Error, match="does not fit"):
        pf2font.cell_rows(font.glyph(0x57), font.ascent)
    font = pf2font.parse_pf2(make_pf2({0x5E: (0, 14, 8, ["#"])}))  # above the cell top
    with pytest.raises(pf2font.Pf2Error, match="does not fit"):
        pf2font.cell_rows(font.glyph(0x5E), font.ascent)


@pytest.mark.parametrize("damage, message", [
    (lambda d: b"XXXX" + d[4:], "not a PF2"),
    (lambda d: d[:-1], "past the end"),
])
def test_damaged_files_are_rejected(damage, message):
    data = damage(make_pf2({0x41: (0, 0, 8, ["########"] * 3)}))
    with pytest.raises(pf2font.Pf2Error, match=message):
        pf2font.parse_pf2(data).glyph(0x41)


def test_missing_wide_and_compressed_glyphs_are_rejected():
    with pytest.raises(pf2font.Pf2Error, match="no glyph for U\\+007F"):
        pf2font.font_cells(pf2font.parse_pf2(make_pf2(ascii_font({}))), last=0x7F)
    wide = pf2font.parse_pf2(make_pf2(ascii_font({0x41: (0, 0, 16, ["#"])})))
    with pytest.raises(pf2font.Pf2Error, match="advances 16"):
        pf2font.font_cells(wide)
    packed = pf2font.parse_pf2(make_pf2(ascii_font(), compressed={0x42}))
    with pytest.raises(pf2font.Pf2Error, match="compressed"):
        pf2font.font_cells(packed)


def test_generated_c_round_trips(tmp_path):
    font = pf2font.parse_pf2(make_pf2(ascii_font({0x41: (2, 0, 8, ["##", "#."])})))
    cells = pf2font.font_cells(font)
    text = pf2font.render_c(cells, font.name, "test.pf2")
    assert "GNU Unifont" in text and pf2font.REGENERATE_COMMAND in text
    assert "/* U+002A */" in text and "/* '\\\\' */" in text  # no "*/" or "/*" inside comments
    assert pf2font.load_generated_c(text) == cells
    assert cells[0x41][12:14] == [0b00110000, 0b00100000]


def test_main_writes_then_checks(tmp_path, capsys):
    pf2 = tmp_path / "t.pf2"
    pf2.write_bytes(make_pf2(ascii_font()))
    out_c, out_h = str(tmp_path / "f.c"), str(tmp_path / "f.h")
    args = [str(pf2), "--out-c", out_c, "--out-h", out_h]
    assert pf2font.main(args) == 0
    assert "FONT8X16_COUNT" in open(out_h).read()
    assert pf2font.main(args + ["--check"]) == 0
    with open(out_c, "a") as f:
        f.write("/* edited */\n")
    assert pf2font.main(args + ["--check"]) == 1
    assert "out of date" in capsys.readouterr().err


needs_grub_font = pytest.mark.skipif(not os.path.exists(SYSTEM_PF2),
                                     reason=f"{SYSTEM_PF2} missing (install grub-common)")


@needs_grub_font
def test_committed_font_matches_the_grub_font():
    c_text, h_text = pf2font.generate(SYSTEM_PF2)
    with open(COMMITTED_C) as f:
        assert f.read() == c_text, "src/font8x16.c is stale: " + pf2font.REGENERATE_COMMAND
    with open(COMMITTED_H) as f:
        assert f.read() == h_text


@needs_grub_font
def test_real_font_glyphs_are_distinct_and_plausible():
    with open(SYSTEM_PF2, "rb") as f:
        font = pf2font.parse_pf2(f.read())
    assert (font.ascent, font.descent) == (14, 2)
    cells = pf2font.font_cells(font)
    assert len(cells) == 95
    assert not any(cells[0x20])
    shapes = [tuple(rows) for code, rows in cells.items() if code != 0x20]
    assert all(any(s) for s in shapes) and len(set(shapes)) == len(shapes)
    # Descenders reach below the baseline (row 14), capitals do not.
    assert any(cells[ord("g")][14:]) and not any(cells[ord("E")][14:])
    # '_' is a single horizontal bar; '|' a single vertical one.
    assert sum(1 for r in cells[ord("_")] if r) == 1
    assert len({r for r in cells[ord("|")] if r}) == 1
