"""Synthetic benchmark logs in the real shapes, for the smoke run and the tests.

The data they claim is consistent with a real image (sample CRCs and the
first-I/O md5 are computed from it), so the report's validity checks pass
on them; the speeds are invented and labelled as such wherever used.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib

from bench import measure
from bench import report

SYNTH_FIRST_IO_US = 612_000
SAMPLE_BLOCKS = 8
SAMPLE_POINTS = [(4096, 1)]             # a boot sample's grid (runs.SAMPLE_*)
FW_FIRST_IO_LINE, LINUX_FIRST_IO_LINE = "bench: first-io", "guest: first-io"
FW_EXIT, LINUX_EXIT = 33, 0
# Invented host-clock first-I/O arrivals (s) of the smoke: the full run's, then three boot
# samples' (an even count: the median is the mean of the middle two).
SMOKE_BOOTS = {measure.PROOFBOOT: (0.71, 0.64, 0.83, 0.58),
               measure.LINUX: (4.2, 3.9, 4.6, 4.05)}
GUEST_SAMPLE_BYTES = 1 << 20


def _crc(image: str, slba: int, blocks: int, lba_size: int) -> int:
    with open(image, "rb") as f:
        f.seek(slba * lba_size)
        return zlib.crc32(f.read(blocks * lba_size))


def bench_read_line(bs: int, qd: int, backend: str, total: int, us: int, crc: int,
                    sample_lba: int, sample_blocks: int = SAMPLE_BLOCKS,
                    buffer: str = "device") -> str:
    mbps = total // us if us else 0
    iops = (total // bs) * 1_000_000 // us if us else 0
    return (f"bench: read bs={bs} qd={qd} backend={backend} bytes={total} us={us} mbps={mbps} "
            f"iops={iops} crc32=0x{crc:08x} sample_lba={sample_lba} sample_blocks={sample_blocks} "
            f"buffer={buffer}")


def firmware_log(image: str, lba_size: int, variant: str, points: list, mbps: float,
                 max_qd: int = 64) -> str:
    """A console log of a bench run: start, first-io, one read line per (bs, qd), verdict."""
    backend = "direct-remapping" if variant == "iommu" else "bounce-buffer"
    lines = ["proofboot: start version=synthetic schema=1 multiboot2=true",
             f"bench: first-io us={SYNTH_FIRST_IO_US}"]
    for i, (bs, qd) in enumerate(points):
        qd = max_qd if qd == "max" else qd
        total = max(bs * 4, 1 << 20)
        us = max(1, int(total / mbps))
        slba = i * SAMPLE_BLOCKS
        lines.append(bench_read_line(bs, qd, backend, total, us,
                                     _crc(image, slba, SAMPLE_BLOCKS, lba_size), slba))
    lines.append("test: result name=bench.read status=PASS duration_us=1 reason=")
    lines.append("proofboot: verdict status=PASS passed=1 failed=0 skipped=0")
    return "\n".join(lines) + "\n"


def fio_json(bs: int, qd: int, io_bytes: int, runtime_ms: int) -> dict:
    """The part of fio 3.33's JSON output the parser reads."""
    iops = (io_bytes / bs) / (runtime_ms / 1000)
    return {"fio version": "fio-3.33", "jobs": [{
        "jobname": "p", "error": 0, "job options": {"bs": str(bs), "iodepth": str(qd)},
        "read": {"io_bytes": io_bytes, "bw_bytes": int(io_bytes / (runtime_ms / 1000)),
                 "iops": iops, "runtime": runtime_ms, "total_ios": io_bytes // bs}}]}


def guest_log(image: str, variant: str, points: list, mbps: float, max_qd: int = 1023) -> str:
    """A console log of the Linux guest in the shape guest.INIT_SCRIPT prints."""
    with open(image, "rb") as f:
        md5 = hashlib.md5(f.read(GUEST_SAMPLE_BYTES)).hexdigest()
    iommu = variant == "iommu"
    lines = ["[    0.000000] Linux version 6.1.0-synthetic",
             "guest: start uptime=1.80 kernel=6.1.0-synthetic",
             f"guest: nvme-ready uptime=2.10 scheduler=none nr_requests={max_qd} "
             "max_hw_sectors_kb=512 lba_size=512 sectors=16384",
             f"guest: first-io uptime=2.15 offset=0 bytes={GUEST_SAMPLE_BYTES} md5={md5}",
             f"guest: iommu pci=0000:00:02.0 group={2 if iommu else 'none'} "
             f"type={'DMA-FQ' if iommu else 'none'}"]
    if iommu:
        lines.append(f"guest: dmesg [    1.990406] {report.DMAR_ENABLED}")
    for bs, qd in points:
        qd = max_qd if qd == "max" else qd
        runtime_ms = 1000
        doc = fio_json(bs, qd, int(mbps * 1e6 * runtime_ms / 1000) // bs * bs, runtime_ms)
        lines.append(f"guest: fio bs={bs} qd={qd} json={json.dumps(doc)}")
    lines.append("guest: done uptime=9.00")
    return "\n".join(lines) + "\n"


def write_run(run_dir: str, log: str, exit_code: int, image: str, lba_size: int,
              arrivals: dict) -> None:
    """A run directory as runs.py leaves it: console.log and run.json."""
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "console.log"), "w", encoding="utf-8") as f:
        f.write(log)
    with open(os.path.join(run_dir, "run.json"), "w", encoding="utf-8") as f:
        json.dump({"exit_code": exit_code, "timed_out": False, "wall_seconds": 0,
                   "arrivals": arrivals, "image": image, "lba_size": lba_size}, f)


def write_boot_samples(out_dir: str, image: str, lba_size: int, variant: str,
                       fw_seconds: list, linux_seconds: list) -> None:
    """Boot sample directories (boot-samples/fw-<variant>-<n>, linux-...) whose first-I/O
    lines "arrived" at the given invented host times; None: that boot never printed it."""
    for prefix, seconds, line, code in (("fw", fw_seconds, FW_FIRST_IO_LINE, FW_EXIT),
                                        ("linux", linux_seconds, LINUX_FIRST_IO_LINE, LINUX_EXIT)):
        for n, arrived in enumerate(seconds, 1):
            if prefix == "fw":
                log = firmware_log(image, lba_size, variant, SAMPLE_POINTS, 100.0)
            else:
                log = guest_log(image, variant, SAMPLE_POINTS, 100.0)
            if arrived is None:
                log = "\n".join(x for x in log.splitlines() if not x.startswith(line)) + "\n"
            write_run(os.path.join(out_dir, report.SAMPLES_DIR, f"{prefix}-{variant}-{n}"), log,
                      code, image, lba_size, {} if arrived is None else {line: arrived})
