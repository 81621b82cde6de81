"""pytest plugin (entry point pytest11 "proofboot"): the proofboot_boot fixture.

    def test_boots(proofboot_boot):
        run = proofboot_boot(options="dma=bounce", disks={"pb0": {"size": "16M"}})
        run.check()

proofboot_boot takes proofboot.boot()'s arguments and returns a Run.  Each
boot's output goes under the test's tmp_path; after the test the directories
of a passing test are removed.  When the test fails, every boot's console log
is attached to the report (a "proofboot console" section, shown with the
failure).  The ISO: iso= per call, else --proofboot-iso, the ini option
proofboot_iso, $PROOFBOOT_ISO, or build/proofboot.iso of the repository.
"""

from __future__ import annotations

import os
import shutil

import pytest

from proofboot import runs

CONSOLE_LIMIT = 200_000         # characters of each console log attached to a report
_BOOTS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("proofboot")
    group.addoption("--proofboot-iso", metavar="PATH", help="ISO the proofboot_boot fixture boots")
    parser.addini("proofboot_iso", "ISO the proofboot_boot fixture boots", default="")


def _iso(config) -> str | None:
    return config.getoption("--proofboot-iso") or config.getini("proofboot_iso") or None


@pytest.fixture
def proofboot_boot(request, tmp_path):
    """A callable: proofboot_boot(**boot arguments) -> proofboot.Run (see proofboot.boot)."""
    boots = request.node.stash.setdefault(_BOOTS, [])

    def boot_once(**kwargs):
        kwargs.setdefault("iso", _iso(request.config))
        kwargs.setdefault("out_dir", str(tmp_path / f"proofboot-{len(boots) + 1}"))
        kwargs.setdefault("name", "boot")
        run = runs.boot(**kwargs)
        boots.append(run)
        return run

    yield boot_once
    report = getattr(request.node, "_proofboot_call_report", None)
    if report is not None and report.passed:
        for run in boots:
            out = os.path.dirname(run.log_path or "")
            if out and os.path.isdir(out):
                shutil.rmtree(out, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item._proofboot_call_report = report
    boots = item.stash.get(_BOOTS, [])
    if report.failed and boots and report.when in ("call", "setup"):
        for index, run in enumerate(boots, 1):
            text = run.console
            if len(text) > CONSOLE_LIMIT:
                text = "...\n" + text[-CONSOLE_LIMIT:]
            report.sections.append(
                (f"proofboot console {index}: {run.verdict}, {run.log_path}", text))
