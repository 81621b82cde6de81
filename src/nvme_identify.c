/*
 * NVMe Identify: the controller, the active namespace list (CNS 02h, or
 * each NSID on NVMe 1.0) and each namespace with its command set (CNS 03h)
 * and, when zoned, its zone size (CNS 05h), parsed by src/lib/nvme_cmd.c and
 * src/lib/nvme_ident.c; the namespace's read format from src/lib/nvme_format.c.
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
#define NVME_VS_1_3             0x00010300u /* CNS 03h (namespace descriptors) exists from 1.3 */
#define LBAF_TABLE_MAX          (NVME_IDNS_LBAF_MAX * 12u) /* "*DD:MMMMM:R," per format */

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
	/* SN/MN/FR bytes outside printable ASCII are escaped by the emitter and flagged here. */
	proof_bool(&p, "ascii", c->id.strings_ascii);
	proof_hex(&p, "oacs", c->id.oacs, 4);
	proof_hex(&p, "oncs", c->id.oncs, 4);
	proof_hex(&p, "cmic", c->id.cmic, 2);
	proof_bool(&p, "multi_controller", c->id.cmic & NVME_CMIC_MULTI_CTRL);
	proof_str(&p, "subnqn", c->id.subnqn);
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
	nvme_nsid_ranges_add(&c->ns_active, nsid);
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

static void report_namespaces(struct nvme_ctrl *c, const char *method, bool probe_stopped)
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
	/* Every active NSID is reported; the tests run on the first NVME_MAX_NAMESPACES. */
	proof_str(&p, "nsids", nvme_nsid_ranges_text(&c->ns_active));
	proof_bool(&p, "nsids_complete", c->ns_active.complete && !probe_stopped);
	proof_u64(&p, "limit", NVME_MAX_NAMESPACES);
	proof_u64(&p, "tracked", c->ns_count);
	proof_str(&p, "tracked_nsids", list);
	proof_emit(&p);
}

static void report_ns_failed(struct nvme_ctrl *c, const struct nvme_namespace *ns,
			     const char *step, const struct nvme_parse_status *st)
{
	struct proof p;

	nvme_line_begin(&p, c, "identify namespace failed");
	proof_u64(&p, "nsid", ns->nsid);
	proof_str(&p, "step", step);
	proof_str(&p, "error", nvme_parse_error_name(st->error));
	proof_str(&p, "reason", st->reason);
	proof_emit(&p);
	c->ns_unusable++;
}

/* Identify with a command set identifier (CNS 05h/06h carry it in CDW11). */
static bool identify_csi(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t csi,
			 uint8_t *page, const char *step, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_prp none = { 0 };

	memset(page, 0, NVME_IDENTIFY_DATA_SIZE);
	nvme_cmd_identify(&sqe, cns, nsid, &none);
	sqe.cdw11 = (uint32_t)csi << NVME_IDENTIFY_CDW11_CSI_SHIFT;
	return nvme_admin_command(c, step, &sqe, page, NVME_IDENTIFY_DATA_SIZE, DMA_DIR_FROM_DEVICE,
			     false, status);
}

/*
 * The namespace's command set from its descriptor list (CNS 03h, NVMe >=
 * 1.3); without a CSI descriptor (or on an older controller) it is NVM.
 * Zoned namespaces also get their zone size (CNS 05h, CSI 02h).  False
 * when the device's answer is malformed (reported).
 */
static bool identify_command_set(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_ns_descriptors d;
	struct nvme_parse_status st;
	uint16_t status;

	ns->csi = NVME_CSI_NVM;
	if (c->id.ver >= NVME_VS_1_3) {
		if (!identify(c, NVME_CNS_NS_DESCRIPTORS, ns->nsid, page, "ns-descriptors", true,
			      &status) && !status)
			return false; /* timeout or DMA failure: already reported */
		if (!status && !nvme_parse_ns_descriptors(page, NVME_IDENTIFY_DATA_SIZE, &d, &st)) {
			report_ns_failed(c, ns, "ns-descriptors", &st);
			return false;
		}
		ns->csi_reported = !status && d.has_csi;
		if (ns->csi_reported)
			ns->csi = d.csi;
	}
	if (ns->csi != NVME_CSI_ZONED)
		return true;
	if (!identify_csi(c, NVME_CNS_NAMESPACE_IOCS, ns->nsid, NVME_CSI_ZONED, page,
			  "identify-zoned-namespace", &status))
		return false;
	if (!nvme_parse_zns_id_ns(page, NVME_IDENTIFY_DATA_SIZE, ns->id.flbas_index, ns->id.nsze,
				  &ns->zns, &st)) {
		report_ns_failed(c, ns, "identify-zoned-namespace", &st);
		return false;
	}
	/* The command set's controller page (CNS 06h): the zone append limit, reported. */
	if (!identify_csi(c, NVME_CNS_CONTROLLER_IOCS, 0, NVME_CSI_ZONED, page,
			  "identify-zoned-controller", &status))
		return false;
	return nvme_parse_zns_id_ctrl(page, NVME_IDENTIFY_DATA_SIZE, &ns->zns.zasl, &st);
}

/* Why a well-formed namespace is not read (NULL: it is): its format or its command set. */
static const char *namespace_skip_reason(struct nvme_namespace *ns)
{
	const char *unserved;

	if (!nvme_format_from_id(&ns->id, &ns->fmt, &unserved))
		return unserved;
	if (ns->csi != NVME_CSI_NVM && ns->csi != NVME_CSI_ZONED)
		return "command-set-not-handled";
	return NULL;
}

static void report_namespace(struct nvme_ctrl *c, const struct nvme_namespace *ns)
{
	char lbafs[LBAF_TABLE_MAX];
	struct proof p;
	uint64_t last = 0;

	nvme_last_lba(ns->id.nsze, &last);
	nvme_format_lbaf_table(&ns->id, lbafs, sizeof(lbafs));
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
	proof_str(&p, "lbafs", lbafs);
	proof_hex(&p, "mc", ns->id.mc, 2);
	proof_hex(&p, "dpc", ns->id.dpc, 2);
	proof_hex(&p, "dps", ns->id.dps, 2);
	proof_hex(&p, "nmic", ns->id.nmic, 2);
	proof_bool(&p, "shared", ns->id.nmic & NVME_NMIC_SHARED);
	proof_hex(&p, "csi", ns->csi, 2);
	proof_str(&p, "csi_name", nvme_csi_name(ns->csi));
	proof_bool(&p, "csi_reported", ns->csi_reported);
	if (ns->csi == NVME_CSI_ZONED) {
		proof_u64(&p, "zone_blocks", ns->zns.zone_blocks);
		proof_u64(&p, "zones", ns->zns.zones);
		proof_u64(&p, "zasl", ns->zns.zasl);
	}
	proof_bool(&p, "served", ns->skip_reason == NULL);
	if (ns->skip_reason) {
		proof_str(&p, "skip_reason", ns->skip_reason);
	} else {
		proof_str(&p, "md_layout", nvme_md_layout_name(ns->fmt.layout));
		proof_u64(&p, "block_buffer_bytes", ns->fmt.buffer_bytes);
		proof_u64(&p, "pi_type", ns->fmt.pi_type);
		/* Reads leave PI to the image check: nothing stripped, nothing checked by the device. */
		proof_bool(&p, "pract", ns->fmt.prinfo.pract);
		proof_str(&p, "prchk", nvme_prchk_name(&ns->fmt.prinfo));
	}
	proof_emit(&p);
}

static bool identify_namespace(struct nvme_ctrl *c, struct nvme_namespace *ns, uint8_t *page)
{
	struct nvme_parse_status st;
	uint16_t status;

	ns->usable = false;
	ns->skip_reason = NULL;
	if (!identify(c, NVME_CNS_NAMESPACE, ns->nsid, page, "identify-namespace", false, &status))
		return false;
	if (!nvme_parse_id_ns(page, NVME_IDENTIFY_DATA_SIZE, &ns->id, &st)) {
		report_ns_failed(c, ns, "identify-namespace", &st);
		return false;
	}
	if (!identify_command_set(c, ns, page))
		return false;
	ns->skip_reason = namespace_skip_reason(ns);
	ns->usable = ns->skip_reason == NULL;
	c->ns_skipped += !ns->usable;
	report_namespace(c, ns);
	return ns->usable;
}

static bool find_namespaces(struct nvme_ctrl *c, uint8_t *page)
{
	enum list_result r = LIST_UNSUPPORTED;

	c->ns_count = 0;
	c->ns_active_total = 0;
	nvme_nsid_ranges_init(&c->ns_active);
	if (c->id.ver >= NVME_VS_1_1)
		r = list_active_namespaces(c, page);
	if (r == LIST_FAILED)
		return false;
	if (r == LIST_OK) {
		report_namespaces(c, "active-nsid-list", false);
		return true;
	}
	c->ns_count = 0;
	c->ns_active_total = 0;
	nvme_nsid_ranges_init(&c->ns_active);
	if (!probe_each_namespace(c, page))
		return false;
	/* NVMe 1.0: probing stops once the tracked set is full, so later NSIDs go unseen. */
	report_namespaces(c, "identify-each-nsid", c->ns_count == NVME_MAX_NAMESPACES);
	return true;
}

bool nvme_identify_all(struct nvme_ctrl *c)
{
	uint8_t *page = malloc(NVME_IDENTIFY_DATA_SIZE);
	bool ok;

	if (!page)
		return nvme_step_failed(c, "identify", "no-memory");
	c->ns_unusable = 0;
	c->ns_skipped = 0;
	ok = identify_controller(c, page) && find_namespaces(c, page);
	/* A malformed namespace is reported and skipped; the others stay usable. */
	for (size_t i = 0; ok && !c->failed && i < c->ns_count; i++)
		identify_namespace(c, &c->ns[i], page);
	free(page);
	if (ok && !c->failed)
		c->stage = NVME_STAGE_IDENTIFIED;
	return ok && !c->failed;
}

