#!/usr/bin/python3
"""Run the libFuzzer harnesses built by tests/fuzz/fuzz.mk.

    run_fuzz.py replay --bin-dir build/fuzz NAME...
        Runs every file of tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME
        through build/fuzz/fuzz_NAME once.  Fails on any crash, sanitizer
        report or violated invariant.

    run_fuzz.py fuzz --bin-dir build/fuzz --seconds 60 NAME...
        Fuzzes each harness in turn for the given time, starting from the seed
        corpus and regressions (read only) plus build/fuzz/corpus/NAME (where
        new inputs are written), with tests/fuzz/dict/NAME.dict when present.  Crash inputs go to build/fuzz/crashes/NAME/.
        Prints a table: executions, corpus size, coverage, crashes.

Standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(HERE, "regressions")
DICTS = os.path.join(HERE, "dict")
ARTIFACT_PREFIXES = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-")
PER_INPUT_TIMEOUT_S = 10
RSS_LIMIT_MB = 2048


def input_files(name):
    files = []
    for base in (SEEDS, REGRESSIONS):
        d = os.path.join(base, name)
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d))
                      if not f.startswith(".") and f != "README.md"
                      and os.path.isfile(os.path.join(d, f))]
    return files


def replay(args):
    failed = []
    total = 0
    start = time.monotonic()
    for name in args.names:
        binary = os.path.join(args.bin_dir, f"fuzz_{name}")
        files = input_files(name)
        if not files:
            print(f"fuzz-check: {name}: no corpus or regression inputs", file=sys.stderr)
            failed.append(name)
            continue
        proc = subprocess.run([binary, f"-timeout={PER_INPUT_TIMEOUT_S}",
                               f"-rss_limit_mb={RSS_LIMIT_MB}"] + files,
                              capture_output=True, text=True)
        total += len(files)
        if proc.returncode != 0:
            failed.append(name)
            sys.stderr.write(proc.stderr[-6000:])
            print(f"fuzz-check: {name}: FAILED (exit {proc.returncode})", file=sys.stderr)
    took = time.monotonic() - start
    status = "FAILED: " + " ".join(failed) if failed else "ok"
    print(f"fuzz-check: {len(args.names)} harnesses, {total} inputs replayed in {took:.1f} s: {status}")
    return 1 if failed else 0


def last_int(pattern, text):
    found = re.findall(pattern, text)
    return int(found[-1]) if found else None


def artifacts(d):
    if not os.path.isdir(d):
        return set()
    return {f for f in os.listdir(d) if f.startswith(ARTIFACT_PREFIXES)}


def fuzz_one(args, name):
    binary = os.path.join(args.bin_dir, f"fuzz_{name}")
    work = os.path.join(args.bin_dir, "corpus", name)
    crashes = os.path.join(args.bin_dir, "crashes", name)
    logs = os.path.join(args.bin_dir, "logs")
    for d in (work, crashes, logs):
        os.makedirs(d, exist_ok=True)
    before = artifacts(crashes)
    dirs = [work] + [os.path.join(b, name) for b in (SEEDS, REGRESSIONS)
                     if os.path.isdir(os.path.join(b, name))]
    cmd = [binary, f"-max_total_time={args.seconds}", f"-timeout={PER_INPUT_TIMEOUT_S}",
           f"-rss_limit_mb={RSS_LIMIT_MB}", "-print_final_stats=1",
           f"-artifact_prefix={crashes}/"]
    dictionary = os.path.join(DICTS, f"{name}.dict")
    if os.path.exists(dictionary):
        cmd.append(f"-dict={dictionary}")
    cmd += dirs
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - start
    log = os.path.join(logs, f"{name}.log")
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n" + proc.stderr)
    new = sorted(artifacts(crashes) - before)
    return {
        "name": name,
        "seconds": took,
        "execs": last_int(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr),
        "corpus": last_int(r"corp: (\d+)/", proc.stderr),
        "cov": last_int(r"cov: (\d+)", proc.stderr),
        "crashes": len(new),
        "artifacts": [os.path.join(crashes, a) for a in new],
        "exit": proc.returncode,
        "log": log,
    }


def fuzz(args):
    rows = []
    for name in args.names:
        print(f"fuzzing {name} for {args.seconds} s ...", flush=True)
        rows.append(fuzz_one(args, name))
    header = f"{'harness':<18} {'seconds':>7} {'executions':>12} {'exec/s':>8} {'corpus':>7} {'cov':>6} {'crashes':>7}"
    print()
    print(header)
    print("-" * len(header))
    bad = False
    for r in rows:
        rate = int(r["execs"] / r["seconds"]) if r["execs"] and r["seconds"] else 0
        print(f"{r['name']:<18} {r['seconds']:>7.0f} {r['execs'] or 0:>12} {rate:>8} "
              f"{r['corpus'] or 0:>7} {r['cov'] or 0:>6} {r['crashes']:>7}")
        # Exit status other than 0 without an artifact (e.g. a harness that
        # could not start) is a failure too.
        if r["crashes"] or r["exit"] != 0:
            bad = True
    for r in rows:
        for a in r["artifacts"]:
            print(f"  {r['name']}: {a}  (log {r['log']}); make it a regression input: "
                  f"cp {a} tests/fuzz/regressions/{r['name']}/")
        if r["exit"] != 0 and not r["artifacts"]:
            print(f"  {r['name']}: exit {r['exit']} without an artifact, see {r['log']}")
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["replay", "fuzz"])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args(argv)
    return replay(args) if args.mode == "replay" else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
