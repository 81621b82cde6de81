/*
 * tests= globs against the test table.  options.c checks the syntax of the
 * list; only the firmware knows the table's names, so this check runs once
 * the options are read (src/runner.c hands it the names).  A glob that
 * matches no row is a mistyped name: without this check the run would
 * select nothing, SKIP and look fine.
 */
#ifndef PROOFBOOT_OPTIONS_TESTS_H
#define PROOFBOOT_OPTIONS_TESTS_H

#include "options.h"

#define OPTIONS_GLOB_MATCHES_NO_TEST "tests-glob-matches-no-test"

/* Records an option error for every glob of o->tests that matches none of
 * names[0..count); returns how many it recorded. */
unsigned options_check_test_globs(struct options *o, const char *const *names, unsigned count);

#endif
