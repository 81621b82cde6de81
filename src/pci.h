/*
 * PCI enumeration and configuration access.  Config space goes through
 * ECAM when the ACPI MCFG table gave a window (pci_set_ecam), else through
 * the legacy 0xCF8/0xCFC ports (conventional 256 bytes only).
 *
 * pci_enumerate() walks every bus of every ECAM window (or of segment 0
 * through the ports): each window's first bus, every bus a bridge leads to,
 * and every other bus where a device answers (extra root buses, as on
 * multi-root servers and QEMU's pxb-pcie), every function of multi-function devices,
 * sizes and sanity-checks BARs, walks capabilities, and prints one
 * `pci: device` proof line per function (docs/proof-lines.md).
 */
#ifndef PROOFBOOT_PCI_H
#define PROOFBOOT_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci_cfg.h"

#define PCI_MAX_ENUMERATED 128
#define PCI_DEVICE_CAPS_MAX 16

struct pci_device {
	struct pci_bdf bdf;
	uint16_t vendor;
	uint16_t device;
	uint16_t subsys_vendor;
	uint16_t subsys_device;
	uint8_t class_code;
	uint8_t subclass;
	uint8_t prog_if;
	uint8_t revision;
	uint8_t header_type; /* PCI_HEADER_TYPE_* without the multifunction bit */
	bool multifunction;
	uint8_t irq_pin;
	/* Bridges only. */
	uint8_t secondary_bus;
	uint8_t subordinate_bus;
	struct pci_bar bars[PCI_BAR_COUNT_TYPE0];
	unsigned bar_count;  /* decoded BAR records (a 64-bit BAR is one record) */
	struct pci_cap caps[PCI_DEVICE_CAPS_MAX];
	size_t cap_count;
	enum pci_cap_walk_result cap_result;
	bool extended_config; /* config image was 4096 bytes (ECAM) */
};

/* Registers an ECAM window (from ACPI MCFG); base is the address of bus 0. */
void pci_set_ecam(uint64_t base, uint16_t segment, uint8_t bus_start, uint8_t bus_end);

/* Enumerates once (later calls return the cached table); returns the function count. */
size_t pci_enumerate(void);
/* Whether a walk has filled the table (pci_enumerate ran since the last pci_forget). */
bool pci_enumerated(void);
/* Forgets the cached table so the next pci_enumerate() walks again. */
void pci_forget(void);
const struct pci_device *pci_devices(size_t *count);
/* NVMe-class functions the table had no room for (at most PCI_DROPPED_NVME_MAX). */
#define PCI_DROPPED_NVME_MAX 16
const struct pci_bdf *pci_dropped_nvme(size_t *count);
/* "ecam" or "port-io" for segment 0. */
const char *pci_access_name(void);

/* Config access for one function; offsets >= 256 read all ones without ECAM. */
uint32_t pci_read32(struct pci_bdf bdf, uint16_t off);
uint16_t pci_read16(struct pci_bdf bdf, uint16_t off);
uint8_t pci_read8(struct pci_bdf bdf, uint16_t off);
void pci_write32(struct pci_bdf bdf, uint16_t off, uint32_t value);
void pci_write16(struct pci_bdf bdf, uint16_t off, uint16_t value);

/* Sets (and reads back) COMMAND bits; returns false if they did not stick. */
bool pci_enable_command(struct pci_bdf bdf, uint16_t bits);
/* First BAR record with this BAR index, or NULL. */
const struct pci_bar *pci_find_bar(const struct pci_device *dev, unsigned index);

#endif
