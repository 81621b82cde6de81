"""proofboot.witness: recorded console logs and QEMU traces, honest and with planted lies.

The fixtures in tests/tools/witness/ are real runs (see the README there),
trimmed to the firmware's part of the trace.  Each planted lie edits the
log or the trace the way a lying firmware (or a broken IOMMU driver) would
and must be caught with the contradiction that names it.
"""
import gzip
import os
import re

import pytest

from proofboot import diskimage, prooflog, proofcheck, qmatrix, reports, witness

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "witness")
# The recorded runs' disk: tools/matrix made it from this spec (serial pb-wit, nsid 1).
DISK_SPEC = diskimage.DiskSpec(size=4 * 1024 * 1024, lba_size=512, seed="witness")


def _log_text(name):
    with open(os.path.join(FIXTURES, f"{name}.log"), encoding="latin-1") as f:
        return f.read()


def _trace_text(name):
    with gzip.open(os.path.join(FIXTURES, f"{name}.trace.gz"), "rt", encoding="latin-1") as f:
        return f.read()


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    path = tmp_path_factory.mktemp("witness") / "disk.img"
    diskimage.write_image(DISK_SPEC, str(path))
    return proofcheck.DiskMap([proofcheck.Disk(path=str(path), serial="pb-wit", nsid=1,
                                               lba_size=512)])


def run(log_text, trace_text, disks=None):
    log = prooflog.parse_text(log_text)
    return witness.witness(log, witness.parse_trace(trace_text), disks, {"pb-wit": "nvme0"})


def messages(report):
    return [c.message for c in report.contradictions]


def replace_once(text, old, new):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------ honest runs

@pytest.mark.parametrize("name", ["iommu", "bounce"])
def test_recorded_runs_are_backed(name, disks):
    rep = run(_log_text(name), _trace_text(name), disks)
    assert rep.ok, messages(rep)
    assert rep.checked == rep.backed + rep.unbacked
    assert rep.backed >= 20 and rep.device_accesses > 100
    assert "test: plan" in rep.unbacked_kinds       # QEMU has no trace for a test table


def test_every_read_line_is_witnessed(disks):
    log = prooflog.parse_text(_log_text("bounce"))
    w = witness.Witness(log, witness.parse_trace(_trace_text("bounce")), disks, {"pb-wit": "nvme0"})
    w.run()
    reads = [c for c in w.claims if c.rec.kind == "nvme: read"]
    assert reads and all(c.witnessed and not c.problems for c in reads)


def test_iommu_faults_are_matched_to_their_claims(disks):
    rep = run(_log_text("iommu"), _trace_text("iommu"), disks)
    assert rep.faults_seen > 2      # one blocked write is many trace events: compressed into one record
    assert rep.ok


# -------------------------------------------------------------- planted lies

def test_wrong_crc_is_caught(disks):
    log = _log_text("bounce")
    line = next(ln for ln in log.splitlines() if "purpose=first-blocks" in ln)
    crc = re.search(r"crc32=(0x[0-9a-f]{8})", line).group(1)
    lie = line.replace(crc, f"0x{int(crc, 16) ^ 1:08x}")
    rep = run(log.replace(line, lie), _trace_text("bounce"), disks)
    assert any("crc32" in m and "image holds" in m for m in messages(rep)), messages(rep)
    assert rep.contradicted == 1


def test_deleted_invalidation_is_caught(disks):
    """The recorded run batches the reaped commands' unmaps: fewer invalidations than unmaps,
    each one counted (invalidations=), so deleting any one of them is still caught."""
    log, trace = _log_text("iommu"), _trace_text("iommu")
    summary = next(ln for ln in log.splitlines() if ln.startswith("iommu: summary"))
    unmaps = int(re.search(r"unmaps=(\d+)", summary).group(1))
    claimed = int(re.search(r"invalidations=(\d+)", summary).group(1))
    assert 0 < claimed < unmaps
    invs = [ln for ln in trace.splitlines() if ln.startswith("vtd_inv_desc_iotlb_pages")]
    for inv in (invs[0], invs[len(invs) // 2], invs[-1]):
        rep = run(log, trace.replace(inv + "\n", "", 1), disks)
        assert any("iommu: summary" in m and f"invalidations={claimed}" in m and
                   "IOTLB invalidation" in m for m in messages(rep)), messages(rep)


def test_unrevoked_unmaps_are_caught(disks):
    log = _log_text("iommu")
    summary = next(ln for ln in log.splitlines() if ln.startswith("iommu: summary"))
    lie = re.sub(r"invalidations=\d+", "invalidations=0", summary)
    rep = run(log.replace(summary, lie), _trace_text("iommu"), disks)
    assert any("invalidations=0: nothing was revoked" in m for m in messages(rep)), messages(rep)


def test_a_large_page_beyond_a_mapping_is_caught(disks):
    """A 2 MiB leaf is used only where a mapping covers all of it: a translation through a larger
    entry than the listed mapping gave the device more memory than it was handed."""
    log, trace = _log_text("iommu"), _trace_text("iommu")
    maps = [ln for ln in log.splitlines() if ln.startswith("iommu: map ") and "size=4096" in ln]
    used = next((m, t) for m in maps for t in trace.splitlines()
                if t.startswith("vtd_dmar_translate") and
                re.search(r"iova=0x0*([0-9a-f]+)", m).group(1) in t.split("->")[0])
    rep = run(log, replace_once(trace, used[1], used[1].replace("mask 0xfff", "mask 0x1fffff")), disks)
    assert any("as one page" in m and "more than the mapping" in m for m in messages(rep)), messages(rep)


def test_extra_unreported_fault_is_caught(disks):
    trace = _trace_text("iommu")
    read = next(ln for ln in trace.splitlines() if ln.startswith("pci_nvme_read "))
    fault = "vtd_dmar_fault sid 0x10 fault 6 addr 0x10000abc000 write 0"
    rep = run(_log_text("iommu"), replace_once(trace, read, read + "\n" + fault), disks)
    found = messages(rep)
    assert any("never reported" in m and "0x10000abc000" in m for m in found), found
    assert any("stray_faults=0" in m for m in found), found


def test_extra_claimed_fault_is_caught(disks):
    log = _log_text("iommu")
    anchor = next(ln for ln in log.splitlines() if ln.startswith("test: start name=iommu.faults.none"))
    lie = ("iommu: fault recorded unit=0 record=0 reason=0x06 type=read sid=0000:00:02.0 "
           "addr=0x0000010000123000")
    rep = run(replace_once(log, anchor, lie + "\n" + anchor), _trace_text("iommu"), disks)
    assert any("raised no such fault" in m for m in messages(rep)), messages(rep)


def test_wrong_depth_is_caught(disks):
    log = _log_text("bounce")
    line = next(ln for ln in log.splitlines() if "purpose=queue-depth" in ln)
    rep = run(log.replace(line, line.replace("max_in_flight=127", "max_in_flight=32")),
              _trace_text("bounce"), disks)
    assert any("max_in_flight=32 but the device held 127" in m for m in messages(rep)), messages(rep)


def test_address_outside_the_pool_is_caught(disks):
    trace = _trace_text("bounce")
    mapped = [ln for ln in trace.splitlines() if ln.startswith("pci_nvme_map_addr addr ")]
    victim = mapped[len(mapped) // 2]
    stray = re.sub(r"addr 0x[0-9a-f]+", "addr 0x100000", victim)
    rep = run(_log_text("bounce"), replace_once(trace, victim, stray), disks)
    found = messages(rep)
    assert any("0x100000" in m and "outside the firmware's bounce pool" in m for m in found), found
    assert any(m.startswith("dma: audit") for m in found), found


def test_wrong_command_count_and_lba_range_are_caught(disks):
    log = _log_text("bounce")
    line = next(ln for ln in log.splitlines() if "purpose=mdts-split" in ln)
    lie = line.replace("commands=3", "commands=2").replace("slba=2 ", "slba=3 ")
    rep = run(log.replace(line, lie), _trace_text("bounce"), disks)
    found = messages(rep)
    assert any("commands=2 but the device ran 3" in m for m in found), found
    assert any("slba=3" in m and "device read LBAs" in m for m in found), found


def test_false_refusal_is_caught(disks):
    log = _log_text("bounce")
    line = next(ln for ln in log.splitlines() if "case=bad-nsid" in ln)
    lie = line.replace("observed_status=0x00b", "observed_status=0x002")
    rep = run(log.replace(line, lie), _trace_text("bounce"), disks)
    assert any("observed_status=0x002 but the device completed 0x00b" in m
               for m in messages(rep)), messages(rep)


def test_polling_claim_against_raised_interrupts_is_caught(disks):
    log = _log_text("bounce")
    line = next(ln for ln in log.splitlines() if "purpose=last-lba" in ln)
    rep = run(log.replace(line, line.replace("mode=msix", "mode=poll")), _trace_text("bounce"), disks)
    assert any("mode=poll but the device raised" in m for m in messages(rep)), messages(rep)


def test_wrong_interrupt_vector_is_caught(disks):
    log = _log_text("iommu")
    line = next(ln for ln in log.splitlines() if ln.startswith("nvme: interrupts") and "io_vector=" in ln)
    vector = re.search(r"io_vector=(0x[0-9a-f]{2})", line).group(1)
    rep = run(log.replace(line, line.replace(f"io_vector={vector}", "io_vector=0x7e")),
              _trace_text("iommu"), disks)
    assert any(f"io_vector=0x7e but MSI-X entry 1 delivered vector(s) {vector}" in m
               for m in messages(rep)), messages(rep)


def test_unreported_command_failure_is_caught(disks):
    trace = _trace_text("bounce")
    done = next(ln for ln in trace.splitlines()
                if ln.startswith("pci_nvme_enqueue_req_completion") and "cqid 1" in ln)
    rep = run(_log_text("bounce"), replace_once(trace, done, done.replace("status 0x0", "status 0x281")),
              disks)
    assert any("reported nowhere" in m for m in messages(rep)), messages(rep)


# ------------------------------------------------------- the real defect

def test_metadata_namespace_writes_to_address_zero():
    """ms=8 mset=0 pi=1 on the firmware before the NVMe-shapes fix: PASS, yet the device wrote to 0."""
    log_text = _log_text("metadata")
    assert "proofboot: verdict status=PASS" in log_text
    assert re.search(r"dma: audit .* outside_pool=0 .* ok=true", log_text)
    rep = run(log_text, _trace_text("metadata"))
    found = messages(rep)
    assert any("address 0x0 " in m and "bounce pool" in m for m in found), found
    assert any(m.startswith("dma: audit") for m in found), found
    assert witness.judge(rep, witness.EXPECT_CONTRADICTED) == []
    assert witness.judge(rep, witness.EXPECT_CLEAN)


# --------------------------------------------------------------- plumbing

def test_trace_without_console_is_a_contradiction():
    rep = run(_log_text("bounce"), "pci_nvme_read cid 0 nsid 1 nlb 8 count 4096 lba 0x0\n")
    assert not rep.ok and "no console output" in rep.contradictions[0].message


def test_judge_reports_a_fixed_defect():
    clean = witness.WitnessReport()
    assert witness.judge(clean, witness.EXPECT_CLEAN) == []
    assert "expected a contradiction" in witness.judge(clean, witness.EXPECT_CONTRADICTED)[0]


def test_trace_available_is_false_without_qemu():
    assert witness.trace_available("/nonexistent/qemu-system-x86_64") is False


def test_qemu_args_name_events_never_everything():
    args = witness.qemu_args("/tmp/t.log")
    events = args[1:-2:2]
    assert args[-2:] == ["-D", "/tmp/t.log"] and "serial_write" in events
    assert "*" not in events and "pci_nvme_*" not in events and "vtd_*" not in events


def test_matrix_witness_key():
    text = '[[config]]\nname = "a"\nwitness = "contradicted"\n[[config]]\nname = "b"\n'
    a, b = qmatrix.load_matrix_text(text)
    assert a.witness == "contradicted" and b.witness == "clean"
    with pytest.raises(qmatrix.MatrixError, match="witness must be one of"):
        qmatrix.load_matrix_text('[[config]]\nname = "c"\nwitness = "maybe"\n')


def test_reports_carry_the_witness_column(disks):
    config = qmatrix.load_matrix_text('[[config]]\nname = "w"\n')[0]
    rep = run(_log_text("metadata"), _trace_text("metadata"))
    result = qmatrix.Result(config=config, outcome="PASS", ok=False, problems=["x"], exit_code=33,
                            wall=1.0, witness=rep)
    assert rep.cell() in qmatrix.summary_table([result])
    assert f"witness {rep.cell()}" in reports.tap([result])
    junit = reports.junit([result])
    assert 'name="witness"' in junit and 'type="WITNESS"' in junit


# ----------------------------------------------- the matrix runner, end to end

FAKE_QEMU = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_qemu.py")
FAKE_MATRIX = """
[[config]]
name = "fake"
witness = "%s"
  [[config.nvme]]
  serial = "pb-fake"
  size = "64K"
"""


def run_fake(tmp_path, monkeypatch, mode, expected="clean"):
    monkeypatch.setenv("FAKE_QEMU_MODE", mode)
    config = qmatrix.load_matrix_text(FAKE_MATRIX % expected)[0]
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    return qmatrix.run_config(config, str(iso), str(tmp_path / "out"), qemu=FAKE_QEMU,
                              with_witness=True)


def test_run_config_with_witness_backs_the_read(tmp_path, monkeypatch):
    r = run_fake(tmp_path, monkeypatch, "pass")
    assert r.ok and r.witness is not None and r.witness.ok, r.problems
    assert r.witness.backed == 1                    # the nvme: read line
    assert os.path.isfile(tmp_path / "out" / "fake" / "qemu-trace.log")
    assert "witness: OK" in (tmp_path / "out" / "fake" / "witness.txt").read_text()


def test_run_config_fails_a_pass_the_trace_contradicts(tmp_path, monkeypatch):
    r = run_fake(tmp_path, monkeypatch, "stray")
    assert r.outcome == "PASS" and not r.ok
    assert any("address 0x0" in p and "bounce pool" in p for p in r.problems), r.problems


def test_run_config_expecting_a_contradiction(tmp_path, monkeypatch):
    assert run_fake(tmp_path, monkeypatch, "stray", "contradicted").ok
    r = run_fake(tmp_path, monkeypatch, "pass", "contradicted")
    assert not r.ok and "expected a contradiction" in r.problems[0]


def test_matrix_witness_needs_a_trace_backend(tmp_path):
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    code = qmatrix.main(["--matrix", os.devnull, "--adhoc", "x", "--iso", str(iso),
                         "--qemu", str(tmp_path / "no-qemu"), "--witness",
                         "--out-dir", str(tmp_path / "o")])
    assert code == 2


def test_a_trace_of_another_run_is_refused(disks):
    rep = run(_log_text("bounce"), _trace_text("iommu"), disks)
    assert any("not the same run" in m for m in messages(rep)), messages(rep)


def test_console_mirrored_on_two_ports_is_read_once():
    line = b"proofboot: start version=x schema=1 multiboot2=true"
    events = "".join(f"serial_write write addr 0x00 val 0x{b:02x}\n" for b in line + line + b"\r\n\r\n")
    timeline = witness.parse_trace(events)
    assert [t for _, t in timeline.lines if t] == [line.decode()]


def test_iommu_lines_without_vtd_events_are_unbacked(disks):
    """A unit the trace has no events for (AMD-Vi): its lines are unbacked, never contradicted."""
    trace = "\n".join(ln for ln in _trace_text("iommu").splitlines() if not ln.startswith("vtd_"))
    rep = run(_log_text("iommu"), trace, disks)
    assert rep.ok, messages(rep)
    assert rep.unbacked_kinds["iommu: fault recorded"] == _log_text("iommu").count("iommu: fault recorded")


def test_a_vector_is_allowed_only_where_an_ir_proof_declares_it(disks):
    """The interrupt-remapping proofs route a queue's MSI-X to their IRTE's vector: the witness
    accepts that delivery only because an `iommu: ir remapped` line declares irte_vector=."""
    log = _log_text("iommu")
    line = next(ln for ln in log.splitlines() if ln.startswith("nvme: interrupts") and "io_vector=" in ln)
    vector = re.search(r"io_vector=(0x[0-9a-f]{2})", line).group(1)
    lied = log.replace(line, line.replace(f"io_vector={vector}", "io_vector=0x7e"))
    declared = lied.replace(line.replace(f"io_vector={vector}", "io_vector=0x7e"),
                            line.replace(f"io_vector={vector}", "io_vector=0x7e") +
                            f"\niommu: ir remapped sid=0000:00:03.0 unit=0 irte_vector={vector}", 1)
    wrong = f"io_vector=0x7e but MSI-X entry 1 delivered vector(s) {vector}"
    assert any(wrong in m for m in messages(run(lied, _trace_text("iommu"), disks)))
    assert not any(wrong in m for m in messages(run(declared, _trace_text("iommu"), disks)))


def test_a_command_failure_is_owned_only_by_a_proof_that_reports_it(disks):
    """The no-read isolation proof makes the device fail its command (Data Transfer Error,
    0x004): the failure is reported, and so owned, by its `iommu: no-read dma nvme_status=` line."""
    trace = _trace_text("bounce")
    done = next(ln for ln in trace.splitlines()
                if ln.startswith("pci_nvme_enqueue_req_completion") and "cqid 1" in ln)
    failed = replace_once(trace, done, done.replace("status 0x0", "status 0x4004"))
    log = _log_text("bounce")
    lines = log.splitlines(keepends=True)
    first_io = next(i for i, ln in enumerate(lines) if ln.startswith("nvme: read "))
    result = next(i for i in range(first_io, len(lines)) if lines[i].startswith("test: result "))
    claimed = "".join(lines[:result] + ["iommu: no-read dma sid=0000:00:02.0 nvme_status=0x004\n"]
                      + lines[result:])
    assert any("reported nowhere" in m for m in messages(run(log, failed, disks)))
    assert not any("reported nowhere" in m for m in messages(run(claimed, failed, disks)))
