/* AMD-Vi command encoders and event decoder; see amdvi_cmd.h. */
#include "amdvi_cmd.h"

#include <stdio.h>
#include <string.h>

static uint64_t code_bits(unsigned code)
{
	return ((uint64_t)code & AMDVI_CODE_MASK) << AMDVI_CODE_SHIFT;
}

unsigned amdvi_cmd_opcode(const struct amdvi_ring_entry *e)
{
	return (unsigned)((e->q[0] >> AMDVI_CODE_SHIFT) & AMDVI_CODE_MASK);
}

struct amdvi_ring_entry amdvi_cmd_completion_wait(uint64_t store_phys, uint64_t store_data)
{
	return (struct amdvi_ring_entry){ { code_bits(AMDVI_CMD_COMPLETION_WAIT) |
						    (store_phys & AMDVI_CW_ADDR_MASK) |
						    AMDVI_CW_STORE,
					    store_data } };
}

struct amdvi_ring_entry amdvi_cmd_invalidate_devtab_entry(uint16_t devid)
{
	return (struct amdvi_ring_entry){ { code_bits(AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY) | devid,
					    0 } };
}

struct amdvi_ring_entry amdvi_cmd_invalidate_all(void)
{
	return (struct amdvi_ring_entry){ { code_bits(AMDVI_CMD_INVALIDATE_IOMMU_ALL), 0 } };
}

#define PAGE_BYTES 0x1000ull
#define ADDRESS_TOP_BIT 63u

/* Index of the highest set bit of a non-zero value. */
static unsigned highest_bit(uint64_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

/*
 * The S=1 address for the naturally aligned block holding [iova, last]: the
 * block is 2^(k+1) bytes where k is the highest bit in which iova and last
 * differ; its address has bits k-1..12 set and bit k clear.
 */
static uint64_t encoded_block(uint64_t iova, uint64_t last)
{
	unsigned k = highest_bit(iova ^ last);

	if (k >= ADDRESS_TOP_BIT - 1)
		return AMDVI_INV_ALL_PAGES_ADDR;
	return ((iova & ~((1ull << (k + 1)) - 1)) | ((1ull << k) - 1)) & AMDVI_INV_ADDR_MASK;
}

struct amdvi_ring_entry amdvi_cmd_invalidate_pages(uint16_t domain_id, uint64_t iova,
						   uint64_t size)
{
	struct amdvi_ring_entry e = { { code_bits(AMDVI_CMD_INVALIDATE_IOMMU_PAGES) |
						((uint64_t)domain_id << AMDVI_INV_DOMAIN_SHIFT),
					0 } };
	uint64_t first = iova & AMDVI_INV_ADDR_MASK;
	uint64_t last = size == 0 || iova + (size - 1) < iova ? UINT64_MAX : iova + (size - 1);

	if (size != 0 && (last & AMDVI_INV_ADDR_MASK) == first)
		e.q[1] = first | AMDVI_INV_PDE;
	else if (size == 0)
		e.q[1] = AMDVI_INV_ALL_PAGES_ADDR | AMDVI_INV_SIZE | AMDVI_INV_PDE;
	else
		e.q[1] = encoded_block(first, last) | AMDVI_INV_SIZE | AMDVI_INV_PDE;
	return e;
}

void amdvi_cmd_invalidate_range(const struct amdvi_ring_entry *e, uint64_t *first,
				uint64_t *last)
{
	uint64_t addr = e->q[1] & AMDVI_INV_ADDR_MASK;

	if (!(e->q[1] & AMDVI_INV_SIZE)) {
		*first = addr;
		*last = addr + PAGE_BYTES - 1;
		return;
	}
	/* Trailing ones above bit 11 give the block size: 2^(12 + ones + 1)... */
	unsigned ones = 0;

	while (ones + 12 < ADDRESS_TOP_BIT && (addr >> (12 + ones)) & 1)
		ones++;
	if (ones + 12 >= ADDRESS_TOP_BIT) {
		*first = 0;
		*last = UINT64_MAX;
		return;
	}
	uint64_t block = 1ull << (12 + ones + 1);

	*first = addr & ~(block - 1);
	*last = *first + block - 1;
}

/* ---- events ---- */

const char *amdvi_event_name(unsigned code)
{
	switch (code) {
	case AMDVI_EVENT_ILLEGAL_DEV_TABLE_ENTRY: return "ILLEGAL_DEV_TABLE_ENTRY";
	case AMDVI_EVENT_IO_PAGE_FAULT: return "IO_PAGE_FAULT";
	case AMDVI_EVENT_DEV_TAB_HARDWARE_ERROR: return "DEV_TAB_HARDWARE_ERROR";
	case AMDVI_EVENT_PAGE_TAB_HARDWARE_ERROR: return "PAGE_TAB_HARDWARE_ERROR";
	case AMDVI_EVENT_ILLEGAL_COMMAND_ERROR: return "ILLEGAL_COMMAND_ERROR";
	case AMDVI_EVENT_COMMAND_HARDWARE_ERROR: return "COMMAND_HARDWARE_ERROR";
	case AMDVI_EVENT_IOTLB_INV_TIMEOUT: return "IOTLB_INV_TIMEOUT";
	case AMDVI_EVENT_INVALID_DEVICE_REQUEST: return "INVALID_DEVICE_REQUEST";
	case AMDVI_EVENT_INVALID_PPR_REQUEST: return "INVALID_PPR_REQUEST";
	case AMDVI_EVENT_EVENT_COUNTER_ZERO: return "EVENT_COUNTER_ZERO";
	}
	return "UNKNOWN";
}

bool amdvi_event_ring_take(struct amdvi_ring_entry *ring, unsigned entries, unsigned *index,
			   struct amdvi_event *out)
{
	if (entries == 0 || *index >= entries)
		return false;
	struct amdvi_ring_entry *e = &ring[*index];

	if (e->q[0] == 0 && e->q[1] == 0)
		return false;
	amdvi_event_decode(e, out);
	e->q[0] = 0;
	e->q[1] = 0;
	*index = (*index + 1) % entries;
	return true;
}

/* Events whose first quad carries a requester id. */
static bool has_devid(unsigned code)
{
	return code != AMDVI_EVENT_ILLEGAL_COMMAND_ERROR &&
	       code != AMDVI_EVENT_COMMAND_HARDWARE_ERROR && code != AMDVI_EVENT_EVENT_COUNTER_ZERO;
}

void amdvi_event_decode(const struct amdvi_ring_entry *e, struct amdvi_event *out)
{
	memset(out, 0, sizeof(*out));
	out->code = (unsigned)((e->q[0] >> AMDVI_CODE_SHIFT) & AMDVI_CODE_MASK);
	out->name = amdvi_event_name(out->code);
	if (has_devid(out->code))
		out->devid = (uint16_t)(e->q[0] & AMDVI_EVENT_DEVID_MASK);
	if (out->code == AMDVI_EVENT_IO_PAGE_FAULT)
		out->domain_id = (uint16_t)((e->q[0] >> AMDVI_EVENT_DOMAIN_SHIFT) &
					    AMDVI_EVENT_DOMAIN_MASK);
	out->flags = (unsigned)((e->q[0] >> AMDVI_EVENT_FLAGS_SHIFT) & AMDVI_EVENT_FLAGS_MASK);
	out->write = (out->flags & AMDVI_EVENT_FLAG_RW) != 0;
	out->address = e->q[1];
}

bool amdvi_event_is_write(const struct amdvi_event *ev)
{
	bool qemu72_write = (ev->flags & (AMDVI_EVENT_FLAG_GN | AMDVI_EVENT_FLAG_NX)) ==
			    AMDVI_EVENT_FLAG_NX;

	return ev->write || qemu72_write;
}

const char *amdvi_event_flags_str(unsigned flags, char *buf, size_t len)
{
	static const char *const names[] = { "GN", "NX", "US", "I", "PR", "RW", "PE", "RZ", "TR" };
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i]);

		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* whole names only */
			break;
		}
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "none");
	return buf;
}
