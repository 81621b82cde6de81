"""make run (issue 18): exit 0 only for a PASS verdict; DISK= attaches a controller whose reads
are CRC-checked against the image; QEMU_ARGS= adds devices.  Boots the real ISO (about 1 s each)."""
import os
import re
import shutil
import subprocess

import pytest

from proofboot import diskimage, qmatrix

REPO = qmatrix.REPO_ROOT
ISO = os.path.join(REPO, "build", "proofboot.iso")

pytestmark = [
    pytest.mark.skipif(not os.path.isfile(ISO), reason=f"{ISO} missing: run `make` first"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="no QEMU"),
]


def make_run(tmp_path, *variables):
    log = tmp_path / "run.log"
    proc = subprocess.run(["make", "-s", "-C", REPO, "-o", "build/proofboot.iso", "run",
                           f"RUN_LOG={log}", "RUN_TIMEOUT=60", *variables],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr, log


def test_fail_verdict_is_a_non_zero_exit(tmp_path):
    code, out, log = make_run(tmp_path, "OPTIONS=dma=bouncy")
    assert code != 0, out
    assert "qemu exit status 35" in out
    assert "test boot.options FAIL: 1 option error(s)" in out
    assert "proofboot: verdict status=FAIL" in log.read_text(errors="replace")


def test_pass_verdict_exits_0_and_default_boots_no_nvme(tmp_path):
    code, out, log = make_run(tmp_path, "OPTIONS=tests=boot.*,pci.*")
    assert code == 0, out
    assert "qemu exit status 33" in out and "verdict PASS: all checks passed" in out
    assert not re.search(r"^pci: device .* name=nvme ", log.read_text(errors="replace"), re.M)


def test_disk_and_qemu_args_attach_a_controller_and_an_iommu(tmp_path):
    spec = diskimage.DiskSpec(size=16 << 20, lba_size=512, seed="make-run")
    image = tmp_path / "disk.img"
    diskimage.write_image(spec, str(image))
    code, out, log = make_run(tmp_path, f"DISK={image}", "DISK_SERIAL=runpb",
                              "QEMU_ARGS=-device intel-iommu,aw-bits=48",
                              )
    assert code == 0, out
    text = log.read_text(errors="replace")
    assert "serial=runpb" in text and "backend=direct-remapping" in text
    assert "nvme read(s) checked against disk images" in out and " 0 nvme read(s)" not in out
    # the same log against another image: the CRC check catches it and make run fails
    other = tmp_path / "other.img"
    diskimage.write_image(diskimage.DiskSpec(size=1 << 20, lba_size=512, seed="other"), str(other))
    proc = subprocess.run([os.path.join(REPO, "tools", "check-log"), "--disk", f"runpb={other}",
                           str(log)], capture_output=True, text=True)
    assert proc.returncode == 1 and "have crc32=" in proc.stdout
