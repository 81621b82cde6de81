"""Synthetic proofboot console logs for the tests."""
from proofboot import diskimage

GRUB_NOISE = [
    "\x1b[2J\x1b[H",
    "                             GNU GRUB  version 2.06",
    "error: no suitable video mode found.",
    "Booting `proofboot (dma=auto)'",
]


def proof_lines(results=(("boot.options", "PASS"), ("nvme.read.bounce", "PASS")),
                extra=(), verdict=None):
    """A consistent list of proof lines: start, plans, results, extra lines, verdict."""
    lines = ["proofboot: start version=test schema=1 multiboot2=true"]
    for name, _ in results:
        group = name.split(".")[0]
        lines.append(f"test: plan name={name} groups={group} selected=true")
    lines.append("test: plan name=cpu.fault groups=negative selected=false")
    lines += list(extra)
    for name, status in results:
        lines.append(f"test: result name={name} status={status} duration_us=12 reason=")
    if verdict is None:
        counts = [sum(1 for _, s in results if s == want) for want in ("PASS", "FAIL", "SKIP")]
        status = "FAIL" if counts[1] else "PASS" if counts[0] else "SKIP"
        verdict = (f"proofboot: verdict status={status} passed={counts[0]} "
                   f"failed={counts[1]} skipped={counts[2]}")
    lines.append(verdict)
    return lines


def as_log(lines, noise=True, crlf=False):
    body = (GRUB_NOISE if noise else []) + list(lines)
    end = "\r\n" if crlf else "\n"
    return end.join(body) + end


def read_line(spec, slba, blocks, crc=None, backend="bounce-buffer", serial="pb0", nsid=1,
              status="0x0000"):
    if crc is None:
        crc = diskimage.expected_crc32(spec, slba, blocks)
    return (f"nvme: read bdf=0000:00:04.0 serial={serial} nsid={nsid} slba={slba} "
            f"blocks={blocks} lba_size={spec.lba_size} bytes={blocks * spec.lba_size} "
            f"crc32=0x{crc:08x} status={status} backend={backend}")
