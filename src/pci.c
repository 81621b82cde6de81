/* PCI configuration access and bus enumeration; see pci.h. */
#include "pci.h"

#include "cloud_shape.h"
#include "io.h"
#include "mmio.h"
#include "paging.h"
#include "pci_walk.h"
#include "proof.h"

#include <stdio.h>
#include <string.h>

#define PCI_ECAM_MAX_WINDOWS 8
#define PCI_CAPS_TEXT_MAX 200
#define PCI_CAP_NAME_MAX 16

struct ecam_window {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

static struct ecam_window ecam_windows[PCI_ECAM_MAX_WINDOWS];
static unsigned ecam_count;

static struct pci_device devices[PCI_MAX_ENUMERATED];
static size_t device_count;
static bool enumerated;
static struct pci_walk_stats walk_stats;
static unsigned functions_dropped;
static struct pci_bdf dropped_nvme[PCI_DROPPED_NVME_MAX];
static unsigned dropped_nvme_count;
static unsigned windows_unusable;

/* ------------------------------------------------------------ access */

void pci_set_ecam(uint64_t base, uint16_t segment, uint8_t bus_start, uint8_t bus_end)
{
	uint64_t window = (uint64_t)(bus_end - bus_start + 1) << PCI_ECAM_BUS_SHIFT;
	uint64_t start = base + ((uint64_t)bus_start << PCI_ECAM_BUS_SHIFT);

	if (bus_end < bus_start)
		return;
	/* Buses no mechanism reaches: counted, so "no controller there" is never claimed. */
	if (ecam_count == PCI_ECAM_MAX_WINDOWS || !paging_map_mmio(start, window)) {
		windows_unusable++;
		return;
	}
	ecam_windows[ecam_count++] = (struct ecam_window){ base, segment, bus_start, bus_end };
}

static const struct ecam_window *ecam_for(struct pci_bdf bdf)
{
	for (unsigned i = 0; i < ecam_count; i++) {
		const struct ecam_window *w = &ecam_windows[i];

		if (w->segment == bdf.segment && bdf.bus >= w->bus_start && bdf.bus <= w->bus_end)
			return w;
	}
	return NULL;
}

static uint64_t ecam_address(const struct ecam_window *w, struct pci_bdf bdf, uint16_t off)
{
	return w->base + ((uint64_t)bdf.bus << PCI_ECAM_BUS_SHIFT) +
	       ((uint64_t)bdf.dev << PCI_ECAM_DEV_SHIFT) + ((uint64_t)bdf.fn << PCI_ECAM_FN_SHIFT) + off;
}

static bool port_io_reaches(struct pci_bdf bdf, uint16_t off)
{
	/* Mechanism #1 only reaches segment 0 and the conventional 256 bytes. */
	return bdf.segment == 0 && off < PCI_CFG_SIZE;
}

static void port_select(struct pci_bdf bdf, uint16_t off)
{
	outl(PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_ENABLE | ((uint32_t)bdf.bus << PCI_CONFIG_BUS_SHIFT) |
					      ((uint32_t)bdf.dev << PCI_CONFIG_DEV_SHIFT) |
					      ((uint32_t)bdf.fn << PCI_CONFIG_FN_SHIFT) |
					      (off & PCI_CONFIG_REG_MASK));
}

uint32_t pci_read32(struct pci_bdf bdf, uint16_t off)
{
	const struct ecam_window *w = ecam_for(bdf);

	if (w)
		return mmio_read32(ecam_address(w, bdf, off));
	if (!port_io_reaches(bdf, off))
		return 0xffffffffu;
	port_select(bdf, off);
	return inl(PCI_CONFIG_DATA_PORT);
}

uint16_t pci_read16(struct pci_bdf bdf, uint16_t off)
{
	return (uint16_t)(pci_read32(bdf, off & ~3u) >> ((off & 2u) * 8));
}

uint8_t pci_read8(struct pci_bdf bdf, uint16_t off)
{
	return (uint8_t)(pci_read32(bdf, off & ~3u) >> ((off & 3u) * 8));
}

void pci_write32(struct pci_bdf bdf, uint16_t off, uint32_t value)
{
	const struct ecam_window *w = ecam_for(bdf);

	if (w) {
		mmio_write32(ecam_address(w, bdf, off), value);
		return;
	}
	if (!port_io_reaches(bdf, off))
		return;
	port_select(bdf, off);
	outl(PCI_CONFIG_DATA_PORT, value);
}

/* A true 16-bit write: read-modify-write of a dword would clear RW1C status bits. */
void pci_write16(struct pci_bdf bdf, uint16_t off, uint16_t value)
{
	const struct ecam_window *w = ecam_for(bdf);

	if (w) {
		mmio_write16(ecam_address(w, bdf, off), value);
		return;
	}
	if (!port_io_reaches(bdf, off))
		return;
	port_select(bdf, off);
	outw((uint16_t)(PCI_CONFIG_DATA_PORT + (off & 2u)), value);
}

bool pci_enable_command(struct pci_bdf bdf, uint16_t bits)
{
	uint16_t cmd = pci_read16(bdf, PCI_COMMAND);

	pci_write16(bdf, PCI_COMMAND, (uint16_t)(cmd | bits));
	return (pci_read16(bdf, PCI_COMMAND) & bits) == bits;
}

const char *pci_access_name(void)
{
	return ecam_for((struct pci_bdf){ 0, 0, 0, 0 }) ? "ecam" : "port-io";
}

/* ------------------------------------------------------------ BARs */

/* Sizing with decode off, so the all-ones probe never claims bus addresses. */
static void size_bars(struct pci_device *d, const uint8_t *cfg, size_t len, unsigned slots)
{
	uint16_t cmd = pci_read16(d->bdf, PCI_COMMAND);
	uint32_t mask[PCI_BAR_COUNT_TYPE0] = { 0 };

	pci_write16(d->bdf, PCI_COMMAND,
		    (uint16_t)(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY)));
	for (unsigned i = 0; i < slots; i++) {
		uint16_t off = (uint16_t)(PCI_BAR0 + i * PCI_BAR_STRIDE);

		pci_write32(d->bdf, off, PCI_BAR_SIZING_PATTERN);
		mask[i] = pci_read32(d->bdf, off);
		pci_write32(d->bdf, off, pci_cfg_get32(cfg, len, off));
	}
	pci_write16(d->bdf, PCI_COMMAND, cmd);

	d->bar_count = 0;
	for (unsigned i = 0; i < slots;) {
		uint32_t raw_lo = pci_cfg_get32(cfg, len, PCI_BAR0 + i * PCI_BAR_STRIDE);
		bool has_next = i + 1 < slots;
		uint32_t raw_hi = has_next ? pci_cfg_get32(cfg, len, PCI_BAR0 + (i + 1) * PCI_BAR_STRIDE) : 0;
		struct pci_bar bar;
		unsigned used = pci_bar_decode(i, raw_lo, raw_hi, mask[i], has_next ? mask[i + 1] : 0,
					       has_next, &bar);

		if (bar.state != PCI_BAR_UNIMPLEMENTED)
			d->bars[d->bar_count++] = bar;
		i += used;
	}
}

const struct pci_bar *pci_find_bar(const struct pci_device *dev, unsigned index)
{
	for (unsigned i = 0; i < dev->bar_count; i++)
		if (dev->bars[i].index == index)
			return &dev->bars[i];
	return NULL;
}

/* ------------------------------------------------------------ reporting */

static const char *header_name(uint8_t type)
{
	switch (type) {
	case PCI_HEADER_TYPE_NORMAL: return "endpoint";
	case PCI_HEADER_TYPE_BRIDGE: return "bridge";
	case PCI_HEADER_TYPE_CARDBUS: return "cardbus";
	}
	return "unknown";
}

static void caps_text(const struct pci_device *d, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < d->cap_count && used < cap; i++) {
		char name_buf[PCI_CAP_NAME_MAX];
		const char *name = pci_cap_name(&d->caps[i], name_buf, sizeof(name_buf));
		int n = snprintf(out + used, cap - used, "%s%s@0x%x", i ? "," : "", name,
				 d->caps[i].offset);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void report_device(const struct pci_device *d)
{
	char bdf[PCI_BDF_STR_LEN], caps[PCI_CAPS_TEXT_MAX];
	struct proof p;

	pci_bdf_format(d->bdf, bdf);
	caps_text(d, caps, sizeof(caps));
	proof_begin(&p, "pci", "device");
	proof_str(&p, "bdf", bdf);
	proof_hex(&p, "vendor", d->vendor, 4);
	proof_hex(&p, "device", d->device, 4);
	proof_hex(&p, "class", d->class_code, 2);
	proof_hex(&p, "subclass", d->subclass, 2);
	proof_hex(&p, "prog_if", d->prog_if, 2);
	proof_hex(&p, "revision", d->revision, 2);
	proof_str(&p, "name", pci_class_name(d->class_code, d->subclass, d->prog_if));
	proof_str(&p, "header", header_name(d->header_type));
	proof_bool(&p, "multifunction", d->multifunction);
	if (d->header_type == PCI_HEADER_TYPE_NORMAL) {
		proof_hex(&p, "subsys_vendor", d->subsys_vendor, 4);
		proof_hex(&p, "subsys_device", d->subsys_device, 4);
	}
	proof_u64(&p, "irq_pin", d->irq_pin);
	proof_u64(&p, "bars", d->bar_count);
	proof_str(&p, "caps", caps);
	proof_str(&p, "cap_walk", pci_cap_walk_result_name(d->cap_result));
	proof_bool(&p, "extended_config", d->extended_config);
	proof_emit(&p);
}

static void report_bars(const struct pci_device *d)
{
	char bdf[PCI_BDF_STR_LEN];

	pci_bdf_format(d->bdf, bdf);
	for (unsigned i = 0; i < d->bar_count; i++) {
		const struct pci_bar *b = &d->bars[i];
		struct proof p;

		proof_begin(&p, "pci", "bar");
		proof_str(&p, "bdf", bdf);
		proof_u64(&p, "index", b->index);
		proof_str(&p, "kind", pci_bar_kind_name(b->kind));
		proof_str(&p, "state", pci_bar_state_name(b->state));
		proof_hex(&p, "address", b->address, 1);
		proof_hex(&p, "size", b->size, 1);
		proof_bool(&p, "prefetchable", b->prefetchable);
		proof_emit(&p);
	}
}

static void report_bridge(struct pci_bdf bdf, uint8_t secondary, uint8_t subordinate,
			  enum pci_bridge_decision decision)
{
	char text[PCI_BDF_STR_LEN];
	struct proof p;

	pci_bdf_format(bdf, text);
	proof_begin(&p, "pci", "bridge");
	proof_str(&p, "bdf", text);
	proof_u64(&p, "secondary", secondary);
	proof_u64(&p, "subordinate", subordinate);
	proof_bool(&p, "scanned", decision == PCI_BRIDGE_WALKED);
	proof_str(&p, "reason", pci_bridge_decision_name(decision));
	proof_emit(&p);
}

static void report_root(uint16_t segment, uint8_t bus, enum pci_root_source source)
{
	struct proof p;

	proof_begin(&p, "pci", "root");
	proof_u64(&p, "segment", segment);
	proof_u64(&p, "bus", bus);
	proof_str(&p, "found_by", pci_root_source_name(source));
	proof_emit(&p);
}

/* ------------------------------------------------------------ walk */

static uint32_t function_read32(void *ctx, uint16_t off)
{
	return pci_read32(*(const struct pci_bdf *)ctx, off);
}

/*
 * The conventional 256 bytes in full; of the extended space only the
 * capability headers the walk reads (pci_ext_caps_read), the rest left 0:
 * nothing else decodes it, and 960 ECAM reads per function were half of
 * the enumeration's time under TCG.
 */
static size_t read_config_image(struct pci_bdf bdf, uint8_t *cfg)
{
	size_t len = ecam_for(bdf) ? PCIE_CFG_SIZE : PCI_CFG_SIZE;

	for (size_t off = 0; off < PCI_CFG_SIZE; off += 4) {
		uint32_t v = pci_read32(bdf, (uint16_t)off);

		memcpy(cfg + off, &v, sizeof(v));
	}
	if (len == PCIE_CFG_SIZE) {
		memset(cfg + PCI_CFG_SIZE, 0, PCIE_CFG_SIZE - PCI_CFG_SIZE);
		pci_ext_caps_read(cfg, function_read32, &bdf);
	}
	return len;
}

static void decode_function(struct pci_device *d, const uint8_t *cfg, size_t len)
{
	uint8_t header = pci_cfg_get8(cfg, len, PCI_HEADER_TYPE);

	d->vendor = pci_cfg_get16(cfg, len, PCI_VENDOR_ID);
	d->device = pci_cfg_get16(cfg, len, PCI_DEVICE_ID);
	d->revision = pci_cfg_get8(cfg, len, PCI_REVISION_ID);
	d->prog_if = pci_cfg_get8(cfg, len, PCI_PROG_IF);
	d->subclass = pci_cfg_get8(cfg, len, PCI_SUBCLASS);
	d->class_code = pci_cfg_get8(cfg, len, PCI_CLASS_CODE);
	d->header_type = header & PCI_HEADER_TYPE_MASK;
	d->multifunction = (header & PCI_HEADER_MULTIFUNCTION) != 0;
	d->irq_pin = pci_cfg_get8(cfg, len, PCI_INTERRUPT_PIN);
	d->extended_config = len == PCIE_CFG_SIZE;
	if (d->header_type == PCI_HEADER_TYPE_NORMAL) {
		d->subsys_vendor = pci_cfg_get16(cfg, len, PCI_SUBSYSTEM_VENDOR);
		d->subsys_device = pci_cfg_get16(cfg, len, PCI_SUBSYSTEM_ID);
		size_bars(d, cfg, len, PCI_BAR_COUNT_TYPE0);
	} else if (d->header_type == PCI_HEADER_TYPE_BRIDGE) {
		d->secondary_bus = pci_cfg_get8(cfg, len, PCI_SECONDARY_BUS);
		d->subordinate_bus = pci_cfg_get8(cfg, len, PCI_SUBORDINATE_BUS);
		size_bars(d, cfg, len, PCI_BAR_COUNT_TYPE1);
	}
	d->cap_count = pci_cap_walk(cfg, len, d->caps, PCI_DEVICE_CAPS_MAX, &d->cap_result);
}

/* Class code of a function the table has no room for: an NVMe controller there must not vanish. */
static void note_dropped(struct pci_bdf bdf)
{
	uint32_t class_rev = pci_read32(bdf, PCI_REVISION_ID);

	functions_dropped++;
	if (cloud_pci_is_nvme((uint8_t)(class_rev >> 24), (uint8_t)(class_rev >> 16),
			      (uint8_t)(class_rev >> 8)) &&
	    dropped_nvme_count < PCI_DROPPED_NVME_MAX)
		dropped_nvme[dropped_nvme_count++] = bdf;
}

static void walk_function(void *ctx, struct pci_bdf bdf)
{
	static uint8_t cfg[PCIE_CFG_SIZE];

	(void)ctx;
	if (device_count == PCI_MAX_ENUMERATED) {
		note_dropped(bdf);
		return;
	}
	size_t len = read_config_image(bdf, cfg);
	struct pci_device *d = &devices[device_count++];

	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	decode_function(d, cfg, len);
	report_device(d);
	report_bars(d);
}

static uint32_t walk_read32(void *ctx, struct pci_bdf bdf, uint16_t off)
{
	(void)ctx;
	return pci_read32(bdf, off);
}

static void walk_root(void *ctx, uint16_t segment, uint8_t bus, enum pci_root_source source)
{
	(void)ctx;
	report_root(segment, bus, source);
}

static void walk_bridge(void *ctx, struct pci_bdf bdf, uint8_t secondary, uint8_t subordinate,
			enum pci_bridge_decision decision)
{
	(void)ctx;
	report_bridge(bdf, secondary, subordinate, decision);
}

static void report_summary(void)
{
	struct proof p;
	unsigned nvme = 0;

	for (size_t i = 0; i < device_count; i++)
		nvme += cloud_pci_is_nvme(devices[i].class_code, devices[i].subclass,
					  devices[i].prog_if);
	proof_begin(&p, "pci", "enumeration done");
	proof_str(&p, "access", pci_access_name());
	proof_u64(&p, "ecam_windows", ecam_count);
	proof_u64(&p, "functions", device_count);
	proof_u64(&p, "bridges", walk_stats.bridges);
	proof_u64(&p, "buses", walk_stats.buses);
	proof_u64(&p, "roots", walk_stats.roots);
	proof_u64(&p, "windows_unusable", windows_unusable);
	proof_u64(&p, "nvme_class", nvme);
	proof_u64(&p, "dropped", functions_dropped);
	proof_u64(&p, "dropped_nvme", dropped_nvme_count);
	proof_emit(&p);
}

/*
 * Every bus of every ECAM window (all segments), else buses 0-255 of
 * segment 0 through the ports: extra root buses (pxb-pcie, multi-root
 * servers) are found by probing, not only through bridges from bus 0.
 */
static void walk_all_buses(void)
{
	static const struct pci_walk_ops ops = {
		.read32 = walk_read32,
		.root = walk_root,
		.function = walk_function,
		.bridge = walk_bridge,
	};
	struct pci_bus_range windows[PCI_ECAM_MAX_WINDOWS], planned[PCI_ECAM_MAX_WINDOWS];
	size_t n = 0;

	for (unsigned i = 0; i < ecam_count; i++)
		windows[n++] = (struct pci_bus_range){ ecam_windows[i].segment, ecam_windows[i].bus_start,
						       ecam_windows[i].bus_end };
	if (n == 0)
		windows[n++] = (struct pci_bus_range){ 0, 0, PCI_MAX_BUSES - 1 };
	n = pci_plan_ranges(windows, n, planned, PCI_ECAM_MAX_WINDOWS);
	pci_walk(planned, n, &ops, &walk_stats);
}

size_t pci_enumerate(void)
{
	if (enumerated)
		return device_count;
	device_count = 0;
	functions_dropped = 0;
	dropped_nvme_count = 0;
	memset(&walk_stats, 0, sizeof(walk_stats));
	walk_all_buses();
	enumerated = true;
	report_summary();
	return device_count;
}

bool pci_enumerated(void)
{
	return enumerated;
}

void pci_forget(void)
{
	enumerated = false;
}

const struct pci_bdf *pci_dropped_nvme(size_t *count)
{
	*count = dropped_nvme_count;
	return dropped_nvme;
}

const struct pci_device *pci_devices(size_t *count)
{
	*count = device_count;
	return devices;
}
