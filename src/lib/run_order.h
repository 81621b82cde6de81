/*
 * The order the runner runs the test table in (option order=): the table's
 * own order, reversed, or shuffled from a seed.  The shuffle is
 * Fisher-Yates driven by xorshift32 (Marsaglia 2003: x ^= x << 13,
 * x ^= x >> 17, x ^= x << 5; state starts at the seed, which is never 0),
 * for i from n-1 down to 1 swapping position i with (next() % (i + 1)).
 * Rows flagged to run last are then moved to the end (run_order_pin_last).
 * tools/proofcheck.py implements the same to check the result order, so a
 * run is reproducible from its `proofboot: environment` and `test: plan`
 * lines alone.
 */
#ifndef PROOFBOOT_RUN_ORDER_H
#define PROOFBOOT_RUN_ORDER_H

#include <stdbool.h>
#include <stdint.h>

enum run_order { RUN_ORDER_TABLE, RUN_ORDER_REVERSE, RUN_ORDER_SHUFFLE };

/* out[k] = table index of the k-th test to run, for a table of n rows. */
void run_order_permutation(enum run_order order, uint32_t seed, unsigned *out, unsigned n);

/*
 * Moves the rows whose runs_last[table index] is true to the end of `order`
 * (n entries), keeping the relative order of both groups: a row that judges
 * what every other row left behind (iommu.faults.none) runs after all of
 * them in every order.
 */
void run_order_pin_last(unsigned *order, unsigned n, const bool *runs_last);

/* One xorshift32 step (exposed for the unit test's known values). */
uint32_t run_order_xorshift32(uint32_t *state);

#endif
