"""Command line: /usr/bin/python3 tools/bench COMMAND [options].

  deps     install the benchmark's Debian packages (root) or print the command
  guest    build (or reuse) the Linux guest: build/bench/initramfs.cpio.gz
  run      the whole benchmark: proofboot, Linux+fio, qemu-img bench, then the report
  report   redo the report from an existing benchmark directory
  smoke    a few seconds' check of the bench path for `make check` (no Linux packages)
  dry-run  print the QEMU command lines a run would use

Exit status: 0 fine, 1 a run or a check failed (the report is still
written), 2 usage error or missing packages/ISO.  Speeds are never judged.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import time

from proofboot import diskimage
from bench import grid as gridmod
from bench import guest, measure, report, runs, synth

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          os.pardir, os.pardir))
DEFAULT_OUT = os.path.join(REPO_ROOT, "build", "bench")
DEFAULT_SMOKE_OUT = os.path.join(REPO_ROOT, "build", "bench-smoke")
DEFAULT_ISO = os.path.join(REPO_ROOT, "build", "proofboot.iso")
BENCH_PACKAGES = guest.PACKAGES + ("qemu-utils", "python3-matplotlib")
SMOKE_DISK_SIZE = 8 * gridmod.MIB
# Invented speeds of the smoke's synthetic proofboot and Linux logs (MB/s).
SMOKE_FW_MBPS, SMOKE_LINUX_MBPS = 300.0, 600.0
FALLBACK_MAX_QD = 1023       # ceiling's "max" when neither proofboot nor Linux told theirs


def say(text: str) -> None:
    print(text, flush=True)


def _grid_from(args) -> gridmod.Grid:
    return gridmod.Grid(block_sizes=gridmod.parse_list(args.bs, allow_max=False),
                        depths=gridmod.parse_list(args.qd, allow_max=True),
                        min_seconds=args.seconds)


def _add_grid_args(ap) -> None:
    ap.add_argument("--bs", default=",".join(str(b) for b in gridmod.BLOCK_SIZES),
                    help="block sizes, bytes or K/M (default: 4K,128K,512K)")
    ap.add_argument("--qd", default=",".join(str(q) for q in gridmod.QUEUE_DEPTHS),
                    help="queue depths; 'max' is the largest each system allows (default 1,32,max)")
    ap.add_argument("--seconds", type=float, default=gridmod.MIN_SECONDS,
                    help="fio run time per point (default 1)")


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("deps", help="install the Debian packages (root) or print the command")
    g = sub.add_parser("guest", help="build the Linux guest initramfs")
    g.add_argument("--out-dir", default=DEFAULT_OUT)
    g.add_argument("--libs", choices=("stub", "ldd"), default="stub")
    g.add_argument("--force", action="store_true", help="rebuild even when cached")
    for name in ("run", "dry-run"):
        r = sub.add_parser(name)
        r.add_argument("--out-dir", default=DEFAULT_OUT)
        r.add_argument("--iso", default=DEFAULT_ISO)
        r.add_argument("--qemu", default="qemu-system-x86_64")
        r.add_argument("--variants", default=",".join(runs.VARIANTS))
        r.add_argument("--skip", default="", help="comma list of fw, linux, ceiling to leave out")
        r.add_argument("--libs", choices=("stub", "ldd"), default="stub")
        r.add_argument("--no-chart", action="store_true")
        _add_grid_args(r)
    rep = sub.add_parser("report", help="redo the report of a benchmark directory")
    rep.add_argument("--out-dir", default=DEFAULT_OUT)
    rep.add_argument("--no-chart", action="store_true")
    s = sub.add_parser("smoke", help="a few seconds' check of the bench path")
    s.add_argument("--out-dir", default=DEFAULT_SMOKE_OUT)
    s.add_argument("--no-chart", action="store_true")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        return COMMANDS[args.command](args)
    except (guest.GuestError, ValueError, RuntimeError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


def cmd_deps(args) -> int:
    return 0 if guest.ensure_packages(BENCH_PACKAGES, log=say) else 2


def cmd_guest(args) -> int:
    built = guest.build(os.path.abspath(args.out_dir), args.libs, args.force, log=say)
    say(f"bench: guest kernel {built.kernel}, initramfs {built.initramfs} "
        f"({built.initramfs_bytes / 1e6:.1f} MB, {built.unpacked_bytes / 1e6:.1f} MB unpacked, "
        f"libraries: {built.lib_mode}{', stubs: ' + ' '.join(built.stubs) if built.stubs else ''})"
        f"{' (cached)' if built.cached else ''}")
    return 0


def _variants(args) -> list:
    chosen = [v for v in args.variants.split(",") if v]
    bad = [v for v in chosen if v not in runs.VARIANTS]
    if bad or not chosen:
        raise ValueError(f"--variants: choose from {', '.join(runs.VARIANTS)}")
    return chosen


def _skips(args) -> set:
    skips = {s for s in args.skip.split(",") if s}
    if skips - {"fw", "linux", "ceiling"}:
        raise ValueError("--skip takes fw, linux, ceiling")
    return skips


def cmd_dry_run(args) -> int:
    grid, out = _grid_from(args), os.path.abspath(args.out_dir)
    spec = runs.disk_spec()
    for variant in _variants(args):
        config = runs.bench_config(f"fw-{variant}", variant, spec, runs.FW_OPTIONS,
                                   runs.FW_MEMORY, runs.FW_TIMEOUT)
        paths = runs.qmatrix.RunPaths(os.path.join(out, config.name), os.path.join(out, "disks"))
        cmd = runs.qmatrix.build_command(config, os.path.abspath(args.iso), paths, args.qemu)
        say(f"# proofboot {variant}\ntimeout {runs.FW_TIMEOUT:g} " + shlex.join(cmd))
        append = guest.kernel_cmdline(grid.block_sizes, grid.depths, int(grid.min_seconds * 1000),
                                      variant == "iommu")
        _, _, cmd = runs.linux_command(variant, out, spec, "/boot/vmlinuz-VERSION-cloud-amd64",
                                       os.path.join(out, "initramfs.cpio.gz"), append, args.qemu)
        say(f"# Linux {variant}\ntimeout {runs.LINUX_TIMEOUT:g} " + shlex.join(cmd))
    count = gridmod.ceiling_count(grid.block_sizes[0], 1, grid.min_bytes)
    say("# ceiling, per point, e.g.\n" + shlex.join(runs.qemu_img_command(
        runs.qmatrix.image_path(runs.qmatrix.Namespace(1, spec.lba_size, spec),
                                runs.qmatrix.RunPaths(out, os.path.join(out, "disks"))),
        grid.block_sizes[0], 1, count, "io_uring")))
    return 0


def cmd_run(args) -> int:
    grid, out = _grid_from(args), os.path.abspath(args.out_dir)
    variants, skips = _variants(args), _skips(args)
    if not guest.ensure_packages(BENCH_PACKAGES, log=say):
        return 2
    iso = os.path.abspath(args.iso)
    if "fw" not in skips and not os.path.isfile(iso):
        say(f"bench: no ISO at {iso} (make it first)")
        return 2
    os.makedirs(out, exist_ok=True)
    spec = runs.disk_spec()
    image = diskimage.cached_image(spec, os.path.join(out, "disks"))
    started = time.monotonic()
    if "fw" not in skips:
        for variant in variants:
            say(f"bench: proofboot {variant}: booting {os.path.relpath(iso)} with "
                f"'{runs.FW_OPTIONS}' (up to {runs.FW_TIMEOUT:g} s)")
            rec = runs.run_firmware(variant, iso, out, spec, args.qemu)
            say(f"bench: proofboot {variant}: exit {rec['exit_code']} after {rec['wall_seconds']} s")
    if "linux" not in skips:
        built = guest.build(out, args.libs, log=say)
        say(f"bench: guest {os.path.basename(built.kernel)}, initramfs "
            f"{built.initramfs_bytes / 1e6:.1f} MB ({built.lib_mode} libraries)"
            f"{', cached' if built.cached else ''}")
        for variant in variants:
            append = guest.kernel_cmdline(grid.block_sizes, grid.depths,
                                          int(grid.min_seconds * 1000), variant == "iommu")
            rec = runs.run_linux(variant, out, spec, built.kernel, built.initramfs, append,
                                 args.qemu)
            say(f"bench: Linux {variant}: exit {rec['exit_code']} after {rec['wall_seconds']} s")
    if "ceiling" not in skips:
        max_qd = _ceiling_max_qd(out, variants)
        points = [(bs, gridmod.resolve_depth(qd, max_qd)) for bs, qd in grid.points()]
        runs.run_ceiling(image, points, grid.min_bytes, os.path.join(out, "ceiling.json"), log=say)
    say(f"bench: runs took {time.monotonic() - started:.0f} s\n")
    return _report(out, not args.no_chart, expect=_expected(variants, skips))


def _ceiling_max_qd(out: str, variants: list) -> int:
    """proofboot's largest depth (so the ceiling is measured where proofboot was), else Linux's."""
    data = report.BenchData()
    for variant in variants:
        for prefix, loader in (("fw", report.load_firmware), ("linux", report.load_linux)):
            run_dir = os.path.join(out, f"{prefix}-{variant}")
            if os.path.isdir(run_dir):
                loader(data, run_dir, variant)
    for system in (measure.PROOFBOOT, measure.LINUX):
        depths = [m.qd for m in data.measurements if m.system == system]
        if depths:
            return max(depths)
    return FALLBACK_MAX_QD


def _expected(variants: list, skips: set) -> set:
    """Run directories this run meant to produce; problems about the others are dropped."""
    want = {f"{p}-{v}" for p in ("fw", "linux") if p not in skips for v in variants}
    return want | ({"ceiling.json"} if "ceiling" not in skips else set())


def _report(out: str, draw_chart: bool, expect: set | None = None) -> int:
    data = report.load(out)
    if expect is not None:
        data.problems = [p for p in data.problems if _about_expected(p, out, expect)]
    report.write_outputs(data, out, draw_chart, log=say)
    return 1 if data.problems else 0


def _about_expected(problem: str, out: str, expect: set) -> bool:
    for name in ("fw-no-iommu", "fw-iommu", "linux-no-iommu", "linux-iommu", "ceiling.json"):
        if os.path.join(out, name) in problem:
            return name in expect
    return True


def cmd_report(args) -> int:
    return _report(os.path.abspath(args.out_dir), not args.no_chart)


def cmd_smoke(args) -> int:
    """Real qemu-img bench (tiny), synthetic proofboot and Linux logs, the whole report."""
    out = os.path.abspath(args.out_dir)
    if shutil.which("qemu-img") is None:
        say("bench smoke: qemu-img not found (Debian package qemu-utils)")
        return 2
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    grid = gridmod.SMOKE_GRID
    spec = runs.disk_spec(SMOKE_DISK_SIZE)
    image = diskimage.cached_image(spec, os.path.join(out, "disks"))
    max_fw = max(q for q in grid.depths if q != gridmod.MAX)
    for variant in runs.VARIANTS:
        for prefix, text in (
                ("fw", synth.firmware_log(image, spec.lba_size, variant, grid.points(),
                                          SMOKE_FW_MBPS, max_qd=max_fw)),
                ("linux", synth.guest_log(image, variant, grid.points(), SMOKE_LINUX_MBPS))):
            run_dir = os.path.join(out, f"{prefix}-{variant}")
            os.makedirs(run_dir)
            with open(os.path.join(run_dir, "console.log"), "w") as f:
                f.write(text)
            with open(os.path.join(run_dir, "run.json"), "w") as f:
                json.dump({"exit_code": 33 if prefix == "fw" else 0, "timed_out": False,
                           "wall_seconds": 0, "arrivals": {}, "image": image,
                           "lba_size": spec.lba_size}, f)
    runs.run_ceiling(image, grid.points(), grid.min_bytes, os.path.join(out, "ceiling.json"),
                     timeout=30, log=say)
    say("bench smoke: proofboot and Linux figures below are SYNTHETIC; the ceiling is measured\n")
    status = _report(out, not args.no_chart)
    rows = report.build_rows(report.load(out).measurements)
    complete = rows and all(all(r.cells.values()) for r in rows)
    if not complete:
        say("bench smoke: FAIL: some grid point lacks a proofboot, Linux or ceiling figure")
        return 1
    say("bench smoke: " + ("ok" if status == 0 else "FAIL"))
    return status


COMMANDS = {"deps": cmd_deps, "guest": cmd_guest, "run": cmd_run, "dry-run": cmd_dry_run,
            "report": cmd_report, "smoke": cmd_smoke}
