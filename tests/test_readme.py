"""The README starts with the two commands that matter on a fresh machine, and CI runs the
second one exactly as written there (.ci/run extracts it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    return [
        line[4:]
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("    ")
    ]


def test_readme_opens_with_the_demo_then_the_tests():
    first, second = _commands()[:2]
    assert re.search(r"pip install .*-e \.\s*&&.*revisor demo$", first), first
    assert re.search(r"pip install .*-e '\.\[test\]'.*&&.*pytest", second), second


def test_ci_runs_the_readme_test_command():
    """The same extraction .ci/run does."""
    found = subprocess.run(
        ["bash", "-c", "grep -m1 -E '^    .*pytest' README.md | sed 's/^    //'"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == _commands()[1]
    assert "grep -m1 -E '^    .*pytest' README.md" in (ROOT / ".ci" / "run").read_text()
