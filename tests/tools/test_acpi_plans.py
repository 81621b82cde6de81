"""check-log on the `acpi: poweroff plan` / `acpi: reset plan` lines (docs/proof-lines.md)."""
import pytest

from proofboot import prooflog
from proofboot import proofcheck
from synth import as_log, proof_lines

SUBS = frozenset(prooflog.BUILTIN_SUBSYSTEMS)

PM1 = ("acpi: poweroff plan method=pm1 hw_reduced=false s5=dsdt slp_typ_a=7 slp_typ_b=0 "
       "pm1a=io:0x1804 pm1a_from=x pm1a_bits=16 pm1a_value=0x3c00")
SLEEP = ("acpi: poweroff plan method=sleep-control hw_reduced=true s5=ssdt2 slp_typ_a=5 "
         "slp_typ_b=0 sleep_control=io:0x0405 sleep_control_bits=8 sleep_control_value=0x34 "
         "sleep_status=io:0x0401 sleep_status_bits=8")
NONE = "acpi: poweroff plan method=none hw_reduced=false s5=missing reason=no-s5-package-in-dsdt-or-ssdt"
RESET = "acpi: reset plan method=register register=io:0x0cf9 value=0x06"


def errors(*extra):
    log = prooflog.parse_text(as_log(proof_lines(extra=extra)), SUBS)
    return [f.message for f in proofcheck.check_log(log).errors]


@pytest.mark.parametrize("line", [PM1, SLEEP, NONE, RESET,
                                  "acpi: reset plan method=none reason=fadt-reset-reg-sup-clear"])
def test_consistent_plans_pass(line):
    assert errors(line) == []


@pytest.mark.parametrize("line, why", [
    (PM1.replace("0x3c00", "0x2000"), "pm1a_value=0x2000 is not SLP_TYPa<<10|SLP_EN"),
    (PM1.replace("hw_reduced=false", "hw_reduced=true"), "needs hw_reduced=false"),
    (PM1.replace("io:0x1804", "io:0x01804"), "pm1a=io:0x01804 is not"),
    (PM1 + " pm1b=io:0x1904 pm1b_from=legacy pm1b_bits=16 pm1b_value=0x3c00",
     "pm1b_value=0x3c00 is not SLP_TYPb<<10|SLP_EN"),
    (SLEEP.replace("0x34", "0x14"), "sleep_control_value=0x14 is not SLP_TYPa<<2|SLP_EN"),
    (SLEEP.replace("hw_reduced=true", "hw_reduced=false"), "needs hw_reduced=true"),
    (PM1.replace("s5=dsdt slp_typ_a=7 slp_typ_b=0", "s5=missing"), "without an \\_S5 package"),
    (NONE.replace(" reason=no-s5-package-in-dsdt-or-ssdt", ""), "method=none without a reason"),
    (PM1 + " reason=x", "method=pm1 with a reason"),
    ("acpi: reset plan method=register value=0x06", "needs register="),
    ("acpi: reset plan method=none", "method=none without a reason"),
])
def test_inconsistent_plans_fail(line, why):
    errs = errors(line)
    assert len(errs) == 1 and why in errs[0], errs


def test_plan_printed_twice_fails():
    errs = errors(RESET, RESET)
    assert len(errs) == 1 and "printed 2 times" in errs[0], errs


# ------------------------------------------------------------ iommu: dmar warning

WARN = ("iommu: dmar warning kind=drhd-base-zero structure=DRHD offset=0x0060 "
        "detail=DRHD%20at%200x60:%20register%20base%200")
TOTAL = "iommu: dmar warnings count=1 shown=1 disabled_units=1 incomplete=false"


def test_dmar_warning_lines_consistent():
    assert errors(WARN, TOTAL) == []


@pytest.mark.parametrize("lines, why", [
    ((WARN,), "need exactly one 'iommu: dmar warnings' line"),
    ((WARN, TOTAL.replace("count=1 shown=1", "count=2 shown=2")), "shown must be"),
    ((WARN, TOTAL.replace("count=1", "count=20")), "shown must be"),
    ((WARN.replace("drhd-base-zero", "bogus"), TOTAL), "unknown kind 'bogus'"),
    ((WARN, TOTAL.replace("disabled_units=1", "disabled_units=0")), "disabled_units=0"),
])
def test_dmar_warning_lines_inconsistent(lines, why):
    errs = errors(*lines)
    assert len(errs) == 1 and why in errs[0], errs


def test_more_than_sixteen_warnings_show_sixteen():
    warn = WARN.replace("drhd-base-zero", "rmrr-not-page-granular")
    total = "iommu: dmar warnings count=18 shown=16 disabled_units=0 incomplete=false"
    assert errors(*([warn] * 16 + [total])) == []
