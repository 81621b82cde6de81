#!/usr/bin/python3
"""Seed corpora for the libFuzzer harnesses in tests/fuzz.

    seeds.py capture [--iso build/proofboot.iso] [--elf build/proofboot.elf]
    seeds.py synth

`capture` boots the real firmware ISO in QEMU under a matrix of machines
(SeaBIOS and OVMF, q35 with and without intel-iommu, i440fx) with QEMU's
gdb stub, stops at the firmware's own call to mb2_parse() and dumps, via
the QEMU monitor: the multiboot2 information GRUB handed over, all guest
RAM (to walk the ACPI tables from the RSDP in that information), and the
PCI Express configuration space of buses 0 and 1 (ECAM).  When the firmware
has an NVMe driver that calls nvme_parse_id_ctrl / nvme_parse_id_ns /
nvme_parse_nsid_list, the 4096-byte pages it parses are dumped too.

`synth` writes the inputs QEMU cannot give us (cloud controller identities,
NVMe status words, option strings, proof values) from documented facts.

`real` copies tables of real machines from tests/unit/data/acpi-real
(linuxhw/ACPI, CC BY 4.0): one DMAR per distinct shape (structure types,
device scope types, path lengths, include-all, register base 0) for the
dmar harness, and the smallest AML table defining \_S5 (an SSDT) for
acpi_s5.

Every file written is listed in tests/fuzz/corpus/PROVENANCE.md with how it
was made.  Standard library only.
"""
import argparse
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
CORPUS = os.path.join(HERE, "corpus")
PROVENANCE = os.path.join(CORPUS, "PROVENANCE.md")
OVMF = "/usr/share/ovmf/OVMF.fd"
RAM_MB = 256
ECAM_BASE = 0xB0000000      # QEMU q35 PCIEXBAR as SeaBIOS and OVMF program it
ECAM_BUS_BYTES = 1 << 20
ECAM_BUSES = 2
PAGE = 4096
QEMU_TIMEOUT_S = 90

ACPI_HEADER = 36
RSDP_V2_LEN = 36
MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_NEW = 14, 15

# name -> extra QEMU arguments.  Each boots the real ISO; "disk" is replaced
# by a scratch raw image.
MACHINES = {
    "bios-q35": ["-M", "q35"],
    "bios-q35-iommu": ["-M", "q35", "-device", "intel-iommu"],
    "bios-q35-iommu-aw48-nvme": [
        "-M", "q35", "-device", "intel-iommu,aw-bits=48",
        "-drive", "if=none,id=d0,file=DISK,format=raw",
        "-device", "nvme,serial=pbseed0,drive=d0"],
    "bios-q35-iommu-devtlb-rootport": [
        "-M", "q35", "-device", "intel-iommu,device-iotlb=on",
        "-device", "pcie-root-port,id=rp0,chassis=1,slot=1",
        "-drive", "if=none,id=d0,file=DISK,format=raw",
        "-device", "nvme,serial=pbseed1,drive=d0,bus=rp0"],
    "bios-q35-amd-iommu": ["-M", "q35", "-device", "amd-iommu"],
    "bios-pc": ["-M", "pc"],
    "uefi-q35": ["-M", "q35", "-bios", OVMF],
    "uefi-q35-iommu-nvme4k": [
        "-M", "q35", "-bios", OVMF, "-device", "intel-iommu",
        "-drive", "if=none,id=d0,file=DISK,format=raw",
        "-device", "nvme,serial=pbseed2,drive=d0,logical_block_size=4096,physical_block_size=4096"],
}

GDB_SCRIPT = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
break mb2_parse
commands
  silent
  printf "MB2INFO 0x%lx\\n", $rdi
  monitor pmemsave 0 {ram_bytes:#x} "{out}/ram.bin"
  {ecam}
  continue
end
set $pb_n = 0
break nvme_parse_id_ctrl
commands
  silent
  eval "dump binary memory {out}/id_ctrl-%d.bin $rdi $rdi+4096", $pb_n
  set $pb_n = $pb_n + 1
  continue
end
break nvme_parse_id_ns
commands
  silent
  eval "dump binary memory {out}/id_ns-%d.bin $rdi $rdi+4096", $pb_n
  set $pb_n = $pb_n + 1
  continue
end
break nvme_parse_nsid_list
commands
  silent
  eval "dump binary memory {out}/nsid_list-%d-start%u-cap%u.bin $rdi $rdi+4096", $pb_n, $rdx, $r8
  set $pb_n = $pb_n + 1
  continue
end
continue
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_version():
    out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0].replace("QEMU emulator version ", "")


def boot_and_dump(iso, elf, machine_args, work):
    """Runs one machine under gdb; returns (mb2 info address, files dumped in work)."""
    port = free_port()
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    args = [a.replace("DISK", disk) for a in machine_args]
    is_q35 = "q35" in args
    ecam = (f'monitor pmemsave {ECAM_BASE:#x} {ECAM_BUSES * ECAM_BUS_BYTES:#x} "{work}/ecam.bin"'
            if is_q35 else "")
    script = os.path.join(work, "capture.gdb")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT.format(port=port, ram_bytes=RAM_MB << 20, out=work, ecam=ecam))
    qemu = subprocess.Popen(
        ["timeout", str(QEMU_TIMEOUT_S), "qemu-system-x86_64", "-m", f"{RAM_MB}M",
         "-display", "none", "-serial", f"file:{work}/serial.log", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-cdrom", iso, "-boot", "d", "-S", "-gdb", f"tcp:127.0.0.1:{port}"] + args,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        gdb = subprocess.run(["timeout", str(QEMU_TIMEOUT_S), "gdb", "-batch", "-nx", "-x", script,
                              elf], capture_output=True, text=True)
    finally:
        try:
            qemu.wait(timeout=QEMU_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
    info = None
    for line in gdb.stdout.splitlines():
        if line.startswith("MB2INFO "):
            info = int(line.split()[1], 16)
    if info is None or not os.path.exists(os.path.join(work, "ram.bin")):
        raise SystemExit(f"capture failed for {' '.join(args)}:\n{gdb.stdout}\n{gdb.stderr}")
    return info


# ------------------------------------------------------------------ decoding

def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def u64(b, off):
    return struct.unpack_from("<Q", b, off)[0]


def mb2_blob(ram, addr):
    total = u32(ram, addr)
    return ram[addr:addr + total]


def mb2_rsdp(info):
    """The RSDP copy in the ACPI new (preferred) or old tag."""
    found = {}
    at = 8
    while at + 8 <= len(info):
        tag, size = u32(info, at), u32(info, at + 4)
        if tag == 0 or size < 8:
            break
        if tag in (MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_NEW):
            found[tag] = info[at + 8:at + size]
        at += (size + 7) & ~7
    return found.get(MB2_TAG_ACPI_NEW) or found.get(MB2_TAG_ACPI_OLD)


def table_at(ram, addr):
    if addr == 0 or addr + ACPI_HEADER > len(ram):
        return None
    length = u32(ram, addr + 4)
    if length < ACPI_HEADER or addr + length > len(ram):
        return None
    data = ram[addr:addr + length]
    return data if sum(data) & 0xFF == 0 else None


def acpi_tables(ram, rsdp):
    """(roots, leaves): roots = [(sig, bytes, entry_size)], leaves = {addr: bytes}."""
    roots = []
    addrs = [(u32(rsdp, 16), 4)]
    if rsdp[15] >= 2 and len(rsdp) >= RSDP_V2_LEN and u64(rsdp, 24):
        addrs.append((u64(rsdp, 24), 8))
    leaves = {}
    for addr, width in addrs:
        root = table_at(ram, addr)
        if not root:
            continue
        entries = [int.from_bytes(root[o:o + width], "little")
                   for o in range(ACPI_HEADER, len(root), width)]
        roots.append((root, width, entries))
        for e in entries:
            t = table_at(ram, e)
            if t:
                leaves[e] = t
    return roots, leaves


def fix_checksum(buf, start, length, at):
    buf[start + at] = 0
    buf[start + at] = (-sum(buf[start:start + length])) & 0xFF


FADT_OFF_DSDT, FADT_OFF_X_DSDT = 40, 140


def fadt_dsdt_addr(fadt):
    """X_DSDT when present and non-zero, else DSDT (as src/lib/acpi_fadt.c reads them)."""
    if len(fadt) >= FADT_OFF_X_DSDT + 8 and u64(fadt, FADT_OFF_X_DSDT):
        return u64(fadt, FADT_OFF_X_DSDT)
    return u32(fadt, FADT_OFF_DSDT) if len(fadt) >= FADT_OFF_DSDT + 4 else 0


def dsdt_of(ram, leaves):
    for table in leaves.values():
        if table[:4] == b"FACP":
            return table_at(ram, fadt_dsdt_addr(table))
    return None


def relocated_acpi_image(rsdp, roots, leaves, dsdt):
    """The fuzz_acpi input: flag byte 0, then a small fake memory (RSDP at address 0)
    holding the captured tables and the DSDT, with only the pointers (RSDP to
    RSDT/XSDT, root entries, FADT to DSDT) and so those tables' checksums
    rewritten to the new addresses."""
    mem = bytearray(64)
    mem[:len(rsdp)] = rsdp
    dsdt_at = 0
    if dsdt:
        mem += bytes(-len(mem) % 8)
        dsdt_at = len(mem)
        mem += dsdt
    new_addr = {}
    for old in sorted(leaves):
        mem += bytes(-len(mem) % 8)
        at = new_addr[old] = len(mem)
        mem += leaves[old]
        if leaves[old][:4] == b"FACP" and dsdt_at:
            if len(leaves[old]) >= FADT_OFF_DSDT + 4 and u32(leaves[old], FADT_OFF_DSDT):
                struct.pack_into("<I", mem, at + FADT_OFF_DSDT, dsdt_at)
            if len(leaves[old]) >= FADT_OFF_X_DSDT + 8 and u64(leaves[old], FADT_OFF_X_DSDT):
                struct.pack_into("<Q", mem, at + FADT_OFF_X_DSDT, dsdt_at)
            fix_checksum(mem, at, len(leaves[old]), 9)
    for root, width, entries in roots:
        mem += bytes(-len(mem) % 8)
        at = len(mem)
        mem += root
        for i, e in enumerate(entries):
            off = at + ACPI_HEADER + i * width
            mem[off:off + width] = new_addr.get(e, 0).to_bytes(width, "little")
        fix_checksum(mem, at, len(root), 9)
        if width == 4:
            struct.pack_into("<I", mem, 16, at)
        else:
            struct.pack_into("<Q", mem, 24, at)
    fix_checksum(mem, 0, 20, 8)
    if rsdp[15] >= 2 and len(rsdp) >= RSDP_V2_LEN:
        fix_checksum(mem, 0, u32(rsdp, 20), 32)
    return bytes([0]) + bytes(mem)


def ecam_functions(ecam):
    """[(bus, dev, fn, 4096-byte config image)] for every present function."""
    out = []
    for bus in range(len(ecam) // ECAM_BUS_BYTES):
        for devfn in range(256):
            off = bus * ECAM_BUS_BYTES + devfn * PAGE
            cfg = ecam[off:off + PAGE]
            if len(cfg) == PAGE and cfg[:2] != b"\xff\xff":
                out.append((bus, devfn >> 3, devfn & 7, cfg))
    return out


# ------------------------------------------------------------------ output

class Writer:
    def __init__(self):
        self.rows = []
        self.seen = set()

    def add(self, harness, name, data, how):
        digest = hashlib.sha1(data).hexdigest()
        if (harness, digest) in self.seen:
            return
        self.seen.add((harness, digest))
        d = os.path.join(CORPUS, harness)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.rows.append((harness, name, len(data), how))


def capture(args, w):
    version = qemu_version()
    for name, machine in MACHINES.items():
        if "-bios" in machine and not os.path.exists(OVMF):
            print(f"skip {name}: {OVMF} missing", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="pbseed-") as work:
            info_addr = boot_and_dump(args.iso, args.elf, machine, work)
            with open(os.path.join(work, "ram.bin"), "rb") as f:
                ram = f.read()
            how = f"captured: QEMU {version}, `{' '.join(machine)}` (gdb stop at mb2_parse)"
            info = mb2_blob(ram, info_addr)
            w.add("mb2", f"{name}.bin", info, how)
            rsdp = mb2_rsdp(info)
            if rsdp:
                roots, leaves = acpi_tables(ram, rsdp)
                dsdt = dsdt_of(ram, leaves)
                w.add("acpi", f"{name}.bin", relocated_acpi_image(rsdp, roots, leaves, dsdt),
                      how + "; tables and DSDT relocated, pointers and their tables' "
                      "checksums rewritten")
                if dsdt:
                    w.add("acpi_s5", f"{name}-dsdt.bin", dsdt, how + "; the DSDT as is")
                for table in leaves.values():
                    if table[:4] == b"DMAR":
                        w.add("dmar", f"{name}.bin", table, how + "; the DMAR table as is")
                    if table[:4] == b"IVRS":
                        w.add("ivrs", f"{name}.bin", table, how + "; the IVRS table as is")
            ecam_path = os.path.join(work, "ecam.bin")
            if os.path.exists(ecam_path):
                with open(ecam_path, "rb") as f:
                    ecam = f.read()
                for bus, dev, fn, cfg in ecam_functions(ecam):
                    vid, did = struct.unpack_from("<HH", cfg, 0)
                    w.add("pci_cfg", f"{name}-{bus:02x}.{dev:02x}.{fn}-{vid:04x}_{did:04x}.bin",
                          cfg, how + f"; ECAM config space of {bus:02x}:{dev:02x}.{fn}")
            for fname in sorted(os.listdir(work)):
                for kind in ("id_ctrl", "id_ns", "nsid_list"):
                    if fname.startswith(kind + "-"):
                        with open(os.path.join(work, fname), "rb") as f:
                            page = f.read()
                        data = page
                        if kind == "nsid_list":
                            start = int(fname.split("start")[1].split("-")[0])
                            cap = int(fname.split("cap")[1].split(".")[0])
                            data = struct.pack("<IH", start, cap) + page
                        w.add(f"nvme_{kind}", f"{name}-{fname}", data,
                              how + "; page the firmware's NVMe driver parsed")
        print(f"captured {name}")


# ------------------------------------------------------------------ synthesized

def ascii_field(text, n):
    return text.encode("ascii").ljust(n, b" ")[:n]


def id_ctrl_page(vid, ssvid, sn, mn, fr, mdts, nn, ver, vs=b"", cntlid=0):
    """An Identify Controller page with the fields proofboot reads."""
    p = bytearray(PAGE)
    struct.pack_into("<HH", p, 0, vid, ssvid)
    p[4:24] = ascii_field(sn, 20)
    p[24:64] = ascii_field(mn, 40)
    p[64:72] = ascii_field(fr, 8)
    p[77] = mdts
    struct.pack_into("<HI", p, 78, cntlid, ver)
    p[512], p[513] = 0x66, 0x44     # SQES/CQES: exactly 64- and 16-byte entries
    struct.pack_into("<I", p, 516, nn)
    p[3072:3072 + len(vs)] = vs
    return bytes(p)


def id_ns_page(nsze, lbafs, flbas, ncap=None, nuse=None):
    p = bytearray(PAGE)
    struct.pack_into("<QQQ", p, 0, nsze, nsze if ncap is None else ncap,
                     nsze if nuse is None else nuse)
    p[25] = len(lbafs) - 1
    p[26] = flbas
    for i, (ms, lbads, rp) in enumerate(lbafs):
        struct.pack_into("<I", p, 128 + 4 * i, ms | lbads << 16 | rp << 24)
    return bytes(p)


# QEMU 7.2 hw/nvme/ns.c: eight formats, 512 and 4096 bytes with 0/8/16/64 metadata bytes.
QEMU_LBAFS = [(0, 9, 0), (8, 9, 0), (16, 9, 0), (64, 9, 0),
              (0, 12, 0), (8, 12, 0), (16, 12, 0), (64, 12, 0)]


def synth(w):
    w.add("nvme_id_ctrl", "aws-ebs.bin",
          id_ctrl_page(0x1d0f, 0x1d0f, "vol0123456789abcdef0", "Amazon Elastic Block Store",
                       "1.0", 6, 1, 0x00010400, vs=b"/dev/sdf".ljust(32, b" ")),
          "synthesized from public AWS facts (cloud_shape.h): EBS serial = volume id, "
          "vendor-specific area = attachment name")
    w.add("nvme_id_ctrl", "aws-instance-storage.bin",
          id_ctrl_page(0x1d0f, 0x1d0f, "AWS1234567890ABCDEF", "Amazon EC2 NVMe Instance Storage",
                       "0", 5, 1, 0x00010300), "synthesized (cloud_shape.h facts)")
    w.add("nvme_id_ctrl", "gce-pd.bin",
          id_ctrl_page(0x1ae0, 0x1ae0, "nvme_card-pd", "nvme_card-pd", "2", 0, 1, 0x00010100),
          "synthesized (cloud_shape.h facts)")
    w.add("nvme_id_ctrl", "azure-remote.bin",
          id_ctrl_page(0x1414, 0x1414, "0123456789", "MSFT NVMe Accelerator v1.0", "v1.00000",
                       8, 1, 0x00010400), "synthesized (cloud_shape.h facts)")
    w.add("nvme_id_ctrl", "nvme10-no-ver.bin",
          id_ctrl_page(0x8086, 0x8086, "CVF8", "INTEL SSDPEDMW400G4", "8DV10171", 5, 1, 0),
          "synthesized: NVMe 1.0 controller (VER reads 0)")

    # QEMU's own pages are captured (seeds.py capture); these add what it does not show.
    w.add("nvme_id_ns", "qemu72-4k-md8-ext.bin", id_ns_page(4096, QEMU_LBAFS, 0x15, ncap=4000, nuse=1000),
          "synthesized: QEMU 7.2's eight LBA formats (as captured), FLBAS 5 with extended "
          "metadata, NCAP/NUSE below NSZE", )
    w.add("nvme_id_ns", "nvme2-20-formats.bin",
          id_ns_page(1 << 20, [(0, 9, 0)] * 19 + [(0, 12, 1)], 0x63),
          "synthesized: NVMe 2.0 namespace with 20 formats, FLBAS index 19 (bits 6:5)")

    def nsid_list(start, ids, cap=1024):
        """fuzz_nvme_nsid_list input: start NSID, caller's capacity, the page."""
        page = bytearray(PAGE)
        for i, nsid in enumerate(ids):
            struct.pack_into("<I", page, 4 * i, nsid)
        return struct.pack("<IH", start, cap) + bytes(page)
    w.add("nvme_nsid_list", "sparse.bin", nsid_list(0, [1, 2, 5, 200]),
          "synthesized: several namespaces with sparse NSIDs")
    w.add("nvme_nsid_list", "full-page.bin", nsid_list(1000, list(range(1001, 2025))),
          "synthesized: 1024 entries, the caller must ask again")
    w.add("nvme_nsid_list", "small-array.bin", nsid_list(0, [1, 2, 3, 4, 5], cap=3),
          "synthesized: the caller's array (3) is smaller than the list")

    synth_id_desc(w)
    synth_dmar(w)
    synth_ivrs(w)
    seed_ivrs_unit_data(w)
    synth_mb2(w)

    for name, field in [("success", 0x0000), ("invalid-field-dnr", 0x4002),
                        ("unrecovered-read", 0x0281), ("write-fault", 0x0280),
                        ("lba-out-of-range", 0x0080), ("vendor", 0x07ff), ("all-bits", 0x7fff)]:
        w.add("nvme_status", f"{name}.bin", struct.pack("<H", field << 1),
              "synthesized: CQE status word (phase bit 0) for a status QEMU returns or the spec lists")

    for name, text in [("empty", ""), ("dma-bounce", "dma=bounce"), ("dma-iommu", "dma=iommu"),
                       ("all", "dma=auto tests=nvme.*,pci.enum timeout=120"),
                       ("whitespace", " \tdma=iommu\r\n  timeout=5 "),
                       ("errors", "bogus dma=fast tests=,x timeout=0 timeout=99999999999"),
                       ("glob", "tests=*read*,?ci.*,**"),
                       ("end-write", "end=poweroff write=pbseed0:1 end=reboot write=S:4294967294"),
                       ("bench-bytes", "bench_bytes=256K bench_bytes=64G bench_bytes=1 bench_bytes=65G bench_bytes=0M bench_bytes=4k"),
                       ("write-bad", "write=:1 write=s:0 write=s:4294967295 write=abcdefghijklmnopqrstu:1"),
                       ("nul-byte", "dma=bounce\0tests=nosuch.* bogus=1"),
                       ("control-bytes", "timeout=5 end=\x1bhalt\tdma=\x7f\r\n"),
                       ("order", "order=reverse order=shuffle:42 order=shuffle:0 order=table "
                                 "order=shuffle order=shuffle:4294967296 order=reverse:1")]:
        w.add("options", f"{name}.txt", text.encode(),
              "synthesized: option words as GRUB's cmdline or fw_cfg opt/proofboot/cmdline carry them")

    synth_timers(w)

    for name, value in [("model", b"QEMU NVMe Ctrl"), ("percent", b"100%"),
                        ("controls", bytes(range(0, 0x21))), ("high", bytes(range(0x7e, 0x100))),
                        ("utf8", "r\u00e9sum\u00e9 \u2713".encode()), ("empty", b"")]:
        w.add("proof", f"{name}.bin", value,
              "synthesized: proof values (the fixed-width NVMe strings and arbitrary bytes)")


def synth_id_desc(w):
    """fuzz_nvme_id_desc input: format index (1 byte), NSZE (8 bytes big-endian), the page."""
    def desc(*items):
        out = b"".join(bytes([t, len(v), 0, 0]) + v for t, v in items)
        return out.ljust(PAGE, b"\0")

    def header(flbas_index, nsze):
        return bytes([flbas_index]) + struct.pack(">Q", nsze)
    uuid = bytes(range(0x10, 0x20))
    w.add("nvme_id_desc", "qemu72-nvm.bin", header(0, 32768) + desc((3, uuid), (4, b"\0")),
          "synthesized from QEMU 7.2 hw/nvme/ctrl.c nvme_identify_ns_descr_list: UUID then CSI 0")
    w.add("nvme_id_desc", "all-types.bin",
          header(0, 32768) + desc((1, b"\x11" * 8), (2, b"\x22" * 16), (3, uuid), (4, b"\x02")),
          "synthesized: EUI-64, NGUID, UUID and CSI 2 (zoned) descriptors")
    zns = bytearray(PAGE)
    struct.pack_into("<II", zns, 4, 0xffffffff, 0xffffffff)      # MAR, MOR: no limit
    struct.pack_into("<Q", zns, 2816, 2048)                       # LBAFE[0].ZSZE: 1 MiB of 512 B
    w.add("nvme_id_desc", "qemu72-zoned-1m.bin", header(0, 131072) + bytes(zns),
          "synthesized from QEMU 7.2 zoned.zone_size=1M on 512-byte blocks: ZSZE 2048, "
          "no active/open limits (the same bytes also read as a descriptor list)")


def dmar_scope(kind, start_bus, path, enum_id=0):
    body = struct.pack("<BBHBB", kind, 6 + 2 * len(path), 0, enum_id, start_bus)
    return body + b"".join(struct.pack("<BB", d, f) for d, f in path)


def dmar_struct(kind, body):
    return struct.pack("<HH", kind, 4 + len(body)) + body


def synth_dmar(w):
    """A DMAR with what QEMU never builds: several units, explicit endpoint and
    bridge scopes, a multi-step path, an RMRR, a second segment, ATSR/RHSA."""
    scopes = (dmar_scope(1, 0, [(3, 0)]) + dmar_scope(2, 0, [(0x1c, 0)]) +
              dmar_scope(1, 0, [(0x1c, 0), (0, 0)]) + dmar_scope(1, 0, [(0x1c, 1), (0, 0), (2, 1)]))
    structs = [
        dmar_struct(0, struct.pack("<BBHQ", 0, 0, 0, 0xFED91000) + scopes),
        dmar_struct(0, struct.pack("<BBHQ", 1, 0, 0, 0xFED90000) +
                    dmar_scope(3, 0xF0, [(0x1f, 0)], enum_id=2) + dmar_scope(4, 0, [(0x1f, 7)])),
        dmar_struct(0, struct.pack("<BBHQ", 1, 0, 1, 0xFED92000)),
        dmar_struct(1, struct.pack("<HHQQ", 0, 0, 0x7F000000, 0x7F0FFFFF) +
                    dmar_scope(1, 0, [(0x14, 0)])),
        dmar_struct(2, struct.pack("<BBH", 0, 0, 0) + dmar_scope(2, 0, [(0x1c, 0)])),
        dmar_struct(3, struct.pack("<IQI", 0, 0xFED91000, 0)),
    ]
    body = b"".join(structs)
    length = 48 + len(body)
    table = bytearray(b"DMAR" + struct.pack("<IBB", length, 1, 0) + b"PBSEED" + b"PBDMAR  " +
                      struct.pack("<I", 1) + b"PBSD" + struct.pack("<I", 1))
    table += struct.pack("<BB", 38, 1) + bytes(10) + body
    fix_checksum(table, 0, length, 9)
    w.add("dmar", "synth-multi-unit.bin", bytes(table),
          "synthesized per VT-d spec ch. 8: two units on segment 0 (explicit scopes incl. "
          "a 3-step path, INCLUDE_PCI_ALL with IOAPIC/HPET scopes), one on segment 1, "
          "an RMRR, an ATSR and an RHSA")


def synth_timers(w):
    """fuzz_timers input: one buffer read both as a FADT (PM timer fields) and as an HPET table."""
    fadt = bytearray(276)
    fadt[0:4] = b"FACP"
    struct.pack_into("<I", fadt, 76, 0x608)        # PM_TMR_BLK, as QEMU's q35
    fadt[91] = 4                                   # PM_TMR_LEN
    w.add("timers", "fadt-q35-port.bin", bytes(fadt[:244]),
          "synthesized: FADT with QEMU q35's PM timer port 0x608, 24-bit, no X_PM_TMR_BLK")
    struct.pack_into("<I", fadt, 112, 1 << 8)      # TMR_VAL_EXT
    fadt[208] = 0                                  # X_PM_TMR_BLK in memory
    struct.pack_into("<Q", fadt, 212, 0xFED03008)
    w.add("timers", "fadt-x-memory-32bit.bin", bytes(fadt),
          "synthesized: FADT whose X_PM_TMR_BLK (memory) overrides the port, 32-bit timer")
    hpet = bytearray(56)
    hpet[0:4] = b"HPET"
    struct.pack_into("<I", hpet, 36, 0x8086A201)   # event timer block id
    struct.pack_into("<Q", hpet, 44, 0xFED00000)   # base, memory space
    w.add("timers", "hpet-q35.bin", bytes(hpet),
          "synthesized: HPET table as QEMU and Intel PCHs place the block (0xfed00000)")


def ivhd(kind, base, segment, entries, efr=0):
    """An IVHD block (AMD IOMMU spec 5.2.2.1): 24-byte header for 10h, 40 for 11h/40h."""
    fixed = struct.pack("<HHQHHI", 0x0010, 0x40, base, segment, 0, 0)
    if kind != 0x10:
        fixed += struct.pack("<QQ", efr, 0)
    body = fixed + b"".join(entries)
    return struct.pack("<BBH", kind, 0xB0, 4 + len(body)) + body


def ivrs_entry4(kind, devid, dte=0):
    return struct.pack("<BHB", kind, devid, dte)


def ivrs_entry8(kind, devid, b4, w5, b7, dte=0):
    return struct.pack("<BHBBHB", kind, devid, dte, b4, w5, b7)


def synth_ivrs(w):
    """An IVRS with what QEMU never builds: 10h, 11h and 40h blocks for two IOMMUs,
    every device-entry kind (select, range, alias select/range, extended
    select/range, all, IOAPIC/HPET specials, ACPI HID, padding), an IVMD."""
    entries = [ivrs_entry4(2, 0x0008), ivrs_entry4(3, 0x0100), ivrs_entry4(4, 0x01FF),
               ivrs_entry8(0x42, 0x0500, 0, 0x0400, 0), ivrs_entry8(0x43, 0x0600, 0, 0x00F0, 0),
               ivrs_entry4(4, 0x06FF), ivrs_entry8(0x46, 0x0700, 1, 0x0200, 0x80),
               ivrs_entry8(0x47, 0x0800, 0, 0, 0), ivrs_entry4(4, 0x0807),
               ivrs_entry8(0x48, 0, 0x21, 0x00A0, 1, 0xD7), ivrs_entry8(0x48, 0, 0, 0x00A0, 2),
               ivrs_entry4(0, 0)]
    hid = struct.pack("<BHB", 0xF0, 0x00A5, 0) + b"AMDI0020" + bytes(8) + struct.pack("<BB", 2, 4) + b"ID00"
    blocks = [ivhd(0x10, 0xFEB80000, 0, entries), ivhd(0x11, 0xFEB80000, 0, entries, 0x4F77EF22294ADA),
              ivhd(0x40, 0xFEB80000, 0, entries + [hid], 0x4F77EF22294ADA),
              ivhd(0x40, 0xFEB84000, 1, [ivrs_entry4(1, 0)], 0x4F77EF22294ADA),
              struct.pack("<BBHHHQQQ", 0x21, 8, 32, 0x00A5, 0, 0, 0x9D000000, 0x26000)]
    body = b"".join(blocks)
    length = 48 + len(body)
    table = bytearray(b"IVRS" + struct.pack("<IBB", length, 2, 0) + b"PBSEED" + b"PBIVRS  " +
                      struct.pack("<I", 1) + b"PBSD" + struct.pack("<I", 1))
    table += struct.pack("<IQ", 0x00203041, 0) + body
    fix_checksum(table, 0, length, 9)
    w.add("ivrs", "synth-every-entry.bin", bytes(table),
          "synthesized per AMD IOMMU spec 48882 ch. 5: IVHD 10h/11h/40h for one IOMMU, a "
          "40h for a second on segment 1, every device-entry kind, an IVMD")


def seed_ivrs_unit_data(w):
    """The IVRS tables the unit tests use (QEMU 7.2 captures and real machines)."""
    src = os.path.join(ROOT, "tests", "unit", "data", "ivrs")
    for name in sorted(os.listdir(src)) if os.path.isdir(src) else []:
        if not name.endswith(".bin"):
            continue
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        how = ("real machine's table from linuxhw/ACPI (CC BY 4.0), see "
               "tests/unit/data/ivrs/ATTRIBUTION.md" if name.startswith("real-") else
               "captured: QEMU 7.2 boot by tests/unit/data/capture_acpi.py")
        w.add("ivrs", name, data, how + "; copied from tests/unit/data/ivrs/")


def synth_mb2(w):
    """The captured SeaBIOS hand-off with its (empty) command-line tag replaced
    (the default GRUB entry passes no options)."""
    base = os.path.join(CORPUS, "mb2", "bios-q35.bin")
    if not os.path.exists(base):
        return
    with open(base, "rb") as f:
        info = f.read()
    for name, cmdline in [("cmdline-options", b"dma=iommu tests=nvme.*,pci.* timeout=120"),
                          ("cmdline-bad", b"dma=fast bogus tests=,, timeout=0")]:
        out = bytearray(info[:8])
        at = 8
        while at + 8 <= len(info):
            tag, size = u32(info, at), u32(info, at + 4)
            end = at + ((size + 7) & ~7)
            if tag == 1:
                body = cmdline + b"\0"
                piece = struct.pack("<II", 1, 8 + len(body)) + body
                out += piece + bytes(-len(piece) % 8)
            else:
                out += info[at:end]
            if tag == 0:
                break
            at = end
        struct.pack_into("<I", out, 0, len(out))
        w.add("mb2", f"bios-q35-{name}.bin", bytes(out),
              f"synthesized: captured mb2/bios-q35.bin with its command-line tag set to "
              f"{cmdline.decode()!r}")


# ------------------------------------------------------------------ real machines

REAL = os.path.join(ROOT, "tests", "unit", "data", "acpi-real")
REAL_HOW = ("real: {m}/{t}.dat of tests/unit/data/acpi-real, {machine} "
            "(linuxhw/ACPI, CC BY 4.0)")


def real_machines():
    """(folder, machine path) from the data set's index.tsv."""
    with open(os.path.join(REAL, "index.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [(r[0], r[1]) for r in rows]


def dmar_shape(t):
    """What a DMAR exercises: structure types, scope types and path lengths, flags, base 0."""
    shape, off = set(), 48
    while off + 4 <= min(len(t), u32(t, 4)):
        stype, slen = t[off] | t[off + 1] << 8, t[off + 2] | t[off + 3] << 8
        if slen == 0:
            break
        first = {0: 16, 1: 24}.get(stype, slen)
        if stype == 0:
            shape.add(("flags", t[off + 4], u64(t, off + 8) == 0))
        at = off + first
        while at + 2 <= off + slen and t[at + 1]:
            shape.add(("scope", stype, t[at], (t[at + 1] - 6) // 2))
            at += t[at + 1]
        shape.add(("struct", stype))
        off += slen
    return frozenset(shape)


def real(w):
    shapes = set()
    for m, machine in real_machines():
        path = os.path.join(REAL, m, "dmar.dat")
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        shape = dmar_shape(data)
        if shape in shapes:
            continue
        shapes.add(shape)
        w.add("dmar", f"real-{m}.bin", data, REAL_HOW.format(m=m, t="dmar", machine=machine))
    s5_tables = []
    for m, machine in real_machines():
        for name in sorted(os.listdir(os.path.join(REAL, m))):
            if name.startswith("ssdt"):
                with open(os.path.join(REAL, m, name), "rb") as f:
                    data = f.read()
                if b"_S5_\x12" in data:
                    s5_tables.append((len(data), m, name[:-4], machine, data))
    for _, m, t, machine, data in sorted(s5_tables)[:1]:
        w.add("acpi_s5", f"real-{m}-{t}.bin", data, REAL_HOW.format(m=m, t=t, machine=machine))


def write_provenance(w):
    rows = []
    if os.path.exists(PROVENANCE):
        with open(PROVENANCE, encoding="utf-8") as f:
            for line in f:
                if line.startswith("| `"):
                    cells = [c.strip() for c in line.strip().strip("|").split("|")]
                    rows.append((cells[0].strip("`"), cells[1].strip("`"), int(cells[2]), cells[3]))
    keep = {(h, n) for h, n, _, _ in w.rows}
    rows = [r for r in rows if (r[0], r[1]) not in keep and
            os.path.exists(os.path.join(CORPUS, r[0], r[1]))] + w.rows
    rows.sort()
    with open(PROVENANCE, "w", encoding="utf-8") as f:
        f.write("# Seed corpus provenance\n\nWritten by `tests/fuzz/seeds.py`; do not edit by hand.\n"
                "\"captured\" = bytes read out of a real QEMU boot of build/proofboot.iso; "
                "\"synthesized\" = built from the facts named.\n\n"
                "| harness | file | bytes | origin |\n| --- | --- | --- | --- |\n")
        for h, n, size, how in rows:
            f.write(f"| `{h}` | `{n}` | {size} | {how} |\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["capture", "synth", "real"])
    ap.add_argument("--iso", default=os.path.join(ROOT, "build", "proofboot.iso"))
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "proofboot.elf"))
    args = ap.parse_args(argv)
    for tool in ("qemu-system-x86_64", "gdb"):
        if args.mode == "capture" and not shutil.which(tool):
            raise SystemExit(f"seeds.py capture needs {tool}")
    w = Writer()
    if args.mode == "capture":
        capture(args, w)
    elif args.mode == "real":
        real(w)
    else:
        synth(w)
    write_provenance(w)
    for h, n, size, _ in w.rows:
        print(f"  {h}/{n} ({size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
