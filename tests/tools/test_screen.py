"""The screen console, proven from the screen: boot the ISO in QEMU with a VGA
display, let the firmware halt with its verdict on screen, and read the screen
back through QMP.

- BIOS (VGA text mode): the text cells come from video memory (QMP pmemsave of
  0xb8000, what HMP `xp` shows); the screendump must agree cell by cell (ink
  where there is a character, none where there is a space).
- UEFI (GRUB framebuffer): the screendump is decoded by matching every 8x16
  cell against the font the firmware draws with (src/font8x16.c).

Either way the decoded screen must show the verdict line, pinned in the
status row, and the bottom of the scrolling area must be exactly the end of
the serial log as the screen renders it for people (wrapped at the screen
width): `test: result` lines as `[STATUS] name (N ms): reason` with the reason
percent-decoded, and before a FAIL verdict the failed tests again under a
`---- N test(s) FAILED ----` title (src/lib/screen_text.c; the model is
screen_text() below). A FAIL run must show its FAIL rows in red, PASS rows in
green and the status row on a red background: read from the VGA attribute
bytes and from the screendump's pixels.
Needs build/proofboot.iso (or $PROOFBOOT_ISO), qemu-system-x86_64, and OVMF for
the UEFI case; skips with the reason otherwise.
"""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

import pf2font
from proofboot import prooflog

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
ISO = os.environ.get("PROOFBOOT_ISO", os.path.join(REPO, "build", "proofboot.iso"))
FONT_C = os.path.join(REPO, "src", "font8x16.c")
OVMF = "/usr/share/ovmf/OVMF.fd"
QEMU = "qemu-system-x86_64"
# A short, stable run: the verdict is PASS on any QEMU, and the firmware halts
# (no isa-debug-exit device either) so the verdict stays on screen.
OPTIONS = "tests=boot.* end=halt"  # two words: a comma would make end=halt a tests= glob
# The deliberate page fault: a FAIL among PASSes, for the colours.
FAIL_OPTIONS = "tests=boot.*,cpu.fault end=halt"
VERDICT = "proofboot: verdict status=PASS"
FAIL_VERDICT = "proofboot: verdict status=FAIL"
# src/console.c FAILURES_KEPT: failed tests repeated above the verdict.
FAILURES_KEPT = 6
# VGA attribute bytes the firmware uses (arch/x86_64/vga.c).
VGA_ATTR_PASS, VGA_ATTR_FAIL, VGA_ATTR_STATUS_FAIL = 0x0A, 0x0C, 0x40
UEFI_XRES, UEFI_YRES = 800, 600
BOOT_TIMEOUT_S = 40
SCREEN_SETTLE_S = 3
GLYPH_W, GLYPH_H = pf2font.CELL_WIDTH, pf2font.CELL_HEIGHT
# VGA text cells: rows below this show no ink when the cell is a space (the
# hardware cursor, an underline at the bottom of one cell, is excluded).
VGA_CURSOR_FREE_ROWS = 12

pytestmark = [
    pytest.mark.skipif(not os.path.isfile(ISO), reason=f"{ISO} missing: run `make` first"),
    pytest.mark.skipif(shutil.which(QEMU) is None, reason=f"{QEMU} not installed"),
]


class Qmp:
    """Minimal QMP client on a unix socket (one command at a time)."""

    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(10)
        self.reader = self.sock.makefile("r", encoding="utf-8")
        self._reply()  # greeting
        self.command("qmp_capabilities")

    def _reply(self):
        while True:
            line = self.reader.readline()
            if not line:
                raise ConnectionError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **arguments):
        self.sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        reply = self._reply()
        if "error" in reply:
            raise RuntimeError(f"QMP {name}: {reply['error']}")
        return reply.get("return")

    def close(self):
        self.reader.close()
        self.sock.close()


def read_ppm(path):
    """(width, height, rgb bytes) of a binary PPM (P6, maxval 255) screendump."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic == b"P6" and maxval == 255, f"unexpected screendump format {magic} {maxval}"
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    assert len(pixels) == width * height * 3, "screendump truncated"
    return width, height, pixels


def pixel(pixels, width, x, y):
    i = (y * width + x) * 3
    return pixels[i], pixels[i + 1], pixels[i + 2]


def cell_ink(pixels, width, x0, y0, w, h, rows=None):
    """(paper colour, {(x, y): ink colour}) of one character cell.

    Paper is the cell's most common colour (every glyph covers less than half
    its cell), so text reads the same on black and on a coloured status row."""
    colours = {}
    for y in (rows if rows is not None else range(h)):
        for x in range(w):
            colours[(x, y)] = pixel(pixels, width, x0 + x, y0 + y)
    counts = {}
    for c in colours.values():
        counts[c] = counts.get(c, 0) + 1
    paper = max(counts, key=counts.get)
    return paper, {xy: c for xy, c in colours.items() if c != paper}


def dominant(colour):
    """'red', 'green', 'yellow', 'white', 'black' or 'other' for an RGB triple."""
    r, g, b = colour
    if max(colour) < 64:
        return "black"
    if r > 2 * max(g, b, 1):
        return "red"
    if g > 2 * max(r, b, 1):
        return "green"
    if r > 2 * b and g > 2 * b and abs(r - g) < 64:
        return "yellow"
    if min(colour) > 160:
        return "white"
    return "other"


def firmware_output(log_text):
    """What the firmware wrote, from its first line on (BIOS/GRUB chatter dropped)."""
    text = log_text.replace("\r\n", "\n")
    return text[text.rindex("proofboot: start"):]


def render_line(line):
    """One console line as src/lib/screen_text.c shows it: (text, is a FAIL result)."""
    if not line.startswith("test: result "):
        return line, False
    f = prooflog.parse_line(line).fields
    text = f"[{f['status']}] {f['name']} ({int(f['duration_us']) // 1000} ms)"
    if f.get("reason"):
        text += f": {f['reason']}"
    return text, f["status"] == "FAIL"


def screen_text(output):
    """The serial output as the screen shows it (the failed tests again above the verdict)."""
    shown, failures = [], []
    for line in output.split("\n"):
        text, failed = render_line(line)
        if failed:
            failures.append(text)
        if line.startswith("proofboot: verdict ") and failures:
            kept = failures[-FAILURES_KEPT:]
            shown.append(f"---- {len(failures)} test(s) FAILED ----" if len(kept) == len(failures) else
                         f"---- {len(failures)} test(s) FAILED (last {len(kept)} below; all in the "
                         "serial log) ----")
            shown += kept
        shown.append(text)
    return "\n".join(shown)


def wrap(text, cols):
    """Screen rows the console text fills at `cols` columns (the textgrid's wrapping)."""
    rows = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        rows += [line[i:i + cols] for i in range(0, max(len(line), 1), cols)]
    return rows


class Machine:
    """One QEMU run with a VGA display, serial log file, QMP socket, no exit device."""

    def __init__(self, tmp_path, uefi, options=OPTIONS):
        self.dir = tmp_path
        self.log = tmp_path / "serial.log"
        qmp_path = str(tmp_path / "qmp.sock")
        cmd = [QEMU, "-M", "q35", "-m", "256M", "-display", "none", "-no-reboot", "-cdrom", ISO, "-boot", "d",
               "-serial", f"file:{self.log}", "-qmp", f"unix:{qmp_path},server=on,wait=off",
               "-fw_cfg", f"name=opt/proofboot/cmdline,string={options.replace(',', ',,')}"]
        if uefi:
            # GRUB picks the display's preferred (EDID) mode: a small one makes the run scroll.
            cmd += ["-bios", OVMF, "-vga", "none", "-device", f"VGA,xres={UEFI_XRES},yres={UEFI_YRES}"]
        else:
            cmd += ["-vga", "std"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.deadline = time.monotonic() + BOOT_TIMEOUT_S
        try:
            self.qmp = Qmp(qmp_path, self.deadline)
        except Exception:
            self.stop()
            raise

    def serial(self):
        try:
            return self.log.read_bytes().decode("latin-1")
        except FileNotFoundError:
            return ""

    def wait_for_verdict(self):
        while time.monotonic() < self.deadline:
            text = self.serial()
            if "proofboot: verdict " in text and text.endswith("\n"):
                return text
            if self.proc.poll() is not None:
                pytest.fail(f"QEMU exited early ({self.proc.returncode}): "
                            f"{self.proc.stderr.read().decode(errors='replace')}\n{text[-2000:]}")
            time.sleep(0.1)
        pytest.fail(f"no verdict within {BOOT_TIMEOUT_S} s; serial log ends:\n{self.serial()[-2000:]}")

    def screendump(self):
        path = str(self.dir / "screen.ppm")
        self.qmp.command("screendump", filename=path)
        return read_ppm(path)

    def memory(self, addr, size):
        path = str(self.dir / "memory.bin")
        self.qmp.command("pmemsave", val=addr, size=size, filename=path)
        with open(path, "rb") as f:
            return f.read()

    def stop(self):
        if hasattr(self, "qmp"):
            self.qmp.close()
        self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


@pytest.fixture
def machine(tmp_path, request):
    firmware, _, run = request.param.partition("-")
    m = Machine(tmp_path, uefi=firmware == "uefi", options=FAIL_OPTIONS if run == "fail" else OPTIONS)
    yield m
    m.stop()


def screen_line(log_text):
    records = prooflog.parse_text(log_text).records
    lines = [r for r in records if r.subsystem == "console" and r.event == "screen"]
    assert len(lines) == 1, f"expected one `console: screen` line, found {len(lines)} (is {ISO} stale? run make)"
    return lines[0].fields


def read_vga_cells(m, info):
    """(rows of text, rows of attribute bytes) from VGA text memory."""
    cols, height, pitch = int(info["cols"]), int(info["height"]), int(info["pitch"])
    mem = m.memory(int(info["addr"], 16), pitch * height)
    text = [bytes(mem[r * pitch + 2 * c] for c in range(cols)).decode("latin-1") for r in range(height)]
    attrs = [[mem[r * pitch + 2 * c + 1] for c in range(cols)] for r in range(height)]
    return text, attrs


def read_vga_text(m, info):
    return read_vga_cells(m, info)[0]


def check_vga_screendump(m, rows, status_row):
    """Every cell with a character shows ink in the screendump; every space shows none.
    Returns {row: (paper colour names, ink colour names)} for the colour checks."""
    width, height, pixels = m.screendump()
    cell_w, cell_h = width // len(rows[0]), height // len(rows)
    assert cell_h >= GLYPH_H and any(pixels), "screendump is blank"
    colours = {}
    for r, text in enumerate(rows):
        papers, inks = set(), set()
        for c, ch in enumerate(text):
            x0, y0 = c * cell_w, r * cell_h
            ys = range(cell_h) if ch != " " else range(VGA_CURSOR_FREE_ROWS)
            paper, ink = cell_ink(pixels, width, x0, y0, cell_w, cell_h, ys)
            assert bool(ink) == (ch != " "), f"screendump cell ({c},{r}) disagrees with text {ch!r}"
            papers.add(dominant(paper))
            inks |= {dominant(i) for i in ink.values()}
        colours[r] = (papers, inks)
    return colours


def decode_framebuffer(m, info, glyphs, colours=None):
    """Screen text decoded from the screendump by exact 8x16 glyph matching ('\\0' = no match);
    with `colours` (a dict), fills it as check_vga_screendump's result."""
    width, height, pixels = m.screendump()
    assert (width, height) == (int(info["width"]), int(info["height"])), "screendump size"
    cols, screen_rows = width // GLYPH_W, height // GLYPH_H
    rows = []
    for r in range(screen_rows):
        text, papers, inks = [], set(), set()
        for c in range(cols):
            paper, ink = cell_ink(pixels, width, c * GLYPH_W, r * GLYPH_H, GLYPH_W, GLYPH_H)
            cell = tuple(sum(0x80 >> x for x in range(GLYPH_W) if (x, y) in ink)
                         for y in range(GLYPH_H))
            text.append(glyphs.get(cell, "\0"))
            papers.add(dominant(paper))
            inks |= {dominant(i) for i in ink.values()}
        rows.append("".join(text))
        if colours is not None:
            colours[r] = (papers, inks)
    return rows


def font_glyphs():
    """Cell bitmap -> character, normal and inverse video (the status row)."""
    with open(FONT_C) as f:
        cells = pf2font.load_generated_c(f.read())
    glyphs = {}
    for code, rows in cells.items():
        glyphs[tuple(rows)] = chr(code)
        glyphs[tuple(r ^ 0xFF for r in rows)] = chr(code)
    return glyphs


def check_mirror(rows, text_rows, log_text, verdict_prefix=VERDICT):
    """Status row = the verdict line; scrolling area bottom = end of the serial output."""
    cols = len(rows[0])
    verdict = next(line for line in firmware_output(log_text).split("\n")
                   if line.startswith("proofboot: verdict "))
    assert verdict.startswith(verdict_prefix)
    status = rows[text_rows]
    assert status.rstrip() == verdict[:cols], f"status row shows {status!r}"
    shown = rows[:text_rows]
    while shown and not shown[-1].strip():
        shown.pop()
    output_rows = wrap(screen_text(firmware_output(log_text)), cols)
    assert len(output_rows) > text_rows, "the run did not scroll: too little output to test it"
    expected = output_rows[-len(shown):]
    assert [s.rstrip() for s in shown] == [e.rstrip() for e in expected], \
        "screen:\n" + "\n".join(shown) + "\n--- expected (serial):\n" + "\n".join(expected)
    assert shown[-1].startswith(verdict_prefix)


def decode_until_settled(decode, log_text, verdict_prefix=VERDICT):
    """The serial line lands before the screen catches up: retry briefly."""
    deadline = time.monotonic() + SCREEN_SETTLE_S
    while True:
        rows = decode()
        text = rows[0] if isinstance(rows, tuple) else rows
        if any(row.startswith(verdict_prefix) for row in text) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def check_fail_colours(rows, colours, status_row):
    """FAIL rows red, PASS rows green, the status row black on red."""
    fail_rows = [r for r, t in enumerate(rows) if t.startswith("[FAIL] ")]
    pass_rows = [r for r, t in enumerate(rows) if t.startswith("[PASS] ")]
    assert len(fail_rows) == 2, "the failed test, and again above the verdict:\n" + "\n".join(rows)
    assert pass_rows, "no PASS row on screen"
    for r in fail_rows:
        assert colours[r][1] == {"red"}, f"row {r} {rows[r]!r} ink {colours[r]}"
    for r in pass_rows:
        assert colours[r][1] == {"green"}, f"row {r} {rows[r]!r} ink {colours[r]}"
    assert colours[status_row][0] == {"red"} and colours[status_row][1] == {"black"}, \
        f"status row {colours[status_row]}"
    assert colours[0][0] == {"black"}, "plain rows are on black"


@pytest.mark.parametrize("machine", ["bios"], indirect=True)
def test_bios_vga_text_shows_the_verdict(machine):
    log_text = machine.wait_for_verdict()
    info = screen_line(log_text)
    assert info["kind"] == "vga-text" and info["status_row"] == "true"
    rows = decode_until_settled(lambda: read_vga_text(machine, info), log_text)
    check_mirror(rows, int(info["rows"]), log_text)
    check_vga_screendump(machine, rows, int(info["rows"]))


@pytest.mark.skipif(not os.path.isfile(OVMF), reason=f"{OVMF} missing (Debian package ovmf)")
@pytest.mark.parametrize("machine", ["uefi"], indirect=True)
def test_uefi_framebuffer_shows_the_verdict(machine):
    log_text = machine.wait_for_verdict()
    info = screen_line(log_text)
    assert info["kind"] == "framebuffer" and info["status_row"] == "true"
    glyphs = font_glyphs()
    rows = decode_until_settled(lambda: decode_framebuffer(machine, info, glyphs), log_text)
    assert int(info["cols"]) == len(rows[0]) and int(info["rows"]) == len(rows) - 1
    assert not any("\0" in row for row in rows), "cells that match no glyph:\n" + \
        "\n".join(row.replace("\0", "#") for row in rows if "\0" in row)
    check_mirror(rows, int(info["rows"]), log_text)


@pytest.mark.parametrize("machine", ["bios-fail"], indirect=True)
def test_bios_fail_shows_in_colour_with_the_failures_above_the_verdict(machine):
    log_text = machine.wait_for_verdict()
    info = screen_line(log_text)
    rows, attrs = decode_until_settled(lambda: read_vga_cells(machine, info), log_text, FAIL_VERDICT)
    status_row = int(info["rows"])
    check_mirror(rows, status_row, log_text, FAIL_VERDICT)
    body = [r.rstrip() for r in rows[:status_row] if r.strip()]
    assert body[-3].startswith("---- 1 test(s) FAILED ----") and body[-2].startswith("[FAIL] cpu.fault") \
        and body[-1].startswith(FAIL_VERDICT), "\n".join(body[-4:])
    for r, text in enumerate(rows):
        if text.startswith("[FAIL] ") or text.startswith("[PASS] "):
            want = VGA_ATTR_FAIL if text.startswith("[FAIL] ") else VGA_ATTR_PASS
            assert set(attrs[r][:len(text.rstrip())]) == {want}, f"row {r} attributes {attrs[r][:8]}"
    assert set(attrs[status_row]) == {VGA_ATTR_STATUS_FAIL}
    check_fail_colours(rows, check_vga_screendump(machine, rows, status_row), status_row)


@pytest.mark.skipif(not os.path.isfile(OVMF), reason=f"{OVMF} missing (Debian package ovmf)")
@pytest.mark.parametrize("machine", ["uefi-fail"], indirect=True)
def test_uefi_fail_shows_in_colour(machine):
    log_text = machine.wait_for_verdict()
    info = screen_line(log_text)
    glyphs, colours = font_glyphs(), {}
    rows = decode_until_settled(lambda: decode_framebuffer(machine, info, glyphs, colours),
                                log_text, FAIL_VERDICT)
    assert not any("\0" in row for row in rows)
    check_mirror(rows, int(info["rows"]), log_text, FAIL_VERDICT)
    check_fail_colours(rows, colours, int(info["rows"]))


def test_screen_text_model():
    out = screen_text("test: result name=a.b status=FAIL duration_us=12345 reason=no%20way\n"
                      "test: result name=c status=PASS duration_us=7 reason=\n"
                      "proofboot: verdict status=FAIL passed=1 failed=1 skipped=0")
    assert out.split("\n") == ["[FAIL] a.b (12 ms): no way", "[PASS] c (0 ms)",
                               "---- 1 test(s) FAILED ----", "[FAIL] a.b (12 ms): no way",
                               "proofboot: verdict status=FAIL passed=1 failed=1 skipped=0"]


def test_wrap_matches_the_textgrid():
    assert wrap("abc\n0123456789\n\nxy", 5) == ["abc", "01234", "56789", "", "xy"]
