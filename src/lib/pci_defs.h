/*
 * PCI / PCI Express configuration-space layout, named once.
 * Source: PCI Local Bus 3.0, PCI-to-PCI Bridge 1.2, PCI Express Base 4.0.
 * Portable (firmware and host).
 */
#ifndef PROOFBOOT_PCI_DEFS_H
#define PROOFBOOT_PCI_DEFS_H

/* ---- Address space ---- */
#define PCI_MAX_BUSES         256
#define PCI_MAX_DEVICES       32
#define PCI_MAX_FUNCTIONS     8
#define PCI_CFG_SIZE          256   /* conventional configuration space */
#define PCIE_CFG_SIZE         4096  /* extended configuration space (ECAM only) */
#define PCI_VENDOR_NONE       0xffff /* no function at this address */

/* ECAM: 4 KiB per function, bus << 20 | device << 15 | function << 12. */
#define PCI_ECAM_BUS_SHIFT    20
#define PCI_ECAM_DEV_SHIFT    15
#define PCI_ECAM_FN_SHIFT     12

/* Legacy configuration mechanism #1 (I/O ports). */
#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_CONFIG_ENABLE       (1u << 31)
#define PCI_CONFIG_BUS_SHIFT    16
#define PCI_CONFIG_DEV_SHIFT    11
#define PCI_CONFIG_FN_SHIFT     8
#define PCI_CONFIG_REG_MASK     0xfcu

/* ---- Common header ---- */
#define PCI_VENDOR_ID        0x00
#define PCI_DEVICE_ID        0x02
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_REVISION_ID      0x08
#define PCI_PROG_IF          0x09
#define PCI_SUBCLASS         0x0a
#define PCI_CLASS_CODE       0x0b
#define PCI_HEADER_TYPE      0x0e
#define PCI_CAPABILITY_LIST  0x34
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_INTERRUPT_PIN    0x3d

#define PCI_COMMAND_IO            (1u << 0)
#define PCI_COMMAND_MEMORY        (1u << 1)
#define PCI_COMMAND_MASTER        (1u << 2)
#define PCI_COMMAND_INTX_DISABLE  (1u << 10)

#define PCI_STATUS_CAP_LIST       (1u << 4)

#define PCI_HEADER_TYPE_MASK      0x7f
#define PCI_HEADER_MULTIFUNCTION  0x80
#define PCI_HEADER_TYPE_NORMAL    0
#define PCI_HEADER_TYPE_BRIDGE    1
#define PCI_HEADER_TYPE_CARDBUS   2

/* ---- Type 0 (endpoint) header ---- */
#define PCI_BAR0             0x10
#define PCI_BAR_COUNT_TYPE0  6
#define PCI_BAR_COUNT_TYPE1  2
#define PCI_BAR_STRIDE       4
#define PCI_SUBSYSTEM_VENDOR 0x2c
#define PCI_SUBSYSTEM_ID     0x2e

/* ---- Type 1 (PCI-to-PCI bridge) header ---- */
#define PCI_PRIMARY_BUS      0x18
#define PCI_SECONDARY_BUS    0x19
#define PCI_SUBORDINATE_BUS  0x1a

/* ---- Base address registers ---- */
#define PCI_BAR_IO               (1u << 0)
#define PCI_BAR_IO_MASK          0xfffffffcu
#define PCI_BAR_MEM_TYPE_MASK    0x6u
#define PCI_BAR_MEM_TYPE_32      0x0u
#define PCI_BAR_MEM_TYPE_1M      0x2u /* legacy "below 1 MiB" */
#define PCI_BAR_MEM_TYPE_64      0x4u
#define PCI_BAR_MEM_PREFETCH     (1u << 3)
#define PCI_BAR_MEM_MASK         0xfffffff0u
#define PCI_BAR_SIZING_PATTERN   0xffffffffu

/* ---- Classes proofboot names ---- */
#define PCI_CLASS_MASS_STORAGE   0x01
#define PCI_CLASS_NETWORK        0x02
#define PCI_CLASS_DISPLAY        0x03
#define PCI_CLASS_BRIDGE         0x06
#define PCI_SUBCLASS_BRIDGE_HOST 0x00
#define PCI_SUBCLASS_BRIDGE_ISA  0x01
#define PCI_SUBCLASS_BRIDGE_PCI  0x04

/* ---- Capabilities (conventional space) ---- */
#define PCI_CAP_FIRST_OFFSET     0x40 /* capabilities live after the header */
#define PCI_CAP_PTR_MASK         0xfc /* bottom two bits are reserved */
#define PCI_CAP_ID               0
#define PCI_CAP_NEXT             1
#define PCI_CAP_ID_PM            0x01
#define PCI_CAP_ID_MSI           0x05
#define PCI_CAP_ID_VENDOR        0x09
#define PCI_CAP_ID_PCIE          0x10
#define PCI_CAP_ID_MSIX          0x11

/* MSI capability */
#define PCI_MSI_FLAGS            2
#define PCI_MSI_FLAGS_ENABLE     (1u << 0)
#define PCI_MSI_FLAGS_64BIT      (1u << 7)
#define PCI_MSI_FLAGS_MASKBIT    (1u << 8)
#define PCI_MSI_ADDRESS_LO       4
#define PCI_MSI_ADDRESS_HI       8
#define PCI_MSI_DATA_32          8
#define PCI_MSI_DATA_64          12

/* MSI-X capability */
#define PCI_MSIX_FLAGS           2
#define PCI_MSIX_FLAGS_QSIZE     0x7ffu /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL   (1u << 14)
#define PCI_MSIX_FLAGS_ENABLE    (1u << 15)
#define PCI_MSIX_TABLE           4
#define PCI_MSIX_PBA             8
#define PCI_MSIX_BIR_MASK        0x7u
#define PCI_MSIX_OFFSET_MASK     0xfffffff8u
/* MSI-X table entry (in the BAR) */
#define PCI_MSIX_ENTRY_SIZE      16
#define PCI_MSIX_ENTRY_ADDR_LO   0
#define PCI_MSIX_ENTRY_ADDR_HI   4
#define PCI_MSIX_ENTRY_DATA      8
#define PCI_MSIX_ENTRY_CTRL      12
#define PCI_MSIX_ENTRY_CTRL_MASKED (1u << 0)

/* PCI Express capability */
#define PCI_EXP_FLAGS            2
#define PCI_EXP_FLAGS_VERSION    0x000fu
#define PCI_EXP_FLAGS_TYPE_SHIFT 4
#define PCI_EXP_FLAGS_TYPE_MASK  0xfu

/* ---- Extended capabilities (ECAM space) ---- */
#define PCIE_EXT_CAP_FIRST_OFFSET 0x100
#define PCIE_EXT_CAP_ID(h)       ((h) & 0xffffu)
#define PCIE_EXT_CAP_VERSION(h)  (((h) >> 16) & 0xfu)
#define PCIE_EXT_CAP_NEXT(h)     (((h) >> 20) & 0xffcu)
#define PCIE_EXT_CAP_ID_AER      0x0001
#define PCIE_EXT_CAP_ID_ACS      0x000d
#define PCIE_EXT_CAP_ID_ATS      0x000f
#define PCIE_EXT_CAP_ID_SRIOV    0x0010
#define PCIE_EXT_CAP_ID_PASID    0x001b

#endif
