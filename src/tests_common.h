/*
 * What the device tests share: the per-controller loop and its tally, the
 * reason formatter, the aligned buffer allocator, the first usable
 * namespace, and the choice of the DMA backend a row runs on.
 *
 * A row's parameter (struct test_case.arg, seen as ctx->arg) says which
 * backend an NVMe lifecycle row runs on: &test_backend_bounce or
 * &test_backend_remapped.
 */
#ifndef PROOFBOOT_TESTS_COMMON_H
#define PROOFBOOT_TESTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme.h"
#include "test.h"

/* ---------------------------------------------------------------- reasons */

/* Writes why (printf style) and returns `status`: `return test_outcome(TEST_FAIL, why, cap, ...);` */
enum test_status test_outcome(enum test_status status, char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- backends */

enum test_backend_kind { TEST_BACKEND_BOUNCE, TEST_BACKEND_REMAPPED };

struct test_backend {
	enum test_backend_kind kind;
};

extern const struct test_backend test_backend_bounce;
extern const struct test_backend test_backend_remapped;

/*
 * What every NVMe row checks first: a controller exists and `backend` may
 * run under dma=; *ops gets the backend.  False with *status (SKIP, or
 * FAIL when dma=iommu cannot be honoured).
 */
bool test_nvme_prologue(struct test_ctx *ctx, const struct test_backend *backend,
			const struct dma_backend_ops **ops, enum test_status *status);
/* False with a SKIP in *status when no NVMe controller was found. */
bool test_controllers_present(struct test_ctx *ctx, enum test_status *status);

/* ---------------------------------------------------------------- per controller */

/* One controller's result, summed up into the row's. */
struct test_tally {
	unsigned controllers;
	unsigned failed;
	unsigned skipped;
	char first_failure[TEST_REASON_MAX];
	char first_skip[TEST_REASON_MAX];
};

void test_tally_add(struct test_tally *t, const char *bdf, enum test_status status, const char *why);
/* FAIL if any controller failed, SKIP if every one skipped, else PASS "N controllers <done>". */
enum test_status test_tally_result(struct test_ctx *ctx, const struct test_tally *t, const char *done);

/* The work for one controller; `why` says what happened when it is not a PASS. */
typedef enum test_status (*test_controller_fn)(struct nvme_ctrl *c, void *job, char *why,
					       size_t cap);

/* Runs fn on every NVMe controller (a failed one does not hide the others) into *t. */
void test_each_controller_tally(test_controller_fn fn, void *job, struct test_tally *t);
/* The same, ending the row with test_tally_result(). */
enum test_status test_each_controller(struct test_ctx *ctx, test_controller_fn fn, void *job,
				      const char *done);

/* ---------------------------------------------------------------- namespaces and buffers */

/* The controller's first namespace whose Identify data validated, or NULL. */
const struct nvme_namespace *test_first_namespace(const struct nvme_ctrl *c);

/*
 * The first usable namespace without metadata whose blocks are at most
 * `max_block` bytes (0: any size), or NULL.  Raw commands (negative cases,
 * isolation proofs) carry PRPs only and the streaming reads no metadata
 * buffer: they may only go to such a namespace, never one needing MPTR.
 */
const struct nvme_namespace *test_first_plain_namespace(const struct nvme_ctrl *c,
							 uint32_t max_block);
/* `bytes` starting `page_offset` bytes into a page; free *to_free (also on NULL). */
uint8_t *test_alloc_buffer(size_t bytes, size_t page_offset, void **to_free);

#endif
