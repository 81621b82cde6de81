"""python/proofboot/diskimage.py and tools/mkdisk: deterministic, per-LBA distinct, sparse images."""
import os
import subprocess
import sys
import zlib

import pytest

from proofboot import diskimage

MKDISK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools", "mkdisk")
MIB = 1 << 20


def test_same_spec_same_bytes(tmp_path):
    spec = diskimage.DiskSpec(size=MIB, lba_size=512, seed="s")
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    diskimage.write_image(spec, str(a))
    diskimage.write_image(spec, str(b))
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_bytes()) == MIB


def test_every_lba_differs_and_is_tagged():
    spec = diskimage.DiskSpec(size=64 * 512, lba_size=512, seed="s")
    blocks = [diskimage.lba_data(spec, lba) for lba in range(spec.lbas)]
    assert len(set(blocks)) == spec.lbas
    # Not only the tag: the pseudo-random body differs too, so a half-right read cannot match.
    assert len({b[16:] for b in blocks}) == spec.lbas
    assert blocks[5][:16] == b"proofLBA" + (5).to_bytes(8, "little")
    assert all(len(b) == 512 for b in blocks)


@pytest.mark.parametrize("other", [
    {"seed": "t"}, {"lba_size": 4096},
])
def test_seed_and_lba_size_change_contents(other):
    base = dict(size=64 * 4096, lba_size=512, seed="s")
    a = diskimage.DiskSpec(**base)
    b = diskimage.DiskSpec(**{**base, **other})
    assert diskimage.lba_data(a, 3)[16:512] != diskimage.lba_data(b, 3)[16:512]
    assert a.cache_key() != b.cache_key()


def test_file_matches_generator_crc(tmp_path):
    spec = diskimage.DiskSpec(size=MIB, lba_size=4096, seed="crc")
    path = tmp_path / "d.img"
    diskimage.write_image(spec, str(path))
    data = path.read_bytes()
    assert diskimage.expected_crc32(spec, 10, 3) == zlib.crc32(data[10 * 4096:13 * 4096])
    assert diskimage.file_crc32(str(path), 10, 3, 4096) == diskimage.expected_crc32(spec, 10, 3)
    with pytest.raises(ValueError):
        diskimage.file_crc32(str(path), spec.lbas - 1, 2, 4096)


def test_large_image_is_sparse_with_zero_holes(tmp_path):
    spec = diskimage.DiskSpec(size=256 * MIB, lba_size=512, seed="big", ranges=((300000, 4),))
    regions = spec.regions()
    assert regions == [(0, 2048), (300000, 4), (spec.lbas - 2048, 2048)]
    path = tmp_path / "big.img"
    diskimage.write_image(spec, str(path))
    assert path.stat().st_size == 256 * MIB
    assert path.stat().st_blocks * 512 < 16 * MIB          # holes are not allocated
    with open(path, "rb") as f:
        f.seek(300000 * 512)
        assert f.read(512) == diskimage.lba_data(spec, 300000)
        f.seek(200000 * 512)
        assert f.read(512) == bytes(512) == diskimage.lba_data(spec, 200000)
        f.seek(spec.size - 512)
        assert f.read(512) == diskimage.lba_data(spec, spec.lbas - 1)


def test_fill_modes():
    small = dict(size=4 * MIB, lba_size=512, seed="m")
    assert diskimage.DiskSpec(**small).regions() == [(0, 8192)]
    assert diskimage.DiskSpec(**small, fill="edges").regions() == [(0, 2048), (6144, 2048)]
    tiny = diskimage.DiskSpec(size=8 * 512, lba_size=512, seed="m", fill="edges")
    assert tiny.regions() == [(0, 8)]


@pytest.mark.parametrize("kw", [
    dict(size=1000, lba_size=512), dict(size=4096, lba_size=1000), dict(size=0),
    dict(size=4096, fill="most"), dict(size=4096, ranges=((7, 2),)),
])
def test_bad_specs(kw):
    with pytest.raises(ValueError):
        diskimage.DiskSpec(**kw)


@pytest.mark.parametrize("text, size", [
    ("16M", 16 * MIB), ("4096", 4096), ("1G", 1 << 30), ("64KiB", 65536), (512, 512),
])
def test_parse_size(text, size):
    assert diskimage.parse_size(text) == size


def test_cached_image_reuses_file(tmp_path):
    spec = diskimage.DiskSpec(size=64 * 1024, seed="cache me")
    path = diskimage.cached_image(spec, str(tmp_path))
    assert os.path.basename(path).startswith("cache_me-512-")
    mtime = os.stat(path).st_mtime_ns
    assert diskimage.cached_image(spec, str(tmp_path)) == path
    assert os.stat(path).st_mtime_ns == mtime


def test_mkdisk_cli(tmp_path):
    img = tmp_path / "cli.img"
    run = lambda *a: subprocess.run([sys.executable, MKDISK, *a], capture_output=True, text=True)
    proc = run(str(img), "--size", "128K", "--lba-size", "4096")
    assert proc.returncode == 0, proc.stderr
    spec = diskimage.DiskSpec(size=128 * 1024, lba_size=4096, seed="cli.img")
    assert img.read_bytes() == b"".join(diskimage.lba_data(spec, i) for i in range(32))
    proc = run(str(img), "--lba-size", "4096", "--crc", "2", "3")
    assert proc.stdout.strip() == f"0x{diskimage.expected_crc32(spec, 2, 3):08x}"
    assert run(str(img)).returncode == 2
    assert run(str(img), "--size", "1000").returncode == 2


# ---------------------------------------------------------------- metadata layouts

def test_metadata_image_follows_qemu_layout(tmp_path):
    # QEMU 7.2 hw/nvme/ns.c: NSZE = size // (lbasz + ms), metadata at NSZE * lbasz.
    spec = diskimage.DiskSpec(size=MIB, lba_size=512, seed="md", metadata_size=8)
    assert spec.lbas == MIB // 520 == 2016
    assert spec.metadata_offset == 2016 * 512
    path = tmp_path / "md.img"
    diskimage.write_image(spec, str(path))
    data = path.read_bytes()
    assert len(data) == MIB
    # The data region is byte for byte what a namespace without metadata holds at the same LBAs.
    assert data[7 * 512:8 * 512] == diskimage.lba_data(spec, 7)
    assert data[spec.metadata_offset + 7 * 8:spec.metadata_offset + 8 * 8] == \
        diskimage.lba_metadata(spec, 7)
    assert diskimage.file_crc32(str(path), 3, 5, 512) == diskimage.expected_crc32(spec, 3, 5)
    assert diskimage.file_md_crc32(str(path), 3, 5, 512, 8) == \
        diskimage.expected_md_crc32(spec, 3, 5)
    assert diskimage.expected_md_crc32(spec, 3, 5) != diskimage.expected_md_crc32(spec, 4, 5)
    # Tail bytes past the last whole block and its metadata stay zero.
    assert data[spec.metadata_offset + spec.lbas * 8:] == bytes(MIB - 2016 * 520)
    with pytest.raises(ValueError):
        diskimage.file_md_crc32(str(path), spec.lbas - 1, 2, 512, 8)
    assert spec.cache_key() != diskimage.DiskSpec(size=MIB, lba_size=512, seed="md").cache_key()


def test_metadata_bad_specs():
    with pytest.raises(ValueError):
        diskimage.DiskSpec(size=MIB, metadata_size=-1)
    with pytest.raises(ValueError):
        diskimage.DiskSpec(size=500, lba_size=512, metadata_size=8)   # not one block
    # With metadata the file need not be a multiple of the LBA size (QEMU rounds down).
    assert diskimage.DiskSpec(size=520 * 3 + 7, lba_size=512, metadata_size=8).lbas == 3


def test_mkdisk_metadata_cli(tmp_path):
    img = tmp_path / "m.img"
    subprocess.run([sys.executable, MKDISK, str(img), "--size", "64K", "--metadata-size", "16",
                    "--seed", "m"], check=True, capture_output=True)
    spec = diskimage.DiskSpec(size=64 << 10, lba_size=512, seed="m", metadata_size=16)
    out = subprocess.run([sys.executable, MKDISK, str(img), "--metadata-size", "16",
                          "--md-crc", "2", "3"], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == f"0x{diskimage.expected_md_crc32(spec, 2, 3):08x}"
