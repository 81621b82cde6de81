"""tools/lava-submit against a fake LAVA server (http.server speaking the few /api/v0.2 calls).

The fake acts as server and worker: it checks the token, records each
definition, downloads every file the job names (as a worker would) and, after
a few polls, finishes the job with the health, log and test list a test
chose.  The real server is exercised by tests/lava/lava-server-check.
"""
import http.server
import json
import os
import re
import threading
import urllib.request

import pytest

from proofboot import lavasubmit
import synth
from test_lava import lava_log

TOKEN = "s3cret"

MATRIX = """
[[config]]
name = "fake-pass"
description = "a PASS configuration with one disk"
  [[config.nvme]]
  serial = "pb0"
  size = "64K"
  lba_size = 512
  seed = "a"
[config.expect]
verdict = "PASS"

[[config]]
name = "fake-fail"
description = "an expected FAIL configuration with a disk of the same drive id"
  [[config.nvme]]
  serial = "pb0"
  size = "64K"
  lba_size = 512
  seed = "b"
[config.expect]
verdict = "FAIL"
tests = { "nvme.read.bounce" = "FAIL" }
"""

PASS_LINES = synth.proof_lines()
FAIL_LINES = synth.proof_lines(results=(("boot.options", "PASS"), ("nvme.read.bounce", "FAIL")))


def rest_tests(lines, suite=2):
    """The server's test list for a console: LAVA's slug of each name, its result."""
    out = [{"name": "job", "result": "pass", "suite": 1}]
    for line in lines:
        m = re.match(r"test: result name=(\S+) status=(\S+)", line)
        if m:
            out.append({"name": re.sub(r"\W+", "_", m.group(1).lower()),
                        "result": m.group(2).lower(), "suite": suite})
    return out


class FakeLava:
    def __init__(self):
        self.jobs = {}
        self.outcome = {}          # config -> dict(health, log, tests, polls)
        self.downloads = {}        # url -> bytes
        self.canceled = []
        self.lock = threading.Lock()

    def finish_as(self, config, lines, health="Complete", tests=None, polls=2):
        self.outcome[config] = {"health": health, "log": lava_log(lines),
                                "tests": rest_tests(lines) if tests is None else tests,
                                "polls": polls}

    def submit(self, definition):
        config = re.search(r"proofboot\.config: (\S+)", definition).group(1)
        for url in re.findall(r"url: '?(http[^'\s]+)", definition):
            with urllib.request.urlopen(url, timeout=5) as r:
                self.downloads[url] = r.read()
        with self.lock:
            job_id = len(self.jobs) + 1
            self.jobs[job_id] = {"config": config, "definition": definition, "polls": 0}
        return job_id

    def record(self, job_id):
        job = self.jobs[job_id]
        outcome = self.outcome[job["config"]]
        job["polls"] += 1
        done = outcome["polls"] is not None and job["polls"] > outcome["polls"]
        return {"id": job_id, "state": "Finished" if done else "Running",
                "health": outcome["health"] if done else "Unknown",
                "submit_time": "2026-01-01T00:00:00.000000Z",
                "start_time": "2026-01-01T00:00:01.500000Z",
                "end_time": "2026-01-01T00:00:09.000000Z" if done else None}


def make_handler(fake):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorised(self):
            if self.headers.get("Authorization") != f"Token {TOKEN}":
                self.reply(401, {"detail": "Invalid token."})
                return False
            return True

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/api/v0.2/system/version/":
                return self.reply(200, {"version": "2023.01"})
            if not self.authorised():
                return None
            if path == "/api/v0.2/jobs/":
                return self.reply(200, {"count": len(fake.jobs), "results": []})
            m = re.match(r"/api/v0\.2/jobs/(\d+)/(\w*)/?$", path)
            if not m or int(m.group(1)) not in fake.jobs:
                return self.reply(404, {"detail": "Not found."})
            job_id, what = int(m.group(1)), m.group(2)
            outcome = fake.outcome[fake.jobs[job_id]["config"]]
            if what == "":
                return self.reply(200, fake.record(job_id))
            if what == "logs":
                return self.reply(200, outcome["log"].encode())
            if what == "suites":
                return self.reply(200, {"results": [{"id": 1, "name": "lava"},
                                                    {"id": 2, "name": "proofboot"}]})
            if what == "tests":
                return self.reply(200, {"count": len(outcome["tests"]), "next": None,
                                        "results": outcome["tests"]})
            return self.reply(404, {"detail": "Not found."})

        def do_POST(self):
            if not self.authorised():
                return None
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/api/v0.2/jobs/":
                job_id = fake.submit(json.loads(body)["definition"])
                return self.reply(201, {"message": "job(s) successfully submitted",
                                        "job_ids": [job_id]})
            m = re.match(r"/api/v0\.2/jobs/(\d+)/cancel/$", self.path)
            if m:
                fake.canceled.append(int(m.group(1)))
                return self.reply(200, {"message": "canceled"})
            return self.reply(404, {"detail": "Not found."})
    return Handler


@pytest.fixture
def fake():
    lava = FakeLava()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(lava))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    lava.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield lava
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setattr(lavasubmit, "POLL_S", 0.01)
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(MATRIX)
    iso = tmp_path / "proofboot.iso"
    iso.write_bytes(b"an ISO stand-in\n")
    return tmp_path, ["--matrix", str(matrix), "--iso", str(iso), "--out-dir", str(tmp_path / "out")]


def submit(fake, setup, *args, token=TOKEN, capsys=None):
    _, common = setup
    return lavasubmit.main(list(args) + common + ["--url", fake.url, "--token", token])


def rows(text):
    """Table rows after the header rule: {configuration: [cells]}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---"))
    out = {}
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) == 9:
            out[cells[1]] = cells
    return out


def test_expected_pass_and_expected_fail_both_ok(fake, setup, capsys):
    fake.finish_as("fake-pass", PASS_LINES)
    fake.finish_as("fake-fail", FAIL_LINES)
    assert submit(fake, setup, "fake-pass", "fake-fail") == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert table["fake-pass"][2:5] == ["Complete", "PASS", "PASS"]
    assert table["fake-fail"][2:5] == ["Complete", "FAIL", "FAIL"]
    assert table["fake-pass"][6:] == ["1.5", "7.5", "OK"]      # server timestamps
    assert "2 LAVA job(s), 2 as expected, 0 not" in out
    assert "Running Unknown" in out and "Finished Complete" in out     # progress lines


def test_every_file_is_served_under_a_unique_name(fake, setup, capsys):
    tmp, _ = setup
    fake.finish_as("fake-pass", PASS_LINES)
    fake.finish_as("fake-fail", FAIL_LINES)
    assert submit(fake, setup, "fake-pass", "fake-fail") == 0
    names = {url.rsplit("/", 2)[-2] + "/" + url.rsplit("/", 1)[-1]: data
             for url, data in fake.downloads.items()}
    # the ISO and one disk per job, each under its configuration and label:
    # the same ISO file and the same drive id (nvme0n1) in both jobs
    assert len(names) == 4 and len(fake.downloads) == 4
    assert {n.split("/")[0] for n in names} == {"fake-pass", "fake-fail"}
    assert sorted(n.split("/")[1].split("-")[0] for n in names) == ["iso", "iso", "nvme0n1", "nvme0n1"]
    assert names["fake-pass/iso-proofboot.iso"] == b"an ISO stand-in\n"
    disks = [data for name, data in names.items() if "iso-" not in name]
    assert len(disks) == 2 and disks[0] != disks[1]        # seeds a and b: different contents
    listed = (tmp / "out" / "fake-pass" / "artifacts.txt").read_text()
    assert "fake-pass/iso-proofboot.iso" in listed


def test_server_down(setup, capsys):
    _, common = setup
    code = lavasubmit.main(["fake-pass"] + common + ["--url", "http://127.0.0.1:9", "--token", "x"])
    assert code == 2
    assert "Connection refused" in capsys.readouterr().err


def test_bad_token_is_refused_before_submitting(fake, setup, capsys):
    fake.finish_as("fake-pass", PASS_LINES)
    assert submit(fake, setup, "fake-pass", token="wrong") == 2
    assert "HTTP 401" in capsys.readouterr().err
    assert fake.jobs == {}


@pytest.mark.parametrize("health", ["Incomplete", "Canceled"])
def test_job_not_complete_fails(fake, setup, capsys, health):
    fake.finish_as("fake-pass", PASS_LINES, health=health)
    assert submit(fake, setup, "fake-pass") == 1
    out = capsys.readouterr().out
    assert f"LAVA job health is {health}, not Complete" in out
    assert rows(out)["fake-pass"][2] == health and rows(out)["fake-pass"][-1] == "FAIL"


def test_timeout_cancels_the_job(fake, setup, capsys):
    fake.finish_as("fake-pass", PASS_LINES, polls=None)        # never finishes
    assert submit(fake, setup, "fake-pass", "--timeout", "0.2") == 1
    out = capsys.readouterr().out
    assert "not finished after 0 s (state Running); canceled" in out
    assert fake.canceled == [1]


def test_verdict_other_than_expected_fails(fake, setup, capsys):
    fake.finish_as("fake-fail", PASS_LINES)                    # expected FAIL, got PASS
    assert submit(fake, setup, "fake-fail") == 1
    out = capsys.readouterr().out
    assert rows(out)["fake-fail"][3:5] == ["PASS", "FAIL"]
    assert rows(out)["fake-fail"][-1] == "FAIL"


def test_server_test_list_must_match_the_log(fake, setup, capsys):
    tests = rest_tests(PASS_LINES)
    tests[-1] = dict(tests[-1], result="fail")                 # nvme_read_bounce: server says fail
    fake.finish_as("fake-pass", PASS_LINES, tests=tests)
    assert submit(fake, setup, "fake-pass") == 1
    assert "test nvme.read.bounce: server says fail, the job log says pass" in \
        capsys.readouterr().out


def test_artifact_url_must_hold_the_files(fake, setup, capsys, tmp_path):
    fake.finish_as("fake-pass", PASS_LINES)
    assert submit(fake, setup, "fake-pass", "--artifact-url", fake.url + "/files") == 2
    err = capsys.readouterr().err
    assert "cannot fetch " + fake.url + "/files/fake-pass/iso-proofboot.iso" in err
    assert fake.jobs == {}


def test_compare_server_tests_maps_slugs_back():
    cases = [lavasubmit.lavacheck.Case(1, "nvme.negative.prp-misaligned", "pass"),
             lavasubmit.lavacheck.Case(2, "boot.options", "pass")]
    good = [{"name": "nvme_negative_prp_misaligned", "result": "pass", "suite_name": "proofboot"},
            {"name": "boot_options", "result": "pass", "suite_name": "proofboot"},
            {"name": "job", "result": "pass", "suite_name": "lava"}]
    assert lavasubmit.compare_server_tests(good, cases) == []
    assert lavasubmit.compare_server_tests(good[1:], cases) == [
        "test nvme.negative.prp-misaligned: in the job log, missing from the server's test list"]
    extra = good + [{"name": "boot_options", "result": "pass", "suite_name": "proofboot"}]
    assert lavasubmit.compare_server_tests(extra, cases) == [
        "server test boot_options recorded 2 times, the log has 1"]
    assert lavasubmit.slug("nvme.negative.prp-misaligned") == "nvme_negative_prp_misaligned"


# ------------------------------------------------------ lab files for LAVA

LAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "lab", "lava")


def test_health_check_is_the_generated_smoke_job(tmp_path):
    """lab/lava/health-checks/qemu.yaml = lava-job's smoke job, renamed, with a placeholder URL."""
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with Debian's lava-common")
    iso = tmp_path / "proofboot.iso"
    iso.write_bytes(b"x")
    config = next(c for c in lavasubmit.qmatrix.load_matrix(lavasubmit.qmatrix.DEFAULT_MATRIX)
                  if c.name == "smoke")
    gen = lavasubmit.lavajob.generate(config, str(iso), str(tmp_path / "out"),
                                      lavasubmit.lavajob.load_templates(),
                                      url_base="https://files.example.org/proofboot",
                                      checksums=False)
    with open(os.path.join(LAB, "health-checks", "qemu.yaml"), encoding="utf-8") as f:
        shipped = yaml.safe_load(f)
    expected = yaml.safe_load(lavasubmit.lavajob.to_yaml(gen.job))
    expected["job_name"] = "proofboot health check"
    assert shipped == expected, "regenerate lab/lava/health-checks/qemu.yaml (see its header)"


def test_lab_device_dictionary_extends_the_lab_template():
    with open(os.path.join(LAB, "devices", "proofboot-qemu.jinja2"), encoding="utf-8") as f:
        device = f.read()
    with open(os.path.join(LAB, "device-types", "proofboot-qemu.jinja2"), encoding="utf-8") as f:
        template = f.read()
    assert "{% extends 'proofboot-qemu.jinja2' %}" in device
    assert "{% set failure_retry = 1 %}" in device and "{% set boot_retry = 1 %}" in device
    assert "{% extends 'qemu.jinja2' %}" in template
    # the stock NIC only when a device or job asks for one
    nic = [line for line in template.splitlines() if "-net nic" in line and not line.startswith("{#")]
    assert len(nic) == 1
    assert template.index("{% if netdevice %}") < template.index(nic[0]) < \
        template.index("{% endif %}", template.index("{% if netdevice %}"))


def test_ctrl_c_cancels_unfinished_jobs(fake, setup, monkeypatch):
    fake.finish_as("fake-pass", PASS_LINES, polls=None)

    def interrupt(_seconds):
        raise KeyboardInterrupt
    monkeypatch.setattr(lavasubmit, "_pause", interrupt)
    with pytest.raises(KeyboardInterrupt):
        submit(fake, setup, "fake-pass")
    assert fake.canceled == [1]


def test_lavacli_identity(fake, setup, capsys, tmp_path, monkeypatch):
    pytest.importorskip("yaml", reason="PyYAML comes with Debian's lava-common")
    fake.finish_as("fake-pass", PASS_LINES)
    (tmp_path / "lavacli.yaml").write_text(
        f"lab:\n  uri: {fake.url}/RPC2\n  username: alice\n  token: {TOKEN}\n"
        "other:\n  uri: http://nowhere/RPC2\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    _, common = setup
    assert lavasubmit.main(["fake-pass", "--identity", "lab"] + common) == 0
    assert f"at {fake.url} as alice" in capsys.readouterr().out
    assert lavasubmit.main(["fake-pass", "--identity", "other"] + common) == 2
    assert "no identity 'other' with a uri and a token" in capsys.readouterr().err
    assert lavasubmit.server_url_from_rpc("https://bob:tok@lava.example/sub/RPC2") == \
        "https://lava.example/sub"
