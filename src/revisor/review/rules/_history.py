"""Shared by the history rules: a three-file example history for their docstrings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from revisor.review.context import ReviewContext


def involved(ctx: ReviewContext, paths: list[Path | None]) -> bool:
    """Report a history problem on a partial run only when it touches a reviewed file."""
    if ctx.whole_history:
        return True
    reviewed = {m.path.resolve() for m in ctx.migrations}
    return any(p is not None and p.resolve() in reviewed for p in paths)
