/* Cloud NVMe identity table and Amazon EBS decoding; see cloud_shape.h for sources. */
#include "cloud_shape.h"

#include <string.h>

#include "nvme_defs.h"

static const struct cloud_shape_entry shapes[] = {
	{ CLOUD_VENDOR_AMAZON, 0x0061, "aws", "aws-nitro-ebs", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_AMAZON, 0x0065, "aws", "aws-nitro-ebs", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_AMAZON, 0x8061, "aws", "aws-nitro-ebs", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_AMAZON, 0xcd00, "aws", "aws-nitro-instance-storage", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_AMAZON, 0xcd01, "aws", "aws-nitro-instance-storage", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_AMAZON, 0xcd02, "aws", "aws-nitro-instance-storage", CLOUD_DMA_BITS_AMAZON },
	{ CLOUD_VENDOR_GOOGLE, 0x001f, "google", "gce-nvme", CLOUD_DMA_BITS_UNLIMITED },
	{ CLOUD_VENDOR_MICROSOFT, 0xb111, "microsoft", "azure-nvme", CLOUD_DMA_BITS_UNLIMITED },
	{ CLOUD_VENDOR_MICROSOFT, 0x00a9, "microsoft", "azure-nvme", CLOUD_DMA_BITS_UNLIMITED },
	{ CLOUD_VENDOR_QEMU, 0x0010, "qemu", "qemu-emulated-nvme", CLOUD_DMA_BITS_UNLIMITED },
};

/* What a model number says about the disk, and which table shape it belongs to. */
struct model_hint {
	const char *prefix;
	bool exact;          /* whole model must match, not just the prefix */
	const char *shape;
	const char *disk_kind;
};

static const struct model_hint model_hints[] = {
	{ "Amazon Elastic Block Store", true, "aws-nitro-ebs", "ebs-volume" },
	{ "Amazon EC2 NVMe Instance Storage", true, "aws-nitro-instance-storage", "instance-storage" },
	/* "nvme_card-pd" must be tried before its prefix "nvme_card". */
	{ "nvme_card-pd", true, "gce-nvme", "persistent-disk" },
	{ "nvme_card", true, "gce-nvme", "local-ssd" },
	{ "MSFT NVMe Accelerator", false, "azure-nvme", "remote-disk" },
	{ "Microsoft NVMe Direct Disk", false, "azure-nvme", "local-disk" },
	{ "QEMU NVMe Ctrl", true, "qemu-emulated-nvme", "emulated" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VOLUME_PREFIX "vol"
#define VOLUME_PREFIX_LEN 3
#define VOLUME_HEX_SHORT 8  /* pre-2016 ids: vol-1234abcd */
#define VOLUME_HEX_LONG 17  /* current ids: vol-0123456789abcdef0 */
#define ASCII_FIRST_GRAPHIC 0x21
#define ASCII_LAST_GRAPHIC 0x7e

bool cloud_pci_is_nvme(uint8_t class_code, uint8_t subclass, uint8_t prog_if)
{
	return class_code == NVME_PCI_CLASS && subclass == NVME_PCI_SUBCLASS &&
	       prog_if == NVME_PCI_PROG_IF;
}

const struct cloud_shape_entry *cloud_shape_table(size_t *count)
{
	*count = ARRAY_LEN(shapes);
	return shapes;
}

const struct cloud_shape_entry *cloud_shape_lookup(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < ARRAY_LEN(shapes); i++)
		if (shapes[i].vendor == vendor && shapes[i].device == device)
			return &shapes[i];
	return NULL;
}

uint64_t cloud_dma_max_address(uint8_t bits)
{
	if (bits >= 64)
		return UINT64_MAX;
	return ((uint64_t)1 << bits) - 1;
}

static const struct model_hint *match_model(const char *model)
{
	if (model == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(model_hints); i++) {
		const struct model_hint *h = &model_hints[i];
		size_t n = strlen(h->prefix);

		if (strncmp(model, h->prefix, n) == 0 && (!h->exact || model[n] == '\0'))
			return h;
	}
	return NULL;
}

void cloud_shape_classify(uint16_t vendor, uint16_t device, const char *model,
			  struct cloud_shape *out)
{
	const struct cloud_shape_entry *e = cloud_shape_lookup(vendor, device);
	const struct model_hint *hint = match_model(model);

	out->known = e != NULL;
	out->provider = e ? e->provider : "unknown";
	out->shape = e ? e->shape : "generic-nvme";
	out->dma_addr_bits = e ? e->dma_addr_bits : CLOUD_DMA_BITS_UNLIMITED;
	out->dma_max_address = cloud_dma_max_address(out->dma_addr_bits);
	/* A model hint only counts when it belongs to the shape the ids name. */
	out->model_consistent = e && hint && strcmp(hint->shape, e->shape) == 0;
	out->disk_kind = out->model_consistent ? hint->disk_kind : "unknown";
}

bool cloud_shape_is_aws_ebs(const struct cloud_shape *shape)
{
	return shape->known && strcmp(shape->shape, "aws-nitro-ebs") == 0;
}

bool cloud_shape_is_aws(const struct cloud_shape *shape)
{
	return shape->known && strcmp(shape->provider, "aws") == 0;
}

bool cloud_shape_is_qemu(const struct cloud_shape *shape)
{
	return shape->known && strcmp(shape->provider, "qemu") == 0;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

bool aws_ebs_volume_id(const char *serial, char *out, size_t cap)
{
	if (cap > 0)
		out[0] = '\0';
	if (strncmp(serial, VOLUME_PREFIX, VOLUME_PREFIX_LEN) != 0)
		return false;
	const char *hex = serial + VOLUME_PREFIX_LEN;

	if (*hex == '-')
		hex++;
	size_t n = strlen(hex);

	if ((n != VOLUME_HEX_SHORT && n != VOLUME_HEX_LONG) || !all_lower_hex(hex, n))
		return false;
	if (VOLUME_PREFIX_LEN + 1 + n + 1 > cap)
		return false;
	memcpy(out, VOLUME_PREFIX "-", VOLUME_PREFIX_LEN + 1);
	memcpy(out + VOLUME_PREFIX_LEN + 1, hex, n + 1);
	return true;
}

bool aws_ebs_block_device(const uint8_t *vendor_specific, size_t len, char *out, size_t cap)
{
	size_t field = len < AWS_EBS_BDEV_FIELD_LEN ? len : AWS_EBS_BDEV_FIELD_LEN;
	size_t n = 0;

	if (cap > 0)
		out[0] = '\0';
	while (n < field && vendor_specific[n] != ' ' && vendor_specific[n] != '\0') {
		if (vendor_specific[n] < ASCII_FIRST_GRAPHIC || vendor_specific[n] > ASCII_LAST_GRAPHIC)
			return false;
		n++;
	}
	if (n == 0 || n + 1 > cap)
		return false;
	memcpy(out, vendor_specific, n);
	out[n] = '\0';
	return true;
}
