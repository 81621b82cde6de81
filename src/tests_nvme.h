/*
 * PCI, NVMe and bounce-DMA tests (rows in src/tests.c).  The NVMe tests act
 * on every controller of class 01/08/02 and SKIP when there is none.  The
 * lifecycle rows (bind, identify, read, irq, shutdown) run once per DMA
 * backend: the row's parameter is &test_backend_bounce or
 * &test_backend_remapped (tests_common.h).
 */
#ifndef PROOFBOOT_TESTS_NVME_H
#define PROOFBOOT_TESTS_NVME_H

#include "test.h"

enum test_status test_pci_enumerate(struct test_ctx *ctx);
enum test_status test_nvme_classify(struct test_ctx *ctx);
enum test_status test_dma_audit_bounce(struct test_ctx *ctx);
enum test_status test_nvme_bind(struct test_ctx *ctx);
enum test_status test_nvme_identify(struct test_ctx *ctx);
enum test_status test_nvme_read(struct test_ctx *ctx);
enum test_status test_nvme_irq(struct test_ctx *ctx);
enum test_status test_nvme_shutdown(struct test_ctx *ctx);

#endif
