/*
 * PCI configuration space (src/lib/pci_cfg.c): a function's config image
 * as the hardware or the hypervisor presents it.  Input: the image (up to
 * 4096 bytes; 256 for conventional space), optionally followed by six
 * BAR sizing read-backs (u32 LE each) after byte 4096.
 *
 * Invariants: the capability walk stays in the image, never revisits an
 * offset, never overfills the caller's array (whose size is taken from the
 * input), puts conventional capabilities in 0x40..0xff and extended ones in
 * 0x100..0xfff; decoders give values within their fields; an "ok" BAR is a
 * power-of-two size at an aligned address that fits its address space.
 */
#include "fuzz.h"

#include "pci_cfg.h"

#define IMAGE_MAX 4096u
#define BAR_COUNT 6
#define BAR0_OFFSET 0x10
#define DEFAULT_MASK 0xfffff000u

static void check_caps(const uint8_t *cfg, size_t len, size_t max)
{
	struct pci_cap *caps = fuzz_alloc(max * sizeof(struct pci_cap));
	enum pci_cap_walk_result r;
	size_t n = pci_cap_walk(cfg, len, caps, max, &r);
	char buf[16];

	FUZZ_CHECK(n <= max);
	FUZZ_CHECK(r != PCI_CAPS_TOO_MANY || n == max);
	FUZZ_CHECK(strcmp(pci_cap_walk_result_name(r), "unknown") != 0);
	for (size_t i = 0; i < n; i++) {
		const struct pci_cap *c = &caps[i];

		if (c->extended) {
			FUZZ_CHECK(c->offset >= 0x100 && c->offset + 4u <= IMAGE_MAX && len >= IMAGE_MAX);
			FUZZ_CHECK((c->offset & 3) == 0);
		} else {
			FUZZ_CHECK(c->offset >= 0x40 && c->offset + 2u <= len && c->offset <= 0xfc);
			FUZZ_CHECK((c->offset & 3) == 0 && c->id == cfg[c->offset]);
			FUZZ_CHECK(i == 0 || !caps[i - 1].extended); /* conventional first */
		}
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(caps[k].offset != c->offset);
		const char *name = pci_cap_name(c, buf, sizeof(buf));
		FUZZ_CHECK(name && name[0] && strlen(name) < sizeof(buf));
		FUZZ_CHECK(pci_cap_find(caps, n, c->id, c->extended) != NULL);
		if (c->extended)
			continue;
		struct pci_msix_info x;
		struct pci_msi_info m;
		struct pci_pcie_info e;
		pci_msix_decode(cfg, len, c->offset, &x);
		FUZZ_CHECK(x.table_size >= 1 && x.table_size <= 2048);
		FUZZ_CHECK(x.table_bir <= 7 && x.pba_bir <= 7);
		FUZZ_CHECK((x.table_offset & 7) == 0 && (x.pba_offset & 7) == 0);
		pci_msi_decode(cfg, len, c->offset, &m);
		FUZZ_CHECK(m.multi_message_capable <= 7);
		pci_pcie_decode(cfg, len, c->offset, &e);
		FUZZ_CHECK(e.version <= 0xf && e.port_type <= 0xf);
		FUZZ_CHECK(pci_pcie_port_type_name(e.port_type) != NULL);
	}
	free(caps);
}

static void check_bar(const struct pci_bar *b, unsigned used, bool has_next)
{
	FUZZ_CHECK(used == 1 || (used == 2 && b->kind == PCI_BAR_KIND_MEM64 && has_next));
	FUZZ_CHECK(strcmp(pci_bar_kind_name(b->kind), "unknown") != 0);
	FUZZ_CHECK(strcmp(pci_bar_state_name(b->state), "unknown") != 0);
	if (b->state == PCI_BAR_UNIMPLEMENTED)
		FUZZ_CHECK(b->size == 0);
	if (b->state != PCI_BAR_OK)
		return;
	FUZZ_CHECK(b->size != 0 && (b->size & (b->size - 1)) == 0);
	FUZZ_CHECK(b->address != 0 && (b->address & (b->size - 1)) == 0);
	FUZZ_CHECK(b->size - 1 <= UINT64_MAX - b->address);
	if (b->kind == PCI_BAR_KIND_IO)
		FUZZ_CHECK(b->address + b->size <= 0x10000);
	if (b->kind == PCI_BAR_KIND_MEM32)
		FUZZ_CHECK(b->address + b->size <= 0x100000000ull);
}

static void check_bars(const uint8_t *cfg, size_t len, const uint8_t *masks, size_t masks_len)
{
	uint32_t raw[BAR_COUNT], mask[BAR_COUNT];

	for (unsigned i = 0; i < BAR_COUNT; i++) {
		raw[i] = pci_cfg_get32(cfg, len, BAR0_OFFSET + 4 * i);
		mask[i] = 4 * i + 4 <= masks_len ? fuzz_le32(masks + 4 * i)
						 : (DEFAULT_MASK | (raw[i] & 0xf));
	}
	for (unsigned i = 0; i < BAR_COUNT;) {
		struct pci_bar b;
		bool has_next = i + 1 < BAR_COUNT;
		unsigned used = pci_bar_decode(i, raw[i], has_next ? raw[i + 1] : 0, mask[i],
					       has_next ? mask[i + 1] : 0, has_next, &b);

		FUZZ_CHECK(b.index == i);
		check_bar(&b, used, has_next);
		i += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size < IMAGE_MAX ? size : IMAGE_MAX;
	uint8_t *cfg = fuzz_dup(data, len);
	char bdf[PCI_BDF_STR_LEN];

	/* The caller's capability array: full size, or a small one from the input. */
	check_caps(cfg, len, PCI_CAPS_MAX);
	check_caps(cfg, len, len > 0x3f ? cfg[0x3f] % 8 : 1);
	check_bars(cfg, len, data + len, size - len);
	FUZZ_CHECK(pci_class_name(pci_cfg_get8(cfg, len, 0xb), pci_cfg_get8(cfg, len, 0xa),
				  pci_cfg_get8(cfg, len, 0x9)) != NULL);
	pci_bdf_format((struct pci_bdf){ pci_cfg_get16(cfg, len, 0), pci_cfg_get8(cfg, len, 2),
					 pci_cfg_get8(cfg, len, 3), pci_cfg_get8(cfg, len, 4) },
		       bdf);
	FUZZ_CHECK(strlen(bdf) == PCI_BDF_STR_LEN - 1);
	free(cfg);
	return 0;
}
