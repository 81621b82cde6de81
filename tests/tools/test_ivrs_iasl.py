"""The IVRS unit tests' expectations are what iasl really decodes.

tests/unit/test_ivrs.c compares src/lib/ivrs.c's decode of every table in
tests/unit/data/ivrs with tests/unit/data/ivrs-iasl.inc.  This test
regenerates that file from the tables with `iasl -d` (acpica-tools) and
requires it to be identical, so the expectations cannot drift from the
independent decoder or be edited by hand.
"""
import filecmp
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
DATA = os.path.join(ROOT, "tests", "unit", "data")


def test_ivrs_expectations_are_iasl_output(tmp_path):
    out = tmp_path / "ivrs-iasl.inc"
    subprocess.run([sys.executable, os.path.join(DATA, "ivrs_iasl_inc.py"), str(out)],
                   check=True, capture_output=True)
    assert filecmp.cmp(out, os.path.join(DATA, "ivrs-iasl.inc"), shallow=False)
    text = out.read_text()
    # iasl decoded IVHD blocks of every table, including QEMU 7.2's.
    assert text.count("_units[] = {") == len(
        [n for n in os.listdir(os.path.join(DATA, "ivrs")) if n.endswith(".bin")])
    assert "0xfed80000ull" in text
