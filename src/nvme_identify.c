/*
 * NVMe Identify: the controller, the active namespace list (CNS 02h, or
 * each NSID on NVMe 1.0) and each namespace, parsed by src/lib/nvme_cmd.c.
 * One proof line per step (docs/proof-lines.md).
 */
#include "nvme.h"

#include "proof.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVME_MAX_TRANSFER_BYTES (1u << 20) /* per command, when MDTS allows more */
#define NVME_VS_1_1             0x00010100u /* CNS 02h (active NSID list) exists from 1.1 */

static void report_id_ctrl(struct nvme_ctrl *c)
{
	struct proof p;

	nvme_line_begin(&p, c, "identify controller");
	proof_hex(&p, "vid", c->id.vid, 4);
	proof_hex(&p, "ssvid", c->id.ssvid, 4);
	proof_str(&p, "sn", c->id.sn);
	proof_str(&p, "mn", c->id.mn);
	proof_str(&p, "fr", c->id.fr);
	proof_u64(&p, "mdts", c->id.mdts);
	proof_u64(&p, "max_transfer", c->max_transfer_bytes);
	proof_u64(&p, "nn", c->id.nn);
	proof_hex(&p, "ver", c->id.ver, 8);
	proof_hex(&p, "cntlid", c->id.cntlid, 4);
	proof_hex(&p, "status", 0, 3);
	proof_emit(&p);
}

static bool identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t *page,
		     const char *step, bool quiet_status, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_prp none = { 0 };

	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	nvme_cmd_identify(&sqe, cns, nsid, &none);
	return nvme_admin_command(c, step, &sqe, page, NVME_IDENTIFY_DATA_SIZE, DMA_DIR_FROM_DEVICE,
			     quiet_status, status);
}

static bool identify_controller(struct nvme_ctrl *c, uint8_t *page)
{
	struct nvme_parse_status st;
	uint16_t status;

	if (!identify(c, NVME_CNS_CONTROLLER, 0, page, "identify-controller", false, &status))
		return false;
	if (!nvme_parse_id_ctrl(page, NVME_IDENTIFY_DATA_SIZE, &c->id, &st))
		return nvme_step_failed(c, "identify-controller", "%s:%s",
				   nvme_parse_error_name(st.error), st.reason);
	uint64_t mdts = nvme_mdts_bytes(c->id.mdts, c->mps_min_bytes);

	c->max_transfer_bytes = mdts < NVME_MAX_TRANSFER_BYTES ? (uint32_t)mdts : NVME_MAX_TRANSFER_BYTES;
	cloud_shape_classify(c->pci->vendor, c->pci->device, c->id.mn, &c->shape);
	report_id_ctrl(c);
	return true;
}

static void add_namespace(struct nvme_ctrl *c, uint32_t nsid)
{
	c->ns_active_total++;
	if (c->ns_count < NVME_MAX_NAMESPACES)
		c->ns[c->ns_count++] = (struct nvme_namespace){ .nsid = nsid };
}

enum list_result { LIST_OK, LIST_UNSUPPORTED, LIST_FAILED };

/* CNS 02h pages until the list ends (a full page continues from its last NSID). */
static enum list_result list_active_namespaces(struct nvme_ctrl *c, uint8_t *page)
{
	static uint32_t ids[NVME_NSID_LIST_MAX];
	uint32_t start = 0;

	for (;;) {
		struct nvme_parse_status st;
		uint16_t status;
		size_t n;
		bool more;

		if (!identify(c, NVME_CNS_ACTIVE_NSID_LIST, start, page, "active-nsid-list", true,
			      &status)) {
			/* Only a controller that rejects the CNS value gets the fallback. */
			if (nvme_status_code(status) == NVME_SC_INVALID_FIELD)
				return LIST_UNSUPPORTED;
			if (status)
				nvme_command_failed(c, "active-nsid-list", NVME_ADMIN_IDENTIFY, 0, status);
			return LIST_FAILED;
		}
		bool ok = nvme_parse_nsid_list(page, NVME_IDENTIFY_DATA_SIZE, start, ids,
					       NVME_NSID_LIST_MAX, &n, &more, &st);

		if (!ok) {
			nvme_step_failed(c, "active-nsid-list", "%s:%s", nvme_parse_error_name(st.error),
				    st.reason);
			return LIST_FAILED;
		}
		for (size_t i = 0; i < n; i++)
			add_namespace(c, ids[i]);
		if (!more || n == 0)
			return LIST_OK;
		start = ids[n - 1];
	}
}

/* NVMe 1.0 controllers (no CNS 02h): probe NSIDs 1..NN, keep those that are active. */
static bool probe_each_namespace(struct nvme_ctrl *c, uint8_t *page)
{
	for (uint32_t nsid = 1; nsid <= c->id.nn && c->ns_count < NVME_MAX_NAMESPACES; nsid++) {
		struct nvme_id_ns_info info;
		struct nvme_parse_status st;
		uint16_t status;

		if (!identify(c, NVME_CNS_NAMESPACE, nsid, page, "identify-namespace", true, &status)) {
			if (!status)
				return false; /* timeout or DMA failure: already reported */
			continue;         /* an NSID the controller refuses is not active */
		}
		if (nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &info, &st) ||
		    st.error != NVME_PARSE_INACTIVE_NS)
			add_namespace(c, nsid);
	}
	return true;
}

static void report_namespaces(struct nvme_ctrl *c, const char *method)
{
	char list[PROOF_LINE_MAX / 2] = "";
	size_t used = 0;
	struct proof p;

	for (size_t i = 0; i < c->ns_count && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%" PRIu32, i ? "," : "",
				 c->ns[i].nsid);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	nvme_line_begin(&p, c, "namespaces");
	proof_str(&p, "method", method);
	proof_u64(&p, "active", c->ns_active_total);
	proof_u64(&p, "tracked", c->ns_count);
	proof_str(&p, "nsids", list);
	proof_emit(&p);
}

static bool identify_namespace(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_parse_status st;
	struct proof p;
	uint64_t last = 0;
	uint16_t status;

	if (!identify(c, NVME_CNS_NAMESPACE, ns->nsid, page, "identify-namespace", false, &status))
		return false;
	ns->usable = nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &ns->id, &st);
	if (!ns->usable) {
		nvme_line_begin(&p, c, "identify namespace failed");
		proof_u64(&p, "nsid", ns->nsid);
		proof_str(&p, "error", nvme_parse_error_name(st.error));
		proof_str(&p, "reason", st.reason);
		proof_emit(&p);
		c->ns_unusable++;
		return false;
	}
	nvme_last_lba(ns->id.nsze, &last);
	nvme_line_begin(&p, c, "identify namespace");
	proof_u64(&p, "nsid", ns->nsid);
	proof_u64(&p, "nsze", ns->id.nsze);
	proof_u64(&p, "ncap", ns->id.ncap);
	proof_u64(&p, "nuse", ns->id.nuse);
	proof_u64(&p, "flbas_index", ns->id.flbas_index);
	proof_u64(&p, "lbaf_count", ns->id.nlbaf_count);
	proof_u64(&p, "lba_size", ns->id.lba_size);
	proof_u64(&p, "metadata_size", ns->id.metadata_size);
	proof_bool(&p, "metadata_extended", ns->id.metadata_extended);
	proof_u64(&p, "capacity_bytes", ns->id.capacity_bytes);
	proof_u64(&p, "last_lba", last);
	proof_emit(&p);
	return true;
}

static bool find_namespaces(struct nvme_ctrl *c, uint8_t *page)
{
	enum list_result r = LIST_UNSUPPORTED;

	c->ns_count = 0;
	c->ns_active_total = 0;
	if (c->id.ver >= NVME_VS_1_1)
		r = list_active_namespaces(c, page);
	if (r == LIST_FAILED)
		return false;
	if (r == LIST_OK) {
		report_namespaces(c, "active-nsid-list");
		return true;
	}
	c->ns_count = 0;
	c->ns_active_total = 0;
	if (!probe_each_namespace(c, page))
		return false;
	report_namespaces(c, "identify-each-nsid");
	return true;
}

bool nvme_identify_all(struct nvme_ctrl *c)
{
	uint8_t *page = malloc(NVME_IDENTIFY_DATA_SIZE);
	bool ok;

	if (!page)
		return nvme_step_failed(c, "identify", "no-memory");
	c->ns_unusable = 0;
	ok = identify_controller(c, page) && find_namespaces(c, page);
	/* A malformed namespace is reported and skipped; the others stay usable. */
	for (size_t i = 0; ok && !c->failed && i < c->ns_count; i++)
		identify_namespace(c, &c->ns[i], page);
	free(page);
	if (ok && !c->failed)
		c->stage = NVME_STAGE_IDENTIFIED;
	return ok && !c->failed;
}
