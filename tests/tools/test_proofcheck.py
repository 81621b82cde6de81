"""python/proofboot/proofcheck.py and tools/check-log: built-in checks, expectations, CLI."""
import os
import subprocess
import sys

import pytest

from proofboot import diskimage
from proofboot import prooflog
from proofboot import proofcheck
from synth import as_log, proof_lines, read_line

CHECK_LOG = os.path.join(prooflog.repo.ROOT, "tools", "check-log")
SUBS = frozenset(prooflog.BUILTIN_SUBSYSTEMS)


def check(lines, expect=None, disks=None, noise=True):
    log = prooflog.parse_text(as_log(lines, noise=noise), SUBS)
    exp = proofcheck.expectations_from_dict(expect, "test") if expect is not None else None
    return proofcheck.check_log(log, exp, disks)


def errors(report):
    return [(f.lineno, f.message) for f in report.errors]


def only_error(report, text):
    errs = errors(report)
    assert len(errs) == 1, errs
    assert text in errs[0][1], errs
    return errs[0]


def disk_map(path, **kw):
    return proofcheck.DiskMap([proofcheck.Disk(path=path, serial="pb0", nsid=1, **kw)])


# ------------------------------------------------------------- built-in checks

def test_good_log_passes():
    report = check(proof_lines())
    assert report.ok, errors(report)
    assert report.verdict_status == "PASS"
    assert [r.fields["name"] for r in report.results] == ["boot.options", "nvme.read.bounce"]


def test_no_verdict_line():
    lines = proof_lines()[:-1]
    report = check(lines)
    lineno, msg = only_error(report, "no 'proofboot: verdict' line")
    assert lineno is None
    assert "last proof line is line" in msg


def test_duplicated_verdict():
    lines = proof_lines()
    lines.append(lines[-1])
    report = check(lines)
    lineno, msg = only_error(report, "more than one verdict line")
    assert lineno == len(as_log(lines).splitlines())


def test_verdict_not_last():
    lines = proof_lines() + ["pci: device bdf=0000:00:00.0"]
    report = check(lines, noise=False)
    lineno, msg = only_error(report, "verdict is not the last proof line")
    assert lineno == len(lines) - 1
    assert f"line {len(lines)} (pci: device)" in msg


def test_noise_after_verdict_is_fine():
    report = check(proof_lines() + ["QEMU: Terminated", "error: whatever"])
    assert report.ok, errors(report)


def test_planned_test_without_result():
    lines = [l for l in proof_lines() if "result name=nvme.read.bounce" not in l]
    lines[-1] = "proofboot: verdict status=PASS passed=1 failed=0 skipped=0"
    report = check(lines, noise=False)
    lineno, msg = only_error(report, "nvme.read.bounce was planned (selected=true) but has no result")
    assert lines[lineno - 1].startswith("test: plan name=nvme.read.bounce")


def test_result_without_plan_and_for_unselected_test():
    lines = proof_lines(extra=["test: result name=ghost status=PASS duration_us=1 reason=",
                               "test: result name=cpu.fault status=SKIP duration_us=1 reason="])
    lines[-1] = "proofboot: verdict status=PASS passed=3 failed=0 skipped=1"
    report = check(lines, noise=False)
    msgs = [m for _, m in errors(report)]
    assert any("ghost which has no 'test: plan' line" in m for m in msgs), msgs
    assert any("cpu.fault which was planned with selected=false" in m for m in msgs), msgs
    assert len(msgs) == 2


def test_duplicate_result():
    lines = proof_lines(extra=["test: result name=boot.options status=PASS duration_us=1 reason="])
    lines[-1] = "proofboot: verdict status=PASS passed=3 failed=0 skipped=0"
    only_error(check(lines), "second result line for test boot.options")


def test_verdict_counts_must_match_results():
    lines = proof_lines(verdict="proofboot: verdict status=PASS passed=3 failed=0 skipped=0")
    lineno, msg = only_error(check(lines, noise=False), "passed=3 but there are 2 PASS result lines")
    assert lineno == len(lines)


def test_verdict_status_is_most_severe():
    results = (("a.x", "PASS"), ("b.y", "FAIL"), ("c.z", "SKIP"))
    lines = proof_lines(results, verdict="proofboot: verdict status=PASS passed=1 failed=1 skipped=1")
    only_error(check(lines), "verdict status=PASS but the most severe result is FAIL")
    assert check(proof_lines(results)).ok


def test_skip_only_when_nothing_passed_or_failed():
    assert proofcheck.expected_verdict([]) == "SKIP"
    lines = proof_lines((("a.x", "SKIP"), ("b.y", "PASS")),
                        verdict="proofboot: verdict status=SKIP passed=1 failed=0 skipped=1")
    only_error(check(lines), "most severe result is PASS")


def test_fatal_outside_a_test_makes_fail_legitimate():
    results = (("a.x", "PASS"), ("b.y", "SKIP"))
    lines = proof_lines(results, extra=["proofboot: fatal reason=page-fault"],
                        verdict="proofboot: verdict status=FAIL passed=1 failed=0 skipped=1")
    assert check(lines).ok
    lines[-1] = "proofboot: verdict status=PASS passed=1 failed=0 skipped=1"
    only_error(check(lines), "'proofboot: fatal' on line")


def test_emergency_verdict_is_an_error():
    lines = proof_lines()[:-1] + [
        "proofboot: verdict status=FAIL passed=0 failed=1 skipped=0 emergency=true"]
    only_error(check(lines), "emergency verdict")


def test_bad_statuses():
    lines = proof_lines((("a.x", "MAYBE"),),
                        verdict="proofboot: verdict status=OK passed=0 failed=0 skipped=0")
    msgs = [m for _, m in errors(check(lines))]
    assert any("status=MAYBE is not one of" in m for m in msgs)
    assert any("verdict status=OK is not one of" in m for m in msgs)


def test_malformed_proof_line_fails_the_check():
    lines = proof_lines(extra=["nvme: read slba=1 slba=2"])
    report = check(lines, noise=False)
    lineno, msg = only_error(report, "malformed proof line (duplicate key 'slba')")
    assert lines[lineno - 1] == "nvme: read slba=1 slba=2"


def test_partial_last_line_warns():
    text = as_log(proof_lines()) + "pci: device bdf=00"
    report = proofcheck.check_log(prooflog.parse_text(text, SUBS))
    assert report.ok
    warnings = [f for f in report.findings if f.severity == "warning"]
    assert len(warnings) == 1 and "no line end" in warnings[0].message


# ------------------------------------------------------------------ nvme reads

def test_nvme_read_crc_matches_disk(disk):
    spec, path = disk
    lines = proof_lines(extra=[read_line(spec, 0, 8), read_line(spec, 100, 1)])
    report = check(lines, disks=disk_map(path, lba_size=512))
    assert report.ok, errors(report)
    assert report.reads_checked == 2


def test_nvme_read_wrong_crc_names_line(disk):
    spec, path = disk
    bad = diskimage.expected_crc32(spec, 1, 8)          # the data of the wrong LBA
    lines = proof_lines(extra=[read_line(spec, 0, 8, crc=bad)])
    report = check(lines, disks=disk_map(path), noise=False)
    lineno, msg = only_error(report, f"crc32=0x{bad:08x} but disk.img LBAs [0, 8) have crc32=")
    assert lines[lineno - 1].startswith("nvme: read")


def test_nvme_read_past_end_of_image(disk):
    spec, path = disk
    lines = proof_lines(extra=[read_line(spec, spec.lbas - 1, 2, crc=0)])
    only_error(check(lines, disks=disk_map(path)), "past the end of")


def test_nvme_read_lba_size_mismatch(disk):
    spec, path = disk
    lines = proof_lines(extra=[read_line(spec, 0, 1)])
    only_error(check(lines, disks=disk_map(path, lba_size=4096)), "has 4096-byte LBAs")


def bench_line(spec, sample_lba=0, crc=None, **fields):
    """A `bench: read` line in the firmware's shape; fields override its keys."""
    keys = {"bdf": "0000:00:04.0", "serial": "pb0", "nsid": 1, "backend": "bounce-buffer",
            "bs": 4096, "qd": 32, "qd_requested": 32, "qd_label": "32", "bytes": 262144,
            "us": 1000, "mbps": 262, "iops": 64000,
            "crc32": f"0x{diskimage.expected_crc32(spec, sample_lba, 8) if crc is None else crc:08x}",
            "sample_lba": sample_lba, "sample_blocks": 8, "lba_size": spec.lba_size,
            "commands": 64, "stopped_by": "bytes", "buffer": "device", "regions": 32,
            "ledger_ranges": 64, "cpu_copy": "false"}
    keys.update(fields)
    return "bench: read " + " ".join(f"{k}={v}" for k, v in keys.items() if v is not None)


def test_bench_read_sample_and_claims_check(disk):
    spec, path = disk
    good = proof_lines(extra=[bench_line(spec, 104), bench_line(spec, 0, buffer="caller",
                                                                 cpu_copy="true")])
    report = check(good, disks=disk_map(path, lba_size=512))
    assert report.ok, errors(report)
    wrong = diskimage.expected_crc32(spec, 96, 8)      # the previous command's LBAs: stale data
    only_error(check(proof_lines(extra=[bench_line(spec, 104, crc=wrong)]), disks=disk_map(path)),
               "bench read crc32=")
    for fields, text in (({"buffer": "pool"}, "buffer=pool, not one of device|caller"),
                         ({"cpu_copy": "true"}, "buffer=device (no copy) but cpu_copy=true"),
                         ({"ledger_ranges": 63}, "ledger_ranges=63 but commands=64"),
                         ({"regions": 16}, "qd=32 commands in flight but only regions=16"),
                         ({"limited_by": "buffers", "regions": 40, "qd_requested": 127},
                          "limited_by=buffers with buffer=device"),
                         ({"limited_by": "device-memory"}, "regions=32 >= qd_requested=32")):
        only_error(check(proof_lines(extra=[bench_line(spec, **fields)])), text)


def test_failed_read_is_not_crc_checked(disk):
    spec, path = disk
    lines = proof_lines(extra=[read_line(spec, 0, 8, crc=0x1234, status="0x0281")])
    report = check(lines, disks=disk_map(path))
    assert report.ok and report.reads_checked == 0


def test_blocked_read_with_success_status_is_not_crc_checked(disk):
    # QEMU 7.2 completes an IOMMU-blocked read with status success; the
    # firmware marks it data_valid=false and the checker must believe that.
    spec, path = disk
    line = read_line(spec, 0, 1, crc=0x1234) + " data_valid=false dma_faults=1"
    report = check(proof_lines(extra=[line]), disks=disk_map(path))
    assert report.ok and report.reads_checked == 0
    valid = read_line(spec, 0, 1, crc=0x1234) + " data_valid=true dma_faults=0"
    only_error(check(proof_lines(extra=[valid]), disks=disk_map(path)), "crc32=0x00001234 but")


def test_nvme_read_missing_keys_and_bytes_mismatch():
    lines = proof_lines(extra=[
        "nvme: read serial=pb0 nsid=1 slba=0 blocks=1 lba_size=512",
        "nvme: read serial=pb0 nsid=1 slba=0 blocks=2 lba_size=512 bytes=512 crc32=0x0"])
    msgs = [m for _, m in errors(check(lines))]
    assert any("lacks crc32" in m for m in msgs)
    assert any("bytes=512 but blocks*lba_size=1024" in m for m in msgs)


def test_reads_without_a_disk_are_counted_not_failed(disk):
    spec, _ = disk
    report = check(proof_lines(extra=[read_line(spec, 0, 1)]))
    assert report.ok and report.reads_unchecked == 1 and report.reads_checked == 0


def test_wildcard_disk_applies_to_the_only_namespace(disk):
    spec, path = disk
    disks = proofcheck.DiskMap()
    disks.add_spec(path)
    bad = read_line(spec, 3, 1, crc=0xdeadbeef)
    only_error(check(proof_lines(extra=[bad]), disks=disks), "crc32=0xdeadbeef")


def test_wildcard_disk_is_ambiguous_with_two_namespaces(disk):
    spec, path = disk
    disks = proofcheck.DiskMap()
    disks.add_spec(path)
    lines = proof_lines(extra=[read_line(spec, 0, 1), read_line(spec, 0, 1, nsid=2)])
    only_error(check(lines, disks=disks), "use --disk SERIAL:NSID=PATH")


def test_bounce_and_remapped_reads_must_agree(disk):
    spec, _ = disk
    good = diskimage.expected_crc32(spec, 0, 8)
    lines = proof_lines(extra=[read_line(spec, 0, 8, crc=good),
                               read_line(spec, 0, 8, crc=good ^ 1, backend="direct-remapping")])
    lineno, msg = only_error(check(lines, noise=False), "direct-remapping read of serial=pb0")
    assert "bounce-buffer read on line" in msg and "direct-remapping" in lines[lineno - 1]
    lines[lineno - 1] = read_line(spec, 0, 8, crc=good, backend="direct-remapping")
    assert check(lines).ok


def with_order(lines, order):
    env = (f"proofboot: environment boot=bios bootloader=GRUB memory_regions=1 "
           f"memory_usable_bytes=1 heap_bytes=1 rsdp=acpi2 framebuffer=false qemu_fw_cfg=true "
           f"dma=auto tests=default timeout_s=30 end=auto order={order} option_errors=0")
    return lines[:1] + [env] + lines[1:]


def test_run_order_follows_the_option():
    names = [("boot.options", "PASS"), ("nvme.read.bounce", "PASS"), ("iommu.units", "PASS")]
    table = proof_lines(results=names)
    assert check(with_order(table, "table")).ok
    only_error(check(with_order(table, "reverse")), "order=reverse puts it before")
    reverse = proof_lines(results=names)
    results = [line for line in reverse if line.startswith("test: result")]
    start = reverse.index(results[0])
    reverse[start:start + 3] = results[::-1]
    assert check(with_order(reverse, "reverse")).ok
    # The plans include the unselected cpu.fault row (index 3): 4 rows.
    assert proofcheck.run_order("shuffle:1", 4) == [0, 2, 3, 1]
    assert proofcheck.run_order("shuffle:1", 5) == [2, 3, 0, 1, 4]  # as tests/unit/test_run_order.c
    shuffled = proof_lines(results=names)
    shuffled[start:start + 3] = [results[0], results[2], results[1]]
    assert check(with_order(shuffled, "shuffle:1")).ok
    only_error(check(with_order(shuffled, "shuffle:2")), "order=shuffle:2")
    only_error(check(with_order(table, "sideways")), "unknown order=sideways")


def test_runs_last_rows_follow_every_other_row_in_any_order():
    names = [("boot.options", "PASS"), ("iommu.faults.none", "PASS"), ("iommu.units", "PASS")]
    lines = proof_lines(results=names)
    plan = lines.index("test: plan name=iommu.faults.none groups=iommu selected=true")
    results = [line for line in lines if line.startswith("test: result")]
    start = lines.index(results[0])
    reverse_with_last = list(lines)
    reverse_with_last[start:start + 3] = [results[2], results[0], results[1]]
    # Reversed, iommu.units then boot.options, and the pinned row at the end ...
    pinned = list(reverse_with_last)
    pinned[plan] += " runs_last=true"
    assert check(with_order(pinned, "reverse")).ok
    # ... which without runs_last=true on its plan line is out of order.
    only_error(check(with_order(reverse_with_last, "reverse")), "order=reverse puts it before")


ALIAS = ("iommu: alias sid=0000:01:01.0 alias=0000:01:00.0 via=0000:00:03.0 "
         "bridge=pcie-to-pci")


def context(sid, domain):
    return (f"iommu: context unit=0 sid={sid} domain={domain} levels=4 aw=2 slptptr=0x02000000 "
            "lo=0x0000000002000001 hi=0x0000000000000102")


def fault(sid, device=None):
    tail = f" device={device}" if device else ""
    return (f"iommu: fault recorded unit=0 record=0 reason=0x05 type=write sid={sid} "
            f"addr=0x0000000002000000{tail}")


def test_alias_needs_a_context_entry_on_the_device_domain():
    own, alias = "0000:01:01.0", "0000:01:00.0"
    good = [ALIAS, context(own, 1), context(alias, 1), fault(alias, own)]
    assert check(proof_lines(extra=good)).ok
    only_error(check(proof_lines(extra=[ALIAS, context(own, 1)])), "never got a context entry")
    only_error(check(proof_lines(extra=[ALIAS, context(own, 1), context(alias, 2)])),
               "points at domain 2")


def test_fault_attributed_to_a_device_needs_that_alias():
    lines = proof_lines(extra=[context("0000:00:02.0", 1), fault("0000:00:05.0", "0000:00:02.0")])
    only_error(check(lines), "which has no such alias")


ISO_SID = "0000:01:00.0"
ISO_FAULT = (f"iommu: fault recorded unit=0 record=0 reason=0x05 type=write sid={ISO_SID} "
             "addr=0x0000010000085000")


def iso_proof(event="read-only dma", **over):
    f = {"sid": ISO_SID, "iova": "0x0000010000085000", "target": "0x000000000532b000",
         "fault": "true", "fault_reason": "0x05", "fault_type": "write", "fault_sid": ISO_SID,
         "fault_addr": "0x0000010000085000", "fault_cleared": "true", "target_untouched": "true",
         "buffer_untouched": "true", "nvme_status": "0x000"}
    f.update(over)
    return f"iommu: {event} " + " ".join(f"{k}={v}" for k, v in f.items() if v is not None)


def iso_verdict(status="PASS", proof="iommu.isolation.read-only"):
    return f"iommu: isolation proof={proof} sid={ISO_SID} status={status} reason=-"


def iso_check(lines, row_status="PASS", row="iommu.isolation.read-only"):
    return check(proof_lines(results=(("boot.options", "PASS"), (row, row_status)), extra=lines))


def test_isolation_proof_backed_by_fault_and_memory_passes():
    assert iso_check([ISO_FAULT, iso_proof(), iso_verdict()]).ok


@pytest.mark.parametrize("over, text", [
    ({"target_untouched": "false"}, "target_untouched=false"),
    ({"buffer_untouched": "false"}, "buffer_untouched=false"),
    ({"fault_cleared": "false"}, "fault_cleared=false"),
    ({"fault_type": "read", "fault_reason": "0x06"}, "expected 0x05 write"),
    ({"fault_addr": "0x0000010000086000"}, "is not the page of iova"),
    ({"fault": "false", "fault_reason": None, "fault_type": None, "fault_sid": None,
      "fault_addr": None}, "fault=false"),
])
def test_isolation_pass_with_a_hole_in_its_proof_is_an_error(over, text):
    only_error(iso_check([ISO_FAULT, iso_proof(**over), iso_verdict()]), text)


def test_isolation_claimed_fault_needs_a_fault_record():
    only_error(iso_check([iso_proof(), iso_verdict()]), "no earlier 'iommu: fault recorded'")
    other = ISO_FAULT.replace(f"sid={ISO_SID}", "sid=0000:02:00.0")
    only_error(iso_check([other, iso_proof(), iso_verdict()]), "no earlier 'iommu: fault recorded'")


def test_isolation_boundary_needs_the_first_page():
    row = "iommu.isolation.boundary"
    good = [ISO_FAULT, iso_proof("boundary dma", first_page_arrived="true"), iso_verdict(proof=row)]
    assert iso_check(good, row=row).ok
    bad = [ISO_FAULT, iso_proof("boundary dma", first_page_arrived="false"), iso_verdict(proof=row)]
    only_error(iso_check(bad, row=row), "first_page_arrived=false")


def test_isolation_no_read_is_a_denied_read():
    row = "iommu.isolation.no-read"
    read_fault = ISO_FAULT.replace("reason=0x05 type=write", "reason=0x06 type=read")
    good = [read_fault, iso_proof("no-read dma", fault_reason="0x06", fault_type="read"),
            iso_verdict(proof=row)]
    assert iso_check(good, row=row).ok
    only_error(iso_check([ISO_FAULT, iso_proof("no-read dma"), iso_verdict(proof=row)], row=row),
               "expected 0x06 read")


def test_isolation_cross_device_owner_is_another_controller():
    row = "iommu.isolation.cross-device"
    good = [ISO_FAULT, iso_proof("cross-device dma", owner="0000:02:00.0"), iso_verdict(proof=row)]
    assert iso_check(good, row=row).ok
    bad = [ISO_FAULT, iso_proof("cross-device dma", owner=ISO_SID), iso_verdict(proof=row)]
    only_error(iso_check(bad, row=row), "is not another controller")


def test_isolation_row_status_agrees_with_its_controllers():
    only_error(iso_check([iso_verdict("FAIL")]), "PASSed but controller")
    only_error(iso_check([iso_verdict("PASS")], row_status="FAIL"),
               "no controller's 'iommu: isolation' line says FAIL")
    # A failing controller's proof line may show the hole: that is its FAIL, not a lie.
    assert iso_check([iso_proof(target_untouched="false"), iso_verdict("FAIL")],
                     row_status="FAIL").ok


def ir_line(event="ir remapped", **over):
    f = {"sid": ISO_SID, "unit": "0", "extended": "false", "index": "0",
         "msi_addr": "0xfee00018", "msi_data": "0x00000000", "irte_vector": "0x36",
         "data_vector": "0x00", "irte_hits": "1", "queue_vector_hits": "0", "read_ok": "true"}
    if event == "ir blocked":
        f = {"sid": ISO_SID, "case": "not-present", **{k: v for k, v in f.items() if k != "sid"},
             "irte_hits": "0", "fault": "false", "restored_irte_hits": "1"}
    f.update(over)
    return f"iommu: {event} " + " ".join(f"{k}={v}" for k, v in f.items() if v is not None)


@pytest.mark.parametrize("event, over, text", [
    ("ir remapped", {"irte_hits": "0"}, "irte_hits=0"),
    ("ir remapped", {"queue_vector_hits": "1"}, "queue_vector_hits=1"),
    ("ir remapped", {"data_vector": "0x36"}, "not proven remapped"),
    ("ir blocked", {"irte_hits": "1"}, "irte_hits=1"),
    ("ir blocked", {"restored_irte_hits": "0"}, "restored_irte_hits=0"),
    ("ir blocked", {"fault": "true", "fault_reason": "0x26", "fault_source": "0x0100"},
     "expected 0x22"),
    ("ir blocked", {"read_ok": "false"}, "read_ok=false"),
])
def test_interrupt_remapping_pass_needs_its_evidence(event, over, text):
    row = "iommu.ir.remapped" if event == "ir remapped" else "iommu.ir.blocked"
    assert iso_check([ir_line(event), iso_verdict(proof=row)], row=row).ok
    only_error(iso_check([ir_line(event, **over), iso_verdict(proof=row)], row=row), text)


ROUTED = ("iommu: fault interrupt unit=0 vector=0x31 feaddr=0xfee00000 feuaddr=0x00000000 "
          "fedata=0x00000031 fectl=0x00000000")


def test_fault_seen_by_interrupt_needs_a_routed_unit():
    by_irq = ISO_FAULT + " seen_by=interrupt"
    assert check(proof_lines(extra=[ROUTED, by_irq])).ok
    assert check(proof_lines(extra=[ISO_FAULT + " seen_by=poll"])).ok
    only_error(check(proof_lines(extra=[by_irq])), "has no earlier 'iommu: fault interrupt'")
    only_error(check(proof_lines(extra=[by_irq, ROUTED])), "has no earlier 'iommu: fault interrupt'")
    only_error(check(proof_lines(extra=[ROUTED.replace("unit=0", "unit=1"), by_irq])),
               "unit 0 has no earlier")
    only_error(check(proof_lines(extra=[ISO_FAULT + " seen_by=magic"])), "neither interrupt nor poll")


def remap_summary(unmaps, invalidations):
    line = f"iommu: summary sid=0000:00:03.0 domain=1 maps=40 unmaps={unmaps}"
    if invalidations is not None:
        line += f" invalidations={invalidations}"
    return line + " stray_faults=0"


def test_remap_summary_invalidations_revoke_every_unmap():
    assert check(proof_lines(extra=[remap_summary(30, 30)])).ok      # one per unmap
    assert check(proof_lines(extra=[remap_summary(30, 4)])).ok       # batched
    assert check(proof_lines(extra=[remap_summary(0, 0)])).ok
    assert check(proof_lines(extra=[remap_summary(30, None)])).ok    # a log from before batching
    only_error(check(proof_lines(extra=[remap_summary(30, 0)])), "no unmap was revoked")
    only_error(check(proof_lines(extra=[remap_summary(3, 4)])), "exceeds unmaps=3")


def dte(sid, domain):
    return (f"iommu: dte unit=0 sid={sid} kind=translate domain={domain} mode=4 root=0x02000000 "
            "q0=0x6000000002000803 q1=0x0000000000000001")


def test_alias_accepts_an_amd_vi_device_table_entry():
    own, alias = "0000:01:01.0", "0000:01:00.0"
    assert check(proof_lines(extra=[ALIAS, dte(own, 1), dte(alias, 1), fault(alias, own)])).ok
    only_error(check(proof_lines(extra=[ALIAS, dte(own, 1), dte(alias, 2)])), "points at domain 2")


IVHD = ("iommu: ivhd index=0 type=0x10 segment=0 base=0xfed80000 devid=0000:00:02.0 ranges=7 "
        "responds=true efr=0x00000000000029d3 max_levels=6 control=0x0000000000000000 "
        "status=0x0000000000000000")


def selection(backend, iommu):
    return (f"dma: backend selection backend={backend} reason=remapping-verified "
            f"policy=direct-remapping-if-verified-else-bounce-buffer option=auto iommu={iommu}")


def test_selection_names_the_iommu_exactly_when_remapping():
    assert check(proof_lines(extra=[IVHD, selection("direct-remapping", "amd-vi")])).ok
    assert check(proof_lines(extra=[selection("bounce-buffer", "none")])).ok
    only_error(check(proof_lines(extra=[IVHD, selection("bounce-buffer", "amd-vi")])),
               "but iommu=amd-vi")
    only_error(check(proof_lines(extra=[selection("direct-remapping", "none")])), "but iommu=none")
    only_error(check(proof_lines(extra=[selection("direct-remapping", "arm-smmu")])),
               "not vtd, amd-vi or none")
    # The unit kind must have been discovered (and respond) before the selection.
    only_error(check(proof_lines(extra=[selection("direct-remapping", "amd-vi"), IVHD])),
               "no responding 'iommu: ivhd'")
    only_error(check(proof_lines(extra=[IVHD, selection("direct-remapping", "vtd")])),
               "no responding 'iommu: drhd'")


def test_disk_spec_parsing(tmp_path):
    disks = proofcheck.DiskMap()
    disks.add_spec("pb0:2=/x/a.img")
    disks.add_spec("pb1=/x/b.img")
    disks.add_spec("/x/c=d.img")
    assert [(d.serial, d.nsid, d.path) for d in disks.disks] == [
        ("pb0", 2, "/x/a.img"), ("pb1", None, "/x/b.img"), (None, None, "/x/c=d.img")]
    assert disks.exact("pb1", 7).path == "/x/b.img"
    assert disks.exact("pb0", 1) is None
    with pytest.raises(proofcheck.ExpectationError):
        disks.add_spec("pb0:x=/a.img")


def test_disk_map_file_round_trip(tmp_path):
    path = tmp_path / "sub" / "disks.toml"
    path.parent.mkdir()
    image = tmp_path / "img" / 'we"ird.img'
    proofcheck.write_disk_map(str(path), [proofcheck.Disk(str(image), "pb0", 1, 4096)])
    disks = proofcheck.DiskMap()
    disks.load_map(str(path))
    d = disks.disks[0]
    assert (os.path.normpath(d.path), d.serial, d.nsid, d.lba_size) == (str(image), "pb0", 1, 4096)


# ---------------------------------------------------------------- expectations

def test_expected_verdict():
    report = check(proof_lines(), expect={"verdict": "FAIL"})
    only_error(report, "verdict is PASS, expected FAIL")
    assert check(proof_lines(), expect={"verdict": ["FAIL", "PASS"]}).ok


def test_expected_verdict_without_verdict_line():
    report = check(proof_lines()[:-1], expect={"verdict": "PASS"})
    assert any("expected verdict PASS but there is no verdict line" in m for _, m in errors(report))


def test_test_status_expectations_with_globs():
    lines = proof_lines((("nvme.read.bounce", "PASS"), ("nvme.read.iommu", "FAIL")))
    assert check(lines, expect={"tests": {"nvme.read.iommu": "FAIL"}}).ok
    lineno, msg = only_error(check(lines, expect={"tests": {"nvme.read.*": "PASS"}}),
                             "test nvme.read.iommu is FAIL, expected PASS")
    only_error(check(lines, expect={"tests": {"pci.*": "PASS"}}), "no result line for test pci.*")


LINE = "dma: backend selection backend=bounce-buffer reason=no%20iommu units=0"


@pytest.mark.parametrize("count, n_lines, ok", [
    ("once", 1, True), ("once", 0, False), ("once", 2, False),
    ("at-least-once", 2, True), ("at-least-once", 0, False),
    ("never", 0, True), ("never", 1, False),
    (2, 2, True), (2, 1, False), (0, 0, True),
    ({"min": 1, "max": 2}, 2, True), ({"min": 1, "max": 2}, 3, False),
])
def test_line_counts(count, n_lines, ok):
    exp = {"line": [{"match": "dma: backend selection", "count": count}]}
    report = check(proof_lines(extra=[LINE] * n_lines), expect=exp)
    assert report.ok == ok, errors(report)


@pytest.mark.parametrize("fields, ok", [
    ({"backend": "bounce-buffer"}, True),
    ({"backend": "direct-remapping"}, False),
    ({"reason": "no iommu"}, True),                        # decoded value
    ({"reason": {"regex": "no .*"}}, True),
    ({"reason": {"regex": "iommu"}}, False),               # regex must match the whole value
    ({"units": 0}, True), ({"units": {"lt": 1}}, True), ({"units": {"ge": 1}}, False),
    ({"units": {"le": "0x0"}}, True),
    ({"backend": ["direct-remapping", "bounce-buffer"]}, True),
    ({"backend": {"one_of": ["direct-remapping"]}}, False),
    ({"backend": {"ne": "bounce-buffer"}}, False),
    ({"missing": {"present": False}}, True), ({"missing": "x"}, False),
    ({"backend": {"gt": 1}}, False),                       # not a number
])
def test_field_constraints(fields, ok):
    exp = {"line": [{"match": "dma: backend selection", "count": "once", "fields": fields}]}
    report = check(proof_lines(extra=[LINE]), expect=exp)
    assert report.ok == ok, errors(report)


def test_numbers_compare_across_hex_and_decimal():
    exp = {"line": [{"match": "nvme: read", "count": "once", "fields": {"status": 0x281}}]}
    report = check(proof_lines(extra=["nvme: read status=0x0281"]), expect=exp)
    assert not [m for _, m in errors(report) if "nvme: read status" in m]


def test_never_names_offending_lines():
    exp = {"line": [{"match": "dma: backend selection", "count": "never", "why": "no dma here"}]}
    lines = proof_lines(extra=[LINE])
    lineno, msg = only_error(check(lines, expect=exp, noise=False), "expected never, found 1 times")
    assert lines[lineno - 1] == LINE and "no dma here" in msg


def test_missing_line_shows_near_misses():
    exp = {"line": [{"match": "dma: backend selection", "fields": {"backend": "direct-remapping"}}]}
    lineno, msg = only_error(check(proof_lines(extra=[LINE]), expect=exp), "near misses")
    assert "backend=bounce-buffer, expected 'direct-remapping'" in msg


def test_pending_expectation_warns_instead_of_failing():
    exp = {"line": [{"match": "iommu: unit", "pending": "not printed yet"}]}
    report = check(proof_lines(), expect=exp)
    assert report.ok
    assert [f.severity for f in report.findings] == ["warning"]
    report = check(proof_lines(extra=["iommu: unit index=0"]), expect=exp)
    assert report.ok and "drop 'pending'" in report.findings[0].message


@pytest.mark.parametrize("bad", [
    {"verdict": "GOOD"},
    {"bogus": 1},
    {"line": [{"match": "no-colon"}]},
    {"line": [{"match": "a: b", "count": "twice"}]},
    {"line": [{"match": "a: b", "fields": {"k": {"regex": "("}}}]},
    {"line": [{"match": "a: b", "fields": {"k": {"lt": "abc"}}}]},
    {"line": [{"match": "a: b", "fields": {"k": {"like": "x"}}}]},
    {"line": [{"match": "a: b", "extra": 1}]},
    {"tests": {"a": "MAYBE"}},
])
def test_invalid_expectations_are_rejected(bad):
    with pytest.raises(proofcheck.ExpectationError):
        proofcheck.expectations_from_dict(bad, "test")


def test_load_expectations_file(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text('verdict = "PASS"\n[tests]\n"boot.*" = "PASS"\n'
                    '[[line]]\nmatch = "proofboot: start"\ncount = "once"\n'
                    'fields = { schema = 1, multiboot2 = true }\n')
    exp = proofcheck.load_expectations(str(path))
    log = prooflog.parse_text(as_log(proof_lines()), SUBS)
    assert proofcheck.check_log(log, exp).ok


# ------------------------------------------------------------------ check-log

def run_check_log(*args):
    proc = subprocess.run([sys.executable, CHECK_LOG, *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def test_check_log_cli_corrupted_log(tmp_path, disk):
    """Edit one crc32 and delete the verdict line: exit 1, both failures named."""
    spec, image = disk
    lines = proof_lines(extra=[read_line(spec, 0, 8), read_line(spec, 8, 8)])
    log = tmp_path / "console.log"
    log.write_text(as_log(lines))
    code, out = run_check_log(str(log), "--disk", f"pb0:1={image}")
    assert code == 0, out
    assert "2 nvme read(s) checked" in out

    text = as_log(lines).splitlines()
    crc_index = next(i for i, l in enumerate(text) if "slba=8" in l)
    good_crc = diskimage.expected_crc32(spec, 8, 8)
    text[crc_index] = text[crc_index].replace(f"crc32=0x{good_crc:08x}",
                                              f"crc32=0x{good_crc ^ 0x10:08x}")
    assert text[-1].startswith("proofboot: verdict")
    del text[-1]
    log.write_text("\n".join(text) + "\n")
    code, out = run_check_log(str(log), "--disk", f"pb0:1={image}")
    assert code == 1, out
    assert f"{log}:{crc_index + 1}: error: nvme read crc32=0x{good_crc ^ 0x10:08x} but " \
           f"disk.img LBAs [8, 16) have crc32=0x{good_crc:08x}" in out
    assert f"{log}: error: no 'proofboot: verdict' line" in out
    assert "verdict none: 2 error(s)" in out.splitlines()[-1]


def test_check_log_cli_expect_and_usage_errors(tmp_path):
    log = tmp_path / "console.log"
    log.write_text(as_log(proof_lines()))
    exp = tmp_path / "e.toml"
    exp.write_text('verdict = "FAIL"\n')
    code, out = run_check_log(str(log), "--expect", str(exp))
    assert code == 1 and ":" in out and "verdict is PASS, expected FAIL" in out
    assert run_check_log(str(log))[0] == 0
    assert run_check_log()[0] == 2
    assert run_check_log(str(tmp_path / "missing.log"))[0] == 2
    exp.write_text('verdict = "NOPE"\n')
    code, out = run_check_log(str(log), "--expect", str(exp))
    assert code == 2 and "status must be one of" in out
    assert run_check_log(str(log), "--bogus")[0] == 2


def test_check_log_cli_disk_map(tmp_path, disk):
    spec, image = disk
    log = tmp_path / "console.log"
    log.write_text(as_log(proof_lines(extra=[read_line(spec, 2, 3, crc=1)])))
    dmap = tmp_path / "disks.toml"
    proofcheck.write_disk_map(str(dmap), [proofcheck.Disk(image, "pb0", 1, 512)])
    code, out = run_check_log(str(log), "--disk-map", str(dmap), "-q")
    assert code == 1 and "crc32=0x00000001 but disk.img LBAs [2, 5)" in out
    assert "check-log:" not in out          # -q: errors only


# ------------------------------------------------------------ platform checks

def _opt_lines(error):
    return proof_lines((("boot.options", "FAIL"),), extra=[
        "opt: source name=fw_cfg text=dma=bounce%00tests=x ok=false", error])


def test_option_control_byte_error_points_at_the_byte():
    good = ("opt: error token=dma=bounce?tests=x reason=control-byte-in-option-text "
            "source=fw_cfg offset=10 byte=0x00")
    assert check(_opt_lines(good)).ok
    only_error(check(_opt_lines(good.replace("offset=10", "offset=3"))), "the source text has 0x3d")
    only_error(check(_opt_lines(good.replace("offset=10", "offset=99"))), "outside the 18-byte")
    only_error(check(_opt_lines(good.replace("source=fw_cfg", "source=cmdline"))),
               "no such 'opt: source' line")
    only_error(check(_opt_lines("opt: error token=x reason=control-byte-in-option-text")),
               "without offset=")


def _untested_lines(counted, status, untested):
    extra = [f"nvme: untested bdf=0000:00:0a.0 vendor=0x1b36 device=0x0010 "
             f"reason={'controller-table-full' if counted else 'not-selected'} "
             f"counted={'true' if counted else 'false'}"]
    return proof_lines((("a.x", "PASS"),), extra=extra, verdict=(
        f"proofboot: verdict status={status} passed=1 failed=0 skipped=0 "
        f"untested={untested}"))


def test_untested_controller_makes_the_verdict_fail():
    assert check(_untested_lines(True, "FAIL", 1)).ok
    only_error(check(_untested_lines(True, "PASS", 1)), "the status must be FAIL")
    errs = errors(check(_untested_lines(True, "FAIL", 0)))
    assert any("untested=0 but there are 1" in m for _, m in errs), errs
    assert check(_untested_lines(False, "PASS", 0)).ok


PCI_WALK = [
    "pci: root segment=0 bus=0 found_by=first-bus",
    "pci: device bdf=0000:00:03.0 vendor=0x1b36 device=0x0010 class=0x01 subclass=0x08 prog_if=0x02",
    "pci: root segment=0 bus=64 found_by=probe",
    "pci: device bdf=0000:40:00.0 vendor=0x1b36 device=0x000c class=0x06 subclass=0x04 prog_if=0x00",
    "pci: bridge bdf=0000:40:00.0 secondary=65 subordinate=65 scanned=true reason=ok",
    "pci: device bdf=0000:41:00.0 vendor=0x1b36 device=0x0010 class=0x01 subclass=0x08 prog_if=0x02",
    "pci: enumeration done access=ecam functions=3 roots=2 nvme_class=2",
]


def test_pci_devices_only_on_walked_buses_and_summary_agrees():
    assert check(proof_lines(extra=PCI_WALK)).ok
    no_root = [line for line in PCI_WALK if "bus=64" not in line]
    errs = errors(check(proof_lines(extra=no_root)))
    assert any("0000:40:00.0 on a bus no 'pci: root'" in m for _, m in errs), errs
    assert any("roots=2 but 1" in m for _, m in errs), errs
    wrong = PCI_WALK[:-1] + [PCI_WALK[-1].replace("nvme_class=2", "nvme_class=1")]
    only_error(check(proof_lines(extra=wrong)), "nvme_class=1 but 2")


TIME_OK = [
    "time: source name=cpuid accepted=false tsc_hz=0 reason=no-leaf-15h cpuid=no-leaf-15h",
    "time: source name=hpet accepted=false tsc_hz=0 reason=no-hpet-table",
    "time: source name=pm-timer accepted=true tsc_hz=2600172381 reason=ok window_us=5000 "
    "windows=5 spread_ppm=542 agreeing=5",
    "time: calibrated source=pm-timer tsc_hz=2600172381 window_us=5000 windows=5 spread_ppm=542",
]


def test_time_calibration_names_an_accepted_source():
    assert check(proof_lines(extra=TIME_OK)).ok
    only_error(check(proof_lines(extra=TIME_OK[:-1] + [TIME_OK[-1].replace("pm-timer", "hpet")])),
               "no accepted 'time: source' line says so")
    low = [line.replace("2600172381", "27204") for line in TIME_OK]
    assert any("outside 200 MHz" in m for _, m in errors(check(proof_lines(extra=low))))
    failed = TIME_OK[:2] + [
        "time: source name=pit accepted=false tsc_hz=0 reason=counter-not-counting",
        "time: calibration failed reason=no-trustworthy-source assumed_tsc_hz=10000000000"]
    assert check(proof_lines(extra=failed)).ok
    only_error(check(proof_lines(extra=failed[:-1] + [failed[-1].replace("10000000000", "1000000000")])),
               "expected the conservative")
    only_error(check(proof_lines(extra=TIME_OK[:-1] + [failed[-1]])), "although source pm-timer")
    only_error(check(proof_lines(extra=TIME_OK[:-1])), "0 time calibration outcome lines")


def test_timeout_result_never_shorter_than_its_timeout():
    lines = proof_lines((("runner.hang", "FAIL"),))
    i = next(i for i, line in enumerate(lines) if line.startswith("test: result"))
    lines[i] = ("test: result name=runner.hang status=FAIL duration_us=2007058 "
                "reason=timeout%20after%202%20s")
    assert check(lines).ok
    lines[i] = lines[i].replace("duration_us=2007058", "duration_us=300000")
    only_error(check(lines), "'timed out after 2 s' in duration_us=300000")


# ------------------------------------------------------------- console ports

SERIAL_LINE = "console: serial ports=com1,com2 selection=all selection_applied=true spcr=none"


def env_line(console):
    return ("proofboot: environment boot=bios bootloader=GRUB memory_regions=1 memory_usable_bytes=1 "
            "heap_bytes=1 rsdp=acpi1 framebuffer=false qemu_fw_cfg=true dma=auto tests=default "
            f"timeout_s=30 end=auto option_errors=0 console={console}")


def test_console_line_agrees_with_environment():
    assert check(proof_lines(extra=[SERIAL_LINE, env_line("com1,com2")])).ok


def test_console_environment_disagreement_is_an_error():
    report = check(proof_lines(extra=[SERIAL_LINE, env_line("com1")]))
    only_error(report, "environment console=com1 but 'console: serial'")


def test_console_line_twice_or_without_ports_is_an_error():
    only_error(check(proof_lines(extra=[SERIAL_LINE, SERIAL_LINE])), "more than one 'console: serial'")
    empty = SERIAL_LINE.replace("ports=com1,com2", "ports=")
    only_error(check(proof_lines(extra=[empty])), "names no port")


# ------------------------------------------------------------- boot loader errors

def test_grub_errors_are_the_reason_when_no_proof_line_arrived():
    text = ("\x1b[2J  Booting `proofboot (dma=auto)'\r\n\r\n"
            "error: premature end of file /boot/proofboot.elf.\r\n"
            "grub: cannot start proofboot.elf (error: above); powering off\r\n")
    report = proofcheck.check_log(prooflog.parse_text(text, SUBS))
    _, msg = only_error(report, "no 'proofboot: verdict' line")
    assert "the boot loader reported: line 3: error: premature end of file" in msg


def test_grub_errors_are_not_blamed_once_the_firmware_ran():
    lines = proof_lines()[:-1]
    report = check(lines)  # GRUB_NOISE holds "error: no suitable video mode found."
    _, msg = only_error(report, "no 'proofboot: verdict' line")
    assert "boot loader" not in msg


# ------------------------------------------------------------ metadata reads

@pytest.fixture
def md_disk(tmp_path):
    spec = diskimage.DiskSpec(size=MIB_MD, lba_size=512, seed="mdcheck", metadata_size=8)
    path = tmp_path / "md.img"
    diskimage.write_image(spec, str(path))
    return spec, path


MIB_MD = 1 << 20


def md_read_line(spec, slba, blocks, md_crc=None, layout="separate"):
    if md_crc is None:
        md_crc = diskimage.expected_md_crc32(spec, slba, blocks)
    line = read_line(spec, slba, blocks) + f" metadata_size={spec.metadata_size} md_layout={layout}"
    return line + (f" md_crc32=0x{md_crc:08x}" if md_crc is not False else "")


def test_nvme_read_metadata_crc_matches_qemu_layout(md_disk):
    spec, path = md_disk
    lines = proof_lines(extra=[md_read_line(spec, 0, 8), md_read_line(spec, 2000, 16, layout="extended")])
    report = check(lines, disks=disk_map(path, lba_size=512))
    assert report.ok, errors(report)


def test_nvme_read_metadata_crc_wrong_or_missing(md_disk):
    spec, path = md_disk
    bad = diskimage.expected_md_crc32(spec, 1, 8)
    lines = proof_lines(extra=[md_read_line(spec, 0, 8, md_crc=bad)])
    only_error(check(lines, disks=disk_map(path), noise=False),
               f"md_crc32=0x{bad:08x} but the metadata of md.img LBAs [0, 8)")
    lines = proof_lines(extra=[md_read_line(spec, 0, 8, md_crc=False)])
    only_error(check(lines, disks=disk_map(path), noise=False),
               "8-byte separate metadata has no md_crc32")
