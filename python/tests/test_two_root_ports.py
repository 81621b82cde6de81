"""Two NVMe controllers behind PCIe root ports, remapped by VT-d (docs/python.md)."""
DISKS = {"rp-a": {"size": "16M", "bus": "root-port"}, "rp-b": {"size": "16M", "bus": "root-port"}}


def test_two_controllers_behind_root_ports(proofboot_boot):
    run = proofboot_boot(qemu_args=["-device", "intel-iommu,aw-bits=48"], options="dma=auto", disks=DISKS)
    run.check()
    assert run.backend == "direct-remapping" and run.faults == []
    assert {r.fields["sn"] for r in run.records("nvme", "identify controller")} == {"rp-a", "rp-b"}
    reads = [r for r in run.reads if not r.deliberate_fault]
    assert all(r.crc_ok and r.dma_faults == 0 and not r.bdf.startswith("0000:00:") for r in reads)
    assert {r.serial for r in reads if r.backend == "direct-remapping"} == {"rp-a", "rp-b"}
