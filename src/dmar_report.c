/* See dmar_report.h. */
#include "dmar_report.h"

#include "proof.h"

#define HEX_OFFSET_DIGITS 4
#define STRUCT_NAME_MAX 16

void dmar_report_warnings(const struct dmar_info *info)
{
	unsigned shown = info->warning_count < DMAR_MAX_WARNINGS ? info->warning_count
								   : DMAR_MAX_WARNINGS;
	struct proof p;

	for (unsigned i = 0; i < shown; i++) {
		const struct dmar_warning *w = &info->warnings[i];
		char name[STRUCT_NAME_MAX];

		proof_begin(&p, "iommu", "dmar warning");
		proof_str(&p, "kind", dmar_warning_kind_str(w->kind));
		proof_str(&p, "structure", dmar_struct_type_str(w->struct_type, name, sizeof(name)));
		proof_hex(&p, "offset", w->offset, HEX_OFFSET_DIGITS);
		proof_str(&p, "detail", w->detail);
		proof_emit(&p);
	}
	if (info->warning_count == 0)
		return;
	proof_begin(&p, "iommu", "dmar warnings");
	proof_u64(&p, "count", info->warning_count);
	proof_u64(&p, "shown", shown);
	proof_u64(&p, "disabled_units", info->disabled_count);
	proof_bool(&p, "incomplete", info->incomplete);
	proof_emit(&p);
}
