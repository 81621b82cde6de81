"""Parsers for the three sources of measurements.

- proofboot: `bench: read ...` proof lines in the firmware console log (via
  python/proofboot/prooflog.py), plus the firmware's boot-to-first-I/O line;
- Linux guest: the `guest: ...` lines our initramfs init prints on the
  serial console, fio's JSON result on one line per grid point;
- qemu-img bench: its "Run completed in X seconds." line.

MB/s and IOPS are always computed here from bytes and microseconds (MB/s =
bytes per microsecond, decimal megabytes), so the three sources are
compared the same way; the numbers a source prints itself are only
cross-checked.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib

from proofboot import prooflog
from bench import grid

PROOFBOOT = "proofboot"
LINUX = "linux"
CEILING = "ceiling"

# The firmware's boot-to-first-I/O line: a `bench:` record (not `bench: read`)
# whose event mentions "first", carrying microseconds in one of these keys.
FIRST_IO_KEYS = ("first_io_us", "us", "boot_us")
# Linux NVMe driver messages that make the guest's figures invalid.
DRIVER_TROUBLE = ("timeout", "abort", "reset", "i/o error")
# A printed MB/s or IOPS figure may differ from bytes/us by rounding only.
CLAIM_TOLERANCE = 0.01


@dataclasses.dataclass
class Measurement:
    system: str                 # PROOFBOOT | LINUX | CEILING
    variant: str                # machine variant: "no-iommu", "iommu", or "host" (ceiling)
    backend: str                # firmware DMA backend; Linux: "dma-api"; ceiling: the aio mode
    bs: int                     # bytes per request
    qd: int                     # requests in flight
    bytes: int                  # data moved
    us: float                   # elapsed microseconds
    label: str = ""             # depth label in the report ("1", "32", "max"); set by label_depths
    problems: list = dataclasses.field(default_factory=list)
    source: str = ""            # where it came from ("console.log:123")
    cache: str = ""             # ceiling only: qemu-img bench -t (none = O_DIRECT, writeback = page cache)
    buffer: str = ""            # proofboot only: where it read into, "device" (DMA memory, no
                                # per-transfer map or copy) or "caller" (mapped per transfer)

    @property
    def mbps(self) -> float:
        return self.bytes / self.us if self.us > 0 else 0.0

    @property
    def iops(self) -> float:
        return (self.bytes / self.bs) / (self.us / 1e6) if self.us > 0 and self.bs else 0.0

    @property
    def seconds(self) -> float:
        return self.us / 1e6


def label_depths(measurements: list, fixed=(1, 32)) -> None:
    """Set each measurement's depth label; "max" is the largest depth of its (system, variant).

    A label the firmware printed (qd_label: the depth it asked for, when a
    backend limit kept the reached qd lower) is kept as it is, so two grid
    points that reached the same depth stay two rows."""
    largest = {}
    for m in measurements:
        key = (m.system, m.variant, m.backend)
        largest[key] = max(largest.get(key, 0), m.qd)
    for m in measurements:
        if not m.label:
            m.label = grid.depth_label(m.qd, largest[(m.system, m.variant, m.backend)], fixed)


def _close(claimed: float, computed: float) -> bool:
    return abs(claimed - computed) <= max(1.0, CLAIM_TOLERANCE * computed)


# ------------------------------------------------------------------ proofboot

@dataclasses.dataclass
class FirmwareRun:
    variant: str
    measurements: list
    first_io_us: int | None = None          # the firmware's own boot-to-first-I/O figure
    first_io_line: str = ""                 # kind of that line, to look up its host arrival time
    verdict: str | None = None
    problems: list = dataclasses.field(default_factory=list)


_READ_KEYS = ("bs", "qd", "backend", "bytes", "us")
# bench: read buffer=: the firmware read into device memory, or into caller memory mapped per transfer.
BUFFERS = ("device", "caller")


def parse_firmware(log: prooflog.ProofLog, variant: str, image: str | None = None,
                   lba_size: int = 512) -> FirmwareRun:
    """bench: read lines -> Measurements; checks sample CRCs against image when given."""
    run = FirmwareRun(variant=variant, measurements=[])
    where = log.path or "console.log"
    for m in log.malformed:
        if m.raw.startswith("bench: "):
            run.problems.append(f"{where}:{m.lineno}: malformed bench line ({m.reason})")
    for rec in log.records:
        if rec.subsystem != "bench":
            continue
        if rec.event == "read":
            meas = _firmware_point(rec, variant, where, image, lba_size, run.problems)
            if meas:
                run.measurements.append(meas)
        elif "first" in rec.event and run.first_io_us is None:
            for key in FIRST_IO_KEYS:
                if rec.number(key) is not None:
                    run.first_io_us = rec.number(key)
                    run.first_io_line = rec.kind
                    break
    verdicts = log.find("proofboot", "verdict")
    run.verdict = verdicts[-1].fields.get("status") if verdicts else None
    if not run.measurements:
        run.problems.append(f"{where}: no bench: read line")
    return run


def _firmware_point(rec, variant, where, image, lba_size, problems) -> Measurement | None:
    at = f"{where}:{rec.lineno}"
    missing = [k for k in _READ_KEYS if k not in rec.fields]
    numbers = {k: rec.number(k) for k in ("bs", "qd", "bytes", "us")}
    if missing or any(v is None for v in numbers.values()):
        problems.append(f"{at}: bench: read line lacks or garbles {missing or 'a number'}")
        return None
    if numbers["us"] <= 0 or numbers["bs"] <= 0:
        problems.append(f"{at}: bench: read with us={numbers['us']} bs={numbers['bs']}")
        return None
    meas = Measurement(PROOFBOOT, variant, rec.fields["backend"], numbers["bs"], numbers["qd"],
                       numbers["bytes"], float(numbers["us"]), source=at,
                       label=rec.fields.get("qd_label", ""), buffer=rec.fields.get("buffer", ""))
    if meas.buffer and meas.buffer not in BUFFERS:
        meas.problems.append(f"{at}: buffer={meas.buffer}, not one of {'|'.join(BUFFERS)}")
    for key, computed in (("mbps", meas.mbps), ("iops", meas.iops)):
        claimed = rec.number(key)
        if claimed is not None and not _close(claimed, computed):
            meas.problems.append(f"{at}: {key}={claimed} but bytes/us gives {computed:.1f}")
    if image:
        crc_problem = _check_sample(rec, image, rec.number("lba_size") or lba_size)
        if crc_problem:
            meas.problems.append(f"{at}: {crc_problem}")
    problems.extend(meas.problems)
    return meas


def _check_sample(rec, image: str, lba_size: int) -> str | None:
    slba, blocks, crc = rec.number("sample_lba"), rec.number("sample_blocks"), rec.number("crc32")
    if slba is None or blocks is None or crc is None:
        return "no sample_lba/sample_blocks/crc32 to check the data"
    try:
        with open(image, "rb") as f:
            f.seek(slba * lba_size)
            data = f.read(blocks * lba_size)
    except OSError as e:
        return f"cannot read {image}: {e}"
    if len(data) != blocks * lba_size:
        return f"sample LBAs [{slba}, {slba + blocks}) are past the end of {image}"
    if zlib.crc32(data) != crc:
        return (f"sample crc32=0x{crc:08x} but the image's LBAs [{slba}, {slba + blocks}) "
                f"give 0x{zlib.crc32(data):08x}")
    return None


# ---------------------------------------------------------------- Linux guest

@dataclasses.dataclass
class GuestRun:
    variant: str
    measurements: list
    uptime: dict = dataclasses.field(default_factory=dict)   # event -> guest seconds since boot
    info: dict = dataclasses.field(default_factory=dict)     # event -> {key: value}
    dmesg: list = dataclasses.field(default_factory=list)   # DMAR/IOMMU kernel messages
    kmsg: list = dataclasses.field(default_factory=list)    # NVMe driver messages, at the end
    done: bool = False
    problems: list = dataclasses.field(default_factory=list)


_GUEST_RE = re.compile(r"guest: ([a-z0-9-]+)(.*)")
_FIELD_RE = re.compile(r"([a-z_0-9]+)=(\S*)")


def guest_fields(rest: str) -> dict:
    return dict(_FIELD_RE.findall(rest))


def parse_guest(text: str, variant: str, where: str = "console.log") -> GuestRun:
    """The Linux guest's console: guest lines, fio JSON points, DMAR lines."""
    run = GuestRun(variant=variant, measurements=[])
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _GUEST_RE.search(line.replace("\r", ""))
        if not m:
            continue
        event, rest = m.group(1), m.group(2).strip()
        at = f"{where}:{lineno}"
        if event == "fio":
            _guest_fio(rest, variant, at, run)
            continue
        if event in ("dmesg", "kmsg"):
            getattr(run, event).append(rest)
            continue
        fields = guest_fields(rest)
        if event not in run.info:
            run.info[event] = fields
        if "uptime" in fields and event not in run.uptime:
            try:
                run.uptime[event] = float(fields["uptime"])
            except ValueError:
                pass
        if event == "done":
            run.done = True
        elif event in ("error", "fio-failed"):
            run.problems.append(f"{at}: {line.strip()}")
    trouble = [k for k in run.kmsg if any(w in k.lower() for w in DRIVER_TROUBLE)]
    if trouble:
        run.problems.append(f"{where}: the guest's NVMe driver reported {len(trouble)} "
                            f"timeout/abort/reset/error message(s), e.g. {trouble[0]!r}: "
                            "figures from then on are not valid")
    if not run.done:
        run.problems.append(f"{where}: the guest never printed 'guest: done' (crash or timeout)")
    if not run.measurements:
        run.problems.append(f"{where}: no fio result")
    return run


def _guest_fio(rest: str, variant: str, at: str, run: GuestRun) -> None:
    head, sep, payload = rest.partition("json=")
    fields = guest_fields(head)
    try:
        bs, qd = int(fields["bs"]), int(fields["qd"])
        doc = json.loads(payload)
        meas = fio_measurement(doc, variant, bs, qd)
    except (KeyError, ValueError, IndexError, TypeError) as e:
        run.problems.append(f"{at}: unreadable fio result ({type(e).__name__}: {e})")
        return
    meas.source = at
    run.measurements.append(meas)


def fio_measurement(doc: dict, variant: str, bs: int, qd: int) -> Measurement:
    """One fio JSON document (one job) -> Measurement; fio's own figures are cross-checked."""
    job = doc["jobs"][0]
    read = job["read"]
    runtime_ms = float(read["runtime"])
    if runtime_ms <= 0:
        raise ValueError("fio read runtime is 0")
    meas = Measurement(LINUX, variant, "dma-api", bs, qd, int(read["io_bytes"]), runtime_ms * 1000)
    if job.get("error"):
        meas.problems.append(f"fio job error {job['error']}")
    if not _close(float(read["iops"]), meas.iops):
        meas.problems.append(f"fio iops={read['iops']} but io_bytes/runtime gives {meas.iops:.1f}")
    return meas


# ------------------------------------------------------------ qemu-img bench

_COMPLETED_RE = re.compile(r"Run completed in ([0-9.]+) seconds")


def parse_qemu_img(output: str) -> float:
    """Seconds from qemu-img bench's output."""
    m = _COMPLETED_RE.search(output)
    if not m:
        raise ValueError("no 'Run completed in N seconds' in qemu-img bench output: "
                         + output.strip()[-200:])
    return float(m.group(1))


def ceiling_measurement(output: str, bs: int, qd: int, count: int, aio: str,
                        cache: str = "none") -> Measurement:
    seconds = parse_qemu_img(output)
    meas = Measurement(CEILING, "host", aio, bs, qd, bs * count, seconds * 1e6, cache=cache)
    if seconds <= 0:
        # qemu-img prints milliseconds: a run this short cannot be timed.
        meas.us = 1.0
        meas.problems.append("qemu-img bench finished in under 1 ms: too short to time")
    return meas
