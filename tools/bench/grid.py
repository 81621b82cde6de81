"""The benchmark grid: block sizes x queue depths, and how points are named.

A depth is a number or "max": the largest depth the system under test
allows (proofboot: its I/O queue; Linux: the block queue's nr_requests;
qemu-img bench: proofboot's max, so that the ceiling is measured at the
same depth).  Rows of the report are keyed by (block size, depth label),
so "max" rows line up even when each system's max is a different number.
"""

from __future__ import annotations

import dataclasses

KIB = 1 << 10
MIB = 1 << 20
MAX = "max"

# 512 KiB: QEMU's nvme reports MDTS=7, i.e. 2^7 pages of 4 KiB per command.
MDTS_BYTES_QEMU = 512 * KIB
BLOCK_SIZES = (4 * KIB, 128 * KIB, MDTS_BYTES_QEMU)
QUEUE_DEPTHS = (1, 32, MAX)
# Each point moves at least this much data, or lasts at least MIN_SECONDS.
MIN_BYTES = 64 * MIB
MIN_SECONDS = 1.0
# qemu-img bench has no time limit: it gets enough requests to fill the
# queue several times over besides MIN_BYTES.
CEILING_QUEUE_FILLS = 4


@dataclasses.dataclass(frozen=True)
class Grid:
    block_sizes: tuple = BLOCK_SIZES
    depths: tuple = QUEUE_DEPTHS            # ints and/or MAX
    min_bytes: int = MIN_BYTES
    min_seconds: float = MIN_SECONDS

    def points(self) -> list:
        """[(bs, depth)] in report order; depth is an int or MAX."""
        return [(bs, qd) for bs in self.block_sizes for qd in self.depths]


SMOKE_GRID = Grid(block_sizes=(4 * KIB, 128 * KIB), depths=(1, 4), min_bytes=1 * MIB,
                  min_seconds=0.1)


def size_label(n: int) -> str:
    """4096 -> "4K", 131072 -> "128K", 1048576 -> "1M", 1000 -> "1000"."""
    for unit, scale in (("M", MIB), ("K", KIB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def depth_label(qd: int, max_qd: int | None, fixed=(1, 32)) -> str:
    """The report label of a measured depth: a grid number, or "max" for the system's largest."""
    if qd in fixed:
        return str(qd)
    if max_qd is not None and qd == max_qd:
        return MAX
    return str(qd)


def point_label(bs: int, label: str) -> str:
    return f"{size_label(bs)} qd{label}"


def resolve_depth(depth, max_qd: int) -> int:
    return max_qd if depth == MAX else int(depth)


def ceiling_count(bs: int, qd: int, min_bytes: int) -> int:
    """Requests for one qemu-img bench point: at least min_bytes and a few queue fills."""
    return max(-(-min_bytes // bs), CEILING_QUEUE_FILLS * qd)


def parse_list(text: str, allow_max: bool) -> tuple:
    """"4096,128K" -> (4096, 131072); depths may include "max"."""
    out = []
    for word in text.split(","):
        word = word.strip()
        if allow_max and word == MAX:
            out.append(MAX)
            continue
        scale = 1
        if word[-1:].upper() in ("K", "M"):
            scale = KIB if word[-1].upper() == "K" else MIB
            word = word[:-1]
        if not word.isdigit() or int(word) <= 0:
            raise ValueError(f"bad grid value {word!r}")
        out.append(int(word) * scale)
    return tuple(out)
