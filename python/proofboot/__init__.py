"""proofboot: boot the proofboot ISO under QEMU and check its proof lines.

Modules: prooflog (parser), proofcheck (checker and expectations), diskimage
(deterministic disk images), qmatrix (QEMU command lines, the matrix
runner), reports (TAP, JUnit).  The tools in the repository's tools/ are thin
wrappers around them.  docs/python.md describes the API.
"""
