/*
 * NVM Express register, command and data-structure definitions, named once.
 * Source: NVM Express Base Specification 1.4 / 2.0 (PCIe transport) and the
 * NVM Command Set specification.  Only what proofboot uses or reports.
 *
 * Portable (firmware and host): standard headers only.
 */
#ifndef PROOFBOOT_NVME_DEFS_H
#define PROOFBOOT_NVME_DEFS_H

#include <stdint.h>

/* ---- PCI identity of an NVMe controller (class code, never vendor id) ---- */
#define NVME_PCI_CLASS    0x01 /* mass storage */
#define NVME_PCI_SUBCLASS 0x08 /* non-volatile memory */
#define NVME_PCI_PROG_IF  0x02 /* NVM Express */

/* ---- Controller registers (BAR0 offsets) ---- */
#define NVME_REG_CAP   0x00 /* 64-bit controller capabilities */
#define NVME_REG_VS    0x08 /* version */
#define NVME_REG_INTMS 0x0c /* interrupt mask set (INTx/MSI only) */
#define NVME_REG_INTMC 0x10 /* interrupt mask clear */
#define NVME_INTMS_ALL 0xffffffffu /* one bit per pin/MSI vector */
#define NVME_REG_CC    0x14 /* controller configuration */
#define NVME_REG_CSTS  0x1c /* controller status */
#define NVME_REG_NSSR  0x20 /* NVM subsystem reset */
#define NVME_REG_AQA   0x24 /* admin queue attributes */
#define NVME_REG_ASQ   0x28 /* 64-bit admin SQ base */
#define NVME_REG_ACQ   0x30 /* 64-bit admin CQ base */
#define NVME_REG_CMBLOC 0x38 /* controller memory buffer location */
#define NVME_REG_CMBSZ  0x3c /* controller memory buffer size */
#define NVME_REG_CMBMSC 0x50 /* CMB memory space control (64-bit; NVMe >= 1.4) */
/* CRE: CMBLOC/CMBSZ read as 0 until the host sets it (NVMe 1.4, QEMU 7.2). */
#define NVME_CMBMSC_CRE (1u << 0)
#define NVME_REG_DOORBELL_BASE 0x1000

/* Smallest BAR0 that holds the registers plus the admin and one I/O doorbell pair. */
#define NVME_BAR0_MIN_SIZE 0x2000u

/* CAP fields */
#define NVME_CAP_MQES(cap)   ((uint32_t)((cap) & 0xffff))       /* max queue entries, 0-based */
#define NVME_CAP_CQR(cap)    ((uint32_t)(((cap) >> 16) & 0x1))  /* contiguous queues required */
#define NVME_CAP_AMS(cap)    ((uint32_t)(((cap) >> 17) & 0x3))
#define NVME_CAP_TO(cap)     ((uint32_t)(((cap) >> 24) & 0xff)) /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD(cap)  ((uint32_t)(((cap) >> 32) & 0xf))  /* doorbell stride 2^(2+DSTRD) */
#define NVME_CAP_NSSRS(cap)  ((uint32_t)(((cap) >> 36) & 0x1))
#define NVME_CAP_CSS(cap)    ((uint32_t)(((cap) >> 37) & 0xff)) /* command sets supported */
#define NVME_CAP_BPS(cap)    ((uint32_t)(((cap) >> 45) & 0x1))
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf))  /* 2^(12+MPSMIN) bytes */
#define NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))
#define NVME_CAP_CMBS(cap)   ((uint32_t)(((cap) >> 57) & 0x1))  /* CMBLOC/CMBSZ supported */
#define NVME_CAP_CSS_NVM     0x01u /* CSS bit 0: NVM command set */
#define NVME_CAP_CSS_IOCS    0x40u /* CSS bit 6: one or more I/O command sets (CC.CSS 110b) */
#define NVME_CAP_CSS_NOIO    0x80u /* CSS bit 7: admin only, no I/O command set */
#define NVME_CAP_TO_UNIT_MS  500u
#define NVME_MPS_SHIFT_BASE  12u   /* memory page size = 2^(12 + MPS) */

/* CMBLOC / CMBSZ fields (valid only when CAP.CMBS is set on NVMe >= 1.4) */
#define NVME_CMBLOC_BIR(v)   ((v) & 0x7u)          /* BAR holding the buffer */
#define NVME_CMBLOC_OFST(v)  ((v) >> 12)           /* offset in CMBSZ.SZU units */
#define NVME_CMBSZ_SQS       (1u << 0)             /* submission queues may live there */
#define NVME_CMBSZ_CQS       (1u << 1)
#define NVME_CMBSZ_LISTS     (1u << 2)             /* PRP/SGL lists */
#define NVME_CMBSZ_RDS       (1u << 3)             /* read data */
#define NVME_CMBSZ_WDS       (1u << 4)             /* write data */
#define NVME_CMBSZ_SZU(v)    (((v) >> 8) & 0xfu)   /* unit: 4 KiB << (4 * SZU) */
#define NVME_CMBSZ_SZ(v)     ((v) >> 12)           /* size in SZU units */
#define NVME_CMBSZ_SZU_MAX   6u                    /* 64 GiB; higher values are reserved */
#define NVME_CMBSZ_SZU_BASE_SHIFT 12u
#define NVME_CMBSZ_SZU_STEP_SHIFT 4u

/* VS fields */
#define NVME_VS_MAJOR(vs) (((vs) >> 16) & 0xffff)
#define NVME_VS_MINOR(vs) (((vs) >> 8) & 0xff)
#define NVME_VS_TERTIARY(vs) ((vs) & 0xff)

/* CC fields */
#define NVME_CC_EN             (1u << 0)
#define NVME_CC_CSS_SHIFT      4
#define NVME_CC_CSS_NVM        (0u << NVME_CC_CSS_SHIFT)
#define NVME_CC_MPS_SHIFT      7
#define NVME_CC_MPS_MASK       (0xfu << NVME_CC_MPS_SHIFT)
#define NVME_CC_AMS_SHIFT      11
#define NVME_CC_AMS_RR         (0u << NVME_CC_AMS_SHIFT) /* round robin arbitration */
#define NVME_CC_SHN_SHIFT      14
#define NVME_CC_SHN_MASK       (0x3u << NVME_CC_SHN_SHIFT)
#define NVME_CC_SHN_NORMAL     (0x1u << NVME_CC_SHN_SHIFT)
#define NVME_CC_SHN_ABRUPT     (0x2u << NVME_CC_SHN_SHIFT)
#define NVME_CC_IOSQES_SHIFT   16
#define NVME_CC_IOSQES_MASK    (0xfu << NVME_CC_IOSQES_SHIFT)
#define NVME_CC_IOCQES_SHIFT   20
#define NVME_CC_IOCQES_MASK    (0xfu << NVME_CC_IOCQES_SHIFT)

/* CSTS fields */
#define NVME_CSTS_RDY           (1u << 0)
#define NVME_CSTS_CFS           (1u << 1) /* controller fatal status */
#define NVME_CSTS_SHST_SHIFT    2
#define NVME_CSTS_SHST_MASK     (0x3u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_SHST_NORMAL   (0x0u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_SHST_OCCURRING (0x1u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_SHST_COMPLETE (0x2u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_NSSRO         (1u << 4)
#define NVME_CSTS_PP            (1u << 5)
/* A register read of all ones means the device fell off the bus. */
#define NVME_REG_READ_FAILED    0xffffffffu

/* AQA fields: sizes are 0-based, at most 4096 entries each. */
#define NVME_AQA_ASQS_SHIFT 0
#define NVME_AQA_ACQS_SHIFT 16
#define NVME_AQA_SIZE_MASK  0xfffu
#define NVME_ADMIN_QUEUE_MAX_ENTRIES 4096u
#define NVME_IO_QUEUE_MAX_ENTRIES    65536u

/* Doorbells: SQ y tail at 0x1000 + (2y) * stride, CQ y head at 0x1000 + (2y+1) * stride. */
#define NVME_DOORBELL_STRIDE(dstrd) (4u << (dstrd))
#define NVME_SQ_TAIL_DOORBELL(qid, dstrd) \
	(NVME_REG_DOORBELL_BASE + (2u * (qid)) * NVME_DOORBELL_STRIDE(dstrd))
#define NVME_CQ_HEAD_DOORBELL(qid, dstrd) \
	(NVME_REG_DOORBELL_BASE + (2u * (qid) + 1u) * NVME_DOORBELL_STRIDE(dstrd))

#define NVME_ADMIN_QID 0u

/* ---- Opcodes ---- */
enum nvme_admin_opcode {
	NVME_ADMIN_DELETE_IO_SQ = 0x00,
	NVME_ADMIN_CREATE_IO_SQ = 0x01,
	NVME_ADMIN_GET_LOG_PAGE = 0x02,
	NVME_ADMIN_DELETE_IO_CQ = 0x04,
	NVME_ADMIN_CREATE_IO_CQ = 0x05,
	NVME_ADMIN_IDENTIFY = 0x06,
	NVME_ADMIN_ABORT = 0x08,
	NVME_ADMIN_SET_FEATURES = 0x09,
	NVME_ADMIN_GET_FEATURES = 0x0a,
	NVME_ADMIN_ASYNC_EVENT = 0x0c,
};

enum nvme_io_opcode {
	NVME_IO_FLUSH = 0x00,
	NVME_IO_WRITE = 0x01,
	NVME_IO_READ = 0x02,
};

/* ---- Submission / completion queue entries ---- */
#define NVME_SQE_SIZE_LOG2 6 /* 64-byte SQE: CC.IOSQES */
#define NVME_CQE_SIZE_LOG2 4 /* 16-byte CQE: CC.IOCQES */

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;   /* FUSE bits 1:0, PSDT bits 7:6 (0 = PRPs) */
	uint16_t cid;    /* command identifier, echoed in the CQE */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;   /* metadata pointer */
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == (1u << NVME_SQE_SIZE_LOG2), "SQE is 64 bytes");

struct nvme_cqe {
	uint32_t dw0;     /* command specific */
	uint32_t dw1;
	uint16_t sq_head; /* SQ head pointer as the controller consumed it */
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;  /* bit 0 phase tag, bits 15:1 status field */
};
_Static_assert(sizeof(struct nvme_cqe) == (1u << NVME_CQE_SIZE_LOG2), "CQE is 16 bytes");

/* CQE status word (including the phase bit). */
#define NVME_CQE_PHASE          (1u << 0)
#define NVME_CQE_STATUS_SHIFT   1
/* Status field (the status word shifted right by one). */
#define NVME_STATUS_SC(s)       ((uint8_t)((s) & 0xff))
#define NVME_STATUS_SCT(s)      ((uint8_t)(((s) >> 8) & 0x7))
#define NVME_STATUS_CRD(s)      ((uint8_t)(((s) >> 11) & 0x3))
#define NVME_STATUS_MORE        (1u << 13)
#define NVME_STATUS_DNR         (1u << 14)
#define NVME_STATUS_CODE_MASK   0x7ffu /* SCT:SC, printed as status=0x281 */

enum nvme_status_code_type {
	NVME_SCT_GENERIC = 0,
	NVME_SCT_COMMAND_SPECIFIC = 1,
	NVME_SCT_MEDIA = 2,
	NVME_SCT_PATH = 3,
	NVME_SCT_VENDOR = 7,
};

/* Status codes proofboot refers to by name (SCT << 8 | SC). */
#define NVME_SC_SUCCESS               0x000
#define NVME_SC_INVALID_FIELD         0x002
#define NVME_SC_DATA_TRANSFER_ERROR   0x004
#define NVME_SC_INVALID_NAMESPACE     0x00b /* invalid namespace or format */
#define NVME_SC_INVALID_PRP_OFFSET    0x013
#define NVME_SC_LBA_OUT_OF_RANGE      0x080
#define NVME_SC_INVALID_QUEUE_ID      0x101
#define NVME_SC_INVALID_QUEUE_SIZE    0x102
#define NVME_SC_INVALID_INT_VECTOR    0x108
#define NVME_SC_ZONE_BOUNDARY_ERROR   0x1b8 /* zoned: access crossed a zone boundary */
#define NVME_SC_WRITE_FAULT           0x280
#define NVME_SC_UNRECOVERED_READ      0x281

/* SQE command dword fields */
#define NVME_CDW10_QID_SHIFT     0
#define NVME_CDW10_QSIZE_SHIFT   16  /* queue size, 0-based */
#define NVME_CDW11_PC            (1u << 0) /* physically contiguous */
#define NVME_CDW11_CQ_IEN        (1u << 1) /* interrupts enabled */
#define NVME_CDW11_CQ_IV_SHIFT   16  /* interrupt vector (MSI-X table index) */
#define NVME_CDW11_SQ_QPRIO_SHIFT 1
#define NVME_CDW11_SQ_CQID_SHIFT 16
#define NVME_CDW12_NLB_MASK      0xffffu /* number of logical blocks, 0-based */
/* Protection information field of Read/Write CDW12 (NVM Command Set 5.2.2). */
#define NVME_CDW12_PRCHK_REFTAG  (1u << 26) /* check the reference tag */
#define NVME_CDW12_PRCHK_APPTAG  (1u << 27) /* check the application tag */
#define NVME_CDW12_PRCHK_GUARD   (1u << 28) /* check the guard (CRC) */
#define NVME_CDW12_PRACT         (1u << 29) /* controller inserts/strips PI */
#define NVME_MAX_BLOCKS_PER_RW   65536u

/* ---- Identify ---- */
#define NVME_IDENTIFY_DATA_SIZE 4096u
enum nvme_identify_cns {
	NVME_CNS_NAMESPACE = 0x00,
	NVME_CNS_CONTROLLER = 0x01,
	NVME_CNS_ACTIVE_NSID_LIST = 0x02,
	NVME_CNS_NS_DESCRIPTORS = 0x03,   /* namespace identification descriptor list */
	NVME_CNS_NAMESPACE_IOCS = 0x05,   /* I/O command set specific Identify Namespace */
	NVME_CNS_CONTROLLER_IOCS = 0x06,  /* I/O command set specific Identify Controller */
};
/* Identify CDW11 bits 31:24: command set identifier for CNS 05h/06h. */
#define NVME_IDENTIFY_CDW11_CSI_SHIFT 24
enum nvme_csi {
	NVME_CSI_NVM = 0x00,
	NVME_CSI_KV = 0x01,
	NVME_CSI_ZONED = 0x02,
};
#define NVME_NSID_LIST_MAX 1024u
#define NVME_NSID_BROADCAST 0xffffffffu

/* Identify Controller byte offsets */
#define NVME_IDC_VID     0
#define NVME_IDC_SSVID   2
#define NVME_IDC_SN      4
#define NVME_IDC_SN_LEN  20
#define NVME_IDC_MN      24
#define NVME_IDC_MN_LEN  40
#define NVME_IDC_FR      64
#define NVME_IDC_FR_LEN  8
#define NVME_IDC_MDTS    77
#define NVME_IDC_CMIC    76 /* multi-path I/O and namespace sharing */
#define NVME_IDC_CNTLID  78
#define NVME_IDC_VER     80
#define NVME_IDC_SQES    512 /* bits 3:0 required (min), 7:4 maximum, log2 bytes */
#define NVME_IDC_CQES    513
#define NVME_IDC_OACS    256 /* optional admin command support (16 bits) */
#define NVME_IDC_NN      516
#define NVME_IDC_ONCS    520 /* optional NVM command support (16 bits) */
#define NVME_IDC_SUBNQN  768 /* NVM subsystem NVMe qualified name, NUL padded */
#define NVME_IDC_SUBNQN_LEN 256
#define NVME_CMIC_MULTI_PORT (1u << 0)
#define NVME_CMIC_MULTI_CTRL (1u << 1) /* subsystem may have two or more controllers */
#define NVME_CMIC_SRIOV      (1u << 2)
#define NVME_CMIC_ANA        (1u << 3)
#define NVME_IDC_VS      3072 /* vendor-specific area */
#define NVME_IDC_VS_LEN  1024

/* Identify Namespace byte offsets */
#define NVME_IDNS_NSZE   0
#define NVME_IDNS_NCAP   8
#define NVME_IDNS_NUSE   16
#define NVME_IDNS_NSFEAT 24
#define NVME_IDNS_NLBAF  25 /* number of LBA formats, 0-based */
#define NVME_IDNS_FLBAS  26
#define NVME_IDNS_MC     27 /* metadata capabilities */
#define NVME_IDNS_DPC    28 /* end-to-end data protection capabilities */
#define NVME_IDNS_DPS    29 /* end-to-end data protection type settings */
#define NVME_IDNS_NMIC   30 /* namespace multi-path I/O and sharing */
#define NVME_DPS_TYPE(d)       ((d) & 0x7u) /* 0 none, 1..3 PI type */
#define NVME_DPS_TYPE_MAX      3u
#define NVME_DPS_PI_FIRST      (1u << 3)    /* PI in the first bytes of the metadata */
#define NVME_NMIC_SHARED       (1u << 0)    /* namespace may be attached to several controllers */
#define NVME_IDNS_LBAF   128 /* 4-byte LBA format descriptors */
#define NVME_IDNS_LBAF_ENTRY_SIZE 4
#define NVME_IDNS_LBAF_MAX 64   /* NVMe 2.0: up to 64 formats (bytes 128..383) */
#define NVME_IDNS_LBAF_LEGACY_MAX 16 /* formats addressable by FLBAS bits 3:0 */
#define NVME_FLBAS_INDEX_LOW(f)  ((f) & 0xfu)
#define NVME_FLBAS_EXTENDED      (1u << 4) /* metadata transferred at the end of each LBA */
#define NVME_FLBAS_INDEX_HIGH(f) (((f) >> 5) & 0x3u) /* index bits 5:4 when NLBAF >= 16 */
#define NVME_LBAF_MS(d)    ((uint16_t)((d) & 0xffff))
#define NVME_LBAF_LBADS(d) ((uint8_t)(((d) >> 16) & 0xff))
#define NVME_LBAF_RP(d)    ((uint8_t)(((d) >> 24) & 0x3))
#define NVME_LBADS_MIN 9 /* 512 bytes: smaller sizes are not supported by the spec */
#define NVME_LBADS_SERVED_MAX 21 /* 2 MiB: the largest block the firmware reads (QEMU's limit) */
#define NVME_LBADS_MAX 31        /* larger data sizes do not fit the 32-bit size fields */

/* ---- Namespace Identification Descriptor list (CNS 03h) ---- */
#define NVME_NIDT_HEADER_SIZE 4 /* NIDT, NIDL, 2 reserved */
enum nvme_nidt {
	NVME_NIDT_EUI64 = 0x1,
	NVME_NIDT_NGUID = 0x2,
	NVME_NIDT_UUID = 0x3,
	NVME_NIDT_CSI = 0x4,
};
#define NVME_NIDL_EUI64 8
#define NVME_NIDL_NGUID 16
#define NVME_NIDL_UUID  16
#define NVME_NIDL_CSI   1

/* ---- Zoned Namespace Command Set: Identify Namespace (CNS 05h, CSI 02h) ---- */
#define NVME_ZNS_IDNS_LBAFE  2816 /* LBA format extensions, 16 bytes each */
#define NVME_ZNS_LBAFE_SIZE  16
#define NVME_ZNS_LBAFE_ZSZE  0    /* zone size in logical blocks, 64 bits */
#define NVME_ZNS_LBAFE_ZDES  8    /* zone descriptor extension size, 64-byte units */
#define NVME_ZNS_IDNS_MAR    4    /* max active resources, 0-based, 0xffffffff = no limit */
#define NVME_ZNS_IDNS_MOR    8    /* max open resources */
/* Zoned Namespace Command Set: Identify Controller (CNS 06h, CSI 02h) */
#define NVME_ZNS_IDC_ZASL    0    /* zone append size limit, 2^ZASL min pages; 0 = MDTS */

#endif
