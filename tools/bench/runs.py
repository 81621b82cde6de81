"""Running the benchmark: the firmware and the Linux guest under QEMU, and qemu-img bench.

QEMU command lines come from python/proofboot/qmatrix.py (build_command), so the
firmware and the Linux guest see exactly the matrix's machine: q35, the
same nvme controller and namespace properties, the same image with
snapshot=on, and `-device intel-iommu` in the "iommu" variant.  The Linux
guest's command is the firmware's with `-cdrom ISO -boot d` replaced by
`-kernel/-initrd/-append`.

Every run writes into its own directory: console.log, cmd.sh,
qemu-output.txt and run.json (exit status, wall time, and when each kind of
console line first arrived, in seconds after QEMU was started: the host-side
boot-to-first-I/O figures come from there).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import time

from proofboot import diskimage
from proofboot import qmatrix
from bench import grid as gridmod
from bench import report

SERIAL = "pb-bench"
NSID = 1
LBA_SIZE = 512
DISK_SIZE = 64 * gridmod.MIB
DISK_SEED = "bench"
VARIANTS = ("no-iommu", "iommu")
IOMMU_DEVICE = "intel-iommu"
FW_MEMORY = "256M"
LINUX_MEMORY = "2G"          # fio holds qd x bs of buffers: 1023 x 512 KiB = 512 MiB
FW_OPTIONS = "tests=bench.* timeout=300"
# One vCPU, but room for a second: QEMU 7.2's TCG emits the guest's memory barriers
# (mfence, locked instructions) only when the machine may have more than one vCPU
# (CF_PARALLEL = MTTCG and smp.max_cpus > 1).  With -smp 1 it drops them, although
# the device models run in parallel in QEMU's main thread: Linux's shadow-doorbell
# handshake with the nvme device (write the shadow tail, mb, read the event index;
# the device does the mirror image) then loses doorbells and the controller stops
# completing until the driver's 30 s timeout (docs/benchmark.md).  QEMU 8.1 stopped
# eliding the barriers in system mode; maxcpus=2 gets the same on 7.2.
SMP = "1,maxcpus=2"
FW_TIMEOUT = 420.0
# Boot samples (docs/benchmark.md, "Boot to first I/O"): short extra boots per system and
# variant whose first-I/O arrival times join the full runs' in a median.  proofboot runs
# one backend's bench with the smallest transfer per point (bench: first-io is printed
# after the first read, before the points); Linux reads its first MiB, then the smallest
# fio grid the init script takes.
BOOT_SAMPLES = 3
SAMPLES_DIR = report.SAMPLES_DIR
SAMPLE_FW_OPTIONS = "tests=bench.read.bounce bench_bytes=4K timeout=120"
# fio counts its runtime in whole ms: a 1 ms run came back with runtime 0 in 2 of 6 boots.
SAMPLE_LINUX_BS, SAMPLE_LINUX_QD, SAMPLE_LINUX_MS = (4096,), (1,), 50
SAMPLE_TIMEOUT = 180.0
LINUX_TIMEOUT = 300.0
QEMU_IMG_TIMEOUT = 120.0
POLL_SECONDS = 0.01
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
KIND_WORDS = 4                           # a line's kind: at most its first 4 words
ISO_PLACEHOLDER = "@ISO@"
AIO_MODES = ("io_uring", "native")       # qemu-img bench -i, tried in this order
CEILING_CACHE = "none"
# Both ceilings: O_DIRECT ("none") and through the host page cache ("writeback", QEMU's
# default and so the guests' drive cache mode); the report takes the higher per point.
CEILING_CACHES = ("none", "writeback")


def ceiling_file(cache: str) -> str:
    """ceiling.json for O_DIRECT (the historical name), ceiling-<cache>.json for the others."""
    return "ceiling.json" if cache == CEILING_CACHE else f"ceiling-{cache}.json"


def disk_spec(size: int = DISK_SIZE) -> diskimage.DiskSpec:
    return diskimage.DiskSpec(size=size, lba_size=LBA_SIZE, seed=DISK_SEED, fill="all")


def bench_config(name: str, variant: str, spec: diskimage.DiskSpec, options: str,
                 memory: str, timeout: float) -> qmatrix.Config:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    ns = qmatrix.Namespace(nsid=NSID, lba_size=spec.lba_size, spec=spec)
    return qmatrix.Config(
        name=name, groups=("bench",), options=options, timeout=timeout, memory=memory,
        devices=(IOMMU_DEVICE,) if variant == "iommu" else (),
        qemu_args=("-net", "none", "-smp", SMP),
        controllers=[qmatrix.Controller(serial=SERIAL, namespaces=[ns])])


def kernel_boot(cmd: list, kernel: str, initrd: str, append: str) -> list:
    """The firmware's command with the ISO boot replaced by a direct kernel boot."""
    out = list(cmd)
    for i in range(len(out) - 3):
        if out[i] == "-cdrom" and out[i + 2:i + 4] == ["-boot", "d"]:
            return out[:i] + ["-kernel", kernel, "-initrd", initrd, "-append", append] + out[i + 4:]
    raise ValueError("no '-cdrom ISO -boot d' in the QEMU command")


# ------------------------------------------------------------------ timing

def line_kind(line: str) -> str:
    """What a console line is, for arrival times: its words before the first key=value."""
    words = []
    for word in line.split()[:KIND_WORDS]:
        if "=" in word:
            break
        words.append(word)
    return " ".join(words)[:80]


@dataclasses.dataclass
class TimedRun:
    exit_code: int | None
    timed_out: bool
    wall: float
    arrivals: dict            # line kind -> seconds after QEMU start, first arrival


def run_timed(cmd: list, timeout: float, log_path: str, output_path: str) -> TimedRun:
    """qmatrix.run_qemu, while a thread notes when each kind of console line first arrives."""
    arrivals = {}
    stop = threading.Event()
    start = time.monotonic()

    def watch():
        pos, pending = 0, b""
        while True:
            finished = stop.is_set()
            try:
                with open(log_path, "rb") as f:
                    f.seek(pos)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            if data:
                now = time.monotonic() - start
                pos += len(data)
                *complete, pending = (pending + data).split(b"\n")
                for raw in complete:
                    text = _ANSI_RE.sub("", raw.decode("latin-1"))
                    text = text.replace("\r", "").replace("\0", "")
                    arrivals.setdefault(line_kind(text), round(now, 3))
            if finished:
                return
            stop.wait(POLL_SECONDS)

    for stale in (log_path, output_path):
        if os.path.exists(stale):
            os.unlink(stale)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        code, timed_out, wall = qmatrix.run_qemu(cmd, timeout, output_path)
    finally:
        stop.set()
        watcher.join()
    arrivals.pop("", None)
    return TimedRun(code, timed_out, wall, arrivals)


def _write_run(out_dir: str, cmd: list, timeout: float, timed: TimedRun, extra: dict) -> dict:
    with open(os.path.join(out_dir, "cmd.sh"), "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\nexec timeout %g %s\n" % (timeout, " ".join(shlex.quote(a) for a in cmd)))
    record = {"exit_code": timed.exit_code, "timed_out": timed.timed_out,
              "wall_seconds": round(timed.wall, 3), "arrivals": timed.arrivals, **extra}
    with open(os.path.join(out_dir, "run.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record


# ------------------------------------------------------------- the two boots

def sample_name(prefix: str, variant: str, n: int) -> str:
    """A boot sample's run directory under the benchmark directory: boot-samples/fw-iommu-2."""
    return os.path.join(SAMPLES_DIR, f"{prefix}-{variant}-{n}")


def firmware_command(variant: str, iso: str, out_root: str, spec: diskimage.DiskSpec,
                     qemu: str = "qemu-system-x86_64", timeout: float = FW_TIMEOUT,
                     options: str = FW_OPTIONS, name: str = ""):
    """The firmware run's config, paths and QEMU command (name: its directory under out_root)."""
    config = bench_config(name or f"fw-{variant}", variant, spec, options, FW_MEMORY, timeout)
    paths = qmatrix.RunPaths(os.path.join(out_root, config.name), os.path.join(out_root, "disks"))
    return config, paths, qmatrix.build_command(config, iso, paths, qemu)


def run_firmware(variant: str, iso: str, out_root: str, spec: diskimage.DiskSpec,
                 qemu: str = "qemu-system-x86_64", timeout: float = FW_TIMEOUT,
                 options: str = FW_OPTIONS, name: str = "") -> dict:
    config, paths, cmd = firmware_command(variant, iso, out_root, spec, qemu, timeout, options, name)
    qmatrix.prepare(config, paths)
    timed = run_timed(cmd, timeout, paths.log, paths.qemu_output)
    return _write_run(paths.out_dir, cmd, timeout, timed,
                      {"system": "proofboot", "variant": variant, "options": options,
                       "image": qmatrix.image_path(config.controllers[0].namespaces[0], paths),
                       "lba_size": spec.lba_size})


def linux_command(variant: str, out_root: str, spec: diskimage.DiskSpec, kernel: str,
                  initrd: str, append: str, qemu: str = "qemu-system-x86_64",
                  timeout: float = LINUX_TIMEOUT, name: str = ""):
    config = bench_config(name or f"linux-{variant}", variant, spec, "", LINUX_MEMORY, timeout)
    paths = qmatrix.RunPaths(os.path.join(out_root, config.name), os.path.join(out_root, "disks"))
    cmd = qmatrix.build_command(config, ISO_PLACEHOLDER, paths, qemu)
    return config, paths, kernel_boot(cmd, kernel, initrd, append)


def run_linux(variant: str, out_root: str, spec: diskimage.DiskSpec, kernel: str, initrd: str,
              append: str, qemu: str = "qemu-system-x86_64",
              timeout: float = LINUX_TIMEOUT, name: str = "") -> dict:
    config, paths, cmd = linux_command(variant, out_root, spec, kernel, initrd, append, qemu,
                                       timeout, name)
    qmatrix.prepare(config, paths)
    timed = run_timed(cmd, timeout, paths.log, paths.qemu_output)
    return _write_run(paths.out_dir, cmd, timeout, timed,
                      {"system": "linux", "variant": variant, "kernel": kernel, "initrd": initrd,
                       "append": append,
                       "image": qmatrix.image_path(config.controllers[0].namespaces[0], paths),
                       "lba_size": spec.lba_size})


# ------------------------------------------------------------ qemu-img bench

def qemu_img_command(image: str, bs: int, qd: int, count: int, aio: str,
                     cache: str = CEILING_CACHE, qemu_img: str = "qemu-img") -> list:
    return [qemu_img, "bench", "-f", "raw", "-t", cache, "-i", aio, "-c", str(count),
            "-s", str(bs), "-d", str(qd), image]


def _qemu_img(cmd: list, timeout: float) -> tuple:
    try:
        r = subprocess.run(["timeout", f"{timeout:g}"] + cmd, capture_output=True, text=True)
    except OSError as e:
        return 127, str(e)
    return r.returncode, r.stdout + r.stderr


def pick_aio(image: str, qemu_img: str = "qemu-img", cache: str = CEILING_CACHE) -> str:
    """The first AIO mode a one-request qemu-img bench accepts on this host and image."""
    errors = []
    for aio in AIO_MODES:
        code, out = _qemu_img(qemu_img_command(image, LBA_SIZE, 1, 1, aio, cache, qemu_img), 30)
        if code == 0:
            return aio
        errors.append(f"{aio}: {out.strip()[-200:]}")
    raise RuntimeError("qemu-img bench runs with none of " + ", ".join(AIO_MODES) + ": "
                       + "; ".join(errors))


def run_ceiling(image: str, points: list, min_bytes: int, out_path: str,
                qemu_img: str = "qemu-img", cache: str = CEILING_CACHE,
                timeout: float = QEMU_IMG_TIMEOUT, log=print) -> dict:
    """qemu-img bench over [(bs, qd)]; writes and returns ceiling.json's content."""
    if shutil.which(qemu_img) is None:
        raise RuntimeError(f"{qemu_img} not found (Debian package qemu-utils)")
    aio = pick_aio(image, qemu_img, cache)
    results = []
    for bs, qd in points:
        count = gridmod.ceiling_count(bs, qd, min_bytes)
        cmd = qemu_img_command(image, bs, qd, count, aio, cache, qemu_img)
        code, out = _qemu_img(cmd, timeout)
        results.append({"bs": bs, "qd": qd, "count": count, "exit_code": code,
                        "cmd": " ".join(shlex.quote(a) for a in cmd), "output": out.strip()})
        log(f"bench: ceiling {gridmod.point_label(bs, str(qd))}: "
            + (out.strip().splitlines()[-1] if out.strip() else f"exit {code}"))
    record = {"image": image, "aio": aio, "cache": cache, "points": results}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record
