/*
 * The cloud-shape classification line of an NVMe controller: the rules are
 * src/lib/cloud_shape.c; this file only gathers the ids and model and
 * prints what they say.
 */
#include "nvme_classify.h"

#include "proof.h"

void nvme_report_classification(struct nvme_ctrl *c)
{
	struct proof p;
	bool have_model = c->stage >= NVME_STAGE_IDENTIFIED;

	cloud_shape_classify(c->pci->vendor, c->pci->device, have_model ? c->id.mn : NULL, &c->shape);
	nvme_line_begin(&p, c, "cloud shape classification");
	proof_str(&p, "cloud_shape", c->shape.shape);
	proof_hex(&p, "pci_vendor", c->pci->vendor, 4);
	proof_hex(&p, "pci_device_id", c->pci->device, 4);
	proof_hex(&p, "class", c->pci->class_code, 2);
	proof_hex(&p, "subclass", c->pci->subclass, 2);
	proof_hex(&p, "prog_if", c->pci->prog_if, 2);
	proof_hex(&p, "aws_nitro_ebs_vendor", CLOUD_VENDOR_AMAZON, 4);
	proof_bool(&p, "local_qemu_precursor", cloud_shape_is_qemu(&c->shape));
	/* Claimed only when the ids really are Amazon's, never from the model string. */
	proof_str(&p, "real_aws_enumeration", cloud_shape_is_aws(&c->shape) ? "claimed" : "not-claimed");
	proof_str(&p, "ena", "separate-nic-driver-out-of-scope");
	/* Nitro exposes no guest IOMMU: bounce buffers are the labelled backend there. */
	proof_str(&p, "aws_labeled_dma_backend", "bounce-buffer");
	proof_str(&p, "dma_backend_policy", DMA_POLICY);
	proof_str(&p, "selected_by", "pci-class");
	proof_bool(&p, "known", c->shape.known);
	proof_str(&p, "provider", c->shape.provider);
	proof_str(&p, "model", have_model ? c->id.mn : "");
	proof_str(&p, "disk_kind", c->shape.disk_kind);
	proof_bool(&p, "model_consistent", c->shape.model_consistent);
	proof_u64(&p, "dma_addr_bits", c->shape.dma_addr_bits);
	proof_hex(&p, "dma_max", c->shape.dma_max_address, 16);
	proof_emit(&p);

	if (!cloud_shape_is_aws_ebs(&c->shape) || !have_model)
		return;
	char vol[AWS_EBS_VOLUME_ID_MAX], bdev[AWS_EBS_BDEV_FIELD_LEN + 1];
	bool vol_ok = aws_ebs_volume_id(c->id.sn, vol, sizeof(vol));
	bool bdev_ok = aws_ebs_block_device(c->id.vendor_specific, sizeof(c->id.vendor_specific),
					    bdev, sizeof(bdev));

	nvme_line_begin(&p, c, "aws ebs");
	proof_str(&p, "volume_id", vol);
	proof_bool(&p, "volume_id_ok", vol_ok);
	proof_str(&p, "block_device", bdev);
	proof_bool(&p, "block_device_ok", bdev_ok);
	proof_emit(&p);
}
