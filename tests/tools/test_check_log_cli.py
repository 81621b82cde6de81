"""tools/check-log's exit status: the verdict must be accepted, inputs must be readable,
and a capture with several boots is checked run by run (issue 18, issue 17's multi-run bullet)."""
import os
import subprocess
import sys

import pytest

from proofboot import prooflog, proofcheck
from synth import as_log, proof_lines, read_line

CHECK_LOG = os.path.join(prooflog.repo.ROOT, "tools", "check-log")
FAILED = (("boot.options", "PASS"), ("nvme.read.bounce", "FAIL"))
SKIPPED = (("nvme.read.bounce", "SKIP"),)


def check_log(*args):
    proc = subprocess.run([sys.executable, CHECK_LOG, *map(str, args)],
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def write_log(tmp_path, results=FAILED, name="console.log", reason="controller%20fatal"):
    text = as_log(proof_lines(results=results))
    text = text.replace("status=FAIL duration_us=12 reason=", f"status=FAIL duration_us=12 reason={reason}")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_fail_verdict_exits_1_and_names_the_failed_test_first(tmp_path):
    log = write_log(tmp_path)
    code, out = check_log(log)
    assert code == 1, out
    lines = out.splitlines()
    assert lines[0] == f"{log}:10: test nvme.read.bounce FAIL: controller fatal"
    assert "verdict is FAIL (failed: nvme.read.bounce), accepted: PASS" in lines[1]
    assert lines[-1].startswith(f"check-log: {log}: verdict FAIL: 1 error(s);")


@pytest.mark.parametrize("accept", [["--verdict", "FAIL"], ["--verdict", "any"],
                                    ["--verdict", "PASS", "--verdict", "FAIL"]])
def test_fail_verdict_accepted_on_request(tmp_path, accept):
    code, out = check_log(write_log(tmp_path), *accept)
    assert code == 0, out
    assert "verdict FAIL: all checks passed" in out.splitlines()[-1]
    assert "test nvme.read.bounce FAIL" not in out      # nothing unexpected to explain


def test_expect_file_verdict_still_accepts(tmp_path):
    expect = tmp_path / "e.toml"
    expect.write_text('verdict = "FAIL"\n[tests]\n"nvme.read.bounce" = "FAIL"\n')
    assert check_log(write_log(tmp_path), "--expect", expect)[0] == 0
    expect.write_text('verdict = ["PASS", "SKIP"]\n')
    code, out = check_log(write_log(tmp_path), "--expect", expect)
    assert code == 1 and "expected PASS or SKIP" in out


def test_skip_verdict_exits_1_unless_accepted(tmp_path):
    log = write_log(tmp_path, SKIPPED)
    code, out = check_log(log)
    assert code == 1 and out.splitlines()[-1].startswith(f"check-log: {log}: verdict SKIP: 1 error(s)")
    assert check_log(log, "--verdict", "SKIP")[0] == 0


def test_pass_verdict_exits_0(tmp_path):
    code, out = check_log(write_log(tmp_path, (("boot.options", "PASS"),)))
    assert code == 0, out
    assert "verdict PASS: all checks passed" in out


def test_bad_verdict_word_is_usage_error(tmp_path):
    assert check_log(write_log(tmp_path), "--verdict", "pass")[0] == 2


def test_unreadable_inputs_are_usage_errors(tmp_path, disk):
    log = write_log(tmp_path, (("boot.options", "PASS"),))
    for args in ([tmp_path / "missing.log"],
                 [log, "--disk", tmp_path / "missing.img"],
                 [log, "--disk", f"pb0:1={tmp_path / 'missing.img'}"],
                 [log, "--disk", tmp_path],                      # a directory
                 [log, "--expect", tmp_path / "missing.toml"]):
        code, out = check_log(*args)
        assert code == 2, (args, out)
    dmap = tmp_path / "disks.toml"
    dmap.write_text('[[disk]]\nserial = "pb0"\nnsid = 1\npath = "gone.img"\n')
    code, out = check_log(log, "--disk-map", dmap)
    assert code == 2 and "gone.img is not a readable file" in out


def two_boots(tmp_path, spec, second_cut=False):
    """An end=reboot capture: two full runs, or a second one cut before its verdict."""
    first = proof_lines(extra=[read_line(spec, 0, 8)])
    second = proof_lines(extra=[read_line(spec, 8, 8)])
    if second_cut:
        second = second[:-2]
    path = tmp_path / "loop.log"
    path.write_text(as_log(first) + as_log(second))
    return path, len(first) + 4      # GRUB noise: 4 lines per boot


def test_two_runs_are_checked_one_by_one(tmp_path, disk):
    spec, image = disk
    log, first_len = two_boots(tmp_path, spec)
    code, out = check_log(log, "--disk", f"pb0:1={image}")
    assert code == 0, out
    assert f"2 runs ('proofboot: start' on lines 5, {first_len + 5}); checking all" in out
    # the second boot's BIOS/GRUB lines end the first run; the second starts at its start line
    assert f"run 1/2 (lines 1-{first_len + 4}): verdict PASS: all checks passed" in out
    assert f"run 2/2 (lines {first_len + 5}-{2 * first_len}): verdict PASS: all checks passed" in out
    assert "1 nvme read(s) checked" in out and "2 of 2 runs clean" in out
    assert "second plan line" not in out


def test_a_cut_run_fails_all_and_last_but_not_the_other(tmp_path, disk):
    spec, image = disk
    log, first_len = two_boots(tmp_path, spec, second_cut=True)
    code, out = check_log(log, "--disk", f"pb0:1={image}")
    assert code == 1 and "1 of 2 runs clean" in out and "no 'proofboot: verdict' line" in out
    assert check_log(log, "--run", "last")[0] == 1
    code, out = check_log(log, "--run", "1")
    assert code == 0 and "run 1/2" in out and "run 2/2" not in out
    code, out = check_log(log, "--run", "3")
    assert code == 2 and "holds 2 run(s)" in out


def test_split_runs_keeps_line_numbers_and_a_single_run_intact(disk):
    spec, _ = disk
    one = prooflog.parse_text(as_log(proof_lines()))
    assert prooflog.split_runs(one) == [one]
    both = prooflog.parse_text(as_log(proof_lines()) + as_log(proof_lines()) + "proofboot: sta")
    runs = prooflog.split_runs(both)
    assert [len(r.records) for r in runs] == [len(one.records)] * 2
    assert runs[1].records[0].lineno == one.total_lines + 5
    assert runs[0].partial is None and runs[1].partial is not None
    assert all(proofcheck.check_log(r).ok for r in runs)
