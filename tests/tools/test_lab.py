"""tests/lab/*.toml: expectations for logs captured on real machines (docs/hardware-lab.md).

No lab machine runs here, so these tests pin down what the files demand: a
log with the documented Nitro EBS lines passes, the QEMU-shaped equivalent
(the same run on an emulated controller) does not.
"""
import os

from proofboot import proofcheck
from proofboot import prooflog
from proofboot import qmatrix
import synth

NITRO = os.path.join(qmatrix.REPO_ROOT, "tests", "lab", "aws-nitro-ebs.toml")
BDF = "0000:00:04.0"
TESTS = ("boot.options", "pci.enumerate", "nvme.bind.bounce", "nvme.identify.bounce",
         "nvme.classify", "nvme.read.bounce", "dma.audit.bounce", "nvme.shutdown.bounce")


def nitro_lines(vendor="0x1d0f", device="0x8061", provider="aws", shape="aws-nitro-ebs",
                model="Amazon%20Elastic%20Block%20Store", backend="bounce-buffer"):
    extra = [
        "proofboot: safety mode=read-only",
        f"pci: device bdf={BDF} vendor={vendor} device={device} class=0x01 subclass=0x08 "
        "prog_if=0x02 revision=0x00 name=nvme header=endpoint multifunction=false irq_pin=1 "
        "bars=1 caps=msix@0x70 cap_walk=ok extended_config=true",
        f"dma: backend selection backend={backend} reason=no-remapping-backend "
        "policy=direct-remapping-if-verified-else-bounce-buffer option=auto",
        f"nvme: controller bdf={BDF} vendor={vendor} device={device} selected_by=pci-class "
        "bar0=0xfebf0000 bar0_size=0x4000 bar0_kind=mem32 command=0x0406 memory_space=true "
        "bus_master=true",
        f"nvme: cloud shape classification bdf={BDF} cloud_shape={shape} pci_vendor={vendor} "
        f"pci_device_id={device} class=0x01 subclass=0x08 prog_if=0x02 "
        "aws_nitro_ebs_vendor=0x1d0f local_qemu_precursor=" + ("true" if provider == "qemu" else "false") +
        " real_aws_enumeration=" + ("claimed" if provider == "aws" else "not-claimed") +
        " ena=separate-nic-driver-out-of-scope aws_labeled_dma_backend=bounce-buffer "
        "dma_backend_policy=direct-remapping-if-verified-else-bounce-buffer "
        f"selected_by=pci-class known=true provider={provider} "
        f"model={model} disk_kind=ebs-volume model_consistent=true "
        "dma_addr_bits=48 dma_max=0x0000ffffffffffff",
        f"nvme: aws ebs bdf={BDF} volume_id=vol-0123456789abcdef0 volume_id_ok=true "
        "block_device=xvda block_device_ok=true",
        f"nvme: read bdf={BDF} serial=vol0123456789abcdef0 nsid=1 slba=0 blocks=8 lba_size=512 "
        f"bytes=4096 crc32=0x12345678 status=0x000 data_valid=true backend={backend} "
        "purpose=first-blocks commands=1 blocks_per_command=1024 max_in_flight=1 mode=msix "
        "irq_count=1 duration_us=900",
        f"dma: audit bdf={BDF} backend=bounce-buffer entries=9 live=3 outside_pool=0 "
        "over_limit=0 aliased=0 refused=0 checks=4 check_failures=0 canaries_intact=true ok=true "
        "reason=",
        "iommu: unavailable reason=no-valid-dmar-table",
    ]
    return synth.proof_lines(results=[(t, "PASS") for t in TESTS], extra=extra)


def check(lines):
    log = prooflog.parse_text(synth.as_log(lines))
    return proofcheck.check_log(log, proofcheck.load_expectations(NITRO))


def errors(report):
    return [f.message for f in report.errors]


def test_nitro_expectations_accept_the_documented_nitro_lines():
    report = check(nitro_lines())
    assert report.ok, errors(report)
    assert not [f for f in report.findings if f.severity == "warning"]


def test_nitro_expectations_reject_an_emulated_controller():
    report = check(nitro_lines(vendor="0x1b36", device="0x0010", provider="qemu",
                               shape="qemu-emulated-nvme", model="QEMU%20NVMe%20Ctrl"))
    assert any("1d0f" in e for e in errors(report))


def test_nitro_expectations_reject_remapped_reads():
    report = check(nitro_lines(backend="direct-remapping"))
    assert any("bounce-buffer" in e for e in errors(report))


def test_pending_lines_only_warn():
    lines = [line for line in nitro_lines() if not line.startswith("iommu: unavailable")]
    report = check(lines)
    assert report.ok, errors(report)
    warnings = [f.message for f in report.findings if f.severity == "warning"]
    assert len(warnings) == 1 and any("iommu: unavailable" in w for w in warnings)


def test_nitro_expectations_require_the_aws_claim():
    lines = [line.replace("real_aws_enumeration=claimed", "real_aws_enumeration=not-claimed")
             for line in nitro_lines()]
    assert any("real_aws_enumeration" in e for e in errors(check(lines)))
