/*
 * Negative NVMe device tests (rows nvme.negative.* in src/tests.c): each
 * sends the real device one deliberately wrong request, checks that the
 * device refuses it the way the specification says, and then that the
 * controller still works.  Bounce-buffer backend only; SKIP without NVMe.
 */
#ifndef PROOFBOOT_TESTS_NEGATIVE_H
#define PROOFBOOT_TESTS_NEGATIVE_H

#include "test.h"

/* CC.EN with IOSQES != 64-byte entries: CSTS.CFS, then reset and re-bind. */
enum test_status test_nvme_negative_iosqes(struct test_ctx *ctx);
/* A read whose PRP2 (a direct data pointer) is not page aligned: Invalid PRP Offset. */
enum test_status test_nvme_negative_prp_misaligned(struct test_ctx *ctx);
/* A read one block above MDTS (with valid PRPs): Invalid Field in Command. */
enum test_status test_nvme_negative_mdts(struct test_ctx *ctx);
/* Identify Namespace for NSID NN + 1: Invalid Namespace or Format. */
enum test_status test_nvme_negative_bad_nsid(struct test_ctx *ctx);

#endif
