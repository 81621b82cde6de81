"""tools/trace-faults: the firmware's fault lines against QEMU's vtd_* trace."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(REPO, "tools", "trace-faults")

FAULT = ("iommu: fault recorded unit=0 record=0 reason=0x05 type=write sid=0000:01:00.0 "
         "addr=0x0000010000085000 seen_by=interrupt")
TRACE = ["1@1.0:vtd_dmar_fault sid 0x100 fault 5 addr 0x10000085000 write 1",
         "1@1.1:vtd_dmar_fault sid 0x100 fault 5 addr 0x10000085004 write 1",
         "1@1.2:vtd_irq_generate addr 0xfee00000 data 0x31"]


def run(tmp_path, log, trace):
    (tmp_path / "log").write_text("\n".join(log) + "\n")
    (tmp_path / "trace").write_text("\n".join(trace) + "\n")
    p = subprocess.run([sys.executable, TOOL, str(tmp_path / "log"), str(tmp_path / "trace")],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def test_one_blocked_transfer_is_one_episode(tmp_path):
    rc, out = run(tmp_path, [FAULT], TRACE)
    assert rc == 0, out
    assert "1 fault(s) claimed, 1 traced, 1 seen by interrupt, 1 fault event(s) sent" in out


def test_a_claim_qemu_did_not_trace_fails(tmp_path):
    rc, out = run(tmp_path, [FAULT, FAULT.replace("0000:01:00.0", "0000:02:00.0")], TRACE)
    assert rc == 1 and "traced 1 fault episode(s), the firmware recorded 2" in out


def test_a_different_fault_fails(tmp_path):
    rc, out = run(tmp_path, [FAULT.replace("reason=0x05 type=write", "reason=0x06 type=read")],
                  TRACE)
    assert rc == 1 and "fault 1: QEMU traced" in out


def test_interrupt_claims_need_fault_events(tmp_path):
    rc, out = run(tmp_path, [FAULT], TRACE[:2])
    assert rc == 1 and "but QEMU sent 0 fault event(s)" in out
    rc, out = run(tmp_path, [FAULT.replace("seen_by=interrupt", "seen_by=poll")], TRACE[:2])
    assert rc == 0, out


def test_usage_errors(tmp_path):
    p = subprocess.run([sys.executable, TOOL, str(tmp_path / "missing")], capture_output=True)
    assert p.returncode == 2
    p = subprocess.run([sys.executable, TOOL, str(tmp_path / "a"), str(tmp_path / "b")],
                       capture_output=True)
    assert p.returncode == 2
