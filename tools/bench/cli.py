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
import statistics
import sys
import time

from proofboot import diskimage
from bench import grid as gridmod
from bench import guest, hello, measure, report, runs, synth, targets

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          os.pardir, os.pardir))
DEFAULT_OUT = os.path.join(REPO_ROOT, "build", "bench")
DEFAULT_SMOKE_OUT = os.path.join(REPO_ROOT, "build", "bench-smoke")
DEFAULT_ISO = os.path.join(REPO_ROOT, "build", "proofboot.iso")
BENCH_PACKAGES = guest.PACKAGES + ("qemu-utils", "python3-matplotlib")
SMOKE_DISK_SIZE = 8 * gridmod.MIB
# Invented speeds of the smoke's synthetic proofboot and Linux logs (MB/s).
SMOKE_FW_MBPS, SMOKE_LINUX_MBPS = 300.0, 600.0
SMOKE_PAGE_CACHE_FACTOR = 32  # smoke: the page-cache ceiling reads 32x the O_DIRECT bytes
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
        r.add_argument("--skip", default="", help="comma list of fw, linux, ceiling, hello to leave out")
        r.add_argument("--libs", choices=("stub", "ldd"), default="stub")
        r.add_argument("--no-chart", action="store_true")
        r.add_argument("--boot-samples", type=int, default=runs.BOOT_SAMPLES, metavar="N",
                       help="short extra boots per system and variant for the boot-to-first-I/O "
                            f"median (default {runs.BOOT_SAMPLES}, 0: off)")
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
    if skips - {"fw", "linux", "ceiling", "hello"}:
        raise ValueError("--skip takes fw, linux, ceiling, hello")
    return skips


def cmd_dry_run(args) -> int:
    grid, out = _grid_from(args), os.path.abspath(args.out_dir)
    spec = runs.disk_spec()
    for variant in _variants(args):
        _, _, cmd = runs.firmware_command(variant, os.path.abspath(args.iso), out, spec, args.qemu)
        say(f"# proofboot {variant}\ntimeout {runs.FW_TIMEOUT:g} " + shlex.join(cmd))
        append = guest.kernel_cmdline(grid.block_sizes, grid.depths, int(grid.min_seconds * 1000),
                                      variant == "iommu")
        _, _, cmd = runs.linux_command(variant, out, spec, "/boot/vmlinuz-VERSION-cloud-amd64",
                                       os.path.join(out, "initramfs.cpio.gz"), append, args.qemu)
        say(f"# Linux {variant}\ntimeout {runs.LINUX_TIMEOUT:g} " + shlex.join(cmd))
        if _boot_samples(args):
            _, _, cmd = runs.firmware_command(variant, os.path.abspath(args.iso), out, spec,
                                              args.qemu, runs.SAMPLE_TIMEOUT,
                                              runs.SAMPLE_FW_OPTIONS,
                                              runs.sample_name("fw", variant, 1))
            say(f"# proofboot {variant}, boot sample 1 of {args.boot_samples}\n"
                f"timeout {runs.SAMPLE_TIMEOUT:g} " + shlex.join(cmd))
            _, _, cmd = runs.linux_command(variant, out, spec, "/boot/vmlinuz-VERSION-cloud-amd64",
                                           os.path.join(out, "initramfs.cpio.gz"),
                                           _sample_cmdline(variant), args.qemu,
                                           runs.SAMPLE_TIMEOUT, runs.sample_name("linux", variant, 1))
            say(f"# Linux {variant}, boot sample 1 of {args.boot_samples}\n"
                f"timeout {runs.SAMPLE_TIMEOUT:g} " + shlex.join(cmd))
    count = gridmod.ceiling_count(grid.block_sizes[0], 1, grid.min_bytes)
    say("# ceiling, per point, e.g.\n" + shlex.join(runs.qemu_img_command(
        runs.qmatrix.image_path(runs.qmatrix.Namespace(1, spec.lba_size, spec),
                                runs.qmatrix.RunPaths(out, os.path.join(out, "disks"))),
        grid.block_sizes[0], 1, count, "io_uring")))
    return 0


def cmd_run(args) -> int:
    grid, out = _grid_from(args), os.path.abspath(args.out_dir)
    variants, skips = _variants(args), _skips(args)
    _boot_samples(args)
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
    built = None
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
    run_boot_samples(args, variants, out, spec, None if "fw" in skips else iso, built)
    if "ceiling" not in skips:
        max_qd = _ceiling_max_qd(out, variants)
        points = [(bs, gridmod.resolve_depth(qd, max_qd)) for bs, qd in grid.points()]
        for cache in runs.CEILING_CACHES:
            runs.run_ceiling(image, points, grid.min_bytes, os.path.join(out, runs.ceiling_file(cache)),
                             cache=cache, log=lambda text, c=cache: say(text.replace(
                                 "bench: ceiling", f"bench: ceiling -t {c}")))
    if "hello" not in skips and "fw" not in skips:
        say(f"bench: default run vs bare GRUB hello, {hello.PAIRS} alternated pairs")
        hello_iso = hello.build_iso(out, os.path.join(REPO_ROOT, "iso", "grub.cfg"))
        hello.run_pairs(iso, hello_iso, out, qemu=args.qemu, log=say)
    say(f"bench: runs took {time.monotonic() - started:.0f} s\n")
    return _report(out, not args.no_chart, expect=_expected(variants, skips))


def _boot_samples(args) -> int:
    if args.boot_samples < 0:
        raise ValueError("--boot-samples takes 0 (off) or more")
    return args.boot_samples


def _sample_cmdline(variant: str) -> str:
    return guest.kernel_cmdline(runs.SAMPLE_LINUX_BS, runs.SAMPLE_LINUX_QD, runs.SAMPLE_LINUX_MS,
                                variant == "iommu")


def run_boot_samples(args, variants: list, out: str, spec, iso: str | None, built) -> None:
    """N short boots per system and variant, proofboot and Linux alternated (iso/built None: skip)."""
    count = _boot_samples(args)
    shutil.rmtree(os.path.join(out, runs.SAMPLES_DIR), ignore_errors=True)
    if not count or (iso is None and built is None):
        return
    say(f"bench: boot samples: {count} short boots per system and variant, alternated")
    for n in range(1, count + 1):
        for variant in variants:
            if iso is not None:
                rec = runs.run_firmware(variant, iso, out, spec, args.qemu, runs.SAMPLE_TIMEOUT,
                                        runs.SAMPLE_FW_OPTIONS, runs.sample_name("fw", variant, n))
                say(f"bench: boot sample {n} proofboot {variant}: exit {rec['exit_code']}, first-io at "
                    f"{rec['arrivals'].get('bench: first-io', '-')} s")
            if built is not None:
                rec = runs.run_linux(variant, out, spec, built.kernel, built.initramfs,
                                     _sample_cmdline(variant), args.qemu, runs.SAMPLE_TIMEOUT,
                                     runs.sample_name("linux", variant, n))
                say(f"bench: boot sample {n} Linux {variant}: exit {rec['exit_code']}, first-io at "
                    f"{rec['arrivals'].get('guest: first-io', '-')} s")


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
    ceilings = {runs.ceiling_file(c) for c in runs.CEILING_CACHES}
    return want | (ceilings if "ceiling" not in skips else set())


def _report(out: str, draw_chart: bool, expect: set | None = None) -> int:
    data = report.load(out)
    if expect is not None:
        data.problems = [p for p in data.problems if _about_expected(p, out, expect)]
    report.write_outputs(data, out, draw_chart, log=say)
    return 1 if data.problems else 0


def _about_expected(problem: str, out: str, expect: set) -> bool:
    names = ("fw-no-iommu", "fw-iommu", "linux-no-iommu", "linux-iommu") + tuple(
        runs.ceiling_file(c) for c in runs.CEILING_CACHES)
    for name in names:
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
        fw_boots, linux_boots = (list(synth.SMOKE_BOOTS[system])
                                 for system in (measure.PROOFBOOT, measure.LINUX))
        for prefix, text, code, line, boots in (
                ("fw", synth.firmware_log(image, spec.lba_size, variant, grid.points(),
                                          SMOKE_FW_MBPS, max_qd=max_fw), synth.FW_EXIT,
                 synth.FW_FIRST_IO_LINE, fw_boots),
                ("linux", synth.guest_log(image, variant, grid.points(), SMOKE_LINUX_MBPS),
                 synth.LINUX_EXIT, synth.LINUX_FIRST_IO_LINE, linux_boots)):
            synth.write_run(os.path.join(out, f"{prefix}-{variant}"), text, code, image,
                            spec.lba_size, {line: boots[0]})
        synth.write_boot_samples(out, image, spec.lba_size, variant, fw_boots[1:], linux_boots[1:])
    for cache in runs.CEILING_CACHES:
        # Through the page cache 1 MiB takes well under qemu-img's 1 ms resolution.
        min_bytes = grid.min_bytes * (SMOKE_PAGE_CACHE_FACTOR if cache != runs.CEILING_CACHE else 1)
        runs.run_ceiling(image, grid.points(), min_bytes,
                         os.path.join(out, runs.ceiling_file(cache)), cache=cache, timeout=30, log=say)
    say("bench smoke: proofboot and Linux figures below are SYNTHETIC, and so are the boot "
        "samples' first-I/O times (boot-samples/); the ceiling is measured\n")
    status = _report(out, not args.no_chart)
    data = report.load(out)
    rows = report.build_rows(data.measurements)
    complete = rows and all(all(r.cells.values()) for r in rows)
    if not complete:
        say("bench smoke: FAIL: some grid point lacks a proofboot, Linux or ceiling figure")
        return 1
    medians = targets.first_io_medians(data.boot)
    want = {(system, v): (statistics.median(boots), len(boots))
            for system, boots in synth.SMOKE_BOOTS.items() for v in runs.VARIANTS}
    if medians != want:
        say(f"bench smoke: FAIL: boot-to-first-I/O medians {medians}, expected {want}")
        return 1
    say("bench smoke: " + ("ok" if status == 0 else "FAIL"))
    return status


COMMANDS = {"deps": cmd_deps, "guest": cmd_guest, "run": cmd_run, "dry-run": cmd_dry_run,
            "report": cmd_report, "smoke": cmd_smoke}
