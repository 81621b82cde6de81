#!/usr/bin/python3
"""Stand-in for qemu-system-x86_64 in the matrix runner tests (no QEMU needed).

Reads the command line tools/matrix builds, writes a plausible console log to
the -chardev file, and exits like isa-debug-exit would.  FAKE_QEMU_MODE picks
the behaviour: pass (default), fail, hang, crash, killed (SIGKILL after the
first lines), error, badcrc.  For every
NVMe namespace it "reads" LBAs 0-7 from the image named in -drive and prints
the real crc32 (or status 0x0281 when a blkdebug config is attached).
With -D FILE (tools/matrix --witness) it also writes a trace in QEMU's log
format: the console as serial_write events and each read's READ command;
mode stray adds a device write to physical address 0 during the read.
"""
import os
import signal
import sys
import time
import zlib


def option_value(text, key):
    """Value of key= in a QEMU option string (',,' is a literal comma)."""
    parts = text.replace(",,", "\0").split(",")
    for part in parts:
        k, _, v = part.partition("=")
        if k == key:
            return v.replace("\0", ",")
    return None


def main(argv):
    mode = os.environ.get("FAKE_QEMU_MODE", "pass")
    if mode == "error":
        print("qemu-system-x86_64: -device bogus: 'bogus' is not a valid device model name",
              file=sys.stderr)
        return 1
    log_path = None
    trace_path = argv[argv.index("-D") + 1] if "-D" in argv else None
    trace = []
    drives = {}
    namespaces = []
    serials = {}
    options = ""
    for flag, value in zip(argv, argv[1:]):
        if flag == "-chardev":
            log_path = option_value(value, "path")
        elif flag == "-drive":
            image = option_value(value, "file") or option_value(value, "file.image.filename")
            drives[option_value(value, "id")] = (image, option_value(value, "file.config"))
        elif flag == "-device" and value.startswith("nvme,"):
            serials[option_value(value, "id")] = option_value(value, "serial")
        elif flag == "-device" and value.startswith("nvme-ns,"):
            namespaces.append((option_value(value, "bus"), option_value(value, "drive"),
                               int(option_value(value, "nsid")),
                               int(option_value(value, "logical_block_size"))))
        elif flag == "-fw_cfg":
            options = option_value(value, "string") or ""
    out = ["SeaBIOS (version fake)", "\x1b[2J\x1b[01;01H", "error: no suitable video mode found.",
           "proofboot: start version=fake schema=1 multiboot2=true",
           "opt: source name=fw_cfg text=" + options.replace(" ", "%20") + " ok=true",
           "test: plan name=boot.options groups=boot selected=true",
           "test: plan name=nvme.read.bounce groups=nvme selected=true"]
    status = "PASS"
    reason = ""
    if not namespaces:
        status, reason = "SKIP", "no%20nvme"
    for bus, drive, nsid, lba_size in namespaces:
        image, blkdebug = drives[drive]
        with open(image, "rb") as f:
            crc = zlib.crc32(f.read(8 * lba_size))
        nvme_status = "0x0000"
        if blkdebug:
            nvme_status, status, reason = "0x0281", "FAIL", "unrecovered%20read%20error"
        if mode == "badcrc":
            crc ^= 1
        trace += [f"pci_nvme_io_cmd cid 0 nsid 0x{nsid:x} sqid 1 opc 0x2 opname 'NVME_NVM_CMD_READ'",
                  f"pci_nvme_read cid 0 nsid {nsid} nlb 8 count {8 * lba_size} lba 0x0",
                  f"pci_nvme_rw_cb cid 0 blk '{drive}'",
                  "pci_nvme_enqueue_req_completion cid 0 cqid 1 dw0 0x0 dw1 0x0 status "
                  + ("0x281" if blkdebug else "0x0")]
        if mode == "stray":
            trace.append("pci_nvme_map_addr addr 0x0 len 64")
        trace.append(f"@line {len(out)}")
        out.append(f"nvme: read bdf=0000:00:04.0 serial={serials[bus]} nsid={nsid} slba=0 "
                   f"blocks=8 lba_size={lba_size} bytes={8 * lba_size} crc32=0x{crc:08x} "
                   f"status={nvme_status} backend=bounce-buffer")
    if mode == "fail":
        status, reason = "FAIL", "forced%20by%20fake"
    out.append("test: result name=boot.options status=PASS duration_us=3 reason=")
    if mode == "killed":
        with open(log_path, "w") as f:
            f.write("\r\n".join(out) + "\r\n")
        os.kill(os.getpid(), signal.SIGKILL)
    if mode in ("hang", "crash"):
        with open(log_path, "w") as f:
            f.write("\r\n".join(out) + "\r\n")
        if mode == "hang":
            time.sleep(600)
        return 0                      # -no-reboot: a triple fault exits 0
    out.append(f"test: result name=nvme.read.bounce status={status} duration_us=7 reason={reason}")
    counts = {"PASS": 1, "FAIL": 0, "SKIP": 0}
    counts[status] += 1
    verdict = "FAIL" if counts["FAIL"] else "PASS"
    out.append(f"proofboot: verdict status={verdict} passed={counts['PASS']} "
               f"failed={counts['FAIL']} skipped={counts['SKIP']}")
    with open(log_path, "w") as f:
        f.write("\r\n".join(out) + "\r\n")
    if trace_path:
        write_trace(trace_path, out, trace)
    return {"PASS": 33, "FAIL": 35, "SKIP": 37}[verdict]


def write_trace(path, lines, device_events):
    """QEMU's log trace backend: the console byte by byte, device events before their line."""
    before = {}
    pending = []
    for event in device_events:
        if event.startswith("@line "):
            before[int(event.split()[1])] = pending
            pending = []
        else:
            pending.append(event)
    with open(path, "w") as f:
        for index, line in enumerate(lines):
            for event in before.get(index, []):
                f.write(event + "\n")
            for byte in (line + "\r\n").encode("latin-1"):
                f.write(f"serial_write write addr 0x00 val 0x{byte:02x}\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
