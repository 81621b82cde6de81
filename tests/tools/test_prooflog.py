"""python/proofboot/prooflog.py: proof-line grammar, console noise, subsystem list."""
import os

import pytest

from proofboot import prooflog
from synth import GRUB_NOISE, as_log, proof_lines

DOC = prooflog.DEFAULT_DOC
SUBS = frozenset(prooflog.BUILTIN_SUBSYSTEMS)


def parse(text):
    return prooflog.parse_text(text, SUBS)


def test_builtin_subsystems_match_the_doc():
    with open(DOC, encoding="utf-8") as f:
        documented = prooflog.subsystems_from_doc(f.read())
    assert sorted(documented) == sorted(prooflog.BUILTIN_SUBSYSTEMS), \
        "update BUILTIN_SUBSYSTEMS in python/proofboot/prooflog.py to match docs/proof-lines.md"


def test_load_subsystems_reads_the_doc_by_default():
    assert prooflog.load_subsystems() == frozenset(prooflog.BUILTIN_SUBSYSTEMS)


def test_subsystem_table_parsing_ignores_other_sections():
    doc = ("## Grammar\n| `notme` | x |\n## Subsystems\n| subsystem | what |\n| --- | --- |\n"
           "| `alpha` | a |\n| `beta-2` | b |\n## Lines\n| `key` | meaning |\n")
    assert prooflog.subsystems_from_doc(doc) == ["alpha", "beta-2"]
    with pytest.raises(ValueError):
        prooflog.subsystems_from_doc("## Subsystems\nno table\n")


def test_good_log_records_in_order_with_line_numbers():
    log = parse(as_log(proof_lines()))
    assert not log.malformed and log.partial is None
    kinds = [r.kind for r in log.records]
    assert kinds[0] == "proofboot: start" and kinds[-1] == "proofboot: verdict"
    first = log.records[0]
    assert first.lineno == len(GRUB_NOISE) + 1
    assert list(first.fields) == ["version", "schema", "multiboot2"]
    assert first.number("schema") == 1
    assert log.noise_lines == len(GRUB_NOISE)


def test_grub_error_line_is_noise_not_a_proof_line():
    log = parse("error: no suitable video mode found.\nerror: file `/x' not found.\n")
    assert log.records == [] and log.malformed == []


def test_multi_word_event_and_empty_value():
    r = prooflog.parse_line("dma: backend selection backend=bounce-buffer reason=")
    assert r.event == "backend selection"
    assert r.fields == {"backend": "bounce-buffer", "reason": ""}


def test_percent_decoding():
    r = prooflog.parse_line("nvme: identify model=QEMU%20NVMe%20Ctrl pct=100%25 "
                            "utf8=caf%C3%A9 nul=a%00b")
    assert r.fields["model"] == "QEMU NVMe Ctrl"
    assert r.fields["pct"] == "100%"
    assert r.fields["utf8"] == "café"
    assert r.fields["nul"] == "a\x00b"
    assert r.raw_fields["model"] == "QEMU%20NVMe%20Ctrl"


def test_invalid_utf8_falls_back_to_latin1():
    r = prooflog.parse_line("nvme: identify sn=%FF%FE")
    assert r.fields["sn"] == "\xff\xfe"


@pytest.mark.parametrize("line, reason", [
    ("nvme: read  slba=1", "empty word"),
    ("nvme: read slba=1 ", "empty word"),
    ("nvme: slba=1", "missing event"),
    ("nvme: ", "missing event"),
    ("nvme: read slba=1 again", "after the first field"),
    ("nvme: Read slba=1", "bad event word"),
    ("nvme: read Slba=1", "bad key"),
    ("nvme: read slba=1 slba=2", "duplicate key"),
    ("nvme: read model=a%2", "two hex digits"),
    ("nvme: read model=a%zz", "two hex digits"),
    ("nvme: read model=a%2f", "upper-case"),
    ("nvme: read model=caf\u00e9", "must be %-escaped"),
    ("nvme: read model=a\tb", "must be %-escaped"),
    ("nvme: read x=" + "a" * 1100, "longer than 1024"),
])
def test_malformed_lines_name_line_and_reason(line, reason):
    log = parse(f"noise\n{line}\nproofboot: start schema=1\n")
    assert len(log.malformed) == 1
    bad = log.malformed[0]
    assert bad.lineno == 2
    assert reason in bad.reason
    assert [r.kind for r in log.records] == ["proofboot: start"]


def test_unknown_subsystem_lines_are_noise():
    log = parse("bogus: read x=1\nNVMe: read x=1\nnvme:read x=1\n nvme: read x=1\n")
    assert log.records == [] and log.malformed == []


def test_truncated_marker_line_is_valid():
    r = prooflog.parse_line("pci: device bdf=0000:00:01.0 truncated=true")
    assert r.truncated


def test_ansi_escapes_cr_and_nul_are_stripped():
    text = ("\x1b[0m\x1b[2J\x1b[1;1Hproofboot: start schema=1\r\n"
            "test: plan name=a groups=x\x00 selected=true\r\r\n"
            "\x1b]0;title\x07nvme: read crc32=0x00000001\x1b[K\r\n"
            "GRUB loading...\rpci: device bdf=0000:00:00.0\r\n")
    log = parse(text)
    assert not log.malformed
    assert [r.kind for r in log.records] == ["proofboot: start", "test: plan", "nvme: read",
                                             "pci: device"]
    assert log.records[1].fields == {"name": "a", "groups": "x", "selected": "true"}
    assert log.records[2].fields["crc32"] == "0x00000001"
    assert [r.lineno for r in log.records] == [1, 2, 3, 4]


def test_partial_last_line_is_set_aside():
    log = parse("proofboot: start schema=1\nproofboot: verdict status=PA")
    assert [r.kind for r in log.records] == ["proofboot: start"]
    assert log.partial is not None and log.partial_text == "proofboot: verdict status=PA"
    assert log.total_lines == 2


def test_partial_noise_line_is_ignored_quietly():
    log = parse("proofboot: start schema=1\nGRUB")
    assert log.partial is None and len(log.records) == 1


def test_bytes_input_with_high_bytes_and_crlf():
    data = as_log(proof_lines(), crlf=True).encode() + b"\xff\xfe garbage\n"
    log = prooflog.parse_text(data, SUBS)
    assert not log.malformed
    assert log.records[-1].kind == "proofboot: verdict"


def test_parse_number():
    assert prooflog.parse_number("0x0281") == 0x281
    assert prooflog.parse_number("42") == 42
    assert prooflog.parse_number("-3") == -3
    assert prooflog.parse_number("0x") is None
    assert prooflog.parse_number("x1") is None
    assert prooflog.parse_number(None) is None


def test_parse_file(tmp_path):
    path = tmp_path / "console.log"
    path.write_bytes(as_log(proof_lines()).encode())
    log = prooflog.parse_file(str(path))
    assert log.path == str(path) and log.records[-1].kind == "proofboot: verdict"
