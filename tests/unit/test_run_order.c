/* Host tests for src/lib/run_order.c: table, reverse and seeded shuffle orders. */
#include "unit.h"
#include "run_order.h"

#define ROWS 30

static bool is_permutation(const unsigned *p, unsigned n)
{
	bool seen[ROWS] = { false };

	for (unsigned i = 0; i < n; i++) {
		if (p[i] >= n || seen[p[i]])
			return false;
		seen[p[i]] = true;
	}
	return true;
}

UNIT_TEST(run_order_table_and_reverse)
{
	unsigned p[ROWS];

	run_order_permutation(RUN_ORDER_TABLE, 0, p, ROWS);
	for (unsigned i = 0; i < ROWS; i++)
		CHECK_EQ(p[i], i);
	run_order_permutation(RUN_ORDER_REVERSE, 0, p, ROWS);
	for (unsigned i = 0; i < ROWS; i++)
		CHECK_EQ(p[i], ROWS - 1 - i);
}

UNIT_TEST(run_order_xorshift32_known_values)
{
	uint32_t s = 1;

	/* Marsaglia's 13/17/5 triple from state 1. */
	CHECK_EQ(run_order_xorshift32(&s), 270369u);
	CHECK_EQ(run_order_xorshift32(&s), 67634689u);
}

UNIT_TEST(run_order_shuffle_is_a_seeded_permutation)
{
	unsigned a[ROWS], b[ROWS], c[ROWS];
	unsigned moved = 0, differs = 0;

	run_order_permutation(RUN_ORDER_SHUFFLE, 42, a, ROWS);
	run_order_permutation(RUN_ORDER_SHUFFLE, 42, b, ROWS);
	run_order_permutation(RUN_ORDER_SHUFFLE, 43, c, ROWS);
	CHECK(is_permutation(a, ROWS));
	CHECK(is_permutation(c, ROWS));
	for (unsigned i = 0; i < ROWS; i++) {
		CHECK_EQ(a[i], b[i]);
		moved += a[i] != i;
		differs += a[i] != c[i];
	}
	CHECK(moved > ROWS / 2);
	CHECK(differs > 0);
}

UNIT_TEST(run_order_shuffle_known_permutation)
{
	/* The same values tools/proofcheck.py computes (tests/tools/test_proofcheck.py). */
	unsigned p[5];

	run_order_permutation(RUN_ORDER_SHUFFLE, 1, p, 5);
	CHECK_EQ(p[0], 2);
	CHECK_EQ(p[1], 3);
	CHECK_EQ(p[2], 0);
	CHECK_EQ(p[3], 1);
	CHECK_EQ(p[4], 4);
	run_order_permutation(RUN_ORDER_SHUFFLE, 7, p, 1);
	CHECK_EQ(p[0], 0);
}

UNIT_TEST(run_order_pinned_rows_run_last_in_their_order)
{
	unsigned order[6] = { 4, 0, 5, 2, 1, 3 };
	bool last[6] = { false, false, true, false, true, false };
	unsigned want[6] = { 0, 5, 1, 3, 4, 2 };

	run_order_pin_last(order, 6, last);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(order[i], want[i]);
	bool none[6] = { false };

	run_order_pin_last(order, 6, none);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(order[i], want[i]);
}
