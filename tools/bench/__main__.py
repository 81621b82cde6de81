"""Entry point: /usr/bin/python3 tools/bench COMMAND (see cli.py)."""
import os
import sys

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import proofboot_path  # noqa: E402,F401  (python/ on sys.path)
from bench import cli  # noqa: E402

sys.exit(cli.main())
