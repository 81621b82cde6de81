"""tools/lavajob.py, tools/lavacheck.py: LAVA jobs and device dictionaries, checked by LAVA itself.

Every configuration of the real tests/matrix.toml is turned into a job and a
device dictionary and validated with LAVA's own schemas (Debian package
lava-common).  A missing lava_common FAILS these tests rather than skipping
them: the package is in the project's DEB_PACKAGES, so its absence is a
broken set-up that must not read as a pass.  Only the `lava-run --validate`
test skips, with its reason, when lava-dispatcher is not installed or the
user is not root (lava-run needs both).
"""
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

import lavacheck
import lavajob
from proofboot import proofcheck
from proofboot import qmatrix
import synth

try:
    import yaml
    from lava_common import schemas as lava_schemas
    from lava_common.schemas import device as lava_device_schema
    LAVA_IMPORT_ERROR = None
except ImportError as e:        # reported by the lava fixture, test by test
    LAVA_IMPORT_ERROR = e


LAVA_SCRATCH = "/var/lib/lava/dispatcher/tmp"


@pytest.fixture(scope="module")
def lava():
    if LAVA_IMPORT_ERROR is not None:
        pytest.fail(f"LAVA's schemas are not importable ({LAVA_IMPORT_ERROR}): install the Debian "
                    "package with `apt-get install -y --no-install-recommends lava-common` and run "
                    "pytest with /usr/bin/python3 (Debian's Python sees it)", pytrace=False)
    return lava_schemas, lava_device_schema


@pytest.fixture(scope="module")
def fake_iso(tmp_path_factory):
    path = tmp_path_factory.mktemp("iso") / "proofboot.iso"
    path.write_bytes(b"not really an ISO\n")
    return str(path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, fake_iso):
    """A job and device dictionary for every configuration of the real matrix."""
    out = str(tmp_path_factory.mktemp("lava"))
    templates = lavajob.load_templates()
    return {c.name: lavajob.generate(c, fake_iso, out, templates)
            for c in qmatrix.load_matrix(qmatrix.DEFAULT_MATRIX)}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# ----------------------------------------------------- LAVA's own schemas

def test_every_matrix_job_is_valid_for_lava(lava, generated):
    schemas, _ = lava
    assert len(generated) >= 10
    for name, gen in generated.items():
        job = load_yaml(gen.job_path)
        assert job == gen.job, f"{name}: job.yaml does not read back as written"
        schemas.validate(job, strict=True)


def test_every_device_dictionary_is_valid_for_lava(lava, generated):
    _, device_schema = lava
    for name, gen in generated.items():
        device = load_yaml(gen.device_path)
        assert device == gen.device, name
        device_schema.validate(device)
        constants = device["constants"]
        assert constants["failure_retry"] == 1 and constants["boot_retry"] == 1
        options = device["actions"]["boot"]["methods"]["qemu"]["parameters"]["options"]
        assert "-enable-kvm" not in options and "-cpu host" not in options, \
            "TCG only: LAVA refuses -enable-kvm without /dev/kvm"


def test_schema_rejects_broken_jobs(lava, generated):
    """The validation is real: typical mistakes fail it."""
    schemas, device_schema = lava
    job = generated["bounce-no-iommu"].job
    broken_monitor = json.loads(json.dumps(job))
    del broken_monitor["actions"][2]["test"]["monitors"][0]["pattern"]
    broken_fixup = json.loads(json.dumps(job))
    broken_fixup["actions"][2]["test"]["monitors"][0]["fixupdict"]["PASS"] = "passed"
    broken_context = json.loads(json.dumps(job))
    broken_context["context"]["qemu_options"] = "-x"
    for broken in (broken_monitor, broken_fixup, broken_context):
        with pytest.raises(Exception):
            schemas.validate(broken, strict=True)
    device = json.loads(json.dumps(generated["bounce-no-iommu"].device))
    del device["timeouts"]
    with pytest.raises(Exception):
        device_schema.validate(device)


@pytest.mark.skipif(shutil.which("lava-run") is None,
                    reason="lava-run not installed (Debian package lava-dispatcher): "
                           "dispatcher-level validation not run")
@pytest.mark.skipif(os.geteuid() != 0, reason="lava-run needs root")
@pytest.mark.parametrize("name", ["read-error", "smoke-uefi"])
def test_lava_run_validate_accepts_job_and_device(generated, tmp_path, name):
    """lava-run --validate builds the whole pipeline (deploy, qemu boot, monitor) without running it."""
    gen = generated[name]
    job_id = f"pytest-{name}-{os.getpid()}"
    try:
        proc = subprocess.run(["lava-run", "--validate", "--job-id", job_id,
                               "--output-dir", str(tmp_path / "out"), "--device", gen.device_path,
                               gen.job_path], capture_output=True, text=True, timeout=120)
    finally:    # --validate leaves its (empty) scratch directory behind
        shutil.rmtree(os.path.join(LAVA_SCRATCH, job_id), ignore_errors=True)
    log = lavacheck.parse_lava_log(proc.stdout + proc.stderr)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    assert log.lava_results["validate"]["result"] == "pass"
    assert log.lava_results["job"]["result"] == "pass"


# ------------------------------------------------------ the QEMU command

def _pairs(command_text):
    return sorted(map(tuple, qmatrix_pairs(shlex.split(command_text))))


def qmatrix_pairs(argv):
    return [(o, v) for o, v in lavajob._option_pairs(argv)]


@pytest.mark.parametrize("name", ["bounce-no-iommu", "read-error", "two-namespaces",
                                  "two-controllers", "smoke-uefi", "no-nvme"])
def test_job_carries_exactly_the_matrix_qemu_command(lava, generated, fake_iso, name):
    """Device options + extra_options + image_args, with LAVA's substitutions, are the
    matrix's own command minus only its console file and display options."""
    gen = generated[name]
    job, device = gen.job, gen.device
    qemu = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
    images = job["actions"][0]["deploy"]["images"]
    files = {label: lavajob.qmatrix.qemu_escape(path) for label, path in
             ((img.label, img.path) for img in _images(gen, fake_iso))}
    args = " ".join(qemu["options"] + qemu.get("extra", []) +
                    [i["image_arg"] for i in images.values() if i["image_arg"]])
    for label, path in files.items():
        args = args.replace("{%s}" % label, path)
    paths = qmatrix.RunPaths(out_dir=gen.out_dir, disk_dir=os.path.join(os.path.dirname(gen.out_dir),
                                                                        "disks"))
    matrix_argv = qmatrix.build_command(gen.config, fake_iso, paths)[1:]
    dropped = {("-display", "none"), ("-serial", "chardev:console")}
    expected = [p for p in qmatrix_pairs(matrix_argv)
                if p not in dropped and p[0] != "-chardev"]
    lava_only = [("-nographic", None), ("-monitor", "none")]
    assert _pairs(args) == sorted(expected + lava_only)


def _images(gen, iso):
    paths = qmatrix.RunPaths(out_dir=gen.out_dir,
                             disk_dir=os.path.join(os.path.dirname(gen.out_dir), "disks"))
    return lavajob.split_command(gen.config, iso, paths).images


def test_nvme_namespace_device_follows_its_drive_and_controller(generated):
    gen = generated["two-namespaces"]
    images = gen.job["actions"][0]["deploy"]["images"]
    assert list(images) == ["iso", "nvme0n1", "nvme0n2"]
    extra = gen.job["context"]["extra_options"]
    assert "-device nvme,id=nvme0,serial=pb-2ns" in extra      # before every image_arg
    for label, nsid, lba in (("nvme0n1", 1, 512), ("nvme0n2", 2, 4096)):
        arg = images[label]["image_arg"]
        assert arg.startswith(f"-drive if=none,id={label},format=raw,snapshot=on,file={{{label}}} ")
        assert f"-device nvme-ns,bus=nvme0,drive={label},nsid={nsid},logical_block_size={lba}" in arg
        assert images[label]["url"].startswith("file:///")
        assert re.fullmatch(r"[0-9a-f]{64}", images[label]["sha256sum"])


def test_read_error_blkdebug_rules_are_deployed_with_the_disk(generated):
    images = generated["read-error"].job["actions"][0]["deploy"]["images"]
    assert "file.config={nvme0n1_blkdebug},file.image.filename={nvme0n1}" in \
        images["nvme0n1"]["image_arg"]
    assert images["nvme0n1_blkdebug"]["image_arg"] == ""
    assert images["nvme0n1_blkdebug"]["url"].endswith("/blkdebug-nvme0-ns1.conf")


def test_firmware_options_with_spaces_survive_the_command_line(tmp_path, fake_iso):
    configs = qmatrix.load_matrix_text(
        '[[config]]\nname = "opts"\noptions = "dma=bounce tests=nvme.*,,boot.*"\n', qmatrix.REPO_ROOT)
    gen = lavajob.generate(configs[0], fake_iso, str(tmp_path), lavajob.BUILTIN_TEMPLATES)
    fw_cfg = [o for o in gen.job["context"]["extra_options"] if o.startswith("-fw_cfg")]
    assert shlex.split(fw_cfg[0]) == [
        "-fw_cfg", "name=opt/proofboot/cmdline,string=dma=bounce tests=nvme.*,,,,boot.*"]


def test_url_base_and_no_checksums(tmp_path, fake_iso):
    configs = qmatrix.load_matrix_text('[[config]]\nname = "u"\n[[config.nvme]]\nsize = "64K"\n',
                                       qmatrix.REPO_ROOT)
    gen = lavajob.generate(configs[0], fake_iso, str(tmp_path), lavajob.BUILTIN_TEMPLATES,
                           url_base="https://lab.example/proofboot/", checksums=False)
    images = gen.job["actions"][0]["deploy"]["images"]
    assert images["iso"] == {"url": "https://lab.example/proofboot/proofboot.iso",
                             "image_arg": "-cdrom {iso} -boot d"}
    assert images["nvme0n1"]["url"].startswith("https://lab.example/proofboot/u")


def test_device_dictionary_follows_the_job_context():
    device = lavajob.render_device({"memory": "512M", "extra_options": ["-M q35"]})
    qemu = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
    assert qemu["options"][:2] == ["-cpu host", "-enable-kvm"]      # no no_kvm: as LAVA's template
    assert "-m 512M" in qemu["options"] and qemu["extra"] == ["-M q35"]
    tcg = lavajob.render_device({"no_kvm": True})["actions"]["boot"]["methods"]["qemu"]["parameters"]
    assert "-enable-kvm" not in tcg["options"] and "-m 512" in tcg["options"]


# ------------------------------------------------- monitors from the grammar

def test_templates_in_the_doc_equal_the_builtin_copy():
    assert lavajob.load_templates() == lavajob.BUILTIN_TEMPLATES


def test_templates_from_doc_skip_literal_example_lines():
    doc = ("`proofboot: verdict status=FAIL passed=0 failed=1 skipped=0 emergency=true` first\n"
           "`proofboot: start version=<v> schema=<n>`\n"
           "`proofboot: verdict status=PASS|FAIL passed=<n>`\n"
           "`test: result name=<test> status=PASS|FAIL|SKIP`\n")
    found = lavajob.templates_from_doc(doc)
    assert found[lavajob.END_KIND] == "proofboot: verdict status=PASS|FAIL passed=<n>"
    with pytest.raises(lavajob.JobError):
        lavajob.templates_from_doc("nothing here")


def test_monitor_regexes():
    mon = lavajob.monitor(lavajob.BUILTIN_TEMPLATES)
    assert mon["start"] == r"proofboot: start version=\S+"
    assert mon["end"] == "proofboot: verdict status=(?:PASS|FAIL|SKIP)"
    assert mon["pattern"] == \
        r"test: result name=(?P<test_case_id>\S+) status=(?P<result>PASS|FAIL|SKIP)"
    assert mon["fixupdict"] == {"PASS": "pass", "FAIL": "fail", "SKIP": "skip"}


def monitor_cases(console: str, mon: dict) -> tuple:
    """What LAVA's monitor records: after the start string, earliest of end/pattern, repeatedly."""
    start = re.search(mon["start"], console)
    assert start, "no start string"
    pos, cases = start.end(), []
    end_re, result_re = re.compile(mon["end"]), re.compile(mon["pattern"])
    while True:
        end, result = end_re.search(console, pos), result_re.search(console, pos)
        if result and (not end or result.start() < end.start()):
            cases.append((result["test_case_id"], mon["fixupdict"][result["result"]]))
            pos = result.end()
            continue
        return cases, bool(end)


def test_monitor_turns_every_result_line_into_one_case():
    results = (("boot.options", "PASS"), ("nvme.read.bounce", "FAIL"), ("nvme.read.iommu", "SKIP"))
    console = synth.as_log(synth.proof_lines(results=results), crlf=True)
    cases, ended = monitor_cases(console, lavajob.monitor(lavajob.load_templates()))
    assert ended
    assert cases == [("boot.options", "pass"), ("nvme.read.bounce", "fail"),
                     ("nvme.read.iommu", "skip")]


def test_monitor_ignores_plans_starts_and_lines_after_the_verdict():
    lines = synth.proof_lines(results=(("a.b", "PASS"),),
                              extra=["test: start name=a.b timeout_s=30"])
    console = synth.as_log(lines + ["test: result name=late status=FAIL duration_us=1 reason="])
    cases, ended = monitor_cases(console, lavajob.monitor(lavajob.BUILTIN_TEMPLATES))
    assert ended and cases == [("a.b", "pass")]


# ------------------------------------------------------------- YAML text

TRICKY = ["yes", "No", "on", "OFF", "y", "null", "~", "true", "0x10", "1e3", "12:30", "", "a: b",
          "it's", "#x", "-x", "tab\there", "é", "@at", "`tick", "*star", "&amp", "!bang", "%pct",
          "{brace}", "[list]", "=", "- item", "back\\slash", "quote\"d", "line\nbreak", ".inf",
          "plain/path-1.2_x", "007", "-1", "+1", " lead", "trail "]


def test_yaml_text_reads_back_unchanged(lava):
    data = {"strings": TRICKY, "numbers": [0, 1, -5, 10 ** 12], "flags": [True, False, None],
            "empty": {}, "none": [], "nested": [{"a": [1, {"b": "c"}], "d": {}}, ["x", ["y"]]],
            **{s: s for s in TRICKY}}
    assert yaml.safe_load(lavajob.to_yaml(data, "header\n\nline")) == data


def test_yaml_plain_only_when_unambiguous():
    assert lavajob.yaml_scalar("qemu") == "qemu"
    assert lavajob.yaml_scalar("yes") == "'yes'"
    assert lavajob.yaml_scalar("it's") == "'it''s'"
    assert lavajob.yaml_scalar("a\nb") == '"a\\nb"'
    with pytest.raises(TypeError):
        lavajob.yaml_scalar(1.5)


# --------------------------------------------------------------- lava-check

def lava_log(console_lines, cases=None, job="pass", monitor="passed", tag_line=True,
             feedback_tail=0):
    """A lava-run log in its real shape: one JSON mapping per line.

    feedback_tail: the last N console lines are logged as `feedback`, as
    lava-run does for output whose line end arrived after the monitor stopped.
    """
    out = []

    def put(lvl, msg):
        out.append(json.dumps({"dt": "2026-01-01T00:00:00", "lvl": lvl, "msg": msg}))
    put("info", "start: 0 validate")
    if tag_line:
        out.append('{"dt": "x", "lvl": "results", "msg": {"case": "file-download", '
                   '"definition": "lava", "extra": {"size": ! "16777216"}, "result": "pass"}}')
    split = len(console_lines) - feedback_tail
    for line in console_lines[:split]:
        put("target", line.replace('"', '\\"'))
    if cases is None:
        cases = [(r.split("name=")[1].split()[0], r.split("status=")[1].split()[0].lower())
                 for r in console_lines if r.startswith("test: result")]
    for name, result in cases:
        put("results", {"case": re.sub(r"\W+", "_", name.lower()), "definition": "proofboot",
                        "extra": {"test_case_id": name}, "level": "3.1", "result": result})
    if monitor is not None:
        put("results", {"case": "lava-test-monitor", "definition": "lava",
                        "extra": {"status": monitor}, "result": "pass"})
    for line in console_lines[split:]:
        put("feedback", line)
    if job == "fail":
        put("error", "InfraError: lava test monitoring reached end of file")
    put("results", {"case": "job", "definition": "lava", "result": job})
    return "\n".join(out) + "\n"


def config_named(name):
    return next(c for c in qmatrix.load_matrix(qmatrix.DEFAULT_MATRIX) if c.name == name)


def run_check(text, config=None, disks=None):
    return lavacheck.check_lava(lavacheck.parse_lava_log(text), config, disks)


def test_check_accepts_a_consistent_run():
    lines = synth.GRUB_NOISE + synth.proof_lines()
    check = run_check(lava_log(lines))
    assert check.ok, check.problems
    assert check.verdict == "PASS" and check.counts == (2, 0, 0)
    assert check.lava.unparsed == []        # the `! "..."` tagged line is read too
    assert [r[:2] for r in check.rows] == [("boot.options", "PASS"), ("nvme.read.bounce", "PASS")]


def test_verdict_line_logged_as_feedback_still_counts():
    """Seen with lava-run 2023.01: the monitor matched the verdict before its line end arrived,
    and the finished line was logged at level feedback during finalize."""
    check = run_check(lava_log(synth.proof_lines(), feedback_tail=1))
    assert check.ok, check.problems
    assert check.verdict == "PASS"


def test_a_failed_test_case_is_not_hidden_by_job_pass():
    lines = synth.proof_lines(results=(("boot.options", "PASS"), ("nvme.read.bounce", "FAIL")))
    check = run_check(lava_log(lines), config_named("bounce-no-iommu"))
    assert not check.ok
    assert any("verdict is FAIL, expected PASS" in p for p in check.problems)
    assert any("nvme.read.bounce is FAIL, expected PASS" in p for p in check.problems)
    expected_fail = qmatrix.load_matrix_text(           # a configuration that expects this FAIL
        '[[config]]\nname = "eio"\n[config.expect]\nverdict = "FAIL"\n'
        'tests = { "nvme.read.bounce" = "FAIL" }\n', qmatrix.REPO_ROOT)[0]
    check = run_check(lava_log(lines), expected_fail)
    assert check.ok, check.problems


@pytest.mark.parametrize("cases, message", [
    ([("boot.options", "pass")], "LAVA recorded no test case for it"),
    ([("boot.options", "pass"), ("nvme.read.bounce", "fail")], "LAVA recorded fail"),
    ([("boot.options", "pass"), ("nvme.read.bounce", "pass"), ("extra.test", "pass")],
     "the console has no result line"),
    ([("boot.options", "pass"), ("boot.options", "pass"), ("nvme.read.bounce", "pass")],
     "LAVA recorded 2 cases"),
])
def test_check_compares_every_case(cases, message):
    check = run_check(lava_log(synth.proof_lines(), cases=cases))
    assert not check.ok
    assert any(message in p for p in check.problems), check.problems


def test_check_requires_job_pass_and_a_finished_monitor():
    lines = synth.proof_lines()
    assert any("job result is fail" in p for p in run_check(lava_log(lines, job="fail")).problems)
    timed_out = run_check(lava_log(lines[:-1], monitor="failed"))
    assert any("monitor ended with status failed" in p for p in timed_out.problems)
    assert any("verdict" in p for p in timed_out.problems)
    never = run_check(lava_log([], monitor=None, job="fail"))
    assert any("never ran" in p for p in never.problems)
    assert run_check("not a log\n").problems == ["not a lava-run log: no YAML log lines"]


def test_check_verifies_read_crcs_from_the_rebuilt_console(disk, tmp_path):
    spec, path = disk
    good = synth.proof_lines(extra=[synth.read_line(spec, 0, 8)])
    bad = synth.proof_lines(extra=[synth.read_line(spec, 0, 8, crc=0x12345678)])
    disks = proofcheck.DiskMap([proofcheck.Disk(path=path, serial="pb0", nsid=1)])
    assert run_check(lava_log(good), None, disks).reads_checked == 1
    assert run_check(lava_log(good), None, disks).ok
    assert any("crc32" in p for p in run_check(lava_log(bad), None, disks).problems)


def test_lava_check_cli(tmp_path):
    log = tmp_path / "lava.log"
    log.write_text(lava_log(synth.GRUB_NOISE + synth.proof_lines()))
    proc = subprocess.run([os.path.join(qmatrix.REPO_ROOT, "tools", "lava-check"), str(log),
                           "--config", "smoke"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok  nvme.read.bounce" in proc.stdout
    assert (tmp_path / "console.log").read_text().count("test: result") == 2
    proc = subprocess.run([os.path.join(qmatrix.REPO_ROOT, "tools", "lava-check"), str(log),
                           "--config", "no-such-config"], capture_output=True, text=True)
    assert proc.returncode == 2
