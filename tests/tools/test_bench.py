"""tools/bench: grid, parsers, report, command lines, initramfs pieces (no QEMU, no Linux guest)."""
import csv
import gzip
import io
import json
import os
import shutil
import subprocess

import pytest

from proofboot import prooflog
from bench import grid, guest, measure, report, runs, synth, targets

POINTS = [(4096, 1), (4096, 32), (4096, "max"), (131072, 1), (524288, "max")]


def fw_run(path, variant="no-iommu", image=None):
    return measure.parse_firmware(prooflog.parse_file(str(path)), variant, image)


# ---------------------------------------------------------------------- grid

def test_labels_and_lists():
    assert [grid.size_label(n) for n in (4096, 131072, 524288, 1 << 20, 1000)] == \
        ["4K", "128K", "512K", "1M", "1000"]
    assert grid.depth_label(1, 63) == "1" and grid.depth_label(32, 63) == "32"
    assert grid.depth_label(63, 63) == "max" and grid.depth_label(8, 63) == "8"
    assert grid.depth_label(32, 32) == "32"          # a max of 32 stays the "32" row
    assert grid.parse_list("4K,128k,1M,512", allow_max=False) == (4096, 131072, 1 << 20, 512)
    assert grid.parse_list("1,32,max", allow_max=True) == (1, 32, "max")
    for bad in ("max", "0", "x", "4G"):
        with pytest.raises(ValueError):
            grid.parse_list(bad, allow_max=False)
    assert grid.Grid().points()[2] == (4096, "max")


def test_ceiling_count_covers_bytes_and_queue():
    assert grid.ceiling_count(4096, 1, 64 << 20) == 16384
    assert grid.ceiling_count(524288, 1023, 64 << 20) == 4 * 1023
    assert grid.ceiling_count(3000, 1, 10000) == 4          # rounds up


# ------------------------------------------------------------------ proofboot

def test_firmware_lines_parse_and_sample_crcs_check(disk, tmp_path):
    spec, image = disk
    log = tmp_path / "fw.log"
    log.write_text(synth.firmware_log(image, 512, "iommu", POINTS, mbps=250.0, max_qd=63))
    run = fw_run(log, "iommu", image)
    assert run.problems == [] and run.verdict == "PASS"
    assert run.first_io_us == synth.SYNTH_FIRST_IO_US and run.first_io_line == "bench: first-io"
    assert [(m.bs, m.qd) for m in run.measurements] == \
        [(4096, 1), (4096, 32), (4096, 63), (131072, 1), (524288, 63)]
    m = run.measurements[0]
    assert m.backend == "direct-remapping" and m.system == measure.PROOFBOOT
    assert m.buffer == "device"
    assert m.mbps == pytest.approx(m.bytes / m.us)
    assert m.iops == pytest.approx(m.bytes / 4096 / (m.us / 1e6))


def test_firmware_wrong_sample_crc_and_claims_are_problems(disk, tmp_path):
    spec, image = disk
    good_crc = synth._crc(image, 0, 8, 512)
    lines = ["proofboot: start version=t schema=1 multiboot2=true",
             synth.bench_read_line(4096, 1, "bounce-buffer", 1 << 20, 10000, good_crc ^ 1, 0),
             "bench: read bs=4096 qd=1 backend=bounce-buffer bytes=1048576 us=10000 mbps=999 "
             f"iops=25 crc32=0x{good_crc:08x} sample_lba=0 sample_blocks=8",
             "bench: read bs=4096 qd=1 backend=bounce-buffer bytes=1048576 us=10000 MBps=104",
             "bench: read bs=4096 backend=bounce-buffer bytes=1 us=1",
             "proofboot: verdict status=PASS passed=1 failed=0 skipped=0"]
    log = tmp_path / "fw.log"
    log.write_text("\n".join(lines) + "\n")
    run = fw_run(log, image=image)
    text = "\n".join(run.problems)
    assert "fw.log:2: sample crc32=" in text                  # data does not match the image
    assert "fw.log:3: mbps=999 but bytes/us gives 104.9" in text
    assert "fw.log:3: iops=25" in text
    assert "fw.log:4: malformed bench line" in text           # upper-case key breaks the grammar
    assert "fw.log:5: bench: read line lacks" in text
    assert len(run.measurements) == 2 and run.first_io_us is None


def test_firmware_qd_label_keeps_points_apart(disk, tmp_path):
    # The bounce pool limited both the qd32 and the qdmax 512K points to
    # qd=14: the firmware's qd_label keeps them two rows instead of one.
    spec, image = disk
    crc = synth._crc(image, 0, 8, 512)
    lines = ["proofboot: start version=t schema=1 multiboot2=true"] + [
        f"bench: read bs=524288 qd=14 qd_requested={req} qd_label={label} "
        f"backend=bounce-buffer bytes=67108864 us=40000 crc32=0x{crc:08x} sample_lba=0 "
        "sample_blocks=8" for req, label in ((32, "32"), (127, "max"))] + [
        "proofboot: verdict status=PASS passed=1 failed=0 skipped=0"]
    log = tmp_path / "fw.log"
    log.write_text("\n".join(lines) + "\n")
    run = fw_run(log, image=image)
    assert run.problems == []
    measure.label_depths(run.measurements)
    assert [m.label for m in run.measurements] == ["32", "max"]


def test_firmware_buffer_says_what_was_measured(disk, tmp_path):
    spec, image = disk
    crc = synth._crc(image, 0, 8, 512)
    lines = ["proofboot: start version=t schema=1 multiboot2=true"] + [
        synth.bench_read_line(4096, 1, "bounce-buffer", 1 << 20, 10000, crc, 0, buffer=b)
        for b in ("device", "caller", "pool")] + [
        "proofboot: verdict status=PASS passed=1 failed=0 skipped=0"]
    log = tmp_path / "fw.log"
    log.write_text("\n".join(lines) + "\n")
    run = fw_run(log, image=image)
    assert [m.buffer for m in run.measurements] == ["device", "caller", "pool"]
    assert [p.rsplit("/", 1)[-1] for p in run.problems] == \
        ["fw.log:4: buffer=pool, not one of device|caller"]


def test_firmware_without_bench_lines(tmp_path):
    log = tmp_path / "fw.log"
    log.write_text("proofboot: verdict status=SKIP passed=0 failed=0 skipped=0\n")
    run = fw_run(log)
    assert run.measurements == [] and run.verdict == "SKIP"
    assert any("no bench: read line" in p for p in run.problems)


# --------------------------------------------------------------- Linux guest

def test_guest_log_parses(disk):
    spec, image = disk
    text = synth.guest_log(image, "iommu", POINTS, mbps=500.0, max_qd=1023)
    run = measure.parse_guest(text.replace("\n", "\r\n"), "iommu")
    assert run.problems == [] and run.done
    assert run.uptime["nvme-ready"] == 2.10 and run.uptime["first-io"] == 2.15
    assert run.info["iommu"]["type"] == "DMA-FQ"
    assert [(m.bs, m.qd) for m in run.measurements] == \
        [(4096, 1), (4096, 32), (4096, 1023), (131072, 1), (524288, 1023)]
    assert run.measurements[3].mbps == pytest.approx(500.0, rel=0.01)
    assert report.iommu_problems(run, "iommu", "x") == []
    assert report.sample_problems(run, image, "x") == []


def test_guest_failures_are_problems():
    text = ("guest: start uptime=1.0 kernel=k\n"
            "guest: fio-failed bs=4096 qd=1 rc=1 msg=fio:_oops\n"
            "guest: fio bs=4096 qd=32 json={\"jobs\": [\n")
    run = measure.parse_guest(text, "no-iommu", "g.log")
    text = "\n".join(run.problems)
    assert "g.log:2: guest: fio-failed" in text
    assert "g.log:3: unreadable fio result" in text
    assert "never printed 'guest: done'" in text and "no fio result" in text


def test_guest_driver_trouble_invalidates(disk):
    spec, image = disk
    text = synth.guest_log(image, "no-iommu", POINTS[:1], 100.0).replace(
        "guest: done", "guest: kmsg [ 3.2] nvme nvme0: 1/0/0 default/read/poll queues\n"
        "guest: kmsg [ 95.1] nvme nvme0: I/O 17 QID 1 timeout, aborting\nguest: done")
    run = measure.parse_guest(text, "no-iommu")
    assert len(run.kmsg) == 2
    assert len(run.problems) == 1 and "1 timeout/abort/reset/error" in run.problems[0]


def test_fio_json_cross_check():
    doc = synth.fio_json(4096, 1, 4096 * 3000, 1000)
    m = measure.fio_measurement(doc, "no-iommu", 4096, 1)
    assert (m.bytes, m.us, round(m.iops)) == (4096 * 3000, 1e6, 3000) and m.problems == []
    doc["jobs"][0]["read"]["iops"] = 10
    doc["jobs"][0]["error"] = 5
    m = measure.fio_measurement(doc, "no-iommu", 4096, 1)
    assert len(m.problems) == 2
    doc["jobs"][0]["read"]["runtime"] = 0
    with pytest.raises(ValueError):
        measure.fio_measurement(doc, "no-iommu", 4096, 1)


def test_iommu_variant_must_really_translate(disk):
    spec, image = disk
    no = measure.parse_guest(synth.guest_log(image, "no-iommu", POINTS[:1], 100.0), "iommu")
    assert report.iommu_problems(no, "iommu", "x")             # claims iommu, has no domain
    yes = measure.parse_guest(synth.guest_log(image, "iommu", POINTS[:1], 100.0), "no-iommu")
    assert report.iommu_problems(yes, "no-iommu", "x")          # no-iommu, yet translated
    yes.dmesg.clear()
    assert report.iommu_problems(yes, "iommu", "x")             # no DMAR line: not proven


def test_guest_sample_md5_mismatch(disk, tmp_path):
    spec, image = disk
    run = measure.parse_guest(synth.guest_log(image, "no-iommu", POINTS[:1], 100.0), "no-iommu")
    other = tmp_path / "other.img"
    other.write_bytes(b"\0" * os.path.getsize(image))
    assert "md5" in report.sample_problems(run, str(other), "x")[0]


# ------------------------------------------------------------ qemu-img bench

def test_qemu_img_output():
    out = ("Sending 2048 read requests, 131072 bytes each, 32 in parallel "
           "(starting at offset 0, step size 131072)\nRun completed in 0.145 seconds.\n")
    m = measure.ceiling_measurement(out, 131072, 32, 2048, "io_uring")
    assert m.bytes == 2048 * 131072 and m.us == pytest.approx(145000)
    assert m.mbps == pytest.approx(2048 * 131072 / 145000)
    assert measure.ceiling_measurement(out.replace("0.145", "0.000"), 4096, 1, 1, "x").problems
    with pytest.raises(ValueError):
        measure.parse_qemu_img("qemu-img: Could not open 'x': No such file\n")


def test_qemu_img_command():
    assert runs.qemu_img_command("d.img", 4096, 1, 16384, "io_uring") == \
        ["qemu-img", "bench", "-f", "raw", "-t", "none", "-i", "io_uring", "-c", "16384",
         "-s", "4096", "-d", "1", "d.img"]


# -------------------------------------------------------------------- report

def _bench_dir(tmp_path, image, fw_max=63):
    out = tmp_path / "bench"
    for variant in report.VARIANTS:
        for prefix, text, code in (
                ("fw", synth.firmware_log(image, 512, variant, POINTS, 200.0, fw_max), 33),
                ("linux", synth.guest_log(image, variant, POINTS, 400.0), 0)):
            d = out / f"{prefix}-{variant}"
            d.mkdir(parents=True)
            (d / "console.log").write_text(text)
            (d / "run.json").write_text(json.dumps({
                "exit_code": code, "timed_out": False, "image": image, "lba_size": 512,
                "arrivals": {"bench: first-io": 0.9, "guest: nvme-ready": 4.2,
                             "guest: first-io": 4.3}}))
    points = []
    for bs, qd in POINTS:
        qd = fw_max if qd == "max" else qd
        count = grid.ceiling_count(bs, qd, 1 << 20)
        secs = count * bs / 800e6                      # 800 MB/s
        points.append({"bs": bs, "qd": qd, "count": count, "exit_code": 0,
                       "output": f"Run completed in {secs:.6f} seconds."})
    (out / "ceiling.json").write_text(json.dumps({"image": image, "aio": "io_uring",
                                                  "cache": "none", "points": points}))
    return out


def test_report_rows_ratios_and_csv(disk, tmp_path):
    spec, image = disk
    out = _bench_dir(tmp_path, image)
    data = report.load(str(out))
    assert data.problems == []
    rows = report.build_rows(data.measurements)
    assert [(r.variant, r.backend, grid.point_label(r.bs, r.label)) for r in rows[:5]] == [
        ("no-iommu", "bounce-buffer", "4K qd1"), ("no-iommu", "bounce-buffer", "4K qd32"),
        ("no-iommu", "bounce-buffer", "4K qdmax"), ("no-iommu", "bounce-buffer", "128K qd1"),
        ("no-iommu", "bounce-buffer", "512K qdmax")]
    assert rows[5].backend == "direct-remapping" and len(rows) == 10
    maxrow = rows[2]       # proofboot's max (63) and Linux's max (1023) share the "max" row
    assert (maxrow.cells["proofboot"].qd, maxrow.cells["linux"].qd,
            maxrow.cells["ceiling"].qd) == (63, 1023, 63)
    r = rows[3]
    assert r.ratio("linux") == pytest.approx(0.5, rel=0.02)
    assert r.ratio("ceiling") == pytest.approx(0.25, rel=0.02)
    parsed = list(csv.DictReader(io.StringIO(report.csv_text(rows))))
    assert len(parsed) == 10 and set(parsed[0]) == set(report.CSV_FIELDS)
    assert parsed[3]["bs"] == "131072" and parsed[3]["qd_label"] == "1"
    assert float(parsed[3]["proofboot_over_linux"]) == pytest.approx(0.5, rel=0.02)
    text = report.table(rows)
    assert "512K qdmax" in text and "pb/ceiling" in text and "0.50" in text
    assert any(n.startswith("proofboot iommu direct-remapping: read into device memory (DMA memory")
               for n in data.notes), data.notes
    boot = {(f.system, f.variant, f.event, f.clock): f.seconds for f in data.boot}
    assert boot[("proofboot", "iommu", "first I/O", "host: since QEMU start")] == 0.9
    assert boot[("proofboot", "iommu", "first I/O", "firmware's own clock")] == 0.612
    assert boot[("linux", "no-iommu", "NVMe ready", "host: since QEMU start")] == 4.2
    assert boot[("linux", "no-iommu", "NVMe ready", "guest: since kernel start")] == 2.1


def test_report_outputs_and_missing_parts(disk, tmp_path):
    spec, image = disk
    out = _bench_dir(tmp_path, image)
    shutil.rmtree(out / "fw-iommu")
    (out / "ceiling.json").unlink()
    data = report.load(str(out))
    assert any("fw-iommu: missing" in p for p in data.problems)
    assert any("ceiling.json: missing" in p for p in data.problems)
    printed = []
    rows = report.write_outputs(data, str(out), draw_chart=False, log=printed.append)
    iommu_rows = [r for r in rows if r.variant == "iommu"]
    assert iommu_rows and all(r.backend == "-" and r.cells["proofboot"] is None
                              for r in iommu_rows)
    assert "problems:" in printed[0]
    assert (out / "results.csv").read_text().startswith("variant,backend,bs,qd_label,")
    assert "linux,no-iommu,NVMe ready,4.200,host: since QEMU start" in \
        (out / "boot.csv").read_text()


def _first_io_rows(csv_text):
    return [r for r in csv.DictReader(io.StringIO(csv_text))
            if r["event"] == "first I/O" and r["clock"] == "host: since QEMU start"]


@pytest.mark.parametrize("fw_samples,linux_samples,fw_median,linux_median", [
    ((0.5, 0.7), (4.0, 5.0), 0.7, 4.3),                 # 3 boots each (full run 0.9 / 4.3)
    ((0.5, 0.7, 0.6), (4.0, 5.0, 4.1), 0.65, 4.2),      # 4 boots each: mean of the middle two
])
def test_boot_samples_give_the_median(disk, tmp_path, fw_samples, linux_samples, fw_median,
                                      linux_median):
    spec, image = disk
    out = _bench_dir(tmp_path, image)
    for variant in report.VARIANTS:
        synth.write_boot_samples(str(out), image, 512, variant, fw_samples, linux_samples)
    data = report.load(str(out))
    assert data.problems == []
    boots = len(fw_samples) + 1
    assert targets.first_io_medians(data.boot)[("proofboot", "iommu")] == \
        pytest.approx((fw_median, boots))
    assert targets.first_io_medians(data.boot)[("linux", "no-iommu")] == \
        pytest.approx((linux_median, boots))
    samples = [f.sample for f in data.boot if f.system == "proofboot" and f.variant == "iommu"
               and f.clock == "host: since QEMU start"]
    assert samples == ["run"] + [str(n) for n in range(1, boots)]
    rows = _first_io_rows(report.boot_csv_text(data.boot))
    assert len(rows) == 2 * 2 * (boots + 1)             # every sample and a median row
    median = [r for r in rows if r["sample"] == "median" and r["system"] == "linux"
              and r["variant"] == "iommu"]
    assert len(median) == 1 and float(median[0]["seconds"]) == pytest.approx(linux_median)
    text = report.boot_text(data.boot)
    assert "boot sample 2" in text and f"median of {boots}" in text
    (t, _) = targets.boot_targets(data.boot, set())
    assert t.ratio == pytest.approx(linux_median / fw_median)
    assert f"medians of {boots} boots each" in t.reason


def test_failed_boot_samples_are_problems_not_samples(disk, tmp_path):
    spec, image = disk
    out = _bench_dir(tmp_path, image)
    synth.write_boot_samples(str(out), image, 512, "iommu", [0.5, None], [4.0, 5.0])
    bad = out / "boot-samples" / "linux-iommu-2" / "console.log"   # driver trouble after first-io
    bad.write_text(bad.read_text().replace(
        "guest: done", "guest: kmsg [ 9.1] nvme nvme0: I/O 17 QID 1 timeout, aborting\nguest: done"))
    data = report.load(str(out))
    assert len(data.problems) == 2, data.problems
    assert "fw-iommu-2" in data.problems[0] and "no bench: first-io" in data.problems[0]
    assert "linux-iommu-2" in data.problems[1] and "timeout" in data.problems[1]
    medians = targets.first_io_medians(data.boot)
    assert medians[("proofboot", "iommu")] == pytest.approx((0.7, 2))   # 0.9 and 0.5
    assert medians[("linux", "iommu")] == pytest.approx((4.15, 2))      # 4.3 and 4.0
    assert medians[("proofboot", "no-iommu")] == (0.9, 1)
    (t,) = [t for t in targets.boot_targets(data.boot, set()) if t.scope == "iommu"]
    assert "medians of 2 boots each" in t.reason


def test_chart_is_a_png(disk, tmp_path):
    pytest.importorskip("matplotlib")
    spec, image = disk
    out = _bench_dir(tmp_path, image)
    rows = report.build_rows(report.load(str(out)).measurements)
    report.chart(rows, str(tmp_path / "c.png"))
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------- QEMU command lines

def test_linux_and_firmware_share_the_machine(tmp_path):
    spec = runs.disk_spec(1 << 20)
    for variant in runs.VARIANTS:
        cfg = runs.bench_config("fw", variant, spec, runs.FW_OPTIONS, "256M", 10)
        paths = runs.qmatrix.RunPaths(str(tmp_path / "fw"), str(tmp_path / "disks"))
        fw = runs.qmatrix.build_command(cfg, "/x/proofboot.iso", paths)
        _, _, linux = runs.linux_command(variant, str(tmp_path), spec, "/boot/vmlinuz",
                                         "/i.gz", "console=ttyS0")
        assert ("intel-iommu" in fw) == ("intel-iommu" in linux) == (variant == "iommu")
        drives = [a for a in fw if a.startswith("if=none")]
        assert drives and drives == [a for a in linux if a.startswith("if=none")]
        assert [a for a in fw if a.startswith("nvme")] == [a for a in linux if a.startswith("nvme")]
        assert "-cdrom" not in linux and linux[linux.index("-kernel") + 1] == "/boot/vmlinuz"
        assert linux[linux.index("-append") + 1] == "console=ttyS0"
        # one vCPU but max_cpus 2, so QEMU 7.2's TCG keeps the guest's barriers (both sides)
        assert fw[fw.index("-smp") + 1] == linux[linux.index("-smp") + 1] == "1,maxcpus=2"
    with pytest.raises(ValueError):
        runs.kernel_boot(["qemu", "-m", "1G"], "k", "i", "a")
    with pytest.raises(ValueError):
        runs.bench_config("x", "amd-iommu", spec, "", "1G", 1)


def test_line_kind():
    assert runs.line_kind("guest: nvme-ready uptime=1.0 x=y") == "guest: nvme-ready"
    assert runs.line_kind("bench: read bs=4096") == "bench: read"
    assert runs.line_kind("proofboot: verdict status=PASS") == "proofboot: verdict"
    assert runs.line_kind("[    1.0]   a b c d e f") == "[ 1.0] a b"


def test_kernel_cmdline():
    no = guest.kernel_cmdline((4096, 131072), (1, "max"), 1000, iommu=False)
    assert no.split() == ["console=ttyS0", "quiet", "panic=-1", "no_timer_check",
                          "bench.bs=4096,131072",
                          "bench.qd=1,max", "bench.ms=1000"]
    assert guest.kernel_cmdline((4096,), (1,), 1000, iommu=True).endswith(" intel_iommu=on")


# ------------------------------------------------------------ guest building

def test_find_kernel_picks_the_newest(tmp_path):
    for name in ("vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-56-cloud-amd64",
                 "vmlinuz-6.1.0-60-amd64", "config-6.1.0-99-cloud-amd64"):
        (tmp_path / name).write_text("")
    assert guest.find_kernel(str(tmp_path)).endswith("vmlinuz-6.1.0-56-cloud-amd64")
    with pytest.raises(guest.GuestError):
        guest.find_kernel(str(tmp_path / "none"))


def test_parse_ldd():
    text = ("\tlinux-vdso.so.1 (0x00007ffd)\n"
            "\tlibaio.so.1 => /lib/x86_64-linux-gnu/libaio.so.1 (0x00007f33e0edf000)\n"
            "\t/lib64/ld-linux-x86-64.so.2 (0x00007f33e0f26000)\n")
    assert guest.parse_ldd(text) == [("libaio.so.1", "/lib/x86_64-linux-gnu/libaio.so.1"),
                                     ("ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2")]
    with pytest.raises(guest.GuestError):
        guest.parse_ldd("\tlibx.so.1 => not found\n")


OBJDUMP_T = """
/usr/bin/fio:     file format elf64-x86-64

DYNAMIC SYMBOL TABLE:
0000000000000000      DF *UND*\t0000000000000000 (GFAPI_6.0)  glfs_ftruncate
0000000000000000      DF *UND*\t0000000000000000  Base        rbd_open
0000000000000000      DO *UND*\t0000000000000000  Base        rbd_table
0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.2.5) strdup
00000000000123a0 g    DF .text\t0000000000000042  Base        fio_main
"""

PROVIDER_T = """
0000000000001000 g    DF .text\t0000000000000010  GFAPI_6.0   glfs_ftruncate
0000000000002000 g    DF .text\t0000000000000010  Base        rbd_open
0000000000003000 g    DO .data\t0000000000000030  Base        rbd_table
"""


def test_parse_dynsyms_and_stub_source():
    syms = guest.parse_dynsyms(OBJDUMP_T)
    assert [(s.name, s.version, s.defined, s.is_object) for s in syms] == [
        ("glfs_ftruncate", "GFAPI_6.0", False, False), ("rbd_open", "", False, False),
        ("rbd_table", "", False, True), ("strdup", "GLIBC_2.2.5", False, False),
        ("fio_main", "", True, False)]
    source, script = guest.stub_source(syms[:3], guest.parse_dynsyms(PROVIDER_T))
    assert "void glfs_ftruncate(void) { __builtin_trap(); }" in source
    assert "char rbd_table[48];" in source and "void rbd_open(void)" in source
    assert script == "GFAPI_6.0 { global: glfs_ftruncate; };\n"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_stub_library_builds_with_versions(tmp_path):
    imports = guest.parse_dynsyms(OBJDUMP_T)[:3]
    provider = tmp_path / "provider.txt"
    provider.write_text(PROVIDER_T)
    source, script = guest.stub_source(imports, guest.parse_dynsyms(PROVIDER_T))
    (tmp_path / "s.c").write_text(source)
    (tmp_path / "s.map").write_text(script)
    subprocess.run(["gcc", "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libx.so.1",
                    f"-Wl,--version-script={tmp_path}/s.map", "-o", str(tmp_path / "libx.so.1"),
                    str(tmp_path / "s.c")], check=True)
    defined = {(s.name, s.version) for s in guest.dynsyms(str(tmp_path / "libx.so.1"))
               if s.defined}
    assert {("glfs_ftruncate", "GFAPI_6.0"), ("rbd_open", ""), ("rbd_table", "")} <= defined


def _read_cpio(data: bytes) -> dict:
    """name -> (mode, rdev, data) from a newc archive (checks magic and 4-byte padding)."""
    entries, pos = {}, 0
    while True:
        assert data[pos:pos + 6] == b"070701", pos
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body = name_start + namesize + (-(name_start + namesize) % 4)
        if name == "TRAILER!!!":
            return entries
        entries[name] = (fields[1], (fields[9], fields[10]), data[body:body + filesize])
        pos = body + filesize + (-(body + filesize) % 4)


def test_cpio_archive(tmp_path, monkeypatch):
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF-busybox")
    lib = tmp_path / "libaio.so.1"
    lib.write_bytes(b"lib!")
    monkeypatch.setattr(guest, "BUSYBOX", str(busybox))
    data = guest.cpio_image([("/lib/x86_64-linux-gnu/libaio.so.1", str(lib))], "#!/bin/sh\n")
    entries = _read_cpio(data)
    assert entries["init"] == (0o100755, (0, 0), b"#!/bin/sh\n")
    assert entries["dev/console"][:2] == (0o020600, (5, 1))
    assert entries["bin/sh"] == (0o120777, (0, 0), b"busybox")
    assert entries["bin/busybox"][2] == b"\x7fELF-busybox"
    assert entries["lib/x86_64-linux-gnu/libaio.so.1"][2] == b"lib!"
    for d in ("lib", "lib/x86_64-linux-gnu", "proc", "sys", "dev", "usr/bin"):
        assert entries[d][0] == 0o040755
    assert gzip.decompress(gzip.compress(data)) == data


def test_init_script_is_valid_shell(tmp_path):
    script = tmp_path / "init"
    script.write_text(guest.INIT_SCRIPT)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    # every line the host parses starts with "guest: " and is one of the parsed events
    for event in ("start", "nvme-ready", "first-io", "iommu", "dmesg", "done", "error",
                  "fio-failed"):
        assert f"say {event}" in guest.INIT_SCRIPT
    assert "printf 'guest: fio bs=%s qd=%s json=%s\\n'" in guest.INIT_SCRIPT


def test_run_timed_notes_first_arrivals(tmp_path):
    log, out = tmp_path / "console.log", tmp_path / "out.txt"
    script = (f"echo 'guest: start uptime=1' > {log}; sleep 0.3; "
              f"printf 'guest: nvme-ready uptime=2\\r\\nguest: start again=1\\n' >> {log}; "
              f"printf 'partial line' >> {log}")
    timed = runs.run_timed(["sh", "-c", script], 20, str(log), str(out))
    assert timed.exit_code == 0 and not timed.timed_out
    assert list(timed.arrivals)[:2] == ["guest: start", "guest: nvme-ready"]
    assert timed.arrivals["guest: nvme-ready"] - timed.arrivals["guest: start"] >= 0.25
    assert "partial line" not in timed.arrivals     # a line is counted once it has ended


def test_cli_usage_errors_and_dry_run(capsys):
    from bench import cli
    assert cli.main(["run", "--variants", "amd"]) == 2
    assert cli.main(["run", "--skip", "everything"]) == 2
    assert cli.main(["run", "--bs", "4G"]) == 2
    assert cli.main(["frobnicate"]) == 2
    capsys.readouterr()
    assert cli.main(["dry-run", "--variants", "iommu", "--qd", "1,max"]) == 0
    text = capsys.readouterr().out
    assert "# proofboot iommu" in text and "# Linux iommu" in text
    assert "tests=bench.*" in text and "intel_iommu=on" in text and "bench.qd=1,max" in text
    assert "qemu-img bench -f raw -t none" in text
    assert "# proofboot iommu, boot sample 1 of 3" in text and "# Linux iommu, boot sample 1" in text
    assert "tests=bench.read.bounce bench_bytes=4K" in text
    assert "bench.bs=4096 bench.qd=1 bench.ms=50 intel_iommu=on" in text
    assert "boot-samples/fw-iommu-1/" in text
    assert cli.main(["dry-run", "--boot-samples", "0"]) == 0
    assert "boot sample" not in capsys.readouterr().out
    assert cli.main(["run", "--boot-samples", "-1"]) == 2
