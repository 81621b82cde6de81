/*
 * The test table: every test the firmware knows, in run order.  Names are
 * subsystem.what[.backend]; tests= selects by glob.  Rows flagged
 * TEST_FLAG_EXPLICIT_ONLY run only when named exactly in tests=; rows flagged
 * TEST_FLAG_NOT_DEFAULT (the benchmark) only when a glob in tests= matches.
 *
 * No row depends on its position: option order=reverse|shuffle:<seed> runs
 * the table in another order (matrix configurations iommu-order-*), and a
 * device moves between the bounce-buffer and remapping backends in any
 * direction (src/dma_remap.h, "Detach").
 */
#include "test.h"

#include "tests_bench.h"
#include "tests_core.h"
#include "tests_iommu.h"
#include "tests_negative.h"
#include "tests_nvme.h"

const struct test_case tests_table[] = {
	{ "boot.options", "boot", TEST_FLAG_ON_OPTION_ERROR, test_boot_options },
	{ "boot.multiboot2", "boot", 0, test_boot_multiboot2 },
	{ "time.calibration", "boot", 0, test_time_calibration },
	/* Early, so tests=runner.hang,libc.newlib proves the run goes on after a hung test. */
	{ "runner.hang", "negative", TEST_FLAG_EXPLICIT_ONLY, test_runner_hang },
	{ "libc.newlib", "boot", 0, test_libc_newlib },
	{ "pci.enumerate", "pci", 0, test_pci_enumerate },
	{ "iommu.units", "iommu", 0, test_iommu_units },
	{ "iommu.selftest", "iommu", 0, test_iommu_selftest },

	{ "nvme.bind.bounce", "nvme,bounce", 0, test_nvme_bind_bounce },
	{ "nvme.identify.bounce", "nvme,bounce", 0, test_nvme_identify_bounce },
	{ "nvme.classify", "nvme", 0, test_nvme_classify },
	{ "nvme.read.bounce", "nvme,bounce", 0, test_nvme_read_bounce },
	{ "nvme.irq.bounce", "nvme,bounce", 0, test_nvme_irq_bounce },
	{ "dma.audit.bounce", "dma,bounce", 0, test_dma_audit_bounce },
	{ "nvme.shutdown.bounce", "nvme,bounce", 0, test_nvme_shutdown_bounce },
	{ "bench.read.bounce", "bench,bounce", TEST_FLAG_NOT_DEFAULT, test_bench_read_bounce },
	/* Refused requests on the real device; each proves the controller works afterwards. */
	{ "nvme.negative.iosqes", "nvme,negative,bounce", 0, test_nvme_negative_iosqes },
	{ "nvme.negative.prp-misaligned", "nvme,negative,bounce", 0, test_nvme_negative_prp_misaligned },
	{ "nvme.negative.mdts", "nvme,negative,bounce", 0, test_nvme_negative_mdts },
	{ "nvme.negative.bad-nsid", "nvme,negative,bounce", 0, test_nvme_negative_bad_nsid },

	{ "nvme.bind.iommu", "nvme,iommu", 0, test_nvme_bind_iommu },
	{ "nvme.identify.iommu", "nvme,iommu", 0, test_nvme_identify_iommu },
	{ "nvme.read.iommu", "nvme,iommu", 0, test_nvme_read_iommu },
	{ "nvme.irq.iommu", "nvme,iommu", 0, test_nvme_irq_iommu },
	{ "iommu.translate", "iommu", 0, test_iommu_translate },
	{ "iommu.isolation.blocked", "iommu", 0, test_iommu_blocked },
	{ "iommu.isolation.revoke", "iommu", 0, test_iommu_revoke },
	{ "iommu.faults.none", "iommu", 0, test_iommu_no_stray_faults },
	{ "nvme.shutdown.iommu", "nvme,iommu", 0, test_nvme_shutdown_iommu },
	{ "bench.read.iommu", "bench,iommu", TEST_FLAG_NOT_DEFAULT, test_bench_read_iommu },

	{ "cpu.fault", "negative", TEST_FLAG_EXPLICIT_ONLY, test_cpu_fault },
};

const unsigned tests_table_count = sizeof(tests_table) / sizeof(tests_table[0]);
