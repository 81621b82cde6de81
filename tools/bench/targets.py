"""The performance targets (issue 19), each judged as a ratio taken from one benchmark run.

Pure logic over what report.py already built (rows, boot figures) plus the
boot-time pairs against the bare GRUB hello ISO (hello.py).  Nothing here
fails a run: a target is "met", "missed", or "not judged" when one side of
its ratio is missing or comes from an invalid run (a Linux guest whose NVMe
driver logged a timeout, for instance); the reason is printed beside it.
"""

from __future__ import annotations

import dataclasses
import statistics

from bench import grid as gridmod
from bench import measure

MET, MISSED, NOT_JUDGED = "met", "missed", "not judged"
REMAPPED, BOUNCE = "direct-remapping", "bounce-buffer"
EVERY_POINT_GOAL = 1.0          # proofboot / Linux at every valid grid point
POINT_GOALS = (                 # (bs, depth label, goal): proofboot / Linux
    (128 * 1024, "32", 1.5),
    (4 * 1024, "1", 2.0),
)
BOOT_GOAL = 5.0                 # Linux first I/O / proofboot first I/O, host clock
HELLO_GOAL = 1.3                # proofboot default run / bare GRUB hello, wall seconds (at most)
HOST_CLOCK = "host: since QEMU start"
FIRST_IO = "first I/O"


@dataclasses.dataclass
class Target:
    name: str
    scope: str              # variant/backend/point the ratio is about
    ratio: float | None
    goal: float
    at_most: bool = False   # the ratio must stay at or below the goal (time ratios)
    reason: str = ""        # why not judged, or a note
    valid: bool = True      # False: a side comes from a run that failed a validity check

    @property
    def status(self) -> str:
        if self.ratio is None or not self.valid:
            return NOT_JUDGED
        ok = self.ratio <= self.goal if self.at_most else self.ratio >= self.goal
        return MET if ok else MISSED


def _point_target(name: str, row, goal: float, invalid_linux: set) -> Target:
    scope = f"{row.variant} {row.backend} {gridmod.point_label(row.bs, row.label)}"
    linux = row.cells.get(measure.LINUX)
    if linux is None or row.cells.get(measure.PROOFBOOT) is None:
        return Target(name, scope, None, goal, reason="no figure on one side")
    if row.variant in invalid_linux:
        return Target(name, scope, row.ratio(measure.LINUX), goal, valid=False,
                      reason="invalid: the Linux run of this variant had problems")
    return Target(name, scope, row.ratio(measure.LINUX), goal)


def grid_targets(rows: list, invalid_linux: set) -> list:
    """Every grid point >= 1.0x Linux (remapped and bounce), then the named points."""
    out = []
    for row in rows:
        if row.backend in (REMAPPED, BOUNCE):
            name = "remapped >= Linux" if row.backend == REMAPPED else "bounce >= Linux"
            out.append(_point_target(name, row, EVERY_POINT_GOAL, invalid_linux))
    for bs, label, goal in POINT_GOALS:
        for row in rows:
            if (row.bs, row.label) == (bs, label) and row.backend in (REMAPPED, BOUNCE):
                name = f"{gridmod.point_label(bs, label)} >= {goal:g}x Linux"
                out.append(_point_target(name, row, goal, invalid_linux))
    return out


def first_io_medians(boot: list) -> dict:
    """(system, variant) -> (median seconds, samples): every host-clock first-I/O figure
    (the full run's and each boot sample's) of that system and variant."""
    samples = {}
    for f in boot:
        if f.event == FIRST_IO and f.clock == HOST_CLOCK:
            samples.setdefault((f.system, f.variant), []).append(f.seconds)
    return {key: (statistics.median(values), len(values)) for key, values in samples.items()}


def _boots(count: int) -> str:
    return f"{count} boot{'s' if count != 1 else ''}"


def boot_targets(boot: list, invalid_linux: set) -> list:
    """Linux's median first I/O over proofboot's, both on the host clock from QEMU start,
    per variant (the time until GRUB hands over swings by 0.1-0.2 s from boot to boot)."""
    medians = first_io_medians(boot)
    out = []
    for variant in sorted({v for _, v in medians}):
        pb, linux = medians.get((measure.PROOFBOOT, variant)), medians.get((measure.LINUX, variant))
        name = f"boot to first I/O >= {BOOT_GOAL:g}x faster"
        if pb is None or linux is None or pb[0] <= 0:
            out.append(Target(name, variant, None, BOOT_GOAL, reason="no figure on one side"))
            continue
        # A Linux run that went wrong later still booted: its first I/O time stands.
        counts = (f"medians of {_boots(pb[1])} each" if pb[1] == linux[1] else
                  f"medians of {_boots(linux[1])} (Linux) and {_boots(pb[1])} (proofboot)")
        out.append(Target(name, variant, linux[0] / pb[0], BOOT_GOAL,
                          reason=f"{counts}: Linux {linux[0]:.3f} s, proofboot {pb[0]:.3f} s"))
    return out


def hello_target(pairs: list) -> Target:
    """Median wall seconds of the default run over the bare GRUB hello's (alternated pairs).

    pairs: [{"proofboot": seconds or None, "hello": seconds or None}, ...]; a pair with a
    side missing (a run that failed or timed out) is left out."""
    name = f"default run to verdict <= {HELLO_GOAL:g}x GRUB hello"
    good = [p for p in pairs if p.get("proofboot") and p.get("hello")]
    if not good:
        return Target(name, "intel-iommu + 1 NVMe", None, HELLO_GOAL, at_most=True,
                      reason="not measured" if not pairs else "no pair with both runs valid")
    pb = statistics.median(p["proofboot"] for p in good)
    hello = statistics.median(p["hello"] for p in good)
    return Target(name, "intel-iommu + 1 NVMe", pb / hello, HELLO_GOAL, at_most=True,
                  reason=f"medians of {len(good)} pairs: proofboot {pb:.3f} s, "
                         f"hello {hello:.3f} s")


def all_targets(rows: list, boot: list, invalid_linux: set, hello_pairs: list | None) -> list:
    return (grid_targets(rows, invalid_linux) + boot_targets(boot, invalid_linux)
            + [hello_target(hello_pairs or [])])


def targets_text(targets: list) -> str:
    if not targets:
        return "targets: none"
    lines = [("target", "scope", "ratio", "goal", "status", "note")]
    for t in targets:
        ratio = "-" if t.ratio is None else f"{t.ratio:.2f}x"
        goal = f"{'<=' if t.at_most else '>='} {t.goal:g}x"
        lines.append((t.name, t.scope, ratio, goal, t.status, t.reason))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    out = ["targets (each ratio from this run):"]
    for n, line in enumerate(lines):
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(line[:5], widths))
                   + ("  " + line[5] if line[5] else ""))
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    met = sum(t.status == MET for t in targets)
    missed = sum(t.status == MISSED for t in targets)
    out.append(f"  {met} met, {missed} missed, {len(targets) - met - missed} not judged")
    return "\n".join(out)
