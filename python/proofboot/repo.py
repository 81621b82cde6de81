"""Where the proofboot repository is: its matrix, docs and build tree.

The package works from the repository (tools/* put python/ on sys.path) and
as an installed copy (pip --target, a venv).  An installed copy finds the
repository through PROOFBOOT_ROOT, else the current directory or one of its
parents that holds tests/matrix.toml and docs/proof-lines.md; without one,
callers pass paths explicitly (iso=, matrix=) and the parser uses its
built-in subsystem list.
"""

from __future__ import annotations

import os

ROOT_ENV = "PROOFBOOT_ROOT"
_MARKERS = (os.path.join("tests", "matrix.toml"), os.path.join("docs", "proof-lines.md"))


def _is_repo(path: str) -> bool:
    return all(os.path.isfile(os.path.join(path, m)) for m in _MARKERS)


def find_root() -> str:
    """The repository root (see the module doc); the current directory when none is found."""
    env = os.environ.get(ROOT_ENV)
    if env:
        return os.path.abspath(env)
    source_tree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if _is_repo(source_tree):
        return source_tree
    here = os.path.abspath(os.getcwd())
    while True:
        if _is_repo(here):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.abspath(os.getcwd())
        here = parent


ROOT = find_root()
