#!/usr/bin/python3
"""Witness from Linux's side: Debian's nvme-cli decodes the same NVMe shapes as the firmware.

    nvme_cli_compare.py WORK_DIR [--iso build/proofboot.iso]

One Linux guest (Debian's cloud kernel, busybox and nvme-cli in an initramfs
built with tools/bench/guest.py's cpio writer) boots with every namespace
shape of tests/matrix.toml at once and prints `nvme id-ctrl`, `id-ns`,
`ns-descs`, `zns id-ns` and `zns id-ctrl` as JSON, plus CAP/CMBLOC/CMBSZ read with busybox
devmem after setting CMBMSC.CRE.  The firmware then boots twice on the same
devices (it handles 8 controllers at a time) with `tests=nvme.identify.bounce`,
and every decoded field is compared: strings, MDTS, NN, VER, OACS, ONCS,
CMIC, SUBNQN, CAP, CMBLOC, CMBSZ; NSZE/NCAP/NUSE, FLBAS index and extended
bit, the whole LBA format table, MC, DPC, DPS, NMIC, CSI, the zone size and
ZASL.
Exit 0 when every field agrees.

Needs (Debian): nvme-cli linux-image-cloud-amd64 busybox-static qemu-system-x86.
A one-off comparison, not part of `make check`.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "tools"), os.path.join(ROOT, "python")]

from bench import guest  # noqa: E402
from proofboot import diskimage, prooflog  # noqa: E402

KERNEL_GLOB_DIR = "/boot"
TIMEOUT_S = 300
MIB = 1 << 20
PB_MAX_CONTROLLERS = 8

# (serial, nvme props, nvme-ns props, image size, lba size, metadata bytes); "" serial = subsystem peer
SHAPES = [
    ("pb-ext8", "", "ms=8,mset=1", 16 * MIB, 512, 8),
    ("pb-sep8pi1", "", "ms=8,mset=0,pi=1", 16 * MIB, 512, 8),
    ("pb-sep16pi3", "", "ms=16,mset=0,pi=3", 16 * MIB, 512, 16),
    ("pb-zoned", "", "zoned=true,zoned.zone_size=1M", 16 * MIB, 512, 0),
    ("pb-16k", "", "", 16 * MIB, 16384, 0),
    ("pb-128k", "", "", 16 * MIB, 131072, 0),
    ("pb-2m", "", "", 16 * MIB, 2 * MIB, 0),
    ("pb-tiny", "", "", MIB, 512, 0),
    ("pb-\u00e9\u20ac", "", "", 16 * MIB, 512, 0),
    ("pb-cmb", "cmb_size_mb=64", "", 16 * MIB, 512, 0),
    ("pb-mp", "subsys=ss0", "", 16 * MIB, 512, 0),
    ("pb-mp", "subsys=ss0", None, 0, 0, 0),
]

INIT = r"""#!/bin/sh
export PATH=/bin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin 2>/dev/null
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
sleep 3
for c in /dev/nvme*; do
  [ -c "$c" ] || continue
  case "$c" in *n[0-9]*) continue;; esac
  n=${c#/dev/}
  echo "W-BEGIN $n id-ctrl"; nvme id-ctrl $c -o json | tr -d '\n'; echo; echo "W-END"
  pci=$(readlink -f /sys/class/nvme/$n/device)
  bar=$(head -1 $pci/resource | cut -d' ' -f1)
  devmem $((bar + 0x50)) 32 1
  echo "W-BEGIN $n regs"
  echo "{\"cap_lo\": \"$(devmem $bar 32)\", \"cap_hi\": \"$(devmem $((bar + 4)) 32)\", \"cmbloc\": \"$(devmem $((bar + 0x38)) 32)\", \"cmbsz\": \"$(devmem $((bar + 0x3c)) 32)\"}"
  echo "W-END"
  for nsid in $(nvme list-ns $c -a 2>/dev/null | sed 's/.*:0x//'); do
    id=$((0x$nsid))
    echo "W-BEGIN $n id-ns $id"; nvme id-ns $c -n $id -o json | tr -d '\n'; echo; echo "W-END"
    echo "W-BEGIN $n ns-descs $id"; nvme ns-descs $c -n $id -o json 2>&1 | tr -d '\n'; echo; echo "W-END"
    echo "W-BEGIN $n zns-id-ns $id"; nvme zns id-ns $c -n $id -o json 2>&1 | tr -d '\n'; echo; echo "W-END"
    echo "W-BEGIN $n zns-id-ctrl"; nvme zns id-ctrl $c -o json 2>&1 | tr -d '\n'; echo; echo "W-END"
  done
done
poweroff -f
"""


def device_args(work: str, shapes) -> list:
    """-drive/-device arguments; images made with QEMU's metadata layout."""
    args, subsystems = [], set()
    for i, (serial, props, ns_props, size, lba, ms) in enumerate(shapes):
        ctrl = f"nvme,id=c{i},serial={serial}" + (f",{props}" if props else "")
        if "subsys=ss0" in props and "ss0" not in subsystems:
            subsystems.add("ss0")
            args += ["-device", "nvme-subsys,id=ss0,nqn=pb-subsys"]
        args += ["-device", ctrl]
        if ns_props is None:
            continue            # the subsystem's shared namespace is attached to every controller
        image = os.path.join(work, f"disk{i}.img")
        if not os.path.exists(image):
            diskimage.write_image(diskimage.DiskSpec(size=size, lba_size=lba, seed=f"w{i}",
                                                     metadata_size=ms), image)
        ns = f"nvme-ns,bus=c{i},drive=d{i},nsid=1,logical_block_size={lba},physical_block_size={lba}"
        args += ["-drive", f"if=none,id=d{i},format=raw,snapshot=on,file={image}",
                 "-device", ns + (f",{ns_props}" if ns_props else "")]
    return args


def run_guest(work: str) -> dict:
    kernel = guest.find_kernel(KERNEL_GLOB_DIR)
    files = [("usr/sbin/nvme", "/usr/sbin/nvme")]
    for soname, path in guest.ldd("/usr/sbin/nvme"):
        where = "lib64" if "ld-linux" in soname else "lib/x86_64-linux-gnu"
        files.append((f"{where}/{soname}", os.path.realpath(path)))
    initrd = os.path.join(work, "nvme-cli.cpio")
    with open(initrd, "wb") as f:
        f.write(guest.cpio_image(files, INIT))
    log = os.path.join(work, "guest.log")
    subprocess.run(["timeout", str(TIMEOUT_S), "qemu-system-x86_64", "-M", "q35", "-m", "1G",
                    "-display", "none", "-no-reboot", "-net", "none", "-kernel", kernel,
                    "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1 iomem=relaxed",
                    "-serial", f"file:{log}"] + device_args(work, SHAPES), check=True,
                   capture_output=True)
    blocks, current = {}, None
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("W-BEGIN "):
                current = line[len("W-BEGIN "):]
                blocks[current] = ""
            elif line.startswith("W-END"):
                current = None
            elif current is not None:
                blocks[current] += line
    return blocks


def run_firmware(work: str, iso: str) -> list:
    """The firmware's nvme records, one boot per group of at most 8 controllers."""
    groups = [SHAPES[:PB_MAX_CONTROLLERS], SHAPES[PB_MAX_CONTROLLERS:]]
    records = []
    for n, shapes in enumerate(groups):
        log = os.path.join(work, f"proofboot-{n}.log")
        subprocess.run(["timeout", str(TIMEOUT_S), "qemu-system-x86_64", "-M", "q35", "-m", "512M",
                        "-display", "none", "-no-reboot", "-net", "none",
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                        "-chardev", f"file,id=console,path={log}", "-serial", "chardev:console",
                        "-cdrom", iso, "-boot", "d", "-fw_cfg",
                        "name=opt/proofboot/cmdline,string=dma=bounce tests=nvme.identify.bounce"]
                       + device_args(work, shapes), capture_output=True)
        with open(log, encoding="utf-8", errors="surrogateescape") as f:
            parsed = prooflog.parse_text(f.read(), frozenset(prooflog.BUILTIN_SUBSYSTEMS))
        records.append([r for r in parsed.records if r.subsystem == "nvme"])
    return records


def firmware_controllers(records) -> list:
    """Per controller (per boot and bdf): its first identify controller/namespace, cap, cmb lines."""
    out = []
    for boot in records:
        by_bdf = {}
        for r in boot:
            d = by_bdf.setdefault(r.fields.get("bdf"), {})
            if r.event in ("identify controller", "identify namespace", "cap", "cmb"):
                d.setdefault(r.event, r)
        out += [d for d in by_bdf.values() if "identify controller" in d]
    return out


class Comparison:
    def __init__(self):
        self.fields = 0
        self.mismatches = []

    def same(self, where: str, name: str, firmware, cli) -> None:
        self.fields += 1
        if firmware != cli:
            self.mismatches.append(f"{where} {name}: proofboot={firmware!r} nvme-cli={cli!r}")


def compare_controller(cmp: Comparison, where: str, d: dict, blocks: dict, c: str) -> None:
    idc, regs = json.loads(blocks[f"{c} id-ctrl"]), json.loads(blocks[f"{c} regs"])
    f = d["identify controller"].fields
    for key in ("mn", "fr", "subnqn"):
        cmp.same(where, key, f[key], idc[key].rstrip())
    for key in ("mdts", "nn"):
        cmp.same(where, key, int(f[key]), idc[key])
    for key in ("ver", "vid", "ssvid", "oacs", "oncs", "cmic"):
        cmp.same(where, key, int(f[key], 16), idc[key])
    cmp.same(where, "ascii", f["ascii"] == "true", idc["sn"].isascii())
    cap = int(regs["cap_hi"], 16) << 32 | int(regs["cap_lo"], 16)
    cmp.same(where, "cap", int(d["cap"].fields["cap"], 16), cap)
    cmb = d.get("cmb")
    cmp.same(where, "cmbloc", int(cmb.fields["cmbloc"], 16) if cmb else 0, int(regs["cmbloc"], 16))
    cmp.same(where, "cmbsz", int(cmb.fields["cmbsz"], 16) if cmb else 0, int(regs["cmbsz"], 16))


def compare_namespace(cmp: Comparison, where: str, r, blocks: dict, c: str) -> None:
    ns = json.loads(blocks[f"{c} id-ns 1"])
    g = r.fields
    for key in ("nsze", "ncap", "nuse", "mc", "dpc", "dps", "nmic"):
        cmp.same(where, key, int(g[key], 0), ns[key])
    high = ((ns["flbas"] >> 5) & 3) << 4 if ns["nlbaf"] >= 16 else 0
    cmp.same(where, "flbas_index", int(g["flbas_index"]), (ns["flbas"] & 0xF) | high)
    cmp.same(where, "extended", g["metadata_extended"] == "true", bool(ns["flbas"] & 0x10))
    table = [tuple(int(x) for x in e.lstrip("*").split(":")) for e in g["lbafs"].split(",")]
    cmp.same(where, "lbafs", table,
             [(l["ds"], l["ms"], l["rp"]) for l in ns["lbafs"]][:ns["nlbaf"] + 1])
    descs = json.loads(blocks[f"{c} ns-descs 1"])["ns-descs"]
    csi = [int(x["csi"], 0) for x in descs if x["type"] == "csi"]
    cmp.same(where, "csi", int(g["csi"], 16), csi[0] if csi else 0)
    if g.get("csi_name") == "zoned":
        zns = json.loads(blocks[f"{c} zns-id-ns 1"])
        cmp.same(where, "zone_blocks", int(g["zone_blocks"]),
                 zns["lbafe"][int(g["flbas_index"])]["zsze"])
        cmp.same(where, "zasl", int(g["zasl"]), json.loads(blocks[f"{c} zns-id-ctrl"])["zasl"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir")
    ap.add_argument("--iso", default=os.path.join(ROOT, "build", "proofboot.iso"))
    args = ap.parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    blocks = run_guest(args.work_dir)
    controllers = firmware_controllers(run_firmware(args.work_dir, args.iso))
    cmp = Comparison()
    for c in sorted({k.split()[0] for k in blocks}, key=lambda s: int(s[len("nvme"):])):
        idc = json.loads(blocks[f"{c} id-ctrl"])
        sn, cntlid = idc["sn"].rstrip(), idc["cntlid"]
        match = [d for d in controllers if d["identify controller"].fields["sn"] == sn and
                 int(d["identify controller"].fields["cntlid"], 16) == cntlid]
        where = f"{c} (sn={sn} cntlid={cntlid})"
        if not match:
            cmp.mismatches.append(f"{where}: the firmware reported no such controller")
            continue
        compare_controller(cmp, where, match[0], blocks, c)
        if f"{c} id-ns 1" in blocks and "identify namespace" in match[0]:
            compare_namespace(cmp, where, match[0]["identify namespace"], blocks, c)
    for m in cmp.mismatches:
        print("MISMATCH", m)
    print(f"nvme-cli witness: {len(controllers)} controllers, {cmp.fields} fields compared, "
          f"{len(cmp.mismatches)} mismatches")
    return 1 if cmp.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
