"""Every proof line the firmware source spells out is documented.

Collects each literal `proof_begin(p, "subsystem", "event")` (and the NVMe
driver's `line_begin(&p, c, "event")`, which prefixes `nvme`) from src/ and
arch/, and requires docs/proof-lines.md to show a template starting with
`subsystem: event`.  Lines whose event is computed at run time are not seen
here; their documentation is reviewed by hand.
"""
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "proof-lines.md")
LITERAL = re.compile(r'proof_begin\(&?\w+, "([a-z0-9_-]+)", "([^"]+)"\)')
NVME_LINE = re.compile(r'line_begin\(&p, c, "([^"]+)"\)')


def firmware_lines():
    found = set()
    for top in ("src", "arch"):
        for root, _, files in os.walk(os.path.join(REPO, top)):
            for name in files:
                if not name.endswith(".c"):
                    continue
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    text = f.read()
                found.update(LITERAL.findall(text))
                found.update(("nvme", event) for event in NVME_LINE.findall(text))
    return found


def documented(doc_text, subsystem, event):
    return re.search(r"`" + re.escape(f"{subsystem}: {event}") + r"[ `]", doc_text) is not None


def test_every_literal_proof_line_is_documented():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    lines = firmware_lines()
    assert len(lines) > 30, "the source scan found too few proof lines: pattern broken?"
    missing = sorted(f"{s}: {e}" for s, e in lines if not documented(doc, s, e))
    assert missing == [], "undocumented proof lines: " + ", ".join(missing)


def test_the_scan_would_notice_an_undocumented_line():
    assert not documented("`nvme: read bdf=`", "nvme", "reads")
    assert documented("`nvme: read bdf=<bdf>`", "nvme", "read")


# Functions whose string-literal argument becomes an `nvme: read ... purpose=` value.
PURPOSE_CALL = re.compile(r'\b(?:nvme_read|nvme_read_chunked|read_range|read_block|blocked_read|'
                          r'read_pages|redirected_read)'
                          r'\([^;{]*?"([a-z0-9-]+)"', re.S)


def read_purposes():
    found = set()
    for name in os.listdir(os.path.join(REPO, "src")):
        if name.endswith(".c"):
            with open(os.path.join(REPO, "src", name), encoding="utf-8") as f:
                found.update(PURPOSE_CALL.findall(f.read()))
    return found


def test_every_read_purpose_is_documented():
    """Users filter reads by purpose (the deliberately blocked ones have dma_faults=1)."""
    with open(DOC, encoding="utf-8") as f:
        row = next(line for line in f if line.startswith("| purpose |"))
    purposes = read_purposes()
    assert {"first-blocks", "iommu-blocked", "iommu-revoke-unmapped"} <= purposes, purposes
    missing = sorted(p for p in purposes if f"`{p}`" not in row)
    assert missing == [], "purpose= values missing from the nvme: read table: " + ", ".join(missing)


def test_the_python_package_knows_the_deliberately_blocked_purposes():
    from proofboot import runs
    assert set(runs.DELIBERATE_FAULT_PURPOSES) <= read_purposes()
