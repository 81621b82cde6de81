/* Host tests for src/lib/cloud_shape.c with synthetic identify pages. */
#include "unit.h"
#include "cloud_shape.h"
#include "nvme_cmd.h"

UNIT_TEST(cloud_nvme_selected_by_class_only)
{
	CHECK(cloud_pci_is_nvme(0x01, 0x08, 0x02));
	CHECK(!cloud_pci_is_nvme(0x01, 0x08, 0x01)); /* NVMHCI, not NVMe */
	CHECK(!cloud_pci_is_nvme(0x01, 0x06, 0x01)); /* AHCI */
	CHECK(!cloud_pci_is_nvme(0x02, 0x00, 0x00));
}

UNIT_TEST(cloud_table_covers_documented_ids)
{
	static const uint16_t amazon_ebs[] = { 0x8061, 0x0061, 0x0065 };
	static const uint16_t amazon_local[] = { 0xcd00, 0xcd01, 0xcd02 };

	for (size_t i = 0; i < 3; i++) {
		const struct cloud_shape_entry *e = cloud_shape_lookup(0x1d0f, amazon_ebs[i]);

		CHECK(e != NULL);
		CHECK_STR(e->shape, "aws-nitro-ebs");
		CHECK_EQ(e->dma_addr_bits, 48);
		e = cloud_shape_lookup(0x1d0f, amazon_local[i]);
		CHECK(e != NULL);
		CHECK_STR(e->shape, "aws-nitro-instance-storage");
		CHECK_EQ(e->dma_addr_bits, 48);
	}
	CHECK_STR(cloud_shape_lookup(0x1b36, 0x0010)->provider, "qemu");
	CHECK_STR(cloud_shape_lookup(0x1ae0, 0x001f)->shape, "gce-nvme");
	CHECK_STR(cloud_shape_lookup(0x1414, 0xb111)->provider, "microsoft");
	CHECK(cloud_shape_lookup(0x1ae0, 0x0042) == NULL); /* gVNIC is not storage */
	CHECK(cloud_shape_lookup(0x8086, 0x0953) == NULL);

	/* No duplicate rows. */
	size_t n;
	const struct cloud_shape_entry *t = cloud_shape_table(&n);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			CHECK(!(t[i].vendor == t[j].vendor && t[i].device == t[j].device));
}

UNIT_TEST(cloud_classify_refines_with_model)
{
	struct cloud_shape s;

	cloud_shape_classify(0x1d0f, 0x8061, "Amazon Elastic Block Store", &s);
	CHECK(s.known);
	CHECK_STR(s.provider, "aws");
	CHECK_STR(s.disk_kind, "ebs-volume");
	CHECK(s.model_consistent);
	CHECK_EQ(s.dma_max_address, (1ull << 48) - 1);
	CHECK(cloud_shape_is_aws_ebs(&s));

	/* Ids say EBS, model says instance storage: flagged, kind unknown. */
	cloud_shape_classify(0x1d0f, 0x8061, "Amazon EC2 NVMe Instance Storage", &s);
	CHECK(!s.model_consistent);
	CHECK_STR(s.disk_kind, "unknown");

	cloud_shape_classify(0x1d0f, 0xcd01, "Amazon EC2 NVMe Instance Storage", &s);
	CHECK_STR(s.disk_kind, "instance-storage");
	CHECK(!cloud_shape_is_aws_ebs(&s));

	cloud_shape_classify(0x1ae0, 0x001f, "nvme_card-pd", &s);
	CHECK_STR(s.disk_kind, "persistent-disk");
	CHECK_EQ(s.dma_max_address, UINT64_MAX);
	cloud_shape_classify(0x1ae0, 0x001f, "nvme_card", &s);
	CHECK_STR(s.disk_kind, "local-ssd");
	cloud_shape_classify(0x1ae0, 0x001f, "nvme_card-other", &s);
	CHECK_STR(s.disk_kind, "unknown");

	cloud_shape_classify(0x1414, 0x00a9, "MSFT NVMe Accelerator v1.0", &s);
	CHECK_STR(s.disk_kind, "remote-disk");
	cloud_shape_classify(0x1414, 0xb111, "Microsoft NVMe Direct Disk v2", &s);
	CHECK_STR(s.disk_kind, "local-disk");

	cloud_shape_classify(0x1b36, 0x0010, "QEMU NVMe Ctrl", &s);
	CHECK_STR(s.shape, "qemu-emulated-nvme");
	CHECK_STR(s.disk_kind, "emulated");

	/* Unknown vendor: still an NVMe controller, described generically. */
	cloud_shape_classify(0x144d, 0xa808, "Samsung SSD 970 EVO", &s);
	CHECK(!s.known);
	CHECK_STR(s.provider, "unknown");
	CHECK_STR(s.shape, "generic-nvme");
	CHECK_EQ(s.dma_addr_bits, 64);
	/* A model string alone never makes a device "known". */
	cloud_shape_classify(0x144d, 0xa808, "Amazon Elastic Block Store", &s);
	CHECK(!s.known);
	CHECK(!cloud_shape_is_aws_ebs(&s));
	cloud_shape_classify(0x1b36, 0x0010, NULL, &s);
	CHECK_STR(s.disk_kind, "unknown");
}

UNIT_TEST(cloud_dma_max_address_bits)
{
	CHECK_EQ(cloud_dma_max_address(48), 0xffffffffffffull);
	CHECK_EQ(cloud_dma_max_address(32), 0xffffffffull);
	CHECK_EQ(cloud_dma_max_address(64), UINT64_MAX);
}

UNIT_TEST(aws_ebs_volume_id_from_serial)
{
	char out[AWS_EBS_VOLUME_ID_MAX];

	CHECK(aws_ebs_volume_id("vol0123456789abcdef0", out, sizeof(out)));
	CHECK_STR(out, "vol-0123456789abcdef0");
	CHECK(aws_ebs_volume_id("vol-0123456789abcdef0", out, sizeof(out)));
	CHECK_STR(out, "vol-0123456789abcdef0");
	CHECK(aws_ebs_volume_id("vol1234abcd", out, sizeof(out)));
	CHECK_STR(out, "vol-1234abcd");

	CHECK(!aws_ebs_volume_id("AWS1234567890", out, sizeof(out)));
	CHECK_STR(out, "");
	CHECK(!aws_ebs_volume_id("vol0123", out, sizeof(out)));
	CHECK(!aws_ebs_volume_id("vol0123456789ABCDEF0", out, sizeof(out)));
	CHECK(!aws_ebs_volume_id("vol0123456789abcdefg", out, sizeof(out)));
	CHECK(!aws_ebs_volume_id("vol--0123456789abcdef", out, sizeof(out)));
	CHECK(!aws_ebs_volume_id("vol0123456789abcdef0", out, 10)); /* no room */
}

UNIT_TEST(aws_ebs_block_device_from_vendor_area)
{
	uint8_t vs[NVME_IDC_VS_LEN];
	char out[AWS_EBS_BDEV_FIELD_LEN + 1];

	memset(vs, ' ', sizeof(vs));
	memcpy(vs, "/dev/sdf", 8);
	CHECK(aws_ebs_block_device(vs, sizeof(vs), out, sizeof(out)));
	CHECK_STR(out, "/dev/sdf");

	memset(vs, 0, sizeof(vs));
	memcpy(vs, "sda1", 4);
	CHECK(aws_ebs_block_device(vs, sizeof(vs), out, sizeof(out)));
	CHECK_STR(out, "sda1");

	/* Only the first 32 bytes belong to the name. */
	memset(vs, 'x', sizeof(vs));
	CHECK(aws_ebs_block_device(vs, sizeof(vs), out, sizeof(out)));
	CHECK_EQ(strlen(out), 32);

	memset(vs, ' ', sizeof(vs));
	CHECK(!aws_ebs_block_device(vs, sizeof(vs), out, sizeof(out)));
	CHECK_STR(out, "");
	memcpy(vs, "sd\x01", 3);
	CHECK(!aws_ebs_block_device(vs, sizeof(vs), out, sizeof(out)));
}

/* A synthetic Amazon EBS Identify Controller page, end to end through the parser. */
UNIT_TEST(aws_ebs_synthetic_identify_page)
{
	static uint8_t page[NVME_IDENTIFY_DATA_SIZE];
	struct nvme_id_ctrl_info info;
	struct nvme_parse_status st;
	struct cloud_shape shape;
	char vol[AWS_EBS_VOLUME_ID_MAX], bdev[AWS_EBS_BDEV_FIELD_LEN + 1];

	memset(page, 0, sizeof(page));
	page[NVME_IDC_VID] = 0x0f;
	page[NVME_IDC_VID + 1] = 0x1d;
	page[NVME_IDC_SSVID] = 0x0f;
	page[NVME_IDC_SSVID + 1] = 0x1d;
	memcpy(page + NVME_IDC_SN, "vol0123456789abcdef0", NVME_IDC_SN_LEN); /* exactly 20 */
	memset(page + NVME_IDC_MN, ' ', NVME_IDC_MN_LEN);
	memcpy(page + NVME_IDC_MN, "Amazon Elastic Block Store", 26);
	memset(page + NVME_IDC_FR, ' ', NVME_IDC_FR_LEN);
	memcpy(page + NVME_IDC_FR, "1.0", 3);
	page[NVME_IDC_MDTS] = 6;
	page[NVME_IDC_SQES] = 0x66;
	page[NVME_IDC_CQES] = 0x44;
	page[NVME_IDC_NN] = 1;
	memset(page + NVME_IDC_VS, ' ', AWS_EBS_BDEV_FIELD_LEN);
	memcpy(page + NVME_IDC_VS, "/dev/xvdf", 9);

	CHECK(nvme_parse_id_ctrl(page, sizeof(page), &info, &st));
	CHECK_EQ(info.vid, 0x1d0f);
	CHECK_STR(info.sn, "vol0123456789abcdef0");
	cloud_shape_classify(0x1d0f, 0x8061, info.mn, &shape);
	CHECK(cloud_shape_is_aws_ebs(&shape));
	CHECK(shape.model_consistent);
	CHECK(aws_ebs_volume_id(info.sn, vol, sizeof(vol)));
	CHECK_STR(vol, "vol-0123456789abcdef0");
	CHECK(aws_ebs_block_device(info.vendor_specific, sizeof(info.vendor_specific), bdev,
				   sizeof(bdev)));
	CHECK_STR(bdev, "/dev/xvdf");
}

UNIT_TEST(cloud_shape_aws_claim_only_for_amazon_ids)
{
	struct cloud_shape s;

	cloud_shape_classify(CLOUD_VENDOR_AMAZON, 0x8061, "Amazon Elastic Block Store", &s);
	CHECK(cloud_shape_is_aws(&s));
	CHECK(!cloud_shape_is_qemu(&s));
	cloud_shape_classify(CLOUD_VENDOR_AMAZON, 0xcd01, NULL, &s);
	CHECK(cloud_shape_is_aws(&s));
	/* An Amazon model string on QEMU's ids claims nothing. */
	cloud_shape_classify(CLOUD_VENDOR_QEMU, 0x0010, "Amazon Elastic Block Store", &s);
	CHECK(!cloud_shape_is_aws(&s));
	CHECK(cloud_shape_is_qemu(&s));
	/* Amazon's vendor id with an unknown device id is not a known AWS identity. */
	cloud_shape_classify(CLOUD_VENDOR_AMAZON, 0x1234, NULL, &s);
	CHECK(!cloud_shape_is_aws(&s));
}
