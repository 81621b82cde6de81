"""Boot the proofboot ISO under a matrix of QEMU configurations and check each log.

The matrix is data (tests/matrix.toml, format in docs/tools.md).  For each
selected configuration this module creates the disk images (cached by spec
hash), builds the QEMU command line, runs it under a hard timeout in its own
process group, then checks the console log with proofcheck (built-in checks
plus the configuration's expectations) and the firmware's exit code.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fnmatch
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib

from proofboot import diskimage
from proofboot import prooflog
from proofboot import proofcheck
from proofboot import reports
from proofboot import repo
from proofboot import witness

REPO_ROOT = repo.ROOT
DEFAULT_MATRIX = os.path.join(REPO_ROOT, "tests", "matrix.toml")
DEFAULT_ISO = os.path.join(REPO_ROOT, "build", "proofboot.iso")
DEFAULT_OUT = os.path.join(REPO_ROOT, "build", "matrix")
OVMF = "/usr/share/ovmf/OVMF.fd"
FW_CFG_OPTIONS = "opt/proofboot/cmdline"
DEBUG_EXIT_DEVICE = "isa-debug-exit,iobase=0xf4,iosize=0x04"

# isa-debug-exit turns the value V written by the firmware into exit status (V << 1) | 1.
EXIT_CODES = {33: "PASS", 35: "FAIL", 37: "SKIP"}
TIMEOUT_EXIT_CODES = (124, 137)     # timeout(1): timed out / had to SIGKILL
KILL_GRACE_SECONDS = 5
# iso/grub.cfg writes 19 to isa-debug-exit when GRUB cannot load or start the ELF.
GRUB_GAVE_UP_EXIT = 39
QEMU_STARTUP_FAILURE = 1            # QEMU's exit status for a bad command line or device
# Outcomes that are not a firmware verdict.
NO_VERDICT = "NO-VERDICT"
TIMEOUT = "TIMEOUT"
QEMU_ERROR = "QEMU-ERROR"

# How a configuration's run ends (key ends_by): through isa-debug-exit with the verdict code
# (the default, end=auto), or by the machine itself after the verdict (end=poweroff /
# end=reboot): QEMU then exits 0 (-no-reboot turns a reset into an exit) and a QEMU trace
# proves which it was.
ENDS_BY = ("debug-exit", "poweroff", "reboot")
QEMU_CLEAN_EXIT = 0
# qemu_system_shutdown_request reason=6: SHUTDOWN_CAUSE_GUEST_SHUTDOWN (ACPI S5).
TRACE_GUEST_SHUTDOWN = re.compile(r"^qemu_system_shutdown_request reason=6$")
# The last register write before the reset: ICH9's reset control (0xCF9) or the 8042.
TRACE_RESET_WRITE = re.compile(r"^memory_region_ops_write .* name '(lpc-reset-control|kbd|"
                               r"i8042-cmd|piix-reset-control|rcr)'$")
TRACE_EVENTS = {"poweroff": ["qemu_system_shutdown_request"],
                "reboot": ["qemu_system_shutdown_request", "memory_region_ops_write"]}

# Verdicts a configuration accepts when its expectations name none: anything but FAIL.
DEFAULT_VERDICTS = ("PASS", "SKIP")

SECTOR_SIZE = 512                   # blkdebug's "sector" unit
LBA_SIZE_MAX = 2 << 20              # QEMU 7.2 nvme-ns: logical_block_size up to 2 MiB
BLKDEBUG_EIO = 5

# Where a controller sits: on the root complex (default), behind its own PCIe
# root port, or behind a switch (root port -> upstream -> downstream port).
# Any other value is the id of a bus the configuration's own devices create.
BUS_ROOT_PORT = "root-port"
BUS_SWITCH = "switch"
# pcie-root-port / xio3130-downstream need a (chassis, slot) pair unique in
# the machine; these stay clear of small numbers a user's devices may use.
ROOT_PORT_CHASSIS_BASE = 64
DOWNSTREAM_CHASSIS_BASE = 128
TIMEOUT_MAX_SECONDS = 24 * 3600     # a longer "timeout" is a typo, not a plan
NSID_MAX = 0xFFFFFFFE               # 0 and 0xFFFFFFFF are not namespace ids


class MatrixError(ValueError):
    """The matrix file or the command line is invalid (usage error, exit 2)."""


def qemu_escape(value: str) -> str:
    """QEMU option values: a literal ',' is written ',,'."""
    return str(value).replace(",", ",,")


# ---------------------------------------------------------------- the matrix

@dataclasses.dataclass
class Namespace:
    nsid: int
    lba_size: int
    spec: diskimage.DiskSpec | None      # generated image, or None for a user image
    image: str | None = None             # user image path (spec None)
    read_errors: tuple = ()              # ((first_lba, count), ...) injected with blkdebug
    ms: int = 0                          # metadata bytes per block (nvme-ns ms=)
    mset: int = 0                        # 1: extended LBAs (metadata after each block's data)
    pi: int = 0                          # protection information type 0..3 (nvme-ns pi=)
    props: str = ""                      # extra nvme-ns properties, "a=b,c=d" (e.g. zoned=true)

    def device_props(self) -> str:
        """The nvme-ns properties beyond drive/nsid/block sizes."""
        out = []
        if self.ms:
            out += [f"ms={self.ms}", f"mset={self.mset}", f"pi={self.pi}"]
        if self.props:
            out.append(self.props)
        return "".join("," + p for p in out)


@dataclasses.dataclass
class Controller:
    serial: str
    namespaces: list
    props: str = ""                      # extra nvme device properties, "a=b,c=d"
    subsys: str = ""                     # NVM subsystem id: its namespaces are shared by its controllers
    bus: str = ""                        # "", BUS_ROOT_PORT, BUS_SWITCH or a bus id


@dataclasses.dataclass
class Config:
    name: str
    groups: tuple = ()
    machine: str = "q35"
    memory: str = "256M"
    firmware: str = "bios"               # bios | uefi
    options: str = ""                    # firmware options (fw_cfg opt/proofboot/cmdline)
    options_file: str = ""               # or: that fw_cfg file's bytes from this file (absolute)
    timeout: float = 120.0
    devices: tuple = ()                  # extra -device arguments
    qemu_args: tuple = ()                # raw extra QEMU arguments
    controllers: list = dataclasses.field(default_factory=list)
    boot: str = "cdrom"                  # cdrom (the ISO) | pxe (the TFTP tree `make netboot` writes)
    console_port: int = 1                # the log is captured from COM<n>; lower ports get -serial null
    acpi_tables: tuple = ()              # extra ACPI tables (absolute paths), QEMU -acpitable file=
    expect: proofcheck.Expectations = dataclasses.field(default_factory=proofcheck.Expectations)
    description: str = ""
    ends_by: str = "debug-exit"          # ENDS_BY
    witness: str = witness.EXPECT_CLEAN  # what QEMU's trace must show (docs/witness.md)

    @property
    def expected_verdict(self) -> str:
        return "/".join(self.expect.verdict or DEFAULT_VERDICTS)


_CONFIG_KEYS = {"name", "groups", "machine", "memory", "firmware", "options", "options_file", "timeout",
                "devices", "qemu_args", "nvme", "expect", "expect_file", "description",
                "console_port", "acpi_tables", "boot", "ends_by",
                "witness"}
BOOT_KINDS = ("cdrom", "pxe")
# What QEMU's built-in DHCP hands a PXE client: grub-mknetdir's core image per firmware.
PXE_BOOTFILES = {"bios": "boot/grub/i386-pc/core.0", "uefi": "boot/grub/x86_64-efi/core.efi"}
COM_PORTS = 4
_DEFAULT_KEYS = _CONFIG_KEYS - {"name", "nvme"}
_CTRL_KEYS = {"serial", "ns", "props", "bus", "size", "lba_size", "seed", "fill", "ranges",
              "read_error", "image", "nsid", "subsys", "ms", "mset", "pi", "ns_props"}
_NS_KEYS = {"nsid", "size", "lba_size", "seed", "fill", "ranges", "read_error", "image",
            "ms", "mset", "pi", "ns_props"}


def _check_keys(table: dict, allowed: set, where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise MatrixError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _str_list(value, where: str) -> tuple:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MatrixError(f"{where}: must be a string or a list of strings")
    return tuple(value)


def number_in_range(value, where: str, low, high, integer: bool = True):
    """A TOML/CLI number that must lie in [low, high]; anything else is a MatrixError naming where."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MatrixError(f"{where}: {value!r} is not a number")
    try:
        number = int(value, 0) if integer and isinstance(value, str) else \
            (int(value) if integer else float(value))
    except (TypeError, ValueError, OverflowError):
        raise MatrixError(f"{where}: {value!r} is not {'an integer' if integer else 'a number'}")
    if integer and isinstance(value, float) and value != number:
        raise MatrixError(f"{where}: {value!r} is not an integer")
    if not (low <= number <= high):       # also false for NaN
        raise MatrixError(f"{where}: {value!r} is outside {low:g}..{high:g}")
    return number


def positive_timeout(value, where: str) -> float:
    """Seconds > 0: timeout 0 would mean no limit at all, and a hang would block CI forever."""
    seconds = number_in_range(value, where, 0, TIMEOUT_MAX_SECONDS, integer=False)
    if seconds <= 0:
        raise MatrixError(f"{where}: {value!r} must be more than 0 seconds (a hang would never end)")
    return seconds


def lba_size_value(value, where: str) -> int:
    size = number_in_range(value, where, SECTOR_SIZE, LBA_SIZE_MAX)
    if size & (size - 1):
        raise MatrixError(f"{where}: {value!r} is not a power of two")
    return size


def _ranges(value, where: str) -> tuple:
    """read_error / ranges: {first_lba=, count=} or a list of them, or [[first, count], ...]."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and set(item) <= {"first_lba", "count"} and "first_lba" in item:
            first, count = item["first_lba"], item.get("count", 1)
        elif isinstance(item, list) and len(item) == 2:
            first, count = item
        else:
            raise MatrixError(f"{where}: expected {{first_lba=N, count=N}} or [first_lba, count]")
        out.append((number_in_range(first, f"{where}.first_lba", 0, 2 ** 64 - 1),
                    number_in_range(count, f"{where}.count", 1, 2 ** 32)))
    return tuple(out)


def _format_keys(table: dict, where: str) -> dict:
    """ms / mset / pi / ns_props: the namespace format QEMU's nvme-ns emulates."""
    fmt = {"ms": int(table.get("ms", 0)), "mset": int(table.get("mset", 0)),
           "pi": int(table.get("pi", 0)), "props": str(table.get("ns_props", ""))}
    if not 0 <= fmt["ms"] <= 0xffff or fmt["mset"] not in (0, 1) or not 0 <= fmt["pi"] <= 3:
        raise MatrixError(f"{where}: ms must be 0..65535, mset 0 or 1, pi 0..3")
    if (fmt["mset"] or fmt["pi"]) and not fmt["ms"]:
        raise MatrixError(f"{where}: mset and pi need metadata (ms)")
    return fmt


def _namespace(table: dict, index: int, config_name: str, serial: str,
               base_dir: str, where: str) -> Namespace:
    nsid = number_in_range(table.get("nsid", index + 1), f"{where}.nsid", 1, NSID_MAX)
    lba_size = lba_size_value(table.get("lba_size", SECTOR_SIZE), f"{where}.lba_size")
    read_errors = _ranges(table["read_error"], f"{where}.read_error") if "read_error" in table else ()
    fmt = _format_keys(table, where)
    if "image" in table:
        image = os.path.join(base_dir, table["image"])
        return Namespace(nsid=nsid, lba_size=lba_size, spec=None, image=image,
                         read_errors=read_errors, **fmt)
    if "size" not in table:
        raise MatrixError(f"{where}: a namespace needs size (or image)")
    try:
        spec = diskimage.DiskSpec(
            size=diskimage.parse_size(table["size"]), lba_size=lba_size,
            seed=str(table.get("seed", f"{config_name}/{serial}/{nsid}")),
            fill=table.get("fill", "auto"),
            ranges=_ranges(table["ranges"], f"{where}.ranges") if "ranges" in table else (),
            metadata_size=fmt["ms"])
    except ValueError as e:
        raise MatrixError(f"{where}: {e}")
    for first, count in read_errors:
        if first < 0 or count <= 0 or first + count > spec.lbas:
            raise MatrixError(f"{where}: read_error {first}+{count} is outside the disk")
    return Namespace(nsid=nsid, lba_size=lba_size, spec=spec, read_errors=read_errors, **fmt)


def _controller(table: dict, index: int, config_name: str, base_dir: str, where: str) -> Controller:
    _check_keys(table, _CTRL_KEYS, where)
    serial = str(table.get("serial", f"pb{index}"))
    if "ns" in table:
        if set(table) & (_NS_KEYS - {"nsid"}):
            raise MatrixError(f"{where}: give namespace keys either inline or in [[...ns]], not both")
        ns_tables = table["ns"]
    else:
        ns_tables = [{k: v for k, v in table.items() if k in _NS_KEYS}]
    namespaces = []
    for i, ns in enumerate(ns_tables):
        _check_keys(ns, _NS_KEYS, f"{where}.ns[{i}]")
        namespaces.append(_namespace(ns, i, config_name, serial, base_dir, f"{where}.ns[{i}]"))
    nsids = [n.nsid for n in namespaces]
    if len(set(nsids)) != len(nsids):
        raise MatrixError(f"{where}: duplicate nsid in {nsids}")
    return Controller(serial=serial, namespaces=namespaces, props=str(table.get("props", "")),
                      subsys=str(table.get("subsys", "")),
                      bus=_bus(table.get("bus", ""), f"{where}.bus"))


def _bus(value, where: str) -> str:
    """root-port, switch, "" (root complex) or a bus id (letters, digits, - _ .)."""
    if not isinstance(value, str) or not all(c.isalnum() or c in "-_." for c in value):
        raise MatrixError(f"{where}: {value!r}: use {BUS_ROOT_PORT}, {BUS_SWITCH} or a bus id")
    return value


def _load_expect(table: dict, base_dir: str, where: str) -> proofcheck.Expectations:
    exp = proofcheck.Expectations()
    try:
        if "expect_file" in table:
            exp = proofcheck.load_expectations(os.path.join(base_dir, table["expect_file"]))
        if "expect" in table:
            exp = exp.merged(proofcheck.expectations_from_dict(table["expect"], where))
    except proofcheck.ExpectationError as e:
        raise MatrixError(str(e))
    return exp


def config_from_dict(table: dict, defaults: dict, base_dir: str, where: str) -> Config:
    _check_keys(table, _CONFIG_KEYS, where)
    merged = {**defaults, **table}
    name = merged.get("name")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise MatrixError(f"{where}: name must be a non-empty string without '/'")
    firmware = merged.get("firmware", "bios")
    if firmware not in ("bios", "uefi"):
        raise MatrixError(f"{where}: firmware must be bios or uefi")
    ends_by = merged.get("ends_by", "debug-exit")
    if ends_by not in ENDS_BY:
        raise MatrixError(f"{where}: ends_by must be one of {', '.join(ENDS_BY)}")
    controllers = [_controller(c, i, name, base_dir, f"{name}.nvme[{i}]")
                   for i, c in enumerate(table.get("nvme", []))]
    # Controllers of one NVM subsystem share its serial (QEMU 7.2 requires it); others may not.
    serials = [c.serial for c in controllers if not c.subsys]
    serials += sorted({(c.subsys, c.serial) for c in controllers if c.subsys})
    serials = [s if isinstance(s, str) else s[1] for s in serials]
    if len(set(serials)) != len(serials):
        raise MatrixError(f"{where}: duplicate controller serial in {serials}")
    boot = merged.get("boot", "cdrom")
    if boot not in BOOT_KINDS:
        raise MatrixError(f"{where}: boot must be one of {', '.join(BOOT_KINDS)}")
    console_port = merged.get("console_port", 1)
    if not isinstance(console_port, int) or isinstance(console_port, bool) or \
            not 1 <= console_port <= COM_PORTS:
        raise MatrixError(f"{where}: console_port must be 1 to {COM_PORTS} (COM1-COM4)")
    acpi_tables = tuple(os.path.join(base_dir, t) for t in
                        _str_list(merged.get("acpi_tables", []), f"{where}.acpi_tables"))
    default_exp = _load_expect(defaults, base_dir, "defaults")
    exp = default_exp.merged(_load_expect(table, base_dir, f"{name}.expect"))
    if exp.verdict is None:
        exp.verdict = DEFAULT_VERDICTS
    if merged.get("witness", witness.EXPECT_CLEAN) not in witness.EXPECTATIONS:
        raise MatrixError(f"{where}: witness must be one of {', '.join(witness.EXPECTATIONS)}")
    options_file = str(merged.get("options_file", ""))
    if options_file and merged.get("options"):
        raise MatrixError(f"{where}: options and options_file are exclusive")
    return Config(
        name=name, groups=_str_list(merged.get("groups", []), f"{where}.groups"),
        machine=str(merged.get("machine", "q35")), memory=str(merged.get("memory", "256M")),
        firmware=firmware, options=str(merged.get("options", "")),
        options_file=os.path.join(base_dir, options_file) if options_file else "",
        timeout=positive_timeout(merged.get("timeout", 120), f"{where}.timeout"),
        devices=_str_list(merged.get("devices", []), f"{where}.devices"),
        qemu_args=_str_list(merged.get("qemu_args", []), f"{where}.qemu_args"),
        controllers=controllers, boot=boot, console_port=console_port, acpi_tables=acpi_tables,
        expect=exp, description=str(merged.get("description", "")),
        ends_by=ends_by, witness=merged.get("witness", witness.EXPECT_CLEAN))


def load_matrix_text(text: str, base_dir: str = REPO_ROOT, source: str = "matrix") -> list:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MatrixError(f"{source}: {e}")
    _check_keys(data, {"defaults", "config"}, source)
    defaults = data.get("defaults", {})
    _check_keys(defaults, _DEFAULT_KEYS, f"{source}: defaults")
    configs = [config_from_dict(c, defaults, base_dir, f"{source}: config[{i}]")
               for i, c in enumerate(data.get("config", []))]
    names = [c.name for c in configs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MatrixError(f"{source}: duplicate configuration name(s) {dupes}")
    return configs


def load_matrix(path: str) -> list:
    """Configurations of a matrix file; paths inside are relative to the repository root."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise MatrixError(str(e))
    return load_matrix_text(text, REPO_ROOT, path)


def select(configs: list, patterns: list) -> list:
    """Configurations whose name or one of whose groups matches a glob (all when none given)."""
    if not patterns:
        return list(configs)
    chosen = [c for c in configs
              if any(fnmatch.fnmatchcase(c.name, p) or
                     any(fnmatch.fnmatchcase(g, p) for g in c.groups) for p in patterns)]
    unmatched = [p for p in patterns
                 if not any(fnmatch.fnmatchcase(c.name, p) or
                            any(fnmatch.fnmatchcase(g, p) for g in c.groups) for c in configs)]
    if unmatched:
        raise MatrixError(f"no configuration or group matches {', '.join(unmatched)}")
    return chosen


def add_user_disk(config: Config, spec: str, index: int) -> None:
    """--disk IMG[,lba_size=N][,serial=S][,nsid=N][,bus=B]: one more controller backed by the
    user's image; bus= places it behind a root port, a switch or a bus of your --qemu-arg devices."""
    path, *opts = spec.split(",")
    values = {"lba_size": "512", "serial": f"user{index}", "nsid": "1", "bus": ""}
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep or key not in values:
            raise MatrixError(f"--disk {spec}: options are lba_size=, serial=, nsid=, bus=")
        values[key] = value
    if not os.path.isfile(path):
        raise MatrixError(f"--disk {spec}: {path} is not a file")
    ns = Namespace(nsid=number_in_range(values["nsid"], f"--disk {spec}: nsid", 1, NSID_MAX),
                   lba_size=lba_size_value(values["lba_size"], f"--disk {spec}: lba_size"),
                   spec=None, image=os.path.abspath(path))
    config.controllers.append(Controller(serial=values["serial"], namespaces=[ns],
                                         bus=_bus(values["bus"], f"--disk {spec}: bus")))


# -------------------------------------------------------------- command line

@dataclasses.dataclass
class RunPaths:
    out_dir: str          # per-configuration directory
    disk_dir: str         # shared image cache

    @property
    def log(self) -> str:
        return os.path.join(self.out_dir, "console.log")

    @property
    def qemu_output(self) -> str:
        return os.path.join(self.out_dir, "qemu-output.txt")

    @property
    def disk_map(self) -> str:
        return os.path.join(self.out_dir, "disks.toml")

    @property
    def trace(self) -> str:
        return os.path.join(self.out_dir, "qemu-trace.log")

    def blkdebug_config(self, ctrl: int, ns: Namespace) -> str:
        return os.path.join(self.out_dir, f"blkdebug-nvme{ctrl}-ns{ns.nsid}.conf")


def image_path(ns: Namespace, paths: RunPaths) -> str:
    if ns.spec is None:
        return ns.image
    return diskimage.cache_path(ns.spec, paths.disk_dir)


def blkdebug_text(ns: Namespace) -> str:
    """blkdebug rules: EIO on every read that touches the first sector of an LBA in the ranges."""
    sectors_per_lba = ns.lba_size // SECTOR_SIZE
    out = ["# generated by tools/matrix: read errors on LBAs "
           + ", ".join(f"[{f}, {f + c})" for f, c in ns.read_errors) + "\n"]
    for first, count in ns.read_errors:
        for lba in range(first, first + count):
            out.append("[inject-error]\n"
                       "event = \"read_aio\"\n"
                       "iotype = \"read\"\n"
                       f"errno = \"{BLKDEBUG_EIO}\"\n"
                       f"sector = \"{lba * sectors_per_lba}\"\n\n")
    return "".join(out)


def drive_arg(drive_id: str, image: str, blkdebug_conf: str | None) -> str:
    parts = [f"if=none,id={drive_id},format=raw,snapshot=on"]
    if blkdebug_conf:
        parts.append(f"file.driver=blkdebug,file.config={qemu_escape(blkdebug_conf)},"
                     f"file.image.filename={qemu_escape(image)}")
    else:
        parts.append(f"file={qemu_escape(image)}")
    return ",".join(parts)


def netboot_dir(iso: str) -> str:
    """The TFTP root `make netboot` writes beside the ISO (same ELF, same grub.cfg)."""
    return os.path.join(os.path.dirname(os.path.abspath(iso)), "netboot")


def build_command(config: Config, iso: str, paths: RunPaths, qemu: str = "qemu-system-x86_64",
                  extra_args=()) -> list:
    """The QEMU argument vector for one configuration (no timeout wrapper)."""
    cmd = [qemu, "-M", config.machine, "-m", config.memory,
           "-display", "none", "-no-reboot",
           "-device", DEBUG_EXIT_DEVICE,
           "-chardev", f"file,id=console,path={qemu_escape(paths.log)}"]
    cmd += ["-serial", "null"] * (config.console_port - 1) + ["-serial", "chardev:console"]
    for table in config.acpi_tables:
        cmd += ["-acpitable", f"file={qemu_escape(table)}"]
    if config.firmware == "uefi":
        cmd += ["-bios", OVMF]
    if config.boot == "pxe":
        cmd += ["-netdev", f"user,id=pxe0,tftp={qemu_escape(netboot_dir(iso))},"
                           f"bootfile={PXE_BOOTFILES[config.firmware]}",
                "-device", "e1000,netdev=pxe0", "-boot", "n"]
    else:
        cmd += ["-cdrom", iso, "-boot", "d"]
    if config.options:
        cmd += ["-fw_cfg", f"name={FW_CFG_OPTIONS},string={qemu_escape(config.options)}"]
    elif config.options_file:
        # Raw bytes (NULs, control bytes) that string= cannot carry.
        cmd += ["-fw_cfg", f"name={FW_CFG_OPTIONS},file={qemu_escape(config.options_file)}"]
    for device in config.devices:
        cmd += ["-device", device]
    subsystems = []
    for c_index, ctrl in enumerate(config.controllers):
        ctrl_id = f"nvme{c_index}"
        bus_args, bus = placement_devices(ctrl.bus, c_index)
        cmd += bus_args
        device = f"nvme,id={ctrl_id},serial={qemu_escape(ctrl.serial)}"
        if ctrl.subsys:
            # QEMU 7.2: every controller of a subsystem has the subsystem's serial, and a
            # namespace on one of them (shared=on, the default) is attached to all.
            if ctrl.subsys not in subsystems:
                subsystems.append(ctrl.subsys)
                cmd += ["-device", f"nvme-subsys,id={ctrl.subsys},nqn={ctrl.subsys}"]
            device += f",subsys={ctrl.subsys}"
        if bus:
            device += f",bus={bus}"
        if ctrl.props:
            device += f",{ctrl.props}"
        cmd += ["-device", device]
        for ns in ctrl.namespaces:
            drive_id = f"{ctrl_id}n{ns.nsid}"
            conf = paths.blkdebug_config(c_index, ns) if ns.read_errors else None
            cmd += ["-drive", drive_arg(drive_id, image_path(ns, paths), conf),
                    "-device", f"nvme-ns,bus={ctrl_id},drive={drive_id},nsid={ns.nsid},"
                               f"logical_block_size={ns.lba_size},"
                               f"physical_block_size={ns.lba_size}{ns.device_props()}"]
    for event in TRACE_EVENTS.get(config.ends_by, []):
        cmd += ["-trace", event]
    if config.ends_by in TRACE_EVENTS:
        cmd += ["-D", paths.trace]
    cmd += list(config.qemu_args) + list(extra_args)
    return cmd


def placement_devices(bus: str, index: int) -> tuple:
    """(-device arguments creating the ports, bus id for the controller) for Controller.bus."""
    if not bus:
        return [], ""
    if bus not in (BUS_ROOT_PORT, BUS_SWITCH):
        return [], bus
    port = f"pbrp{index}"
    args = ["-device", f"pcie-root-port,id={port},chassis={ROOT_PORT_CHASSIS_BASE + index},slot=0"]
    if bus == BUS_ROOT_PORT:
        return args, port
    upstream, downstream = f"pbup{index}", f"pbdn{index}"
    args += ["-device", f"x3130-upstream,id={upstream},bus={port}",
             "-device", f"xio3130-downstream,id={downstream},bus={upstream},"
                        f"chassis={DOWNSTREAM_CHASSIS_BASE + index},slot=0"]
    return args, downstream


def disk_map(config: Config, paths: RunPaths) -> list:
    return [proofcheck.Disk(path=image_path(ns, paths), serial=ctrl.serial, nsid=ns.nsid,
                            lba_size=ns.lba_size)
            for ctrl in config.controllers for ns in ctrl.namespaces]


def prepare(config: Config, paths: RunPaths) -> None:
    """Create the out dir, disk images (cached), blkdebug configs and the disk map."""
    os.makedirs(paths.out_dir, exist_ok=True)
    for c_index, ctrl in enumerate(config.controllers):
        for ns in ctrl.namespaces:
            if ns.spec is not None:
                made = diskimage.cached_image(ns.spec, paths.disk_dir)
                assert made == image_path(ns, paths)
            if ns.read_errors:
                with open(paths.blkdebug_config(c_index, ns), "w", encoding="utf-8") as f:
                    f.write(blkdebug_text(ns))
    proofcheck.write_disk_map(paths.disk_map, disk_map(config, paths))


# ------------------------------------------------------------------- running

@dataclasses.dataclass
class Result:
    config: Config
    outcome: str                 # PASS/FAIL/SKIP (verdict line) or NO-VERDICT/TIMEOUT/QEMU-ERROR
    ok: bool
    problems: list               # why not ok (strings), first the most telling
    exit_code: int | None
    wall: float
    report: proofcheck.Report | None = None
    log_path: str = ""
    qemu_output: str = ""
    witness: witness.WitnessReport | None = None     # None: run without --witness

    @property
    def counts(self) -> tuple:
        if not self.report:
            return (0, 0, 0)
        statuses = [r.fields.get("status") for r in self.report.results]
        return tuple(statuses.count(s) for s in ("PASS", "FAIL", "SKIP"))


def run_qemu(cmd: list, timeout: float, output_path: str):
    """Run cmd under timeout(1) in a new process group; (exit code, timed out, wall seconds)."""
    wrapped = ["timeout", f"--kill-after={KILL_GRACE_SECONDS}", f"{timeout:g}"] + cmd
    start = time.monotonic()
    with open(output_path, "wb") as out:
        try:
            proc = subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            out.write(f"cannot start {wrapped[0]}: {e}\n".encode())
            return None, False, time.monotonic() - start
        with _running_lock:
            _running.add(proc)
        try:
            timed_out = _wait(proc, start + timeout + 2 * KILL_GRACE_SECONDS)
        finally:
            with _running_lock:
                _running.discard(proc)
        code = proc.returncode
    wall = time.monotonic() - start
    return code, timed_out or code in TIMEOUT_EXIT_CODES, wall


def _wait(proc: subprocess.Popen, deadline: float) -> bool:
    """Wait for proc; past the deadline (timeout(1) itself stuck) kill its group. True if killed.

    A blocking wait, so the exit is seen when it happens: Popen.wait with a
    timeout polls with sleeps of up to 50 ms, which put every wall time on
    a 50 ms grid (the benchmark compares boots of 0.4-0.6 s).  A timer
    kills the group at the deadline instead.
    """
    killed = threading.Event()

    def kill_if_running():
        if proc.poll() is None:
            killed.set()
            _kill_group(proc)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), kill_if_running)
    timer.daemon = True
    timer.start()
    try:
        proc.wait()
    finally:
        timer.cancel()
    return killed.is_set()


_running = set()                    # Popen objects of QEMU runs in flight
_running_lock = threading.Lock()


def _kill_all_running() -> None:
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _read_text(path: str, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def classify(config: Config, exit_code: int | None, timed_out: bool, log_text_empty: bool,
             qemu_output: str, report: proofcheck.Report) -> tuple:
    """(outcome, ok, problems) from the exit code and the log checks."""
    problems = []
    verdict = report.verdict_status
    exit_verdict = EXIT_CODES.get(exit_code)
    if timed_out:
        outcome = TIMEOUT
        problems.append(f"timed out after {config.timeout:g}s" +
                        (f" (last verdict line says {verdict})" if verdict else ""))
    elif exit_code is None or (exit_code == QEMU_STARTUP_FAILURE and log_text_empty):
        outcome = QEMU_ERROR
        first = qemu_output.strip().splitlines()[0] if qemu_output.strip() else "no output"
        problems.append(f"QEMU failed to start (exit {exit_code}): {first}")
    elif verdict is None:
        outcome = NO_VERDICT
        if exit_verdict:
            how = f"firmware exited {exit_verdict} through isa-debug-exit"
        elif exit_code == GRUB_GAVE_UP_EXIT:
            how = f"QEMU exited {exit_code}: GRUB could not load or start proofboot.elf"
        elif exit_code < 0:
            how = f"{describe_exit(exit_code)} before the verdict line"
        else:
            how = f"QEMU exited {exit_code}: crash, triple fault or reset (no verdict line)"
        problems.append(how)
    elif config.ends_by != "debug-exit":
        outcome = verdict
        if exit_code != QEMU_CLEAN_EXIT:
            problems.append(f"exit code {exit_code}: end={config.ends_by} must leave QEMU with "
                            f"status {QEMU_CLEAN_EXIT} (after the verdict line {verdict})")
    else:
        outcome = verdict
        if exit_verdict != verdict:
            problems.append(f"{describe_exit(exit_code)} ({exit_verdict or 'not a verdict code'}) "
                            f"does not match the verdict line {verdict}")
    if outcome != QEMU_ERROR:       # an empty log says nothing more than QEMU's own message
        for f in proofcheck.sorted_findings(report.findings):
            if f.severity == "error":
                problems.append(f.format("console.log"))
    if problems:                    # what failed, and why, before the symptoms it caused
        problems[:0] = [proofcheck.describe_failed(r, "console.log")
                        for r in proofcheck.failed_tests(report)]
    return outcome, not problems, problems


def end_evidence(ends_by: str, trace_lines) -> list:
    """Problems with the QEMU trace of a run that must end by power-off or reset."""
    shutdown = last_reset_write = False
    for line in trace_lines:
        line = line.rstrip("\n")
        if TRACE_GUEST_SHUTDOWN.match(line):
            shutdown = True
        elif line.startswith("memory_region_ops_write"):
            last_reset_write = bool(TRACE_RESET_WRITE.match(line))
    if ends_by == "poweroff" and not shutdown:
        return ["no 'qemu_system_shutdown_request reason=6' (guest ACPI shutdown) in the QEMU "
                "trace: end=poweroff did not power the machine off"]
    if ends_by == "reboot" and (shutdown or not last_reset_write):
        return ["the QEMU trace does not end with a write to a reset register (ICH9 0xCF9 or the "
                "8042)" + (" but with a guest shutdown" if shutdown else "") +
                ": end=reboot did not reset the machine"]
    return []


def _trace_problems(config: Config, paths: "RunPaths") -> list:
    if config.ends_by not in TRACE_EVENTS:
        return []
    try:
        with open(paths.trace, encoding="latin-1") as f:
            return end_evidence(config.ends_by, f)
    except OSError as e:
        return [f"no QEMU trace for end={config.ends_by}: {e}"]


def describe_exit(code: int | None) -> str:
    """QEMU's end as people say it: a negative status is the signal that killed it."""
    if code is not None and code < 0:
        try:
            name = f" ({signal.Signals(-code).name})"
        except ValueError:
            name = ""
        return f"QEMU killed by signal {-code}{name}"
    return f"QEMU exited {code}"


def run_config(config: Config, iso: str, out_root: str, qemu: str = "qemu-system-x86_64",
               extra_args=(), disk_dir: str | None = None,
               with_witness: bool = False) -> Result:
    """Boot one configuration and check it; disk_dir: the image cache (default OUT/disks)."""
    paths = RunPaths(out_dir=os.path.join(out_root, config.name),
                     disk_dir=disk_dir or os.path.join(out_root, "disks"))
    prepare(config, paths)
    for stale in (paths.log, paths.qemu_output, paths.trace):
        if os.path.exists(stale):
            os.unlink(stale)
    if with_witness:
        extra_args = tuple(extra_args) + tuple(witness.qemu_args(paths.trace))
    cmd = build_command(config, iso, paths, qemu, extra_args)
    with open(os.path.join(paths.out_dir, "cmd.sh"), "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n# " + config.name + ": reproduce with a hard timeout\n"
                f"exec timeout {config.timeout:g} " + " ".join(shlex.quote(a) for a in cmd) + "\n")
    code, timed_out, wall = run_qemu(cmd, config.timeout, paths.qemu_output)
    qemu_output = _read_text(paths.qemu_output)
    try:
        with open(paths.log, "rb") as f:
            log_bytes = f.read()
    except OSError:
        log_bytes = b""
    log = prooflog.parse_text(log_bytes, path=paths.log)
    disks = proofcheck.DiskMap(disk_map(config, paths))
    report = proofcheck.check_log(log, config.expect, disks)
    outcome, ok, problems = classify(config, code, timed_out, not log_bytes.strip(),
                                     qemu_output, report)
    if outcome in EXIT_CODES.values():
        problems += _trace_problems(config, paths)
        ok = not problems
    seen = None
    if with_witness and outcome != QEMU_ERROR:
        seen = witness.witness_run(log, paths.trace, disks, config.controllers)
        witness.write_report(os.path.join(paths.out_dir, "witness.txt"), seen)
        problems += witness.judge(seen, config.witness)
        ok = not problems
    result = Result(config=config, outcome=outcome, ok=ok, problems=problems, exit_code=code,
                    wall=wall, report=report, log_path=paths.log, qemu_output=qemu_output,
                    witness=seen)
    _write_result_files(result, log, paths)
    return result


def _write_result_files(result: Result, log, paths: RunPaths) -> None:
    with open(os.path.join(paths.out_dir, "check.txt"), "w", encoding="utf-8") as f:
        for failed in proofcheck.failed_tests(result.report):
            f.write(proofcheck.describe_failed(failed, "console.log") + "\n")
        for finding in proofcheck.sorted_findings(result.report.findings):
            f.write(finding.format("console.log") + "\n")
        f.write(proofcheck.summary(result.report, log) + "\n")
    summary = {"config": result.config.name, "outcome": result.outcome, "ok": result.ok,
               "expected": result.config.expected_verdict, "exit_code": result.exit_code,
               "wall_seconds": round(result.wall, 3), "problems": result.problems,
               "passed_failed_skipped": list(result.counts)}
    if result.witness is not None:
        w = result.witness
        summary["witness"] = {"expected": result.config.witness, "checked": w.checked,
                              "backed": w.backed, "unbacked": w.unbacked,
                              "contradicted": w.contradicted,
                              "contradictions": len(w.contradictions)}
    with open(os.path.join(paths.out_dir, "result.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


def run_matrix(configs: list, iso: str, out_root: str, jobs: int, fail_fast: bool,
               qemu: str, extra_args=(), progress=print, with_witness: bool = False) -> list:
    """Run every configuration (jobs at a time); results in matrix order.

    fail_fast: after the first unexpected outcome no further configuration
    starts; those already running finish normally (so none is misreported).
    """
    cancel = threading.Event()
    results = {}
    total = len(configs)
    lock = threading.Lock()

    def one(config):
        if cancel.is_set():
            return None
        try:
            result = run_config(config, iso, out_root, qemu, extra_args, with_witness=with_witness)
        except (OSError, ValueError) as e:
            result = Result(config=config, outcome="ERROR", ok=False,
                            problems=[f"matrix could not run this configuration: {e}"],
                            exit_code=None, wall=0.0)
        if fail_fast and not result.ok:
            cancel.set()        # here, so that no worker starts another configuration
        return result

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(one, c): c for c in configs}
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            if result is None:
                continue
            with lock:
                results[result.config.name] = result
                progress(progress_line(result, len(results), total))
    except KeyboardInterrupt:
        cancel.set()
        _kill_all_running()     # QEMU runs in its own session: Ctrl-C does not reach it
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[c.name] for c in configs if c.name in results]


def progress_line(result: Result, done: int, total: int) -> str:
    width = len(str(total))
    state = "ok  " if result.ok else "FAIL"
    line = (f"[{done:>{width}}/{total}] {state} {result.config.name:<24} {result.outcome:<10} "
            f"(expected {result.config.expected_verdict}) {result.wall:6.1f}s")
    if result.witness is not None:
        line += f" witness {result.witness.cell()}"
    if not result.ok:
        shown = result.problems[:6]
        line += "".join(f"\n      {p}" for p in shown)
        if len(result.problems) > len(shown):
            line += f"\n      ... {len(result.problems) - len(shown)} more in {result.log_path}"
        line += f"\n      log: {result.log_path}"
    return line


def summary_table(results: list) -> str:
    witnessed = any(r.witness is not None for r in results)
    header = ("configuration", "verdict", "expected", "pass/fail/skip") + \
        (("witness c/b/u/x",) if witnessed else ()) + ("wall", "result")
    rows = []
    for r in results:
        seen = r.witness.cell() if r.witness is not None else "-"
        if r.witness is not None and r.config.witness != witness.EXPECT_CLEAN:
            seen += f" (expected {r.config.witness})"
        rows.append((r.config.name, r.outcome, r.config.expected_verdict,
                     "/".join(str(n) for n in r.counts)) + ((seen,) if witnessed else ()) +
                    (f"{r.wall:.1f}s", "OK" if r.ok else "FAIL"))
    lines = reports.text_table(header, rows)
    bad = sum(1 for r in results if not r.ok)
    lines.append(f"{len(results)} configuration(s), {len(results) - bad} OK, {bad} unexpected")
    if witnessed:
        lines.append("witness c/b/u/x: claims checked/backed/unbacked/contradicted "
                     "against QEMU's trace (docs/witness.md)")
    return "\n".join(lines)


def list_configs(configs: list) -> str:
    out = []
    for c in configs:
        nvme = ", ".join(f"{ctrl.serial}:" + "+".join(
            f"ns{ns.nsid}/{ns.lba_size}" + ("/err" if ns.read_errors else "")
            for ns in ctrl.namespaces) for ctrl in c.controllers) or "no nvme"
        extras = " ".join(c.devices)
        out.append(f"{c.name:<24} groups={','.join(c.groups) or '-':<20} {c.firmware:<4} "
                   f"expect={c.expected_verdict:<9} options={c.options or '-'!s:<22} "
                   f"{nvme}{' ' + extras if extras else ''}")
    return "\n".join(out)


# ----------------------------------------------------------------------- CLI

def parse_args(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="matrix",
        description="Boot the proofboot ISO in QEMU under each selected configuration and check "
                    "the console logs. Exit 0 when every outcome is as expected, 1 otherwise, "
                    "2 on usage error.")
    ap.add_argument("select", nargs="*", metavar="NAME|GROUP",
                    help="configuration names or groups (globs); default: all")
    ap.add_argument("--matrix", default=DEFAULT_MATRIX, help="matrix file (default tests/matrix.toml)")
    ap.add_argument("--iso", default=DEFAULT_ISO, help="ISO to boot (default build/proofboot.iso)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT, help="results and disk cache (default build/matrix)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="configurations run in parallel (default: CPU count)")
    ap.add_argument("--list", action="store_true", help="list the selected configurations and exit")
    ap.add_argument("--dry-run", action="store_true",
                    help="print each QEMU command line and exit (creates nothing)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--keep-going", dest="fail_fast", action="store_false", default=False,
                      help="run every configuration (default)")
    mode.add_argument("--fail-fast", dest="fail_fast", action="store_true",
                      help="stop starting configurations after the first unexpected outcome")
    ap.add_argument("--tap", metavar="FILE", help="write TAP version 13 results")
    ap.add_argument("--junit", metavar="FILE", help="write JUnit XML (a testcase per firmware test)")
    ap.add_argument("--disk", action="append", default=[], metavar="IMG[,lba_size=N][,serial=S]",
                    help="add an NVMe controller backed by your image (never written: snapshot=on) "
                         "to every selected configuration")
    ap.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                    help="extra QEMU argument for every selected configuration (repeatable; "
                         "use --qemu-arg=-foo for arguments starting with '-')")
    ap.add_argument("--options", dest="fw_options", metavar="STRING",
                    help="replace the firmware options of every selected configuration")
    ap.add_argument("--timeout", help="replace every configuration's timeout (seconds, > 0)")
    ap.add_argument("--adhoc", metavar="NAME",
                    help="ignore the matrix: run one configuration NAME made of the [defaults] "
                         "plus --disk/--qemu-arg/--options (built-in checks only)")
    ap.add_argument("--qemu", default="qemu-system-x86_64", help="QEMU binary")
    seen = ap.add_mutually_exclusive_group()
    seen.add_argument("--witness", dest="witness", action="store_const", const="on", default="off",
                      help="hold every proof line against QEMU's trace (docs/witness.md); "
                           "exit 2 when this QEMU has no trace backend")
    seen.add_argument("--witness-if-available", dest="witness", action="store_const", const="auto",
                      help="--witness when this QEMU has the trace events, else run without")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        number_in_range(args.jobs, "-j", 1, 1024)
        configs = selected_configs(args)
    except MatrixError as e:
        print(f"matrix: {e}", file=sys.stderr)
        return 2
    if args.list:
        print(list_configs(configs))
        return 0
    out_root = os.path.abspath(args.out_dir)
    iso = os.path.abspath(args.iso)
    if args.dry_run:
        for c in configs:
            paths = RunPaths(os.path.join(out_root, c.name), os.path.join(out_root, "disks"))
            cmd = build_command(c, iso, paths, args.qemu)
            print(f"# {c.name}\ntimeout {c.timeout:g} " + " ".join(shlex.quote(a) for a in cmd))
        return 0
    if not os.path.isfile(iso):
        print(f"matrix: no ISO at {iso} (build it with make, or pass --iso)", file=sys.stderr)
        return 2
    pxe = [c.name for c in configs if c.boot == "pxe"]
    if pxe and not os.path.isfile(os.path.join(netboot_dir(iso), PXE_BOOTFILES["bios"])):
        print(f"matrix: {', '.join(pxe)} boot from {netboot_dir(iso)}, which is missing "
              "(build it with make netboot)", file=sys.stderr)
        return 2
    if any(c.firmware == "uefi" for c in configs) and not os.path.isfile(OVMF):
        print(f"matrix: UEFI configurations need {OVMF} (Debian package ovmf)", file=sys.stderr)
        return 2
    with_witness = args.witness != "off" and witness.trace_available(args.qemu)
    if args.witness == "on" and not with_witness:
        print(f"matrix: --witness: {args.qemu} has no log trace backend with the witness's "
              "events (qemu -trace help)", file=sys.stderr)
        return 2
    print(f"matrix: {len(configs)} configuration(s), {args.jobs} at a time, ISO {iso}, "
          f"results in {out_root}, witness {'on' if with_witness else 'off'}", flush=True)
    try:
        results = run_matrix(configs, iso, out_root, args.jobs, args.fail_fast, args.qemu,
                             progress=lambda line: print(line, flush=True),
                             with_witness=with_witness)
    except KeyboardInterrupt:
        print("matrix: interrupted; QEMU processes killed", file=sys.stderr)
        return 130
    print()
    print(summary_table(results))
    if len(results) < len(configs):
        print(f"matrix: --fail-fast: {len(configs) - len(results)} configuration(s) not run")
    for path, render in ((args.tap, reports.tap), (args.junit, reports.junit)):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(render(results))
    ok = len(results) == len(configs) and all(r.ok for r in results)
    return 0 if ok else 1


def selected_configs(args) -> list:
    if args.adhoc:
        configs = load_matrix_text(_adhoc_matrix(args.matrix, args.adhoc), REPO_ROOT, "--adhoc")
    else:
        configs = select(load_matrix(args.matrix), args.select)
    for c in configs:
        for i, spec in enumerate(args.disk):
            add_user_disk(c, spec, i)
        if args.qemu_arg:
            c.qemu_args = tuple(c.qemu_args) + tuple(args.qemu_arg)
        if args.fw_options is not None:
            c.options = args.fw_options
        if args.timeout is not None:
            c.timeout = positive_timeout(args.timeout, "--timeout")
    if not configs:
        raise MatrixError("no configuration selected")
    return configs


def _adhoc_matrix(matrix_path: str, name: str) -> str:
    """A one-configuration matrix reusing the [defaults] of the matrix file (if readable)."""
    defaults = ""
    try:
        with open(matrix_path, "rb") as f:
            data = tomllib.load(f)
        kept = {k: v for k, v in data.get("defaults", {}).items() if k not in ("expect", "expect_file")}
        defaults = "[defaults]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in kept.items())
    except (OSError, tomllib.TOMLDecodeError):
        pass
    return defaults + f"\n[[config]]\nname = {json.dumps(name)}\ngroups = [\"adhoc\"]\n"
