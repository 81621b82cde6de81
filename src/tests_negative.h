/*
 * Negative NVMe device tests (rows nvme.negative.* in src/tests.c): each
 * sends the real device one deliberately wrong request, checks that the
 * device refuses it the way the specification says, and then that the
 * controller still works.  Bounce-buffer backend only; SKIP without NVMe.
 *
 * One function serves every row; the row's parameter is the case.
 */
#ifndef PROOFBOOT_TESTS_NEGATIVE_H
#define PROOFBOOT_TESTS_NEGATIVE_H

#include "test.h"

struct nvme_negative_case;

/* Runs the case ctx->arg points to on every controller. */
enum test_status test_nvme_negative(struct test_ctx *ctx);

/* CC.EN with IOSQES != 64-byte entries: CSTS.CFS, then reset and re-bind. */
extern const struct nvme_negative_case nvme_negative_iosqes;
/* A read whose PRP2 (a direct data pointer) is not page aligned: Invalid PRP Offset. */
extern const struct nvme_negative_case nvme_negative_prp_misaligned;
/* A read one block above MDTS (with valid PRPs): Invalid Field in Command. */
extern const struct nvme_negative_case nvme_negative_mdts;
/* Identify Namespace for NSID NN + 1: Invalid Namespace or Format. */
extern const struct nvme_negative_case nvme_negative_bad_nsid;

#endif
