"""proofboot.boot / parse_log / Run and the pytest plugin, against the real ISO.

make check runs these from an offline install (pip --target): PROOFBOOT_EXPECT_INSTALLED
names the install directory, and the package must come from there (not from python/)."""
import os
import shutil
import subprocess
import sys

import pytest

import proofboot
from proofboot import diskimage, qmatrix

HERE = os.path.dirname(os.path.abspath(__file__))
ISO = proofboot.runs.default_iso()

pytestmark = [
    pytest.mark.skipif(not os.path.isfile(ISO), reason=f"{ISO} missing: run make first"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="no QEMU"),
]


def test_the_package_under_test_is_the_installed_copy():
    where = os.environ.get("PROOFBOOT_EXPECT_INSTALLED")
    if not where:
        pytest.skip("not run from an install (make check sets PROOFBOOT_EXPECT_INSTALLED)")
    assert os.path.realpath(proofboot.__file__).startswith(os.path.realpath(where) + os.sep)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One boot with one controller: its log stands in for a lab capture."""
    tmp = tmp_path_factory.mktemp("lab")
    spec = diskimage.DiskSpec(size=16 << 20, lba_size=512, seed="api-lab")
    image = str(tmp / "lab.img")
    diskimage.write_image(spec, image)
    run = proofboot.boot(disks={"lab0": image}, options="dma=bounce", out_dir=str(tmp / "out"))
    return run, image, tmp


def test_boot_returns_a_checked_run(lab):
    run, image, _ = lab
    assert run.check() is run
    assert run.verdict == "PASS" and run.exit_code == 33 and run.failed_tests == []
    assert run.backend == "bounce-buffer" and run.faults == []
    assert run.tests["nvme.read.bounce"] == "PASS"
    reads = run.reads
    assert reads and all(r.serial == "lab0" and r.crc_ok for r in reads)
    assert reads[0].expected_crc32 == diskimage.file_crc32(image, reads[0].slba, reads[0].blocks, 512)
    ident = run.records("nvme", "identify controller")
    assert {r.fields["sn"] for r in ident} == {"lab0"} and ident[0].number("vid") == 0x1b36


def test_parse_log_checks_a_lab_log_against_its_disk(lab, tmp_path):
    run, image, _ = lab
    log = tmp_path / "lab.log"
    shutil.copy(run.log_path, log)
    again = proofboot.parse_log(str(log), disks={"lab0": image})
    assert again.verdict == "PASS" and again.exit_code is None, (log.stat().st_size, again.findings[:3])
    assert [r.crc_ok for r in again.reads] == [r.crc_ok for r in run.reads]
    again.check()
    other = tmp_path / "other.img"
    diskimage.write_image(diskimage.DiskSpec(size=16 << 20, lba_size=512, seed="other"), str(other))
    wrong = proofboot.parse_log(str(log), disks={"lab0": other})
    assert not any(r.crc_ok for r in wrong.reads)
    with pytest.raises(proofboot.CheckFailed, match="have crc32="):
        wrong.check()


def test_parse_log_picks_a_run_of_a_multi_boot_capture(lab, tmp_path):
    run, _, _ = lab
    text = open(run.log_path, "rb").read()
    log = tmp_path / "two.log"
    log.write_bytes(text + text.replace(b"proofboot: verdict", b"proofboot: cut", 1)[: len(text) // 2])
    assert proofboot.parse_log(str(log), run=0).check().verdict == "PASS"
    assert proofboot.parse_log(str(log)).verdict == "NO-VERDICT"


def test_check_raises_with_the_failed_tests_first(tmp_path):
    run = proofboot.boot(options="dma=bouncy", out_dir=str(tmp_path))
    assert run.verdict == "FAIL" and run.exit_code == 35
    assert [t.name for t in run.failed_tests] == ["boot.options"]
    assert "dma-must-be-auto-bounce-or-iommu" in run.failed_tests[0].reason
    with pytest.raises(proofboot.CheckFailed) as failed:
        run.check()
    assert "test boot.options FAIL" in failed.value.problems[0]
    assert "verdict FAIL, accepted: PASS" in failed.value.problems[1]
    run.check(accept=("FAIL",))
    run.check(accept="any")


def test_boot_without_an_iso_or_with_nonsense(tmp_path):
    with pytest.raises(FileNotFoundError):
        proofboot.boot(iso=str(tmp_path / "none.iso"))
    with pytest.raises(qmatrix.MatrixError, match="timeout"):
        proofboot.boot(timeout=0)


USER_TEST = os.path.join(HERE, "test_two_root_ports.py")


def run_pytest(tmp_path, source):
    test = tmp_path / "case" / "test_case.py"
    test.parent.mkdir()
    test.write_text(source)
    base = tmp_path / "base"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--basetemp={base}", f"--proofboot-iso={ISO}", str(test)],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    return proc.returncode, proc.stdout + proc.stderr, base


def test_plugin_fixture_passes_and_cleans_up(tmp_path):
    code, out, base = run_pytest(tmp_path, open(USER_TEST).read())
    assert code == 0, out
    assert not list(base.rglob("console.log")), "a passing test's boot output is removed"


def test_user_test_fails_when_a_controller_is_removed(tmp_path):
    source = open(USER_TEST).read()
    one = source.replace(', "rp-b": {"size": "16M", "bus": "root-port"}', "")
    assert one != source
    code, out, base = run_pytest(tmp_path, one)
    assert code == 1, out
    assert "assert {'rp-a'} == {'rp-a', 'rp-b'}" in out
    assert "proofboot console 1: PASS" in out and "proofboot: verdict status=PASS" in out
    assert list(base.rglob("console.log")), "a failing test keeps its console log"
