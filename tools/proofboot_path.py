"""Puts the repository's python/ directory (the proofboot package) first on sys.path.

The parser, checker, disk-image maker and matrix runner live in the package
(python/proofboot/); the scripts in tools/ are thin wrappers around it, so
they import this module first.  The repository's copy wins over an installed
one, so a tool never runs older code than the checkout it sits in.

Code written against the old tools/*.py module names (`import prooflog`)
keeps working: those names are aliases of the package modules, not copies.
"""

import os
import sys

PYTHON_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from proofboot import (diskimage, lavacheck, lavajob, prooflog, proofcheck, qmatrix,  # noqa: E402
                       reports, witness)

for _module in (diskimage, lavacheck, lavajob, prooflog, proofcheck, qmatrix, reports, witness):
    sys.modules.setdefault(_module.__name__.rpartition(".")[2], _module)
