/*
 * PCI, NVMe and bounce-DMA tests (rows in src/tests.c).  The NVMe tests act
 * on every controller of class 01/08/02 and SKIP when there is none.
 */
#ifndef PROOFBOOT_TESTS_NVME_H
#define PROOFBOOT_TESTS_NVME_H

#include "test.h"

enum test_status test_pci_enumerate(struct test_ctx *ctx);
enum test_status test_nvme_bind_bounce(struct test_ctx *ctx);
enum test_status test_nvme_identify_bounce(struct test_ctx *ctx);
enum test_status test_nvme_classify(struct test_ctx *ctx);
enum test_status test_nvme_read_bounce(struct test_ctx *ctx);
enum test_status test_nvme_irq_bounce(struct test_ctx *ctx);
enum test_status test_dma_audit_bounce(struct test_ctx *ctx);
enum test_status test_nvme_shutdown_bounce(struct test_ctx *ctx);

/* Rows for src/tests.c, in run order. */
#define TESTS_NVME_ROWS                                                                 \
	{ "pci.enumerate", "pci", 0, test_pci_enumerate },                              \
	{ "nvme.bind.bounce", "nvme,bounce", 0, test_nvme_bind_bounce },                \
	{ "nvme.identify.bounce", "nvme,bounce", 0, test_nvme_identify_bounce },        \
	{ "nvme.classify", "nvme", 0, test_nvme_classify },                             \
	{ "nvme.read.bounce", "nvme,bounce", 0, test_nvme_read_bounce },                \
	{ "nvme.irq.bounce", "nvme,bounce", 0, test_nvme_irq_bounce },                  \
	{ "dma.audit.bounce", "dma,bounce", 0, test_dma_audit_bounce },                 \
	{ "nvme.shutdown.bounce", "nvme,bounce", 0, test_nvme_shutdown_bounce },

#endif
