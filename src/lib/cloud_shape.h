/*
 * Known NVMe controller identities on cloud machines ("cloud shapes") and
 * the per-device facts that follow from them (DMA address limit, Amazon EBS
 * volume id and attachment name).
 *
 * A controller is selected as NVMe by its PCI class triple alone
 * (cloud_pci_is_nvme); vendor/device ids only *describe* an already
 * selected controller.  Facts and their public sources:
 *
 *  - Amazon (0x1d0f): Linux drivers/nvme/host/pci.c lists 0x0061, 0x0065,
 *    0x8061 (EBS) and 0xcd00..0xcd02 (instance storage), all with
 *    NVME_QUIRK_DMA_ADDRESS_BITS_48.  Model numbers "Amazon Elastic Block
 *    Store" / "Amazon EC2 NVMe Instance Storage"; EBS serial is the volume id
 *    without its dash, and the first 32 bytes of the Identify Controller
 *    vendor-specific area hold the attachment device name (nvme-cli's amzn
 *    plugin, amazon-ec2-utils ebsnvme-id).
 *  - Google (0x1ae0): Compute Engine NVMe controller 0x001f, class 01/08/02
 *    (Linux boot logs on GCE).  Model "nvme_card-pd" for Persistent Disk /
 *    Hyperdisk, "nvme_card" for Local SSD (GCE disk-symlink documentation
 *    and guest tooling).  No DMA quirk is public.
 *  - Microsoft (0x1414): Azure VMs show 0xb111 ("Standard NVM Express
 *    Controller") and 0x00a9 ("ASAP NVM Express Controller"), class 01/08/02.
 *    Which id carries which disk kind is not documented, so the disk kind
 *    comes from the model number: "MSFT NVMe Accelerator v1.0" = remote
 *    (OS/data) disks, "Microsoft NVMe Direct Disk" = local disks
 *    (azure-vm-utils).  No DMA quirk is public.
 *  - QEMU (0x1b36:0x0010): the emulated controller, the local precursor.
 */
#ifndef PROOFBOOT_CLOUD_SHAPE_H
#define PROOFBOOT_CLOUD_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLOUD_VENDOR_AMAZON    0x1d0f
#define CLOUD_VENDOR_GOOGLE    0x1ae0
#define CLOUD_VENDOR_MICROSOFT 0x1414
#define CLOUD_VENDOR_QEMU      0x1b36

#define CLOUD_DMA_BITS_UNLIMITED 64
#define CLOUD_DMA_BITS_AMAZON    48

/* One row of the identity table. */
struct cloud_shape_entry {
	uint16_t vendor;
	uint16_t device;
	const char *provider;  /* "aws", "google", "microsoft", "qemu" */
	const char *shape;     /* e.g. "aws-nitro-ebs" */
	uint8_t dma_addr_bits; /* device must only see addresses below 2^bits */
};

/* Result of classifying one NVMe controller. */
struct cloud_shape {
	bool known;             /* vendor:device is in the table */
	const char *provider;   /* "unknown" when not known */
	const char *shape;      /* "generic-nvme" when not known */
	const char *disk_kind;  /* from the model number, "unknown" if it says nothing */
	bool model_consistent;  /* model number agrees with the table's shape */
	uint8_t dma_addr_bits;
	uint64_t dma_max_address; /* highest device-visible address allowed (inclusive) */
};

/* The class triple 01/08/02: the only test for "is an NVMe controller". */
bool cloud_pci_is_nvme(uint8_t class_code, uint8_t subclass, uint8_t prog_if);

/* Table row for vendor:device, or NULL. */
const struct cloud_shape_entry *cloud_shape_lookup(uint16_t vendor, uint16_t device);
/* The whole table (for tests and documentation). */
const struct cloud_shape_entry *cloud_shape_table(size_t *count);

/* `model` is the trimmed Identify Controller MN, or NULL before identify. */
void cloud_shape_classify(uint16_t vendor, uint16_t device, const char *model,
			  struct cloud_shape *out);

/* Highest address a device with `bits` address bits can reach. */
uint64_t cloud_dma_max_address(uint8_t bits);

/* True for the shapes whose serial number is an EBS volume id. */
bool cloud_shape_is_aws_ebs(const struct cloud_shape *shape);
/* A known Amazon NVMe identity (vendor 0x1d0f and a device id in the table). */
bool cloud_shape_is_aws(const struct cloud_shape *shape);
/* The QEMU emulated controller, the local stand-in for the cloud shapes. */
bool cloud_shape_is_qemu(const struct cloud_shape *shape);

/* Longest volume id ("vol-" + 17 hex digits) plus NUL. */
#define AWS_EBS_VOLUME_ID_MAX 32
/* Attachment name field: first 32 bytes of the vendor-specific area. */
#define AWS_EBS_BDEV_FIELD_LEN 32

/*
 * EBS volume id from the trimmed serial number: "vol0123456789abcdef0" ->
 * "vol-0123456789abcdef0"; an id that already has its dash is kept.  Only
 * "vol" + 8 or 17 lower-case hex digits is accepted.  Returns false (and
 * out = "") otherwise.
 */
bool aws_ebs_volume_id(const char *serial, char *out, size_t cap);

/*
 * Attachment block-device name (e.g. "/dev/sdf" or "sda1") from the Identify
 * Controller vendor-specific area: printable ASCII up to the first space or
 * NUL within the first 32 bytes.  Returns false (out = "") when the field is
 * empty or holds other bytes.
 */
bool aws_ebs_block_device(const uint8_t *vendor_specific, size_t len, char *out, size_t cap);

#endif
