/* Pure PCI configuration-space decoding; see pci_cfg.h. */
#include "pci_cfg.h"

#include <stdio.h>
#include <string.h>

#include "le.h"

#define IO_SPACE_LIMIT      0x10000ull     /* x86 I/O ports */
#define MEM32_SPACE_LIMIT   0x100000000ull
#define CONVENTIONAL_SLOTS  (PCI_CFG_SIZE / 4)
#define EXTENDED_SLOTS      (PCIE_CFG_SIZE / 4)
#define CFG_ALL_ONES8       0xffu

void pci_bdf_format(struct pci_bdf bdf, char out[PCI_BDF_STR_LEN])
{
	snprintf(out, PCI_BDF_STR_LEN, "%04x:%02x:%02x.%x", bdf.segment, bdf.bus, bdf.dev & 0x1f,
		 bdf.fn & 0x7);
}

uint8_t pci_cfg_get8(const uint8_t *cfg, size_t len, size_t off)
{
	return off < len ? cfg[off] : CFG_ALL_ONES8;
}

uint16_t pci_cfg_get16(const uint8_t *cfg, size_t len, size_t off)
{
	return off + 2 <= len ? le_get16(cfg + off) : 0xffffu;
}

uint32_t pci_cfg_get32(const uint8_t *cfg, size_t len, size_t off)
{
	return off + 4 <= len ? le_get32(cfg + off) : 0xffffffffu;
}

/* ------------------------------------------------------------------ BARs */

static uint64_t lowest_set_bit(uint64_t v)
{
	return v & (~v + 1);
}

/* Judges an implemented BAR's placement against the space it decodes. */
static enum pci_bar_state placement_state(uint64_t address, uint64_t size, uint64_t space_limit)
{
	if (address == 0)
		return PCI_BAR_UNASSIGNED;
	if (address & (size - 1))
		return PCI_BAR_MISALIGNED;
	if (size - 1 > UINT64_MAX - address)
		return PCI_BAR_OVERFLOWS;
	if (space_limit != 0 && address + size > space_limit)
		return PCI_BAR_OVERFLOWS;
	return PCI_BAR_OK;
}

static void decode_io(uint32_t raw, uint32_t mask, struct pci_bar *out)
{
	uint64_t size = lowest_set_bit(mask & PCI_BAR_IO_MASK);

	out->kind = PCI_BAR_KIND_IO;
	if (size == 0)
		return;
	out->size = size;
	out->address = raw & PCI_BAR_IO_MASK;
	out->state = placement_state(out->address, size, IO_SPACE_LIMIT);
}

static void decode_mem32(uint32_t raw, uint32_t mask, struct pci_bar *out)
{
	uint64_t size = lowest_set_bit(mask & PCI_BAR_MEM_MASK);

	out->kind = PCI_BAR_KIND_MEM32;
	if (size == 0)
		return;
	out->size = size;
	out->address = raw & PCI_BAR_MEM_MASK;
	out->state = placement_state(out->address, size, MEM32_SPACE_LIMIT);
}

static void decode_mem64(uint32_t raw_lo, uint32_t raw_hi, uint32_t mask_lo, uint32_t mask_hi,
			 struct pci_bar *out)
{
	uint64_t mask = ((uint64_t)mask_hi << 32) | (mask_lo & PCI_BAR_MEM_MASK);
	uint64_t size = lowest_set_bit(mask);

	out->kind = PCI_BAR_KIND_MEM64;
	if (size == 0)
		return;
	out->size = size;
	out->address = ((uint64_t)raw_hi << 32) | (raw_lo & PCI_BAR_MEM_MASK);
	out->state = placement_state(out->address, size, 0);
}

unsigned pci_bar_decode(unsigned index, uint32_t raw_lo, uint32_t raw_hi, uint32_t mask_lo,
			uint32_t mask_hi, bool has_next_slot, struct pci_bar *out)
{
	memset(out, 0, sizeof(*out));
	out->index = (uint8_t)index;
	out->state = PCI_BAR_UNIMPLEMENTED;
	if (mask_lo == 0) /* nothing sticks: no BAR in this slot */
		return 1;
	if (raw_lo & PCI_BAR_IO) {
		decode_io(raw_lo, mask_lo, out);
		return 1;
	}
	out->prefetchable = (raw_lo & PCI_BAR_MEM_PREFETCH) != 0;
	switch (raw_lo & PCI_BAR_MEM_TYPE_MASK) {
	case PCI_BAR_MEM_TYPE_32:
		decode_mem32(raw_lo, mask_lo, out);
		return 1;
	case PCI_BAR_MEM_TYPE_64:
		if (!has_next_slot) {
			out->kind = PCI_BAR_KIND_MEM64;
			out->state = PCI_BAR_BAD_TYPE;
			return 1;
		}
		decode_mem64(raw_lo, raw_hi, mask_lo, mask_hi, out);
		return 2;
	default:
		/* "Below 1 MiB" (PCI 2.x) and the reserved type: refuse to use them. */
		out->kind = PCI_BAR_KIND_MEM32;
		out->state = PCI_BAR_BAD_TYPE;
		return 1;
	}
}

const char *pci_bar_kind_name(enum pci_bar_kind kind)
{
	switch (kind) {
	case PCI_BAR_KIND_NONE: return "none";
	case PCI_BAR_KIND_IO: return "io";
	case PCI_BAR_KIND_MEM32: return "mem32";
	case PCI_BAR_KIND_MEM64: return "mem64";
	}
	return "unknown";
}

const char *pci_bar_state_name(enum pci_bar_state state)
{
	switch (state) {
	case PCI_BAR_UNIMPLEMENTED: return "unimplemented";
	case PCI_BAR_OK: return "ok";
	case PCI_BAR_UNASSIGNED: return "unassigned";
	case PCI_BAR_MISALIGNED: return "misaligned";
	case PCI_BAR_OVERFLOWS: return "overflows";
	case PCI_BAR_BAD_TYPE: return "bad-type";
	}
	return "unknown";
}

/* ------------------------------------------------------------ capabilities */

const char *pci_cap_walk_result_name(enum pci_cap_walk_result r)
{
	switch (r) {
	case PCI_CAPS_OK: return "ok";
	case PCI_CAPS_LOOP: return "loop";
	case PCI_CAPS_BAD_POINTER: return "bad-pointer";
	case PCI_CAPS_TOO_MANY: return "too-many";
	}
	return "unknown";
}

static bool add_cap(struct pci_cap *caps, size_t max, size_t *n, struct pci_cap cap,
		    enum pci_cap_walk_result *result)
{
	if (*n == max) {
		*result = PCI_CAPS_TOO_MANY;
		return false;
	}
	caps[(*n)++] = cap;
	return true;
}

static void walk_conventional(const uint8_t *cfg, size_t len, struct pci_cap *caps, size_t max,
			      size_t *n, enum pci_cap_walk_result *result)
{
	bool visited[CONVENTIONAL_SLOTS] = { false };
	size_t limit = len < PCI_CFG_SIZE ? len : PCI_CFG_SIZE;
	unsigned ptr;

	if (!(pci_cfg_get16(cfg, len, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	ptr = pci_cfg_get8(cfg, len, PCI_CAPABILITY_LIST) & PCI_CAP_PTR_MASK;
	while (ptr != 0) {
		if (ptr < PCI_CAP_FIRST_OFFSET || ptr + 2 > limit) {
			*result = PCI_CAPS_BAD_POINTER;
			return;
		}
		if (visited[ptr / 4]) {
			*result = PCI_CAPS_LOOP;
			return;
		}
		visited[ptr / 4] = true;
		struct pci_cap cap = { (uint16_t)ptr, cfg[ptr + PCI_CAP_ID], false, 0 };

		if (!add_cap(caps, max, n, cap, result))
			return;
		ptr = cfg[ptr + PCI_CAP_NEXT] & PCI_CAP_PTR_MASK;
	}
}

static void walk_extended(const uint8_t *cfg, size_t len, struct pci_cap *caps, size_t max,
			  size_t *n, enum pci_cap_walk_result *result)
{
	bool visited[EXTENDED_SLOTS] = { false };
	unsigned ptr = PCIE_EXT_CAP_FIRST_OFFSET;

	if (len < PCIE_CFG_SIZE)
		return;
	uint32_t first = le_get32(cfg + ptr);

	/* No extended capabilities: header reads 0, or all ones without a PCIe device. */
	if (first == 0 || first == 0xffffffffu)
		return;
	while (ptr != 0) {
		if (ptr < PCIE_EXT_CAP_FIRST_OFFSET || ptr + 4 > PCIE_CFG_SIZE) {
			*result = PCI_CAPS_BAD_POINTER;
			return;
		}
		if (visited[ptr / 4]) {
			*result = PCI_CAPS_LOOP;
			return;
		}
		visited[ptr / 4] = true;
		uint32_t h = le_get32(cfg + ptr);
		struct pci_cap cap = { (uint16_t)ptr, (uint16_t)PCIE_EXT_CAP_ID(h), true,
				       (uint8_t)PCIE_EXT_CAP_VERSION(h) };

		if (!add_cap(caps, max, n, cap, result))
			return;
		ptr = PCIE_EXT_CAP_NEXT(h);
	}
}

size_t pci_cap_walk(const uint8_t *cfg, size_t len, struct pci_cap *caps, size_t max,
		    enum pci_cap_walk_result *result)
{
	size_t n = 0;

	*result = PCI_CAPS_OK;
	walk_conventional(cfg, len, caps, max, &n, result);
	if (*result == PCI_CAPS_OK)
		walk_extended(cfg, len, caps, max, &n, result);
	return n;
}

const struct pci_cap *pci_cap_find(const struct pci_cap *caps, size_t n, uint16_t id,
				   bool extended)
{
	for (size_t i = 0; i < n; i++)
		if (caps[i].id == id && caps[i].extended == extended)
			return &caps[i];
	return NULL;
}

const char *pci_cap_name(const struct pci_cap *cap, char *buf, size_t cap_len)
{
	if (!cap->extended) {
		switch (cap->id) {
		case PCI_CAP_ID_PM: return "pm";
		case PCI_CAP_ID_MSI: return "msi";
		case PCI_CAP_ID_VENDOR: return "vendor";
		case PCI_CAP_ID_PCIE: return "pcie";
		case PCI_CAP_ID_MSIX: return "msix";
		}
		snprintf(buf, cap_len, "cap-0x%02x", cap->id);
		return buf;
	}
	switch (cap->id) {
	case PCIE_EXT_CAP_ID_AER: return "aer";
	case PCIE_EXT_CAP_ID_ACS: return "acs";
	case PCIE_EXT_CAP_ID_ATS: return "ats";
	case PCIE_EXT_CAP_ID_SRIOV: return "sriov";
	case PCIE_EXT_CAP_ID_PASID: return "pasid";
	}
	snprintf(buf, cap_len, "ext-0x%04x", cap->id);
	return buf;
}

void pci_msix_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset,
		     struct pci_msix_info *out)
{
	uint16_t flags = pci_cfg_get16(cfg, len, cap_offset + PCI_MSIX_FLAGS);
	uint32_t table = pci_cfg_get32(cfg, len, cap_offset + PCI_MSIX_TABLE);
	uint32_t pba = pci_cfg_get32(cfg, len, cap_offset + PCI_MSIX_PBA);

	out->table_size = (uint16_t)((flags & PCI_MSIX_FLAGS_QSIZE) + 1);
	out->enabled = (flags & PCI_MSIX_FLAGS_ENABLE) != 0;
	out->function_masked = (flags & PCI_MSIX_FLAGS_MASKALL) != 0;
	out->table_bir = (uint8_t)(table & PCI_MSIX_BIR_MASK);
	out->table_offset = table & PCI_MSIX_OFFSET_MASK;
	out->pba_bir = (uint8_t)(pba & PCI_MSIX_BIR_MASK);
	out->pba_offset = pba & PCI_MSIX_OFFSET_MASK;
}

void pci_msi_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset, struct pci_msi_info *out)
{
	uint16_t flags = pci_cfg_get16(cfg, len, cap_offset + PCI_MSI_FLAGS);

	out->enabled = (flags & PCI_MSI_FLAGS_ENABLE) != 0;
	out->is_64bit = (flags & PCI_MSI_FLAGS_64BIT) != 0;
	out->per_vector_mask = (flags & PCI_MSI_FLAGS_MASKBIT) != 0;
	out->multi_message_capable = (uint8_t)((flags >> 1) & 0x7);
}

void pci_pcie_decode(const uint8_t *cfg, size_t len, uint16_t cap_offset,
		     struct pci_pcie_info *out)
{
	uint16_t flags = pci_cfg_get16(cfg, len, cap_offset + PCI_EXP_FLAGS);

	out->version = (uint8_t)(flags & PCI_EXP_FLAGS_VERSION);
	out->port_type = (uint8_t)((flags >> PCI_EXP_FLAGS_TYPE_SHIFT) & PCI_EXP_FLAGS_TYPE_MASK);
}

const char *pci_pcie_port_type_name(uint8_t port_type)
{
	static const char *const names[] = {
		"endpoint", "legacy-endpoint", "reserved-2", "reserved-3", "root-port",
		"upstream-port", "downstream-port", "pcie-to-pci-bridge", "pci-to-pcie-bridge",
		"rc-integrated-endpoint", "rc-event-collector",
	};

	return port_type < sizeof(names) / sizeof(names[0]) ? names[port_type] : "reserved";
}

/* --------------------------------------------------------------- classes */

struct class_triple_name {
	uint8_t class_code, subclass;
	int prog_if; /* -1: any */
	const char *name;
};

static const struct class_triple_name triple_names[] = {
	{ PCI_CLASS_MASS_STORAGE, 0x08, 0x02, "nvme" },
	{ PCI_CLASS_MASS_STORAGE, 0x08, -1, "non-volatile-memory" },
	{ PCI_CLASS_MASS_STORAGE, 0x06, 0x01, "ahci" },
	{ PCI_CLASS_MASS_STORAGE, 0x06, -1, "sata" },
	{ PCI_CLASS_MASS_STORAGE, 0x01, -1, "ide" },
	{ PCI_CLASS_MASS_STORAGE, 0x00, -1, "scsi" },
	{ PCI_CLASS_MASS_STORAGE, 0x07, -1, "sas" },
	{ PCI_CLASS_NETWORK, 0x00, -1, "ethernet" },
	{ PCI_CLASS_DISPLAY, 0x00, -1, "vga" },
	{ PCI_CLASS_BRIDGE, PCI_SUBCLASS_BRIDGE_HOST, -1, "host-bridge" },
	{ PCI_CLASS_BRIDGE, PCI_SUBCLASS_BRIDGE_ISA, -1, "isa-bridge" },
	{ PCI_CLASS_BRIDGE, PCI_SUBCLASS_BRIDGE_PCI, -1, "pci-bridge" },
	{ 0x0c, 0x03, -1, "usb" },
	{ 0x0c, 0x05, -1, "smbus" },
	{ 0x08, 0x06, -1, "iommu" },
};

static const char *const class_names[] = {
	"unclassified", "mass-storage", "network", "display", "multimedia", "memory",
	"bridge", "communication", "system-peripheral", "input", "docking-station",
	"processor", "serial-bus", "wireless", "intelligent-io", "satellite", "encryption",
	"signal-processing", "processing-accelerator", "non-essential-instrumentation",
};

const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if)
{
	for (size_t i = 0; i < sizeof(triple_names) / sizeof(triple_names[0]); i++) {
		const struct class_triple_name *t = &triple_names[i];

		if (t->class_code == class_code && t->subclass == subclass &&
		    (t->prog_if < 0 || t->prog_if == prog_if))
			return t->name;
	}
	if (class_code < sizeof(class_names) / sizeof(class_names[0]))
		return class_names[class_code];
	return "unknown";
}
