"""tools/qmatrix.py: configurations that end by power-off or reset (ends_by)."""
import pytest

from proofboot import proofcheck, prooflog, qmatrix

SHUTDOWN = "qemu_system_shutdown_request reason=6\n"
RESET = ("memory_region_ops_write cpu 0 mr 0x55 addr 0xcf9 value 0xf size 1 "
         "name 'lpc-reset-control'\n")
SERIAL = "memory_region_ops_write cpu 0 mr 0x55 addr 0x3f8 value 0x41 size 1 name 'serial'\n"


def config(ends_by):
    text = f'[[config]]\nname = "x"\nends_by = "{ends_by}"\n'
    return qmatrix.load_matrix_text(text, source="t")[0]


def test_ends_by_adds_the_trace_and_is_validated(tmp_path):
    cfg = config("reboot")
    paths = qmatrix.RunPaths(out_dir=str(tmp_path), disk_dir=str(tmp_path))
    cmd = qmatrix.build_command(cfg, "x.iso", paths)
    assert cmd[cmd.index("-D") + 1] == paths.trace
    assert "memory_region_ops_write" in cmd and "qemu_system_shutdown_request" in cmd
    assert "-D" not in qmatrix.build_command(config("debug-exit"), "x.iso", paths)
    with pytest.raises(qmatrix.MatrixError, match="ends_by must be one of"):
        config("halt")


@pytest.mark.parametrize("ends_by, trace, ok", [
    ("poweroff", [SERIAL, SHUTDOWN], True),
    ("poweroff", [SERIAL, RESET], False),
    ("reboot", [SERIAL, RESET], True),
    ("reboot", [RESET, SERIAL], False),          # the reset write was not the last
    ("reboot", [SERIAL, RESET, SHUTDOWN], False),  # it powered off instead
    ("reboot", [], False),
])
def test_end_evidence(ends_by, trace, ok):
    assert (qmatrix.end_evidence(ends_by, trace) == []) == ok


def test_clean_exit_required_instead_of_the_verdict_code():
    log = prooflog.parse_text("proofboot: verdict status=PASS passed=0 failed=0 skipped=0\n")
    report = proofcheck.check_log(log)
    cfg = config("poweroff")

    def exit_problems(code):
        outcome, _, problems = qmatrix.classify(cfg, code, False, False, "", report)
        assert outcome == "PASS"
        return [p for p in problems if "exit code" in p]

    assert exit_problems(0) == []
    assert "must leave QEMU with status 0" in exit_problems(33)[0]
