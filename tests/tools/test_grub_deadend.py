"""No GRUB dead-end: an ISO whose ELF GRUB cannot load or start must end the
machine with GRUB's reason on the serial console, never wait for a key.

Builds ISOs from the repository's iso/grub.cfg with a damaged ELF (truncated)
and with an ELF for the wrong kind of machine (a host program: no multiboot2
header), boots each under SeaBIOS and OVMF, and checks QEMU's exit status 39
(iso/grub.cfg's isa-debug-exit code for "GRUB gave up") and what check-log
says about the capture.
"""
import os
import shutil
import subprocess
import sys

import pytest

import qmatrix

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir))
ELF = os.path.join(REPO, "build", "proofboot.elf")
QEMU = "qemu-system-x86_64"
OVMF = "/usr/share/ovmf/OVMF.fd"
BOOT_TIMEOUT_S = 60
# A truncated ELF: the headers are there, the segments are not.
TRUNCATED_BYTES = 5000

pytestmark = [
    pytest.mark.skipif(not shutil.which(QEMU), reason=f"{QEMU} missing"),
    pytest.mark.skipif(not shutil.which("grub-mkrescue"), reason="grub-mkrescue missing"),
    pytest.mark.skipif(not os.path.isfile(ELF), reason=f"{ELF} missing: run `make` first"),
]


def make_iso(tmp_path, elf_bytes):
    root = tmp_path / "isoroot"
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "proofboot.elf").write_bytes(elf_bytes)
    shutil.copy(os.path.join(REPO, "iso", "grub.cfg"), root / "boot" / "grub" / "grub.cfg")
    iso = tmp_path / "broken.iso"
    subprocess.run([os.path.join(REPO, "iso", "mkrescue"), str(iso), str(root)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def boot(iso, log, uefi):
    cmd = ["timeout", str(BOOT_TIMEOUT_S), QEMU, "-M", "q35", "-m", "256M", "-display", "none",
           "-no-reboot", "-net", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-cdrom", str(iso), "-boot", "d", "-serial", f"file:{log}"]
    if uefi:
        cmd += ["-bios", OVMF]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True).returncode


def check_log(log):
    return subprocess.run([sys.executable, os.path.join(REPO, "tools", "check-log"), str(log)],
                          capture_output=True, text=True)


BROKEN = {
    "truncated": (lambda: open(ELF, "rb").read()[:TRUNCATED_BYTES], "premature end of file"),
    "wrong-machine": (lambda: open(shutil.which("true") or "/bin/true", "rb").read(),
                      "no multiboot header found"),
}


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_grub_gives_up_with_its_reason(tmp_path, kind, firmware):
    if firmware == "uefi" and not os.path.isfile(OVMF):
        pytest.skip(f"{OVMF} missing")
    make_bytes, grub_says = BROKEN[kind]
    iso = make_iso(tmp_path, make_bytes())
    log = tmp_path / "console.log"
    status = boot(iso, log, firmware == "uefi")
    text = log.read_text(errors="replace")
    assert status == qmatrix.GRUB_GAVE_UP_EXIT, f"QEMU exit {status}; console:\n{text[-2000:]}"
    assert grub_says in text
    assert "grub: cannot start proofboot.elf" in text
    checked = check_log(log)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "the boot loader reported: line" in checked.stdout
    assert grub_says in checked.stdout
