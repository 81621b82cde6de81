/* Runs every registered host unit test; prints "N passed, N failed". */
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define UNIT_MAX_TESTS 1024

struct unit_case {
	const char *name;
	const char *file;
	unit_fn fn;
};

static struct unit_case cases[UNIT_MAX_TESTS];
static size_t case_count;
static unsigned current_failures;

void unit_register(const char *name, const char *file, unit_fn fn)
{
	if (case_count == UNIT_MAX_TESTS) {
		fprintf(stderr, "unit: too many tests, raise UNIT_MAX_TESTS\n");
		exit(2);
	}
	cases[case_count++] = (struct unit_case){ name, file, fn };
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	current_failures++;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0;

	for (size_t i = 0; i < case_count; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		current_failures = 0;
		cases[i].fn();
		if (current_failures) {
			printf("FAIL %s (%s)\n", cases[i].name, cases[i].file);
			failed++;
		} else {
			printf("ok   %s\n", cases[i].name);
			passed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed || passed == 0 ? 1 : 0;
}
