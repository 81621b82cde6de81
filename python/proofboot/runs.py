"""The Python API: boot the ISO once (proofboot.boot) or read a lab log (proofboot.parse_log),
and get a Run to assert on.  docs/python.md documents it.

A Run is the console log, parsed and checked by the same code as
tools/check-log (built-in checks, CRCs of every read against the disks),
plus, after boot(), QEMU's exit status.  Nothing is re-implemented here:
the QEMU command line and the checks come from qmatrix and proofcheck.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile

from proofboot import proofcheck, prooflog, qmatrix, repo

# nvme: read purposes whose DMA the IOMMU is meant to block (tests
# iommu.isolation.*): their dma_faults=1 and data_valid=false are the proof,
# not a defect.
DELIBERATE_FAULT_PURPOSES = ("iommu-blocked", "iommu-revoke-unmapped", "iommu-cross-device",
                             "iommu-read-only", "iommu-boundary")
# Lines whose fault_sid/fault_addr name the faults those tests provoked.
DELIBERATE_FAULT_LINES = tuple(("iommu", event) for event in proofcheck.ISOLATION_EVENTS)
DEFAULT_QEMU_ARGS = ("-net", "none")    # no NIC: nothing to test there, shorter option ROM scan
ISO_ENV = "PROOFBOOT_ISO"


class CheckFailed(AssertionError):
    """Run.check() found problems; str() lists them, failed tests first."""

    def __init__(self, problems: list):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class FailedTest:
    name: str
    reason: str
    lineno: int


@dataclasses.dataclass(frozen=True)
class Read:
    """One `nvme: read` line, with its CRC checked against the disk behind it."""
    serial: str
    nsid: int
    slba: int
    blocks: int
    lba_size: int
    crc32: int
    backend: str
    purpose: str
    data_valid: bool
    dma_faults: int
    status: int
    bdf: str
    lineno: int
    crc_ok: bool | None          # None: no disk image for it, or the data is not valid
    expected_crc32: int | None
    record: prooflog.Record = dataclasses.field(repr=False, compare=False)

    @property
    def deliberate_fault(self) -> bool:
        """A read the IOMMU was meant to block (see DELIBERATE_FAULT_PURPOSES)."""
        return self.purpose in DELIBERATE_FAULT_PURPOSES


class Run:
    """One boot's console log, checked.  From boot() (with QEMU's result) or parse_log()."""

    def __init__(self, log: prooflog.ProofLog, disks: proofcheck.DiskMap,
                 result: qmatrix.Result | None = None, out_dir: str | None = None):
        self.log = log
        self.disks = disks
        self.result = result
        self.out_dir = out_dir
        self.report = result.report if result and result.report else proofcheck.check_log(log, None, disks)

    # -------------------------------------------------------------- outcome
    @property
    def verdict(self) -> str:
        """PASS, FAIL or SKIP from the verdict line; after boot() without one: NO-VERDICT,
        TIMEOUT or QEMU-ERROR (parse_log: NO-VERDICT)."""
        if self.result is not None:
            return self.result.outcome
        return self.report.verdict_status or qmatrix.NO_VERDICT

    @property
    def exit_code(self) -> int | None:
        return self.result.exit_code if self.result else None

    @property
    def log_path(self) -> str | None:
        return self.log.path

    @property
    def console(self) -> str:
        """The whole console capture as text."""
        if not self.log.path or not os.path.exists(self.log.path):
            return ""
        with open(self.log.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def tests(self) -> dict:
        """Test name -> PASS/FAIL/SKIP for every result line."""
        return {r.fields["name"]: r.fields.get("status") for r in self.report.results}

    @property
    def failed_tests(self) -> list:
        return [FailedTest(r.fields["name"], r.fields.get("reason", ""), r.lineno)
                for r in proofcheck.failed_tests(self.report)]

    # ---------------------------------------------------------------- lines
    def records(self, subsystem: str, event: str | None = None) -> list:
        """Proof lines of one kind (`nvme`, `identify controller`), as prooflog.Record:
        .fields (percent-decoded), .number(key), .lineno, .raw."""
        return self.log.find(subsystem, event)

    @property
    def backend(self) -> str | None:
        """The DMA backend the firmware selected (`dma: backend selection`), None if none."""
        lines = self.records("dma", "backend selection")
        return lines[-1].fields.get("backend") if lines else None

    @property
    def reads(self) -> list:
        return [self._read(r) for r in self.records("nvme", "read")
                if proofcheck.read_line_problem(r) is None]

    def _read(self, r: prooflog.Record) -> Read:
        expected = crc_ok = None
        disk = self.disks.exact(r.fields["serial"], r.number("nsid"))
        if disk is None and len({(x.fields.get("serial"), x.fields.get("nsid"))
                                 for x in self.records("nvme", "read")}) == 1:
            disk = self.disks.wildcard()
        if disk is not None and proofcheck.read_ok(r):
            expected, _ = proofcheck.image_crc32(r, disk)
            crc_ok = expected is not None and expected == r.number("crc32")
        return Read(serial=r.fields["serial"], nsid=r.number("nsid"), slba=r.number("slba"),
                    blocks=r.number("blocks"), lba_size=r.number("lba_size"),
                    crc32=r.number("crc32"), backend=r.fields.get("backend", ""),
                    purpose=r.fields.get("purpose", ""),
                    data_valid=r.fields.get("data_valid", "true") == "true",
                    dma_faults=r.number("dma_faults") or 0, status=r.number("status") or 0,
                    bdf=r.fields.get("bdf", ""), lineno=r.lineno, crc_ok=crc_ok,
                    expected_crc32=expected, record=r)

    @property
    def faults(self) -> list:
        """`iommu: fault recorded` lines no test provoked on purpose (the blocked and
        revoked DMA proofs name theirs by fault_sid and fault_addr): should be []."""
        provoked = {(r.fields.get("fault_sid"), prooflog.parse_number(r.fields.get("fault_addr")))
                    for kind in DELIBERATE_FAULT_LINES for r in self.records(*kind)
                    if r.fields.get("fault") == "true"}
        return [f for f in self.records("iommu", "fault recorded")
                if (f.fields.get("sid"), f.number("addr")) not in provoked]

    # --------------------------------------------------------------- checks
    @property
    def findings(self) -> list:
        return list(self.report.findings)

    def problems(self, accept=("PASS",)) -> list:
        """What check() would raise with: failed tests first, then the rest."""
        accept = proofcheck.STATUSES if accept == "any" else tuple(accept)
        problems = list(self.result.problems) if self.result else \
            [f.format(self.log.path) for f in proofcheck.sorted_findings(self.report.findings)
             if f.severity == "error"]
        if self.verdict not in accept:
            problems.insert(0, f"verdict {self.verdict}, accepted: {' or '.join(accept)}")
        failed = [proofcheck.describe_failed(r, "console.log")
                  for r in proofcheck.failed_tests(self.report)]
        if problems:
            problems = failed + [p for p in problems if p not in failed]
        return problems

    def check(self, accept=("PASS",)) -> "Run":
        """Raise CheckFailed unless the verdict is accepted and every built-in check holds
        (one verdict, plan/result pairs, counts, CRCs against the disks, exit status)."""
        problems = self.problems(accept)
        if problems:
            raise CheckFailed(problems)
        return self

    # ------------------------------------------------------------- clean-up
    def cleanup(self) -> None:
        """Delete the run's output directory (console log, disk map, QEMU output)."""
        if self.out_dir and os.path.isdir(self.out_dir):
            shutil.rmtree(self.out_dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<proofboot.Run {self.verdict} {self.log.path}>"


def default_iso() -> str:
    return os.environ.get(ISO_ENV) or os.path.join(repo.ROOT, "build", "proofboot.iso")


def _nvme_tables(disks: dict | None) -> list:
    """disks= {serial: image path | [[config.nvme]] table} -> matrix nvme tables."""
    tables = []
    for serial, spec in (disks or {}).items():
        table = {"image": os.fspath(spec)} if isinstance(spec, (str, os.PathLike)) else dict(spec)
        if "image" in table:
            table["image"] = os.path.abspath(os.fspath(table["image"]))
        tables.append({"serial": str(serial), **table})
    return tables


def boot(iso: str | None = None, qemu_args=(), options: str = "", disks: dict | None = None,
         timeout: float = 120, *, machine: str = "q35", memory: str = "256M",
         firmware: str = "bios", out_dir: str | None = None, disk_cache: str | None = None,
         qemu: str = "qemu-system-x86_64", name: str = "boot") -> Run:
    """Boot the ISO once under QEMU (hard timeout, own process group) and check the log.

    disks: {serial: "image.img"} or {serial: {size=, lba_size=, seed=, bus=, ns=[...], ...}}
    (the keys of a matrix [[config.nvme]] table, docs/tools.md); generated images
    are cached in disk_cache.  qemu_args are appended to `-net none`.  Raises
    FileNotFoundError without an ISO, qmatrix.MatrixError for bad arguments.
    """
    iso = os.path.abspath(iso or default_iso())
    if not os.path.isfile(iso):
        raise FileNotFoundError(f"no ISO at {iso}: build it with make, pass iso= or set {ISO_ENV}")
    table = {"name": name, "options": options, "timeout": timeout, "machine": machine,
             "memory": memory, "firmware": firmware,
             "qemu_args": list(DEFAULT_QEMU_ARGS) + [str(a) for a in qemu_args],
             "nvme": _nvme_tables(disks)}
    config = qmatrix.config_from_dict(table, {}, os.getcwd(), "boot()")
    config.expect.verdict = proofcheck.STATUSES     # the verdict is judged by Run.check(accept=)
    out_root = out_dir or tempfile.mkdtemp(prefix="proofboot-")
    cache = disk_cache or os.path.join(tempfile.gettempdir(), "proofboot-disk-cache")
    try:
        result = qmatrix.run_config(config, iso, out_root, qemu, disk_dir=cache)
    except KeyboardInterrupt:
        qmatrix._kill_all_running()     # QEMU runs in its own session: Ctrl-C does not reach it
        raise
    log = prooflog.parse_file(result.log_path) if os.path.exists(result.log_path) else \
        prooflog.parse_text(b"", path=result.log_path)
    disk_map = proofcheck.DiskMap()
    disk_map.load_map(os.path.join(out_root, config.name, "disks.toml"))
    return Run(log, disk_map, result, out_dir=out_root if out_dir is None else None)


def parse_log(path: str, disks: dict | None = None, run: int = -1) -> Run:
    """A Run from a console log captured anywhere (a lab machine's serial port).

    disks: {serial or "serial:nsid": image path} for the CRC checks; run: which boot of
    a capture holding several (prooflog.split_runs), by index (default the last)."""
    disk_map = proofcheck.DiskMap()
    for key, image in (disks or {}).items():
        disk_map.add_spec(f"{key}={os.fspath(image)}")
    runs = prooflog.split_runs(prooflog.parse_file(os.fspath(path)))
    return Run(runs[run], disk_map)
