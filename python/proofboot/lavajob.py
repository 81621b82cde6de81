"""LAVA job definitions and the qemu device dictionary for the matrix configurations.

LAVA is what labs use to drive boot tests.  This module turns one
configuration of tests/matrix.toml into

* a job definition for `device_type: qemu`: deploy the ISO (and the NVMe
  disk images) to tmpfs, boot it with the qemu method, and a `test` action
  whose `monitors` regexes are derived from the proof-line templates in
  docs/proof-lines.md, so every `test: result` line becomes a LAVA test case;
* the device dictionary a LAVA server would render for that job from its
  qemu device-type template (no lava-server here, so the project renders it;
  see render_device), for running the job locally with `lava-run`.

The QEMU arguments are not written twice: they come from
qmatrix.build_command and are split into what a LAVA qemu job carries where
(split_command).  Output is YAML written as text (to_yaml): the standard
library has no YAML module and PyYAML is not required to generate jobs.

`run_jobs` runs generated jobs with lava-run and checks them (lavacheck).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
import urllib.parse

from proofboot import lavacheck
from proofboot import qmatrix

DEVICE_TYPE = "qemu"
ARCH = "amd64"
QEMU_BINARY = "qemu-system-x86_64"
MONITOR_NAME = lavacheck.MONITOR_NAME
ISO_LABEL = "iso"
DEFAULT_OUT = os.path.join(qmatrix.REPO_ROOT, "build", "lava")
PROOF_DOC = os.path.join(qmatrix.REPO_ROOT, "docs", "proof-lines.md")

# Action timeouts (seconds).  The test action gets the configuration's own
# timeout: it covers the whole guest run, from power-on to the verdict, like
# the matrix's hard timeout.
DEPLOY_TIMEOUT_S = 300
BOOT_TIMEOUT_S = 120
FINALIZE_MARGIN_S = 120
# lava-run itself: the job timeout plus this, then timeout(1) kills it.
LAVA_RUN_GRACE_S = 60

# The proof-line templates the monitor regexes come from, and how many of
# each template's fields the regex spells out.  They are read from
# docs/proof-lines.md; BUILTIN_TEMPLATES is the copy used when the doc is not
# next to the tools (a pytest keeps the two equal).
START_KIND = "proofboot: start"
END_KIND = "proofboot: verdict"
RESULT_KIND = "test: result"
BUILTIN_TEMPLATES = {
    START_KIND: "proofboot: start version=<git-describe> schema=<n> multiboot2=true|false",
    END_KIND: "proofboot: verdict status=PASS|FAIL|SKIP passed=<n> failed=<n> skipped=<n> untested=<n>",
    RESULT_KIND: "test: result name=<test> status=PASS|FAIL|SKIP duration_us=<n> reason=<text>",
}
# Named groups LAVA's monitor reads: the test case and its result.
RESULT_GROUPS = {"name": "test_case_id", "status": "result"}


class JobError(ValueError):
    """The job cannot be generated (usage error, exit 2)."""


# ---------------------------------------------------------------- YAML text

_PLAIN_RE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
# Words a YAML 1.1 loader (PyYAML, which LAVA uses) reads as booleans or null.
_YAML11_WORDS = frozenset(("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"))


def yaml_scalar(value) -> str:
    """One scalar as YAML text that any YAML 1.1/1.2 loader reads back unchanged."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if _PLAIN_RE.match(value) and value.lower() not in _YAML11_WORDS:
        return value
    if all(" " <= c <= "~" for c in value):
        return "'" + value.replace("'", "''") + "'"    # single quotes: no escapes inside
    return json.dumps(value)                           # a JSON string is a YAML double-quoted one


def _is_collection(value) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def _yaml_lines(value, indent: int) -> list:
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if _is_collection(item):
                lines.append(f"{pad}{yaml_scalar(key)}:")
                lines += _yaml_lines(item, indent + 2)
            else:
                lines.append(f"{pad}{yaml_scalar(key)}: {_yaml_inline(item)}")
        return lines
    lines = []
    for item in value:
        if _is_collection(item):
            nested = _yaml_lines(item, indent + 2)
            nested[0] = f"{pad}- " + nested[0][indent + 2:]   # first line joins the dash
            lines += nested
        else:
            lines.append(f"{pad}- {_yaml_inline(item)}")
    return lines


def _yaml_inline(value) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(value)


def to_yaml(data: dict, header: str = "") -> str:
    """Block-style YAML for dicts, lists, strings, ints, bools and None."""
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + "\n".join(_yaml_lines(data, 0)) + "\n"


# ------------------------------------------------------- monitor patterns

def templates_from_doc(text: str) -> dict:
    """The template of each monitored line kind, as written in docs/proof-lines.md.

    A template is the first backquoted span starting with the line kind that
    has a placeholder (`<...>`) or a choice (`A|B`): the emergency verdict
    example further down is a literal line, not the template.
    """
    found = {}
    for kind in BUILTIN_TEMPLATES:
        for m in re.finditer(r"`(%s [^`]*)`" % re.escape(kind), text):
            if "<" in m.group(1) or "|" in m.group(1):
                found[kind] = m.group(1)
                break
        else:
            raise JobError(f"no template for '{kind}' in the proof-line doc")
    return found


def load_templates(doc_path: str | None = None) -> dict:
    path = doc_path or PROOF_DOC
    if doc_path is None and not os.path.exists(path):
        return dict(BUILTIN_TEMPLATES)
    with open(path, encoding="utf-8") as f:
        return templates_from_doc(f.read())


def _template_fields(template: str) -> tuple:
    """(head, [(key, value)]): "subsystem: event words" and the fields in order."""
    tokens = template.split(" ")
    first_field = next((i for i, t in enumerate(tokens) if "=" in t), len(tokens))
    fields = [tuple(t.split("=", 1)) for t in tokens[first_field:]]
    return " ".join(tokens[:first_field]), fields


def _escape(text: str) -> str:
    """re.escape, minus the backslash before spaces (not special; easier to read in a job)."""
    return re.escape(text).replace("\\ ", " ")


def _value_regex(value: str, group: str | None) -> str:
    """A template value as a regex: <placeholder> is any value, A|B a choice, else literal."""
    if value.startswith("<") and value.endswith(">"):
        body = r"\S+"                      # values never contain a space
    elif "|" in value:
        body = "|".join(_escape(v) for v in value.split("|"))
        if group is None:
            body = f"(?:{body})"
    else:
        body = _escape(value)
    return f"(?P<{group}>{body})" if group else body


def template_regex(template: str, field_count: int, groups: dict | None = None) -> str:
    """Regex for a template's head and its first field_count fields (a prefix of the line).

    A prefix, because the monitor matches a stream: the keys after those are
    not needed to recognise the line and may grow with the schema.
    """
    head, fields = _template_fields(template)
    if field_count > len(fields):
        raise JobError(f"template '{template}' has fewer than {field_count} fields")
    parts = [_escape(head)]
    for key, value in fields[:field_count]:
        parts.append(f"{re.escape(key)}={_value_regex(value, (groups or {}).get(key))}")
    return " ".join(parts)


def status_choices(template: str) -> list:
    """The statuses a template's status field allows (PASS, FAIL, SKIP)."""
    _, fields = _template_fields(template)
    value = dict(fields).get("status", "")
    if "|" not in value:
        raise JobError(f"template '{template}' has no status choice")
    return value.split("|")


def monitor(templates: dict) -> dict:
    """The LAVA `monitors` entry: start, end and per-test pattern from the proof lines."""
    result = templates[RESULT_KIND]
    return {
        "name": MONITOR_NAME,
        "start": template_regex(templates[START_KIND], 1),
        "end": template_regex(templates[END_KIND], 1),
        "pattern": template_regex(result, 2, RESULT_GROUPS),
        "fixupdict": {s: s.lower() for s in status_choices(result)},
    }


# ------------------------------------------------------- the QEMU command

@dataclasses.dataclass
class Image:
    label: str            # LAVA image label: {label} in any image_arg is the downloaded file
    path: str             # file on this machine
    # QEMU arguments for it.  "" for a file only another image's arguments
    # name (a blkdebug rules file): lava-run then warns "Missing image arg"
    # but still downloads it and substitutes {label}.
    image_arg: str


@dataclasses.dataclass
class QemuParts:
    """qmatrix's QEMU command, split the way a LAVA qemu job carries it."""
    memory: str           # job context `memory` (the device template writes -m)
    extra_options: list   # job context `extra_options`: "OPTION VALUE" strings, in order
    images: list          # [Image], the ISO first


# A value needs quoting when pexpect, which splits LAVA's joined command line
# again, would split or unquote it.  {label} placeholders stay readable.
_SAFE_ARG_RE = re.compile(r"[A-Za-z0-9_@%+=:,./{}-]+\Z")


def shell_arg(arg: str) -> str:
    return arg if _SAFE_ARG_RE.match(arg) else shlex.quote(arg)


def _option_pairs(argv: list) -> list:
    """[(option, value or None)]: a token not starting with '-' is the previous option's value."""
    pairs = []
    i = 0
    while i < len(argv):
        opt = argv[i]
        if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            pairs.append((opt, argv[i + 1]))
            i += 2
        else:
            pairs.append((opt, None))
            i += 1
    return pairs


def _joined(opt: str, value: str | None) -> str:
    return opt if value is None else f"{opt} {shell_arg(value)}"


def qemu_fields(value: str) -> list:
    """A QEMU option value split at its commas; ',,' (a literal comma) stays inside a field."""
    fields, current, i = [], "", 0
    while i < len(value):
        if value.startswith(",,", i):
            current += ",,"
            i += 2
        elif value[i] == ",":
            fields.append(current)
            current = ""
            i += 1
        else:
            current += value[i]
            i += 1
    return fields + [current]


def _field(value: str, key: str) -> str | None:
    for field in qemu_fields(value):
        k, sep, v = field.partition("=")
        if sep and k == key:
            return v
    return None


def _drive_id(value: str) -> str | None:
    return _field(value, "id")


def split_command(config: qmatrix.Config, iso: str, paths: qmatrix.RunPaths) -> QemuParts:
    """Split qmatrix.build_command into job context, image arguments and images.

    * `-m` becomes context `memory`: LAVA's qemu device template writes `-m`
      itself (and `-nographic`, which puts the serial console on the stdio
      LAVA watches, so the matrix's console log file and `-display` go);
    * `-cdrom ISO -boot d` is the ISO image's image_arg, with {iso} for the path;
    * each NVMe namespace's `-drive` and its `nvme-ns` device are that disk
      image's image_arg (a blkdebug rules file is an image of its own, named
      in the drive's arguments);
    * everything else, in order, is context `extra_options` (the stock
      template ignores `machine` for amd64, so `-M` goes there too).
    """
    files = {}              # the matrix's path text inside a -drive value -> file
    for c_index, ctrl in enumerate(config.controllers):
        for ns in ctrl.namespaces:
            image = qmatrix.image_path(ns, paths)
            files[qmatrix.qemu_escape(image)] = image
            if ns.read_errors:
                conf = paths.blkdebug_config(c_index, ns)
                files[qmatrix.qemu_escape(conf)] = conf
    argv = qmatrix.build_command(config, "{%s}" % ISO_LABEL, paths, QEMU_BINARY)[1:]
    memory, extra, iso_args = None, [], []
    disks, side_files = [], []
    drives = {}             # drive id -> its Image
    for opt, value in _option_pairs(argv):
        if opt == "-m":
            memory = value
        elif opt in ("-display", "-chardev") or (opt == "-serial" and value == "chardev:console"):
            continue
        elif opt in ("-cdrom", "-boot"):
            iso_args.append(_joined(opt, value))
        elif opt == "-drive" and value and _drive_id(value) and _drive_images(value, files):
            image, confs = _drive_images(value, files)
            drives[_drive_id(value)] = image
            disks.append(image)
            side_files += confs
        elif opt == "-device" and value and _attached_drive(value) in drives:
            drives[_attached_drive(value)].image_arg += " " + _joined(opt, value)
        else:
            extra.append(_joined(opt, value))      # includes a -drive of the user's own
    if memory is None:
        raise JobError(f"{config.name}: the matrix command has no -m")
    images = [Image(ISO_LABEL, iso, " ".join(iso_args))] + disks + side_files
    return QemuParts(memory=memory, extra_options=extra, images=images)


def _attached_drive(device: str) -> str | None:
    return _field(device, "drive")


def _drive_images(value: str, files: dict):
    """(Image, [blkdebug Image]) for a matrix -drive, or None for a drive not made by the matrix.

    The drive's file becomes {label} (label = drive id) and its blkdebug rules
    file {label_blkdebug}.
    """
    label = _drive_id(value)
    fields = qemu_fields(value)
    image, confs = None, []
    for i, field in enumerate(fields):
        key, _, path_text = field.partition("=")
        if key in ("file", "file.image.filename") and path_text in files:
            image = Image(label, files[path_text], "")
            fields[i] = f"{key}={{{label}}}"
        elif key == "file.config" and path_text in files:
            conf = Image(f"{label}_blkdebug", files[path_text], "")
            confs.append(conf)
            fields[i] = f"{key}={{{conf.label}}}"
    if image is None:
        return None
    image.image_arg = _joined("-drive", ",".join(fields))
    return image, confs


# ----------------------------------------------------------- job and device

def file_url(path: str, url_base: str | None) -> str:
    """Where LAVA downloads a file from: file:// on this machine, or URL_BASE/<name>."""
    if url_base:
        return url_base.rstrip("/") + "/" + urllib.parse.quote(os.path.basename(path))
    return "file://" + urllib.parse.quote(os.path.abspath(path))


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seconds(value: float) -> dict:
    return {"seconds": max(1, int(math.ceil(value)))}


def job_timeout_s(config: qmatrix.Config) -> int:
    return DEPLOY_TIMEOUT_S + BOOT_TIMEOUT_S + int(math.ceil(config.timeout)) + FINALIZE_MARGIN_S


def build_job(config: qmatrix.Config, parts: QemuParts, mon: dict,
              url_base: str | None = None, checksums: bool = True) -> dict:
    """The LAVA job definition (a dict in the order it is written)."""
    images = {}
    for image in parts.images:
        entry = {"url": file_url(image.path, url_base), "image_arg": image.image_arg}
        if checksums:
            entry["sha256sum"] = sha256_file(image.path)
        images[image.label] = entry
    return {
        "job_name": f"proofboot {config.name}",
        "device_type": DEVICE_TYPE,
        "visibility": "public",
        "priority": "medium",
        "timeouts": {"job": {"minutes": int(math.ceil(job_timeout_s(config) / 60))},
                     "connection": {"minutes": 2}},
        "context": {
            "arch": ARCH,
            # The matrix runs under TCG; with KVM the same job also works but
            # VT-d emulation then needs kernel-irqchip=split.
            "no_kvm": True,
            "memory": parts.memory,
            "extra_options": parts.extra_options,
        },
        "metadata": {
            "proofboot.config": config.name,
            "proofboot.description": config.description,
            "proofboot.options": config.options,
            "proofboot.expected_verdict": config.expected_verdict,
        },
        "actions": [
            {"deploy": {"to": "tmpfs", "timeout": _seconds(DEPLOY_TIMEOUT_S), "images": images}},
            {"boot": {"method": "qemu", "media": "tmpfs", "timeout": _seconds(BOOT_TIMEOUT_S)}},
            {"test": {"timeout": _seconds(config.timeout), "monitors": [mon]}},
        ],
    }


def render_device(context: dict, qemu: str = QEMU_BINARY) -> dict:
    """The device dictionary for device_type qemu, as a lab's server renders it for a job.

    Mirrors what LAVA's stock qemu template produces for arch amd64 from the
    job context (`-cpu host -enable-kvm` unless no_kvm, `-nographic`,
    `-m memory`, `-monitor none`, extra_options as `extra`) with two
    differences: no `-net nic ... -net user` line (the matrix boots with no
    NIC; a lab's template adds a virtio NIC the firmware lists but never
    binds), and only the constants lava-dispatcher 2023.01 needs.
    """
    options = []
    if not context.get("no_kvm"):
        options += ["-cpu host", "-enable-kvm"]
    options += ["-nographic", f"-m {context.get('memory', 512)}",
                f"-monitor {context.get('monitor', 'none')}"]
    qemu_params = {"command": qemu, "options": options}
    if context.get("extra_options"):
        qemu_params["extra"] = list(context["extra_options"])
    return {
        "device_type": DEVICE_TYPE,
        "constants": {
            # One attempt each: a retried monitor would watch a dead console
            # and hide the first failure.
            "failure_retry": 1,
            "boot_retry": 1,
        },
        "parameters": {},
        "available_architectures": [ARCH, "x86_64"],
        "actions": {
            "deploy": {"connections": {"serial": None}, "methods": {"image": {"parameters": {}}}},
            "boot": {"connections": {"serial": None}, "methods": {"qemu": {"parameters": qemu_params}}},
        },
        "timeouts": {"actions": {}, "connections": {}},   # the job's own timeouts apply
    }


@dataclasses.dataclass
class Generated:
    config: qmatrix.Config
    out_dir: str
    job_path: str
    device_path: str
    disk_map: str
    job: dict
    device: dict
    images: list = dataclasses.field(default_factory=list)   # [Image] the job downloads


def generate(config: qmatrix.Config, iso: str, out_root: str, templates: dict,
             url_base: str | None = None, checksums: bool = True) -> Generated:
    """Disk images, job.yaml, device.yaml and disks.toml for one configuration in OUT/<name>/."""
    paths = qmatrix.RunPaths(out_dir=os.path.join(out_root, config.name),
                             disk_dir=os.path.join(out_root, "disks"))
    qmatrix.prepare(config, paths)
    parts = split_command(config, iso, paths)
    job = build_job(config, parts, monitor(templates), url_base, checksums)
    device = render_device(job["context"])
    job_path = os.path.join(paths.out_dir, "job.yaml")
    device_path = os.path.join(paths.out_dir, "device.yaml")
    with open(job_path, "w", encoding="utf-8") as f:
        f.write(to_yaml(job, f"LAVA job for matrix configuration {config.name}, "
                             "generated by tools/lava-job from tests/matrix.toml"))
    with open(device_path, "w", encoding="utf-8") as f:
        f.write(to_yaml(device, "device dictionary for device_type qemu rendered for this job "
                                "(tools/lava-job); use with lava-run --device"))
    return Generated(config, paths.out_dir, job_path, device_path, paths.disk_map, job, device,
                     parts.images)


# ------------------------------------------------------------------ running

def lava_run_command(gen: Generated, job_id: str) -> list:
    return ["timeout", "--kill-after=10", str(job_timeout_s(gen.config) + LAVA_RUN_GRACE_S),
            "lava-run", "--job-id", job_id, "--output-dir", os.path.join(gen.out_dir, "lava-run"),
            "--device", gen.device_path, gen.job_path]


def run_one(gen: Generated, job_id: str) -> tuple:
    """Run lava-run on a generated job; (exit code, path of its log)."""
    log_path = os.path.join(gen.out_dir, "lava.log")
    cmd = lava_run_command(gen, job_id)
    with open(os.path.join(gen.out_dir, "cmd.sh"), "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n# run this job again (as root); the log goes to stderr\n"
                + " ".join(shlex.quote(a) for a in cmd) + "\n")
    with open(log_path, "wb") as log:
        code = subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    return code, log_path


def lava_run_problem() -> str | None:
    """Why lava-run cannot run here, or None."""
    if not any(os.access(os.path.join(d, "lava-run"), os.X_OK)
               for d in os.environ.get("PATH", "").split(os.pathsep) if d):
        return ("lava-run not found: apt-get install -y --no-install-recommends "
                "lava-dispatcher lava-common qemu-system-x86")
    if os.geteuid() != 0:
        return "lava-run needs root (it works in /var/lib/lava/dispatcher/tmp)"
    return None


# ----------------------------------------------------------------------- CLI

def parse_args(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="lava-job",
        description="Write a LAVA job (device_type qemu) and its rendered device dictionary for "
                    "each selected configuration of tests/matrix.toml into OUT/<config>/; with "
                    "--run also run them with lava-run and check each run's per-test results "
                    "against its console proof lines. Exit 0 when all is as expected, 1 when a "
                    "run is not, 2 on usage error.")
    ap.add_argument("select", nargs="*", metavar="NAME|GROUP",
                    help="configuration names or groups (globs); default: all")
    ap.add_argument("--matrix", default=qmatrix.DEFAULT_MATRIX)
    ap.add_argument("--iso", default=qmatrix.DEFAULT_ISO, help="ISO (default build/proofboot.iso)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT, help="output directory (default build/lava)")
    ap.add_argument("--url-base", metavar="URL",
                    help="images are downloaded from URL/<file name> (a lab's file server) "
                         "instead of file:// paths on this machine")
    ap.add_argument("--no-checksums", dest="checksums", action="store_false",
                    help="leave out the sha256sum of each image")
    ap.add_argument("--doc", metavar="PROOF_LINES_MD", help="proof-line doc to take templates from")
    ap.add_argument("--print", dest="print_job", action="store_true",
                    help="also print each job on stdout")
    ap.add_argument("--run", action="store_true",
                    help="run each job with lava-run (root) and check it with lava-check")
    ap.add_argument("--list", action="store_true", help="list the selected configurations and exit")
    # The same selection and override options as tools/matrix.
    ap.add_argument("--disk", action="append", default=[], metavar="IMG[,lba_size=N][,serial=S]")
    ap.add_argument("--qemu-arg", action="append", default=[], metavar="ARG")
    ap.add_argument("--options", dest="fw_options", metavar="STRING")
    ap.add_argument("--timeout", type=float)
    ap.add_argument("--adhoc", metavar="NAME")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        configs = qmatrix.selected_configs(args)
        templates = load_templates(args.doc)
    except (qmatrix.MatrixError, JobError, OSError) as e:
        print(f"lava-job: {e}", file=sys.stderr)
        return 2
    if args.list:
        print(qmatrix.list_configs(configs))
        return 0
    iso = os.path.abspath(args.iso)
    if not os.path.isfile(iso):
        print(f"lava-job: no ISO at {iso} (build it with make, or pass --iso)", file=sys.stderr)
        return 2
    if args.run and lava_run_problem():
        print(f"lava-job: {lava_run_problem()}", file=sys.stderr)
        return 2
    out_root = os.path.abspath(args.out_dir)
    generated = []
    for config in configs:
        try:
            gen = generate(config, iso, out_root, templates, args.url_base, args.checksums)
        except (JobError, OSError, ValueError) as e:
            print(f"lava-job: {config.name}: {e}", file=sys.stderr)
            return 2
        generated.append(gen)
        print(f"lava-job: {config.name}: {_shown(gen.job_path)} {_shown(gen.device_path)}",
              flush=True)
        if args.print_job:
            print(to_yaml(gen.job))
    if not args.run:
        return 0
    return run_and_check(generated)


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith(os.pardir) else rel


def run_and_check(generated: list) -> int:
    outcomes = []
    for gen in generated:
        job_id = f"proofboot-{gen.config.name}-{os.getpid()}"
        print(f"lava-job: {gen.config.name}: lava-run --job-id {job_id} ...", flush=True)
        code, log_path = run_one(gen, job_id)
        check = lavacheck.check_file(log_path, gen.config, gen.disk_map)
        check.lava_run_exit = code
        with open(os.path.join(gen.out_dir, "lava-check.txt"), "w", encoding="utf-8") as f:
            f.write(lavacheck.format_check(check, log_path) + "\n")
        print(lavacheck.format_check(check, _shown(log_path)), flush=True)
        outcomes.append(check)
    print()
    print(lavacheck.summary_table(outcomes))
    return 0 if all(c.ok for c in outcomes) else 1
