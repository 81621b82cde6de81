"""Check a lava-run log of a proofboot job: per-test LAVA results against the proof lines.

lava-run prints one YAML mapping per line ({"dt": ..., "lvl": ..., "msg": ...}).
`lvl: results` lines carry LAVA's test cases; `lvl: target` (and
`feedback`) lines are the guest's console.  The job's own result only says the pipeline completed (a
failed firmware test still gives job "pass"), so this checker:

1. requires job "pass" and a monitor that saw the verdict line (end string);
2. rebuilds the console from the target lines and runs proofcheck on it
   (built-in checks, the configuration's expectations, disk CRCs);
3. requires exactly one LAVA test case per `test: result` line, with the
   same name (extra.test_case_id) and the same status (PASS -> pass, ...),
   and no LAVA case the console does not have.

Standard library only: log lines are parsed as JSON (what lava-run 2023.01
writes); a line that is not JSON is read with PyYAML when it is installed
(it is wherever LAVA is).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys

from proofboot import proofcheck
from proofboot import prooflog
from proofboot import qmatrix
from proofboot import reports

MONITOR_NAME = "proofboot"          # the monitor's name is the results' definition
LAVA_DEFINITION = "lava"            # LAVA's own pipeline results
STATUS_TO_LAVA = {"PASS": "pass", "FAIL": "fail", "SKIP": "skip"}


@dataclasses.dataclass
class Case:
    lineno: int           # line of the lava-run log
    name: str             # extra.test_case_id: the firmware test name as printed
    result: str           # pass / fail / skip / unknown


@dataclasses.dataclass
class LavaLog:
    entries: int = 0
    unparsed: list = dataclasses.field(default_factory=list)      # [(lineno, text)]
    cases: list = dataclasses.field(default_factory=list)         # [Case] of our monitor
    lava_results: dict = dataclasses.field(default_factory=dict)  # LAVA's own: case -> msg
    errors: list = dataclasses.field(default_factory=list)        # lvl error/exception messages
    console: list = dataclasses.field(default_factory=list)       # target lines, in order


# lava-run writes some values with YAML's non-specific tag: "size": ! "16777216".
_NON_SPECIFIC_TAG_RE = re.compile(r'(?<=[:,\[]) ! (?=")')


def _load_line(text: str):
    for candidate in (text, _NON_SPECIFIC_TAG_RE.sub(" ", text)):
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    try:
        import yaml
    except ImportError:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _target_text(msg) -> str:
    # lava's ShellLogger writes '"' as '\"' (and drops CR and ESC); proof
    # lines never contain either, but keep the rest of the console faithful.
    return str(msg).replace('\\"', '"')


def parse_lava_log(text: str) -> LavaLog:
    """Read a lava-run log (its stdout/stderr, or a server's job log with '- ' list items)."""
    log = LavaLog()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("- {"):
            line = line[2:]
        entry = _load_line(line) if line.startswith("{") else None
        if not isinstance(entry, dict) or "lvl" not in entry:
            log.unparsed.append((lineno, raw))
            continue
        log.entries += 1
        lvl, msg = entry.get("lvl"), entry.get("msg")
        if lvl in ("target", "feedback"):
            # feedback: console output read while no action watched it, such
            # as the rest of the verdict line after the monitor stopped.
            log.console.append(_target_text(msg))
        elif lvl in ("error", "exception"):
            log.errors.append(str(msg))
        elif lvl == "results" and isinstance(msg, dict):
            _add_result(log, lineno, msg)
    return log


def _add_result(log: LavaLog, lineno: int, msg: dict) -> None:
    definition = msg.get("definition")
    if definition == MONITOR_NAME:
        extra = msg.get("extra") if isinstance(msg.get("extra"), dict) else {}
        name = str(extra.get("test_case_id", msg.get("case", "")))
        log.cases.append(Case(lineno, name, str(msg.get("result"))))
    elif definition == LAVA_DEFINITION:
        log.lava_results[str(msg.get("case"))] = msg


@dataclasses.dataclass
class Check:
    config: str | None
    expected: str                       # expected verdicts, "PASS/SKIP"
    verdict: str | None                 # the console's verdict line status
    rows: list                          # [(name, console status or None, lava result or None)]
    problems: list                      # error texts; empty = OK
    notes: list
    lava: LavaLog
    console_path: str | None = None
    lava_run_exit: int | None = None
    reads_checked: int = 0              # nvme reads whose CRC was compared with a disk image

    @property
    def ok(self) -> bool:
        return not self.problems and self.lava_run_exit in (None, 0)

    @property
    def counts(self) -> tuple:
        results = [lava for _, _, lava in self.rows]
        return tuple(results.count(r) for r in ("pass", "fail", "skip"))


def compare_cases(console_results: list, cases: list) -> tuple:
    """(rows, problems): each console `test: result` against LAVA's cases, by test name."""
    rows, problems = [], []
    by_name = {}
    for case in cases:
        by_name.setdefault(case.name, []).append(case)
    seen = set()
    for r in console_results:
        name, status = r.fields.get("name", ""), r.fields.get("status")
        if name in seen:
            continue                    # proofcheck reports the duplicate result line
        seen.add(name)
        recorded = by_name.get(name, [])
        lava = recorded[0].result if recorded else None
        rows.append((name, status, lava))
        if not recorded:
            problems.append(f"test {name}: console line {r.lineno} says {status}, "
                            "LAVA recorded no test case for it")
        elif len(recorded) > 1:
            problems.append(f"test {name}: LAVA recorded {len(recorded)} cases (log lines "
                            f"{', '.join(str(c.lineno) for c in recorded)})")
        elif lava != STATUS_TO_LAVA.get(status):
            problems.append(f"test {name}: console line {r.lineno} says {status}, LAVA recorded "
                            f"{lava} (log line {recorded[0].lineno})")
    for case in cases:
        if case.name not in seen:
            seen.add(case.name)
            rows.append((case.name, None, case.result))
            problems.append(f"test {case.name}: LAVA recorded {case.result} (log line "
                            f"{case.lineno}) but the console has no result line for it")
    return rows, problems


def _pipeline_problems(lava: LavaLog) -> list:
    problems = []
    if lava.entries == 0:
        return ["not a lava-run log: no YAML log lines"]
    job = lava.lava_results.get("job")
    if job is None:
        problems.append("lava-run did not finish: no job result")
    elif job.get("result") != "pass":
        why = "; ".join(lava.errors[-3:]) or (job.get("extra") or {}).get("error_msg", "")
        problems.append(f"LAVA job result is {job.get('result')}: {why}".rstrip(": "))
    monitor = lava.lava_results.get("lava-test-monitor")
    status = ((monitor or {}).get("extra") or {}).get("status")
    if monitor is None:
        problems.append("the LAVA test monitor never ran (boot or deploy failed, or no start line)")
    elif status != "passed":
        problems.append(f"the LAVA test monitor ended with status {status}: the verdict line "
                        "(end string) was not seen before the timeout or end of file")
    return problems


def check_lava(lava: LavaLog, config: qmatrix.Config | None,
               disks: proofcheck.DiskMap | None = None, console_path: str | None = None) -> Check:
    """Everything above, for one lava-run log; config None: built-in checks only."""
    problems = _pipeline_problems(lava)
    exp = config.expect if config else proofcheck.Expectations(verdict=qmatrix.DEFAULT_VERDICTS)
    if lava.entries == 0:
        return Check(config=config.name if config else None, expected="/".join(exp.verdict),
                     verdict=None, rows=[], problems=problems, notes=[], lava=lava,
                     console_path=console_path)
    console = prooflog.parse_lines(lava.console, path=console_path)
    report = proofcheck.check_log(console, exp, disks)
    where = console_path or "console"
    notes = []
    for f in proofcheck.sorted_findings(report.findings):
        (problems if f.severity == "error" else notes).append(f.format(where))
    rows, case_problems = compare_cases(report.results, lava.cases)
    problems += case_problems
    return Check(config=config.name if config else None,
                 expected="/".join(exp.verdict or qmatrix.DEFAULT_VERDICTS),
                 verdict=report.verdict_status, rows=rows, problems=problems, notes=notes,
                 lava=lava, console_path=console_path, reads_checked=report.reads_checked)


def check_file(log_path: str, config: qmatrix.Config | None, disk_map: str | None = None,
               console_out: str | None = None) -> Check:
    """Check a lava-run log file; the rebuilt console goes next to it (console.log)."""
    with open(log_path, "rb") as f:
        lava = parse_lava_log(f.read().decode("utf-8", "replace"))
    console_out = console_out or os.path.join(os.path.dirname(os.path.abspath(log_path)),
                                              "console.log")
    with open(console_out, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lava.console))
    disks = proofcheck.DiskMap()
    if disk_map:
        disks.load_map(disk_map)
    return check_lava(lava, config, disks, console_out)


def format_check(check: Check, log_path: str) -> str:
    out = []
    for name, status, lava in check.rows:
        mark = "ok " if lava is not None and lava == STATUS_TO_LAVA.get(status) else "BAD"
        out.append(f"  {mark} {name:<28} lava={lava or '-':<5} console={status or '-'}")
    for note in check.notes:
        out.append(f"  {note}")
    for problem in check.problems:
        out.append(f"{log_path}: error: {problem}")
    if check.lava_run_exit not in (None, 0):
        out.append(f"{log_path}: error: lava-run exited {check.lava_run_exit}")
    p, f, s = check.counts
    out.append(f"lava-check: {log_path}: {'OK' if check.ok else 'FAIL'}: "
               f"config {check.config or '-'}, verdict {check.verdict or 'none'} "
               f"(expected {check.expected}), {len(check.lava.cases)} LAVA test cases "
               f"({p} pass, {f} fail, {s} skip), {check.reads_checked} nvme read(s) checked "
               "against disk images")
    return "\n".join(out)


def summary_table(checks: list) -> str:
    header = ("configuration", "verdict", "expected", "lava pass/fail/skip", "result")
    lines = reports.text_table(header, [
        (c.config or "-", c.verdict or "none", c.expected, "/".join(str(n) for n in c.counts),
         "OK" if c.ok else "FAIL") for c in checks])
    bad = sum(1 for c in checks if not c.ok)
    lines.append(f"{len(checks)} LAVA job(s), {len(checks) - bad} OK, {bad} not as expected")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(
        prog="lava-check",
        description="Check a lava-run log of a proofboot job: job and monitor completed, the "
                    "console (rebuilt from the log) passes check-log's checks and the "
                    "configuration's expectations, and LAVA recorded exactly the firmware's "
                    "test results. Exit 0 OK, 1 not OK, 2 usage error.")
    ap.add_argument("log", help="lava-run output (stdout+stderr) or a LAVA server job log")
    ap.add_argument("--config", metavar="NAME",
                    help="matrix configuration the job was made from (its expectations apply; "
                         "default: built-in checks, verdict PASS or SKIP)")
    ap.add_argument("--matrix", default=qmatrix.DEFAULT_MATRIX)
    ap.add_argument("--disk-map", metavar="FILE", help="disks.toml written by lava-job")
    ap.add_argument("--console-out", metavar="FILE",
                    help="where to write the rebuilt console (default: console.log next to LOG)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        config = None
        if args.config:
            named = [c for c in qmatrix.load_matrix(args.matrix) if c.name == args.config]
            if not named:
                raise qmatrix.MatrixError(f"no configuration named {args.config} in {args.matrix}")
            config = named[0]
        check = check_file(args.log, config, args.disk_map, args.console_out)
    except (qmatrix.MatrixError, proofcheck.ExpectationError, OSError) as e:
        print(f"lava-check: {e}", file=sys.stderr)
        return 2
    print(format_check(check, args.log))
    return 0 if check.ok else 1
