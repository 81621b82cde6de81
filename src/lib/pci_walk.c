/* Bus planning and the enumeration walk; see pci_walk.h. */
#include "pci_walk.h"

#include <stdlib.h>
#include <string.h>

#define BUS_WORD_BITS 64
#define BUS_WORDS (PCI_MAX_BUSES / BUS_WORD_BITS)

struct bus_set {
	uint64_t words[BUS_WORDS];
};

struct walk {
	const struct pci_walk_ops *ops;
	struct pci_walk_stats *stats;
	const struct pci_bus_range *range;
	struct bus_set seen;
};

static bool bus_seen(const struct bus_set *s, uint8_t bus)
{
	return (s->words[bus / BUS_WORD_BITS] >> (bus % BUS_WORD_BITS)) & 1u;
}

static void mark_bus(struct bus_set *s, uint8_t bus)
{
	s->words[bus / BUS_WORD_BITS] |= UINT64_C(1) << (bus % BUS_WORD_BITS);
}

static int compare_ranges(const void *a, const void *b)
{
	const struct pci_bus_range *x = a, *y = b;

	if (x->segment != y->segment)
		return x->segment < y->segment ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

size_t pci_plan_ranges(const struct pci_bus_range *in, size_t n, struct pci_bus_range *out,
		       size_t max)
{
	size_t kept = 0;

	for (size_t i = 0; i < n && kept < max; i++)
		if (in[i].last >= in[i].first)
			out[kept++] = in[i];
	qsort(out, kept, sizeof(out[0]), compare_ranges);
	size_t merged = 0;
	for (size_t i = 0; i < kept; i++) {
		struct pci_bus_range *prev = merged ? &out[merged - 1] : NULL;

		/* Adjacent counts as overlapping: last + 1 == first (no wrap: first > 0 here). */
		if (prev && prev->segment == out[i].segment && out[i].first <= prev->last + 1u) {
			if (out[i].last > prev->last)
				prev->last = out[i].last;
			continue;
		}
		out[merged++] = out[i];
	}
	return merged;
}

const char *pci_root_source_name(enum pci_root_source s)
{
	return s == PCI_ROOT_PROBED ? "probe" : "first-bus";
}

const char *pci_bridge_decision_name(enum pci_bridge_decision d)
{
	switch (d) {
	case PCI_BRIDGE_WALKED: return "ok";
	case PCI_BRIDGE_SECONDARY_UNASSIGNED: return "secondary-bus-unassigned";
	case PCI_BRIDGE_ALREADY_WALKED: return "secondary-bus-already-scanned";
	case PCI_BRIDGE_OUTSIDE_RANGE: return "secondary-bus-outside-config-range";
	}
	return "unknown";
}

static uint16_t read16(const struct walk *w, struct pci_bdf bdf, uint16_t off)
{
	return (uint16_t)(w->ops->read32(w->ops->ctx, bdf, off & ~3u) >> ((off & 2u) * 8));
}

static uint8_t read8(const struct walk *w, struct pci_bdf bdf, uint16_t off)
{
	return (uint8_t)(w->ops->read32(w->ops->ctx, bdf, off & ~3u) >> ((off & 3u) * 8));
}

static bool present(const struct walk *w, struct pci_bdf bdf)
{
	return read16(w, bdf, PCI_VENDOR_ID) != PCI_VENDOR_NONE;
}

static void walk_bus(struct walk *w, uint8_t bus);

static enum pci_bridge_decision judge_bridge(const struct walk *w, uint8_t bus, uint8_t secondary)
{
	if (secondary == 0 || secondary <= bus)
		return PCI_BRIDGE_SECONDARY_UNASSIGNED;
	if (secondary > w->range->last)
		return PCI_BRIDGE_OUTSIDE_RANGE;
	if (bus_seen(&w->seen, secondary))
		return PCI_BRIDGE_ALREADY_WALKED;
	return PCI_BRIDGE_WALKED;
}

static void walk_function(struct walk *w, struct pci_bdf bdf)
{
	w->stats->functions++;
	w->ops->function(w->ops->ctx, bdf);
	if ((read8(w, bdf, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK) != PCI_HEADER_TYPE_BRIDGE)
		return;
	uint8_t secondary = read8(w, bdf, PCI_SECONDARY_BUS);
	enum pci_bridge_decision d = judge_bridge(w, bdf.bus, secondary);

	w->stats->bridges++;
	w->ops->bridge(w->ops->ctx, bdf, secondary, read8(w, bdf, PCI_SUBORDINATE_BUS), d);
	if (d == PCI_BRIDGE_WALKED)
		walk_bus(w, secondary); /* depth bounded: every level has a higher bus number */
}

static void walk_bus(struct walk *w, uint8_t bus)
{
	mark_bus(&w->seen, bus);
	w->stats->buses++;
	for (uint8_t dev = 0; dev < PCI_MAX_DEVICES; dev++) {
		struct pci_bdf bdf = { w->range->segment, bus, dev, 0 };

		if (!present(w, bdf))
			continue;
		bool multi = read8(w, bdf, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION;
		uint8_t fns = multi ? PCI_MAX_FUNCTIONS : 1;

		for (uint8_t fn = 0; fn < fns; fn++) {
			bdf.fn = fn;
			if (present(w, bdf))
				walk_function(w, bdf);
		}
	}
}

static bool bus_answers(const struct walk *w, uint8_t bus)
{
	for (uint8_t dev = 0; dev < PCI_MAX_DEVICES; dev++)
		if (present(w, (struct pci_bdf){ w->range->segment, bus, dev, 0 }))
			return true;
	return false;
}

static void walk_root(struct walk *w, uint8_t bus, enum pci_root_source source)
{
	w->stats->roots++;
	w->ops->root(w->ops->ctx, w->range->segment, bus, source);
	walk_bus(w, bus);
}

void pci_walk(const struct pci_bus_range *ranges, size_t n, const struct pci_walk_ops *ops,
	      struct pci_walk_stats *stats)
{
	struct walk w = { .ops = ops, .stats = stats };

	for (size_t i = 0; i < n; i++) {
		/* Bus numbers are per segment; planned ranges of one segment never overlap. */
		if (i == 0 || ranges[i].segment != ranges[i - 1].segment)
			memset(&w.seen, 0, sizeof(w.seen));
		w.range = &ranges[i];
		walk_root(&w, ranges[i].first, PCI_ROOT_FIRST_BUS);
		for (unsigned bus = ranges[i].first + 1u; bus <= ranges[i].last; bus++)
			if (!bus_seen(&w.seen, (uint8_t)bus) && bus_answers(&w, (uint8_t)bus))
				walk_root(&w, (uint8_t)bus, PCI_ROOT_PROBED);
	}
}

unsigned pci_ext_caps_read(uint8_t *cfg, uint32_t (*read32)(void *ctx, uint16_t off), void *ctx)
{
	bool read[PCIE_CFG_SIZE / 4] = { false };
	unsigned ptr = PCIE_EXT_CAP_FIRST_OFFSET, reads = 0;

	while (ptr >= PCIE_EXT_CAP_FIRST_OFFSET && ptr + 4 <= PCIE_CFG_SIZE && !read[ptr / 4]) {
		uint32_t h = read32(ctx, (uint16_t)ptr);

		read[ptr / 4] = true;
		reads++;
		memcpy(cfg + ptr, &h, sizeof(h));
		/* The walk ignores everything after an empty or all-ones first header. */
		if (ptr == PCIE_EXT_CAP_FIRST_OFFSET && (h == 0 || h == 0xffffffffu))
			break;
		ptr = PCIE_EXT_CAP_NEXT(h);
	}
	return reads;
}
