/*
 * AMD-Vi command buffer entries and event log entries (AMD IOMMU
 * specification 48882, sections 2.4 and 2.5): encoders for the commands the
 * driver issues and a decoder for every event the IOMMU logs.  Both are
 * 128-bit ring entries; the code sits in bits 31:28 of the second dword.
 */
#ifndef PROOFBOOT_LIB_AMDVI_CMD_H
#define PROOFBOOT_LIB_AMDVI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMDVI_RING_ENTRY_BYTES 16u
#define AMDVI_CODE_SHIFT 60 /* opcode / event code: bits 63:60 of the first quad */
#define AMDVI_CODE_MASK 0xfull

struct amdvi_ring_entry {
	uint64_t q[2];
};

/* ---- commands ---- */
enum amdvi_cmd_opcode {
	AMDVI_CMD_COMPLETION_WAIT = 0x1,
	AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY = 0x2,
	AMDVI_CMD_INVALIDATE_IOMMU_PAGES = 0x3,
	AMDVI_CMD_INVALIDATE_IOTLB_PAGES = 0x4,
	AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE = 0x5,
	AMDVI_CMD_INVALIDATE_IOMMU_ALL = 0x8,
};

/* COMPLETION_WAIT */
#define AMDVI_CW_STORE (1ull << 0)      /* S: write StoreData to StoreAddress */
#define AMDVI_CW_INTERRUPT (1ull << 1)  /* I: set ComWaitInt */
#define AMDVI_CW_FLUSH (1ull << 2)      /* F: wait for prior posted writes */
#define AMDVI_CW_ADDR_MASK 0x000ffffffffffff8ull /* 8-byte aligned, bits 51:3 */
/* INVALIDATE_IOMMU_PAGES: domain id in bits 47:32; third dword holds S, PDE, address */
#define AMDVI_INV_DOMAIN_SHIFT 32
#define AMDVI_INV_SIZE (1ull << 0)      /* S: the address encodes a range */
#define AMDVI_INV_PDE (1ull << 1)       /* also drop cached directory entries */
#define AMDVI_INV_ADDR_MASK 0xfffffffffffff000ull
/* S with every address bit 62:12 set: the whole 64-bit space (bit 63 clear, as the spec asks). */
#define AMDVI_INV_ALL_PAGES_ADDR 0x7ffffffffffff000ull

struct amdvi_ring_entry amdvi_cmd_completion_wait(uint64_t store_phys, uint64_t store_data);
struct amdvi_ring_entry amdvi_cmd_invalidate_devtab_entry(uint16_t devid);
/* INVALIDATE_IOMMU_ALL: every cached entry of every kind (needs EFR.IASup). */
struct amdvi_ring_entry amdvi_cmd_invalidate_all(void);
/*
 * INVALIDATE_IOMMU_PAGES for domain_id covering at least [iova, iova + size):
 * one page without S, else the smallest naturally aligned power-of-two block
 * holding the range (address bits below the block size set, S = 1); PDE set
 * so directory entries are dropped too.  size 0 means everything.
 */
struct amdvi_ring_entry amdvi_cmd_invalidate_pages(uint16_t domain_id, uint64_t iova,
						   uint64_t size);

/* Opcode of a command entry. */
unsigned amdvi_cmd_opcode(const struct amdvi_ring_entry *e);
/* The [first, last] byte range an INVALIDATE_IOMMU_PAGES entry covers (spec's S encoding). */
void amdvi_cmd_invalidate_range(const struct amdvi_ring_entry *e, uint64_t *first,
				uint64_t *last);

/* ---- events ---- */
enum amdvi_event_code {
	AMDVI_EVENT_ILLEGAL_DEV_TABLE_ENTRY = 0x1,
	AMDVI_EVENT_IO_PAGE_FAULT = 0x2,
	AMDVI_EVENT_DEV_TAB_HARDWARE_ERROR = 0x3,
	AMDVI_EVENT_PAGE_TAB_HARDWARE_ERROR = 0x4,
	AMDVI_EVENT_ILLEGAL_COMMAND_ERROR = 0x5,
	AMDVI_EVENT_COMMAND_HARDWARE_ERROR = 0x6,
	AMDVI_EVENT_IOTLB_INV_TIMEOUT = 0x7,
	AMDVI_EVENT_INVALID_DEVICE_REQUEST = 0x8,
	AMDVI_EVENT_INVALID_PPR_REQUEST = 0x9,
	AMDVI_EVENT_EVENT_COUNTER_ZERO = 0xa,
};

/* First quad: device id 15:0, domain id (page faults) 47:32, flags 59:48. */
#define AMDVI_EVENT_DEVID_MASK 0xffffull
#define AMDVI_EVENT_DOMAIN_SHIFT 32
#define AMDVI_EVENT_DOMAIN_MASK 0xffffull
#define AMDVI_EVENT_FLAGS_SHIFT 48
#define AMDVI_EVENT_FLAGS_MASK 0xfffull
/* Flags of IO_PAGE_FAULT and ILLEGAL_DEV_TABLE_ENTRY (bits of the 12-bit field). */
#define AMDVI_EVENT_FLAG_GN (1u << 0)  /* guest (PASID) request */
#define AMDVI_EVENT_FLAG_NX (1u << 1)  /* no-execute violation */
#define AMDVI_EVENT_FLAG_US (1u << 2)  /* user/supervisor */
#define AMDVI_EVENT_FLAG_I (1u << 3)   /* interrupt request */
#define AMDVI_EVENT_FLAG_PR (1u << 4)  /* the page was present: a permission fault */
#define AMDVI_EVENT_FLAG_RW (1u << 5)  /* write transaction */
#define AMDVI_EVENT_FLAG_PE (1u << 6)  /* permission denied */
#define AMDVI_EVENT_FLAG_RZ (1u << 7)  /* a reserved bit was not zero */
#define AMDVI_EVENT_FLAG_TR (1u << 8)  /* translation request */

struct amdvi_event {
	unsigned code;         /* enum amdvi_event_code, unknown values kept */
	const char *name;      /* "IO_PAGE_FAULT", ..., "UNKNOWN" */
	uint16_t devid;        /* requester id (0 for command events) */
	uint16_t domain_id;    /* IO_PAGE_FAULT only */
	unsigned flags;        /* AMDVI_EVENT_FLAG_* (page faults, illegal DTE) */
	uint64_t address;      /* IOVA, DTE, PTE or command address by event */
	bool write;            /* flags RW */
};

void amdvi_event_decode(const struct amdvi_ring_entry *e, struct amdvi_event *out);

/*
 * Whether the request behind an IO_PAGE_FAULT was a write.  The spec's flag
 * is RW.  QEMU 7.2 (hw/i386/amd_iommu.c, amdvi_page_walk) instead ORs its
 * access permission (1 = read, 2 = write) into the two lowest flag bits,
 * which the spec names GN and NX; a request without a PASID sets neither
 * (the firmware's devices use none), so NX without GN is read as QEMU's
 * "write" too.
 */
bool amdvi_event_is_write(const struct amdvi_event *ev);
const char *amdvi_event_name(unsigned code);

/*
 * Takes the event at ring[*index] of a ring of `entries` entries, if one
 * was logged there: decodes it into *out, zeroes the entry and advances
 * *index (wrapping).  Reads by content, not by the tail register: every
 * event code is non-zero and consumed entries are zeroed, so a non-zero
 * entry is an unread event (QEMU 7.2 never moves the tail register).
 * False, and nothing changed, when the entry is empty.
 */
bool amdvi_event_ring_take(struct amdvi_ring_entry *ring, unsigned entries, unsigned *index,
			   struct amdvi_event *out);

/*
 * The flag names of an event, '|'-joined (e.g. "PR|RW"), or "none", into
 * buf (always terminated).  Returns buf.
 */
const char *amdvi_event_flags_str(unsigned flags, char *buf, size_t len);

#endif
