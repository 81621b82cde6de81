"""QEMU's trace as an independent witness of the proof lines (tools/matrix --witness).

QEMU runs with a chosen set of trace events (NVMe commands, completions,
DMA address mappings and interrupts; VT-d translations, faults and
invalidations) and the serial port's register writes, written to one file
per configuration with the `log` trace backend (`-D FILE`).  The serial
writes rebuild the console inside the trace, so every proof line gets a
place in the device's own timeline; each claim is then held against what
the device did between it and the claim before it.

Every proof line the firmware printed after `proofboot: start` is a claim,
and ends as one of:
  backed        the trace shows what the line says,
  unbacked      QEMU's trace records nothing that could confirm or refute it,
  contradicted  the trace shows something else.
Independently of any claim, every address the device used for DMA (PRPs,
PRP-list entries, metadata, queue bases) must lie in the firmware's ledger:
the bounce pool(s) from `dma: attach` lines while translation is off, the
remapping window from `iommu: attach` while it is on.  Any access outside
it, and any IOMMU fault the firmware did not report, contradicts the claim
during which it happened, whatever the firmware's verdict.  docs/witness.md
lists what is witnessed and what the trace cannot show.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import difflib
import functools
import re
import subprocess
import sys
import zlib

from proofboot import prooflog

# Events enabled for the witness: named one by one (never '*': the register
# read/write events alone would multiply the trace size) plus the rare error
# events by glob.  serial_write carries the console into the trace.
TRACE_EVENTS = (
    "serial_write",
    "pci_nvme_admin_cmd", "pci_nvme_io_cmd", "pci_nvme_read", "pci_nvme_rw_cb",
    "pci_nvme_identify", "pci_nvme_identify_ns", "pci_nvme_identify_nslist",
    "pci_nvme_map_prp", "pci_nvme_map_addr", "pci_nvme_map_sgl",
    "pci_nvme_enqueue_req_completion", "pci_nvme_err_*",
    "pci_nvme_irq_msix", "pci_nvme_irq_pin", "pci_nvme_irq_masked",
    "pci_nvme_create_sq", "pci_nvme_create_cq", "pci_nvme_del_sq", "pci_nvme_del_cq",
    "pci_nvme_mmio_asqaddr_hi", "pci_nvme_mmio_acqaddr_hi", "pci_nvme_mmio_aqattr",
    "pci_nvme_mmio_doorbell_sq", "pci_nvme_mmio_doorbell_cq",
    "pci_nvme_mmio_start_success", "pci_nvme_mmio_stopped", "pci_nvme_mmio_shutdown_set",
    "vtd_dmar_enable", "vtd_dmar_translate", "vtd_dmar_fault", "vtd_fault_disabled",
    "vtd_inv_desc_iotlb_*", "vtd_inv_desc_cc_*", "vtd_ir_remap_msi",
    "amdvi_translation_result", "amdvi_page_fault",
)
# Events whose presence in `qemu -trace help` means the witness can run.
REQUIRED_EVENTS = ("serial_write", "pci_nvme_map_addr", "pci_nvme_read", "vtd_dmar_fault")

PAGE = 4096
UART_THR = 0            # 16550 transmit holding register (DLAB = 0)
UART_LCR = 3            # line control register; bit 7 is DLAB
UART_LCR_DLAB = 0x80
NVME_STATUS_CODE = 0x7ff        # SCT (bits 10:8) and SC (bits 7:0) of a completion status
NVME_STATUS_DNR = 0x4000
ADMIN_QUEUE = 0
NVME_OPC_IDENTIFY = 0x06
NVME_SQE_BYTES = 64
NVME_CQE_BYTES = 16
# The firmware's MSI-X table entries (docs/proof-lines.md, nvme: interrupts).
ADMIN_MSIX_ENTRY = 0
IO_MSIX_ENTRY = 1
MSI_DATA_VECTOR = 0xff          # MSI data bits 7:0: the vector (compatibility format)

# Proof lines printed while a command or a test step is under way: they do
# not end the previous claim's window.
INTERLEAVED = {"iommu: map", "iommu: unmap", "iommu: fault recorded", "nvme: command failed",
               "nvme: step failed", "dma: attach", "iommu: attach", "iommu: context"}


# Lines after which a listed mapping no longer holds (an unmap of it, a new
# mapping of the IOVA, a new domain, translation off).
_MAP_ENDS = {"iommu: unmap", "iommu: map", "iommu: attach", "iommu: disabled", "iommu: context"}


def qemu_args(trace_path: str) -> list:
    args = []
    for event in TRACE_EVENTS:
        args += ["-trace", event]
    return args + ["-D", trace_path]


@functools.lru_cache(maxsize=None)
def trace_available(qemu: str = "qemu-system-x86_64") -> bool:
    """Whether this QEMU has the log trace backend and the events the witness reads."""
    try:
        out = subprocess.run([qemu, "-trace", "help"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    names = set(out.split())
    return all(e in names for e in REQUIRED_EVENTS)


# -------------------------------------------------------------------- trace

@dataclasses.dataclass
class Event:
    pos: int            # index in the trace's event list
    name: str
    args: dict          # numeric arguments by name
    text: str


_ARG_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ =](0x[0-9a-fA-F]+|-?\d+)\b")
_DEV_RE = re.compile(r"dev(?:id:)? ([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+)")
_BLK_RE = re.compile(r"blk '([^']*)'")
_LAST_HEX_RE = re.compile(r"(0x[0-9a-fA-F]+)\s*$")
_HEAD_RE = re.compile(r"^(?:\d+@[\d.]+:)?([a-z_0-9]+) ?(.*)$")


def _event_args(name: str, rest: str) -> dict:
    args = {k: int(v, 16) if v.startswith("0x") else int(v, 10) for k, v in _ARG_RE.findall(rest)}
    if name in ("vtd_dmar_translate", "amdvi_translation_result"):
        m = _DEV_RE.search(rest)
        if m:
            bus, slot, func = (int(x, 16) for x in m.groups())
            args["sid"] = (bus << 8) | (slot << 3) | func
    elif name == "pci_nvme_rw_cb":
        m = _BLK_RE.search(rest)
        args["blk"] = m.group(1) if m else ""
    elif name == "pci_nvme_err_invalid_prp2_align":
        m = _LAST_HEX_RE.search(rest)
        if m:
            args["addr"] = int(m.group(1), 16)
    return args


@dataclasses.dataclass
class Timeline:
    events: list                     # [Event] in trace order
    lines: list                      # [(pos, text)]: console lines rebuilt from serial writes
    firmware_start: int = 0          # pos of `proofboot: start` (events before: BIOS, loader)


# Below this share of the log's proof lines found in the trace's console, the
# two do not describe the same run and nothing can be witnessed.
MIN_PLACED_SHARE = 0.9
# The trace does not say which UART a write went to: a console mirrored on
# several ports (COM1 and COM2) arrives as each line written once per port.
MAX_MIRRORED_PORTS = 4
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\r\x1b")


def _console_line(data) -> str:
    """One console line from the transmitted bytes: CRs and stray control bytes
    (divisor-latch values) dropped, a line mirrored on several ports kept once."""
    text = bytes(data).translate(None, _CONTROL_BYTES + b"\r").decode("latin-1")
    for ports in range(MAX_MIRRORED_PORTS, 1, -1):
        if text and len(text) % ports == 0 and text == text[:len(text) // ports] * ports:
            return text[:len(text) // ports]
    return text


def parse_trace(text: str) -> Timeline:
    events, lines, current = [], [], []
    dlab = False
    for raw in text.splitlines():
        m = _HEAD_RE.match(raw)
        if not m:
            continue
        name, rest = m.groups()
        if name == "serial_write":
            a = _event_args(name, rest)
            addr, val = a.get("addr"), a.get("val", 0)
            if addr == UART_LCR:
                dlab = bool(val & UART_LCR_DLAB)
            elif addr == UART_THR and not dlab:
                if val == 0x0a:
                    lines.append((len(events), _console_line(current)))
                    current = []
                else:
                    current.append(val)
            continue
        events.append(Event(len(events), name, _event_args(name, rest), raw))
    start = next((pos for pos, t in lines if "proofboot: start" in t), len(events))
    return Timeline(events=events, lines=lines, firmware_start=start)


def parse_trace_file(path: str) -> Timeline:
    with open(path, "rb") as f:
        return parse_trace(f.read().decode("latin-1"))


# ------------------------------------------------------------------ report

@dataclasses.dataclass
class Contradiction:
    lineno: int | None
    kind: str               # the claim's "subsystem: event", or "device" for ledger/fault findings
    message: str

    def format(self, path: str = "console.log") -> str:
        where = f"{path}:{self.lineno}" if self.lineno else path
        return f"{where}: witness: {self.message}"


@dataclasses.dataclass
class WitnessReport:
    checked: int = 0
    backed: int = 0
    unbacked: int = 0
    contradicted: int = 0
    contradictions: list = dataclasses.field(default_factory=list)
    unbacked_kinds: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    device_accesses: int = 0        # DMA address ranges checked against the ledger
    faults_seen: int = 0            # IOMMU fault events in the firmware's part of the trace
    notes: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.contradictions

    def cell(self) -> str:
        """checked/backed/unbacked/contradicted, the matrix table's witness column."""
        return f"{self.checked}/{self.backed}/{self.unbacked}/{self.contradicted}"

    def summary(self) -> str:
        return (f"witness: {'OK' if self.ok else 'CONTRADICTED'} claims={self.checked} "
                f"backed={self.backed} unbacked={self.unbacked} "
                f"contradicted={self.contradicted} device_accesses={self.device_accesses} "
                f"iommu_faults={self.faults_seen}")


# ------------------------------------------------------------------ helpers

def _page(addr: int) -> int:
    return addr & ~(PAGE - 1)


def _span(e: Event) -> tuple:
    """[first, last] IOVA of the IOTLB entry a vtd_dmar_translate used (4 KiB, 2 MiB or 1 GiB)."""
    first = e.args.get("iova", -1)
    return first, first + e.args.get("mask", PAGE - 1)


def _covers(e: Event, iova: int) -> bool:
    first, last = _span(e)
    return first <= iova <= last


def _gpa_at(e: Event, iova: int) -> int:
    """The guest-physical address translation e gives iova (inside its entry)."""
    return e.args.get("gpa", 0) + (iova - e.args.get("iova", 0))


def _sid(bdf: str | None) -> int | None:
    """'SSSS:BB:DD.F' -> requester id (bus << 8 | dev << 3 | fn)."""
    if not bdf:
        return None
    m = re.fullmatch(r"(?:[0-9a-fA-F]{4}:)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])", bdf)
    if not m:
        return None
    bus, dev, fn = (int(x, 16) for x in m.groups())
    return (bus << 8) | (dev << 3) | fn


def _num(rec, key, default=None):
    v = rec.number(key)
    return default if v is None else v


def _flag(rec, key) -> bool:
    return rec.fields.get(key) == "true"


@dataclasses.dataclass
class Claim:
    rec: prooflog.Record
    pos: int                # trace position of the line's end
    start: int              # window start: end of the previous non-interleaved line
    index: int = 0          # place among the claims
    problems: list = dataclasses.field(default_factory=list)
    witnessed: bool = False


def align(records: list, timeline: Timeline) -> list:
    """Trace position of every log record (the log is the claim; the trace's copy places it),
    and how many log lines the trace carries word for word."""
    traced = prooflog.parse_lines([t for _, t in timeline.lines]).records
    positions = [timeline.lines[r.lineno - 1][0] for r in traced]
    a = [r.raw for r in records]
    b = [r.raw for r in traced]
    out = [None] * len(records)
    same = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(i1, i2):
            j = j1 + (k - i1)
            if tag in ("equal", "replace") and j < j2:
                out[k] = positions[j]
                same += tag == "equal"
    last = 0
    for k, pos in enumerate(out):       # lines the trace lacks sit right after their predecessor
        if pos is None:
            out[k] = last
        last = out[k]
    return out, same


# ------------------------------------------------------------------ witness

class Witness:
    def __init__(self, log: prooflog.ProofLog, timeline: Timeline, disks=None, drives=None):
        self.log = log
        self.tl = timeline
        self.ev = timeline.events
        self.disks = disks
        # controller serial -> QEMU nvme device ids ("nvme0"; a str is taken as one id)
        self.drives = {k: [v] if isinstance(v, str) else list(v) for k, v in (drives or {}).items()}
        self.report = WitnessReport()
        self._images = {}
        positions, same = align(log.records, timeline)
        if same < MIN_PLACED_SHARE * len(log.records):
            self.report.contradictions.append(Contradiction(
                None, "trace", f"only {same} of the log's {len(log.records)} proof lines are in "
                               "the console the trace carries: not the same run, or the console "
                               "went to a port the trace does not show"))
        self.claims = []
        start = timeline.firmware_start
        for rec, pos in zip(log.records, positions):
            if pos < timeline.firmware_start and rec.kind != "proofboot: start":
                continue
            self.claims.append(Claim(rec, pos, start, index=len(self.claims)))
            if rec.kind not in INTERLEAVED:
                start = pos
        self.by_name = collections.defaultdict(list)
        for e in self.ev[timeline.firmware_start:]:
            self.by_name[e.name].append(e)
        self._positions = {name: [e.pos for e in evs] for name, evs in self.by_name.items()}
        # IOMMU lines are witnessed through VT-d's events; a unit QEMU traces no events for
        # here (AMD-Vi) leaves them unbacked rather than contradicted.
        self.vtd = any(name.startswith("vtd_") for name in self.by_name)

    # -- trace queries
    def window(self, lo: int, hi: int, *names) -> list:
        out = []
        for n in names:
            pos = self._positions.get(n, [])
            out += self.by_name[n][bisect.bisect_left(pos, lo):bisect.bisect_left(pos, hi)]
        return sorted(out, key=lambda e: e.pos)

    def claim_at(self, pos: int) -> Claim | None:
        """The first non-interleaved claim whose window holds trace position pos."""
        for c in self.claims:
            if c.pos > pos and c.rec.kind not in INTERLEAVED:
                return c
        return None

    def blame(self, pos: int, message: str) -> None:
        c = self.claim_at(pos)
        if c is None:
            self.report.contradictions.append(Contradiction(None, "device", message))
        else:
            c.problems.append(message)

    def image(self, serial, nsid):
        if not self.disks:
            return None
        disk = self.disks.exact(serial, nsid) or self.disks.wildcard()
        if disk is None:
            return None
        if disk.path not in self._images:
            try:
                with open(disk.path, "rb") as f:
                    self._images[disk.path] = f.read()
            except OSError:
                self._images[disk.path] = None
        return self._images[disk.path]

    # -- ledger
    def check_ledger(self) -> None:
        """Every DMA address the device used lies in a bounce pool, or in a remapping window while
        translation is on.

        Translated, pools stay in the ledger too: a device bound to the bounce backend may run
        in pass-through while the unit translates for another one, and a pool address used as
        an IOVA by a translated device faults, which the fault checks judge.  Without VT-d
        events (no unit QEMU traces, e.g. AMD-Vi) the windows count throughout.
        """
        pools, windows = [], []
        vtd_traced = bool(self.by_name.get("vtd_dmar_enable"))
        translated = not vtd_traced
        fault_pages = {(_page(e.args.get("addr", 0))) for e in self.by_name.get("vtd_dmar_fault", ())}
        if not vtd_traced:
            # AMD-Vi: QEMU traces a blocked access's address (no requester); other units'
            # faults are not traced at all, and the firmware's own records stand.
            fault_pages |= {_page(e.args.get("address", 0))
                            for e in self.by_name.get("amdvi_page_fault", ())}
            fault_pages |= {_page(_num(c.rec, "addr", 0)) for c in self.claims
                            if c.rec.kind == "iommu: fault recorded"}
        claims = iter(self.claims)
        pending = next(claims, None)
        for e in self.ev[self.tl.firmware_start:]:
            while pending is not None and pending.pos <= e.pos:
                r = pending.rec
                if r.kind == "dma: attach" and r.number("pool_base") is not None:
                    pools.append((r.number("pool_base"), r.number("pool_bytes") or 0))
                elif r.kind == "iommu: attach":
                    windows.append((_num(r, "window_base", 0), _num(r, "window_bytes", 0)))
                pending = next(claims, None)
            if e.name == "vtd_dmar_enable":
                translated = bool(e.args.get("enable"))
                continue
            ranges = self._dma_ranges(e)
            for addr, length, what in ranges:
                self.report.device_accesses += 1
                ledger = pools + windows if translated else pools
                inside = any(base <= addr and addr + length <= base + size for base, size in ledger)
                if inside:
                    continue
                if translated and _page(addr) in fault_pages:
                    continue        # blocked by the IOMMU: judged by the fault checks
                space = ("IOVA" if translated else "physical address") if vtd_traced else "address"
                held = "bounce pool or remapping window" if translated and windows else "bounce pool"
                self.blame(e.pos, f"the device used {space} 0x{addr:x} (+{length} bytes, {what}) "
                                  f"outside the firmware's {held} (trace: {e.text.strip()})")
                self.report.notes.append(f"outside ledger: {e.text.strip()}")

    @staticmethod
    def _dma_ranges(e: Event) -> list:
        a = e.args
        if e.name == "pci_nvme_map_addr":
            return [(a.get("addr", 0), max(1, a.get("len", 1)), "data/metadata buffer")]
        if e.name == "pci_nvme_map_prp":
            prp1, prp2, length = a.get("prp1", 0), a.get("prp2", 0), a.get("len", 0)
            first = PAGE - (prp1 & (PAGE - 1))
            out = [(prp1, 1, "PRP1")]
            if length > first + PAGE:
                out.append((prp2, 8, "PRP list"))
            return out
        if e.name in ("pci_nvme_mmio_asqaddr_hi", "pci_nvme_mmio_acqaddr_hi"):
            return [(a.get("new_address", 0), 1, "admin queue")]
        if e.name == "pci_nvme_create_sq":
            return [(a.get("addr", 0), (a.get("qsize", 0) + 1) * NVME_SQE_BYTES, "I/O SQ")]
        if e.name == "pci_nvme_create_cq":
            return [(a.get("addr", 0), (a.get("qsize", 0) + 1) * NVME_CQE_BYTES, "I/O CQ")]
        return []

    # -- faults
    def check_faults(self) -> None:
        faults = list(self.by_name.get("vtd_dmar_fault", ()))
        self.report.faults_seen = len(faults)
        used = set()
        for c in self.claims:
            r = c.rec
            if r.kind != "iommu: fault recorded" or not self.vtd:
                continue
            c.witnessed = True
            want = (_sid(r.fields.get("sid")), _page(_num(r, "addr", 0)), _num(r, "reason"),
                    1 if r.fields.get("type") == "write" else 0)
            hits = [f for f in faults if f.pos < c.pos and f.pos not in used and
                    (f.args.get("sid"), _page(f.args.get("addr", 0)), f.args.get("fault"),
                     f.args.get("write")) == want]
            if not hits:
                c.problems.append("the IOMMU raised no such fault (sid, page, reason, direction)")
            used.update(f.pos for f in hits)    # repeats from one device compress into one record
        for f in faults:
            if f.pos not in used:
                self.blame(f.pos, f"IOMMU fault the firmware never reported: {f.text.strip()}")
        self.unreported_faults = sum(1 for f in faults if f.pos not in used)

    # -- I/O windows
    def reads_in(self, c: Claim, nsid: int | None, serial: str | None) -> list:
        reads = self.window(c.start, c.pos, "pci_nvme_read")
        if nsid is not None:
            reads = [e for e in reads if e.args.get("nsid") == nsid]
        prefixes = tuple(f"{ctrl}n" for ctrl in self.drives.get(serial, ()))
        if prefixes:
            cbs = self.window(c.start, c.pos, "pci_nvme_rw_cb")
            keep = []
            for e in reads:
                cb = next((x for x in cbs if x.pos > e.pos and x.args.get("cid") == e.args.get("cid")),
                          None)
                if cb is None or cb.args.get("blk", "").startswith(prefixes):
                    keep.append(e)
            reads = keep
        return reads

    @staticmethod
    def covering_run(reads: list, commands: int | None, slba: int, blocks: int) -> list:
        """The first `commands` consecutive READs that exactly cover [slba, slba + blocks).

        Several reads may share a window (the interrupt proof's read is sent before the
        reference read's line is printed); a claim owns the run that matches it."""
        if commands is None or len(reads) <= commands:
            return reads
        for i in range(len(reads) - commands + 1):
            run = reads[i:i + commands]
            spans = sorted((e.args.get("lba", 0), e.args.get("nlb", 0)) for e in run)
            if spans[0][0] == slba and sum(n for _, n in spans) == blocks and \
                    max(lba + n for lba, n in spans) == slba + blocks:
                return run
        return reads

    def error_events(self) -> list:
        """Names of the NVMe error events in the trace (QEMU traces one per refused command)."""
        return [n for n in self.by_name if n.startswith("pci_nvme_err_")]

    def completions_for(self, c: Claim, cmds: list, io: bool = True) -> list:
        comps = [e for e in self.window(c.start, c.pos, "pci_nvme_enqueue_req_completion")
                 if (e.args.get("cqid", 0) != ADMIN_QUEUE) == io]
        out, taken = [], set()
        for cmd in cmds:
            m = next((x for x in comps if x.pos > cmd.pos and x.pos not in taken and
                      x.args.get("cid") == cmd.args.get("cid")), None)
            if m is not None:
                taken.add(m.pos)
                out.append(m)
        return sorted(out, key=lambda e: e.pos)

    def device_depth(self, c: Claim) -> int:
        """Most I/O commands the device held at once in the window (fetched, not completed)."""
        depth = best = 0
        for e in self.window(c.start, c.pos, "pci_nvme_io_cmd", "pci_nvme_enqueue_req_completion"):
            if e.name == "pci_nvme_io_cmd":
                depth += 1
                best = max(best, depth)
            elif e.args.get("cqid", 0) != ADMIN_QUEUE:
                depth = max(0, depth - 1)
        return best

    def msix_raises(self, c: Claim, entry: int | None) -> int:
        return sum(1 for e in self.window(c.start, c.pos, "pci_nvme_irq_msix")
                   if entry is None or e.args.get("vector") == entry)

    def io_entry(self, c: Claim) -> int | None:
        bdf = c.rec.fields.get("bdf")
        entry = None
        for other in self.claims:
            if other.pos > c.pos:
                break
            if other.rec.kind == "nvme: io queues" and other.rec.fields.get("bdf") == bdf:
                entry = other.rec.number("msix_entry")
        return entry

    def check_range_crc(self, c, serial, nsid, lba_size, first, blocks, claimed_crc, what):
        image = self.image(serial, nsid)
        if image is None or claimed_crc is None:
            return
        data = image[first * lba_size:(first + blocks) * lba_size]
        if len(data) != blocks * lba_size:
            c.problems.append(f"{what}: the device read LBAs {first}+{blocks}, beyond the image")
            return
        crc = zlib.crc32(data)
        if crc != claimed_crc:
            c.problems.append(f"{what}: crc32 0x{claimed_crc:08x} but the image holds 0x{crc:08x} "
                              f"at the LBAs the device read ({first}+{blocks})")

    # -- per-claim checks
    def check_read(self, c: Claim) -> None:
        r = c.rec
        c.witnessed = True
        nsid, slba, blocks = _num(r, "nsid"), _num(r, "slba", 0), _num(r, "blocks", 0)
        lba_size, serial = _num(r, "lba_size", 0), r.fields.get("serial")
        if r.fields.get("purpose") == "negative-check":
            # The refused command of an `nvme: negative` case precedes this read in the test.
            refused = [e.pos for e in self.window(c.start, c.pos, *self.error_events())]
            if refused:
                c.start = max(refused) + 1
        commands = _num(r, "commands")
        reads = self.covering_run(self.reads_in(c, nsid, serial), commands, slba, blocks)
        if commands is not None and len(reads) != commands:
            c.problems.append(f"commands={commands} but the device ran {len(reads)} READ "
                              f"command(s) for nsid {nsid}")
        if not reads:
            return
        spans = sorted((e.args.get("lba", 0), e.args.get("nlb", 0)) for e in reads)
        total = sum(n for _, n in spans)
        first, end = spans[0][0], max(lba + n for lba, n in spans)
        if total != blocks or first != slba or end - first != total:
            c.problems.append(f"slba={slba} blocks={blocks} but the device read LBAs "
                              + ", ".join(f"{lba}+{n}" for lba, n in spans[:6])
                              + (" ..." if len(spans) > 6 else ""))
        per_block = lba_size + self.extended_metadata(c, nsid)
        for e in reads:
            nlb, count = e.args.get("nlb", 0), e.args.get("count", 0)
            if lba_size and nlb and count != nlb * per_block:
                c.problems.append(f"lba_size={lba_size} but the device transferred {count} bytes "
                                  f"for {nlb} block(s) (cid {e.args.get('cid')}): a namespace "
                                  f"format other than the one identified")
                break
        comps = self.completions_for(c, reads)
        codes = [e.args.get("status", 0) & NVME_STATUS_CODE for e in comps]
        first_bad = next((s for s in codes if s), 0)
        if _num(r, "status") is not None and first_bad != _num(r, "status"):
            c.problems.append(f"status=0x{_num(r, 'status'):03x} but the device completed "
                              f"with 0x{first_bad:03x} first")
        if _flag(r, "data_valid") and len(comps) < len(reads):
            c.problems.append(f"data_valid=true but only {len(comps)} of {len(reads)} reads completed")
        if _flag(r, "data_valid") and total == end - first:
            self.check_range_crc(c, serial, nsid, lba_size, first, total, r.number("crc32"), "crc32")
        self.check_depth_and_irqs(c, _num(r, "max_in_flight"), "max_in_flight")

    def extended_metadata(self, c: Claim, nsid) -> int:
        """Metadata bytes per block that travel with the data, from the namespace's Identify line."""
        bdf = c.rec.fields.get("bdf")
        for o in reversed(self.claims[:c.index]):
            if (o.rec.kind == "nvme: identify namespace" and o.rec.fields.get("bdf") == bdf
                    and o.rec.number("nsid") == nsid):
                return _num(o.rec, "metadata_size", 0) if _flag(o.rec, "metadata_extended") else 0
        return 0

    def check_depth_and_irqs(self, c: Claim, claimed_depth: int | None, depth_key: str) -> None:
        r = c.rec
        if claimed_depth is not None:
            seen = self.device_depth(c)
            if seen > claimed_depth:
                c.problems.append(f"{depth_key}={claimed_depth} but the device held {seen} "
                                  f"commands at once")
        mode = r.fields.get("mode")
        irqs = r.number("irq_count")
        if mode == "poll":
            raised = self.msix_raises(c, None)
            if raised:
                c.problems.append(f"mode=poll but the device raised {raised} MSI-X interrupt(s)")
        elif mode == "msix" and irqs is not None:
            raised = self.msix_raises(c, self.io_entry(c))
            if raised < irqs:   # one raise may reach the CPU once only, never the reverse
                c.problems.append(f"irq_count={irqs} but the device raised {raised} MSI-X "
                                  f"interrupt(s) on the I/O vector")

    def check_bench(self, c: Claim) -> None:
        r = c.rec
        c.witnessed = True
        serial, nsid, lba_size = r.fields.get("serial"), _num(r, "nsid"), _num(r, "lba_size", 0)
        reads = self.reads_in(c, nsid, serial)
        if r.number("commands") is not None and len(reads) != r.number("commands"):
            c.problems.append(f"commands={r.number('commands')} but the device ran "
                              f"{len(reads)} READ command(s)")
        bs = r.number("bs")
        odd = [e for e in reads if bs and e.args.get("count") != bs]
        if odd:
            c.problems.append(f"bs={bs} but the device transferred {odd[0].args.get('count')} bytes")
        for key, event, qkey in (("sq_doorbells", "pci_nvme_mmio_doorbell_sq", "sqid"),
                                 ("cq_doorbells", "pci_nvme_mmio_doorbell_cq", "cqid")):
            if r.number(key) is None:
                continue
            seen = sum(1 for e in self.window(c.start, c.pos, event)
                       if e.args.get(qkey, 0) != ADMIN_QUEUE)
            if seen != r.number(key):
                c.problems.append(f"{key}={r.number(key)} but the device saw {seen}")
        sample = (r.number("sample_lba"), r.number("sample_blocks"))
        if None not in sample:
            if not any((e.args.get("lba"), e.args.get("nlb")) == sample for e in reads):
                c.problems.append(f"sample LBAs {sample[0]}+{sample[1]}: no READ of that range")
            else:
                self.check_range_crc(c, serial, nsid, lba_size, sample[0], sample[1],
                                     r.number("crc32"), "sample crc32")
        self.check_depth_and_irqs(c, r.number("qd"), "qd")

    def check_negative(self, c: Claim) -> None:
        r = c.rec
        case = r.fields.get("case")
        lo = self.test_start(c)
        c.witnessed = True
        if case == "iosqes":
            fails = self.window(lo, c.pos, "pci_nvme_err_startfail_sqent_too_large")
            if r.fields.get("observed") == "cfs":
                if not fails:
                    c.problems.append("observed=cfs but the device never refused CC.EN for the SQE size")
                elif not any(e.args.get("log2size") == r.number("iosqes") for e in fails):
                    c.problems.append(f"iosqes={r.number('iosqes')} but the device refused "
                                      f"log2size={fails[0].args.get('log2size')}")
            elif fails:
                c.problems.append(f"observed={r.fields.get('observed')} but the device refused CC.EN")
            return
        io = r.number("qid") != ADMIN_QUEUE
        comps = [e for e in self.window(lo, c.pos, "pci_nvme_enqueue_req_completion")
                 if (e.args.get("cqid", 0) != ADMIN_QUEUE) == io
                 and e.args.get("status", 0) & NVME_STATUS_CODE]
        observed = r.number("observed_status")
        # Several controllers run the case in one test: any of the window's refusals may be ours.
        comps = [e for e in comps if e.args.get("status", 0) & NVME_STATUS_CODE == observed] or comps
        got = comps[0].args.get("status", 0) if comps else 0
        if (got & NVME_STATUS_CODE) != observed:
            c.problems.append(f"observed_status=0x{observed:03x} but the device completed "
                              f"0x{got & NVME_STATUS_CODE:03x}")
        elif comps and _flag(r, "dnr") != bool(got & NVME_STATUS_DNR):
            c.problems.append(f"dnr={r.fields.get('dnr')} but the completion's DNR bit is "
                              f"{int(bool(got & NVME_STATUS_DNR))}")
        if case == "prp-misaligned":
            errs = self.window(lo, c.pos, "pci_nvme_err_invalid_prp2_align")
            if not any(e.args.get("addr") == r.number("prp2") for e in errs):
                c.problems.append(f"prp2=0x{_num(r, 'prp2', 0):x}: the device refused no such PRP2")
        elif case == "mdts":
            errs = self.window(lo, c.pos, "pci_nvme_err_mdts")
            if not any(e.args.get("len") == r.number("bytes") for e in errs):
                c.problems.append(f"bytes={r.number('bytes')}: the device refused no such MDTS length")
        elif case == "bad-nsid":
            ids = self.window(lo, c.pos, "pci_nvme_identify_ns")
            if not any(e.args.get("nsid") == r.number("nsid") for e in ids):
                c.problems.append(f"nsid={r.number('nsid')}: the device saw no Identify for it")

    def check_command_failed(self, c: Claim) -> None:
        r = c.rec
        c.witnessed = True
        io = r.number("qid") != ADMIN_QUEUE
        want = r.number("status")
        comps = [e for e in self.window(self.test_start(c), c.pos, "pci_nvme_enqueue_req_completion")
                 if (e.args.get("cqid", 0) != ADMIN_QUEUE) == io
                 and e.args.get("status", 0) & NVME_STATUS_CODE == want]
        if not comps:
            c.problems.append(f"status=0x{want:03x} on queue {r.number('qid')}: "
                              "the device completed no command with it")

    def _admin_ok(self, c: Claim, event: str, match) -> bool:
        cmds = [e for e in self.window(c.start, c.pos, event) if match(e)]
        if not cmds:
            return False
        admin = [e for e in self.window(c.start, c.pos, "pci_nvme_admin_cmd") if e.pos < cmds[-1].pos]
        comps = self.completions_for(c, admin[-1:], io=False)
        return bool(comps) and not comps[0].args.get("status", 0) & NVME_STATUS_CODE

    def check_bring_up(self, c: Claim) -> None:
        r = c.rec
        kind = r.kind
        c.witnessed = True
        if kind == "nvme: identify controller":
            if not self._admin_ok(c, "pci_nvme_identify", lambda e: e.args.get("cns") == 1):
                c.problems.append("the device completed no Identify Controller successfully")
        elif kind == "nvme: identify namespace":
            if not self._admin_ok(c, "pci_nvme_identify_ns",
                                  lambda e: e.args.get("nsid") == r.number("nsid")):
                c.problems.append(f"the device completed no Identify Namespace {r.number('nsid')}")
        elif kind == "nvme: io queues":
            cqs = self.window(c.start, c.pos, "pci_nvme_create_cq")
            sqs = self.window(c.start, c.pos, "pci_nvme_create_sq")
            entries = r.number("entries")
            cq = next((e for e in cqs if e.args.get("cqid") == r.number("cqid")), None)
            sq = next((e for e in sqs if e.args.get("sqid") == r.number("sqid")), None)
            if cq is None or sq is None:
                c.problems.append("the device created no such I/O CQ/SQ pair")
            else:
                if entries is not None and (cq.args.get("qsize", -1) + 1 != entries or
                                            sq.args.get("qsize", -1) + 1 != entries):
                    c.problems.append(f"entries={entries} but the device got "
                                      f"{cq.args.get('qsize', -1) + 1}/{sq.args.get('qsize', -1) + 1}")
                if r.fields.get("mode") == "msix" and (not cq.args.get("ien") or
                                                       cq.args.get("vector") != r.number("msix_entry")):
                    c.problems.append(f"msix_entry={r.number('msix_entry')} but the CQ has vector "
                                      f"{cq.args.get('vector')} ien={cq.args.get('ien')}")
                if r.fields.get("mode") == "poll" and cq.args.get("ien"):
                    c.problems.append("mode=poll but the I/O CQ was created with interrupts on")
        elif kind == "nvme: enable":
            ok = self.window(c.start, c.pos, "pci_nvme_mmio_start_success")
            if _flag(r, "ready") and not ok:
                c.problems.append("ready=true but the device never accepted CC.EN")
            if not _flag(r, "ready") and ok:
                c.problems.append("ready=false but the device accepted CC.EN")
        elif kind == "nvme: shutdown":
            if _flag(r, "io_queues_deleted") and not (self.window(c.start, c.pos, "pci_nvme_del_sq")
                                                      and self.window(c.start, c.pos, "pci_nvme_del_cq")):
                c.problems.append("io_queues_deleted=true but the device deleted no SQ/CQ")
            if r.fields.get("shst") == "complete" and not self.window(c.start, c.pos,
                                                                       "pci_nvme_mmio_shutdown_set"):
                c.problems.append("shst=complete but the device never saw CC.SHN")
        elif kind == "nvme: interrupt proof":
            c.start = self.test_start(c)    # its read may precede the reference read's line
            if _flag(r, "proven") and not self.msix_raises(c, r.number("msix_entry")):
                c.problems.append(f"proven=true but the device raised no MSI-X on entry "
                                  f"{r.number('msix_entry')}")
            allowed = {r.number("vector")} | self.other_vectors(r.fields.get("bdf"), "io_vector")
            wrong = {v for v in self.deliveries(c.start, c.pos, r.number("msix_entry"))
                     if v not in allowed}
            if wrong:
                c.problems.append(f"vector=0x{_num(r, 'vector', 0):02x} but entry "
                                  f"{r.number('msix_entry')} delivered vector(s) "
                                  + ",".join(f"0x{v:02x}" for v in sorted(wrong)))

    def deliveries(self, lo: int, hi: int, entry) -> list:
        """CPU vectors the MSI-X messages of table entry `entry` carried in [lo, hi).

        QEMU traces a message's data (its low byte is the vector) only on its way through
        VT-d's interrupt-remapping check, so without an IOMMU the list is empty."""
        msgs = self.window(lo, hi, "vtd_ir_remap_msi")
        out = []
        for raise_ in self.window(lo, hi, "pci_nvme_irq_msix"):
            if raise_.args.get("vector") != entry:
                continue
            nxt = msgs[bisect.bisect_left([m.pos for m in msgs], raise_.pos):][:1]
            if nxt and nxt[0].pos == raise_.pos + 1:
                out.append(nxt[0].args.get("data", 0) & MSI_DATA_VECTOR)
        return out

    def other_vectors(self, bdf, key) -> set:
        """Vectors other controllers claim, and the vectors the interrupt-remapping proofs
        declare they route a device's MSI-X to (`iommu: ir remapped|blocked irte_vector=`):
        the trace does not say which device raised an MSI-X, nor which test was running."""
        return {o.rec.number(key) for o in self.claims
                if o.rec.kind == "nvme: interrupts" and o.rec.fields.get("bdf") != bdf} | \
            {o.rec.number("irte_vector") for o in self.claims
             if o.rec.kind in ("iommu: ir remapped", "iommu: ir blocked")}

    def check_interrupts(self, c: Claim) -> None:
        """`nvme: interrupts`: until the next bring-up, entry 0 delivers admin_vector, entry 1 io_vector."""
        r = c.rec
        end = next((o.pos for o in self.claims[c.index + 1:] if o.rec.kind == "nvme: interrupts"
                    and o.rec.fields.get("bdf") == r.fields.get("bdf")), len(self.ev))
        if r.fields.get("mode") == "poll":
            if self.other_vectors(r.fields.get("bdf"), "io_vector") - {None}:
                return      # another controller's MSI-X: the trace cannot tell them apart
            c.witnessed = True
            raised = len(self.window(c.pos, end, "pci_nvme_irq_msix"))
            if raised:
                c.problems.append(f"mode=poll but the device raised {raised} MSI-X interrupt(s)")
            return
        for entry, key in ((ADMIN_MSIX_ENTRY, "admin_vector"), (IO_MSIX_ENTRY, "io_vector")):
            seen = self.deliveries(c.pos, end, entry)
            c.witnessed |= bool(seen)
            wrong = {v for v in seen if v != r.number(key)} - self.other_vectors(r.fields.get("bdf"), key)
            if wrong:
                c.problems.append(f"{key}=0x{_num(r, key, 0):02x} but MSI-X entry {entry} "
                                  "delivered vector(s) " + ",".join(f"0x{v:02x}" for v in sorted(wrong)))

    def check_iommu(self, c: Claim, index: int) -> None:
        r = c.rec
        kind = r.kind
        if not self.vtd:
            return
        if kind in ("iommu: enabled", "iommu: disabled"):
            c.witnessed = True
            want = 1 if kind == "iommu: enabled" else 0
            if not any(e.args.get("enable") == want
                       for e in self.window(c.start, c.pos, "vtd_dmar_enable")):
                c.problems.append(f"the IOMMU never switched translation {'on' if want else 'off'}")
        elif kind == "iommu: unmap":
            c.witnessed = True
            nxt = next((o.pos for o in self.claims[index + 1:]), len(self.ev))
            prev = self.claims[index - 1].pos if index else c.start
            if not self.invalidations(prev, nxt, r.number("domain"), r.number("iova")):
                c.problems.append(f"iova=0x{_num(r, 'iova', 0):x} unmapped but the IOMMU saw no "
                                  "IOTLB invalidation covering it")
        elif kind == "iommu: map":
            self.check_map(c, index)
        elif kind == "iommu: translation":
            c.witnessed = True
            iova, phys = _page(_num(r, "iova", 0)), _page(_num(r, "phys", 0))
            seen = [e for e in self.window(self.test_start(c), c.pos, "vtd_dmar_translate")
                    if _covers(e, iova)]
            if not seen:
                c.problems.append(f"the IOMMU translated no access to iova 0x{iova:x}")
            elif any(_page(_gpa_at(e, iova)) != phys for e in seen):
                c.problems.append(f"phys=0x{phys:x} but the IOMMU translated iova 0x{iova:x} to "
                                  f"0x{_page(_gpa_at(seen[0], iova)):x}")
        elif kind in ("iommu: blocked dma", "iommu: revoked dma"):
            c.witnessed = True
            iova = _page(_num(r, "iova", 0))
            # The blocked (or revoked) access is the read printed just before this line.
            lo = max((o.start for o in self.claims[:c.index] if o.rec.kind == "nvme: read"),
                     default=c.start)
            through = [e for e in self.window(lo, c.pos, "vtd_dmar_translate")
                       if _covers(e, iova) and e.args.get("sid") == _sid(r.fields.get("sid"))]
            if through:
                c.problems.append(f"iova 0x{iova:x} was translated to 0x{_gpa_at(through[0], iova):x}: "
                                  "the device reached memory")
            faults = [e for e in self.window(lo, c.pos, "vtd_dmar_fault")
                      if _page(e.args.get("addr", 0)) == iova]
            if _flag(r, "fault") != bool(faults):
                c.problems.append(f"fault={r.fields.get('fault')} but the IOMMU raised "
                                  f"{len(faults)} fault(s) at iova 0x{iova:x}")
        elif kind == "iommu: summary":
            c.witnessed = True
            dom = r.number("domain")
            attach = max((o.pos for o in self.claims if o.pos <= c.pos and o.rec.kind == "iommu: attach"
                          and o.rec.number("domain") == dom), default=self.tl.firmware_start)
            # The unmap path invalidates page-selectively (else the domain): the global
            # invalidations of enabling translation are not unmaps.
            invs = self.invalidations(attach, c.pos, dom, None, count_global=False)
            unmaps, claimed = r.number("unmaps"), r.number("invalidations")
            # One invalidation per unmap, or per batch of unmaps (invalidations=, since
            # batching); logs from before batching have no count and need one per unmap.
            need = unmaps if claimed is None else claimed
            if unmaps and claimed == 0:
                c.problems.append(f"unmaps={unmaps} with invalidations=0: nothing was revoked")
            if need is not None and invs < need:
                c.problems.append(f"{'invalidations' if claimed is not None else 'unmaps'}={need} "
                                  f"but the IOMMU saw only {invs} IOTLB invalidation(s) for domain {dom}")
            if r.number("stray_faults") == 0 and self.unreported_faults:
                c.problems.append(f"stray_faults=0 but the IOMMU raised {self.unreported_faults} "
                                  "fault(s) the firmware never reported")

    def invalidations(self, lo: int, hi: int, domain, iova, count_global: bool = True) -> int:
        """IOTLB invalidations in [lo, hi) covering the domain (and the IOVA when given)."""
        n = 0
        for e in self.window(lo, hi, "vtd_inv_desc_iotlb_pages", "vtd_inv_desc_iotlb_domain",
                             "vtd_inv_desc_iotlb_global"):
            if e.name == "vtd_inv_desc_iotlb_global":
                n += count_global
            elif domain is None or e.args.get("domain") == domain:
                if e.name == "vtd_inv_desc_iotlb_pages" and iova is not None:
                    span = PAGE << e.args.get("mask", 0)
                    base = e.args.get("addr", 0) & ~(span - 1)
                    if not base <= iova < base + span:
                        continue
                n += 1
        return n

    def check_map(self, c: Claim, index: int) -> None:
        r = c.rec
        iova, phys, size = _num(r, "iova", 0), _num(r, "phys", 0), _num(r, "size", 0)
        dom = r.number("domain")
        sid = next((_sid(o.rec.fields.get("sid")) for o in reversed(self.claims[:index])
                    if o.rec.kind == "iommu: attach" and o.rec.number("domain") == dom), None)
        end = next((o.pos for o in self.claims[index + 1:] if o.rec.kind in _MAP_ENDS
                    and o.rec.number("domain") in (None, dom)
                    and o.rec.number("iova") in (None, iova)), len(self.ev))
        flushed = [e.pos for e in self.window(c.pos, end, "vtd_inv_desc_iotlb_pages",
                                              "vtd_inv_desc_iotlb_domain", "vtd_inv_desc_iotlb_global")
                   if self.invalidations(e.pos, e.pos + 1, dom, iova)]
        end = min([end] + flushed)      # an invalidation of the IOVA ends what we know of it
        seen = [e for e in self.window(c.pos, end, "vtd_dmar_translate")
                if _span(e)[0] < iova + size and iova <= _span(e)[1] and e.args.get("sid") in (None, sid)]
        if not seen:
            return      # a mapping the device never used leaves no trace: unbacked
        c.witnessed = True
        for e in seen:
            first, last = _span(e)
            if first < iova or last >= iova + size:
                # A large (2 MiB) leaf is used only where the mapping covers all of it.
                c.problems.append(f"the IOMMU translated iova 0x{first:x}-0x{last:x} as one page: "
                                  f"more than the mapping 0x{iova:x}+0x{size:x} gave the device")
                break
            want = _page(phys + (first - iova))
            if _page(e.args.get("gpa", 0)) != want:
                c.problems.append(f"iova 0x{e.args['iova']:x} maps phys 0x{want:x} but the IOMMU "
                                  f"translated it to 0x{e.args.get('gpa', 0):x}")
                break

    def check_audit(self, c: Claim) -> None:
        r = c.rec
        if r.fields.get("backend") != "bounce-buffer":
            return
        c.witnessed = True
        outside = [n for n in self.report.notes if n.startswith("outside ledger")]
        if (_flag(r, "ok") or r.number("outside_pool") == 0) and outside:
            c.problems.append(f"outside_pool={r.number('outside_pool')} ok={r.fields.get('ok')} "
                              f"but the device used {len(outside)} address range(s) outside the pool")

    def check_unclaimed_errors(self) -> None:
        """A command the device failed must be owned by a claim that reports a failure."""
        reporting = [c for c in self.claims if c.rec.kind in
                     ("nvme: command failed", "nvme: negative", "bench: point failed",
                      "nvme: interrupt proof", "nvme: step failed", "nvme: identify namespace failed")
                     or (c.rec.kind == "nvme: read" and _num(c.rec, "status", 0))
                     # an isolation proof that expects the device to fail its command
                     or (c.rec.subsystem == "iommu" and c.rec.kind.endswith(" dma")
                         and _num(c.rec, "nvme_status", 0))]
        for e in self.by_name.get("pci_nvme_enqueue_req_completion", ()):
            if not e.args.get("status", 0) & NVME_STATUS_CODE:
                continue
            if not any(self.test_start(o) <= e.pos < o.pos for o in reporting):
                self.blame(e.pos, "the device failed a command the firmware reported nowhere: "
                                  f"{e.text.strip()}")

    def test_start(self, c: Claim) -> int:
        """Trace position of the `test: start` line of the test c belongs to."""
        return max((o.pos for o in self.claims[:c.index + 1] if o.rec.kind == "test: start"),
                   default=self.tl.firmware_start)

    def run(self) -> WitnessReport:
        self.check_ledger()
        self.check_faults()
        self.check_unclaimed_errors()
        for i, c in enumerate(self.claims):
            kind = c.rec.kind
            if kind == "nvme: read":
                self.check_read(c)
            elif kind == "bench: read":
                self.check_bench(c)
            elif kind == "nvme: negative":
                self.check_negative(c)
            elif kind == "nvme: command failed":
                self.check_command_failed(c)
            elif kind in ("nvme: identify controller", "nvme: identify namespace", "nvme: io queues",
                          "nvme: enable", "nvme: shutdown", "nvme: interrupt proof"):
                self.check_bring_up(c)
            elif kind.startswith("iommu: "):
                self.check_iommu(c, i)
            elif kind == "dma: audit":
                self.check_audit(c)
            elif kind == "nvme: interrupts":
                self.check_interrupts(c)
        rep = self.report
        for c in self.claims:
            rep.checked += 1
            if c.problems:
                rep.contradicted += 1
                rep.contradictions += [Contradiction(c.rec.lineno, c.rec.kind, f"{c.rec.kind}: {p}")
                                       for p in c.problems]
            elif c.witnessed:
                rep.backed += 1
            else:
                rep.unbacked += 1
                rep.unbacked_kinds[c.rec.kind] += 1
        rep.contradictions.sort(key=lambda x: (x.lineno or 0))
        return rep


def witness(log: prooflog.ProofLog, timeline: Timeline, disks=None, drives=None) -> WitnessReport:
    """Hold the log's proof lines against QEMU's trace."""
    if not timeline.lines:
        rep = WitnessReport()
        rep.contradictions.append(Contradiction(None, "trace", "the trace holds no console output "
                                                "(serial_write events missing): nothing witnessed"))
        return rep
    return Witness(log, timeline, disks, drives).run()


# ------------------------------------------------------------ matrix hooks

EXPECT_CLEAN = "clean"
EXPECT_CONTRADICTED = "contradicted"
EXPECTATIONS = (EXPECT_CLEAN, EXPECT_CONTRADICTED)
SHOWN_CONTRADICTIONS = 8


def witness_run(log, trace_path: str, disks, controllers) -> WitnessReport:
    """The matrix's call: controllers are qmatrix.Controller objects, in QEMU device order."""
    drives = {}
    for i, ctrl in enumerate(controllers):      # a subsystem's controllers may share a serial
        drives.setdefault(ctrl.serial, []).append(f"nvme{i}")
    try:
        timeline = parse_trace_file(trace_path)
    except OSError as e:
        rep = WitnessReport()
        rep.contradictions.append(Contradiction(None, "trace", f"no trace: {e}"))
        return rep
    return witness(log, timeline, disks, drives)


def judge(report: WitnessReport, expected: str) -> list:
    """Problems for the matrix: contradictions when the configuration expects a clean witness."""
    if expected == EXPECT_CONTRADICTED:
        return [] if report.contradictions else [
            "witness: expected a contradiction (matrix.toml witness = \"contradicted\") but the "
            "trace backs every claim: the defect is fixed, make the configuration expect clean"]
    shown = [c.format("console.log") for c in report.contradictions[:SHOWN_CONTRADICTIONS]]
    more = len(report.contradictions) - len(shown)
    return shown + ([f"witness: ... {more} more in witness.txt"] if more > 0 else [])


def write_report(path: str, report: WitnessReport) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for c in report.contradictions:
            f.write(c.format("console.log") + "\n")
        for kind, n in sorted(report.unbacked_kinds.items()):
            f.write(f"unbacked: {kind} x{n}\n")
        f.write(report.summary() + "\n")


# ----------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    import argparse
    from proofboot import proofcheck
    ap = argparse.ArgumentParser(
        prog="witness-check",
        description="Hold a console log's proof lines against the QEMU trace of the same run "
                    "(see docs/witness.md). Exit 0: no contradiction; 1: contradicted; 2: usage.")
    ap.add_argument("log", help="console log")
    ap.add_argument("trace", help="QEMU trace (-D file) written with the witness's events")
    ap.add_argument("--disk-map", help="disks.toml from the matrix run (CRCs against the images)")
    ap.add_argument("--drive", action="append", default=[], metavar="SERIAL=nvmeN",
                    help="which QEMU nvme device id a controller serial is")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the unbacked line kinds")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        log = prooflog.parse_file(args.log)
        timeline = parse_trace_file(args.trace)
        disks = proofcheck.DiskMap()
        if args.disk_map:
            disks.load_map(args.disk_map)
    except (OSError, proofcheck.ExpectationError) as e:
        print(f"witness-check: {e}", file=sys.stderr)
        return 2
    drives = dict(d.split("=", 1) for d in args.drive if "=" in d)
    rep = witness(log, timeline, disks, drives)
    for c in rep.contradictions:
        print(c.format(args.log))
    if args.verbose:
        for kind, n in sorted(rep.unbacked_kinds.items()):
            print(f"unbacked: {kind} x{n}")
    print(rep.summary())
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
