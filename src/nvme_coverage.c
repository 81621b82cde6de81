/* Untested NVMe-class functions at the end of the run; see nvme_coverage.h. */
#include "nvme_coverage.h"

#include "cloud_shape.h"
#include "nvme.h"
#include "pci.h"
#include "proof.h"

static void report_untested(struct pci_bdf bdf, const struct pci_device *d, const char *reason,
			    bool counted)
{
	char text[PCI_BDF_STR_LEN];
	struct proof p;

	pci_bdf_format(bdf, text);
	proof_begin(&p, "nvme", "untested");
	proof_str(&p, "bdf", text);
	if (d) {
		proof_hex(&p, "vendor", d->vendor, 4);
		proof_hex(&p, "device", d->device, 4);
	}
	proof_str(&p, "reason", reason);
	proof_bool(&p, "counted", counted);
	proof_emit(&p);
}

static const struct nvme_ctrl *controller_for(const struct pci_device *d)
{
	for (size_t i = 0; nvme_controller(i); i++)
		if (nvme_controller(i)->pci == d)
			return nvme_controller(i);
	return NULL;
}

/* Why this function went untested, or NULL when a test brought it up (pass or fail). */
static const char *untested_reason(const struct pci_device *d, bool selected)
{
	const struct nvme_ctrl *c = controller_for(d);

	if (c && c->bring_up_attempted)
		return NULL;
	if (!selected)
		return "not-selected";
	if (!c)
		return "controller-table-full";
	return "never-brought-up";
}

unsigned nvme_report_untested(bool controller_tests_selected)
{
	size_t count, dropped_count;
	unsigned counted = 0;

	if (!pci_enumerated())
		return 0;
	nvme_probe();
	const struct pci_device *devs = pci_devices(&count);
	for (size_t i = 0; i < count; i++) {
		if (!cloud_pci_is_nvme(devs[i].class_code, devs[i].subclass, devs[i].prog_if))
			continue;
		const char *why = untested_reason(&devs[i], controller_tests_selected);

		if (why) {
			report_untested(devs[i].bdf, &devs[i], why, controller_tests_selected);
			counted += controller_tests_selected;
		}
	}
	const struct pci_bdf *dropped = pci_dropped_nvme(&dropped_count);
	for (size_t i = 0; i < dropped_count; i++) {
		report_untested(dropped[i], NULL, "pci-table-full", controller_tests_selected);
		counted += controller_tests_selected;
	}
	return counted;
}
