"""An operation the draft writes as literal source lines: comments for the reviewer, and
the recipes of `revisor.recipes` (which render source, not alembic ops).

Each one carries its own downgrade lines, so `reverse_ops` can rebuild the downgrade
without knowing what the lines do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations.ops import MigrateOperation


@dataclass(eq=False)
class SourceOp(MigrateOperation):
    """Lines of Python written as they are in the upgrade, and the lines of its reverse
    (none: the reverse of another op undoes it, e.g. the drop of the column it fills)."""

    lines: tuple[str | None, ...]
    reverse_lines: tuple[str | None, ...] = ()

    def reverse(self) -> SourceOp:
        return SourceOp(self.reverse_lines, self.lines)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("source", self.lines)

    @property
    def is_comment(self) -> bool:
        return all(line is None or line.startswith("#") for line in self.lines)


def comment(text: str, *, downgrade: str = "") -> SourceOp:
    """A `# ...` comment for the reviewer, wrapped at 88 columns; `downgrade` is the one
    written at the reverse (none by default)."""
    return SourceOp(_wrapped(text), _wrapped(downgrade) if downgrade else ())


def _wrapped(text: str, width: int = 84) -> tuple[str, ...]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(f"# {line}")
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(f"# {line}")
    return tuple(lines)


def source_lines(lines: Iterable[str]) -> tuple[str | None, ...]:
    """Python source (nested lines indented relative to the first) in the form alembic's
    PythonPrinter wants: each line without its indentation, the printer indents after a
    line ending in `:`, and a None closes a block. Lines inside a triple-quoted string are
    left as they are (the printer does not touch them)."""
    out: list[str | None] = []
    levels = [0]
    in_string = False
    for line in lines:
        if in_string:
            out.append(line)
            in_string = line.count('"""') % 2 == 0
            continue
        if line.strip():
            indent = len(line) - len(line.lstrip())
            while indent < levels[-1]:
                levels.pop()
                out.append(None)
            if indent > levels[-1]:
                levels.append(indent)
        out.append(line.strip())
        in_string = line.count('"""') % 2 == 1
    out.extend(None for _ in levels[1:])
    return tuple(out)


@renderers.dispatch_for(SourceOp)
def _render_source(autogen_context: Any, op: SourceOp) -> list[str | None]:
    return list(op.lines)
