"""proofboot: boot the proofboot ISO under QEMU and check its proof lines.

    run = proofboot.boot(qemu_args=["-device", "intel-iommu,aw-bits=48"],
                         disks={"pb0": {"size": "16M", "bus": "root-port"}})
    run.check()                       # raises CheckFailed with the findings
    run.verdict, run.failed_tests, run.reads, run.backend, run.faults
    run.records("nvme", "identify controller")
    lab = proofboot.parse_log("console.log", disks={"pb0": "disk.img"})

Modules: prooflog (parser), proofcheck (checker and expectations), diskimage
(deterministic disk images), qmatrix (QEMU command lines, the matrix
runner), reports (TAP, JUnit), witness (QEMU's trace as witness of the
proof lines, docs/witness.md), runs (this API), pytest_plugin (fixture
proofboot_boot).  The tools in the repository's tools/ are thin wrappers
around them.  docs/python.md describes the API.
"""

from proofboot.runs import CheckFailed, FailedTest, Read, Run, boot, parse_log  # noqa: F401

__all__ = ["boot", "parse_log", "Run", "Read", "FailedTest", "CheckFailed"]
