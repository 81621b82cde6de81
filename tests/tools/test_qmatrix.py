"""python/proofboot/qmatrix.py, python/proofboot/reports.py: matrix file, QEMU command line, runner, TAP/JUnit.

The runner tests use tests/tools/fake_qemu.py instead of QEMU, so they are fast
and need no ISO.
"""
import json
import os
import re
import shutil
import time
import subprocess
import xml.etree.ElementTree as ET

import pytest

from proofboot import qmatrix
from proofboot import reports

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_QEMU = os.path.join(HERE, "fake_qemu.py")

MATRIX = """
[defaults]
timeout = 30
qemu_args = ["-net", "none"]

[[config]]
name = "plain"
groups = ["smoke"]
[config.expect]
verdict = ["PASS", "SKIP"]

[[config]]
name = "iommu-4k"
groups = ["iommu", "nvme"]
options = "dma=auto tests=nvme.*,boot.*"
devices = ["intel-iommu,aw-bits=48"]
memory = "512M"
  [[config.nvme]]
  serial = "pb,0"
  size = "64K"
  lba_size = 4096
  seed = "s4k"

[[config]]
name = "two-ns-eio"
groups = ["nvme", "negative"]
firmware = "uefi"
  [[config.nvme]]
  serial = "pb-a"
  props = "mdts=5"
    [[config.nvme.ns]]
    size = "64K"
    read_error = { first_lba = 2, count = 2 }
    [[config.nvme.ns]]
    nsid = 5
    size = "32K"
    lba_size = 4096
[config.expect]
verdict = "FAIL"
tests = { "nvme.read.bounce" = "FAIL" }
"""


def configs():
    return qmatrix.load_matrix_text(MATRIX, HERE, "test")


def by_name(name):
    return next(c for c in configs() if c.name == name)


def paths(tmp_path, name="x"):
    return qmatrix.RunPaths(str(tmp_path / name), str(tmp_path / "disks"))


# ----------------------------------------------------------------- matrix file

def test_matrix_parsing_and_defaults():
    plain, iommu, eio = configs()
    assert plain.timeout == 30 and plain.machine == "q35" and plain.firmware == "bios"
    assert plain.qemu_args == ("-net", "none") and plain.controllers == []
    assert plain.expected_verdict == "PASS/SKIP"
    assert iommu.memory == "512M" and iommu.devices == ("intel-iommu,aw-bits=48",)
    assert iommu.expected_verdict == "PASS/SKIP"          # default: anything but FAIL
    ns = iommu.controllers[0].namespaces[0]
    assert (ns.nsid, ns.lba_size, ns.spec.size, ns.spec.seed) == (1, 4096, 65536, "s4k")
    ctrl = eio.controllers[0]
    assert [n.nsid for n in ctrl.namespaces] == [1, 5]
    assert ctrl.namespaces[0].read_errors == ((2, 2),)
    assert ctrl.namespaces[0].spec.seed == "two-ns-eio/pb-a/1"      # default seed
    assert eio.expect.tests[0].pattern == "nvme.read.bounce"


def test_the_real_matrix_loads_and_covers_issue_5():
    cs = qmatrix.load_matrix(qmatrix.DEFAULT_MATRIX)
    names = {c.name for c in cs}
    for required in ("smoke", "bounce-no-iommu", "iommu-aw39", "iommu-aw48", "iommu-caching-mode",
                     "lba-4096", "two-namespaces", "two-controllers", "iommu-forced-without-iommu",
                     "read-error", "no-nvme"):
        assert required in names
    assert [c.name for c in qmatrix.select(cs, ["smoke"])] == ["smoke"]
    forced = next(c for c in cs if c.name == "iommu-forced-without-iommu")
    assert forced.expect.verdict == ("FAIL",) and "dma=iommu" in forced.options
    assert any(ns.read_errors for c in cs for ctrl in c.controllers for ns in ctrl.namespaces)


@pytest.mark.parametrize("text, message", [
    ('[[config]]\nname = "a"\n[[config]]\nname = "a"\n', "duplicate configuration"),
    ('[[config]]\nname = "a"\nbogus = 1\n', "unknown key"),
    ('[[config]]\nname = "a/b"\n', "name must be"),
    ('[[config]]\nname = "a"\nfirmware = "coreboot"\n', "bios or uefi"),
    ('[[config]]\nname = "a"\n[[config.nvme]]\nserial = "s"\n', "needs size"),
    ('[[config]]\nname = "a"\n[[config.nvme]]\nsize = "1000"\n', "multiple of lba_size"),
    ('[[config]]\nname = "a"\n[[config.nvme]]\nsize = "4K"\nread_error = { first_lba = 8 }\n',
     "outside the disk"),
    ('[[config]]\nname = "a"\n[config.expect]\nverdict = "GOOD"\n', "status must be"),
    ('[[config]]\nname = "a"\n[[config.nvme]]\nserial="s"\nsize="4K"\n'
     '[[config.nvme]]\nserial="s"\nsize="4K"\n', "duplicate controller serial"),
    ('not toml [', "test"),
    ('[[config]]\nname = "a"\noptions = "x=1"\noptions_file = "f"\n', "exclusive"),
    ('[[config]]\nname = "a"\nboot = "floppy"\n', "boot must be one of cdrom, pxe"),
    ('[[config]]\nname = "a"\nconsole_port = 5\n', "console_port must be 1 to 4"),
    ('[[config]]\nname = "a"\nconsole_port = true\n', "console_port must be 1 to 4"),
    ('[[config]]\nname = "a"\nacpi_tables = 3\n', "acpi_tables: must be a string"),
])
def test_matrix_errors(text, message):
    with pytest.raises(qmatrix.MatrixError, match=message):
        qmatrix.load_matrix_text(text, HERE, "test")


def test_select_by_name_group_and_glob():
    cs = configs()
    assert [c.name for c in qmatrix.select(cs, [])] == ["plain", "iommu-4k", "two-ns-eio"]
    assert [c.name for c in qmatrix.select(cs, ["nvme"])] == ["iommu-4k", "two-ns-eio"]
    assert [c.name for c in qmatrix.select(cs, ["two-*", "smoke"])] == ["plain", "two-ns-eio"]
    with pytest.raises(qmatrix.MatrixError, match="nothing-like-this"):
        qmatrix.select(cs, ["nothing-like-this"])


# ----------------------------------------------------------------- command line

def test_options_file_is_passed_as_raw_fw_cfg_file(tmp_path):
    [config] = qmatrix.load_matrix_text('[[config]]\nname = "nul"\noptions_file = "o.bin"\n',
                                        str(tmp_path), "test")
    cmd = qmatrix.build_command(config, "/iso/pb.iso", paths(tmp_path, "nul"))
    i = cmd.index("-fw_cfg")
    assert cmd[i + 1] == f"name=opt/proofboot/cmdline,file={tmp_path}/o.bin"
    assert not any("string=" in a for a in cmd)


def test_command_line_for_plain_config(tmp_path):
    p = paths(tmp_path, "plain")
    cmd = qmatrix.build_command(by_name("plain"), "/iso/pb.iso", p, extra_args=["-s"])
    assert cmd == [
        "qemu-system-x86_64", "-M", "q35", "-m", "256M", "-display", "none", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-chardev", f"file,id=console,path={p.log}", "-serial", "chardev:console",
        "-cdrom", "/iso/pb.iso", "-boot", "d", "-net", "none", "-s"]


def one_config(text):
    return qmatrix.load_matrix_text('[[config]]\nname = "c"\n' + text, HERE, "test")[0]


@pytest.mark.parametrize("firmware, bootfile", [("bios", "boot/grub/i386-pc/core.0"),
                                                ("uefi", "boot/grub/x86_64-efi/core.efi")])
def test_command_line_pxe_boots_the_netboot_tree_without_a_cd(tmp_path, firmware, bootfile):
    config = one_config(f'boot = "pxe"\nfirmware = "{firmware}"\n')
    cmd = qmatrix.build_command(config, "/out/pb.iso", paths(tmp_path, "c"))
    assert "-cdrom" not in cmd
    assert cmd[cmd.index("-netdev") + 1] == f"user,id=pxe0,tftp=/out/netboot,bootfile={bootfile}"
    assert cmd[cmd.index("-boot") + 1] == "n"
    assert "e1000,netdev=pxe0" in cmd


def test_command_line_console_port_and_acpi_tables(tmp_path):
    p = paths(tmp_path, "c")
    config = one_config('console_port = 3\nacpi_tables = ["spcr.bin"]\n')
    cmd = qmatrix.build_command(config, "/iso/pb.iso", p)
    serial = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    assert serial == ["null", "null", "chardev:console"]
    assert cmd[cmd.index("-acpitable") + 1] == f"file={os.path.join(HERE, 'spcr.bin')}"


def test_command_line_nvme_iommu_and_comma_escaping(tmp_path):
    p = qmatrix.RunPaths(str(tmp_path / "a,b"), str(tmp_path / "disks"))
    config = by_name("iommu-4k")
    cmd = qmatrix.build_command(config, "/iso/pb.iso", p)
    joined = " ".join(cmd)
    assert f"path={tmp_path}/a,,b/console.log" in joined
    assert cmd[cmd.index("-fw_cfg") + 1] == \
        "name=opt/proofboot/cmdline,string=dma=auto tests=nvme.*,,boot.*"
    assert cmd[cmd.index("-device", cmd.index("-fw_cfg")) + 1] == "intel-iommu,aw-bits=48"
    image = qmatrix.image_path(config.controllers[0].namespaces[0], p)
    assert "-device" in cmd and "nvme,id=nvme0,serial=pb,,0" in cmd
    assert f"if=none,id=nvme0n1,format=raw,snapshot=on,file={image}" in cmd
    assert ("nvme-ns,bus=nvme0,drive=nvme0n1,nsid=1,logical_block_size=4096,"
            "physical_block_size=4096") in cmd
    assert "-bios" not in cmd and cmd[cmd.index("-m") + 1] == "512M"


def test_command_line_uefi_blkdebug_and_two_namespaces(tmp_path):
    p = paths(tmp_path, "two-ns-eio")
    config = by_name("two-ns-eio")
    cmd = qmatrix.build_command(config, "/iso/pb.iso", p)
    assert cmd[cmd.index("-bios") + 1] == qmatrix.OVMF
    assert cmd.index("-bios") < cmd.index("-cdrom")
    assert "nvme,id=nvme0,serial=pb-a,mdts=5" in cmd
    conf = p.blkdebug_config(0, config.controllers[0].namespaces[0])
    ns1 = qmatrix.image_path(config.controllers[0].namespaces[0], p)
    assert (f"if=none,id=nvme0n1,format=raw,snapshot=on,file.driver=blkdebug,"
            f"file.config={conf},file.image.filename={ns1}") in cmd
    assert "nvme-ns,bus=nvme0,drive=nvme0n5,nsid=5,logical_block_size=4096," \
           "physical_block_size=4096" in cmd
    assert "-fw_cfg" not in cmd                      # no options: no fw_cfg file at all


def test_blkdebug_config_one_rule_per_lba():
    ns = by_name("two-ns-eio").controllers[0].namespaces[0]
    text = qmatrix.blkdebug_text(ns)
    assert text.count("[inject-error]") == 2
    assert 'event = "read_aio"' in text and 'errno = "5"' in text and 'iotype = "read"' in text
    assert 'sector = "2"' in text and 'sector = "3"' in text
    ns4k = qmatrix.Namespace(nsid=1, lba_size=4096, spec=None, image="x", read_errors=((3, 1),))
    assert 'sector = "24"' in qmatrix.blkdebug_text(ns4k)


def test_prepare_creates_images_configs_and_disk_map(tmp_path):
    import proofcheck
    config = by_name("two-ns-eio")
    p = paths(tmp_path, config.name)
    qmatrix.prepare(config, p)
    ns1, ns5 = config.controllers[0].namespaces
    assert os.path.getsize(qmatrix.image_path(ns1, p)) == 65536
    assert os.path.getsize(qmatrix.image_path(ns5, p)) == 32768
    assert os.path.exists(p.blkdebug_config(0, ns1))
    assert not os.path.exists(p.blkdebug_config(0, ns5))
    dmap = proofcheck.DiskMap()
    dmap.load_map(p.disk_map)
    assert [(d.serial, d.nsid, d.lba_size) for d in dmap.disks] == [("pb-a", 1, 512), ("pb-a", 5, 4096)]


def test_user_disk(tmp_path):
    img = tmp_path / "mine.img"
    img.write_bytes(bytes(8192))
    config = by_name("plain")
    qmatrix.add_user_disk(config, f"{img},lba_size=4096,serial=lab", 0)
    ctrl = config.controllers[0]
    assert ctrl.serial == "lab" and ctrl.namespaces[0].image == str(img)
    cmd = qmatrix.build_command(config, "/iso", paths(tmp_path))
    assert f"if=none,id=nvme0n1,format=raw,snapshot=on,file={img}" in cmd
    with pytest.raises(qmatrix.MatrixError):
        qmatrix.add_user_disk(config, f"{img},colour=red", 1)
    with pytest.raises(qmatrix.MatrixError):
        qmatrix.add_user_disk(config, str(tmp_path / "none.img"), 1)


# ----------------------------------------------------------------------- runner

def run(tmp_path, monkeypatch, name, mode="pass", timeout=None):
    monkeypatch.setenv("FAKE_QEMU_MODE", mode)
    config = by_name(name)
    if timeout:
        config.timeout = timeout
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    return qmatrix.run_config(config, str(iso), str(tmp_path / "out"), qemu=FAKE_QEMU)


def test_run_pass_with_real_crc_check(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "iommu-4k")
    assert (r.outcome, r.ok, r.exit_code) == ("PASS", True, 33), r.problems
    assert r.report.reads_checked == 1 and r.counts == (2, 0, 0)
    out = tmp_path / "out" / "iommu-4k"
    assert json.loads((out / "result.json").read_text())["outcome"] == "PASS"
    assert (out / "cmd.sh").read_text().startswith("#!/bin/sh")
    assert "all checks passed" in (out / "check.txt").read_text()


def test_run_expected_fail_is_ok(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "two-ns-eio")
    assert (r.outcome, r.ok, r.exit_code) == ("FAIL", True, 35), r.problems


def test_run_unexpected_fail(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="fail")
    assert (r.outcome, r.ok) == ("FAIL", False)
    assert any("verdict is FAIL, expected PASS or SKIP" in p for p in r.problems)


def test_run_bad_crc_is_caught(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "iommu-4k", mode="badcrc")
    assert not r.ok
    assert any("console.log:" in p and "have crc32=" in p for p in r.problems), r.problems


def test_run_crash_without_verdict(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="crash")
    assert (r.outcome, r.ok, r.exit_code) == (qmatrix.NO_VERDICT, False, 0)
    assert "no verdict line" in r.problems[0]


def test_run_qemu_error_shows_stderr(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="error")
    assert (r.outcome, r.ok, r.exit_code) == (qmatrix.QEMU_ERROR, False, 1)
    assert "QEMU failed to start" in r.problems[0] and "not a valid device" in r.problems[0]


def test_run_timeout(tmp_path, monkeypatch):
    r = run(tmp_path, monkeypatch, "plain", mode="hang", timeout=0.5)
    assert (r.outcome, r.ok) == (qmatrix.TIMEOUT, False)
    assert r.problems[0].startswith("timed out after 0.5s") and r.wall < 5


def test_exit_code_must_match_verdict():
    import prooflog, proofcheck
    from synth import as_log, proof_lines
    config = by_name("plain")
    report = proofcheck.check_log(prooflog.parse_text(as_log(proof_lines())), config.expect)
    assert qmatrix.classify(config, 33, False, False, "", report)[:2] == ("PASS", True)
    outcome, ok, problems = qmatrix.classify(config, 35, False, False, "", report)
    assert not ok and "does not match the verdict line PASS" in problems[0]


def test_run_matrix_parallel_progress_and_fail_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QEMU_MODE", "pass")
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    lines = []
    results = qmatrix.run_matrix(configs(), str(iso), str(tmp_path / "out"), 2, False,
                                 FAKE_QEMU, progress=lines.append)
    assert [r.config.name for r in results] == ["plain", "iommu-4k", "two-ns-eio"]
    assert len(lines) == 3 and all(l.startswith("[") for l in lines)
    table = qmatrix.summary_table(results)
    assert table.splitlines()[0].split() == ["configuration", "verdict", "expected",
                                             "pass/fail/skip", "wall", "result"]
    assert "3 configuration(s), 3 OK, 0 unexpected" in table

    monkeypatch.setenv("FAKE_QEMU_MODE", "fail")
    results = qmatrix.run_matrix(configs(), str(iso), str(tmp_path / "out"), 1, True,
                                 FAKE_QEMU, progress=lambda line: None)
    assert len(results) == 1 and not results[0].ok


def test_main_list_dry_run_and_usage(tmp_path, capsys):
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    assert qmatrix.main(["--matrix", str(matrix), "--list", "nvme"]) == 0
    out = capsys.readouterr().out
    assert "iommu-4k" in out and "plain" not in out
    assert qmatrix.main(["--matrix", str(matrix), "--dry-run", "plain",
                         "--qemu-arg=-S", "--options", "dma=bounce"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# plain\ntimeout 30 qemu-system-x86_64 ")
    assert "-S" in out.split() and "string=dma=bounce" in out
    assert qmatrix.main(["--matrix", str(matrix), "nope"]) == 2
    assert qmatrix.main(["--matrix", str(matrix), "--iso", str(tmp_path / "no.iso")]) == 2
    assert qmatrix.main(["--bogus"]) == 2


def test_main_end_to_end_with_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_QEMU_MODE", "pass")
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    tap, junit = tmp_path / "r.tap", tmp_path / "new-dir" / "r.xml"
    code = qmatrix.main(["--matrix", str(matrix), "--iso", str(iso), "--qemu", FAKE_QEMU,
                         "--out-dir", str(tmp_path / "out"), "-j", "2", "--tap", str(tap),
                         "--junit", str(junit), "plain", "iommu-4k"])
    assert code == 0, capsys.readouterr().out
    assert tap.read_text().startswith("TAP version 13\n1..2\nok 1 - plain")
    ET.parse(str(junit))

    monkeypatch.setenv("FAKE_QEMU_MODE", "fail")
    code = qmatrix.main(["--matrix", str(matrix), "--iso", str(iso), "--qemu", FAKE_QEMU,
                         "--out-dir", str(tmp_path / "out"), "plain"])
    assert code == 1


def test_adhoc_config_with_user_disk(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_QEMU_MODE", "pass")
    import diskimage
    img = tmp_path / "lab.img"
    diskimage.write_image(diskimage.DiskSpec(size=65536, seed="lab"), str(img))
    iso = tmp_path / "fake.iso"
    iso.write_bytes(b"")
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX)
    code = qmatrix.main(["--matrix", str(matrix), "--adhoc", "mine", "--disk", str(img),
                         "--iso", str(iso), "--qemu", FAKE_QEMU, "--out-dir", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads((tmp_path / "o" / "mine" / "result.json").read_text())
    assert result["outcome"] == "PASS"
    assert "1 nvme read(s) checked" in (tmp_path / "o" / "mine" / "check.txt").read_text()


# ---------------------------------------------------------------------- reports

def fake_results(tmp_path, monkeypatch):
    return [run(tmp_path, monkeypatch, "iommu-4k"),
            run(tmp_path, monkeypatch, "two-ns-eio"),
            run(tmp_path, monkeypatch, "plain", mode="crash")]


def test_tap_shape(tmp_path, monkeypatch):
    text = reports.tap(fake_results(tmp_path, monkeypatch))
    lines = text.splitlines()
    assert lines[:2] == ["TAP version 13", "1..3"]
    assert lines[2].startswith("ok 1 - iommu-4k: PASS (expected PASS/SKIP)")
    assert lines[3].startswith("ok 2 - two-ns-eio: FAIL (expected FAIL)")
    crash = next(i for i, l in enumerate(lines) if l.startswith("not ok 3 - plain: NO-VERDICT"))
    assert lines[crash + 1] == "  ---" and "  ..." in lines[crash + 2:]
    assert any(l.startswith("    - \"") for l in lines[crash:])


def test_junit_shape(tmp_path, monkeypatch):
    root = ET.fromstring(reports.junit(fake_results(tmp_path, monkeypatch)))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"iommu-4k", "two-ns-eio", "plain"}
    cases = {c.get("name"): c for c in suites["iommu-4k"].findall("testcase")}
    assert set(cases) == {"boot.options", "nvme.read.bounce", reports.LOG_CHECKS_CASE}
    assert all(c.get("classname") == "iommu-4k" for c in cases.values())
    assert cases["nvme.read.bounce"].get("time") == "0.000007"
    assert suites["iommu-4k"].get("failures") == "0"
    # Expected FAIL: not a JUnit failure.
    eio = {c.get("name"): c for c in suites["two-ns-eio"].findall("testcase")}
    assert eio["nvme.read.bounce"].find("failure") is None
    # Crash: the planned test without a result is an error, the config checks fail.
    crash = {c.get("name"): c for c in suites["plain"].findall("testcase")}
    assert crash["nvme.read.bounce"].find("error") is not None
    assert crash[reports.LOG_CHECKS_CASE].find("failure") is not None
    assert int(root.get("tests")) == 9 and int(root.get("failures")) == 1
    assert int(root.get("errors")) == 1


# ------------------------------------------------- real QEMU (skipped without it)

@pytest.mark.skipif(not shutil.which("qemu-system-x86_64"), reason="needs qemu-system-x86_64")
def test_generated_blkdebug_config_fails_exactly_those_lbas_in_qemu(tmp_path):
    """The drive string and blkdebug rules, read through QEMU's own block layer (HMP qemu-io)."""
    import diskimage
    spec = diskimage.DiskSpec(size=64 * 1024, seed="blk")
    image = diskimage.cached_image(spec, str(tmp_path))
    ns = qmatrix.Namespace(nsid=1, lba_size=512, spec=spec, read_errors=((2, 3),))
    conf = tmp_path / "blk.conf"
    conf.write_text(qmatrix.blkdebug_text(ns))
    reads = "".join(f'qemu-io d0 "read {lba * 512} 512"\n' for lba in (1, 2, 4, 5)) + "quit\n"
    proc = subprocess.run(
        ["timeout", "20", "qemu-system-x86_64", "-M", "none", "-S", "-display", "none",
         "-monitor", "stdio", "-drive", qmatrix.drive_arg("d0", image, str(conf))],
        input=reads, capture_output=True, text=True)
    results = re.findall(r"read failed: Input/output error|read 512/512 bytes at offset (\d+)",
                         proc.stdout)
    assert results == ["512", "", "", "2560"], proc.stdout[-2000:] + proc.stderr


SHAPES = """
[[config]]
name = "shapes"
  [[config.nvme]]
  serial = "pb-md"
  size = "1M"
  ms = 8
  mset = 1
  pi = 1
  [[config.nvme]]
  serial = "pb-z"
  size = "4M"
  ns_props = "zoned=true,zoned.zone_size=1M"
  [[config.nvme]]
  serial = "pb-mp"
  subsys = "ss0"
  size = "1M"
  [[config.nvme]]
  serial = "pb-mp"
  subsys = "ss0"
  ns = []
"""


def test_namespace_formats_and_subsystem_on_the_command_line(tmp_path):
    config = qmatrix.load_matrix_text(SHAPES, HERE, "test")[0]
    md = config.controllers[0].namespaces[0]
    assert md.spec.metadata_size == 8 and md.spec.lbas == (1 << 20) // 520
    cmd = qmatrix.build_command(config, "/iso/pb.iso", paths(tmp_path))
    assert ("nvme-ns,bus=nvme0,drive=nvme0n1,nsid=1,logical_block_size=512,"
            "physical_block_size=512,ms=8,mset=1,pi=1") in cmd
    assert ("nvme-ns,bus=nvme1,drive=nvme1n1,nsid=1,logical_block_size=512,"
            "physical_block_size=512,zoned=true,zoned.zone_size=1M") in cmd
    assert cmd.count("nvme-subsys,id=ss0,nqn=ss0") == 1
    assert "nvme,id=nvme2,serial=pb-mp,subsys=ss0" in cmd
    assert "nvme,id=nvme3,serial=pb-mp,subsys=ss0" in cmd
    assert cmd.index("nvme-subsys,id=ss0,nqn=ss0") < cmd.index("nvme,id=nvme2,serial=pb-mp,subsys=ss0")
    assert not any(a.startswith("nvme-ns,bus=nvme3") for a in cmd)


@pytest.mark.parametrize("keys, message", [
    ("mset = 1", "mset and pi need metadata"),
    ("ms = 8\npi = 4", "pi 0..3"),
])
def test_namespace_format_errors(keys, message):
    text = f'[[config]]\nname = "x"\n  [[config.nvme]]\n  size = "1M"\n  {keys}\n'
    with pytest.raises(qmatrix.MatrixError, match=message):
        qmatrix.load_matrix_text(text, HERE, "test")


def _session(cmd):
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            start_new_session=True)


def test_wait_sees_the_exit_without_a_poll_grid(monkeypatch):
    """The runner blocks in wait(): a wait with a timeout polls, and its sleeps set the wall times."""
    calls = []
    real_wait = subprocess.Popen.wait

    def recording_wait(self, timeout=None):
        calls.append(timeout)
        return real_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", recording_wait)
    proc = _session(["true"])
    assert qmatrix._wait(proc, deadline=time.monotonic() + 60) is False
    assert proc.returncode == 0
    assert calls and calls[0] is None, calls


def test_wait_kills_the_group_past_the_deadline():
    proc = _session(["sh", "-c", "sleep 30 & sleep 30"])
    assert qmatrix._wait(proc, deadline=time.monotonic() + 0.2) is True
    assert proc.returncode == -9
