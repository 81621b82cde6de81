"""Consistency checks for the NVMe namespace-shape proof lines (docs/proof-lines.md).

Each claim a line makes is checked against the other fields of the same line
(or of the namespace's identify line): the LBA format table marks the format
in use and agrees with lba_size/metadata_size, the metadata layout follows
the format, a namespace that is not served says why, the interrupt proof is
proven only on success with its data confirmed, a skipped read names a known
reason, the CMB size is what CMBSZ encodes, every active NSID is listed
and the tested ones are the first of them, and one namespace read through
two controllers of its subsystem (same serial) gives one CRC.  Standard library only; used by
tools/proofcheck.py, which turns the problems into findings.
"""

from __future__ import annotations

NS_SKIP_REASONS = {"logical-block-larger-than-2MiB", "protection-information-without-room-in-metadata",
                   "reserved-protection-information-type", "command-set-not-handled"}
READ_SKIP_REASONS = {"namespace-too-small", "one-block-exceeds-max-transfer"}
MD_LAYOUTS = {"none", "extended", "separate"}
CMB_SZU_MAX = 6


def _bool(r, key):
    return r.fields.get(key) == "true"


def _lbafs_problem(r) -> str | None:
    table = r.fields.get("lbafs", "")
    entries = table.split(",") if table else []
    marked = [i for i, e in enumerate(entries) if e.startswith("*")]
    if len(entries) != r.number("lbaf_count"):
        return f"lbafs has {len(entries)} formats but lbaf_count={r.fields.get('lbaf_count')}"
    if marked != [r.number("flbas_index")]:
        return f"lbafs marks {marked} in use but flbas_index={r.fields.get('flbas_index')}"
    try:
        ds, ms, _ = (int(x) for x in entries[marked[0]].lstrip("*").split(":"))
    except ValueError:
        return f"lbafs entry {entries[marked[0]]!r} is not LBADS:MS:RP"
    if 1 << ds != r.number("lba_size") or ms != r.number("metadata_size"):
        return (f"the format in use {entries[marked[0]]} disagrees with lba_size="
                f"{r.fields.get('lba_size')} metadata_size={r.fields.get('metadata_size')}")
    return None


def _layout_problem(r) -> str | None:
    ms = r.number("metadata_size")
    layout = r.fields.get("md_layout")
    want = "none" if not ms else "extended" if _bool(r, "metadata_extended") else "separate"
    if layout != want:
        return f"md_layout={layout} but metadata_size={ms} metadata_extended={r.fields.get('metadata_extended')}"
    buffer = r.number("lba_size") + (ms if layout == "extended" else 0)
    if r.number("block_buffer_bytes") != buffer:
        return f"block_buffer_bytes={r.fields.get('block_buffer_bytes')} but a block takes {buffer}"
    if r.fields.get("pract") == "true" or r.fields.get("prchk") not in (None, "none"):
        return "reads must not ask the device to strip or check PI (pract=false prchk=none)"
    return None


def _namespace_problems(r):
    problem = _lbafs_problem(r)
    if problem:
        yield problem
    if r.fields.get("served") == "false":
        if r.fields.get("skip_reason") not in NS_SKIP_REASONS:
            yield f"served=false with skip_reason={r.fields.get('skip_reason')}"
    elif r.fields.get("served") == "true":
        problem = _layout_problem(r)
        if problem:
            yield problem
    if r.fields.get("csi_name") == "zoned":
        zb, nsze = r.number("zone_blocks"), r.number("nsze")
        if not zb or r.number("zones") != -(-nsze // zb):
            yield f"zones={r.fields.get('zones')} is not NSZE {nsze} / zone_blocks {zb} rounded up"
        if r.number("zasl") is None:
            yield "a zoned namespace without zasl (Identify CNS 06h)"


def _irq_problems(r):
    if not _bool(r, "proven"):
        return
    if r.number("status") != 0:
        yield "interrupt proof proven=true with a failed read status"
    if not (_bool(r, "data_checked") and _bool(r, "data_matches")):
        yield "interrupt proof proven=true without its data checked and matching"
    if not (_bool(r, "completion_posted") and _bool(r, "cid_matches")):
        yield "interrupt proof proven=true without the matching completion"
    if (r.number("irq_count_after") or 0) <= (r.number("irq_count_before") or 0):
        yield "interrupt proof proven=true but the interrupt count did not move"


def _refusal_problems(r):
    refused = r.fields.get("submitted") == "false" and "metadata-pointer-not-set" in r.fields.get("reason", "")
    if _bool(r, "ok") and not (refused and _bool(r, "usable_after")):
        yield "refusal ok=true but the read was submitted, unnamed, or the controller unusable after"


def _cmb_problems(r):
    cmbsz = r.number("cmbsz") or 0
    szu, sz = (cmbsz >> 8) & 0xF, cmbsz >> 12
    if not _bool(r, "valid"):
        return
    if szu > CMB_SZU_MAX or r.number("size") != sz << (12 + 4 * szu):
        yield f"cmb size={r.fields.get('size')} is not what cmbsz={r.fields.get('cmbsz')} encodes"
    if r.number("bir") != (r.number("cmbloc") or 0) & 0x7:
        yield f"cmb bir={r.fields.get('bir')} is not cmbloc bits 2:0"


def _read_problems(r):
    layout = r.fields.get("md_layout")
    if layout is None:
        return
    if layout not in MD_LAYOUTS:
        yield f"nvme read md_layout={layout}"
    elif layout != "none" and r.fields.get("data_valid") == "true" and "md_crc32" not in r.fields:
        yield f"nvme read of a namespace with {layout} metadata claims data_valid without md_crc32"


def _nsid_set(text: str) -> list:
    out = []
    for item in filter(None, text.split(",")):
        first, _, last = item.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def _namespaces_problems(r):
    if "tracked_nsids" not in r.fields:
        return  # a log from firmware before every active NSID was listed
    try:
        active, tracked = _nsid_set(r.fields.get("nsids", "")), _nsid_set(r.fields.get("tracked_nsids", ""))
    except ValueError:
        yield "nsids / tracked_nsids are not NSID ranges"
        return
    count, limit = r.number("active"), r.number("limit")
    if r.fields.get("nsids_complete") == "true" and len(active) != count:
        yield f"nsids lists {len(active)} namespaces but active={count}"
    if limit is not None and r.number("tracked") != min(count, limit):
        yield f"tracked={r.fields.get('tracked')} but min(active, limit) is {min(count, limit)}"
    if len(tracked) != r.number("tracked") or tracked != active[:len(tracked)]:
        yield "tracked_nsids are not the first tracked active NSIDs"


def _paths_agree(log):
    """Reads of one range of one namespace through different controllers (multi-path: the
    controllers of one NVM subsystem share its serial) must read the same data."""
    seen = {}
    for r in log.find("nvme", "read"):
        if r.fields.get("data_valid") != "true":
            continue
        key = tuple(r.fields.get(k) for k in ("serial", "nsid", "slba", "blocks"))
        first = seen.setdefault(key, r)
        if first.fields.get("bdf") != r.fields.get("bdf") and first.number("crc32") != r.number("crc32"):
            yield (r.lineno, f"nvme read through {r.fields.get('bdf')} crc32={r.fields.get('crc32')} but "
                   f"through {first.fields.get('bdf')} (line {first.lineno}) crc32={first.fields.get('crc32')} "
                   f"for serial={key[0]} nsid={key[1]} slba={key[2]} blocks={key[3]}")


def problems(log):
    """(severity, lineno, message) for every shape-line claim that does not hold."""
    checks = (("identify namespace", _namespace_problems), ("interrupt proof", _irq_problems),
              ("namespaces", _namespaces_problems), ("refusal", _refusal_problems),
              ("cmb", _cmb_problems), ("read", _read_problems))
    for event, check in checks:
        for r in log.find("nvme", event):
            for message in check(r):
                yield "error", r.lineno, message
    for lineno, message in _paths_agree(log):
        yield "error", lineno, message
    for r in log.find("nvme", "read skipped"):
        if r.fields.get("reason") not in READ_SKIP_REASONS:
            yield "error", r.lineno, f"nvme read skipped with unknown reason={r.fields.get('reason')}"
    for r in log.find("nvme", "identify controller"):
        if r.fields.get("ascii") == "false":
            yield ("warning", r.lineno, f"identify strings of {r.fields.get('bdf')} hold bytes "
                   "outside printable ASCII (sn/mn/fr, escaped as %XX)")
