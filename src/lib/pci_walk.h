/*
 * Which PCI buses to look at and in what order, independent of how config
 * space is read.  Servers (and QEMU's pxb-pcie) have several root buses per
 * segment that no bridge on bus 0 leads to, so following bridges from the
 * first bus is not enough: every bus a config mechanism reaches (each ACPI
 * MCFG allocation, or buses 0-255 of segment 0 through ports 0xCF8/0xCFC)
 * that no bridge led to is probed for function 0 of any device, and a bus
 * that answers is walked as one more root.  src/pci.c supplies hardware
 * reads; host tests supply a fake topology.
 */
#ifndef PROOFBOOT_PCI_WALK_H
#define PROOFBOOT_PCI_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci_cfg.h"

/* Buses [first, last] of one segment that one config mechanism reaches. */
struct pci_bus_range {
	uint16_t segment;
	uint8_t first;
	uint8_t last;
};

/*
 * Sorts ranges by (segment, first bus), drops ranges whose last bus is below
 * the first, and merges overlapping or adjacent ranges of one segment, so
 * no bus is walked twice.  Writes at most max ranges; returns how many.
 */
size_t pci_plan_ranges(const struct pci_bus_range *in, size_t n, struct pci_bus_range *out,
		       size_t max);

/* How a root bus was found. */
enum pci_root_source {
	PCI_ROOT_FIRST_BUS, /* the first bus of a range */
	PCI_ROOT_PROBED,    /* no bridge leads to it, but a device answered there */
};

/* Why a bridge's secondary bus was or was not walked. */
enum pci_bridge_decision {
	PCI_BRIDGE_WALKED,
	PCI_BRIDGE_SECONDARY_UNASSIGNED, /* 0, or not above the bridge's own bus */
	PCI_BRIDGE_ALREADY_WALKED,       /* the bus was reached before (loop or shared number) */
	PCI_BRIDGE_OUTSIDE_RANGE,        /* beyond the range the config mechanism reaches */
};

const char *pci_root_source_name(enum pci_root_source s);       /* "first-bus", "probe" */
const char *pci_bridge_decision_name(enum pci_bridge_decision d); /* "ok", ... */

struct pci_walk_ops {
	void *ctx;
	/* One config dword; all ones where nothing answers. */
	uint32_t (*read32)(void *ctx, struct pci_bdf bdf, uint16_t off);
	/* A root bus, before its functions. */
	void (*root)(void *ctx, uint16_t segment, uint8_t bus, enum pci_root_source source);
	/* A present function, in walk order (before a bridge's decision). */
	void (*function)(void *ctx, struct pci_bdf bdf);
	/* A PCI-to-PCI bridge's secondary bus decision (before walking it). */
	void (*bridge)(void *ctx, struct pci_bdf bdf, uint8_t secondary, uint8_t subordinate,
		       enum pci_bridge_decision decision);
};

struct pci_walk_stats {
	unsigned roots;     /* root buses walked (first buses and probed ones) */
	unsigned buses;     /* buses walked */
	unsigned functions; /* present functions seen */
	unsigned bridges;   /* PCI-to-PCI bridges seen */
};

/*
 * Walks planned ranges (pci_plan_ranges output): each range's first bus,
 * then every bus of the range no bridge led to, in ascending order.
 * Adds to *stats.
 */
void pci_walk(const struct pci_bus_range *ranges, size_t n, const struct pci_walk_ops *ops,
	      struct pci_walk_stats *stats);

/*
 * Fills the extended part of a 4096-byte config image (offsets 0x100 and
 * up, which the caller zeroed) with exactly what pci_cap_walk reads there:
 * the extended capability headers, from 0x100 along their next pointers,
 * stopping where the walk stops (an empty or all-ones first header, next 0,
 * a pointer out of the extended space, a header already read).  The walk
 * over the image then finds the same capabilities and the same corruption
 * as over a full copy, for a handful of reads instead of 960 (each one an
 * ECAM access: about a microsecond under TCG).  Returns the reads made.
 */
unsigned pci_ext_caps_read(uint8_t *cfg, uint32_t (*read32)(void *ctx, uint16_t off), void *ctx);

#endif
