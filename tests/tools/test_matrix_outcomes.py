"""tools/matrix (issue 18): nonsensical numbers are usage errors naming the key; failed tests
and their reasons come first (progress line, TAP, check.txt); a QEMU killed by a signal says so;
--disk and [[config.nvme]] bus= place a controller behind a root port or a switch."""
import json
import os

import pytest

from proofboot import qmatrix, reports
from test_qmatrix import FAKE_QEMU, HERE, run

ONE = '[[config]]\nname = "a"\n'
NVME = ONE + '[[config.nvme]]\nsize = "4K"\n'


@pytest.mark.parametrize("text, key", [
    (ONE + "timeout = 0\n", "config[0].timeout"),
    (ONE + "timeout = -5\n", "config[0].timeout"),
    (ONE + 'timeout = "soon"\n', "config[0].timeout"),
    (ONE + "timeout = nan\n", "config[0].timeout"),
    (ONE + "timeout = inf\n", "config[0].timeout"),
    (ONE + "timeout = 1e9\n", "config[0].timeout"),
    (ONE + "timeout = true\n", "config[0].timeout"),
    ("[defaults]\ntimeout = 0\n" + ONE, "config[0].timeout"),
    (NVME + "nsid = 0\n", "a.nvme[0].ns[0].nsid"),
    (NVME + "lba_size = 1000\n", "a.nvme[0].ns[0].lba_size"),
    (NVME + "lba_size = 256\n", "a.nvme[0].ns[0].lba_size"),
    (NVME + "read_error = { first_lba = -1 }\n", "read_error.first_lba"),
    (NVME + "read_error = { first_lba = 1, count = 0 }\n", "read_error.count"),
    (NVME + 'bus = "a,b"\n', "a.nvme[0].bus"),
])
def test_nonsensical_numbers_name_the_key(text, key):
    with pytest.raises(qmatrix.MatrixError, match=key.replace("[", r"\[").replace("]", r"\]")):
        qmatrix.load_matrix_text(text, HERE, "test")


@pytest.mark.parametrize("args, key", [(["--timeout", "0"], "--timeout"),
                                       (["--timeout", "-5"], "--timeout"),
                                       (["-j", "0"], "-j")])
def test_cli_numbers_exit_2(tmp_path, capsys, args, key):
    matrix = tmp_path / "m.toml"
    matrix.write_text(ONE)
    assert qmatrix.main(["--matrix", str(matrix), "--list", *args]) == 2
    assert key in capsys.readouterr().err


def test_timeout_zero_exits_2_through_the_tool(tmp_path):
    import subprocess, sys
    matrix = tmp_path / "m.toml"
    matrix.write_text(ONE + "timeout = 0\n")
    tool = os.path.join(qmatrix.REPO_ROOT, "tools", "matrix")
    proc = subprocess.run([sys.executable, tool, "--matrix", str(matrix), "--list"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "timeout" in proc.stderr and "more than 0" in proc.stderr


def test_unexpected_fail_lists_the_failed_test_first(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="fail")
    assert not r.ok
    assert r.problems[0].startswith("console.log:") and \
        r.problems[0].endswith("test nvme.read.bounce FAIL: forced by fake"), r.problems
    assert "verdict is FAIL, expected PASS or SKIP" in r.problems[1]
    line = qmatrix.progress_line(r, 1, 1).splitlines()
    assert line[1].strip() == r.problems[0]
    check = (tmp_path / "out" / "plain" / "check.txt").read_text().splitlines()
    assert check[0] == r.problems[0] and "expected PASS or SKIP" in check[1]
    tap = reports.tap([r])
    assert tap.index("failed_tests:") < tap.index("problems:")
    assert 'name: "nvme.read.bounce"' in tap and 'reason: "forced by fake"' in tap


def test_expected_fail_has_no_failed_first_problem(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "two-ns-eio")
    assert r.ok and r.problems == []


def test_killed_qemu_says_killed_by_signal(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="killed")
    assert (r.outcome, r.ok, r.exit_code) == (qmatrix.NO_VERDICT, False, -9)
    assert r.problems[0] == "QEMU killed by signal 9 (SIGKILL) before the verdict line", r.problems
    assert not any("QEMU exited" in p or "triple fault" in p for p in r.problems), r.problems
    assert json.loads((tmp_path / "out" / "plain" / "result.json").read_text())["exit_code"] == -9


def test_describe_exit():
    assert qmatrix.describe_exit(-15) == "QEMU killed by signal 15 (SIGTERM)"
    assert qmatrix.describe_exit(125) == "QEMU exited 125"


def devices_of(cmd):
    return [v for f, v in zip(cmd, cmd[1:]) if f == "-device"]


def test_bus_placement_root_port_switch_and_named(tmp_path):
    text = (ONE + '[[config.nvme]]\nsize = "4K"\nbus = "root-port"\n'
            '[[config.nvme]]\nsize = "4K"\nbus = "switch"\n'
            '[[config.nvme]]\nsize = "4K"\nbus = "myport"\n[[config.nvme]]\nsize = "4K"\n')
    config = qmatrix.load_matrix_text(text, HERE, "test")[0]
    cmd = qmatrix.build_command(config, "x.iso", qmatrix.RunPaths(str(tmp_path), str(tmp_path)))
    devs = devices_of(cmd)
    assert "pcie-root-port,id=pbrp0,chassis=64,slot=0" in devs
    assert "nvme,id=nvme0,serial=pb0,bus=pbrp0" in devs
    assert devs.index("pcie-root-port,id=pbrp0,chassis=64,slot=0") < devs.index(
        "nvme,id=nvme0,serial=pb0,bus=pbrp0")
    assert "pcie-root-port,id=pbrp1,chassis=65,slot=0" in devs
    assert "x3130-upstream,id=pbup1,bus=pbrp1" in devs
    assert "xio3130-downstream,id=pbdn1,bus=pbup1,chassis=129,slot=0" in devs
    assert "nvme,id=nvme1,serial=pb1,bus=pbdn1" in devs
    assert "nvme,id=nvme2,serial=pb2,bus=myport" in devs
    assert "nvme,id=nvme3,serial=pb3" in devs


def test_user_disk_behind_a_root_port(tmp_path):
    img = tmp_path / "u.img"
    img.write_bytes(b"\0" * 4096)
    config = qmatrix.load_matrix_text(ONE, HERE, "test")[0]
    qmatrix.add_user_disk(config, f"{img},bus=root-port,serial=u0", 0)
    qmatrix.add_user_disk(config, f"{img},bus=switch", 1)
    devs = devices_of(qmatrix.build_command(config, "x.iso",
                                            qmatrix.RunPaths(str(tmp_path), str(tmp_path))))
    assert "nvme,id=nvme0,serial=u0,bus=pbrp0" in devs
    assert "nvme,id=nvme1,serial=user1,bus=pbdn1" in devs
    for bad, key in ((",nsid=0", "nsid"), (",lba_size=3", "lba_size"), (",bus=a b", "bus")):
        with pytest.raises(qmatrix.MatrixError, match=key):
            qmatrix.add_user_disk(config, f"{img}{bad}", 2)
