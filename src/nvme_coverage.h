/*
 * No silent untested controller: after the last test, every PCI function
 * with the NVMe class triple 01/08/02 that no test brought up is named with
 * its reason, and (unless no controller test was selected at all) it keeps
 * the verdict from being PASS.  Rule and lines: docs/proof-lines.md.
 */
#ifndef PROOFBOOT_NVME_COVERAGE_H
#define PROOFBOOT_NVME_COVERAGE_H

#include <stdbool.h>

/*
 * Prints one `nvme: untested` line per such function and returns how many
 * count against the verdict.  `controller_tests_selected`: some selected
 * test row works on controllers (group nvme or bench); when false, the
 * functions are still named (reason not-selected) but count 0.  Only what
 * PCI enumeration already saw is judged: it never enumerates by itself.
 */
unsigned nvme_report_untested(bool controller_tests_selected);

#endif
