"""Deterministic raw disk images for NVMe read checks.

Every logical block gets contents derived from (seed, LBA size, LBA index),
so a read of the wrong LBA, of another image, or a stale buffer cannot
produce the expected CRC.  Each block starts with a 16-byte tag,
b"proofLBA" + the LBA as a little-endian u64 (readable in a hex dump),
followed by SHAKE-256 output over the seed, LBA size and LBA index.

Metadata namespaces (QEMU 7.2 `nvme-ns,ms=N`): QEMU keeps the LBA data
contiguous from offset 0 and all metadata after it, whatever the host
sees (extended LBAs interleave data and metadata only in the transfer).
A file of S bytes holds NSZE = S // (lba_size + ms) blocks; block n's data
is at n * lba_size and its metadata at NSZE * lba_size + n * ms.  So a data
CRC is taken over the same bytes with or without metadata, and a metadata
CRC over the metadata region.  Metadata bytes are SHAKE-256 output too.

Large images are sparse: only the declared regions are written (by default
the whole image up to FULL_FILL_LIMIT, beyond that the first and last MiB
plus any ranges asked for).  Holes read as zeros, so a read that lands in a
hole proves less: it cannot tell one hole LBA from another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import zlib

GENERATOR_VERSION = 1
TAG = b"proofLBA"
TAG_SIZE = len(TAG) + 8
MIB = 1 << 20
# Up to this size the whole image is filled; above it only the declared regions.
FULL_FILL_LIMIT = 64 * MIB
EDGE_BYTES = MIB
FILL_MODES = ("auto", "all", "edges")
_SIZE_RE = re.compile(r"(\d+)\s*([KMGT]?)(i?B)?\Z", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(value) -> int:
    """Bytes from an int or a string like "16M", "1G", "4096" (binary units)."""
    if isinstance(value, bool):
        raise ValueError(f"bad size {value!r}")
    if isinstance(value, int):
        return value
    m = _SIZE_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"bad size {value!r} (use bytes or K/M/G/T suffixes)")
    return int(m.group(1)) * _UNITS[m.group(2).upper()]


@dataclasses.dataclass(frozen=True)
class DiskSpec:
    size: int                    # bytes, a multiple of lba_size
    lba_size: int = 512
    seed: str = "proofboot"
    fill: str = "auto"           # auto | all | edges
    ranges: tuple = ()           # ((first_lba, count), ...) always filled
    metadata_size: int = 0       # metadata bytes per block (QEMU's layout, see above)

    def __post_init__(self):
        if self.lba_size <= TAG_SIZE or self.lba_size & (self.lba_size - 1):
            raise ValueError(f"lba_size {self.lba_size} must be a power of two > {TAG_SIZE}")
        if not 0 <= self.metadata_size <= 0xffff:
            raise ValueError(f"metadata_size {self.metadata_size} must be 0..65535")
        if self.size <= 0 or (self.metadata_size == 0 and self.size % self.lba_size):
            raise ValueError(f"size {self.size} must be a positive multiple of lba_size "
                             f"{self.lba_size}")
        if self.lbas == 0:
            raise ValueError(f"size {self.size} holds no block of {self.block_bytes} bytes")
        if self.fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {FILL_MODES}, not {self.fill!r}")
        for first, count in self.ranges:
            if first < 0 or count <= 0 or first + count > self.lbas:
                raise ValueError(f"range {first}+{count} is outside the {self.lbas} LBAs")

    @property
    def block_bytes(self) -> int:
        """Bytes one block takes in the file: data plus metadata."""
        return self.lba_size + self.metadata_size

    @property
    def lbas(self) -> int:
        return self.size // self.block_bytes

    @property
    def metadata_offset(self) -> int:
        """Where QEMU keeps the metadata of block 0 (right after the data of every block)."""
        return self.lbas * self.lba_size

    def regions(self) -> list:
        """Merged, sorted (first_lba, count) ranges that hold data; the rest are holes."""
        whole = self.fill == "all" or (self.fill == "auto" and self.size <= FULL_FILL_LIMIT)
        if whole:
            return [(0, self.lbas)]
        edge = max(1, min(self.lbas, EDGE_BYTES // self.lba_size))
        wanted = [(0, edge), (self.lbas - edge, edge)] + [tuple(r) for r in self.ranges]
        merged = []
        for first, count in sorted(wanted):
            if merged and first <= merged[-1][0] + merged[-1][1]:
                last_first, last_count = merged[-1]
                merged[-1] = (last_first, max(last_count, first + count - last_first))
            else:
                merged.append((first, count))
        return merged

    def is_filled(self, lba: int) -> bool:
        return any(first <= lba < first + count for first, count in self.regions())

    def cache_key(self) -> str:
        """Hash of everything that determines the image bytes."""
        fields = {"v": GENERATOR_VERSION, "size": self.size, "lba": self.lba_size,
                  "seed": self.seed, "regions": self.regions()}
        if self.metadata_size:
            fields["ms"] = self.metadata_size
        canon = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]


class _Generator:
    def __init__(self, seed: str, lba_size: int):
        self.lba_size = lba_size
        self.base = hashlib.shake_256(b"proofboot-disk\0%d\0%d\0" % (GENERATOR_VERSION, lba_size)
                                      + seed.encode("utf-8") + b"\0")

    def block(self, lba: int) -> bytes:
        h = self.base.copy()
        h.update(lba.to_bytes(8, "little"))
        return TAG + lba.to_bytes(8, "little") + h.digest(self.lba_size - TAG_SIZE)

    def metadata(self, lba: int, size: int) -> bytes:
        h = self.base.copy()
        h.update(b"metadata\0" + lba.to_bytes(8, "little"))
        return h.digest(size)


def lba_data(spec: DiskSpec, lba: int) -> bytes:
    """The bytes of one LBA as the image holds them (zeros in a hole)."""
    if not 0 <= lba < spec.lbas:
        raise ValueError(f"LBA {lba} outside the {spec.lbas} LBAs")
    if not spec.is_filled(lba):
        return bytes(spec.lba_size)
    return _Generator(spec.seed, spec.lba_size).block(lba)


def expected_crc32(spec: DiskSpec, slba: int, blocks: int) -> int:
    """zlib.crc32 of LBAs [slba, slba+blocks), computed without the image file."""
    crc = 0
    for lba in range(slba, slba + blocks):
        crc = zlib.crc32(lba_data(spec, lba), crc)
    return crc


def lba_metadata(spec: DiskSpec, lba: int) -> bytes:
    """The metadata bytes of one LBA as the image holds them (zeros in a hole)."""
    if not 0 <= lba < spec.lbas:
        raise ValueError(f"LBA {lba} outside the {spec.lbas} LBAs")
    if not spec.is_filled(lba):
        return bytes(spec.metadata_size)
    return _Generator(spec.seed, spec.lba_size).metadata(lba, spec.metadata_size)


def expected_md_crc32(spec: DiskSpec, slba: int, blocks: int) -> int:
    """zlib.crc32 of the metadata of LBAs [slba, slba+blocks), in LBA order."""
    crc = 0
    for lba in range(slba, slba + blocks):
        crc = zlib.crc32(lba_metadata(spec, lba), crc)
    return crc


def metadata_range(file_size: int, slba: int, blocks: int, lba_size: int,
                   metadata_size: int) -> tuple:
    """(offset, length) of the metadata of LBAs [slba, slba+blocks) in a QEMU image file."""
    if metadata_size <= 0:
        raise ValueError("the namespace has no metadata")
    nsze = file_size // (lba_size + metadata_size)
    if slba + blocks > nsze:
        raise ValueError(f"LBAs [{slba}, {slba + blocks}) are past the {nsze} blocks of the image")
    return nsze * lba_size + slba * metadata_size, blocks * metadata_size


def file_md_crc32(path: str, slba: int, blocks: int, lba_size: int, metadata_size: int) -> int:
    """zlib.crc32 of the metadata of LBAs [slba, slba+blocks) of an image file (QEMU layout)."""
    offset, length = metadata_range(os.path.getsize(path), slba, blocks, lba_size, metadata_size)
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise ValueError(f"{path}: short read of the metadata region")
    return zlib.crc32(data)


def file_crc32(path: str, slba: int, blocks: int, lba_size: int) -> int:
    """zlib.crc32 of LBAs [slba, slba+blocks) of an image file (any raw image)."""
    with open(path, "rb") as f:
        f.seek(slba * lba_size)
        data = f.read(blocks * lba_size)
    if len(data) != blocks * lba_size:
        raise ValueError(f"{path}: LBAs [{slba}, {slba + blocks}) are past the end of the image")
    return zlib.crc32(data)


def write_image(spec: DiskSpec, path: str) -> None:
    """Write the image atomically (temporary file, then rename): sparse outside regions()."""
    gen = _Generator(spec.seed, spec.lba_size)
    per_chunk = max(1, MIB // spec.lba_size)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mkdisk-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.truncate(spec.size)
            for first, count in spec.regions():
                f.seek(first * spec.lba_size)
                for start in range(first, first + count, per_chunk):
                    stop = min(first + count, start + per_chunk)
                    f.write(b"".join(gen.block(lba) for lba in range(start, stop)))
                if spec.metadata_size:
                    f.seek(spec.metadata_offset + first * spec.metadata_size)
                    f.write(b"".join(gen.metadata(lba, spec.metadata_size)
                                     for lba in range(first, first + count)))
        os.chmod(tmp, 0o644)            # mkstemp makes it 0600; images are not secret
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def cache_path(spec: DiskSpec, cache_dir: str) -> str:
    """Where the image for spec lives in cache_dir (its name carries the spec hash)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.seed)[:40] or "disk"
    return os.path.join(cache_dir, f"{safe}-{spec.lba_size}-{spec.cache_key()}.img")


def cached_image(spec: DiskSpec, cache_dir: str) -> str:
    """Path of the image for spec under cache_dir, creating it on first use."""
    path = cache_path(spec, cache_dir)
    if not os.path.exists(path) or os.path.getsize(path) != spec.size:
        write_image(spec, path)
    return path


def _parse_range(text: str):
    first, sep, count = text.partition(":")
    if not sep or not first.isdigit() or not count.isdigit():
        raise ValueError(f"range {text!r} must be FIRST_LBA:COUNT")
    return (int(first), int(count))


def main(argv=None) -> int:
    import argparse
    import sys

    ap = argparse.ArgumentParser(
        prog="mkdisk",
        description="Make a raw disk image with deterministic per-LBA contents, or print the "
                    "crc32 of an LBA range of any raw image.")
    ap.add_argument("image", help="image to write (or to read with --crc)")
    ap.add_argument("--size", help="image size: bytes or K/M/G/T suffix (binary)")
    ap.add_argument("--lba-size", type=int, default=512, help="logical block size (default 512)")
    ap.add_argument("--metadata-size", type=int, default=0, metavar="MS",
                    help="metadata bytes per block, laid out as QEMU's nvme-ns ms=MS keeps them "
                         "(data of every block first, then the metadata)")
    ap.add_argument("--seed", help="content seed (default: the image's file name)")
    ap.add_argument("--fill", choices=FILL_MODES, default="auto",
                    help=f"auto: whole image up to {FULL_FILL_LIMIT // MIB} MiB, else edges; "
                         "edges: first and last MiB; all: every LBA")
    ap.add_argument("--range", action="append", default=[], metavar="FIRST_LBA:COUNT",
                    help="also fill these LBAs (repeatable)")
    ap.add_argument("--crc", nargs=2, type=int, metavar=("SLBA", "BLOCKS"),
                    help="print zlib.crc32 of LBAs [SLBA, SLBA+BLOCKS) of IMAGE as 0x%%08x")
    ap.add_argument("--md-crc", nargs=2, type=int, metavar=("SLBA", "BLOCKS"),
                    help="print zlib.crc32 of the metadata of those LBAs (needs --metadata-size)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        if args.crc:
            print(f"0x{file_crc32(args.image, args.crc[0], args.crc[1], args.lba_size):08x}")
            return 0
        if args.md_crc:
            print(f"0x{file_md_crc32(args.image, args.md_crc[0], args.md_crc[1], args.lba_size, args.metadata_size):08x}")
            return 0
        if not args.size:
            ap.print_usage(sys.stderr)
            print("mkdisk: --size is required to create an image", file=sys.stderr)
            return 2
        spec = DiskSpec(size=parse_size(args.size), lba_size=args.lba_size,
                        seed=args.seed if args.seed is not None else os.path.basename(args.image),
                        fill=args.fill, ranges=tuple(_parse_range(r) for r in args.range),
                        metadata_size=args.metadata_size)
        write_image(spec, args.image)
    except (ValueError, OSError) as e:
        print(f"mkdisk: {e}", file=sys.stderr)
        return 2
    filled = sum(count for _, count in spec.regions())
    md = f" + {spec.metadata_size} metadata" if spec.metadata_size else ""
    print(f"mkdisk: {args.image}: {spec.size} bytes, {spec.lbas} LBAs of {spec.lba_size}{md} bytes, "
          f"seed {spec.seed!r}, {filled} LBAs filled (holes read as zeros)")
    return 0
