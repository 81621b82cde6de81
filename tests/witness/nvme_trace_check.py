#!/usr/bin/python3
"""Witness from QEMU's side: no NVMe device access outside what the firmware handed out.

    nvme_trace_check.py CONSOLE_LOG TRACE_FILE

TRACE_FILE is QEMU's `-trace 'pci_nvme_*' -D TRACE_FILE` of the same boot.
Every address the nvme model used after the firmware's first controller
reset (before it, SeaBIOS's own NVMe probe runs with its own buffers) must
lie in a range the firmware's DMA backend announced in the console log: a
bounce pool (`dma: attach ... pool_base= pool_bytes=`) or a remapping IOVA
window (`iommu: attach ... window_base= window_bytes=`).  Checked:
`pci_nvme_map_addr` (every data and metadata segment, MPTR included),
`pci_nvme_map_prp` (PRP1, and PRP2 whenever the transfer uses it, list or
page) and the queue addresses (ASQ/ACQ as written, Create I/O SQ/CQ).
Address 0 is counted on its own.  The isolation proof's deliberate access
(`iommu: blocked dma iova=X ... fault=true`: an IOVA that maps nothing,
faulted by the IOMMU) is counted apart, not as outside.  Exit 0 when nothing
is outside.

Limits: the trace names no device, so with several controllers an address in
another controller's pool passes; under VT-d an IOVA outside the window would
also fault (and the firmware's audit would see it).
"""
import re
import sys

MAP_ADDR = re.compile(r"pci_nvme_map_addr addr (0x[0-9a-f]+) len (0x[0-9a-f]+|\d+)")
MAP_PRP = re.compile(r"pci_nvme_map_prp trans_len (\d+) len (\d+) prp1 (0x[0-9a-f]+) "
                     r"prp2 (0x[0-9a-f]+)")
ADMIN_QUEUE = re.compile(r"pci_nvme_mmio_a[sc]qaddr_hi .*new_address=(0x[0-9a-f]+)")
IO_QUEUE = re.compile(r"pci_nvme_create_[sc]q .*addr=(0x[0-9a-f]+)")
FIRMWARE_RESET = "pci_nvme_mmio_stopped"


def fields(line: str) -> dict:
    return dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)


PAGE = 4096


def deliberate_pages(log_path: str) -> set:
    """Pages of IOVAs the isolation proof handed out on purpose and saw faulted."""
    pages = set()
    with open(log_path, errors="replace") as f:
        for line in f:
            if line.startswith("iommu: blocked dma") and " fault=true" in line:
                pages.add(int(fields(line)["iova"], 16) // PAGE)
    return pages


def announced_ranges(log_path: str) -> list:
    ranges = set()
    with open(log_path, errors="replace") as f:
        for line in f:
            if line.startswith("dma: attach") and "pool_base=" in line:
                v = fields(line)
                base = int(v["pool_base"], 16)
                ranges.add((base, base + int(v["pool_bytes"])))
            elif line.startswith("iommu: attach") and "window_base=" in line:
                v = fields(line)
                base = int(v["window_base"], 16)
                ranges.add((base, base + int(v["window_bytes"])))
    return sorted(ranges)


def addresses(trace_path: str):
    """(line number, address, length, line) for every device access after the firmware's reset."""
    started = False
    with open(trace_path, errors="replace") as f:
        for no, line in enumerate(f, 1):
            if not started:
                started = FIRMWARE_RESET in line
                continue
            m = MAP_ADDR.search(line)
            if m:
                yield no, int(m.group(1), 16), int(m.group(2), 0), line
                continue
            m = MAP_PRP.search(line)
            if m:
                trans_len, total = int(m.group(1)), int(m.group(2))
                yield no, int(m.group(3), 16), 1, line
                if total > trans_len:   # PRP2 is in use: a second page or a list
                    yield no, int(m.group(4), 16), 1, line
                continue
            m = ADMIN_QUEUE.search(line) or IO_QUEUE.search(line)
            if m:
                yield no, int(m.group(1), 16), 1, line
    if not started:
        raise SystemExit(f"{trace_path}: no {FIRMWARE_RESET} event: not a trace of a firmware boot")


def main(argv) -> int:
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ranges = announced_ranges(argv[1])
    if not ranges:
        print(f"{argv[1]}: no bounce pool or IOVA window announced", file=sys.stderr)
        return 2
    deliberate = deliberate_pages(argv[1])
    total = zero = faulted = 0
    outside = []
    for no, addr, length, line in addresses(argv[2]):
        total += 1
        zero += addr == 0
        if any(lo <= addr and addr + length <= hi for lo, hi in ranges):
            continue
        if addr // PAGE in deliberate:
            faulted += 1
        else:
            outside.append((no, line.strip()))
    print(f"{argv[2]}: {total} device addresses, {zero} at 0, {faulted} deliberate (faulted), "
          f"{len(outside)} outside "
          f"{', '.join(f'[{lo:#x}, {hi:#x})' for lo, hi in ranges)}")
    for no, line in outside[:5]:
        print(f"  line {no}: {line}")
    return 1 if outside or zero else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
