"""An operation the draft writes as literal source lines: comments for the reviewer, and
the recipes of `revisor.recipes` (which render source, not alembic ops).

Each one carries its own downgrade lines, so `reverse_ops` can rebuild the downgrade
without knowing what the lines do.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations.ops import MigrateOperation


@dataclass(eq=False)
class SourceOp(MigrateOperation):
    """Lines of Python written as they are in the upgrade, and the lines of its reverse
    (none: the reverse of another op undoes it, e.g. the drop of the column it fills)."""

    lines: tuple[str, ...]
    reverse_lines: tuple[str, ...] = ()
    summary: str | None = None  # the draft's summary line, when the first line says little

    def reverse(self) -> SourceOp:
        return SourceOp(self.reverse_lines, self.lines)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("source", self.lines)

    @property
    def is_comment(self) -> bool:
        return all(line.startswith("#") for line in self.lines)

    @property
    def first_statement(self) -> str | None:
        """What the draft's summary shows: `summary`, else the first line that is not a
        comment."""
        if self.summary is not None:
            return self.summary
        return next((line for line in self.lines if not line.startswith("#")), None)


def comment(text: str, *, downgrade: str = "") -> SourceOp:
    """A `# ...` comment for the reviewer, wrapped at 88 columns; `downgrade` is the one
    written at the reverse (none by default)."""
    return SourceOp(_wrapped(text), _wrapped(downgrade) if downgrade else ())


def _wrapped(text: str, width: int = 84) -> tuple[str, ...]:
    return tuple(
        f"# {line}"
        for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    )


@renderers.dispatch_for(SourceOp)
def _render_source(autogen_context: Any, op: SourceOp) -> list[str]:
    # One string: alembic's PythonPrinter would re-indent the lines of a block one by one
    # (and add its own level after a `with ...:`); alembic indents every line of the
    # rendered body by the same four spaces afterwards, so relative indentation survives.
    return ["\n".join(op.lines)] if op.lines else []
