"""Submit matrix configurations to a LAVA server, wait, fetch, check: tools/lava-submit.

For each selected configuration of tests/matrix.toml this

1. generates the job with lavajob.generate (the same job `tools/lava-job`
   writes), then points every file the job downloads (the ISO, the NVMe
   disk images, blkdebug rules files) at URL_BASE/<config>/<label>-<file>:
   unique per configuration, and listed in OUT/<config>/artifacts.txt;
2. makes those files reachable: a staging tree OUT/artifacts/<config>/...
   (symlinks) served by a small HTTP server thread (--serve HOST:PORT), or
   a lab's own file server (--artifact-url) that must already hold a copy
   of the staging tree (checked with HEAD requests before submitting);
3. submits the jobs through the REST API (/api/v0.2/jobs/, header
   `Authorization: Token ...`), polls them with progress lines, and fetches
   each job's log (/api/v0.2/jobs/N/logs/) and test list (/api/v0.2/jobs/N/tests/);
4. checks each log with lavacheck (the configuration's expectations, disk
   CRCs, one LAVA case per `test: result` line) and holds the server's test
   list against the log's cases.  The REST list has LAVA's slug of each
   name (lower case, \\W+ -> _); the log keeps the original in
   extra.test_case_id, so the server's list is mapped back through the slug.

Exit 0 only when every job finished Complete and its check is OK (its
verdict is the configuration's expectation), 1 otherwise, 2 on usage or
server errors before anything was submitted.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from proofboot import lavacheck, lavajob, proofcheck, qmatrix, reports

API = "/api/v0.2"
POLL_S = 2.0
HTTP_TIMEOUT_S = 30.0
# A job waits in the queue before its own timeout starts counting.
QUEUE_MARGIN_S = 600
FINISHED = "Finished"
COMPLETE = "Complete"


class SubmitError(Exception):
    """The server cannot be used (down, refused the token, rejected a job)."""


# ------------------------------------------------------------------ server

class Server:
    """The few REST calls lava-submit needs (LAVA 2023.01, /api/v0.2)."""

    def __init__(self, url: str, token: str, timeout: float = HTTP_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read(500).decode("utf-8", "replace").strip()
            raise SubmitError(f"{method} {self.url}{path}: HTTP {e.code} {e.reason}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SubmitError(f"{method} {self.url}{path}: {reason}") from None

    def json(self, method: str, path: str, body: dict | None = None):
        raw = self.request(method, path, body)
        try:
            return json.loads(raw)
        except ValueError:
            raise SubmitError(f"{method} {self.url}{path}: not JSON: {raw[:200]!r}") from None

    def version(self) -> str:
        return str(self.json("GET", f"{API}/system/version/").get("version", "?"))

    def submit(self, definition: str) -> int:
        reply = self.json("POST", f"{API}/jobs/", {"definition": definition})
        ids = reply.get("job_ids") if isinstance(reply, dict) else None
        if not ids:
            raise SubmitError(f"the server accepted no job: {reply}")
        return int(ids[0])

    def job(self, job_id: int) -> dict:
        return self.json("GET", f"{API}/jobs/{job_id}/")

    def cancel(self, job_id: int) -> None:
        self.request("POST", f"{API}/jobs/{job_id}/cancel/")

    def log(self, job_id: int) -> bytes:
        return self.request("GET", f"{API}/jobs/{job_id}/logs/")

    def tests(self, job_id: int) -> list:
        """Every test case of the job, all pages."""
        out, path = [], f"{API}/jobs/{job_id}/tests/?limit=500"
        while path:
            page = self.json("GET", path)
            out += page.get("results", [])
            nxt = page.get("next")
            path = nxt[len(self.url):] if nxt and nxt.startswith(self.url) else None
            if nxt and path is None:
                raise SubmitError(f"next page {nxt} is not on {self.url}")
        return out


# --------------------------------------------------------------- artifacts

@dataclasses.dataclass
class Artifact:
    name: str       # path under the URL base: <config>/<label>-<file name>
    path: str       # the file on this machine
    sha256: str


def artifact_name(config: str, label: str, path: str) -> str:
    return f"{config}/{label}-{os.path.basename(path)}"


def publish(gen: lavajob.Generated, url_base: str) -> list:
    """Point the job's images at URL_BASE/<config>/<label>-<file>; rewrite job.yaml.

    The label makes names unique within a job (two disks may share a file
    name), the configuration directory across jobs (the same label and file
    name in two configurations can be different files).
    """
    artifacts = []
    images = gen.job["actions"][0]["deploy"]["images"]
    for image in gen.images:
        art = Artifact(artifact_name(gen.config.name, image.label, image.path), image.path,
                       images[image.label].get("sha256sum") or lavajob.sha256_file(image.path))
        images[image.label]["url"] = url_base.rstrip("/") + "/" + urllib.parse.quote(art.name)
        artifacts.append(art)
    with open(gen.job_path, "w", encoding="utf-8") as f:
        f.write(lavajob.to_yaml(gen.job, f"LAVA job for matrix configuration {gen.config.name}, "
                                         "generated by tools/lava-submit from tests/matrix.toml"))
    with open(os.path.join(gen.out_dir, "artifacts.txt"), "w", encoding="utf-8") as f:
        f.write(f"# files job {gen.config.name} downloads: sha256, path under the URL base, "
                "file here\n")
        for art in artifacts:
            f.write(f"{art.sha256}  {art.name}  {art.path}\n")
    return artifacts


def stage(artifacts: list, stage_dir: str) -> None:
    """STAGE/<name> -> the file (symlinks): what the server serves or a lab copies (rsync -L)."""
    for art in artifacts:
        link = os.path.join(stage_dir, art.name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.abspath(art.path), link)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):   # noqa: A002  (the base class's name)
        pass


def serve(stage_dir: str, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server thread for the staging tree; .server_address says where."""
    handler = functools.partial(_QuietHandler, directory=stage_dir)
    httpd = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=httpd.serve_forever, name="lava-submit-http", daemon=True).start()
    return httpd


def unreachable(url_base: str, artifacts: list, timeout: float = HTTP_TIMEOUT_S) -> list:
    """[(url, why)] for each artifact a HEAD request cannot fetch."""
    bad = []
    for art in artifacts:
        url = url_base.rstrip("/") + "/" + urllib.parse.quote(art.name)
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"),
                                        timeout=timeout):
                pass
        except urllib.error.HTTPError as e:
            bad.append((url, f"HTTP {e.code}"))
        except (urllib.error.URLError, OSError) as e:
            bad.append((url, str(getattr(e, "reason", e))))
    return bad


# ---------------------------------------------------------------- results

def slug(name: str) -> str:
    """LAVA's test case name for a monitor match (lava_dispatcher TestMonitorAction)."""
    return re.sub(r"\W+", "_", name.strip().lower())


def compare_server_tests(tests: list, cases: list) -> list:
    """Problems between the server's test list (suite = the monitor) and the log's cases."""
    ours = [t for t in tests if t.get("suite_name", lavacheck.MONITOR_NAME) == lavacheck.MONITOR_NAME]
    by_slug = {}
    for case in cases:
        by_slug.setdefault(slug(case.name), []).append(case)
    problems = []
    seen = {}
    for test in ours:
        name = str(test.get("name"))
        seen[name] = seen.get(name, 0) + 1
        logged = by_slug.get(name, [])
        if not logged:
            problems.append(f"server test {name} ({test.get('result')}) is not in the job log")
        elif seen[name] > len(logged):
            problems.append(f"server test {name} recorded {seen[name]} times, the log has "
                            f"{len(logged)}")
        elif logged[seen[name] - 1].result != test.get("result"):
            problems.append(f"test {logged[0].name}: server says {test.get('result')}, the job "
                            f"log says {logged[seen[name] - 1].result}")
    for key, logged in by_slug.items():
        if seen.get(key, 0) < len(logged):
            problems.append(f"test {logged[0].name}: in the job log, missing from the server's "
                            "test list")
    return problems


def suite_names(server: Server, job_id: int) -> dict:
    """suite id -> name, to tell the monitor's tests from LAVA's own."""
    page = server.json("GET", f"{API}/jobs/{job_id}/suites/?limit=100")
    return {s.get("id"): s.get("name") for s in page.get("results", [])}


# ------------------------------------------------------------------- jobs

@dataclasses.dataclass
class Job:
    gen: lavajob.Generated
    job_id: int | None = None
    submitted: float = 0.0
    finished: float | None = None
    state: str = "-"
    health: str = "-"
    info: dict = dataclasses.field(default_factory=dict)   # the server's last job record
    check: lavacheck.Check | None = None
    problems: list = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return self.gen.config.name

    @property
    def ok(self) -> bool:
        return (self.health == COMPLETE and not self.problems
                and self.check is not None and self.check.ok)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def wait(server: Server, jobs: list, timeout_s: float | None, out,
         poll_s: float | None = None, clock=time.monotonic, sleep=None) -> None:
    """Poll until every job is Finished (or over its time: canceled and marked)."""
    poll_s = POLL_S if poll_s is None else poll_s
    sleep = sleep or _pause
    pending = [j for j in jobs if j.job_id is not None]
    while pending:
        for job in list(pending):
            info = server.job(job.job_id)
            state, health = str(info.get("state")), str(info.get("health"))
            job.info = info
            if (state, health) != (job.state, job.health):
                print(f"lava-submit: job {job.job_id} {job.name}: {state} {health} "
                      f"({clock() - job.submitted:.1f} s)", file=out, flush=True)
                job.state, job.health = state, health
            if state == FINISHED:
                job.finished = clock()
                pending.remove(job)
                continue
            limit = timeout_s if timeout_s is not None else (
                lavajob.job_timeout_s(job.gen.config) + QUEUE_MARGIN_S)
            if clock() - job.submitted > limit:
                job.problems.append(f"not finished after {limit:.0f} s (state {state}); "
                                    "canceled")
                try:
                    server.cancel(job.job_id)
                except SubmitError as e:
                    job.problems.append(f"cancel failed: {e}")
                job.finished = clock()
                pending.remove(job)
        if pending:
            sleep(poll_s)


def fetch_and_check(server: Server, job: Job) -> None:
    """The job's log and test list from the server, checked against its configuration."""
    if job.health != COMPLETE and job.state == FINISHED:
        job.problems.append(f"LAVA job health is {job.health}, not {COMPLETE}")
    log_path = os.path.join(job.gen.out_dir, "lava.log")
    try:
        with open(log_path, "wb") as f:
            f.write(server.log(job.job_id))
    except SubmitError as e:
        job.problems.append(f"no log: {e}")
        return
    job.check = lavacheck.check_file(log_path, job.gen.config, job.gen.disk_map)
    try:
        suites = suite_names(server, job.job_id)
        tests = [dict(t, suite_name=suites.get(t.get("suite"))) for t in server.tests(job.job_id)]
    except SubmitError as e:
        job.problems.append(f"no test list: {e}")
        return
    job.problems += compare_server_tests(tests, job.check.lava.cases)
    with open(os.path.join(job.gen.out_dir, "lava-check.txt"), "w", encoding="utf-8") as f:
        f.write(report_one(job, log_path) + "\n")


def report_one(job: Job, log_path: str) -> str:
    lines = [lavacheck.format_check(job.check, log_path)] if job.check else []
    lines += [f"{log_path}: error: {p}" for p in job.problems]
    return "\n".join(lines)


def _server_seconds(info: dict, start: str, end: str) -> str:
    """Seconds between two of the server's job timestamps (ISO 8601, UTC 'Z')."""
    import datetime
    try:
        a, b = (datetime.datetime.fromisoformat(str(info[k]).replace("Z", "+00:00"))
                for k in (start, end))
    except (KeyError, ValueError, TypeError):
        return "-"
    return f"{(b - a).total_seconds():.1f}"


def table(jobs: list) -> str:
    header = ("job", "configuration", "health", "verdict", "expected", "pass/fail/skip",
              "queued s", "ran s", "result")
    rows = []
    for j in jobs:
        c = j.check
        rows.append((str(j.job_id or "-"), j.name, j.health,
                     (c.verdict or "none") if c else "-",
                     c.expected if c else "/".join(j.gen.config.expect.verdict or ()),
                     "/".join(str(n) for n in c.counts) if c else "-",
                     _server_seconds(j.info, "submit_time", "start_time"),
                     _server_seconds(j.info, "start_time", "end_time"),
                     "OK" if j.ok else "FAIL"))
    lines = reports.text_table(header, rows)
    bad = sum(1 for j in jobs if not j.ok)
    lines.append(f"{len(jobs)} LAVA job(s), {len(jobs) - bad} as expected, {bad} not")
    return "\n".join(lines)


# -------------------------------------------------------------------- CLI

def parse_args(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="lava-submit",
        description="Generate the LAVA job of each selected configuration of tests/matrix.toml, "
                    "make the files it downloads reachable, submit it to a LAVA server, wait, "
                    "fetch its log and results and check them with lava-check. Exit 0 only when "
                    "every job's outcome is its configuration's expectation, 1 when one is not, "
                    "2 on usage error or a server that cannot be used.")
    ap.add_argument("select", nargs="*", metavar="CONFIG|GROUP",
                    help="configuration names or groups (globs); default: all")
    ap.add_argument("--url", help="LAVA server, e.g. http://lava.example:8000/")
    ap.add_argument("--user", help="user the token belongs to (shown only: the token identifies)")
    token = ap.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", help="API token (lava-server manage tokens add ...)")
    token.add_argument("--token-file", help="file holding the API token")
    token.add_argument("--identity", metavar="NAME",
                       help="a lavacli identity ($XDG_CONFIG_HOME/lavacli.yaml, default "
                            "~/.config/lavacli.yaml): its uri, username and token")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--serve", metavar="HOST:PORT", default="127.0.0.1:0",
                       help="serve the job files from here (default 127.0.0.1 on a free port: "
                            "a worker on this machine)")
    where.add_argument("--artifact-url", metavar="URL",
                       help="the files are already at URL/<config>/<label>-<file> (a copy of "
                            "OUT/artifacts/, e.g. rsync -aL); checked before submitting")
    ap.add_argument("--public-url", metavar="URL",
                    help="with --serve: the URL workers use to reach it (default http://HOST:PORT)")
    ap.add_argument("--matrix", default=qmatrix.DEFAULT_MATRIX)
    ap.add_argument("--iso", default=qmatrix.DEFAULT_ISO)
    ap.add_argument("--out-dir", default=os.path.join(qmatrix.REPO_ROOT, "build", "lava-submit"))
    ap.add_argument("--timeout", type=float, metavar="S",
                    help="per job, from submission to Finished (default: its job timeout + "
                         f"{QUEUE_MARGIN_S} s in the queue)")
    ap.add_argument("--list", action="store_true", help="list the selected configurations and exit")
    return ap.parse_args(argv)


def lavacli_identity(name: str, path: str | None = None) -> dict:
    """uri, username and token of a lavacli identity (lavacli's own file and lookup)."""
    if path is None:
        config_dir = os.environ.get("XDG_CONFIG_HOME", "~/.config")
        path = os.path.expanduser(os.path.join(config_dir, "lavacli.yaml"))
    try:
        import yaml     # lavacli depends on it: where there is an identity, there is PyYAML
    except ImportError:
        raise ValueError("--identity needs PyYAML (Debian: python3-yaml)") from None
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    entry = config.get(name) if isinstance(config, dict) else None
    if not isinstance(entry, dict) or not entry.get("uri") or not entry.get("token"):
        raise ValueError(f"{path}: no identity {name!r} with a uri and a token")
    return entry


def server_url_from_rpc(uri: str) -> str:
    """lavacli's XML-RPC uri (https://host/RPC2) as the server's base URL."""
    parts = urllib.parse.urlsplit(uri)
    path = re.sub(r"/RPC2/?$", "", parts.path)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], path, "", ""))


def credentials(args) -> tuple:
    """(server URL, token, user shown) from --url/--token/--token-file or --identity."""
    if args.identity is not None:
        entry = lavacli_identity(args.identity)
        return (args.url or server_url_from_rpc(str(entry["uri"])), str(entry["token"]).strip(),
                args.user or entry.get("username"))
    if not args.url:
        raise ValueError("--url is required (or --identity)")
    if args.token is not None:
        return args.url, args.token.strip(), args.user
    with open(args.token_file, encoding="utf-8") as f:
        return args.url, f.read().strip(), args.user


def _host_port(text: str) -> tuple:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--serve wants HOST:PORT, not {text!r}")
    return host, int(port)


def generate_all(args, configs, out_root: str) -> list:
    templates = lavajob.load_templates()
    iso = os.path.abspath(args.iso)
    if not os.path.isfile(iso):
        raise lavajob.JobError(f"no ISO at {iso} (build it with make, or pass --iso)")
    return [lavajob.generate(c, iso, out_root, templates) for c in configs]


def main(argv=None, out=None) -> int:
    out = out or sys.stdout
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    t0 = time.monotonic()
    try:
        configs = qmatrix.selected_configs(argparse_namespace(args))
        if args.list:
            print(qmatrix.list_configs(configs), file=out)
            return 0
        url, token, user = credentials(args)
        out_root = os.path.abspath(args.out_dir)
        generated = generate_all(args, configs, out_root)
        server = Server(url, token)
        version = server.version()
        # Check the token before anything is served or submitted.
        server.json("GET", f"{API}/jobs/?limit=1")
    except (qmatrix.MatrixError, lavajob.JobError, proofcheck.ExpectationError, ValueError,
            OSError, SubmitError) as e:
        print(f"lava-submit: {e}", file=sys.stderr)
        return 2
    print(f"lava-submit: LAVA {version} at {server.url}"
          + (f" as {user}" if user else ""), file=out, flush=True)
    stage_dir = os.path.join(out_root, "artifacts")
    httpd = None
    try:
        if args.artifact_url:
            url_base = args.artifact_url
        else:
            host, port = _host_port(args.serve)
            httpd = serve(stage_dir, host, port)
            url_base = args.public_url or f"http://{host}:{httpd.server_address[1]}"
        artifacts = []
        for gen in generated:
            artifacts += publish(gen, url_base)
        stage(artifacts, stage_dir)
        print(f"lava-submit: {len(artifacts)} file(s) for {len(generated)} job(s) at {url_base} "
              f"(staged in {stage_dir}; lists in OUT/<config>/artifacts.txt)", file=out, flush=True)
        bad = unreachable(url_base, artifacts)
        if bad:
            for url, why in bad:
                print(f"lava-submit: cannot fetch {url}: {why}", file=sys.stderr)
            return 2
        return run(server, generated, args.timeout, out, t0)
    except (ValueError, OSError, SubmitError) as e:
        print(f"lava-submit: {e}", file=sys.stderr)
        return 2
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()


def argparse_namespace(args):
    """The selection fields qmatrix.selected_configs reads (lava-submit has no ad-hoc overrides)."""
    import argparse
    return argparse.Namespace(select=args.select, matrix=args.matrix, disk=[], qemu_arg=[],
                              fw_options=None, timeout=None, adhoc=None)


def run(server: Server, generated: list, timeout_s: float | None, out, t0: float) -> int:
    jobs = [Job(gen) for gen in generated]
    for job in jobs:
        with open(job.gen.job_path, encoding="utf-8") as f:
            definition = f.read()
        job.submitted = time.monotonic()
        try:
            job.job_id = server.submit(definition)
        except SubmitError as e:
            job.problems.append(f"not submitted: {e}")
            print(f"lava-submit: {job.name}: not submitted: {e}", file=out, flush=True)
            continue
        print(f"lava-submit: {job.name}: job {job.job_id} {server.url}/scheduler/job/{job.job_id}",
              file=out, flush=True)
    try:
        wait(server, jobs, timeout_s, out)
    except KeyboardInterrupt:
        # Ctrl-C: the jobs would otherwise run on (and fail to download once
        # the file server thread is gone); cancel what has not finished.
        for job in jobs:
            if job.job_id is not None and job.state != FINISHED:
                try:
                    server.cancel(job.job_id)
                    print(f"lava-submit: canceled job {job.job_id} {job.name}", file=out)
                except SubmitError as e:
                    print(f"lava-submit: job {job.job_id}: {e}", file=sys.stderr)
        raise
    for job in jobs:
        if job.job_id is not None:
            fetch_and_check(server, job)
            print(report_one(job, os.path.relpath(os.path.join(job.gen.out_dir, "lava.log"))),
                  file=out, flush=True)
    print(file=out)
    print(table(jobs), file=out)
    print(f"lava-submit: {time.monotonic() - t0:.1f} s in all", file=out, flush=True)
    return 0 if all(j.ok for j in jobs) else 1
