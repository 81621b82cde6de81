"""Build the Linux guest for the benchmark from Debian packages.

The guest is Debian's cloud kernel (NVMe and VT-d built in, so no modules)
plus an initramfs holding busybox (the init) and fio.  The init mounts
proc/sys/dev, waits for /dev/nvme0n1, reports the IOMMU state, runs the fio
grid given on the kernel command line and prints one `guest: ...` line per
event on the serial console, then powers off.

fio trimming.  Debian's fio links every ioengine's library directly (rbd,
rados, gluster, nbd, rdma, pmem), and those pull in ~84 MB of shared
libraries (ICU's data alone is 31 MB), which the kernel would have to
unpack on every boot.  Mode "stub" (default) keeps only what fio's libaio
path needs (libc, libm, libz, libaio, libnuma and their own dependencies)
and replaces each other directly linked library by a tiny stub with the
same soname that exports the symbols fio imports from it (functions trap
if ever called; they never are with ioengine=libaio).  Mode "ldd" copies
the full `ldd` set instead.  Either way the staged fio is run once on the
host through the staged loader before the initramfs is written: if the
stubs fail to build or fio fails, the build falls back to "ldd".
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile

PACKAGES = ("linux-image-cloud-amd64", "busybox-static", "fio")
APT_INSTALL = ("apt-get", "install", "-y", "--no-install-recommends")
BUSYBOX = "/bin/busybox"
FIO = "/usr/bin/fio"
KERNEL_GLOB_RE = re.compile(r"vmlinuz-(.+-cloud-amd64)\Z")
# Libraries fio's libaio path really uses; every other directly linked one is stubbed.
FIO_KEEP = ("libc.so.6", "libm.so.6", "libz.so.1", "libaio.so.1", "libnuma.so.1")
FORMAT_VERSION = 1          # bump when the layout or init script changes meaning
CONSOLE_MAJOR, CONSOLE_MINOR = 5, 1
CHECK_TIMEOUT = 60


class GuestError(RuntimeError):
    pass


# ------------------------------------------------------------------ packages

def missing_packages(packages) -> list:
    out = []
    for pkg in packages:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if r.returncode != 0 or "install ok installed" not in r.stdout:
            out.append(pkg)
    return out


def install_command(packages) -> str:
    return "apt-get update && " + " ".join(APT_INSTALL + tuple(packages))


def ensure_packages(packages, log=print) -> bool:
    """Install missing Debian packages when root; otherwise print the command. True when all present."""
    missing = missing_packages(packages)
    if not missing:
        return True
    if os.geteuid() != 0:
        log(f"bench: missing Debian packages: {' '.join(missing)}")
        log(f"bench: run as root:  {install_command(missing)}")
        return False
    log(f"bench: installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], list(APT_INSTALL) + missing):
        if subprocess.run(cmd, env=env).returncode != 0:
            log(f"bench: {' '.join(cmd)} failed")
            return False
    return not missing_packages(packages)


# -------------------------------------------------------------------- kernel

def _version_key(text: str) -> list:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p]


def find_kernel(boot_dir: str = "/boot") -> str:
    """The newest Debian cloud kernel in boot_dir."""
    try:
        names = [n for n in os.listdir(boot_dir) if KERNEL_GLOB_RE.match(n)]
    except OSError:
        names = []
    if not names:
        raise GuestError(f"no {boot_dir}/vmlinuz-*-cloud-amd64 (Debian package linux-image-cloud-amd64)")
    names.sort(key=lambda n: _version_key(KERNEL_GLOB_RE.match(n).group(1)))
    return os.path.join(boot_dir, names[-1])


# ----------------------------------------------------------- shared libraries

def ldd(binary: str) -> list:
    """[(soname, path)] of every library the loader maps for binary, loader included."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=CHECK_TIMEOUT)
    if r.returncode != 0:
        raise GuestError(f"ldd {binary} failed: {r.stderr.strip() or r.stdout.strip()}")
    return parse_ldd(r.stdout)


def parse_ldd(text: str) -> list:
    out = []
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (/\S+) \(0x[0-9a-f]+\)", line)
        if m:
            out.append((m.group(1), m.group(2)))
            continue
        m = re.match(r"(/\S+) \(0x[0-9a-f]+\)", line)           # the loader itself
        if m:
            out.append((os.path.basename(m.group(1)), m.group(1)))
        elif "=> not found" in line:
            raise GuestError(f"ldd: {line}")
    return out


def needed(binary: str) -> list:
    """DT_NEEDED sonames of binary, in order."""
    text = _objdump("-p", binary)
    return re.findall(r"^\s*NEEDED\s+(\S+)", text, re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class DynSymbol:
    name: str
    version: str          # "" when unversioned ("Base" or none)
    defined: bool
    is_object: bool
    size: int


def _objdump(flag: str, path: str) -> str:
    try:
        r = subprocess.run(["objdump", flag, path], capture_output=True, text=True,
                           timeout=CHECK_TIMEOUT)
    except FileNotFoundError:
        raise GuestError("objdump not found (Debian package binutils)")
    if r.returncode != 0:
        raise GuestError(f"objdump {flag} {path}: {r.stderr.strip()}")
    return r.stdout


def parse_dynsyms(text: str) -> list:
    """objdump -T output -> [DynSymbol]."""
    out = []
    for line in text.splitlines():
        left, tab, right = line.partition("\t")
        if not tab or not re.match(r"[0-9a-f]{16} ", left):
            continue
        flags, section = left[17:24], left[24:].strip()
        parts = right.split()
        if len(parts) < 2:
            continue
        size, name = int(parts[0], 16), parts[-1]
        version = parts[1].strip("()") if len(parts) == 3 else ""
        if version == "Base":
            version = ""
        out.append(DynSymbol(name=name, version=version, defined=section != "*UND*",
                             is_object="O" in flags, size=size))
    return out


def dynsyms(path: str) -> list:
    return parse_dynsyms(_objdump("-T", path))


def stub_source(imports: list, provider: list) -> tuple:
    """(C source, version script) for a stub exporting `imports` as `provider` defines them."""
    defs = {(s.name, s.version): s for s in provider if s.defined}
    by_name = {s.name: s for s in provider if s.defined}
    lines = ["/* generated by tools/bench/guest.py: stub for a library fio links but never calls */"]
    versions = {}
    for sym in sorted(imports, key=lambda s: (s.version, s.name)):
        real = defs.get((sym.name, sym.version)) or by_name.get(sym.name)
        if real and real.is_object:
            lines.append(f"char {sym.name}[{max(1, real.size)}];")
        else:
            lines.append(f"void {sym.name}(void) {{ __builtin_trap(); }}")
        if sym.version:
            versions.setdefault(sym.version, []).append(sym.name)
    script = "".join(f"{v} {{ global: {'; '.join(sorted(names))}; }};\n"
                     for v, names in sorted(versions.items()))
    return "\n".join(lines) + "\n", script


def build_stub(soname: str, imports: list, provider_path: str, out_dir: str) -> str:
    source, script = stub_source(imports, dynsyms(provider_path))
    base = os.path.join(out_dir, soname)
    with open(base + ".c", "w") as f:
        f.write(source)
    cmd = ["gcc", "-shared", "-fPIC", "-nostdlib", "-O0", f"-Wl,-soname,{soname}",
           "-o", base, base + ".c"]
    if script:
        with open(base + ".map", "w") as f:
            f.write(script)
        cmd.insert(-1, f"-Wl,--version-script={base}.map")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=CHECK_TIMEOUT)
    if r.returncode != 0:
        raise GuestError(f"building the {soname} stub failed: {r.stderr.strip()[:500]}")
    return base


@dataclasses.dataclass
class LibPlan:
    mode: str                 # "stub" | "ldd"
    files: list               # [(path in the guest, host source path)]
    stubs: list               # sonames replaced by stubs


def plan_libraries(mode: str, work_dir: str, binary: str = FIO) -> LibPlan:
    full = ldd(binary)
    if mode == "ldd":
        return LibPlan("ldd", [(path, path) for _, path in full], [])
    direct = needed(binary)
    keep = [s for s in direct if s in FIO_KEEP]
    stubbed = [s for s in direct if s not in FIO_KEEP]
    where = dict(full)
    files = []
    for soname, path in _closure_of(keep, where):
        files.append((path, path))
    loader = [p for s, p in full if s.startswith("ld-linux")]
    files += [(p, p) for p in loader if (p, p) not in files]
    imports = [s for s in dynsyms(binary) if not s.defined and s.name]
    provided = {}
    for soname in direct:
        for sym in dynsyms(where[soname]):
            if sym.defined:
                provided.setdefault((sym.name, sym.version), soname)
                provided.setdefault((sym.name, ""), soname)
    per_stub = {s: [] for s in stubbed}
    for sym in imports:
        owner = provided.get((sym.name, sym.version)) or provided.get((sym.name, ""))
        if owner in per_stub:
            per_stub[owner].append(sym)
    for soname in stubbed:
        stub = build_stub(soname, per_stub[soname], where[soname], work_dir)
        files.append((os.path.join(os.path.dirname(where["libc.so.6"]), soname), stub))
    return LibPlan("stub", files, stubbed)


def _closure_of(sonames: list, where: dict) -> list:
    """[(soname, path)] of sonames and everything they need, via ldd of each."""
    seen, order, todo = set(), [], list(sonames)
    while todo:
        soname = todo.pop(0)
        if soname in seen or soname.startswith("linux-vdso"):
            continue
        seen.add(soname)
        path = where.get(soname)
        if path is None:
            raise GuestError(f"{soname} is not in fio's ldd set")
        order.append((soname, path))
        for dep, dep_path in ldd(path):
            where.setdefault(dep, dep_path)
            if not dep.startswith("ld-linux"):
                todo.append(dep)
    return order


# -------------------------------------------------------------- staging check

def stage(files: list, root: str) -> None:
    for guest_path, src in files:
        dst = os.path.join(root, guest_path.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)


def check_staged_fio(root: str, loader: str, scratch_dir: str) -> str:
    """Run the staged fio with only the staged libraries; '' when it works, else why not."""
    lib_dirs = sorted({os.path.dirname(os.path.join(root, p.lstrip("/")))
                       for p in _walk(root) if ".so" in os.path.basename(p)})
    staged_loader = os.path.join(root, loader.lstrip("/"))
    base = [staged_loader, "--inhibit-cache", "--library-path", ":".join(lib_dirs)]
    fio = os.path.join(root, FIO.lstrip("/"))
    listing = subprocess.run(base + ["--list", fio], capture_output=True, text=True,
                             timeout=CHECK_TIMEOUT)
    outside = [ln.strip() for ln in listing.stdout.splitlines()
               if "=>" in ln and root not in ln and "vdso" not in ln]
    if listing.returncode != 0 or outside:
        return f"staged fio resolves libraries outside the initramfs: {outside or listing.stderr}"
    test_file = os.path.join(scratch_dir, "fio-check.img")
    with open(test_file, "wb") as f:
        f.truncate(1 << 20)
    try:
        r = subprocess.run(base + [fio, "--name=check", f"--filename={test_file}", "--rw=read",
                                   "--bs=4096", "--size=1M", "--ioengine=libaio", "--iodepth=4",
                                   "--output-format=json"],
                           capture_output=True, text=True, timeout=CHECK_TIMEOUT)
    finally:
        os.unlink(test_file)
    if r.returncode != 0:
        return f"staged fio failed (exit {r.returncode}): {r.stderr.strip()[:300]}"
    try:
        read = json.loads(r.stdout)["jobs"][0]["read"]
    except (ValueError, KeyError, IndexError):
        return "staged fio printed no JSON result"
    if read.get("io_bytes") != 1 << 20:
        return f"staged fio read {read.get('io_bytes')} bytes, expected 1 MiB"
    return ""


def _walk(root: str):
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield os.path.relpath(os.path.join(dirpath, n), root)


# ----------------------------------------------------------------- initramfs

INIT_SCRIPT = r"""#!/bin/sh
# proofboot benchmark guest init (generated by tools/bench/guest.py).
# Every line meant for the host starts with "guest: ".
export PATH=/bin:/usr/bin
/bin/busybox --install -s /bin 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "guest: $*"; }
fail() { say error "$@"; poweroff -f; sleep 10; }
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1"=*) echo "${w#*=}";; esac; done; }
say start uptime=$(up) kernel=$(uname -r)
BS=$(arg bench.bs); QD=$(arg bench.qd); MS=$(arg bench.ms)
[ -n "$BS" ] && [ -n "$QD" ] && [ -n "$MS" ] || fail reason=no-grid-on-command-line
DEV=/dev/nvme0n1
Q=/sys/block/nvme0n1/queue
i=0
while [ ! -b $DEV ]; do
    i=$((i + 1)); [ $i -gt 3000 ] && fail reason=no-nvme0n1-after-30s
    usleep 10000
done
# Multi-queue NVMe gets no I/O scheduler on real machines; with one vCPU there is one
# I/O queue and Debian would pick mq-deadline, capping nr_requests at 256.
echo none > $Q/scheduler 2>/dev/null
say nvme-ready uptime=$(up) scheduler=$(sed 's/.*\[\(.*\)\].*/\1/' $Q/scheduler) nr_requests=$(cat $Q/nr_requests) max_hw_sectors_kb=$(cat $Q/max_hw_sectors_kb) lba_size=$(cat $Q/logical_block_size) sectors=$(cat /sys/block/nvme0n1/size)
md5=$(dd if=$DEV bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
say first-io uptime=$(up) offset=0 bytes=1048576 md5=$md5
pci=$(readlink -f /sys/block/nvme0n1/device/device)
if [ -e $pci/iommu_group ]; then
    say iommu pci=${pci##*/} group=$(basename $(readlink $pci/iommu_group)) type=$(cat $pci/iommu_group/type)
else
    say iommu pci=${pci##*/} group=none type=none
fi
dmesg | grep -i -e dmar -e iommu | while read -r l; do say dmesg "$l"; done
for bs in $(echo $BS | tr , ' '); do
    for qd in $(echo $QD | tr , ' '); do
        # max: one below nr_requests.  With all 1023 tags in flight QEMU 7.2's nvme
        # (shadow doorbells, which Linux enables on it) can stall until the driver's
        # 30 s timeout; 1022 never did (docs/benchmark.md).
        [ "$qd" = max ] && qd=$(( $(cat $Q/nr_requests) - 1 ))
        out=$(fio --name=p --filename=$DEV --direct=1 --ioengine=libaio --rw=read --bs=$bs --iodepth=$qd --time_based --runtime=${MS}ms --output-format=json 2>/tmp/fio.err)
        rc=$?
        if [ $rc = 0 ]; then
            printf 'guest: fio bs=%s qd=%s json=%s\n' "$bs" "$qd" "$(printf %s "$out" | tr -d '\n')"
        else
            say fio-failed bs=$bs qd=$qd rc=$rc msg=$(head -c 300 /tmp/fio.err | tr ' \n' '__')
        fi
    done
done
# The driver's warnings (timeouts, aborts, resets) are below the quiet console level.
dmesg | grep -i -e nvme -e 'i/o error' | grep -v -i 'iommu group' | tail -n 40 | while read -r l; do say kmsg "$l"; done
say done uptime=$(up)
poweroff -f
sleep 10
"""


class Cpio:
    """A newc cpio archive built in memory (so device nodes need no root)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev=(0, 0)) -> None:
        name_bytes = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name_bytes), 0)
        self.ino += 1
        self.buf.write(b"070701" + b"".join(b"%08X" % v for v in fields) + name_bytes)
        self._pad()
        self.buf.write(data)
        self._pad()

    def _pad(self):
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def directory(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data: bytes, mode=0o755):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target: str):
        self._entry(name, 0o120777, target.encode())

    def char_device(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def finish(self) -> bytes:
        self.ino = 0
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def cpio_image(files: list, init_script: str = INIT_SCRIPT) -> bytes:
    """The initramfs archive: init, busybox, /dev/console and the staged files."""
    archive = Cpio()
    dirs = {"bin", "dev", "proc", "sys", "tmp", "usr", "usr/bin"}
    for guest_path, _ in files:
        parts = guest_path.strip("/").split("/")[:-1]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    for d in sorted(dirs):
        archive.directory(d)
    archive.char_device("dev/console", CONSOLE_MAJOR, CONSOLE_MINOR)
    archive.file("init", init_script.encode())
    with open(BUSYBOX, "rb") as f:
        archive.file("bin/busybox", f.read())
    archive.symlink("bin/sh", "busybox")
    for guest_path, src in sorted(files):
        with open(src, "rb") as f:
            archive.file(guest_path.lstrip("/"), f.read())
    return archive.finish()


# --------------------------------------------------------------------- build

@dataclasses.dataclass
class Guest:
    kernel: str
    initramfs: str
    lib_mode: str
    stubs: list
    initramfs_bytes: int
    unpacked_bytes: int
    cached: bool


def _source_key(mode: str, kernel: str) -> str:
    with open(__file__, "rb") as f:         # any change to this builder rebuilds
        builder = hashlib.sha256(f.read()).hexdigest()
    parts = [f"v{FORMAT_VERSION}", builder, mode, kernel]
    for path in (BUSYBOX, FIO, kernel) + tuple(p for _, p in ldd(FIO)):
        st = os.stat(path)
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def build(out_dir: str, mode: str = "stub", force: bool = False, log=print) -> Guest:
    """build/bench/initramfs.cpio.gz (cached by the sources' identity) and the kernel to boot."""
    for path in (BUSYBOX, FIO):
        if not os.path.exists(path):
            raise GuestError(f"{path} missing: install {' '.join(PACKAGES)}")
    kernel = find_kernel()
    os.makedirs(out_dir, exist_ok=True)
    initramfs = os.path.join(out_dir, "initramfs.cpio.gz")
    meta_path = os.path.join(out_dir, "initramfs.json")
    key = _source_key(mode, kernel)
    meta = _read_json(meta_path)
    if not force and meta.get("key") == key and os.path.exists(initramfs):
        return Guest(kernel, initramfs, meta["lib_mode"], meta["stubs"],
                     os.path.getsize(initramfs), meta["unpacked_bytes"], cached=True)
    with tempfile.TemporaryDirectory(prefix="guest-", dir=out_dir) as work:
        plan, why = _checked_plan(mode, work, log)
        if plan is None:
            raise GuestError(why)
        data = cpio_image(plan.files + [(FIO, FIO)])
    tmp = initramfs + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(data)
    os.replace(tmp, initramfs)
    meta = {"key": key, "kernel": kernel, "lib_mode": plan.mode, "stubs": plan.stubs,
            "unpacked_bytes": len(data), "files": [g for g, _ in plan.files]}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
    return Guest(kernel, initramfs, plan.mode, plan.stubs, os.path.getsize(initramfs),
                 len(data), cached=False)


def _checked_plan(mode: str, work: str, log):
    """The library plan whose staged fio really runs; stub mode falls back to ldd."""
    why = ""
    for attempt in ([mode, "ldd"] if mode == "stub" else [mode]):
        stage_root = os.path.join(work, f"root-{attempt}")
        try:
            plan = plan_libraries(attempt, work)
            stage(plan.files + [(FIO, FIO)], stage_root)
            loader = next(g for g, _ in plan.files if "ld-linux" in g)
            why = check_staged_fio(stage_root, loader, work)
        except (GuestError, OSError, subprocess.SubprocessError, StopIteration) as e:
            why = f"{type(e).__name__}: {e}"
        if not why:
            return plan, ""
        log(f"bench: guest library mode {attempt} does not work: {why}")
    return None, why


def _read_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def kernel_cmdline(grid_bs, grid_qd, ms: int, iommu: bool) -> str:
    # no_timer_check: under TCG on a loaded host the kernel's boot-time check that the
    # timer interrupt arrives through the IO-APIC can miss its window; with intel_iommu=on
    # it then panics ("timer doesn't work through Interrupt-remapped IO-APIC", seen here
    # with 8 jobs on 2 cores).  The check proves nothing the benchmark needs.
    words = ["console=ttyS0", "quiet", "panic=-1", "no_timer_check",
             "bench.bs=" + ",".join(str(b) for b in grid_bs),
             "bench.qd=" + ",".join(str(q) for q in grid_qd),
             f"bench.ms={ms}"]
    if iommu:
        words.append("intel_iommu=on")
    return " ".join(words)
