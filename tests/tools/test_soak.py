"""tools/qsoak.py: fingerprints, the comparison between runs, rendering, the CLI.

The comparison is tested on synthetic fingerprints; one end-to-end test runs
the soak with tests/tools/fake_qemu.py (no QEMU, no ISO) and makes the second
run read a different checksum.
"""
import json
import os
import stat

from proofboot import prooflog
import qsoak

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_QEMU = os.path.join(HERE, "fake_qemu.py")

LOG = """SeaBIOS noise
proofboot: start version=x schema=1 multiboot2=true
test: plan name=nvme.read.bounce groups=nvme selected=true
nvme: read bdf=0000:00:02.0 serial=pb0 nsid=1 slba=0 blocks=8 lba_size=512 bytes=4096 crc32=0x0000beef status=0x000 data_valid=true backend=bounce-buffer purpose=first-blocks
nvme: read bdf=0000:00:02.0 serial=pb0 nsid=1 slba=9 blocks=1 lba_size=512 bytes=512 crc32=0x00000002 status=0x000 data_valid=true backend=bounce-buffer purpose=negative-check
nvme: read bdf=0000:00:02.0 serial=pb0 nsid=1 slba=9 blocks=1 lba_size=512 bytes=512 crc32=0x00000001 status=0x000 data_valid=true backend=bounce-buffer purpose=negative-check
nvme: read bdf=0000:00:02.0 serial=pb0 nsid=1 slba=0 blocks=8 lba_size=512 bytes=4096 crc32=0x12345678 status=0x281 data_valid=false backend=bounce-buffer purpose=audit-exercise
test: result name=nvme.read.bounce status=PASS duration_us=5 reason=
test: result name=runner.hang status=FAIL duration_us=5 reason=timeout
proofboot: verdict status=FAIL passed=1 failed=1 skipped=0
"""


def row(run, config="c", outcome="PASS", ok=True, wall=1.0, tests=None, reads=None, problems=()):
    return {"run": run, "config": config, "outcome": outcome, "ok": ok, "wall": wall,
            "tests": {"a": "PASS", "b": "SKIP"} if tests is None else tests,
            "reads": {"pb0/1/0/8/bounce-buffer/first-blocks": ["0x0000beef"]} if reads is None
            else reads,
            "problems": list(problems)}


def only(summaries, name="c"):
    return next(s for s in summaries if s.config == name)


# ------------------------------------------------------------ fingerprints

def test_fingerprint_keys_reads_and_collects_tests():
    log = prooflog.parse_text(LOG)
    fp = qsoak.fingerprint(log.records, "cfg", 3, "FAIL", True, 1.23456, ["p"])
    assert (fp["run"], fp["config"], fp["outcome"], fp["ok"], fp["wall"]) == (3, "cfg", "FAIL", True,
                                                                              1.235)
    assert fp["tests"] == {"nvme.read.bounce": "PASS", "runner.hang": "FAIL"}
    assert fp["reads"] == {
        "pb0/1/0/8/bounce-buffer/audit-exercise": ["0x12345678 (data_valid=false status=0x281)"],
        "pb0/1/0/8/bounce-buffer/first-blocks": ["0x0000beef"],
        # the same key twice: both checksums, in a stable (sorted) order
        "pb0/1/9/1/bounce-buffer/negative-check": ["0x00000001", "0x00000002"],
    }
    assert list(fp["reads"]) == sorted(fp["reads"])


# ------------------------------------------------------------ comparison

def test_identical_runs_are_stable_with_wall_spread():
    s = only(qsoak.summarize([row(1, wall=1.0), row(2, wall=3.0), row(3, wall=2.5)]))
    assert s.stable and s.healthy and s.changes == [] and s.not_ok == []
    assert (s.wall_min, s.wall_median, s.wall_max) == (1.0, 2.5, 3.0)
    assert s.outcomes == {"PASS": [1, 2, 3]} and s.runs == [1, 2, 3]


def test_outcome_change_is_reported_with_runs_and_not_ok():
    rows = [row(1), row(2, outcome="TIMEOUT", ok=False, problems=["timed out after 120s"]), row(3)]
    s = only(qsoak.summarize(rows))
    assert not s.stable and not s.healthy
    assert [c.what for c in s.changes] == ["outcome"]
    assert s.changes[0].values == {"PASS": [1, 3], "TIMEOUT": [2]}
    assert s.not_ok == [(2, ["timed out after 120s"])]


def test_expected_fail_is_stable_when_always_the_same():
    s = only(qsoak.summarize([row(1, outcome="FAIL"), row(2, outcome="FAIL")]))
    assert s.healthy and s.outcomes == {"FAIL": [1, 2]}


def test_test_status_change_and_missing_test():
    rows = [row(1), row(2, tests={"a": "FAIL", "b": "SKIP"}), row(3, tests={"a": "PASS"})]
    s = only(qsoak.summarize(rows))
    changes = {c.what: c.values for c in s.changes}
    assert changes == {"test a": {"PASS": [1, 3], "FAIL": [2]},
                       "test b": {"SKIP": [1, 2], qsoak.ABSENT: [3]}}
    assert s.not_ok == []     # changed, though every run was OK by its expectations


def test_read_checksum_change_and_missing_read():
    key = "pb0/1/0/8/bounce-buffer/first-blocks"
    other = "pb0/1/5/1/direct-remapping/last-lba"
    rows = [row(1, reads={key: ["0x1"], other: ["0x9"]}),
            row(2, reads={key: ["0x2"], other: ["0x9"]}),
            row(3, reads={key: ["0x1"]})]
    s = only(qsoak.summarize(rows))
    changes = {c.what: c.values for c in s.changes}
    assert changes == {f"read {key}": {("0x1",): [1, 3], ("0x2",): [2]},
                       f"read {other}": {("0x9",): [1, 2], qsoak.ABSENT: [3]}}


def test_read_count_change_is_a_change():
    key = "pb0/1/9/1/bounce-buffer/negative-check"
    s = only(qsoak.summarize([row(1, reads={key: ["0x1"] * 4}), row(2, reads={key: ["0x1"] * 3})]))
    assert [c.what for c in s.changes] == [f"read {key}"]


def test_configuration_missing_from_a_run():
    rows = [row(1, "x"), row(1, "y"), row(2, "x")]
    summaries = qsoak.summarize(rows)
    assert [s.config for s in summaries] == ["x", "y"]
    assert only(summaries, "x").stable
    y = only(summaries, "y")
    assert y.changes[0].what == "present" and y.changes[0].values["no (not run)"] == [2]


def test_most_common_value_is_listed_first():
    rows = [row(1, outcome="FAIL"), row(2), row(3), row(4)]
    s = only(qsoak.summarize(rows))
    assert list(s.changes[0].values) == ["PASS", "FAIL"]


# ------------------------------------------------------------ rendering

def test_render_lists_only_changed_configurations():
    rows = [row(1, "steady"), row(2, "steady"),
            row(1, "flaky"), row(2, "flaky", outcome="TIMEOUT", ok=False, problems=["hung"])]
    text = qsoak.render(qsoak.summarize(rows), "soak: header")
    lines = text.splitlines()
    assert lines[0] == "soak: header"
    assert lines[1].split() == ["configuration", "runs", "outcomes", "not", "OK", "wall",
                                "min/median/max", "stable"]
    assert "2 configuration(s) over 2 run(s): 1 changed between runs, 1 not OK in some run" in text
    assert "flaky: changed between runs" in text and "steady: changed" not in text
    assert "    PASS: run 1" in text and "    TIMEOUT: run 2" in text
    assert "flaky: not OK in run 2" in text and "  run 2: hung" in text
    steady = next(l for l in lines if l.startswith("steady"))
    assert steady.split()[-1] == "yes" and "PASS x2" in steady


def test_render_counts_runs_when_many():
    rows = [row(r, outcome="FAIL" if r == 7 else "PASS") for r in range(1, 31)]
    text = qsoak.render(qsoak.summarize(rows))
    assert "    PASS: 29 runs" in text and "    FAIL: run 7" in text


def test_summary_json_round_trips():
    data = qsoak.summary_json(qsoak.summarize([row(1), row(2, outcome="FAIL")]))
    json.dumps(data)
    (c,) = data["configurations"]
    assert c["stable"] is False and c["outcomes"] == {"PASS": [1], "FAIL": [2]}
    assert c["changes"][0] == {"what": "outcome", "values": [{"value": "PASS", "runs": [1]},
                                                             {"value": "FAIL", "runs": [2]}]}


# ------------------------------------------------------------ CLI

def test_summarize_mode_reads_runs_file(tmp_path, capsys):
    with open(tmp_path / qsoak.RUNS_FILE, "w") as f:
        for r in (row(1), row(2)):
            f.write(json.dumps(r) + "\n")
    assert qsoak.main(["--summarize", "--out-dir", str(tmp_path)]) == 0
    assert "0 changed between runs" in capsys.readouterr().out
    with open(tmp_path / qsoak.RUNS_FILE, "a") as f:
        f.write(json.dumps(row(3, outcome="FAIL")) + "\n")
    assert qsoak.main(["--summarize", "--out-dir", str(tmp_path)]) == 1
    assert (tmp_path / qsoak.SUMMARY_TEXT).read_text().count("c: changed between runs") == 1


def test_usage_errors(tmp_path):
    assert qsoak.main(["--runs", "0"]) == 2
    assert qsoak.main(["--summarize", "--out-dir", str(tmp_path / "nothing")]) == 2
    assert qsoak.main(["--iso", str(tmp_path / "none.iso"), "--out-dir", str(tmp_path)]) == 2


MATRIX = """
[defaults]
timeout = 30

[[config]]
name = "disk"
  [[config.nvme]]
  serial = "pb0"
  size = "64K"
  seed = "soak"
[config.expect]
verdict = "PASS"
"""


def test_soak_end_to_end_reports_a_changed_checksum(tmp_path, capsys):
    """Three runs with the fake QEMU; the second one reads a wrong checksum."""
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(MATRIX)
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"iso")
    counter = tmp_path / "calls"
    qemu = tmp_path / "qemu"
    qemu.write_text("#!/bin/sh\n"
                    f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}\n"
                    "if [ $n -eq 2 ]; then FAKE_QEMU_MODE=badcrc; export FAKE_QEMU_MODE; fi\n"
                    f"exec /usr/bin/python3 {FAKE_QEMU} \"$@\"\n")
    qemu.chmod(qemu.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "soak"
    code = qsoak.main(["-n", "3", "-j", "1", "--matrix", str(matrix), "--iso", str(iso),
                       "--qemu", str(qemu), "--out-dir", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "soak: run 2/3: 1 configuration(s), 0 OK, 1 differ from run 1" in printed
    rows = qsoak.load_runs(str(out / qsoak.RUNS_FILE))
    assert [r["run"] for r in rows] == [1, 2, 3]
    assert [r["ok"] for r in rows] == [True, False, True]
    s = only(qsoak.summarize(rows), "disk")
    (change,) = s.changes
    assert change.what == "read pb0/1/0/8/bounce-buffer/?"
    assert [runs for runs in change.values.values()] == [[1, 3], [2]]
    assert "disk: not OK in run 2" in (out / qsoak.SUMMARY_TEXT).read_text()
    # the ISO soaked is a copy; run 1 and the differing run keep their logs
    assert (out / "proofboot.iso").read_bytes() == b"iso"
    assert (out / "kept" / "run-001" / "disk" / "console.log").exists()
    assert (out / "kept" / "run-002" / "disk" / "console.log").exists()
    assert not (out / "kept" / "run-003").exists()
