"""Merge the benchmark runs into one table, CSV files and a PNG chart.

Input is a benchmark directory as `tools/bench run` leaves it:

  fw-<variant>/console.log + run.json      proofboot (variant: no-iommu, iommu)
  linux-<variant>/console.log + run.json   the Linux guest running fio
  ceiling.json                              qemu-img bench on the same image
  boot-samples/{fw,linux}-<variant>-<n>/    short boots: more first-I/O samples (medians)

Rows are (variant, firmware backend, block size, depth label).  The ceiling
has no variant: the same ceiling row is shown under both.  Ratios are
proofboot MB/s over Linux MB/s and over the ceiling's (at equal block size
MB/s and IOPS ratios are the same).  Nothing here judges speed: problems
are only about validity (a run that crashed, data that does not match the
image, an IOMMU variant that did not really use the IOMMU, ...).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os

from proofboot import prooflog
from bench import grid as gridmod
from bench import measure
from bench import targets as targetsmod

VARIANTS = ("no-iommu", "iommu")
SYSTEMS = (measure.PROOFBOOT, measure.LINUX, measure.CEILING)
SYSTEM_TITLES = {measure.PROOFBOOT: "proofboot", measure.LINUX: "Linux+fio",
                 measure.CEILING: "qemu-img bench"}
# The line Linux prints once VT-d DMA remapping is really on.
DMAR_ENABLED = "DMAR: Intel(R) Virtualization Technology for Directed I/O"
TRANSLATED_DOMAINS = ("DMA", "DMA-FQ")
NO_BACKEND = "-"
# ceiling.json is qemu-img bench -t none (O_DIRECT); these are read beside it when present.
CEILING_EXTRA_CACHES = ("writeback",)
SAMPLES_DIR = "boot-samples"   # short extra boots for the boot-to-first-I/O median (runs.py)
MEDIAN = "median"               # boot.csv: the median row of a system and variant
FULL_RUN = "run"                # BootFigure.sample of the full run's own first-I/O arrival
HELLO_FILE = "hello.json"       # the default run against a bare GRUB hello ISO (bench/hello.py)


@dataclasses.dataclass
class BootFigure:
    system: str
    variant: str
    event: str          # "first I/O", "NVMe ready", ...
    seconds: float
    clock: str          # "host: since QEMU start" | "guest: since kernel start" | "firmware"
    sample: str = ""    # host first I/O: "run" (the full run) or "1".."N" (a boot sample)


@dataclasses.dataclass
class BenchData:
    measurements: list = dataclasses.field(default_factory=list)
    boot: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    invalid_linux: set = dataclasses.field(default_factory=set)  # variants whose Linux run failed a check
    hello_pairs: list | None = None     # hello.json's pairs, when the GRUB hello comparison ran


@dataclasses.dataclass
class Row:
    variant: str
    backend: str
    bs: int
    label: str
    cells: dict         # system -> Measurement | None

    def ratio(self, other: str) -> float | None:
        mine, theirs = self.cells.get(measure.PROOFBOOT), self.cells.get(other)
        if mine is None or theirs is None or theirs.mbps <= 0:
            return None
        return mine.mbps / theirs.mbps


# ------------------------------------------------------------------- loading

# What the firmware's buffer= says it measured (docs/benchmark.md, "The firmware's lines").
BUFFER_MEANINGS = {
    "device": "DMA memory the backend gave once: no per-transfer map, copy or invalidation",
    "caller": "ordinary memory mapped per transfer: bounce copy, or page tables and an invalidation",
    "unstated": "the line has no buffer= key (older firmware: caller memory)",
}

def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError:
        return None
    except ValueError as e:
        raise ValueError(f"{path}: {e}")


def _run_problems(run: dict, where: str, expect_exit) -> list:
    out = []
    if run.get("timed_out"):
        out.append(f"{where}: timed out after {run.get('wall_seconds')} s")
    elif run.get("exit_code") not in expect_exit:
        out.append(f"{where}: QEMU exited {run.get('exit_code')} (expected {expect_exit})")
    return out


def load_firmware(data: BenchData, run_dir: str, variant: str) -> None:
    run = _read_json(os.path.join(run_dir, "run.json")) or {}
    log_path = os.path.join(run_dir, "console.log")
    if not os.path.exists(log_path):
        data.problems.append(f"{run_dir}: no console.log (proofboot did not run)")
        return
    log = prooflog.parse_file(log_path)
    fw = measure.parse_firmware(log, variant, run.get("image"), run.get("lba_size", 512))
    data.measurements += fw.measurements
    data.problems += firmware_problems(fw, run, run_dir)
    if fw.first_io_us is not None:
        data.boot.append(BootFigure(measure.PROOFBOOT, variant, "first I/O", fw.first_io_us / 1e6,
                                    "firmware's own clock"))
        arrived = run.get("arrivals", {}).get(fw.first_io_line)
        if arrived is not None:
            data.boot.append(BootFigure(measure.PROOFBOOT, variant, "first I/O", arrived,
                                        targetsmod.HOST_CLOCK, FULL_RUN))
    backends = sorted({m.backend for m in fw.measurements})
    if backends:
        data.notes.append(f"proofboot {variant}: backend {', '.join(backends)}")
    for backend in backends:
        buffers = sorted({m.buffer or "unstated" for m in fw.measurements if m.backend == backend})
        data.notes.append(f"proofboot {variant} {backend}: read into {', '.join(buffers)} "
                          f"memory ({'; '.join(BUFFER_MEANINGS.get(b, b) for b in buffers)})")


def load_linux(data: BenchData, run_dir: str, variant: str) -> None:
    run = _read_json(os.path.join(run_dir, "run.json")) or {}
    log_path = os.path.join(run_dir, "console.log")
    try:
        with open(log_path, "rb") as f:
            text = f.read().decode("latin-1")
    except OSError:
        data.problems.append(f"{run_dir}: no console.log (the Linux guest did not run)")
        return
    guest = measure.parse_guest(text, variant, log_path)
    data.measurements += guest.measurements
    problems = linux_problems(guest, run, run_dir, variant)
    if problems:
        data.invalid_linux.add(variant)
    data.problems += problems
    arrivals = run.get("arrivals", {})
    for event, title in (("nvme-ready", "NVMe ready"), ("first-io", "first I/O")):
        if f"guest: {event}" in arrivals:
            data.boot.append(BootFigure(measure.LINUX, variant, title, arrivals[f"guest: {event}"],
                                        targetsmod.HOST_CLOCK,
                                        FULL_RUN if title == targetsmod.FIRST_IO else ""))
        if event in guest.uptime:
            data.boot.append(BootFigure(measure.LINUX, variant, title, guest.uptime[event],
                                        "guest: since kernel start"))
    ready = guest.info.get("nvme-ready", {})
    iommu = guest.info.get("iommu", {})
    data.notes.append(f"Linux {variant}: kernel {guest.info.get('start', {}).get('kernel', '?')}, "
                      f"scheduler {ready.get('scheduler', '?')}, nr_requests "
                      f"{ready.get('nr_requests', '?')}, iommu domain {iommu.get('type', '?')}")


def firmware_problems(fw: measure.FirmwareRun, run: dict, run_dir: str) -> list:
    """Every validity check of a proofboot run: its lines, exit status, verdict."""
    problems = fw.problems + (_run_problems(run, run_dir, (33,)) if run else [])
    if fw.verdict not in (None, "PASS"):
        problems.append(f"{os.path.join(run_dir, 'console.log')}: proofboot verdict {fw.verdict}")
    return problems


def linux_problems(guest: measure.GuestRun, run: dict, run_dir: str, variant: str) -> list:
    """Every validity check of a Linux run: exit, driver trouble, IOMMU domain, first-MiB md5, fio."""
    log_path = os.path.join(run_dir, "console.log")
    problems = guest.problems + (_run_problems(run, run_dir, (0,)) if run else [])
    problems += iommu_problems(guest, variant, log_path)
    problems += sample_problems(guest, run.get("image"), log_path)
    return problems + [p for m in guest.measurements for p in m.problems]


# ------------------------------------------------------------- boot samples

def _sample_dirs(out_dir: str, prefix: str, variant: str) -> list:
    """(n, run dir) of the boot samples of one system and variant, in boot order."""
    root = os.path.join(out_dir, SAMPLES_DIR)
    found = []
    for name in os.listdir(root) if os.path.isdir(root) else ():
        head, _, n = name.rpartition("-")
        if head == f"{prefix}-{variant}" and n.isdigit():
            found.append((int(n), os.path.join(root, name)))
    return sorted(found)


def firmware_sample(run_dir: str, variant: str) -> tuple:
    """(host seconds to `bench: first-io` or None, problems) of a proofboot boot sample."""
    run = _read_json(os.path.join(run_dir, "run.json")) or {}
    log_path = os.path.join(run_dir, "console.log")
    if not os.path.exists(log_path):
        return None, [f"{run_dir}: no console.log (the boot sample did not run)"]
    fw = measure.parse_firmware(prooflog.parse_file(log_path), variant, run.get("image"),
                                run.get("lba_size", 512))
    problems = firmware_problems(fw, run, run_dir)
    arrived = run.get("arrivals", {}).get(fw.first_io_line) if fw.first_io_line else None
    if arrived is None:
        problems.append(f"{log_path}: no bench: first-io line arrived (not a boot sample)")
    return (None if problems else arrived), problems


def linux_sample(run_dir: str, variant: str) -> tuple:
    """(host seconds to `guest: first-io` or None, problems) of a Linux boot sample."""
    run = _read_json(os.path.join(run_dir, "run.json")) or {}
    try:
        with open(os.path.join(run_dir, "console.log"), "rb") as f:
            text = f.read().decode("latin-1")
    except OSError:
        return None, [f"{run_dir}: no console.log (the boot sample did not run)"]
    guest = measure.parse_guest(text, variant, os.path.join(run_dir, "console.log"))
    problems = linux_problems(guest, run, run_dir, variant)
    arrived = run.get("arrivals", {}).get("guest: first-io")
    if arrived is None:
        problems.append(f"{run_dir}: no guest: first-io line arrived (not a boot sample)")
    return (None if problems else arrived), problems


def load_boot_samples(data: BenchData, out_dir: str, variant: str) -> None:
    """Each boot sample's first-I/O arrival; one with a problem is reported and left out."""
    for system, prefix, reader in ((measure.PROOFBOOT, "fw", firmware_sample),
                                   (measure.LINUX, "linux", linux_sample)):
        for n, run_dir in _sample_dirs(out_dir, prefix, variant):
            seconds, problems = reader(run_dir, variant)
            data.problems += problems
            if seconds is not None:
                data.boot.append(BootFigure(system, variant, targetsmod.FIRST_IO, seconds,
                                            targetsmod.HOST_CLOCK, str(n)))


def iommu_problems(guest: measure.GuestRun, variant: str, where: str) -> list:
    """The IOMMU variant must really translate the NVMe device's DMA; the other must not."""
    domain = guest.info.get("iommu", {}).get("type")
    enabled = any(DMAR_ENABLED in line for line in guest.dmesg)
    if variant == "iommu" and (domain not in TRANSLATED_DOMAINS or not enabled):
        return [f"{where}: iommu variant but the NVMe device's IOMMU domain is {domain!r} and "
                f"dmesg {'has' if enabled else 'lacks'} {DMAR_ENABLED!r}"]
    if variant != "iommu" and domain not in (None, "none"):
        return [f"{where}: no-iommu variant but the NVMe device is in an IOMMU domain {domain!r}"]
    return []


def sample_problems(guest: measure.GuestRun, image: str | None, where: str) -> list:
    """The guest's first read (an md5 of the image's first bytes) must match the image."""
    sample = guest.info.get("first-io", {})
    if not image or "md5" not in sample:
        return [] if not image else [f"{where}: no first-io md5 to check the data"]
    try:
        offset, size = int(sample.get("offset", 0)), int(sample.get("bytes", 0))
        with open(image, "rb") as f:
            f.seek(offset)
            digest = hashlib.md5(f.read(size)).hexdigest()
    except (OSError, ValueError) as e:
        return [f"{where}: cannot check the first-io sample: {e}"]
    if digest != sample["md5"]:
        return [f"{where}: the guest read md5 {sample['md5']} but the image gives {digest}"]
    return []


def load_ceiling(data: BenchData, path: str, required: bool = True) -> None:
    record = _read_json(path)
    if record is None:
        if required:
            data.problems.append(f"{path}: missing (qemu-img bench did not run)")
        else:
            data.notes.append(f"ceiling: {os.path.basename(path)} not measured")
        return
    for point in record.get("points", []):
        where = f"{path}: {gridmod.point_label(point['bs'], str(point['qd']))}"
        if point.get("exit_code") != 0:
            data.problems.append(f"{where}: qemu-img bench exited {point.get('exit_code')}: "
                                 f"{point.get('output', '')[-200:]}")
            continue
        try:
            meas = measure.ceiling_measurement(point["output"], point["bs"], point["qd"],
                                               point["count"], record.get("aio", "?"),
                                               record.get("cache", "none"))
        except ValueError as e:
            data.problems.append(f"{where}: {e}")
            continue
        meas.source = path
        data.problems += [f"{where}: {p}" for p in meas.problems]
        data.measurements.append(meas)
    data.notes.append(f"ceiling: qemu-img bench -t {record.get('cache')} -i {record.get('aio')} "
                      f"on {record.get('image')}")


def load(out_dir: str) -> BenchData:
    data = BenchData()
    for variant in VARIANTS:
        for prefix, loader in (("fw", load_firmware), ("linux", load_linux)):
            run_dir = os.path.join(out_dir, f"{prefix}-{variant}")
            if os.path.isdir(run_dir):
                loader(data, run_dir, variant)
            else:
                data.problems.append(f"{run_dir}: missing")
        load_boot_samples(data, out_dir, variant)
    load_ceiling(data, os.path.join(out_dir, "ceiling.json"))
    for cache in CEILING_EXTRA_CACHES:
        load_ceiling(data, os.path.join(out_dir, f"ceiling-{cache}.json"), required=False)
    hello = _read_json(os.path.join(out_dir, HELLO_FILE))
    if hello is not None:
        data.hello_pairs = hello.get("pairs", [])
    measure.label_depths(data.measurements)
    return data


# ---------------------------------------------------------------------- rows

def _label_order(label: str) -> tuple:
    return (2, 0) if label == gridmod.MAX else (1, int(label)) if label.isdigit() else (3, 0)


def best_ceilings(measurements: list) -> dict:
    """(bs, label) -> the fastest ceiling measurement over the cache modes: the honest ceiling."""
    best = {}
    for m in measurements:
        if m.system == measure.CEILING:
            key = (m.bs, m.label)
            if key not in best or m.mbps > best[key].mbps:
                best[key] = m
    return best


def build_rows(measurements: list) -> list:
    ceiling = best_ceilings(measurements)
    rows = []
    for variant in VARIANTS:
        mine = [m for m in measurements if m.variant == variant]
        if not mine:
            continue
        fw = [m for m in mine if m.system == measure.PROOFBOOT]
        linux = {(m.bs, m.label): m for m in mine if m.system == measure.LINUX}
        backends = sorted({m.backend for m in fw}) or [NO_BACKEND]
        for backend in backends:
            fw_cells = {(m.bs, m.label): m for m in fw if m.backend == backend}
            keys = set(fw_cells) | set(linux) | (set(ceiling) if fw_cells or linux else set())
            for bs, label in sorted(keys, key=lambda k: (k[0], _label_order(k[1]))):
                rows.append(Row(variant, backend, bs, label, {
                    measure.PROOFBOOT: fw_cells.get((bs, label)),
                    measure.LINUX: linux.get((bs, label)),
                    measure.CEILING: ceiling.get((bs, label))}))
    return rows


# -------------------------------------------------------------------- output

def _fmt(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: list) -> str:
    header = ["variant", "backend", "point"]
    for system in SYSTEMS:
        t = SYSTEM_TITLES[system]
        header += [f"{t} MB/s", "IOPS", "qd"]
    header += ["pb/Linux", "pb/ceiling"]
    lines = [header]
    for r in rows:
        line = [r.variant, r.backend, gridmod.point_label(r.bs, r.label)]
        for system in SYSTEMS:
            m = r.cells.get(system)
            line += [_fmt(m and m.mbps), _fmt(m and m.iops, 0), str(m.qd) if m else "-"]
        line += [_ratio(r.ratio(measure.LINUX)), _ratio(r.ratio(measure.CEILING))]
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for n, row in enumerate(lines):
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


CSV_FIELDS = ["variant", "backend", "bs", "qd_label"] + [
    f"{s}_{k}" for s in SYSTEMS for k in ("qd", "mbps", "iops", "bytes", "us")] + [
    "proofboot_over_linux", "proofboot_over_ceiling", "ceiling_cache"]


def csv_text(rows: list) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows:
        line = [r.variant, r.backend, r.bs, r.label]
        for system in SYSTEMS:
            m = r.cells.get(system)
            line += ([m.qd, f"{m.mbps:.3f}", f"{m.iops:.1f}", m.bytes, f"{m.us:.0f}"] if m
                     else [""] * 5)
        for other in (measure.LINUX, measure.CEILING):
            ratio = r.ratio(other)
            line.append("" if ratio is None else f"{ratio:.4f}")
        ceiling = r.cells.get(measure.CEILING)
        line.append(ceiling.cache if ceiling else "")
        writer.writerow(line)
    return buf.getvalue()


def ceiling_text(measurements: list) -> str:
    """Each ceiling point per cache mode, and which one the table uses (the higher)."""
    ceilings = [m for m in measurements if m.system == measure.CEILING]
    caches = sorted({m.cache for m in ceilings})
    if not ceilings:
        return "ceiling: no figures"
    best = best_ceilings(measurements)
    out = ["ceiling (qemu-img bench MB/s per cache mode; the table uses the higher):"]
    for key in sorted(best, key=lambda k: (k[0], _label_order(k[1]))):
        by_cache = {m.cache: m for m in ceilings if (m.bs, m.label) == key}
        cells = "  ".join(f"-t {c}: {_fmt(by_cache[c].mbps) if c in by_cache else '-':>9}"
                          for c in caches)
        out.append(f"  {gridmod.point_label(*key):<11} {cells}  -> -t {best[key].cache}")
    return "\n".join(out)


def _sample_title(sample: str) -> str:
    return {"": "", FULL_RUN: ", full run", MEDIAN: ""}.get(sample, f", boot sample {sample}")


def _median_order(item) -> tuple:
    (system, variant), _ = item
    return (VARIANTS.index(variant) if variant in VARIANTS else len(VARIANTS),
            SYSTEMS.index(system))


def _medians(figures: list) -> list:
    """((system, variant), (median, count)) per variant, then system, in report order."""
    return sorted(targetsmod.first_io_medians(figures).items(), key=_median_order)


def boot_text(figures: list) -> str:
    """Every figure (each first-I/O sample on the host clock), then the medians the target uses."""
    if not figures:
        return "boot to first I/O: no figures"
    out = ["boot to first I/O:"]
    for f in figures:
        out.append(f"  {SYSTEM_TITLES[f.system]:<10} {f.variant:<9} {f.event:<11} "
                   f"{f.seconds:8.3f} s  ({f.clock}{_sample_title(f.sample)})")
    for (system, variant), (median, count) in _medians(figures):
        out.append(f"  {SYSTEM_TITLES[system]:<10} {variant:<9} {targetsmod.FIRST_IO:<11} "
                   f"{median:8.3f} s  (median of {count} on the host clock: the target's figure)")
    return "\n".join(out)


def boot_csv_text(figures: list) -> str:
    """One row per figure (sample: run, 1..N, or empty), then a `median` row per system and variant."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["system", "variant", "event", "seconds", "clock", "sample"])
    for f in figures:
        writer.writerow([f.system, f.variant, f.event, f"{f.seconds:.3f}", f.clock, f.sample])
    for (system, variant), (median, _) in _medians(figures):
        writer.writerow([system, variant, targetsmod.FIRST_IO, f"{median:.3f}",
                         targetsmod.HOST_CLOCK, MEDIAN])
    return buf.getvalue()


def chart(rows: list, path: str, title: str = "proofboot read throughput (QEMU, TCG)") -> None:
    """Grouped bars of MB/s per grid point, one panel per variant (needs python3-matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = [v for v in VARIANTS if any(r.variant == v for r in rows)]
    fig, axes = plt.subplots(len(variants) or 1, 1, figsize=(11, 4.2 * max(1, len(variants))),
                             squeeze=False)
    width = 0.27
    for ax, variant in zip(axes[:, 0], variants):
        mine = [r for r in rows if r.variant == variant]
        labels = [gridmod.point_label(r.bs, r.label) +
                  (f"\n{r.backend}" if r.backend != NO_BACKEND else "") for r in mine]
        for i, system in enumerate(SYSTEMS):
            values = [(r.cells[system].mbps if r.cells.get(system) else 0) for r in mine]
            xs = [x + (i - 1) * width for x in range(len(mine))]
            ax.bar(xs, values, width, label=SYSTEM_TITLES[system])
        ax.set_xticks(range(len(mine)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("MB/s (log)")
        ax.set_title(f"{variant}")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(data: BenchData, out_dir: str, draw_chart: bool = True, log=print) -> list:
    """Print the report and write results.csv, boot.csv, report.txt and chart.png; returns rows."""
    rows = build_rows(data.measurements)
    sections = [table(rows), ceiling_text(data.measurements), boot_text(data.boot)]
    for title, items in (("notes", data.notes), ("problems", data.problems)):
        if items:
            sections.append(f"{title}:\n" + "\n".join(f"  {item}" for item in items))
    sections.append(targetsmod.targets_text(targetsmod.all_targets(
        rows, data.boot, data.invalid_linux, data.hello_pairs)))
    text = "\n\n".join(sections)
    log(text)
    files = {"results.csv": csv_text(rows), "boot.csv": boot_csv_text(data.boot),
             "report.txt": text + "\n"}
    for name, content in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(content)
    if draw_chart:
        try:
            chart(rows, os.path.join(out_dir, "chart.png"))
            log(f"\nbench: wrote {out_dir}/results.csv, boot.csv, report.txt, chart.png")
        except ImportError:
            log(f"\nbench: wrote {out_dir}/results.csv, boot.csv, report.txt; no chart: "
                "python3-matplotlib is not installed")
    return rows
