"""Parse a proofboot console log into proof-line records.

The grammar and the list of subsystems live in docs/proof-lines.md; this
module is the host-side reader.  A console log is whatever came out of the
serial port: GRUB/BIOS/OVMF chatter, ANSI escape sequences, CR LF line ends,
NUL bytes, and possibly a last line cut off mid-way.  Only lines that start
with a documented subsystem followed by ": " are proof lines; everything else
is noise.  A proof line that breaks the grammar is recorded as *malformed*
(with its line number and the reason) so that a checker can fail on it.

Standard library only; the package's parser (tools/check-log, tools/matrix and
proofboot.parse_log use it).
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Iterable, Iterator

from proofboot import repo

# Longest proof line the firmware writes (PROOF_LINE_MAX in src/lib/proof.h).
LINE_MAX = 1024

# Fallback when docs/proof-lines.md is not next to the tools (for example a
# copy of tools/ on a lab machine).  tests/tools checks it equals the doc.
BUILTIN_SUBSYSTEMS = (
    "proofboot", "opt", "mb2", "time", "cpu", "test", "acpi", "pci", "nvme",
    "dma", "iommu", "bench", "console",
)

DEFAULT_DOC = os.path.join(repo.ROOT, "docs", "proof-lines.md")

_SUBSYSTEM_RE = re.compile(r"[a-z][a-z0-9_-]*\Z")
_WORD_RE = re.compile(r"[a-z0-9_.-]+\Z")
_KEY_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_ESCAPE_RE = re.compile(r"%([0-9A-F]{2})")
_VALUE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))
_HEX = frozenset("0123456789ABCDEF")
# Where a proof line could start: "<subsystem>: ".
_HEAD_RE = re.compile(r"([a-z][a-z0-9_-]*): ")
# ANSI escapes: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and
# two-character escapes (ESC + one byte such as ESC c, ESC 7, ESC ( B).
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[()*+][0-~]"
    r"|\x1b[@-Z\\^_`-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]")


@dataclasses.dataclass
class Record:
    """One well-formed proof line."""
    lineno: int                 # 1-based line number in the console log
    subsystem: str
    event: str                  # event words joined by single spaces
    fields: dict                # key -> percent-decoded value (str), in line order
    raw: str                    # the line as parsed (noise stripped)
    raw_fields: dict = dataclasses.field(default_factory=dict)  # undecoded values

    @property
    def kind(self) -> str:
        """"subsystem: event", the name expectations match on."""
        return f"{self.subsystem}: {self.event}"

    @property
    def truncated(self) -> bool:
        return self.fields.get("truncated") == "true"

    def number(self, key: str) -> int | None:
        """Field as an integer (decimal or 0x-hex), None when absent or not a number."""
        return parse_number(self.fields.get(key))

    def __str__(self) -> str:
        return self.raw


@dataclasses.dataclass
class Malformed:
    """A line that starts like a proof line but breaks the grammar."""
    lineno: int
    reason: str
    raw: str


@dataclasses.dataclass
class ProofLog:
    records: list           # [Record] in log order
    malformed: list         # [Malformed]
    partial: Record | Malformed | None = None  # last line without a line end, not in records
    partial_text: str = ""
    noise_lines: int = 0
    total_lines: int = 0
    path: str | None = None
    # GRUB's own `error: ...` lines (line number, text): why a boot never reached us.
    loader_errors: list = dataclasses.field(default_factory=list)
    first_line: int = 1     # a run of a multi-boot capture (split_runs) covers
    last_line: int = 0      # lines first_line..last_line; 0: to the end

    def find(self, subsystem: str, event: str | None = None) -> list:
        return [r for r in self.records
                if r.subsystem == subsystem and (event is None or r.event == event)]


class GrammarError(ValueError):
    pass


def parse_number(text: str | None) -> int | None:
    """Decimal, or hexadecimal with a 0x prefix, as the grammar defines numbers."""
    if text is None:
        return None
    try:
        if text[:2] in ("0x", "0X"):
            return int(text[2:], 16) if text[2:] else None
        if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
            return int(text, 10)
    except ValueError:
        pass
    return None


def load_subsystems(doc_path: str | None = None) -> frozenset:
    """Subsystems listed in the table under "## Subsystems" of docs/proof-lines.md.

    Falls back to BUILTIN_SUBSYSTEMS when no doc_path is given and the
    default doc does not exist.
    """
    path = doc_path or DEFAULT_DOC
    if doc_path is None and not os.path.exists(path):
        return frozenset(BUILTIN_SUBSYSTEMS)
    with open(path, encoding="utf-8") as f:
        return frozenset(subsystems_from_doc(f.read()))


def subsystems_from_doc(text: str) -> list:
    """The first-column names of the table in the "## Subsystems" section."""
    names = []
    in_section = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Subsystems"
            continue
        if not in_section:
            continue
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            names.append(m.group(1))
    if not names:
        raise ValueError("no subsystem table found under '## Subsystems'")
    return names


def percent_decode(value: str) -> bytes:
    """Percent-decode a grammar-valid value into bytes."""
    out = bytearray()
    i = 0
    while i < len(value):
        c = value[i]
        if c == "%":
            out.append(int(value[i + 1:i + 3], 16))
            i += 3
        else:
            out += c.encode("ascii")
            i += 1
    return bytes(out)


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _check_value(key: str, value: str) -> None:
    for i, c in enumerate(value):
        if c == "%":
            esc = value[i + 1:i + 3]
            if len(esc) < 2 or not all(h in "0123456789abcdefABCDEF" for h in esc):
                raise GrammarError(f"field {key}: '%' not followed by two hex digits")
            if not all(h in _HEX for h in esc):
                raise GrammarError(f"field {key}: escape %{esc} is not upper-case hex")
        elif c not in _VALUE_CHARS:
            raise GrammarError(f"field {key}: byte 0x{ord(c):02x} must be %-escaped")


def parse_line(text: str, lineno: int = 0) -> Record:
    """Parse one proof line (no line end).  Raises GrammarError with the reason."""
    if len(text) > LINE_MAX:
        raise GrammarError(f"line is {len(text)} characters, longer than {LINE_MAX}")
    sep = text.find(": ")
    if sep < 0:
        raise GrammarError("no ': ' after the subsystem")
    subsystem, rest = text[:sep], text[sep + 2:]
    if not _SUBSYSTEM_RE.match(subsystem):
        raise GrammarError(f"bad subsystem {subsystem!r}")
    if rest == "":
        raise GrammarError("missing event")
    tokens = rest.split(" ")
    words = []
    fields = {}
    raw_fields = {}
    for token in tokens:
        if token == "":
            raise GrammarError("empty word (double or trailing space)")
        if "=" not in token:
            if fields:
                raise GrammarError(f"word {token!r} after the first field")
            if not _WORD_RE.match(token):
                raise GrammarError(f"bad event word {token!r}")
            words.append(token)
            continue
        key, value = token.split("=", 1)
        if not _KEY_RE.match(key):
            raise GrammarError(f"bad key {key!r}")
        if key in fields:
            raise GrammarError(f"duplicate key {key!r}")
        _check_value(key, value)
        raw_fields[key] = value
        fields[key] = _decode_text(percent_decode(value))
    if not words:
        raise GrammarError("missing event (first word is a field)")
    return Record(lineno=lineno, subsystem=subsystem, event=" ".join(words),
                  fields=fields, raw=text, raw_fields=raw_fields)


# GRUB prints a failed command's reason as `error: <text>.` at a line start.
_LOADER_ERROR_RE = re.compile(r"\s*error: \S")


def clean_console_text(text: str) -> str:
    """Remove what a terminal would not show as text: NUL bytes, ANSI escapes."""
    return _ANSI_RE.sub("", text.replace("\x00", ""))


def _segments(line: str) -> Iterator[str]:
    """Pieces of one console line that could each start a proof line.

    Trailing CRs belong to the line end; a CR inside the line returns the
    cursor to column 0, so what follows it is a fresh start.
    """
    line = line.rstrip("\r")
    for seg in line.split("\r"):
        if seg:
            yield seg


def _classify(seg: str, lineno: int, subsystems: frozenset):
    """Record, Malformed, or None (noise) for one cleaned console segment."""
    m = _HEAD_RE.match(seg)
    if not m or m.group(1) not in subsystems:
        return None
    try:
        return parse_line(seg, lineno)
    except GrammarError as e:
        return Malformed(lineno=lineno, reason=str(e), raw=seg)


def parse_lines(lines: Iterable[str], subsystems: Iterable[str] | None = None,
                last_is_partial: bool = False, path: str | None = None) -> ProofLog:
    subs = frozenset(subsystems) if subsystems is not None else load_subsystems()
    log = ProofLog(records=[], malformed=[], path=path)
    lines = list(lines)
    log.total_lines = len(lines)
    for index, line in enumerate(lines):
        lineno = index + 1
        found = [_classify(seg, lineno, subs) for seg in _segments(clean_console_text(line))]
        found = [f for f in found if f is not None]
        if last_is_partial and index == len(lines) - 1:
            if found:
                log.partial = found[-1]
                log.partial_text = found[-1].raw
                found = found[:-1]
        if not found:
            log.noise_lines += 1
            log.loader_errors.extend((lineno, seg.strip()) for seg in
                                     _segments(clean_console_text(line))
                                     if _LOADER_ERROR_RE.match(seg))
        for item in found:
            (log.records if isinstance(item, Record) else log.malformed).append(item)
    return log


RUN_START = ("proofboot", "start")


def split_runs(log: ProofLog) -> list:
    """One ProofLog per boot in a capture: each `proofboot: start` line begins a run.

    A serial capture of an `end=reboot` loop, or of a machine that reset
    mid-run, holds several boots; checked as one log they would collide
    (two plan lines per test, two verdicts).  Lines before the first start
    (BIOS, GRUB) belong to the first run; the partial last line to the last.
    A log with at most one start line is returned as it is.
    """
    starts = [r.lineno for r in log.records if (r.subsystem, r.event) == RUN_START]
    if len(starts) < 2:
        return [log]
    firsts = [1] + starts[1:]
    lasts = [n - 1 for n in starts[1:]] + [log.total_lines]
    runs = []
    for first, last in zip(firsts, lasts):
        inside = lambda item: first <= item.lineno <= last  # noqa: E731
        runs.append(dataclasses.replace(
            log, records=[r for r in log.records if inside(r)],
            malformed=[m for m in log.malformed if inside(m)],
            loader_errors=[e for e in log.loader_errors if first <= e[0] <= last],
            partial=None, partial_text="", first_line=first, last_line=last))
    runs[-1].partial, runs[-1].partial_text = log.partial, log.partial_text
    return runs


def parse_text(data: bytes | str, subsystems: Iterable[str] | None = None,
               path: str | None = None) -> ProofLog:
    """Parse a whole console capture (bytes are read as Latin-1: no byte is lost)."""
    text = data.decode("latin-1") if isinstance(data, (bytes, bytearray)) else data
    lines = text.split("\n")
    last_is_partial = False
    if lines and lines[-1] == "":
        lines.pop()             # text ended with a line end
    elif lines:
        last_is_partial = True  # capture stopped mid-line
    return parse_lines(lines, subsystems, last_is_partial, path)


def parse_file(path: str, subsystems: Iterable[str] | None = None) -> ProofLog:
    with open(path, "rb") as f:
        return parse_text(f.read(), subsystems, path=path)


def main(argv=None) -> int:
    """Debug aid: print the records of a log as tab-separated text."""
    import argparse
    ap = argparse.ArgumentParser(description="Print the proof lines found in a console log.")
    ap.add_argument("log")
    args = ap.parse_args(argv)
    log = parse_file(args.log)
    for r in log.records:
        fields = " ".join(f"{k}={v!r}" for k, v in r.fields.items())
        print(f"{r.lineno}\t{r.kind}\t{fields}")
    for m in log.malformed:
        print(f"{m.lineno}\tMALFORMED\t{m.reason}\t{m.raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
