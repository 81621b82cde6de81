"""Checks over a parsed proofboot console log.

Two kinds of checks:

* built-in cross-line checks, always on (see BUILTIN_CHECKS below and
  docs/tools.md): one verdict line and it is last, plan/result consistency,
  verdict counts and status, NVMe read CRCs against disk images, bounce and
  remapped reads agree, no malformed proof lines;
* declarative expectations loaded from TOML (an expectations file, or the
  `expect` table of a matrix configuration).

Every failure is a Finding that names the log line (when there is one) and
the reason.  Used by tools/check-log and tools/matrix.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import tomllib
import zlib

from proofboot import diskimage, nvmecheck, prooflog
from proofboot.prooflog import ProofLog, Record, parse_number

STATUSES = ("PASS", "FAIL", "SKIP")
# Most severe first: the verdict is the first of these any result has.
SEVERITY_ORDER = ("FAIL", "PASS", "SKIP")
BACKEND_BOUNCE = "bounce-buffer"
BACKEND_REMAPPED = "direct-remapping"
NVME_READ_KEYS = ("serial", "nsid", "slba", "blocks", "lba_size", "crc32")

BUILTIN_CHECKS = (
    "malformed: every line starting with a documented subsystem follows the grammar",
    "verdict: exactly one 'proofboot: verdict' line, and it is the last proof line",
    "plan/result: every 'test: plan selected=true' has exactly one 'test: result', "
    "no result without a selected plan",
    "counts: the verdict's passed/failed/skipped equal the result lines",
    "status: the verdict status is the most severe result (FAIL > PASS > SKIP), or FAIL "
    "after a 'proofboot: fatal' line; an emergency verdict is an error",
    "crc: each successful 'nvme: read' matches zlib.crc32 of the disk image range "
    "(and md_crc32 its metadata region, QEMU's layout)",
    "agree: bounce-buffer and direct-remapping reads of one range have one crc32",
    "options: an 'opt: error' naming a control byte points at that byte in its source's text",
    "untested: the verdict's untested equals the 'nvme: untested counted=true' lines "
    "and makes the status FAIL when not 0",
    "pci: every 'pci: device' sits on a 'pci: root' bus or a scanned bridge's secondary bus; "
    "enumeration roots= and nvme_class= agree with the lines",
    "time: one 'time: calibrated' (an accepted source, plausible rate) or 'time: calibration "
    "failed' (no source accepted, the conservative rate); no 'timeout after N s' result shorter "
    "than N s",
    "nvme-shapes: LBA format table, metadata layout, served/skip reasons, zone count, CMB "
    "size, interrupt proof and the namespace list agree with their own fields, and reads of "
    "one namespace through two controllers agree (proofboot/nvmecheck.py); "
    "non-ASCII identify strings warn",
    "order: the 'test: result' lines (except run-aborted ones) follow the order the "
    "environment line's order= names: table, reverse, or the seeded shuffle, with the rows "
    "whose plan says runs_last=true moved to the end",
    "alias: every 'iommu: alias' is followed by an 'iommu: context' (VT-d) or 'iommu: dte' "
    "(AMD-Vi) for the alias on the domain of the device's own entry; a 'fault recorded' "
    "naming device= has a sid that an 'iommu: alias' line gave that device",
    "selection: 'dma: backend selection' says iommu=vtd|amd-vi exactly when "
    "backend=direct-remapping (else iommu=none), and that unit kind was discovered before "
    "it ('iommu: drhd' for vtd, 'iommu: ivhd' for amd-vi, responds=true)",
    "isolation: every isolation proof line ('iommu: blocked|revoked|cross-device|read-only|"
    "no-read|boundary dma') of a controller whose 'iommu: isolation' line says PASS shows "
    "the fault (expected type, reason 0x05 write / 0x06 read), fault_cleared, "
    "target_untouched, buffer_untouched (and first_page_arrived for boundary), and an "
    "earlier 'iommu: fault recorded' with the same sid, reason and addr backs it; a "
    "cross-device owner is another controller; an 'iommu: ir remapped' of a PASSing "
    "controller shows irte_hits > 0, queue_vector_hits=0, data_vector != irte_vector, "
    "read_ok; an 'iommu: ir blocked' irte_hits=0, queue_vector_hits=0, restored_irte_hits "
    "> 0, read_ok and, when a fault was recorded, reason 0x22 (not-present) / 0x26 "
    "(sid-mismatch); a PASS row has no FAIL 'iommu: isolation' line and a FAIL row at "
    "least one",
    "fault-path: an 'iommu: fault recorded' with seen_by=interrupt follows an 'iommu: fault "
    "interrupt' line of the same unit (its events were routed to a vector); seen_by is "
    "interrupt or poll",
)


class ExpectationError(ValueError):
    """The expectations themselves are invalid (a usage error, not a failed check)."""


@dataclasses.dataclass
class Finding:
    severity: str            # "error" fails the check; "warning"/"note" do not
    lineno: int | None       # log line the finding is about, None when no line exists
    message: str
    check: str = ""

    def format(self, path: str | None = None) -> str:
        where = path or "log"
        if self.lineno is not None:
            where = f"{where}:{self.lineno}"
        return f"{where}: {self.severity}: {self.message}"


@dataclasses.dataclass
class Report:
    findings: list
    verdict: Record | None
    results: list            # test: result records
    planned: list = dataclasses.field(default_factory=list)  # plan records with selected=true
    reads_checked: int = 0   # nvme reads compared against a disk image
    reads_unchecked: int = 0

    @property
    def errors(self) -> list:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def verdict_status(self) -> str | None:
        return self.verdict.fields.get("status") if self.verdict else None


# ---------------------------------------------------------------- constraints

_CONSTRAINT_KEYS = ("eq", "ne", "regex", "one_of", "lt", "le", "gt", "ge", "present")
_COMPARATORS = {
    "lt": (lambda a, b: a < b, "<"),
    "le": (lambda a, b: a <= b, "<="),
    "gt": (lambda a, b: a > b, ">"),
    "ge": (lambda a, b: a >= b, ">="),
}


def _literal_matches(expected, value: str) -> bool:
    """Exact match: ints compare as numbers (so 0 matches 0x0000), bools as true/false."""
    if isinstance(expected, bool):
        return value == ("true" if expected else "false")
    if isinstance(expected, int):
        return parse_number(value) == expected
    return value == expected


def _number_operand(key: str, op: str, operand) -> int:
    if isinstance(operand, bool):
        raise ExpectationError(f"field {key}: {op} needs a number, not a boolean")
    if isinstance(operand, int):
        return operand
    number = parse_number(operand) if isinstance(operand, str) else None
    if number is None:
        raise ExpectationError(f"field {key}: {op} needs a number, got {operand!r}")
    return number


@dataclasses.dataclass
class FieldConstraint:
    key: str
    ops: dict                # op name -> operand (validated)

    @classmethod
    def parse(cls, key: str, spec) -> "FieldConstraint":
        if isinstance(spec, (str, int, bool)):
            return cls(key, {"eq": spec})
        if isinstance(spec, list):
            return cls(key, {"one_of": list(spec)})
        if not isinstance(spec, dict):
            raise ExpectationError(f"field {key}: unsupported constraint {spec!r}")
        unknown = set(spec) - set(_CONSTRAINT_KEYS)
        if unknown:
            raise ExpectationError(f"field {key}: unknown constraint(s) {sorted(unknown)}; "
                                   f"use {', '.join(_CONSTRAINT_KEYS)}")
        ops = dict(spec)
        for op in _COMPARATORS:
            if op in ops:
                ops[op] = _number_operand(key, op, ops[op])
        if "regex" in ops:
            try:
                ops["regex"] = re.compile(ops["regex"])
            except (re.error, TypeError) as e:
                raise ExpectationError(f"field {key}: bad regex {spec['regex']!r}: {e}")
        if "one_of" in ops and not isinstance(ops["one_of"], list):
            raise ExpectationError(f"field {key}: one_of needs a list")
        if "present" in ops and not isinstance(ops["present"], bool):
            raise ExpectationError(f"field {key}: present needs true or false")
        return cls(key, ops)

    def violation(self, value: str | None) -> str | None:
        """None when the value satisfies the constraint, else why not."""
        key, ops = self.key, self.ops
        if value is None:
            if ops.get("present") is False:
                return None
            return f"{key} is missing"
        if ops.get("present") is False:
            return f"{key}={value} is present, expected absent"
        if "eq" in ops and not _literal_matches(ops["eq"], value):
            return f"{key}={value}, expected {ops['eq']!r}"
        if "ne" in ops and _literal_matches(ops["ne"], value):
            return f"{key}={value}, expected anything but {ops['ne']!r}"
        if "one_of" in ops and not any(_literal_matches(e, value) for e in ops["one_of"]):
            return f"{key}={value}, expected one of {ops['one_of']!r}"
        if "regex" in ops and not ops["regex"].fullmatch(value):
            return f"{key}={value} does not match /{ops['regex'].pattern}/"
        for op, (compare, symbol) in _COMPARATORS.items():
            if op not in ops:
                continue
            number = parse_number(value)
            if number is None:
                return f"{key}={value} is not a number"
            if not compare(number, ops[op]):
                return f"{key}={value}, expected {symbol} {ops[op]}"
        return None


# --------------------------------------------------------------- expectations

_COUNT_WORDS = {"once": (1, 1), "at-least-once": (1, None), "never": (0, 0)}


def _parse_count(spec, where: str):
    if spec is None:
        return (1, None)
    if isinstance(spec, bool):
        raise ExpectationError(f"{where}: count must be a word or a number")
    if isinstance(spec, int):
        if spec < 0:
            raise ExpectationError(f"{where}: count must not be negative")
        return (spec, spec)
    if isinstance(spec, str) and spec in _COUNT_WORDS:
        return _COUNT_WORDS[spec]
    if isinstance(spec, dict) and set(spec) <= {"min", "max"} and spec:
        lo, hi = spec.get("min", 0), spec.get("max")
        if not isinstance(lo, int) or (hi is not None and not isinstance(hi, int)):
            raise ExpectationError(f"{where}: count min/max must be numbers")
        return (lo, hi)
    raise ExpectationError(f"{where}: count must be once, at-least-once, never, "
                           f"a number or {{min=, max=}}; got {spec!r}")


def _describe_count(lo: int, hi: int | None) -> str:
    if hi is None:
        return "at least once" if lo == 1 else f"at least {lo} times"
    if lo == hi:
        return {0: "never", 1: "exactly once"}.get(lo, f"exactly {lo} times")
    return f"between {lo} and {hi} times"


@dataclasses.dataclass
class LineExpectation:
    subsystem: str
    event: str
    count: tuple             # (min, max or None)
    fields: list             # [FieldConstraint]
    why: str = ""
    pending: str = ""        # non-empty: the firmware does not print this yet

    @property
    def kind(self) -> str:
        return f"{self.subsystem}: {self.event}"

    def describe(self) -> str:
        return " ".join([self.kind] + [_describe_constraint(c) for c in self.fields])

    def satisfied(self, record: Record) -> int:
        """How many field constraints the record meets (to rank near misses)."""
        return sum(1 for c in self.fields if c.violation(record.fields.get(c.key)) is None)

    def violation(self, record: Record) -> str | None:
        if record.subsystem != self.subsystem or record.event != self.event:
            return "different line"
        for c in self.fields:
            why = c.violation(record.fields.get(c.key))
            if why:
                return why
        return None


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value >= 10:
        return f"{value}(0x{value:x})"
    return str(value)


def _describe_constraint(c: FieldConstraint) -> str:
    shown = []
    for op, operand in c.ops.items():
        if op == "eq":
            shown.append(f"{c.key}={_show(operand)}")
        elif op == "ne":
            shown.append(f"{c.key}!={_show(operand)}")
        elif op == "regex":
            shown.append(f"{c.key}=~/{operand.pattern}/")
        elif op == "one_of":
            shown.append(f"{c.key}=" + "|".join(_show(v) for v in operand))
        elif op == "present":
            shown.append(c.key if operand else f"no {c.key}")
        else:
            shown.append(f"{c.key}{_COMPARATORS[op][1]}{_show(operand)}")
    return " ".join(shown)


@dataclasses.dataclass
class TestExpectation:
    pattern: str             # fnmatch glob over test names
    statuses: tuple


@dataclasses.dataclass
class Expectations:
    verdict: tuple | None = None
    tests: list = dataclasses.field(default_factory=list)
    lines: list = dataclasses.field(default_factory=list)
    source: str = ""

    def merged(self, other: "Expectations") -> "Expectations":
        return Expectations(verdict=other.verdict or self.verdict,
                            tests=self.tests + other.tests,
                            lines=self.lines + other.lines,
                            source=", ".join(s for s in (self.source, other.source) if s))


def _status_list(spec, where: str) -> tuple:
    values = spec if isinstance(spec, list) else [spec]
    for v in values:
        if v not in STATUSES:
            raise ExpectationError(f"{where}: status must be one of {STATUSES}, got {v!r}")
    return tuple(values)


_TOP_KEYS = {"verdict", "tests", "line"}
_LINE_KEYS = {"match", "count", "fields", "why", "pending"}


def expectations_from_dict(data: dict, source: str = "") -> Expectations:
    """Build Expectations from the TOML structure documented in docs/tools.md."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ExpectationError(f"{source}: unknown key(s) {sorted(unknown)}; "
                               f"expected {sorted(_TOP_KEYS)}")
    exp = Expectations(source=source)
    if "verdict" in data:
        exp.verdict = _status_list(data["verdict"], f"{source}: verdict")
    tests = data.get("tests", {})
    if not isinstance(tests, dict):
        raise ExpectationError(f"{source}: [tests] must be a table of name = status")
    for pattern, spec in tests.items():
        exp.tests.append(TestExpectation(pattern, _status_list(spec, f"{source}: tests.{pattern}")))
    lines = data.get("line", [])
    if not isinstance(lines, list):
        raise ExpectationError(f"{source}: line must be an array of tables ([[line]])")
    for i, spec in enumerate(lines):
        exp.lines.append(_line_expectation(spec, f"{source}: line[{i}]"))
    return exp


def _line_expectation(spec, where: str) -> LineExpectation:
    if not isinstance(spec, dict):
        raise ExpectationError(f"{where}: must be a table")
    unknown = set(spec) - _LINE_KEYS
    if unknown:
        raise ExpectationError(f"{where}: unknown key(s) {sorted(unknown)}")
    match = spec.get("match")
    if not isinstance(match, str) or ": " not in match:
        raise ExpectationError(f"{where}: match must be \"subsystem: event words\"")
    subsystem, event = match.split(": ", 1)
    fields = spec.get("fields", {})
    if not isinstance(fields, dict):
        raise ExpectationError(f"{where}: fields must be a table")
    pending = spec.get("pending", "")
    if pending is True:
        pending = "not printed by the firmware yet"
    return LineExpectation(
        subsystem=subsystem, event=event.strip(),
        count=_parse_count(spec.get("count"), where),
        fields=[FieldConstraint.parse(k, v) for k, v in fields.items()],
        why=str(spec.get("why", "")), pending=str(pending or ""))


def load_expectations(path: str) -> Expectations:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ExpectationError(f"{path}: {e}")
    return expectations_from_dict(data, source=path)


# ------------------------------------------------------------------ disk map

@dataclasses.dataclass
class Disk:
    path: str
    serial: str | None = None    # None: any controller (only when unambiguous)
    nsid: int | None = None      # None: any namespace of that serial
    lba_size: int | None = None  # when known, checked against the read lines


class DiskMap:
    """Which disk image backs which (controller serial, namespace id)."""

    def __init__(self, disks=()):
        self.disks = list(disks)

    def __bool__(self):
        return bool(self.disks)

    def add_spec(self, spec: str) -> None:
        """`[SERIAL[:NSID]=]PATH`; without a serial the image is a wildcard."""
        serial = nsid = None
        path = spec
        head, sep, tail = spec.partition("=")
        if sep and head and "/" not in head:
            path = tail
            serial, colon, ns = head.partition(":")
            if colon:
                if not ns.isdigit():
                    raise ExpectationError(f"--disk {spec}: NSID must be a number")
                nsid = int(ns)
        if not path:
            raise ExpectationError(f"--disk {spec}: missing image path")
        self.disks.append(Disk(path=path, serial=serial, nsid=nsid))

    def load_map(self, path: str) -> None:
        """A TOML file of [[disk]] tables: serial, nsid, path (relative to the file), lba_size."""
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ExpectationError(f"{path}: {e}")
        base = os.path.dirname(os.path.abspath(path))
        for i, d in enumerate(data.get("disk", [])):
            if "path" not in d:
                raise ExpectationError(f"{path}: disk[{i}] has no path")
            self.disks.append(Disk(path=os.path.join(base, d["path"]),
                                   serial=d.get("serial"), nsid=d.get("nsid"),
                                   lba_size=d.get("lba_size")))

    def exact(self, serial: str, nsid: int | None) -> Disk | None:
        for d in self.disks:
            if d.serial == serial and d.nsid in (None, nsid):
                return d
        return None

    def wildcard(self) -> Disk | None:
        for d in self.disks:
            if d.serial is None:
                return d
        return None


def write_disk_map(path: str, disks) -> None:
    """Write [[disk]] tables (TOML) that DiskMap.load_map reads back."""
    base = os.path.dirname(os.path.abspath(path))
    with open(path, "w", encoding="utf-8") as f:
        for d in disks:
            f.write("[[disk]]\n")
            if d.serial is not None:
                f.write(f"serial = {_toml_str(d.serial)}\n")
            if d.nsid is not None:
                f.write(f"nsid = {int(d.nsid)}\n")
            f.write(f"path = {_toml_str(os.path.relpath(os.path.abspath(d.path), base))}\n")
            if d.lba_size is not None:
                f.write(f"lba_size = {int(d.lba_size)}\n")
            f.write("\n")


def _toml_str(text: str) -> str:
    out = ['"']
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


# -------------------------------------------------------------------- checks

def _lines(records) -> str:
    return ", ".join(str(r.lineno) for r in records)


def check_malformed(log: ProofLog, out: list) -> None:
    for m in log.malformed:
        out.append(Finding("error", m.lineno, f"malformed proof line ({m.reason}): {m.raw[:120]}",
                           "malformed"))
    if log.partial is not None:
        out.append(Finding("warning", log.total_lines,
                           "last line has no line end (capture cut short?) and is not counted: "
                           f"{log.partial_text[:120]}", "partial"))


def _loader_reason(log: ProofLog) -> str:
    """GRUB's error lines, for a log where the firmware never started."""
    if not log.loader_errors:
        return ""
    said = "; ".join(f"line {n}: {text[:120]}" for n, text in log.loader_errors[:3])
    return f"; the boot loader reported: {said}"


def check_verdict(log: ProofLog, out: list) -> Record | None:
    verdicts = log.find("proofboot", "verdict")
    last = log.records[-1] if log.records else None
    if not verdicts:
        tail = f"; the last proof line is line {last.lineno}: {last.raw[:100]}" if last else \
            "; the log has no proof lines at all" + _loader_reason(log)
        out.append(Finding("error", None,
                           "no 'proofboot: verdict' line: the firmware never reached its verdict "
                           f"(crash, hang or cut-off log){tail}", "verdict"))
        return None
    first = verdicts[0]
    for extra in verdicts[1:]:
        out.append(Finding("error", extra.lineno,
                           f"more than one verdict line (first at line {first.lineno})", "verdict"))
    verdict = verdicts[-1]
    for v in verdicts:
        after = [r for r in log.records if r.lineno > v.lineno and r is not v and
                 not (r.subsystem == "proofboot" and r.event == "verdict")]
        if after:
            out.append(Finding("error", v.lineno,
                               f"verdict is not the last proof line: line {after[0].lineno} "
                               f"({after[0].kind}) follows it", "verdict"))
    status = verdict.fields.get("status")
    if status not in STATUSES:
        out.append(Finding("error", verdict.lineno,
                           f"verdict status={status} is not one of {'/'.join(STATUSES)}", "verdict"))
    for key in ("passed", "failed", "skipped"):
        if verdict.number(key) is None:
            out.append(Finding("error", verdict.lineno,
                               f"verdict has no numeric {key}= field", "verdict"))
    return verdict


def _collect_plans(log: ProofLog, out: list) -> dict:
    """name -> first plan record; flags plans without a name, bad selected=, duplicates."""
    plans = {}
    for p in log.find("test", "plan"):
        name, selected = p.fields.get("name"), p.fields.get("selected")
        if not name:
            out.append(Finding("error", p.lineno, "test plan line without name=", "plan"))
            continue
        if selected not in ("true", "false"):
            out.append(Finding("error", p.lineno,
                               f"test plan for {name}: selected={selected}, expected true or false",
                               "plan"))
        if name in plans:
            out.append(Finding("error", p.lineno,
                               f"second plan line for test {name} (first at line {plans[name].lineno})",
                               "plan"))
            continue
        plans[name] = p
    return plans


def _result_plan_problem(result: Record, plan: Record | None) -> str | None:
    name = result.fields["name"]
    if plan is None:
        return f"result for test {name} which has no 'test: plan' line"
    if plan.fields.get("selected") == "false":
        return f"result for test {name} which was planned with selected=false (line {plan.lineno})"
    if plan.lineno > result.lineno:
        return f"result for test {name} comes before its plan line {plan.lineno}"
    return None


def _collect_results(log: ProofLog, plans: dict, out: list) -> dict:
    """name -> first result record; flags bad statuses, duplicates, results without a plan."""
    by_name = {}
    for r in log.find("test", "result"):
        name, status = r.fields.get("name"), r.fields.get("status")
        if not name:
            out.append(Finding("error", r.lineno, "test result line without name=", "result"))
            continue
        if status not in STATUSES:
            out.append(Finding("error", r.lineno,
                               f"test {name}: status={status} is not one of {'/'.join(STATUSES)}",
                               "result"))
        if name in by_name:
            out.append(Finding("error", r.lineno,
                               f"second result line for test {name} (first at line "
                               f"{by_name[name].lineno})", "result"))
            continue
        by_name[name] = r
        problem = _result_plan_problem(r, plans.get(name))
        if problem:
            out.append(Finding("error", r.lineno, problem, "result"))
    return by_name


def check_plan_results(log: ProofLog, out: list) -> tuple:
    """(result records, selected plan records) after checking they pair up."""
    plans = _collect_plans(log, out)
    by_name = _collect_results(log, plans, out)
    selected = [p for p in plans.values() if p.fields.get("selected") == "true"]
    for plan in selected:
        name = plan.fields["name"]
        if name not in by_name:
            out.append(Finding("error", plan.lineno,
                               f"test {name} was planned (selected=true) but has no result line",
                               "plan"))
    results = [r for r in log.find("test", "result") if r.fields.get("name")]
    return results, selected


def _xorshift32(x: int) -> int:
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def run_order(order: str, n: int) -> list | None:
    """Table indices in run order, as src/lib/run_order.c computes them; None if unknown."""
    if order == "table":
        return list(range(n))
    if order == "reverse":
        return list(range(n - 1, -1, -1))
    name, _, seed = order.partition(":")
    if name != "shuffle" or not seed.isdigit():
        return None
    out, state = list(range(n)), int(seed) or 1
    for i in range(n - 1, 0, -1):
        state = _xorshift32(state)
        j = state % (i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def check_run_order(log: ProofLog, results: list, out: list) -> None:
    env = log.find("proofboot", "environment")
    order = env[0].fields.get("order") if env else None
    if order is None:
        return  # logs from before the option existed run in table order, unchecked
    plan_records = log.find("test", "plan")
    plans = [p.fields.get("name") for p in plan_records]
    perm = run_order(order, len(plans))
    if perm is None:
        out.append(Finding("error", env[0].lineno, f"unknown order={order}", "order"))
        return
    # Rows whose plan says runs_last=true follow every other row (run_order_pin_last).
    last = {i for i, p in enumerate(plan_records) if p.fields.get("runs_last") == "true"}
    perm = [i for i in perm if i not in last] + [i for i in perm if i in last]
    position = {plans[i]: k for k, i in enumerate(perm)}
    ran = [r for r in results if r.fields.get("reason") != "run-aborted"]
    for before, after in zip(ran, ran[1:]):
        a, b = position.get(before.fields["name"]), position.get(after.fields["name"])
        if a is not None and b is not None and a > b:
            out.append(Finding("error", after.lineno,
                               f"{after.fields['name']} ran after {before.fields['name']} "
                               f"(line {before.lineno}) but order={order} puts it before",
                               "order"))
            return


def expected_verdict(results) -> str:
    """FAIL if anything failed, else PASS if anything passed, else SKIP."""
    statuses = {r.fields.get("status") for r in results}
    for status in SEVERITY_ORDER:
        if status in statuses:
            return status
    return "SKIP"


def check_verdict_counts(log: ProofLog, verdict: Record | None, results: list, out: list) -> None:
    if verdict is None:
        return
    if verdict.fields.get("emergency") == "true":
        # Printed raw when the verdict path itself faulted: its counts are made up.
        out.append(Finding("error", verdict.lineno,
                           "emergency verdict: the firmware faulted while finishing the run",
                           "verdict"))
        return
    for key, status in (("passed", "PASS"), ("failed", "FAIL"), ("skipped", "SKIP")):
        claimed = verdict.number(key)
        actual = [r for r in results if r.fields.get("status") == status]
        if claimed is not None and claimed != len(actual):
            where = f" (lines {_lines(actual)})" if actual else ""
            out.append(Finding("error", verdict.lineno,
                               f"verdict says {key}={claimed} but there are {len(actual)} "
                               f"{status} result lines{where}", "counts"))
    want = expected_verdict(results)
    fatal = [r for r in log.find("proofboot", "fatal") if r.lineno < verdict.lineno]
    if fatal:
        want = "FAIL"   # a fatal error outside any test fails the run whatever the results
    untested = verdict.number("untested") or 0
    if untested:
        want = "FAIL"   # see check_untested
    status = verdict.fields.get("status")
    if status in STATUSES and status != want and not (untested and not fatal):
        out.append(Finding("error", verdict.lineno,
                           f"verdict status={status} but " +
                           (f"'proofboot: fatal' on line {fatal[0].lineno} makes the run FAIL"
                            if fatal else f"the most severe result is {want}"), "status"))


def read_ok(record: Record) -> bool:
    """A read whose buffer holds the device's data: NVMe success and not
    marked data_valid=false (a timed-out read, or one whose DMA the IOMMU
    blocked: in QEMU 7.2 such a read still completes with success)."""
    status = record.fields.get("status")
    if record.fields.get("data_valid") == "false":
        return False
    return status is None or parse_number(status) == 0


class _ImageReader:
    def __init__(self):
        self.cache = {}

    def crc(self, path: str, offset: int, length: int):
        """(crc32, None) or (None, reason)."""
        key = (path, offset, length)
        if key not in self.cache:
            self.cache[key] = self._crc(path, offset, length)
        return self.cache[key]

    @staticmethod
    def _crc(path, offset, length):
        try:
            size = os.path.getsize(path)
            if offset + length > size:
                return None, (f"range [{offset}, {offset + length}) is past the end of "
                              f"{path} ({size} bytes)")
            with open(path, "rb") as f:
                f.seek(offset)
                crc = 0
                left = length
                while left:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        return None, f"short read from {path}"
                    crc = zlib.crc32(chunk, crc)
                    left -= len(chunk)
            return crc, None
        except OSError as e:
            return None, f"cannot read disk image: {e}"


def read_line_problem(r: Record) -> str | None:
    """Why an nvme read line cannot be checked at all, or None."""
    missing = [k for k in NVME_READ_KEYS if k not in r.fields]
    if missing:
        return f"nvme read line lacks {', '.join(missing)}"
    bad = [k for k in NVME_READ_KEYS if k != "serial" and r.number(k) is None]
    if bad:
        return f"nvme read line: {', '.join(bad)} not a number"
    return None


def _check_unmatched_reads(unmatched: dict, disks: DiskMap, reader, out: list,
                           report: Report) -> None:
    """Reads of namespaces no --disk names: the wildcard image, a warning, or just a count."""
    wildcard = disks.wildcard()
    if wildcard is not None and len(unmatched) == 1:
        for r in next(iter(unmatched.values())):
            _check_read_crc(r, wildcard, reader, out, report)
        return
    report.reads_unchecked += sum(len(v) for v in unmatched.values())
    if wildcard is not None and unmatched:
        keys = ", ".join(f"serial={s} nsid={n}" for s, n in sorted(unmatched))
        out.append(Finding("error", None,
                           f"--disk {wildcard.path} names no controller but the log reads "
                           f"several namespaces ({keys}); use --disk SERIAL:NSID=PATH", "crc"))
    elif disks:
        for (serial, nsid), rs in sorted(unmatched.items()):
            out.append(Finding("warning", rs[0].lineno,
                               f"no disk image given for serial={serial} nsid={nsid}: "
                               f"{len(rs)} read(s) not checked against data", "crc"))


def check_nvme_reads(log: ProofLog, disks: DiskMap | None, out: list, report: Report) -> None:
    disks = disks or DiskMap()
    reader = _ImageReader()
    unmatched = {}
    valid = []
    for r in log.find("nvme", "read"):
        problem = read_line_problem(r)
        if problem:
            out.append(Finding("error", r.lineno, problem, "crc"))
            continue
        expected_bytes = r.number("blocks") * r.number("lba_size")
        if "bytes" in r.fields and r.number("bytes") != expected_bytes:
            out.append(Finding("error", r.lineno,
                               f"nvme read bytes={r.fields['bytes']} but blocks*lba_size="
                               f"{expected_bytes}", "crc"))
        valid.append(r)
        if not read_ok(r):
            continue
        disk = disks.exact(r.fields["serial"], r.number("nsid"))
        if disk is None:
            unmatched.setdefault((r.fields["serial"], r.number("nsid")), []).append(r)
        else:
            _check_read_crc(r, disk, reader, out, report)
    _check_unmatched_reads(unmatched, disks, reader, out, report)
    check_backends_agree(valid, out)


def image_crc32(r: Record, disk: Disk, reader: _ImageReader | None = None) -> tuple:
    """(crc32 of the image range the read line names, None) or (None, why it has none)."""
    lba_size = r.number("lba_size")
    if disk.lba_size is not None and disk.lba_size != lba_size:
        return None, (f"nvme read reports lba_size={lba_size} but the disk for "
                      f"serial={r.fields['serial']} nsid={r.fields['nsid']} has "
                      f"{disk.lba_size}-byte LBAs")
    slba, blocks = r.number("slba"), r.number("blocks")
    crc, why = (reader or _ImageReader()).crc(disk.path, slba * lba_size, blocks * lba_size)
    return crc, (f"nvme read slba={slba} blocks={blocks}: {why}" if why else None)


def _check_read_crc(r: Record, disk: Disk, reader: _ImageReader, out: list, report: Report):
    lba_size = r.number("lba_size")
    if disk.lba_size is not None and disk.lba_size != lba_size:
        out.append(Finding("error", r.lineno, image_crc32(r, disk, reader)[1], "crc"))
        return
    slba, blocks = r.number("slba"), r.number("blocks")
    crc, why = image_crc32(r, disk, reader)
    report.reads_checked += 1
    if why:
        out.append(Finding("error", r.lineno, why, "crc"))
        return
    claimed = r.number("crc32")
    if claimed != crc:
        out.append(Finding("error", r.lineno,
                           f"nvme read crc32={r.fields['crc32']} but {os.path.basename(disk.path)} "
                           f"LBAs [{slba}, {slba + blocks}) have crc32=0x{crc:08x} "
                           f"(wrong data, wrong LBA or stale buffer)", "crc"))
    _check_read_md_crc(r, disk, reader, out)


def _check_read_md_crc(r: Record, disk: Disk, reader, out: list) -> None:
    """md_crc32: the metadata the read moved, against the image's metadata region."""
    ms = r.number("metadata_size") or 0
    if "md_crc32" not in r.fields:
        if ms and r.fields.get("md_layout") in ("extended", "separate"):
            out.append(Finding("error", r.lineno,
                               f"nvme read of a namespace with {ms}-byte "
                               f"{r.fields['md_layout']} metadata has no md_crc32", "crc"))
        return
    slba, blocks, lba_size = r.number("slba"), r.number("blocks"), r.number("lba_size")
    if not ms:
        out.append(Finding("error", r.lineno, "nvme read has md_crc32 but metadata_size=0", "crc"))
        return
    try:
        # QEMU 7.2's layout: the data of all NSZE blocks first, then their metadata
        offset, length = diskimage.metadata_range(os.path.getsize(disk.path), slba, blocks,
                                                  lba_size, ms)
    except (OSError, ValueError) as e:
        out.append(Finding("error", r.lineno, f"nvme read metadata slba={slba}: {e}", "crc"))
        return
    crc, why = reader.crc(disk.path, offset, length)
    if why:
        out.append(Finding("error", r.lineno, f"nvme read metadata slba={slba}: {why}", "crc"))
    elif crc != r.number("md_crc32"):
        out.append(Finding("error", r.lineno,
                           f"nvme read md_crc32={r.fields['md_crc32']} but the metadata of "
                           f"{os.path.basename(disk.path)} LBAs [{slba}, {slba + blocks}) has "
                           f"crc32=0x{crc:08x}", "crc"))


# bench: read buffer=: read into device memory (no per-transfer map or copy) or into caller memory.
BENCH_BUFFERS = ("device", "caller")


def _bench_point_problems(r: Record) -> list:
    """What a `bench: read` line claims that its own figures contradict."""
    problems = []
    buffer = r.fields.get("buffer")
    if buffer is not None and buffer not in BENCH_BUFFERS:
        problems.append(f"bench read buffer={buffer}, not one of {'|'.join(BENCH_BUFFERS)}")
    if buffer == "device" and r.fields.get("cpu_copy") == "true":
        problems.append("bench read buffer=device (no copy) but cpu_copy=true")
    ranges, commands = r.number("ledger_ranges"), r.number("commands")
    if ranges is not None and commands is not None and ranges != commands:
        problems.append(f"bench read ledger_ranges={ranges} but commands={commands}: a transfer "
                        f"the DMA backend's ledger did not record (or one it recorded twice)")
    regions, qd, asked = r.number("regions"), r.number("qd"), r.number("qd_requested")
    if regions is not None and qd is not None and qd > regions:
        problems.append(f"bench read qd={qd} commands in flight but only regions={regions}")
    limit = r.fields.get("limited_by")
    own = {"device-memory": "device", "buffers": "caller"}.get(limit)
    if own and buffer is not None and buffer != own:
        problems.append(f"bench read limited_by={limit} with buffer={buffer}")
    if own and None not in (regions, asked) and regions >= asked:
        problems.append(f"bench read limited_by={limit} but regions={regions} >= "
                        f"qd_requested={asked}")
    return problems


def _bench_sample_problem(r: Record, disk: Disk, reader: _ImageReader) -> str | None:
    """The sample's crc32 against the image: LBAs [sample_lba, sample_lba + sample_blocks)."""
    slba, blocks, lba_size = r.number("sample_lba"), r.number("sample_blocks"), r.number("lba_size")
    if None in (slba, blocks, lba_size, r.number("crc32")):
        return "bench read line lacks sample_lba, sample_blocks, lba_size or crc32"
    if disk.lba_size is not None and disk.lba_size != lba_size:
        return f"bench read lba_size={lba_size} but the disk has {disk.lba_size}-byte LBAs"
    crc, why = reader.crc(disk.path, slba * lba_size, blocks * lba_size)
    if why:
        return f"bench read sample: {why}"
    if crc != r.number("crc32"):
        return (f"bench read crc32={r.fields['crc32']} but {os.path.basename(disk.path)} LBAs "
                f"[{slba}, {slba + blocks}) have crc32=0x{crc:08x} (wrong data, wrong LBA or a "
                f"region the device did not write)")
    return None


def check_bench(log: ProofLog, disks: DiskMap | None, out: list) -> None:
    """`bench: read` lines: their own consistency, and each sample against its disk image."""
    disks = disks or DiskMap()
    reader = _ImageReader()
    checked, unmatched = [], {}
    for r in log.find("bench", "read"):
        for problem in _bench_point_problems(r):
            out.append(Finding("error", r.lineno, problem, "bench"))
        disk = disks.exact(r.fields.get("serial", ""), r.number("nsid"))
        if disk is None:
            unmatched.setdefault((r.fields.get("serial"), r.number("nsid")), []).append(r)
        else:
            checked.append((r, disk))
    wildcard = disks.wildcard()
    if wildcard is not None and len(unmatched) == 1:  # as for nvme reads: one namespace only
        checked += [(r, wildcard) for r in next(iter(unmatched.values()))]
    for r, disk in checked:
        why = _bench_sample_problem(r, disk, reader)
        if why:
            out.append(Finding("error", r.lineno, why, "crc"))


def check_backends_agree(reads, out: list) -> None:
    groups = {}
    for r in reads:
        if not read_ok(r):
            continue
        key = (r.fields["serial"], r.number("nsid"), r.number("slba"), r.number("blocks"))
        groups.setdefault(key, []).append(r)
    for (serial, nsid, slba, blocks), rs in groups.items():
        bounce = [r for r in rs if r.fields.get("backend") == BACKEND_BOUNCE]
        remapped = [r for r in rs if r.fields.get("backend") == BACKEND_REMAPPED]
        if not bounce or not remapped:
            continue
        for r in remapped:
            for b in bounce:
                if r.number("crc32") != b.number("crc32"):
                    out.append(Finding("error", r.lineno,
                                       f"direct-remapping read of serial={serial} nsid={nsid} "
                                       f"slba={slba} blocks={blocks} has crc32={r.fields['crc32']} "
                                       f"but the bounce-buffer read on line {b.lineno} has "
                                       f"{b.fields['crc32']}", "agree"))
                    break


def _context_after(contexts, sid: str, lineno: int):
    """The first 'iommu: context' / 'iommu: dte' for sid after lineno, or None."""
    return next((c for c in contexts if c.fields.get("sid") == sid and c.lineno > lineno), None)


def check_aliases(log: ProofLog, out: list) -> None:
    contexts = sorted(log.find("iommu", "context") + log.find("iommu", "dte"),
                      key=lambda r: r.lineno)
    aliases = log.find("iommu", "alias")
    for a in aliases:
        device, alias = a.fields.get("sid"), a.fields.get("alias")
        own = _context_after(contexts, device, a.lineno)
        via = _context_after(contexts, alias, a.lineno)
        if via is None:
            out.append(Finding("error", a.lineno, f"alias {alias} of {device} never got a "
                               "context entry", "alias"))
        elif own is not None and own.fields.get("domain") != via.fields.get("domain"):
            out.append(Finding("error", via.lineno,
                               f"alias {alias} points at domain {via.fields.get('domain')} but "
                               f"{device} at domain {own.fields.get('domain')} (line {own.lineno})",
                               "alias"))
    given = {(a.fields.get("sid"), a.fields.get("alias")) for a in aliases}
    for f in log.find("iommu", "fault recorded"):
        device = f.fields.get("device")
        if device is not None and (device, f.fields.get("sid")) not in given:
            out.append(Finding("error", f.lineno, f"fault from sid={f.fields.get('sid')} "
                               f"attributed to {device}, which has no such alias", "alias"))


# `iommu: <event>` of each isolation proof -> (row, the access the device was refused).
ISOLATION_EVENTS = {
    "blocked dma": ("iommu.isolation.blocked", "write"),
    "revoked dma": ("iommu.isolation.revoke", "write"),
    "cross-device dma": ("iommu.isolation.cross-device", "write"),
    "read-only dma": ("iommu.isolation.read-only", "write"),
    "no-read dma": ("iommu.isolation.no-read", "read"),
    "boundary dma": ("iommu.isolation.boundary", "write"),
}
# VT-d: a denied write through the page tables is reason 5, a denied read 6.
DENIED_REASON = {"write": 0x05, "read": 0x06}
ISOLATION_TRUE_KEYS = ("fault", "fault_cleared", "target_untouched", "buffer_untouched")


def _isolation_proof_problems(r: Record, access: str, faults: list) -> list:
    """What is missing from one proof line that claims a blocked access."""
    f = r.fields
    problems = [f"{key}={f.get(key)}" for key in ISOLATION_TRUE_KEYS if f.get(key) != "true"]
    if r.event == "boundary dma" and f.get("first_page_arrived") != "true":
        problems.append(f"first_page_arrived={f.get('first_page_arrived')}")
    if f.get("fault") != "true":
        return problems
    if f.get("fault_type") != access or r.number("fault_reason") != DENIED_REASON[access]:
        problems.append(f"fault {f.get('fault_reason')} {f.get('fault_type')}, expected "
                        f"0x{DENIED_REASON[access]:02x} {access}")
    if r.number("fault_addr") != r.number("iova") & ~0xFFF:
        problems.append(f"fault_addr={f.get('fault_addr')} is not the page of iova={f.get('iova')}")
    backed = [x for x in faults if x.lineno < r.lineno
              and x.fields.get("sid") == f.get("fault_sid")
              and x.number("reason") == r.number("fault_reason")
              and x.number("addr") == r.number("fault_addr")]
    if not backed:
        problems.append("no earlier 'iommu: fault recorded' with its sid, reason and addr")
    if r.event == "cross-device dma" and f.get("owner") in (None, f.get("sid")):
        problems.append(f"owner={f.get('owner')} is not another controller")
    return problems


def _last_isolation_line(lines: list, proof: Record):
    """The 'iommu: isolation' line reporting this proof line's controller (the next one)."""
    return next((x for x in lines if x.lineno > proof.lineno
                 and x.fields.get("sid") == proof.fields.get("sid")), None)


# Interrupt remapping: the reason a unit that records such faults must give per case.
IR_BLOCKED_REASON = {"not-present": 0x22, "sid-mismatch": 0x26}


def _ir_proof_problems(r: Record) -> list:
    """What is missing from an 'iommu: ir remapped|blocked' line of a PASSing controller."""
    n = r.number
    problems = [] if r.fields.get("read_ok") == "true" else ["read_ok=false"]
    if n("queue_vector_hits") != 0:
        problems.append(f"queue_vector_hits={r.fields.get('queue_vector_hits')}")
    if r.event == "ir remapped":
        if not n("irte_hits"):
            problems.append("irte_hits=0")
        if n("data_vector") == n("irte_vector"):
            problems.append("data_vector equals irte_vector: not proven remapped")
        return problems
    if n("irte_hits") != 0:
        problems.append(f"irte_hits={r.fields.get('irte_hits')}")
    if not n("restored_irte_hits"):
        problems.append("restored_irte_hits=0")
    want = IR_BLOCKED_REASON.get(r.fields.get("case"))
    if want is None:
        problems.append(f"case={r.fields.get('case')}")
    elif r.fields.get("fault") == "true" and n("fault_reason") != want:
        problems.append(f"fault_reason={r.fields.get('fault_reason')}, expected 0x{want:02x}")
    return problems


def check_isolation(log: ProofLog, results: list, out: list) -> None:
    faults = log.find("iommu", "fault recorded")
    verdicts = log.find("iommu", "isolation")
    for event, (row, access) in ISOLATION_EVENTS.items():
        mine = [v for v in verdicts if v.fields.get("proof") == row]
        for r in log.find("iommu", event):
            v = _last_isolation_line(mine, r)
            if v is None or v.fields.get("status") != "PASS":
                continue
            problems = _isolation_proof_problems(r, access, faults)
            if problems:
                out.append(Finding("error", r.lineno, f"{row} PASSed for {r.fields.get('sid')} "
                                   f"but its proof line says: {'; '.join(problems)}",
                                   "isolation"))
    for event, row in (("ir remapped", "iommu.ir.remapped"), ("ir blocked", "iommu.ir.blocked")):
        mine = [v for v in verdicts if v.fields.get("proof") == row]
        for r in log.find("iommu", event):
            v = _last_isolation_line(mine, r)
            problems = _ir_proof_problems(r) if v and v.fields.get("status") == "PASS" else []
            if problems:
                out.append(Finding("error", r.lineno, f"{row} PASSed for {r.fields.get('sid')} "
                                   f"but its proof line says: {'; '.join(problems)}",
                                   "isolation"))
    for res in results:
        name, status = res.fields.get("name"), res.fields.get("status")
        rows = [v for v in verdicts if v.fields.get("proof") == name and v.lineno < res.lineno]
        failing = [v for v in rows if v.fields.get("status") == "FAIL"]
        if status == "PASS" and failing:
            out.append(Finding("error", res.lineno, f"{name} PASSed but controller "
                               f"{failing[0].fields.get('sid')} FAILed it (line "
                               f"{failing[0].lineno})", "isolation"))
        if status == "FAIL" and rows and not failing:
            out.append(Finding("error", res.lineno, f"{name} FAILed but no controller's "
                               "'iommu: isolation' line says FAIL", "isolation"))


def check_fault_paths(log: ProofLog, out: list) -> None:
    routed = log.find("iommu", "fault interrupt")
    for f in log.find("iommu", "fault recorded"):
        path = f.fields.get("seen_by")
        if path is None:
            continue  # logs from before the fault interrupt existed
        if path not in ("interrupt", "poll"):
            out.append(Finding("error", f.lineno, f"seen_by={path} is neither interrupt nor poll",
                               "fault-path"))
        elif path == "interrupt" and not any(
                r.lineno < f.lineno and r.fields.get("unit") == f.fields.get("unit") for r in routed):
            out.append(Finding("error", f.lineno, f"fault seen_by=interrupt but unit "
                               f"{f.fields.get('unit')} has no earlier 'iommu: fault interrupt'",
                               "fault-path"))


def check_remap_summary(log: ProofLog, out: list) -> None:
    """Each unmap is revoked by an invalidation of its own or of its batch."""
    for r in log.find("iommu", "summary"):
        unmaps, invs = r.number("unmaps"), r.number("invalidations")
        if unmaps is None or invs is None:
            continue  # logs from before batched invalidation
        if invs > unmaps:
            out.append(Finding("error", r.lineno, f"invalidations={invs} exceeds unmaps={unmaps}: "
                               "the unmap path invalidates once per unmap at most", "remap-summary"))
        if unmaps and not invs:
            out.append(Finding("error", r.lineno, f"unmaps={unmaps} with invalidations=0: "
                               "no unmap was revoked from the IOTLB", "remap-summary"))


IOMMU_UNIT_LINE = {"vtd": "drhd", "amd-vi": "ivhd"}


def check_selection(log: ProofLog, out: list) -> None:
    for sel in log.find("dma", "backend selection"):
        iommu, backend = sel.fields.get("iommu"), sel.fields.get("backend")
        if iommu is None:
            continue  # logs from before the field existed
        if iommu not in ("none", *IOMMU_UNIT_LINE):
            out.append(Finding("error", sel.lineno, f"backend selection iommu={iommu} is not "
                               "vtd, amd-vi or none", "selection"))
            continue
        if (iommu != "none") != (backend == BACKEND_REMAPPED):
            out.append(Finding("error", sel.lineno, f"backend selection says backend={backend} "
                               f"but iommu={iommu}", "selection"))
            continue
        if iommu == "none":
            continue
        units = [u for u in log.find("iommu", IOMMU_UNIT_LINE[iommu])
                 if u.lineno < sel.lineno and u.fields.get("responds") == "true"]
        if not units:
            out.append(Finding("error", sel.lineno, f"backend selection names iommu={iommu} but "
                               f"no responding 'iommu: {IOMMU_UNIT_LINE[iommu]}' came before it",
                               "selection"))


def check_expectations(log: ProofLog, exp: Expectations, verdict: Record | None,
                       results: list, out: list) -> None:
    if exp.verdict and verdict is not None:
        status = verdict.fields.get("status")
        if status not in exp.verdict:
            out.append(Finding("error", verdict.lineno,
                               f"verdict is {status}, expected {' or '.join(exp.verdict)}",
                               "expect"))
    elif exp.verdict:
        out.append(Finding("error", None,
                           f"expected verdict {' or '.join(exp.verdict)} but there is no verdict line",
                           "expect"))
    for t in exp.tests:
        matching = [r for r in results if fnmatch.fnmatchcase(r.fields["name"], t.pattern)]
        if not matching:
            out.append(Finding("error", None,
                               f"no result line for test {t.pattern} (expected "
                               f"{' or '.join(t.statuses)})", "expect"))
        for r in matching:
            if r.fields.get("status") not in t.statuses:
                reason = r.fields.get("reason")
                tail = f" (reason: {reason})" if reason else ""
                out.append(Finding("error", r.lineno,
                                   f"test {r.fields['name']} is {r.fields.get('status')}, expected "
                                   f"{' or '.join(t.statuses)}{tail}", "expect"))
    for line in exp.lines:
        _check_line_expectation(log, line, out)


def _check_line_expectation(log: ProofLog, exp: LineExpectation, out: list) -> None:
    same_kind = [r for r in log.records if r.subsystem == exp.subsystem and r.event == exp.event]
    matches = [r for r in same_kind if exp.violation(r) is None]
    lo, hi = exp.count
    if lo <= len(matches) and (hi is None or len(matches) <= hi):
        if exp.pending:
            out.append(Finding("note", matches[0].lineno if matches else None,
                               f"pending expectation now holds, drop 'pending': {exp.describe()}",
                               "expect"))
        return
    severity = "warning" if exp.pending else "error"
    why = f" ({exp.why})" if exp.why else ""
    pending = f" [pending: {exp.pending}]" if exp.pending else ""
    wanted = _describe_count(lo, hi)
    if hi is not None and len(matches) > hi:
        first_extra = matches[hi] if hi < len(matches) else matches[0]
        out.append(Finding(severity, first_extra.lineno,
                           f"{exp.describe()} expected {wanted}, found {len(matches)} times "
                           f"(lines {_lines(matches)}){why}{pending}", "expect"))
        return
    closest = sorted(same_kind, key=lambda r: -exp.satisfied(r))[:3]
    near = "; ".join(f"line {r.lineno}: {exp.violation(r)}" for r in closest)
    hint = f"; near misses: {near}" if near else f"; no '{exp.kind}' line at all"
    out.append(Finding(severity, None,
                       f"{exp.describe()} expected {wanted}, found {len(matches)}"
                       f"{hint}{why}{pending}", "expect"))


_PLAN_REG = re.compile(r"io:0x[0-9a-f]{4}|mem:0x[0-9a-f]{16}")
PM1_SLP_EN = 0x2000
SLEEP_CONTROL_SLP_EN = 0x20


def _poweroff_plan_problems(r: Record) -> list:
    """What is inconsistent in one 'acpi: poweroff plan' line (docs/proof-lines.md)."""
    f = r.fields
    method, s5 = f.get("method"), f.get("s5")
    problems = []
    for key in ("pm1a", "pm1b", "sleep_control", "sleep_status"):
        if key in f and not _PLAN_REG.fullmatch(f[key]):
            problems.append(f"{key}={f[key]} is not io:0x<4 hex> or mem:0x<16 hex>")
    if method == "none":
        return problems + ([] if f.get("reason") else ["method=none without a reason"])
    if "reason" in f:
        problems.append(f"method={method} with a reason")
    if s5 in (None, "missing"):
        problems.append(f"method={method} without an \\_S5 package (s5={s5})")
        return problems
    if r.number("slp_typ_a") is None or r.number("slp_typ_b") is None:
        return problems + [f"s5={s5} without slp_typ_a and slp_typ_b"]
    typ_a, typ_b = r.number("slp_typ_a") & 7, r.number("slp_typ_b") & 7
    if method == "pm1":
        if f.get("hw_reduced") != "false" or "pm1a" not in f:
            problems.append("method=pm1 needs hw_reduced=false and a pm1a register")
        elif r.number("pm1a_value") != typ_a << 10 | PM1_SLP_EN:
            problems.append(f"pm1a_value={f.get('pm1a_value')} is not SLP_TYPa<<10|SLP_EN")
        if "pm1b" in f and r.number("pm1b_value") != typ_b << 10 | PM1_SLP_EN:
            problems.append(f"pm1b_value={f.get('pm1b_value')} is not SLP_TYPb<<10|SLP_EN")
    elif method == "sleep-control":
        if f.get("hw_reduced") != "true" or "sleep_control" not in f:
            problems.append("method=sleep-control needs hw_reduced=true and a sleep_control register")
        elif r.number("sleep_control_value") != typ_a << 2 | SLEEP_CONTROL_SLP_EN:
            problems.append(f"sleep_control_value={f.get('sleep_control_value')} "
                            "is not SLP_TYPa<<2|SLP_EN")
    else:
        problems.append(f"unknown method={method}")
    return problems


def _reset_plan_problems(r: Record) -> list:
    f = r.fields
    if f.get("method") == "none":
        return [] if f.get("reason") else ["method=none without a reason"]
    if f.get("method") != "register":
        return [f"unknown method={f.get('method')}"]
    if not _PLAN_REG.fullmatch(f.get("register", "")) or "value" not in f or "reason" in f:
        return ["method=register needs register=io:.../mem:..., a value and no reason"]
    return []


def check_acpi_plans(log: ProofLog, out: list) -> None:
    """The end= plans: at most one of each per boot, each self-consistent."""
    for event, judge in (("poweroff plan", _poweroff_plan_problems),
                         ("reset plan", _reset_plan_problems)):
        lines = log.find("acpi", event)
        if len(lines) > 1:
            out.append(Finding("error", lines[1].lineno,
                               f"'acpi: {event}' printed {len(lines)} times (lines "
                               f"{_lines(lines)}); once per boot", "acpi-plan"))
        for r in lines:
            for problem in judge(r):
                out.append(Finding("error", r.lineno, f"acpi: {event}: {problem}", "acpi-plan"))


DMAR_WARNING_KINDS = frozenset((
    "zero-length-structure", "rmrr-not-page-granular", "rmrr-end-below-base",
    "drhd-base-not-4k-aligned", "drhd-base-zero", "path-step-out-of-range", "too-many-units",
    "too-many-rmrrs", "too-many-scopes", "too-many-path-steps"))
DMAR_WARNINGS_SHOWN_MAX = 16


def check_dmar_warnings(log: ProofLog, out: list) -> None:
    """'iommu: dmar warning' lines against their 'iommu: dmar warnings' count line."""
    lines = log.find("iommu", "dmar warning")
    totals = log.find("iommu", "dmar warnings")
    for r in lines:
        if r.fields.get("kind") not in DMAR_WARNING_KINDS or not r.fields.get("detail"):
            out.append(Finding("error", r.lineno, f"iommu: dmar warning: unknown kind "
                               f"{r.fields.get('kind')!r} or no detail", "dmar-warning"))
    if not lines and not totals:
        return
    if len(totals) != 1:
        where = totals[1].lineno if totals else lines[-1].lineno
        out.append(Finding("error", where, f"{len(lines)} 'iommu: dmar warning' line(s) need "
                           f"exactly one 'iommu: dmar warnings' line, found {len(totals)}",
                           "dmar-warning"))
        return
    total = totals[0]
    count, shown = total.number("count"), total.number("shown")
    if count is None or shown != min(count, DMAR_WARNINGS_SHOWN_MAX) or shown != len(lines):
        out.append(Finding("error", total.lineno, f"iommu: dmar warnings count={count} "
                           f"shown={shown} with {len(lines)} warning line(s) (shown must be "
                           f"min(count, {DMAR_WARNINGS_SHOWN_MAX}) and equal the lines)",
                           "dmar-warning"))
    if any(r.fields.get("kind") == "drhd-base-zero" for r in lines) and \
            not (total.number("disabled_units") or 0):
        out.append(Finding("error", total.lineno, "a drhd-base-zero warning but "
                           "disabled_units=0", "dmar-warning"))


# ------------------------------------------------------------ platform checks

def _is_control_byte(b: int) -> bool:
    return b == 0x7F or (b < 0x20 and b not in (0x09, 0x0A, 0x0D))


def check_option_bytes(log: ProofLog, out: list) -> None:
    """Every control-byte error names a real control byte of the source it cites."""
    sources = {}
    for s in log.find("opt", "source"):
        sources[s.fields.get("name")] = prooflog.percent_decode(s.raw_fields.get("text", ""))
    for e in log.find("opt", "error"):
        if "offset" not in e.fields:
            if e.fields.get("reason") == "control-byte-in-option-text":
                out.append(Finding("error", e.lineno, "control-byte error without offset=",
                                   "options"))
            continue
        text = sources.get(e.fields.get("source"))
        offset, byte = e.number("offset"), e.number("byte")
        if text is None:
            out.append(Finding("error", e.lineno, f"opt error names source="
                               f"{e.fields.get('source')} but no such 'opt: source' line",
                               "options"))
        elif offset is None or byte is None or offset >= len(text):
            out.append(Finding("error", e.lineno, f"opt error offset={e.fields.get('offset')} "
                               f"is outside the {len(text)}-byte {e.fields.get('source')} text",
                               "options"))
        elif text[offset] != byte or not _is_control_byte(byte):
            out.append(Finding("error", e.lineno, f"opt error says byte=0x{byte:02x} at offset "
                               f"{offset} but the source text has 0x{text[offset]:02x} there "
                               "(or it is no control byte)", "options"))


def check_untested(log: ProofLog, verdict: Record | None, out: list) -> None:
    """An NVMe-class function no test brought up keeps the verdict from PASS."""
    if verdict is None or verdict.fields.get("emergency") == "true":
        return
    counted = [r for r in log.find("nvme", "untested") if r.fields.get("counted") == "true"]
    claimed = verdict.number("untested")
    if claimed is None:
        if counted:
            out.append(Finding("error", verdict.lineno, "verdict has no untested= but "
                               f"{len(counted)} 'nvme: untested counted=true' line(s)", "untested"))
        return
    if claimed != len(counted):
        out.append(Finding("error", verdict.lineno, f"verdict says untested={claimed} "
                           f"but there are {len(counted)} 'nvme: untested counted=true' lines",
                           "untested"))
    if (claimed or counted) and verdict.fields.get("status") != "FAIL":
        out.append(Finding("error", verdict.lineno, f"verdict status={verdict.fields.get('status')}"
                           " with an untested controller: the status must be FAIL", "untested"))


def _bus_key(record: Record, seg_key: str, bus_key: str):
    return record.number(seg_key), record.number(bus_key)


def check_pci_walk(log: ProofLog, out: list) -> None:
    """Devices only on buses the walk reached; the summary agrees with the lines.
    Logs of firmware from before 'pci: root' lines existed (no such line at all)
    are not judged by this check."""
    if not log.find("pci", "root"):
        return
    reached = set()
    roots = 0
    nvme = 0
    for r in log.records:
        if r.subsystem != "pci":
            continue
        if r.event == "root":
            roots += 1
            reached.add(_bus_key(r, "segment", "bus"))
        elif r.event in ("device", "bridge"):
            seg, bus = _parse_bdf(r.fields.get("bdf", ""))
            if r.event == "device":
                nvme += (r.fields.get("class"), r.fields.get("subclass"),
                         r.fields.get("prog_if")) == ("0x01", "0x08", "0x02")
                if seg is not None and (seg, bus) not in reached:
                    out.append(Finding("error", r.lineno, f"pci device {r.fields.get('bdf')} on a "
                                       "bus no 'pci: root' line or scanned bridge led to", "pci"))
            elif r.fields.get("scanned") == "true" and seg is not None:
                reached.add((seg, r.number("secondary")))
        elif r.event == "enumeration done":
            if "roots" in r.fields and r.number("roots") != roots:
                out.append(Finding("error", r.lineno, f"pci enumeration says roots={r.fields['roots']}"
                                   f" but {roots} 'pci: root' lines precede it", "pci"))
            if "nvme_class" in r.fields and r.number("nvme_class") != nvme:
                out.append(Finding("error", r.lineno, f"pci enumeration says nvme_class="
                                   f"{r.fields['nvme_class']} but {nvme} NVMe-class device lines "
                                   "precede it", "pci"))
            reached, roots, nvme = set(), 0, 0


TSC_HZ_MIN, TSC_HZ_MAX = 200_000_000, 10_000_000_000
TSC_HZ_CONSERVATIVE = TSC_HZ_MAX
TIMEOUT_REASON = re.compile(r"timeout after (\d+) s")


def check_time(log: ProofLog, out: list) -> None:
    """The rate in use comes from an accepted source; timeouts last what they say."""
    sources = log.find("time", "source")
    outcome = log.find("time", "calibrated") + log.find("time", "calibration failed")
    if sources:
        _check_time_outcome(sources, outcome, out)
    for r in log.find("test", "result"):
        m = TIMEOUT_REASON.fullmatch(r.fields.get("reason", ""))
        duration = r.number("duration_us")
        if m and duration is not None and duration < int(m.group(1)) * 1_000_000:
            out.append(Finding("error", r.lineno, f"test {r.fields.get('name')} 'timed out after "
                               f"{m.group(1)} s' in duration_us={duration}", "time"))


def _check_time_outcome(sources, outcome, out: list) -> None:
    if len(outcome) != 1:
        out.append(Finding("error", outcome[1].lineno if len(outcome) > 1 else sources[0].lineno,
                           f"{len(outcome)} time calibration outcome lines, expected one", "time"))
        return
    o = outcome[0]
    accepted = [s for s in sources if s.fields.get("accepted") == "true" and s.lineno < o.lineno]
    if o.event == "calibration failed":
        if accepted:
            out.append(Finding("error", o.lineno, "calibration failed although source "
                               f"{accepted[0].fields.get('name')} was accepted", "time"))
        if o.number("assumed_tsc_hz") != TSC_HZ_CONSERVATIVE:
            out.append(Finding("error", o.lineno, f"assumed_tsc_hz={o.fields.get('assumed_tsc_hz')}"
                               f", expected the conservative {TSC_HZ_CONSERVATIVE}", "time"))
        return
    hz, name = o.number("tsc_hz"), o.fields.get("source")
    if hz is None or not TSC_HZ_MIN <= hz <= TSC_HZ_MAX:
        out.append(Finding("error", o.lineno, f"calibrated tsc_hz={o.fields.get('tsc_hz')} is "
                           "outside 200 MHz..10 GHz", "time"))
    if not any(s.fields.get("name") == name and s.number("tsc_hz") == hz for s in accepted):
        out.append(Finding("error", o.lineno, f"calibrated source={name} tsc_hz={hz} but no "
                           "accepted 'time: source' line says so", "time"))


def _parse_bdf(text: str):
    m = re.fullmatch(r"([0-9a-f]{4}):([0-9a-f]{2}):[0-9a-f]{2}\.[0-7]", text)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else (None, None)


def check_console(log: ProofLog, out: list) -> None:
    """The serial console line: once, naming at least one port, and the
    environment line names the same ports (both come from one port set)."""
    serial = log.find("console", "serial")
    for extra in serial[1:]:
        out.append(Finding("error", extra.lineno, "more than one 'console: serial' line", "console"))
    if not serial:
        return
    ports = serial[0].fields.get("ports", "")
    if not ports:
        out.append(Finding("error", serial[0].lineno, "'console: serial' names no port: "
                           "no serial port carries the log", "console"))
    for env in log.find("proofboot", "environment"):
        if "console" in env.fields and env.fields["console"] != ports:
            out.append(Finding("error", env.lineno,
                               f"environment console={env.fields['console']} but 'console: serial' "
                               f"(line {serial[0].lineno}) says ports={ports}", "console"))


def check_log(log: ProofLog, expectations: Expectations | None = None,
              disks: DiskMap | None = None, accept=None) -> Report:
    """Run every built-in check plus the expectations; returns the Report.

    accept: verdicts that count as success (see accepted_verdicts); None
    leaves the verdict to the expectations (the matrix's way)."""
    out = []
    check_malformed(log, out)
    verdict = check_verdict(log, out)
    results, planned = check_plan_results(log, out)
    check_verdict_counts(log, verdict, results, out)
    check_acpi_plans(log, out)
    check_dmar_warnings(log, out)
    check_run_order(log, results, out)
    check_console(log, out)
    report = Report(findings=out, verdict=verdict, results=results, planned=planned)
    check_nvme_reads(log, disks, out, report)
    check_bench(log, disks, out)
    check_option_bytes(log, out)
    check_untested(log, verdict, out)
    check_pci_walk(log, out)
    check_time(log, out)
    for severity, lineno, message in nvmecheck.problems(log):
        out.append(Finding(severity, lineno, message, "nvme-shapes"))
    check_aliases(log, out)
    check_isolation(log, results, out)
    check_fault_paths(log, out)
    check_remap_summary(log, out)
    check_selection(log, out)
    if expectations is not None:
        check_expectations(log, expectations, verdict, results, out)
    if accept is not None:
        check_accepted(report, accept, out)
    return report


def failed_tests(report: Report) -> list:
    """The FAIL result records, in log order."""
    return [r for r in report.results if r.fields.get("status") == "FAIL"]


def describe_failed(record: Record, path: str | None = None) -> str:
    """`LOG:LINE: test NAME FAIL: reason` -- what a reader wants first when a run failed."""
    reason = record.fields.get("reason") or "no reason given"
    where = f"{path or 'log'}:{record.lineno}"
    return f"{where}: test {record.fields.get('name')} FAIL: {reason}"


ACCEPT_ANY = "any"


def accepted_verdicts(flags, exp: Expectations | None) -> tuple:
    """What `check-log --verdict` accepts: the flags (ACCEPT_ANY: all three), else the
    expectations' verdict, else PASS alone."""
    if flags:
        return STATUSES if ACCEPT_ANY in flags else tuple(dict.fromkeys(flags))
    if exp is not None and exp.verdict:
        return tuple(exp.verdict)
    return ("PASS",)


def check_accepted(report: Report, accepted, out: list) -> None:
    """A verdict the caller did not accept is an error: a FAIL machine must not exit 0."""
    status = report.verdict_status
    if report.verdict is None or status in accepted:
        return
    failed = failed_tests(report)
    names = f" (failed: {', '.join(r.fields['name'] for r in failed)})" if failed else ""
    out.append(Finding("error", report.verdict.lineno,
                       f"verdict is {status}{names}, accepted: {' or '.join(accepted)} "
                       f"(--verdict {status} accepts it)", "accept"))


def sorted_findings(findings) -> list:
    """Findings without a line first, then by line number (stable within a line)."""
    return sorted(findings, key=lambda f: (f.lineno is not None, f.lineno or 0))


def summary(report: Report, log: ProofLog) -> str:
    counts = {s: sum(1 for r in report.results if r.fields.get("status") == s) for s in STATUSES}
    errors = len(report.errors)
    warnings = sum(1 for f in report.findings if f.severity == "warning")
    crc = f", {report.reads_checked} nvme read(s) checked against disk images"
    if report.reads_unchecked:
        crc += f", {report.reads_unchecked} not checked (no image)"
    state = "all checks passed" if report.ok else f"{errors} error(s)"
    if warnings:
        state += f", {warnings} warning(s)"
    return (f"verdict {report.verdict_status or 'none'}: {state}; {len(log.records)} proof lines, "
            f"{len(report.results)} test results ({counts['PASS']} passed, {counts['FAIL']} failed, "
            f"{counts['SKIP']} skipped){crc}")


def _check_inputs_readable(disks: DiskMap) -> None:
    """A disk image that cannot be read is the caller's mistake (exit 2), not a firmware failure."""
    for d in disks.disks:
        if not os.path.isfile(d.path) or not os.access(d.path, os.R_OK):
            raise ExpectationError(f"disk image {d.path} is not a readable file")


def select_runs(runs: list, which: str) -> list:
    """--run last|N|all: the runs (prooflog.split_runs) to check."""
    if which == "all":
        return list(runs)
    if which == "last":
        return runs[-1:]
    if which.isdigit() and 1 <= int(which) <= len(runs):
        return [runs[int(which) - 1]]
    raise ExpectationError(f"--run {which}: the log holds {len(runs)} run(s); "
                           f"use last, all or 1..{len(runs)}")


def _parse_cli(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="check-log",
        description="Check a proofboot console log: built-in cross-line checks plus optional "
                    "expectations. Exit 0 when the verdict is accepted (default: PASS) and every "
                    "check passes, 1 otherwise, 2 on usage error (bad option, unreadable input).")
    ap.add_argument("log", help="console log (any capture: QEMU serial file, a lab machine's serial)")
    ap.add_argument("--expect", action="append", default=[], metavar="FILE",
                    help="expectations TOML (repeatable; see docs/tools.md)")
    ap.add_argument("--verdict", action="append", default=[], metavar="PASS|FAIL|SKIP|any",
                    choices=STATUSES + (ACCEPT_ANY,),
                    help="a verdict that counts as success (repeatable; default: the --expect "
                         "files' verdict, else PASS only)")
    ap.add_argument("--run", default="all", metavar="last|N|all",
                    help="which boot of a capture holding several (one per 'proofboot: start') "
                         "to check (default all)")
    ap.add_argument("--disk", action="append", default=[], metavar="[SERIAL[:NSID]=]IMAGE",
                    help="disk image behind a controller/namespace, for nvme read CRC checks "
                         "(repeatable; without SERIAL it stands for the only namespace read)")
    ap.add_argument("--disk-map", action="append", default=[], metavar="FILE",
                    help="TOML file of [[disk]] serial/nsid/path/lba_size (the matrix writes one)")
    ap.add_argument("--doc", metavar="PROOF_LINES_MD",
                    help="docs/proof-lines.md to read the subsystem list from")
    ap.add_argument("-q", "--quiet", action="store_true", help="print errors only, no summary")
    return ap.parse_args(argv)


def _print_run(report: Report, run: ProofLog, label: str, path: str, quiet: bool) -> None:
    """Failed tests with their reasons first, then the findings, then the summary line."""
    if not report.ok:
        for r in failed_tests(report):
            print(describe_failed(r, path))
    for f in sorted_findings(report.findings):
        if quiet and f.severity != "error":
            continue
        print(f.format(path))
    if not quiet:
        print(f"check-log: {label}: {summary(report, run)}")


def main(argv=None) -> int:
    import sys

    try:
        args = _parse_cli(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        subsystems = prooflog.load_subsystems(args.doc)
        exp = None
        for path in args.expect:
            loaded = load_expectations(path)
            exp = loaded if exp is None else exp.merged(loaded)
        disks = DiskMap()
        for spec in args.disk:
            disks.add_spec(spec)
        for path in args.disk_map:
            disks.load_map(path)
        _check_inputs_readable(disks)
        runs = prooflog.split_runs(prooflog.parse_file(args.log, subsystems))
        chosen = select_runs(runs, args.run)
    except (ExpectationError, OSError, ValueError) as e:
        print(f"check-log: {e}", file=sys.stderr)
        return 2
    accept = accepted_verdicts(args.verdict, exp)
    several = len(runs) > 1
    if several and not args.quiet:
        starts = ", ".join(str(r.first_line if i else r.find(*prooflog.RUN_START)[0].lineno)
                           for i, r in enumerate(runs))
        print(f"check-log: {args.log}: {len(runs)} runs ('proofboot: start' on lines {starts}); "
              f"checking {args.run}")
    bad = 0
    for run in chosen:
        report = check_log(run, exp, disks, accept)
        bad += not report.ok
        label = args.log
        if several:
            label += f" run {runs.index(run) + 1}/{len(runs)} (lines {run.first_line}-{run.last_line})"
        _print_run(report, run, label, args.log, args.quiet)
    if several and not args.quiet and len(chosen) > 1:
        print(f"check-log: {args.log}: {len(chosen) - bad} of {len(chosen)} runs clean")
    return 1 if bad else 0
