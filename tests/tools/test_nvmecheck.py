"""tools/nvmecheck.py through tools/proofcheck.py: the shape lines' claims against their own fields.

The good lines are copied from real QEMU 7.2 boots of the firmware (tests/matrix.toml shapes)."""
import pytest

from proofboot import prooflog
from proofboot import proofcheck
from synth import as_log, proof_lines

SUBS = frozenset(prooflog.BUILTIN_SUBSYSTEMS)

NS_EXT8 = ("nvme: identify namespace bdf=0000:00:02.0 nsid=1 nsze=32263 ncap=32263 nuse=32263 "
           "flbas_index=1 lbaf_count=8 lba_size=512 metadata_size=8 metadata_extended=true "
           "capacity_bytes=16518656 last_lba=32262 "
           "lbafs=9:0:0,*9:8:0,9:16:0,9:64:0,12:0:0,12:8:0,12:16:0,12:64:0 mc=0x03 dpc=0x1f "
           "dps=0x00 nmic=0x00 shared=false csi=0x00 csi_name=nvm csi_reported=true served=true "
           "md_layout=extended block_buffer_bytes=520 pi_type=0 pract=false prchk=none")
NS_ZONED = ("nvme: identify namespace bdf=0000:00:02.0 nsid=1 nsze=32768 ncap=32768 nuse=32768 "
            "flbas_index=0 lbaf_count=8 lba_size=512 metadata_size=0 metadata_extended=false "
            "capacity_bytes=16777216 last_lba=32767 "
            "lbafs=*9:0:0,9:8:0,9:16:0,9:64:0,12:0:0,12:8:0,12:16:0,12:64:0 mc=0x03 dpc=0x1f "
            "dps=0x00 nmic=0x00 shared=false csi=0x02 csi_name=zoned csi_reported=true "
            "zone_blocks=2048 zones=16 zasl=0 served=true md_layout=none block_buffer_bytes=512 "
            "pi_type=0 pract=false prchk=none")
NS_2M = ("nvme: identify namespace bdf=0000:00:02.0 nsid=1 nsze=8 ncap=8 nuse=8 flbas_index=8 "
         "lbaf_count=9 lba_size=2097152 metadata_size=0 metadata_extended=false "
         "capacity_bytes=16777216 last_lba=7 "
         "lbafs=9:0:0,9:8:0,9:16:0,9:64:0,12:0:0,12:8:0,12:16:0,12:64:0,*21:0:0 mc=0x03 "
         "dpc=0x1f dps=0x00 nmic=0x00 shared=false csi=0x00 csi_name=nvm csi_reported=true "
         "served=true md_layout=none block_buffer_bytes=2097152 pi_type=0 pract=false prchk=none")
IRQ = ("nvme: interrupt proof bdf=0000:00:02.0 mode=msix vector=0x32 msix_entry=1 "
       "irq_count_before=5 irq_count_after=6 completion_posted=true cid_matches=true "
       "status=0x000 waited_us=301 crc32=0x0b8dda3b data_checked=true data_matches=true proven=true")
CMB = ("nvme: cmb bdf=0000:00:0b.0 cmbloc=0x00000062 cmbsz=0x0004021d valid=true bir=2 offset=0x0 "
       "size=67108864 sqs=true cqs=false lists=true rds=true wds=true used=never")
CTRL = ("nvme: identify controller bdf=0000:00:02.0 vid=0x1b36 ssvid=0x1af4 sn=pb-%C3%A9 "
        "mn=QEMU%20NVMe%20Ctrl fr=7.2.22 mdts=7 max_transfer=524288 nn=256 ver=0x00010400 "
        "cntlid=0x0000 status=0x000 ascii=false oacs=0x010a oncs=0x015d cmic=0x00 "
        "multi_controller=false subnqn=nqn.2019-08.org.qemu:pb-x")


NAMESPACES = ("nvme: namespaces bdf=0000:00:02.0 method=active-nsid-list active=17 nsids=1-17 "
              "nsids_complete=true limit=16 tracked=16 "
              "tracked_nsids=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16")


REFUSAL = ("nvme: refusal bdf=0000:00:02.0 nsid=1 case=missing-mptr md_layout=separate "
           "submitted=false reason=raw-command:%20metadata-pointer-not-set usable_after=true ok=true")


def check(lines):
    return proofcheck.check_log(prooflog.parse_text(as_log(proof_lines(extra=lines)), SUBS))


def shape_errors(lines):
    return [f.message for f in check(lines).findings
            if f.check == "nvme-shapes" and f.severity == "error"]


def test_real_shape_lines_pass():
    assert shape_errors([NS_EXT8, NS_ZONED, NS_2M, IRQ, CMB, NAMESPACES, REFUSAL]) == []


@pytest.mark.parametrize("line, old, new, message", [
    (NS_EXT8, "*9:8:0", "9:8:0", "marks [] in use"),
    (NS_EXT8, "9:16:0,", "*9:16:0,", "marks [1, 2] in use"),
    (NS_EXT8, "lbaf_count=8", "lbaf_count=9", "has 8 formats"),
    (NS_2M, "*21:0:0", "*17:0:0", "disagrees with lba_size=2097152"),
    (NS_EXT8, "md_layout=extended", "md_layout=separate", "md_layout=separate but"),
    (NS_EXT8, "block_buffer_bytes=520", "block_buffer_bytes=512", "a block takes 520"),
    (NS_EXT8, "prchk=none", "prchk=guard", "must not ask the device"),
    (NS_EXT8, "served=true", "served=false skip_reason=whatever", "skip_reason=whatever"),
    (NS_ZONED, "zones=16", "zones=15", "zones=15 is not"),
    (NS_ZONED, " zasl=0", "", "without zasl"),
    (IRQ, "status=0x000", "status=0x013", "failed read status"),
    (IRQ, "data_matches=true", "data_matches=false", "without its data checked"),
    (IRQ, "data_checked=true", "data_checked=false", "without its data checked"),
    (IRQ, "cid_matches=true", "cid_matches=false", "without the matching completion"),
    (IRQ, "irq_count_after=6", "irq_count_after=5", "did not move"),
    (CMB, "size=67108864", "size=1048576", "is not what cmbsz"),
    (CMB, "bir=2", "bir=0", "not cmbloc bits"),
    (NAMESPACES, "nsids=1-17", "nsids=1-16", "nsids lists 16 namespaces but active=17"),
    (REFUSAL, "submitted=false", "submitted=true", "refusal ok=true but"),
    (REFUSAL, "metadata-pointer-not-set", "prp-list-too-short", "refusal ok=true but"),
    (REFUSAL, "usable_after=true", "usable_after=false", "refusal ok=true but"),
    (NAMESPACES, "limit=16", "limit=15", "but min(active, limit) is 15"),
    (NAMESPACES, "tracked_nsids=1,", "tracked_nsids=2,", "not the first tracked"),
])
def test_each_broken_claim_is_an_error(line, old, new, message):
    assert old in line
    errs = shape_errors([line.replace(old, new, 1)])
    assert len(errs) == 1 and message in errs[0], errs


def test_unknown_read_skip_reason_and_missing_md_crc():
    skipped = ("nvme: read skipped bdf=0000:00:02.0 serial=pb nsid=1 purpose=mdts-split "
               "reason=namespace-too-small need_blocks=2053 nsze=2048 block_buffer_bytes=512 "
               "max_blocks_per_command=1024")
    assert shape_errors([skipped]) == []
    assert "unknown reason=because" in shape_errors([skipped.replace("namespace-too-small",
                                                                      "because")])[0]
    read = ("nvme: read bdf=0000:00:02.0 serial=pb nsid=1 slba=0 blocks=8 lba_size=512 bytes=4096 "
            "crc32=0x6c00e3c8 status=0x000 data_valid=true dma_faults=0 backend=bounce-buffer "
            "purpose=first-blocks commands=1 blocks_per_command=896 max_in_flight=1 mode=msix "
            "irq_count=1 duration_us=822 metadata_size=8 md_layout=extended")
    assert shape_errors([read + " md_crc32=0x6dee5f49"]) == []
    assert "without md_crc32" in shape_errors([read])[0]


def test_non_ascii_identify_strings_warn_only():
    report = check([CTRL])
    assert report.ok
    warnings = [f.message for f in report.findings if f.severity == "warning"]
    assert any("outside printable ASCII" in w for w in warnings)
    assert not any("ASCII" in f.message for f in check([CTRL.replace("ascii=false", "ascii=true")]).findings)


def test_reads_through_two_controllers_of_one_subsystem_agree():
    read = ("nvme: read bdf={bdf} serial=pb-mp nsid=1 slba=0 blocks=8 lba_size=512 bytes=4096 "
            "crc32={crc} status=0x000 data_valid=true dma_faults=0 backend=bounce-buffer "
            "purpose=first-blocks commands=1 blocks_per_command=1024 max_in_flight=1 mode=msix "
            "irq_count=1 duration_us=100 metadata_size=0 md_layout=none")
    a = read.format(bdf="0000:00:02.0", crc="0x9d4c0368")
    assert shape_errors([a, read.format(bdf="0000:00:03.0", crc="0x9d4c0368")]) == []
    errs = shape_errors([a, read.format(bdf="0000:00:03.0", crc="0x00000001")])
    assert len(errs) == 1 and "through 0000:00:03.0 crc32=0x00000001 but through 0000:00:02.0" in errs[0]
