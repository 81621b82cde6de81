"""Round trip of proof values: C writer (src/lib/proof.c) -> Python reader (python/proofboot/prooflog.py).

The values are the proof harness's seed corpus, its regression inputs, the
corpus `make fuzz` grew (build/fuzz/corpus/proof, when present) and
generated edge cases.  The C side is tests/fuzz/proof_dump.c: the binary
named by $PROOF_DUMP (make fuzz-proof-roundtrip), else built here with cc.
"""
import os
import random
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(ROOT, "python"))

from proofboot import prooflog  # noqa: E402

CORPUS_DIRS = [os.path.join(HERE, "corpus", "proof"), os.path.join(HERE, "regressions", "proof"),
               os.path.join(ROOT, "build", "fuzz", "corpus", "proof")]
VALUE_MAX = 8192


def corpus_values():
    values = []
    for d in CORPUS_DIRS:
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path) and not name.startswith("."):
                with open(path, "rb") as f:
                    values.append(f.read()[:VALUE_MAX])
    return values


def generated_values():
    rng = random.Random(8)
    values = [bytes([b]) for b in range(256)]
    values += [bytes(range(256)), b"", b"%", b"%%25", b"a b", b"trail   ", b"cut\0here",
               b" lead", b"\xff" * 400, b"x" * 990, b"x" * 991, b"x" * 1100,
               "QEMU NVMe Ctrl \u2713".encode()]
    for _ in range(300):
        n = rng.choice([1, 2, 7, 40, 200, 340, 1000])
        values.append(bytes(rng.randrange(256) for _ in range(n)))
    return values


@pytest.fixture(scope="module")
def dump_tool(tmp_path_factory):
    tool = os.environ.get("PROOF_DUMP")
    if tool:
        return tool
    out = str(tmp_path_factory.mktemp("proofdump") / "proof-dump")
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(ROOT, "src/lib"),
                    os.path.join(HERE, "proof_dump.c"), os.path.join(ROOT, "src/lib/proof.c"),
                    "-o", out], check=True)
    return out


def run_dump(tool, values):
    text = "".join(v.hex() + "\n" for v in values)
    out = subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == len(values)
    return rows


def shown_value(value: bytes) -> bytes:
    """What proof_strn prints: cut at the first NUL, trailing spaces trimmed."""
    return value.split(b"\0", 1)[0].rstrip(b" ")


@pytest.fixture(scope="module")
def rows(dump_tool):
    values = corpus_values() + generated_values()
    return list(zip(values, run_dump(dump_tool, values)))


def test_corpus_is_not_empty():
    assert len(corpus_values()) >= 5


def test_escape_decodes_to_the_value(rows):
    for value, (hexed, escaped, _line) in rows:
        assert bytes.fromhex(hexed) == value
        assert all(0x21 <= ord(c) <= 0x7E for c in escaped), escaped
        assert prooflog.percent_decode(escaped) == value


def test_line_parses_and_carries_the_value(rows):
    for value, (_hexed, _escaped, line) in rows:
        rec = prooflog.parse_line(line)
        assert rec.subsystem == "fuzz" and rec.event == "roundtrip"
        assert len(line) <= prooflog.LINE_MAX
        if "value" not in rec.raw_fields:
            assert rec.truncated, line
            continue
        shown = shown_value(value)
        assert prooflog.percent_decode(rec.raw_fields["value"]) == shown
        try:
            assert rec.fields["value"] == shown.decode("utf-8")
        except UnicodeDecodeError:
            assert rec.fields["value"] == shown.decode("latin-1")
        if not rec.truncated:
            assert rec.number("size") == len(value)


def test_escape_is_canonical(rows):
    """Only bytes that must be escaped are, always as upper-case %XX."""
    for value, (_hexed, escaped, _line) in rows:
        expected = "".join(chr(b) if 0x21 <= b <= 0x7E and b != 0x25 else f"%{b:02X}"
                           for b in value)
        assert escaped == expected
