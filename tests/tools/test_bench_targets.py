"""The targets table, the two-cache ceiling and the GRUB hello yardstick, on synthetic inputs."""

import json

import pytest

from bench import hello, measure, report, targets
from bench.measure import Measurement


def _row(variant, backend, bs, label, pb_mbps, linux_mbps):
    cells = {measure.PROOFBOOT: Measurement(measure.PROOFBOOT, variant, backend, bs, 1,
                                            int(pb_mbps * 1e6), 1e6, label=label),
             measure.LINUX: (Measurement(measure.LINUX, variant, "dma-api", bs, 1,
                                         int(linux_mbps * 1e6), 1e6, label=label)
                             if linux_mbps else None),
             measure.CEILING: None}
    return report.Row(variant, backend, bs, label, cells)


def test_grid_targets_judge_each_point_and_the_named_ones():
    rows = [_row("iommu", "direct-remapping", 4096, "1", 50, 20),       # 2.5x
            _row("iommu", "bounce-buffer", 4096, "1", 30, 20),          # 1.5x
            _row("iommu", "direct-remapping", 131072, "32", 1300, 1000),  # 1.3x
            _row("iommu", "direct-remapping", 524288, "32", 1500, 3000)]  # 0.5x
    got = {(t.name, t.scope): t for t in targets.grid_targets(rows, set())}
    assert got[("remapped >= Linux", "iommu direct-remapping 4K qd1")].status == targets.MET
    assert got[("remapped >= Linux", "iommu direct-remapping 512K qd32")].status == targets.MISSED
    assert got[("4K qd1 >= 2x Linux", "iommu direct-remapping 4K qd1")].status == targets.MET
    assert got[("4K qd1 >= 2x Linux", "iommu bounce-buffer 4K qd1")].status == targets.MISSED
    t = got[("128K qd32 >= 1.5x Linux", "iommu direct-remapping 128K qd32")]
    assert t.ratio == pytest.approx(1.3) and t.status == targets.MISSED


def test_invalid_linux_points_are_not_judged():
    rows = [_row("no-iommu", "bounce-buffer", 4096, "1", 10, 100),
            _row("no-iommu", "bounce-buffer", 4096, "32", 10, None)]
    ts = targets.grid_targets(rows, {"no-iommu"})
    assert [t.status for t in ts if t.name == "bounce >= Linux"] == [targets.NOT_JUDGED] * 2
    assert "invalid" in ts[0].reason and ts[1].reason == "no figure on one side"


def test_boot_target_uses_the_host_clock():
    boot = [report.BootFigure("proofboot", "iommu", "first I/O", 0.4, "host: since QEMU start"),
            report.BootFigure("proofboot", "iommu", "first I/O", 0.1, "firmware's own clock"),
            report.BootFigure("linux", "iommu", "first I/O", 2.4, "host: since QEMU start"),
            report.BootFigure("linux", "iommu", "first I/O", 1.9, "guest: since kernel start")]
    (t,) = targets.boot_targets(boot, set())
    assert t.ratio == pytest.approx(6.0) and t.status == targets.MET
    assert t.reason == "medians of 1 boot each: Linux 2.400 s, proofboot 0.400 s"


def test_boot_target_takes_the_medians_of_the_samples():
    host = "host: since QEMU start"
    boot = [report.BootFigure("proofboot", "iommu", "first I/O", s, host, n)
            for s, n in ((0.4, "run"), (0.9, "1"), (0.5, "2"))]
    boot += [report.BootFigure("linux", "iommu", "first I/O", s, host, n)
             for s, n in ((2.4, "run"), (2.0, "1"))]
    (t,) = targets.boot_targets(boot, set())
    assert t.ratio == pytest.approx(2.2 / 0.5) and t.status == targets.MISSED
    assert t.reason.startswith("medians of 2 boots (Linux) and 3 boots (proofboot)")


def test_hello_target_is_a_median_ratio_at_most():
    pairs = [{"proofboot": 1.0, "hello": 0.8}, {"proofboot": 1.2, "hello": 1.0},
             {"proofboot": None, "hello": 0.9}, {"proofboot": 5.0, "hello": 1.0}]
    t = targets.hello_target(pairs)
    assert t.ratio == pytest.approx(1.2 / 1.0) and t.status == targets.MET and "3 pairs" in t.reason
    assert targets.hello_target([{"proofboot": 2.0, "hello": 1.0}]).status == targets.MISSED
    assert targets.hello_target([]).status == targets.NOT_JUDGED


def test_targets_text_counts():
    text = targets.targets_text([targets.Target("a", "s", 2.0, 1.0),
                                 targets.Target("b", "s", 0.5, 1.0),
                                 targets.Target("c", "s", None, 1.0, reason="no figure")])
    assert "1 met, 1 missed, 1 not judged" in text and "no figure" in text


def _ceiling_file(path, cache, seconds):
    points = [{"bs": 4096, "qd": 1, "count": 1000, "exit_code": 0,
               "output": f"Run completed in {seconds} seconds."}]
    path.write_text(json.dumps({"image": "x", "aio": "io_uring", "cache": cache,
                                "points": points}))


def test_ceiling_takes_the_higher_cache_mode(tmp_path):
    _ceiling_file(tmp_path / "ceiling.json", "none", "0.100")
    _ceiling_file(tmp_path / "ceiling-writeback.json", "writeback", "0.050")
    data = report.BenchData()
    report.load_ceiling(data, str(tmp_path / "ceiling.json"))
    report.load_ceiling(data, str(tmp_path / "ceiling-writeback.json"), required=False)
    measure.label_depths(data.measurements)
    best = report.best_ceilings(data.measurements)
    assert best[(4096, "1")].cache == "writeback"
    assert best[(4096, "1")].mbps == pytest.approx(4096 * 1000 / 0.05 / 1e6)
    text = report.ceiling_text(data.measurements)
    assert "-t none" in text and "-> -t writeback" in text


def test_missing_page_cache_ceiling_is_a_note_not_a_problem(tmp_path):
    data = report.BenchData()
    report.load_ceiling(data, str(tmp_path / "ceiling-writeback.json"), required=False)
    assert data.problems == [] and data.notes


def test_hello_menu_is_the_projects_with_the_elf_swapped():
    cfg = hello.grub_cfg("a\n multiboot2 /boot/proofboot.elf dma=bounce\n")
    assert "/boot/hello.elf dma=bounce" in cfg and "proofboot.elf" not in cfg
    assert "MB2_MAGIC, 0xe85250d6" in hello.HELLO_ASM
