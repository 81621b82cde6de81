/*
 * The test table: every test the firmware knows, in the default run order.  Names are
 * subsystem.what[.backend]; tests= selects by glob.  Rows flagged
 * TEST_FLAG_EXPLICIT_ONLY run only when named exactly in tests=; rows flagged
 * TEST_FLAG_NOT_DEFAULT (the benchmark) only when a glob in tests= matches.
 * The last column is the row's parameter (ctx->arg): the DMA backend an
 * NVMe lifecycle or benchmark row runs on, or the negative case.
 *
 * No row depends on its position: option order=reverse|shuffle:<seed> runs
 * the table in another order (matrix configurations iommu-order-*), and a
 * device moves between the bounce-buffer and remapping backends in any
 * direction (src/dma_remap.h, "Detach").
 */
#include "test.h"

#include "tests_bench.h"
#include "tests_common.h"
#include "tests_core.h"
#include "tests_iommu.h"
#include "tests_ir.h"
#include "tests_isolation.h"
#include "tests_negative.h"
#include "tests_nvme.h"

const struct test_case tests_table[] = {
	{ "boot.options", "boot", TEST_FLAG_ON_OPTION_ERROR, test_boot_options, NULL },
	{ "boot.multiboot2", "boot", 0, test_boot_multiboot2, NULL },
	{ "time.calibration", "boot", 0, test_time_calibration, NULL },
	/* Early, so tests=runner.hang,libc.newlib proves the run goes on after a hung test. */
	{ "runner.hang", "negative", TEST_FLAG_EXPLICIT_ONLY, test_runner_hang, NULL },
	{ "libc.newlib", "boot", 0, test_libc_newlib, NULL },
	{ "pci.enumerate", "pci", 0, test_pci_enumerate, NULL },
	{ "iommu.units", "iommu", 0, test_iommu_units, NULL },
	{ "iommu.selftest", "iommu", 0, test_iommu_selftest, NULL },

	{ "nvme.bind.bounce", "nvme,bounce", 0, test_nvme_bind, &test_backend_bounce },
	{ "nvme.identify.bounce", "nvme,bounce", 0, test_nvme_identify, &test_backend_bounce },
	{ "nvme.classify", "nvme", 0, test_nvme_classify, NULL },
	{ "nvme.read.bounce", "nvme,bounce", 0, test_nvme_read, &test_backend_bounce },
	{ "nvme.irq.bounce", "nvme,bounce", 0, test_nvme_irq, &test_backend_bounce },
	{ "dma.audit.bounce", "dma,bounce", 0, test_dma_audit_bounce, NULL },
	{ "nvme.shutdown.bounce", "nvme,bounce", 0, test_nvme_shutdown, &test_backend_bounce },
	{ "bench.read.bounce", "bench,bounce", TEST_FLAG_NOT_DEFAULT, test_bench_read, &test_backend_bounce },
	/* Refused requests on the real device; each proves the controller works afterwards. */
	{ "nvme.negative.iosqes", "nvme,negative,bounce", 0, test_nvme_negative, &nvme_negative_iosqes },
	{ "nvme.negative.prp-misaligned", "nvme,negative,bounce", 0, test_nvme_negative, &nvme_negative_prp_misaligned },
	{ "nvme.negative.mdts", "nvme,negative,bounce", 0, test_nvme_negative, &nvme_negative_mdts },
	{ "nvme.negative.bad-nsid", "nvme,negative,bounce", 0, test_nvme_negative, &nvme_negative_bad_nsid },

	{ "nvme.bind.iommu", "nvme,iommu", 0, test_nvme_bind, &test_backend_remapped },
	{ "nvme.identify.iommu", "nvme,iommu", 0, test_nvme_identify, &test_backend_remapped },
	{ "nvme.read.iommu", "nvme,iommu", 0, test_nvme_read, &test_backend_remapped },
	{ "nvme.irq.iommu", "nvme,iommu", 0, test_nvme_irq, &test_backend_remapped },
	{ "iommu.translate", "iommu", 0, test_iommu_translate, NULL },
	{ "iommu.isolation.blocked", "iommu", 0, test_isolation_blocked, NULL },
	{ "iommu.isolation.revoke", "iommu", 0, test_isolation_revoke, NULL },
	{ "iommu.isolation.cross-device", "iommu", 0, test_isolation_cross_device, NULL },
	{ "iommu.isolation.read-only", "iommu", 0, test_isolation_read_only, NULL },
	{ "iommu.isolation.no-read", "iommu", 0, test_isolation_no_read, NULL },
	{ "iommu.isolation.boundary", "iommu", 0, test_isolation_boundary, NULL },
	{ "iommu.ir.remapped", "iommu", 0, test_ir_remapped, NULL },
	{ "iommu.ir.blocked", "iommu", 0, test_ir_blocked, NULL },
	{ "iommu.faults.none", "iommu", TEST_FLAG_RUNS_LAST, test_iommu_no_stray_faults, NULL },
	{ "nvme.shutdown.iommu", "nvme,iommu", 0, test_nvme_shutdown, &test_backend_remapped },
	{ "bench.read.iommu", "bench,iommu", TEST_FLAG_NOT_DEFAULT, test_bench_read, &test_backend_remapped },

	{ "cpu.fault", "negative", TEST_FLAG_EXPLICIT_ONLY, test_cpu_fault, NULL },
};

const unsigned tests_table_count = sizeof(tests_table) / sizeof(tests_table[0]);
