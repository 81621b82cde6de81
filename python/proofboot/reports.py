"""TAP 13 and JUnit XML renderings of matrix results (tools/matrix --tap / --junit),
and the plain text table the tools print (text_table).

Both take the qmatrix.Result list.  TAP: one test point per configuration,
with a YAML block naming the problems of an unexpected outcome.  JUnit: one
<testsuite> per configuration, one <testcase> per firmware test (plus
"log-checks" for the configuration's own checks), so CI shows which
firmware test failed under which configuration.
"""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET

LOG_CHECKS_CASE = "log-checks"
WITNESS_CASE = "witness"


def _xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (console logs may hold any byte)."""
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or
                   ("\ue000" <= c <= "\ufffd") or c >= "\U00010000")


def _yaml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    return f'"{escaped}"'


def tap(results: list) -> str:
    lines = ["TAP version 13", f"1..{len(results)}"]
    for number, r in enumerate(results, 1):
        passed, failed, skipped = r.counts
        desc = (f"{r.config.name}: {r.outcome} (expected {r.config.expected_verdict}), "
                f"{passed} passed {failed} failed {skipped} skipped")
        if r.witness is not None:
            desc += f", witness {r.witness.cell()} (checked/backed/unbacked/contradicted)"
        desc = desc.replace("#", "\\#")
        status = "ok" if r.ok else "not ok"
        directive = " # SKIP firmware verdict SKIP" if r.ok and r.outcome == "SKIP" else ""
        lines.append(f"{status} {number} - {desc}{directive}")
        if not r.ok or r.problems:
            lines.append("  ---")
            lines.append(f"  outcome: {r.outcome}")
            lines.append(f"  expected: {_yaml_str(r.config.expected_verdict)}")
            lines.append(f"  exit_code: {r.exit_code if r.exit_code is not None else 'null'}")
            lines.append(f"  wall_seconds: {r.wall:.3f}")
            if r.witness is not None:
                lines.append(f"  witness: {_yaml_str(r.witness.summary())}")
            if r.log_path:
                lines.append(f"  log: {_yaml_str(r.log_path)}")
            failed = [t for t in (r.report.results if r.report else ())
                      if t.fields.get("status") == "FAIL"]
            if failed:                  # the failed tests first: what broke, then the symptoms
                lines.append("  failed_tests:")
                for t in failed:
                    lines.append(f"    - name: {_yaml_str(t.fields.get('name', '?'))}")
                    lines.append(f"      reason: {_yaml_str(t.fields.get('reason') or '')}")
                    lines.append(f"      line: {t.lineno}")
            lines.append("  problems:")
            for p in r.problems:
                lines.append(f"    - {_yaml_str(p)}")
            lines.append("  ...")
    return "\n".join(lines) + "\n"


def _expected_statuses(config, name: str):
    """Statuses the configuration's expectations allow for test `name` (None: not named)."""
    allowed = None
    for t in config.expect.tests:
        if fnmatch.fnmatchcase(name, t.pattern):
            allowed = set(t.statuses) if allowed is None else allowed & set(t.statuses)
    return allowed


def _testcase(suite, config, record):
    name = record.fields.get("name", "?")
    status = record.fields.get("status", "?")
    reason = record.fields.get("reason", "")
    duration = record.number("duration_us")
    case = ET.SubElement(suite, "testcase", classname=config.name, name=name,
                         time=f"{(duration or 0) / 1e6:.6f}")
    allowed = _expected_statuses(config, name)
    expected_fail = (allowed is not None and status in allowed) or \
        (allowed is None and status == "FAIL" and "FAIL" in (config.expect.verdict or ()))
    detail = f"log line {record.lineno}: {record.raw}"
    if status == "SKIP":
        ET.SubElement(case, "skipped", message=reason or "skipped").text = detail
    elif status == "FAIL" and not expected_fail:
        ET.SubElement(case, "failure", message=reason or "FAIL", type="FAIL").text = detail
    elif status not in ("PASS", "FAIL"):
        ET.SubElement(case, "error", message=f"status {status}").text = detail
    else:
        note = f"status {status}" + (" (expected by the matrix)" if status == "FAIL" else "")
        ET.SubElement(case, "system-out").text = f"{note}\n{detail}"
    return case


def _witness_case(suite, r) -> None:
    """One testcase per configuration for QEMU's trace as witness (docs/witness.md)."""
    w = r.witness
    case = ET.SubElement(suite, "testcase", classname=r.config.name, name=WITNESS_CASE, time="0")
    text = "\n".join([c.format("console.log") for c in w.contradictions] + [w.summary()])
    if bool(w.contradictions) != (r.config.witness == "contradicted"):
        ET.SubElement(case, "failure", message=f"{w.contradicted} contradicted claim(s) "
                      f"(expected {r.config.witness})", type="WITNESS").text = text
    else:
        ET.SubElement(case, "system-out").text = text


def junit(results: list) -> str:
    root = ET.Element("testsuites", name="proofboot-matrix")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=r.config.name)
        report = r.report
        seen = set()
        if report is not None:
            for record in report.results:
                _testcase(suite, r.config, record)
                seen.add(record.fields.get("name"))
            for plan in report.planned:
                name = plan.fields.get("name")
                if name in seen:
                    continue
                case = ET.SubElement(suite, "testcase", classname=r.config.name, name=name, time="0")
                ET.SubElement(case, "error", message=f"no result line ({r.outcome})").text = \
                    f"planned on log line {plan.lineno}, never reported a result"
        checks = ET.SubElement(suite, "testcase", classname=r.config.name, name=LOG_CHECKS_CASE,
                               time=f"{r.wall:.3f}")
        if not r.ok:
            ET.SubElement(checks, "failure",
                          message=f"{r.outcome} (expected {r.config.expected_verdict})",
                          type=r.outcome).text = "\n".join(r.problems)
        if r.witness is not None:
            _witness_case(suite, r)
        if r.log_path:
            ET.SubElement(suite, "system-out").text = f"console log: {r.log_path}"
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in suite.iter("testcase"):
            counts["tests"] += 1
            counts["failures"] += len(case.findall("failure"))
            counts["errors"] += len(case.findall("error"))
            counts["skipped"] += len(case.findall("skipped"))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{r.wall:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    for element in root.iter():
        if element.text:
            element.text = _xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, _xml_text(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def text_table(header: tuple, rows: list) -> list:
    """Columns padded to their widest cell, a rule under the header: lines of text."""
    table = [tuple(header)] + [tuple(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
