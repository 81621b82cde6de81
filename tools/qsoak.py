"""Run the QEMU matrix many times and report what is not the same every time.

Each iteration runs the selected configurations with qmatrix.run_matrix (so
QEMU handling, log checks and expectations are the matrix's own) and boils
every configuration's result down to a *fingerprint*:

- outcome (the verdict, or NO-VERDICT / TIMEOUT / QEMU-ERROR) and whether it
  was OK (expected, every check held),
- the test set: every `test: result` name with its status,
- read checksums: the crc32 of every `nvme: read`, keyed by
  serial/nsid/slba/blocks/backend/purpose,
- the wall time.

Fingerprints go to OUT/runs.jsonl as they arrive (one JSON object per
configuration and run), so an interrupted soak keeps what it measured and
`--summarize` can report it later.  The summary lists every configuration
whose outcome, test set or read checksums changed between runs, every run
that was not OK, and the min/median/max wall time per configuration.

The ISO is copied into OUT first: a rebuild during a long soak does not
change what is being soaked.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import sys
import time

from proofboot import prooflog
from proofboot import qmatrix

DEFAULT_OUT = os.path.join(qmatrix.REPO_ROOT, "build", "soak")
RUNS_FILE = "runs.jsonl"
SUMMARY_TEXT = "summary.txt"
SUMMARY_JSON = "summary.json"
ABSENT = "absent"          # a test or read that some runs did not have
RUNS_SHOWN = 10            # run numbers listed before switching to a count


# ------------------------------------------------------------ fingerprints

def read_key(fields: dict) -> str:
    """serial/nsid/slba/blocks/backend/purpose of an `nvme: read` line."""
    return "/".join(fields.get(k, "?") for k in
                    ("serial", "nsid", "slba", "blocks", "backend", "purpose"))


def read_value(fields: dict) -> str:
    """The read's crc32, marked when the buffer did not hold the device's data."""
    crc = fields.get("crc32", "?")
    if fields.get("data_valid", "true") == "true":
        return crc
    return f"{crc} (data_valid=false status={fields.get('status', '?')})"


def fingerprint(records, config: str, run: int, outcome: str, ok: bool, wall: float,
                problems=()) -> dict:
    """One configuration's run, from its proof-line records (prooflog.Record)."""
    tests = {}
    reads = collections.defaultdict(list)
    for r in records:
        if r.kind == "test: result":
            tests[r.fields.get("name", "?")] = r.fields.get("status", "?")
        elif r.kind == "nvme: read":
            reads[read_key(r.fields)].append(read_value(r.fields))
    return {"run": run, "config": config, "outcome": outcome, "ok": ok,
            "wall": round(wall, 3), "tests": tests,
            "reads": {k: sorted(v) for k, v in sorted(reads.items())},
            "problems": list(problems)[:6]}


def fingerprint_result(result: qmatrix.Result, run: int) -> dict:
    records = []
    if result.log_path and os.path.exists(result.log_path):
        records = prooflog.parse_file(result.log_path).records
    return fingerprint(records, result.config.name, run, result.outcome, result.ok,
                       result.wall, result.problems)


# ------------------------------------------------------------ comparison

@dataclasses.dataclass
class Change:
    """One aspect of a configuration that differed between runs."""
    what: str                 # "outcome", "test <name>", "read <key>"
    values: dict              # value -> sorted run numbers


@dataclasses.dataclass
class ConfigSummary:
    config: str
    runs: list                # run numbers that have this configuration
    outcomes: dict            # outcome -> run numbers
    not_ok: list              # (run, problems) of runs that were not OK
    changes: list             # Change, in a stable order
    wall_min: float
    wall_median: float
    wall_max: float

    @property
    def stable(self) -> bool:
        return not self.changes

    @property
    def healthy(self) -> bool:
        return self.stable and not self.not_ok


def _group(values_by_run: dict) -> dict:
    """{run: value} -> {value: [runs]}, the most common value first."""
    out = collections.defaultdict(list)
    for run, value in sorted(values_by_run.items()):
        out[value].append(run)
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[1][0])))


def _aspect_changes(prefix: str, per_run: dict, runs: list) -> list:
    """Changes of each key of a per-run mapping ({run: {key: value}}); missing keys are ABSENT."""
    keys = sorted({k for mapping in per_run.values() for k in mapping})
    changes = []
    for key in keys:
        values = {run: _hashable(per_run[run].get(key, ABSENT)) for run in runs}
        grouped = _group(values)
        if len(grouped) > 1:
            changes.append(Change(f"{prefix} {key}", grouped))
    return changes


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def summarize_config(name: str, rows: list, all_runs: list) -> ConfigSummary:
    """rows: this configuration's fingerprints (any order)."""
    by_run = {row["run"]: row for row in rows}
    runs = sorted(by_run)
    outcomes = _group({run: by_run[run]["outcome"] for run in runs})
    changes = []
    missing = [run for run in all_runs if run not in by_run]
    if missing:
        changes.append(Change("present", {"yes": runs, "no (not run)": missing}))
    if len(outcomes) > 1:
        changes.append(Change("outcome", outcomes))
    changes += _aspect_changes("test", {r: by_run[r]["tests"] for r in runs}, runs)
    changes += _aspect_changes("read", {r: by_run[r]["reads"] for r in runs}, runs)
    walls = [by_run[run]["wall"] for run in runs] or [0.0]
    return ConfigSummary(
        config=name, runs=runs, outcomes=outcomes,
        not_ok=[(run, by_run[run].get("problems", [])) for run in runs if not by_run[run]["ok"]],
        changes=changes, wall_min=min(walls), wall_median=statistics.median(walls),
        wall_max=max(walls))


def summarize(rows: list) -> list:
    """Fingerprints of every run -> one ConfigSummary per configuration (first-seen order)."""
    order = []
    per_config = collections.defaultdict(list)
    for row in rows:
        if row["config"] not in per_config:
            order.append(row["config"])
        per_config[row["config"]].append(row)
    all_runs = sorted({row["run"] for row in rows})
    return [summarize_config(name, per_config[name], all_runs) for name in order]


# ------------------------------------------------------------ rendering

def _runs_text(runs: list, total: int) -> str:
    if len(runs) == total:
        return "every run"
    if len(runs) <= RUNS_SHOWN:
        return ("run " if len(runs) == 1 else "runs ") + ",".join(str(r) for r in runs)
    return f"{len(runs)} runs"


def _value_text(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]" if len(value) != 1 else value[0]
    return str(value)


def render(summaries: list, header: str = "") -> str:
    total_runs = len({run for s in summaries for run in s.runs})
    lines = [header] if header else []
    rows = [("configuration", "runs", "outcomes", "not OK", "wall min/median/max", "stable")]
    for s in summaries:
        outcomes = ", ".join(f"{o} x{len(r)}" for o, r in s.outcomes.items())
        rows.append((s.config, str(len(s.runs)), outcomes, str(len(s.not_ok)),
                     f"{s.wall_min:.1f}/{s.wall_median:.1f}/{s.wall_max:.1f}s",
                     "yes" if s.stable else "NO"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    table.insert(1, "  ".join("-" * w for w in widths))
    lines += table
    changed = [s for s in summaries if not s.stable]
    unhealthy = [s for s in summaries if s.not_ok]
    lines.append(f"{len(summaries)} configuration(s) over {total_runs} run(s): "
                 f"{len(changed)} changed between runs, {len(unhealthy)} not OK in some run")
    for s in changed:
        lines.append("")
        lines.append(f"{s.config}: changed between runs")
        for change in s.changes:
            lines.append(f"  {change.what}:")
            for value, runs in change.values.items():
                lines.append(f"    {_value_text(value)}: {_runs_text(runs, len(s.runs))}")
    for s in unhealthy:
        lines.append("")
        lines.append(f"{s.config}: not OK in {_runs_text([r for r, _ in s.not_ok], len(s.runs))}")
        for run, problems in s.not_ok[:RUNS_SHOWN]:
            first = problems[0] if problems else "(no problem recorded)"
            lines.append(f"  run {run}: {first}")
    return "\n".join(lines)


def summary_json(summaries: list) -> dict:
    return {"configurations": [
        {"config": s.config, "runs": len(s.runs), "stable": s.stable,
         "outcomes": {o: r for o, r in s.outcomes.items()},
         "not_ok_runs": [r for r, _ in s.not_ok],
         "wall_seconds": {"min": s.wall_min, "median": s.wall_median, "max": s.wall_max},
         "changes": [{"what": c.what,
                      "values": [{"value": _value_text(v), "runs": r} for v, r in c.values.items()]}
                     for c in s.changes]}
        for s in summaries]}


# ------------------------------------------------------------ files

def load_runs(path: str) -> list:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: {e}")
    return rows


def write_summary(out_dir: str, rows: list, header: str) -> str:
    summaries = summarize(rows)
    text = render(summaries, header)
    with open(os.path.join(out_dir, SUMMARY_TEXT), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, SUMMARY_JSON), "w", encoding="utf-8") as f:
        json.dump(summary_json(summaries), f, indent=1)
        f.write("\n")
    return text


def snapshot_iso(iso: str, out_dir: str) -> tuple:
    """Copies the ISO into out_dir; returns (copy path, sha256)."""
    copy = os.path.join(out_dir, "proofboot.iso")
    shutil.copyfile(iso, copy)
    with open(copy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return copy, digest


def _keep_logs(result: qmatrix.Result, row: dict, baseline: dict | None, out_dir: str) -> None:
    """Keeps the first run's logs and those of later runs that differ or were not OK."""
    same = baseline is not None and all(row[k] == baseline[k] for k in ("outcome", "tests", "reads"))
    if same and row["ok"]:
        return
    src = os.path.dirname(result.log_path) if result.log_path else ""
    if not src or not os.path.isdir(src):
        return
    dst = os.path.join(out_dir, "kept", f"run-{row['run']:03d}", row["config"])
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)


# ------------------------------------------------------------ CLI

def parse_args(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="soak",
        description="Run the QEMU matrix N times and report every configuration whose outcome, "
                    "test results or read checksums changed between runs, with wall-time spread. "
                    "Exit 0 when every configuration was the same and OK in every run, 1 otherwise, "
                    "2 on usage error.")
    ap.add_argument("select", nargs="*", metavar="NAME|GROUP",
                    help="configuration names or groups (globs); default: all")
    ap.add_argument("-n", "--runs", type=int, default=10, help="iterations (default 10)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="configurations run in parallel within a run (default: CPU count)")
    ap.add_argument("--matrix", default=qmatrix.DEFAULT_MATRIX, help="matrix file")
    ap.add_argument("--iso", default=qmatrix.DEFAULT_ISO, help="ISO to boot (copied into OUT first)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT, help="results (default build/soak)")
    ap.add_argument("--qemu", default="qemu-system-x86_64", help="QEMU binary")
    ap.add_argument("--summarize", action="store_true",
                    help="run nothing: summarize OUT/runs.jsonl of an earlier (or running) soak")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    out_dir = os.path.abspath(args.out_dir)
    runs_path = os.path.join(out_dir, RUNS_FILE)
    if args.summarize:
        try:
            rows = load_runs(runs_path)
        except (OSError, ValueError) as e:
            print(f"soak: {e}", file=sys.stderr)
            return 2
        text = write_summary(out_dir, rows, f"soak: summary of {runs_path}")
        print(text)
        return 0 if all(s.healthy for s in summarize(rows)) else 1
    try:
        configs = qmatrix.select(qmatrix.load_matrix(args.matrix), args.select)
    except qmatrix.MatrixError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 2
    if not os.path.isfile(args.iso):
        print(f"soak: no ISO at {args.iso} (build it with make, or pass --iso)", file=sys.stderr)
        return 2
    return soak(configs, args, out_dir, runs_path)


def soak(configs: list, args, out_dir: str, runs_path: str) -> int:
    os.makedirs(out_dir, exist_ok=True)
    shutil.rmtree(os.path.join(out_dir, "kept"), ignore_errors=True)
    iso, digest = snapshot_iso(args.iso, out_dir)
    header = (f"soak: {args.runs} run(s) planned of {len(configs)} configuration(s) from "
              f"{os.path.relpath(args.matrix, qmatrix.REPO_ROOT)}, {args.jobs} at a time, "
              f"ISO sha256 {digest[:16]}")
    print(header, flush=True)
    rows, baseline = [], {}
    matrix_out = os.path.join(out_dir, "matrix")
    with open(runs_path, "w", encoding="utf-8") as runs_file:
        for run in range(1, args.runs + 1):
            start = time.monotonic()
            try:
                results = qmatrix.run_matrix(configs, iso, matrix_out, args.jobs, False, args.qemu,
                                             progress=lambda line: None)
            except KeyboardInterrupt:
                print(f"soak: interrupted in run {run}; QEMU processes killed", file=sys.stderr)
                break
            changed = 0
            for result in results:
                row = fingerprint_result(result, run)
                base = baseline.setdefault(row["config"], row)
                changed += base is not row and any(row[k] != base[k]
                                                   for k in ("outcome", "tests", "reads"))
                _keep_logs(result, row, None if base is row else base, out_dir)
                rows.append(row)
                runs_file.write(json.dumps(row, sort_keys=True) + "\n")
            runs_file.flush()
            bad = [r.config.name for r in results if not r.ok]
            print(f"soak: run {run}/{args.runs}: {len(results)} configuration(s), "
                  f"{len(results) - len(bad)} OK, {changed} differ from run 1, "
                  f"{time.monotonic() - start:.1f}s" + (f"; not OK: {', '.join(bad)}" if bad else ""),
                  flush=True)
            write_summary(out_dir, rows, header)
    if not rows:
        return 1
    done = max(row["run"] for row in rows)
    text = write_summary(out_dir, rows, header.replace(f"{args.runs} run(s) planned",
                                                       f"{done} of {args.runs} run(s)"))
    print()
    print(text)
    print(f"\nsoak: {os.path.join(out_dir, SUMMARY_TEXT)}, {runs_path}; logs of run 1 and of "
          f"differing runs in {os.path.join(out_dir, 'kept')}")
    return 0 if done == args.runs and all(s.healthy for s in summarize(rows)) else 1
