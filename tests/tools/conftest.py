"""Shared fixtures for the host tool tests; puts tools/, the package (python/) and this
directory on sys.path."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir, "tools"))
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)

import proofboot_path  # noqa: E402,F401  (python/ first; old module names are aliases)

from proofboot import diskimage  # noqa: E402


@pytest.fixture
def disk(tmp_path):
    """A small mkdisk image (serial pb0 nsid 1, 512-byte LBAs) and its spec."""
    spec = diskimage.DiskSpec(size=64 * 1024, lba_size=512, seed="pytest")
    path = tmp_path / "disk.img"
    diskimage.write_image(spec, str(path))
    return spec, str(path)
