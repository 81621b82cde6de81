/*
 * Feeds values through the C proof-line writer (src/lib/proof.c) for the
 * Python round-trip test (tests/fuzz/test_proof_roundtrip.py).
 *
 * stdin: one value per line, hex-encoded (an empty line is the empty value).
 * stdout, per value: hex, TAB, proof_escape() of the whole value, TAB, the
 * line "fuzz: roundtrip value=<value> size=<bytes>" as proof_strn writes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proof.h"

#define VALUE_MAX 8192

static int nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(void)
{
	static char hex[2 * VALUE_MAX + 4];
	static char value[VALUE_MAX];
	static char escaped[3 * VALUE_MAX + 1];

	while (fgets(hex, sizeof(hex), stdin)) {
		size_t n = strcspn(hex, "\r\n");

		hex[n] = '\0';
		if (n % 2 != 0) {
			fprintf(stderr, "proof-dump: odd hex length\n");
			return 2;
		}
		for (size_t i = 0; i < n / 2; i++) {
			int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "proof-dump: bad hex\n");
				return 2;
			}
			value[i] = (char)(hi << 4 | lo);
		}
		size_t len = n / 2;
		struct proof p;

		proof_escape(escaped, sizeof(escaped), value, len);
		proof_begin(&p, "fuzz", "roundtrip");
		proof_strn(&p, "value", value, len);
		proof_u64(&p, "size", len);
		printf("%s\t%s\t%s\n", hex, escaped, proof_finish(&p));
	}
	return 0;
}
