/*
 * DMA isolation proofs (rows for src/tests.c, group "iommu"), each run on
 * every NVMe controller the remapping backend can own.  Every proof sends
 * the controller a real read whose data (or PRP list) address the remapping
 * must refuse, and holds the claim against two witnesses: the unit's fault
 * record (reason, direction, the controller's own requester id or one of its
 * aliases, the faulting IOVA) and memory that must not have changed (the
 * page the blocked access would have reached, the read's own buffer).  The
 * NVMe status is reported, never trusted: QEMU 7.2 completes a blocked data
 * transfer with SUCCESS.
 *
 * Each controller gets one `iommu: isolation proof=<row> sid=<bdf>
 * status=PASS|FAIL|SKIP reason=<why>` line per proof, so a row reports every
 * controller and a controller that cannot run a proof says why.
 */
#ifndef PROOFBOOT_TESTS_ISOLATION_H
#define PROOFBOOT_TESTS_ISOLATION_H

#include "dma.h"
#include "nvme.h"
#include "test.h"

/* The `iommu: isolation proof=<row> sid=<bdf> status=... reason=...` line (also for iommu.ir.*). */
void tests_isolation_report(const char *proof, const struct nvme_ctrl *c,
			    enum test_status status, const char *why);

/* One proof on one controller, with the remapping backend's ops; `arg` is the row's. */
typedef enum test_status (*tests_proof_fn)(struct nvme_ctrl *c, const struct dma_backend_ops *ops,
					   const void *arg, char *why, size_t cap);
/*
 * Runs fn on every controller (the remapping backend must be usable, else
 * SKIP/FAIL as for every remapped row), printing each controller's
 * `iommu: isolation` line; the row FAILs if any controller FAILs.
 */
enum test_status tests_proof_everywhere(struct test_ctx *ctx, const char *proof, tests_proof_fn fn,
					const void *arg, const char *done);

/* A read aimed at an unmapped IOVA equal to the canary page's physical address. */
enum test_status test_isolation_blocked(struct test_ctx *ctx);
/* After unmap (+ IOTLB invalidation) the old IOVA faults and its page stays untouched. */
enum test_status test_isolation_revoke(struct test_ctx *ctx);
/* Controller B is given an IOVA mapped only in A's domain: fault with B's id, A's page intact. */
enum test_status test_isolation_cross_device(struct test_ctx *ctx);
/* A read into a page the device may only read: the write faults, the page stays. */
enum test_status test_isolation_read_only(struct test_ctx *ctx);
/* A PRP list in a page the device may only write: the list fetch faults as a read, no data. */
enum test_status test_isolation_no_read(struct test_ctx *ctx);
/* Two pages into a one-page mapping: the first arrives, the second faults. */
enum test_status test_isolation_boundary(struct test_ctx *ctx);

#endif
