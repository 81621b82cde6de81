/* Run order of the test table; see run_order.h for the exact algorithm. */
#include "run_order.h"

#include <string.h>

uint32_t run_order_xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

void run_order_permutation(enum run_order order, uint32_t seed, unsigned *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = order == RUN_ORDER_REVERSE ? n - 1 - i : i;
	if (order != RUN_ORDER_SHUFFLE)
		return;
	uint32_t state = seed ? seed : 1; /* xorshift never leaves 0 */

	for (unsigned i = n; i-- > 1;) {
		unsigned j = run_order_xorshift32(&state) % (i + 1);
		unsigned t = out[i];

		out[i] = out[j];
		out[j] = t;
	}
}

void run_order_pin_last(unsigned *order, unsigned n, const bool *runs_last)
{
	unsigned unpinned_end = n;

	/* Each pinned row rotates to the end in turn, so both groups keep their order. */
	for (unsigned k = 0; k < unpinned_end;) {
		unsigned row = order[k];

		if (!runs_last[row]) {
			k++;
			continue;
		}
		memmove(&order[k], &order[k + 1], (n - k - 1) * sizeof(order[0]));
		order[n - 1] = row;
		unpinned_end--;
	}
}
