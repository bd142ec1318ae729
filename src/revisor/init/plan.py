"""What `revisor init` proposes: whole-file changes, each shown as a unified diff."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FileChange:
    """One file's new text (`before` is None for a file init creates) and why."""

    path: Path
    before: str | None
    after: str
    reason: str

    def diff(self, root: Path) -> str:
        """The change as a unified diff, paths relative to `root` (git's a/ b/ style); a
        file above `root` (the CI workflow of a project in backend/) is `../.github/...`,
        so `patch -p1` run in `root` finds every file."""
        name = Path(os.path.relpath(self.path, root)).as_posix()
        return "".join(
            difflib.unified_diff(
                (self.before or "").splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile="/dev/null" if self.before is None else f"a/{name}",
                tofile=f"b/{name}",
            )
        )


@dataclass
class InitPlan:
    """Every change init proposes, in the order it writes them, and what it noticed."""

    root: Path
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, change: FileChange | None) -> None:
        """Record `change` unless it changes nothing; a second change to the same file
        replaces the first one's result (each step starts from the planned text)."""
        if change is None or change.before == change.after:
            return
        for index, planned in enumerate(self.changes):
            if planned.path == change.path:
                reason = f"{planned.reason}; {change.reason}"
                self.changes[index] = FileChange(planned.path, planned.before, change.after, reason)
                return
        self.changes.append(change)

    def text_of(self, path: Path) -> str | None:
        """The planned text of `path`, else its current text, None when it does not exist."""
        for planned in self.changes:
            if planned.path == path:
                return planned.after
        return read(path) if path.is_file() else None


def read(path: Path) -> str:
    """The file's text, line endings as they are (CRLF files stay CRLF)."""
    from revisor.init.errors import InitError

    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"Cannot read {path}: {exc}") from None


def write(plan: InitPlan) -> list[Path]:
    """Write every planned file (creating folders as needed); returns the paths written.
    Each file is written whole through a temporary file renamed over it, so an
    interrupted run leaves each file either as it was or as planned."""
    written = []
    for change in plan.changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = change.path.with_name(f".{change.path.name}.revisor-init")
        temporary.write_bytes(change.after.encode("utf-8"))
        temporary.replace(change.path)
        written.append(change.path)
    return written
