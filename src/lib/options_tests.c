/* tests= globs against the test table; see options_tests.h. */
#include "options_tests.h"

#include <string.h>

static bool glob_matches_any(const char *glob, size_t len, const char *const *names, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (glob_match(glob, len, names[i]))
			return true;
	return false;
}

unsigned options_check_test_globs(struct options *o, const char *const *names, unsigned count)
{
	unsigned unmatched = 0;

	for (const char *at = o->tests; *at;) {
		size_t len = strcspn(at, ",");
		if (!glob_matches_any(at, len, names, count)) {
			options_add_error_n(o, at, len, OPTIONS_GLOB_MATCHES_NO_TEST);
			unmatched++;
		}
		at += len;
		if (*at == ',')
			at++;
	}
	return unmatched;
}
