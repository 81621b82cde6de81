"""tests/unit/data/acpi-real/expected.tsv is what gen_expected.py derives from iasl -d today.

The C unit test (tests/unit/test_acpi_real.c) compares the parsers with that
file; this checks the file itself against a fresh iasl run, on the machines
that show each case (X_-only PM1a, hardware-reduced, \\_S5 only in an SSDT,
a DRHD with base 0, SATC/SIDP that iasl 20200925 cannot decode, a server).
"""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "unit", "data", "acpi-real")
CASES = ["m0168", "m0305", "m0612", "m0696", "m0730", "m0754"]  # sorted, as the file is


@pytest.mark.skipif(shutil.which("iasl") is None, reason="iasl (acpica-tools) not installed")
def test_expected_matches_a_fresh_iasl_run():
    out = subprocess.run(["/usr/bin/python3", os.path.join(DATA, "gen_expected.py")] + CASES,
                         capture_output=True, text=True, check=True, timeout=300).stdout
    fresh = [l for l in out.splitlines() if not l.startswith("#")]
    with open(os.path.join(DATA, "expected.tsv"), encoding="utf-8") as f:
        committed = [l.rstrip("\n") for l in f if l.split("\t", 1)[0] in CASES]
    assert fresh == committed


def test_every_machine_folder_is_expected():
    folders = sorted(d for d in os.listdir(DATA) if d.startswith("m") and d[1:].isdigit())
    with open(os.path.join(DATA, "expected.tsv"), encoding="utf-8") as f:
        machines = sorted({l.split("\t", 1)[0] for l in f if not l.startswith("#")})
    assert folders == machines and len(folders) == 45
