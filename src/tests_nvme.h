/*
 * PCI, NVMe and bounce-DMA tests (rows in src/tests.c).  The NVMe tests act
 * on every controller of class 01/08/02 and SKIP when there is none.
 */
#ifndef PROOFBOOT_TESTS_NVME_H
#define PROOFBOOT_TESTS_NVME_H

#include "test.h"

/* The NVMe lifecycle runs once per DMA backend; rows in src/tests.c name both. */
enum nvme_test_backend { NVME_TEST_BOUNCE, NVME_TEST_REMAPPED };

struct dma_backend_ops;

/*
 * What every lifecycle test checks first (also used by the benchmark): a
 * controller exists and `backend` may run under dma=.  False with *status
 * (SKIP, or FAIL when dma=iommu cannot be honoured).
 */
bool nvme_test_prologue(struct test_ctx *ctx, enum nvme_test_backend backend,
			const struct dma_backend_ops **ops, enum test_status *status);

enum test_status test_pci_enumerate(struct test_ctx *ctx);
enum test_status test_nvme_classify(struct test_ctx *ctx);
enum test_status test_dma_audit_bounce(struct test_ctx *ctx);
enum test_status test_nvme_bind(struct test_ctx *ctx, enum nvme_test_backend backend);
enum test_status test_nvme_identify(struct test_ctx *ctx, enum nvme_test_backend backend);
enum test_status test_nvme_read(struct test_ctx *ctx, enum nvme_test_backend backend);
enum test_status test_nvme_irq(struct test_ctx *ctx, enum nvme_test_backend backend);
enum test_status test_nvme_shutdown(struct test_ctx *ctx, enum nvme_test_backend backend);

/* One table-row function per lifecycle step and backend. */
#define NVME_TEST_ROW_FN(step, suffix, backend)                                   \
	static inline enum test_status test_nvme_##step##_##suffix(struct test_ctx *ctx) \
	{                                                                         \
		return test_nvme_##step(ctx, backend);                             \
	}
#define NVME_TEST_ROW_FNS(step)                                                   \
	NVME_TEST_ROW_FN(step, bounce, NVME_TEST_BOUNCE)                          \
	NVME_TEST_ROW_FN(step, iommu, NVME_TEST_REMAPPED)
NVME_TEST_ROW_FNS(bind)
NVME_TEST_ROW_FNS(identify)
NVME_TEST_ROW_FNS(read)
NVME_TEST_ROW_FNS(irq)
NVME_TEST_ROW_FNS(shutdown)

#endif
