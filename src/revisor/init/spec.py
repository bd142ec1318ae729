"""`[tool.revisor] metadata` only where it names the models whole.

revisor review imports that spec instead of running env.py, so it must bring every table
env.py's target_metadata has. The module that makes the MetaData often does not: the
models import it, not the other way round, and env.py imports them itself (fastapi-
boilerplate walks `app.models` with pkgutil). Each candidate is imported in a fresh
interpreter, as review would, and the first that yields every table is the spec.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

TIMEOUT = 60.0  # seconds to import one candidate
TRIED = 5  # candidates imported at most (one interpreter each)

# Run by the child interpreter: import "module:attr.path" and list its tables. One
# interpreter per candidate: the tables a candidate's import adds stay in a shared MetaData.
_PROBE = """
import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[1])
module, _, path = sys.argv[2].partition(":")
value = importlib.import_module(module)
for part in path.split("."):
    value = getattr(value, part)
print(json.dumps(sorted(value.tables)))
"""


def complete_spec(specs: Iterable[str], tables: Iterable[str], root: Path) -> str | None:
    """The first of `specs` whose import alone, in a fresh interpreter run in `root`,
    yields every one of `tables`; None when none does (or the imports fail)."""
    wanted = set(tables)
    paths = json.dumps([p for p in sys.path if p])  # the project's prepend_sys_path too
    for spec in list(dict.fromkeys(specs))[:TRIED]:
        if wanted <= set(_tables_of(spec, paths, root)):
            return spec
    return None


def _tables_of(spec: str, paths: str, root: Path) -> list[str]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, paths, spec],
            cwd=root,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, OSError, ValueError, IndexError):
        return []
    return [str(name) for name in found] if isinstance(found, list) else []
