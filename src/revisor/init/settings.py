"""`[tool.revisor]` in pyproject.toml and `.revisor/` in .gitignore.

Both files are only ever appended to: every byte the user wrote stays as it was, and the
result is parsed again (tomllib) before init proposes it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from revisor import git
from revisor.config import find_pyproject
from revisor.errors import RevisorError
from revisor.init.plan import FileChange, InitPlan

TABLE_REASON = "[tool.revisor]: revisor's settings, with what init found"
IGNORE_REASON = ".revisor/ (redo's trash) kept out of git"


def tool_table(plan: InitPlan, metadata_spec: str | None) -> FileChange | None:
    """A `[tool.revisor]` table appended to the project's pyproject.toml (created beside
    alembic.ini when there is none), or None when the table is there already or the file
    would not stay valid TOML (a note says so)."""
    path = find_pyproject(plan.root) or plan.root / "pyproject.toml"
    before = plan.text_of(path)
    if before is not None:
        try:
            tool = tomllib.loads(before).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            plan.notes.append(f"{path} is not valid TOML ({exc}): [tool.revisor] not added.")
            return None
        if isinstance(tool, dict) and "revisor" in tool:
            return None
    lines = [
        "[tool.revisor]",
        "# Written by `revisor init`; every key is described in revisor's docs/init.md.",
    ]
    if metadata_spec:
        lines += [
            "# The models' MetaData, as env.py's target_metadata names it: revisor review",
            "# reads it from here without running env.py.",
            f"metadata = {_toml_string(metadata_spec)}",
        ]
    lines += [
        '# Silence a rule for the whole project: ignore = ["RV306"]',
        '# Opt-in rules: extend-select = ["RV106"]',
    ]
    block = "\n".join(lines) + "\n"
    after = block if not before else _separated(before) + block
    try:
        tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        plan.notes.append(
            f"{path}: [tool.revisor] cannot be appended there ({exc}); add it yourself."
        )
        return None
    return FileChange(path, before, after, TABLE_REASON)


def ignore_revisor_folder(plan: InitPlan) -> FileChange | None:
    """`.revisor/` appended to the .gitignore beside alembic.ini, unless git (or that
    file, outside a git work tree) already ignores it."""
    root = plan.root
    path = root / ".gitignore"
    before = plan.text_of(path)
    probe = str(root / ".revisor" / "trash")
    if (
        git.toplevel(root) is not None
        and git.ask(root, "check-ignore", "-q", "--", probe) is not None
    ):
        return None
    if before is not None and any(
        line.strip().rstrip("/").lstrip("/") in (".revisor", ".revisor/*", ".revisor/**")
        for line in before.splitlines()
    ):
        return None
    block = "# revisor's working folder (redo's trash)\n.revisor/\n"
    after = block if not before else _separated(before) + block
    return FileChange(path, before, after, IGNORE_REASON)


def _git_ignores(path: Path) -> bool:
    folder = path.parent.parent
    try:
        if git.toplevel(folder) is None:
            return False
        return git.ask(folder, "check-ignore", "-q", "--", str(path)) is not None
    except RevisorError:  # no git on this machine: the .gitignore file decides
        return False


def _separated(text: str) -> str:
    """`text` ending in a blank line, so an appended block stands apart."""
    if not text.endswith("\n"):
        text += "\n"
    return text if text.endswith("\n\n") else text + "\n"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
